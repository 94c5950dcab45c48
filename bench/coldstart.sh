#!/bin/sh
# Cold start of the Go example: appdeck launch → first 200, next to
# `go build` of the same app (the baseline, measured in the same run) and
# to dev_appserver.py when it is installed. Usage: bench/coldstart.sh [runs]
set -eu
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/appdeck" .
go run ./bench/coldstart -appdeck "$bin/appdeck" -app examples/go -n "${1:-5}"
