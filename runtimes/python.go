package runtimes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// pythonDefaultEntrypoint is App Engine's entrypoint for a Python service
// whose app.yaml has none, except that it listens on loopback only: the
// instance is reached through appdeck, never directly from the network.
const pythonDefaultEntrypoint = "exec gunicorn -b 127.0.0.1:$PORT main:app"

// python runs the app.yaml entrypoint, else gunicorn serving main:app,
// optionally from a virtualenv holding requirements.txt.
type python struct{ launch }

func (python) Name() string { return "python" }

func (python) Build(ctx context.Context, b Build, out io.Writer) (Artifact, error) {
	svc := b.Service
	command := svc.Entrypoint
	if command == "" {
		if !exists(filepath.Join(svc.Dir, "main.py")) {
			return Artifact{}, &BuildError{Runtime: "Python", Title: "The Python application has no main.py.",
				Output: fmt.Sprintf("%s has no entrypoint, so App Engine's default runs `gunicorn -b :$PORT main:app`, "+
					"which needs main.py in %s defining app: add it, or set an `entrypoint:`", svc.File, svc.Dir)}
		}
		command = pythonDefaultEntrypoint
	}
	// Output goes to the log line by line as it is written.
	env := []string{"PYTHONUNBUFFERED=1"}
	reqs := filepath.Join(svc.Dir, "requirements.txt")
	built := false
	switch {
	case b.Options.PythonVenv && exists(reqs):
		venvEnv, installed, err := pythonVenv(ctx, b, reqs, out)
		if err != nil {
			return Artifact{}, err
		}
		env, built = append(env, venvEnv...), installed
	case b.Options.PythonVenv:
		fmt.Fprintln(b.notes(out), "no requirements.txt; running without a virtualenv")
	}
	art, err := entrypointArtifact(svc, "Python", command, env)
	art.Built = built
	return art, err
}

// pythonVenv makes sure the service's virtualenv in the cache directory
// holds requirements.txt and returns the variables that activate it. The
// virtualenv is made again only when the interpreter changed, and pip
// runs only when requirements.txt changed.
func pythonVenv(ctx context.Context, b Build, reqs string, out io.Writer) (env []string, installed bool, err error) {
	svc := b.Service
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil, false, missingTool("Python", "python3", svc, installHints["python3"])
	}
	venv := filepath.Join(b.CacheDir, "venv")
	bin := filepath.Join(venv, "bin")
	env = []string{"VIRTUAL_ENV=" + venv, "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	pkgs, err := pythonPackages(svc, reqs)
	if err != nil {
		return nil, false, err
	}
	interp := newFingerprint("python", py)
	interp.stat(py)
	deps := newFingerprint(append([]string{"requirements"}, pkgs...)...)
	if err := deps.file(reqs); err != nil {
		return nil, false, err
	}
	var steps [][]string
	if !exists(filepath.Join(bin, "python")) || !unchanged(b.CacheDir, "venv-python", interp.sum()) {
		forget(b.CacheDir, "venv-python")
		forget(b.CacheDir, "venv")
		if err := os.RemoveAll(venv); err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(b.CacheDir, 0o755); err != nil {
			return nil, false, err
		}
		steps = append(steps, []string{py, "-m", "venv", venv})
	}
	switch {
	case len(steps) == 0 && unchanged(b.CacheDir, "venv", deps.sum()) && b.Force:
		fmt.Fprintln(b.notes(out), "requirements.txt unchanged; installing it again, as asked")
	case len(steps) == 0 && unchanged(b.CacheDir, "venv", deps.sum()):
		fmt.Fprintln(b.notes(out), "requirements.txt unchanged; reusing the virtualenv")
		return env, false, nil
	}
	forget(b.CacheDir, "venv")
	steps = append(steps, append([]string{filepath.Join(bin, "pip"), "install", "--disable-pip-version-check", "-r", "requirements.txt"}, pkgs...))
	for _, argv := range steps {
		cmdline := strings.Join(argv, " ")
		fmt.Fprintln(b.notes(out), cmdline)
		// Relative paths in requirements.txt are relative to the app.
		output, err := runTool(ctx, svc.Dir, env, out, argv...)
		var exitErr *exec.ExitError
		switch {
		case errors.As(err, &exitErr):
			return nil, false, &BuildError{Runtime: "Python", Title: "The Python application's requirements could not be installed.",
				Command: cmdline, Output: output}
		case err != nil:
			return nil, false, fmt.Errorf("running %s: %w", cmdline, err)
		}
		if argv[0] == py {
			if err := remember(b.CacheDir, "venv-python", interp.sum()); err != nil {
				return nil, false, err
			}
		}
	}
	if err := remember(b.CacheDir, "venv", deps.sum()); err != nil {
		fmt.Fprintf(b.notes(out), "warning: %v; the next start reinstalls\n", err)
	}
	return env, true, nil
}

// gunicornRequirement matches a requirements.txt line that installs
// gunicorn.
var gunicornRequirement = regexp.MustCompile(`(?im)^\s*gunicorn\b`)

// pythonPackages returns what pip installs besides requirements.txt:
// gunicorn, when the default entrypoint needs it and the file does not
// list it, as App Engine does.
func pythonPackages(svc *config.Service, reqs string) ([]string, error) {
	if svc.Entrypoint != "" {
		return nil, nil
	}
	data, err := os.ReadFile(reqs)
	if err != nil {
		return nil, err
	}
	if gunicornRequirement.Match(data) {
		return nil, nil
	}
	return []string{"gunicorn"}, nil
}
