#!/bin/sh
# Builds app.jar, an executable jar, from src/ with the JDK's javac and jar.
set -eu
cd "$(dirname "$0")"
rm -rf build
mkdir -p build/classes
javac -d build/classes $(find src -name '*.java')
jar --create --file app.jar --main-class com.example.Main -C build/classes .
echo "built $(pwd)/app.jar"
