// Package runtimes knows how to build an App Engine service and how to
// launch one of its instances: one small adapter per runtime family (Go,
// Python, Node.js, PHP, Java, custom). It does not supervise anything; the
// supervisor runs what a LaunchSpec describes.
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
	// Build prepares the service to run — Go compiles, Python may fill a
	// virtualenv, Node.js may install packages, the others check that
	// their interpreter works — and writes its progress and tool output
	// to out. It returns a *BuildError when the user must fix something:
	// the application, or a missing or broken tool.
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
	Options  Options
	// Running is the artifact instances run now; zero for the first
	// build. A build must leave its files in place: until the new build
	// is applied, a crash-restart launches it.
	Running Artifact
	// Force runs every step even when its inputs are unchanged since it
	// last succeeded: the user asked for a rebuild, maybe after changing
	// something the fingerprint cannot see.
	Force bool
	// Notes receives appdeck's own lines about the build (the command it
	// runs, a step skipped because its inputs did not change), apart
	// from the tools' output; nil sends them to the output too.
	Notes io.Writer
}

// notes is where the build's own lines go.
func (b Build) notes(out io.Writer) io.Writer {
	if b.Notes != nil {
		return b.Notes
	}
	return out
}

// Options are the user's choices, from the command line, that change how
// services are prepared.
type Options struct {
	// PythonVenv installs a Python service's requirements.txt into a
	// virtualenv in the cache directory, as dev_appserver.py does.
	PythonVenv bool
}

// Artifact is what a build produced: the program that runs an instance.
type Artifact struct {
	// Argv starts an instance; "{port}" in any element is replaced by
	// the instance's port.
	Argv []string
	// Env holds KEY=VALUE pairs the runtime adds, such as a virtualenv's
	// PATH: over appdeck's own environment, under the app's variables.
	Env []string
	// Built is set when this build ran a tool (go build, pip, npm); a
	// runtime with nothing to build, or a build reused because its
	// inputs did not change, leaves it unset, and appdeck reports no
	// build time for it.
	Built bool
}

// Instance identifies the instance being launched and the values App
// Engine puts in its environment.
type Instance struct {
	ID      string
	Port    int
	Project string // GOOGLE_CLOUD_PROJECT; "" for $GOOGLE_CLOUD_PROJECT, else "test"
	Version string // GAE_VERSION
	// ServerPort is the service's front port (GAE_SERVER_PORT), 0 if none.
	ServerPort int
	// Extra holds KEY=VALUE pairs from --env, applied after env_variables.
	Extra []string
}

// LaunchSpec is a process to start.
type LaunchSpec struct {
	Argv []string
	Dir  string
	Env  []string
	// Handover says how the process tells appdeck which port it serves
	// on.
	Handover Handover
	// Warnings are problems worth telling the user about, such as an
	// env_variables entry that tried to replace a standard variable.
	Warnings []string
}

// BuildError is a service that cannot run until the user fixes something:
// the application does not build, or a tool it needs is missing or broken.
// The supervisor serves its Page in place of the application.
type BuildError struct {
	Runtime string // e.g. "Go"
	// Title is the error page's heading; "" means "The <Runtime>
	// application could not be built."
	Title string
	// Command is the command that failed, or "" when none ran.
	Command string
	// Output is what the user needs to see to fix it: the tool's output,
	// or the reason and how to fix it.
	Output string
}

// Error is one line for logs: the reason, or the page's heading and the
// command that failed.
func (e *BuildError) Error() string {
	if e.Command == "" {
		first, _, _ := strings.Cut(strings.TrimSpace(e.Output), "\n")
		return first
	}
	title, _ := e.Page()
	return fmt.Sprintf("%s (%s)", strings.TrimSuffix(title, "."), e.Command)
}

// Page returns the heading and the preformatted text of the error page.
func (e *BuildError) Page() (title, detail string) {
	title = e.Title
	if title == "" {
		title = fmt.Sprintf("The %s application could not be built.", e.Runtime)
	}
	detail = strings.TrimSpace(e.Output)
	if e.Command != "" {
		detail = fmt.Sprintf("(Executed command: %s)\n\n%s", e.Command, detail)
	}
	return title, detail
}

// For returns the adapter that runs svc, or an error when svc cannot run
// whatever the machine has installed.
func For(svc *config.Service) (Runtime, error) {
	fam, ok := family(svc.Runtime)
	if !ok {
		return nil, Check(svc.Runtime)
	}
	if _, err := handoverOf(svc, nil); err != nil {
		return nil, err
	}
	switch fam {
	case "go":
		return goRuntime{}, nil
	case "python":
		return python{}, nil
	case "nodejs":
		return nodejs{}, nil
	case "php":
		return php{}, nil
	case "java":
		return java{}, nil
	}
	if svc.Entrypoint == "" {
		return nil, fmt.Errorf("%s: service %q (runtime custom) has no entrypoint: add an `entrypoint:` line that starts a server on $PORT (or on {port})",
			svc.RuntimePos, svc.Name)
	}
	return custom{}, nil
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
