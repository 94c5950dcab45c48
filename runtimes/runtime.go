// Package runtimes knows how to build an App Engine service and how to
// launch one of its instances: one small adapter per runtime family. It does
// not supervise anything; the supervisor runs what a LaunchSpec describes.
package runtimes

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// Runtime is one runtime family's adapter.
type Runtime interface {
	// Name is the family name shown to users, e.g. "go".
	Name() string
	// Build prepares the service to run (Go compiles; others may do
	// nothing) and writes its progress and tool output to out. It returns
	// a *BuildError when the application itself is at fault.
	Build(ctx context.Context, b Build, out io.Writer) (Artifact, error)
	// Launch describes how to start one instance.
	Launch(svc *config.Service, art Artifact, inst Instance) (LaunchSpec, error)
}

// Build is what a Build step needs besides the service.
type Build struct {
	Service *config.Service
	// CacheDir is a directory owned by appdeck for this service, kept
	// between runs; never the user's app directory.
	CacheDir string
}

// Artifact is the result of a build.
type Artifact struct {
	// Binary is the program a build produced, if any.
	Binary string
}

// Instance identifies the instance being launched and the values App
// Engine puts in its environment.
type Instance struct {
	ID      string
	Port    int
	Project string // GOOGLE_CLOUD_PROJECT
	Version string // GAE_VERSION
	// Extra holds KEY=VALUE pairs from --env, applied after env_variables.
	Extra []string
}

// LaunchSpec is a process to start.
type LaunchSpec struct {
	Argv []string
	Dir  string
	Env  []string
	// Warnings are problems worth telling the user about, such as an
	// env_variables entry that tried to replace a standard variable.
	Warnings []string
}

// BuildError is a build that failed because of the application: its
// output is what the user needs to see to fix it.
type BuildError struct {
	Runtime string // e.g. "Go"
	Command string
	Output  string
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("the %s application could not be built (%s)", e.Runtime, e.Command)
}

// For returns the adapter that runs svc.
func For(svc *config.Service) (Runtime, error) {
	fam, ok := family(svc.Runtime)
	switch {
	case !ok:
		return nil, Check(svc.Runtime)
	case fam == "go":
		return goRuntime{}, nil
	case svc.Entrypoint != "":
		return entrypoint{family: fam}, nil
	}
	return nil, fmt.Errorf("service %q (runtime %s) has no entrypoint: add an `entrypoint:` line to %s that starts a server on $PORT",
		svc.Name, svc.Runtime, svc.File)
}

// versions lists every supported runtime family with the inclusive range of
// version numbers written after its name; a zero range means the bare name.
var versions = []struct {
	family, prefix string
	ranges         [][2]int
}{
	{"go", "go1", [][2]int{{11, 25}}},
	{"python", "python3", [][2]int{{7, 13}}},
	{"nodejs", "nodejs", [][2]int{{10, 24}}},
	{"php", "php", [][2]int{{55, 55}, {72, 74}, {81, 84}}},
	{"java", "java", [][2]int{{8, 8}, {11, 11}, {17, 17}, {21, 21}}},
	{"custom", "custom", nil},
}

func family(name string) (string, bool) {
	for _, v := range versions {
		rest, ok := strings.CutPrefix(name, v.prefix)
		if !ok {
			continue
		}
		if v.ranges == nil {
			return v.family, rest == ""
		}
		n, err := strconv.Atoi(rest)
		if err != nil || rest == "" || rest[0] == '0' || rest[0] == '+' {
			continue
		}
		for _, r := range v.ranges {
			if n >= r[0] && n <= r[1] {
				return v.family, true
			}
		}
	}
	return "", false
}

// Check returns an error listing the supported runtimes when name is not
// one of them. It is what config validation calls.
func Check(name string) error {
	if _, ok := family(name); ok {
		return nil
	}
	var list []string
	for _, v := range versions {
		for _, r := range v.ranges {
			if r[0] == r[1] {
				list = append(list, fmt.Sprintf("%s%d", v.prefix, r[0]))
			} else {
				list = append(list, fmt.Sprintf("%s%d…%s%d", v.prefix, r[0], v.prefix, r[1]))
			}
		}
		if v.ranges == nil {
			list = append(list, v.prefix)
		}
	}
	return fmt.Errorf("unknown runtime %q; supported runtimes are %s", name, strings.Join(list, ", "))
}
