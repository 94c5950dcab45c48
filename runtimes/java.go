package runtimes

import (
	"archive/zip"
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// java runs the app.yaml entrypoint, else `java -jar` of the service's one
// executable jar, as App Engine does.
type java struct{ launch }

func (java) Name() string { return "java" }

// jarDirs are where a service's jar is looked for: the app directory and
// Maven's and Gradle's output directories.
var jarDirs = []string{".", "target", filepath.Join("build", "libs")}

func (java) Build(_ context.Context, b Build, out io.Writer) (Artifact, error) {
	svc := b.Service
	if svc.Entrypoint != "" {
		return entrypointArtifact(svc, "Java", svc.Entrypoint, nil)
	}
	javaBin, err := findJava(svc)
	if err != nil {
		return Artifact{}, err
	}
	jar, err := executableJar(svc)
	if err != nil {
		return Artifact{}, err
	}
	fmt.Fprintf(b.notes(out), "java -jar %s\n", jar)
	return Artifact{Argv: []string{javaBin, "-jar", jar}}, nil
}

// findJava returns $JAVA_HOME/bin/java when JAVA_HOME is set, else java
// from PATH.
func findJava(svc *config.Service) (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if executable(p) != nil {
			return "", missingTool("Java", p, svc, "JAVA_HOME is "+home+"; point it at a Java installation, or unset it to use java from PATH")
		}
		return p, nil
	}
	p, err := lookPath("java", svc.Dir, pathOf(svc, nil))
	if err != nil {
		return "", missingTool("Java", "java", svc, installHints["java"])
	}
	return p, nil
}

// executableJar returns the service's only jar whose manifest names a
// Main-Class, relative to the service directory.
func executableJar(svc *config.Service) (string, error) {
	var found []string
	for _, d := range jarDirs {
		jars, _ := filepath.Glob(filepath.Join(svc.Dir, d, "*.jar"))
		for _, j := range jars {
			if mainClass(j) != "" {
				rel, _ := filepath.Rel(svc.Dir, j)
				found = append(found, rel)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", &BuildError{Runtime: "Java", Title: "The Java application has no executable jar.",
			Output: fmt.Sprintf("no jar with a Main-Class in its manifest in %s (looked in %s): build the app first, or set an `entrypoint:` in %s",
				svc.Dir, strings.Join(jarDirs, ", "), svc.File)}
	}
	return "", &BuildError{Runtime: "Java", Title: "The Java application has more than one executable jar.",
		Output: fmt.Sprintf("%s: remove all but one, or choose with `entrypoint: java -jar <file>` in %s",
			strings.Join(found, ", "), svc.File)}
}

// mainClass returns the Main-Class of a jar's manifest, or "".
func mainClass(jar string) string {
	z, err := zip.OpenReader(jar)
	if err != nil {
		return ""
	}
	defer z.Close()
	f, err := z.Open("META-INF/MANIFEST.MF")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Main-Class:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
