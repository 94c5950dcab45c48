package runtimes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// nodejs runs the app.yaml entrypoint, else `npm start` when package.json
// has a start script, else `node server.js`, as App Engine does; it
// installs the packages first when package.json or the lock file changed.
type nodejs struct{ launch }

func (nodejs) Name() string { return "nodejs" }

// packageJSON is the part of package.json appdeck reads.
type packageJSON struct {
	Scripts         map[string]string `json:"scripts"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
}

func (nodejs) Build(ctx context.Context, b Build, out io.Writer) (Artifact, error) {
	svc := b.Service
	pkg, err := readPackageJSON(svc.Dir)
	if err != nil {
		return Artifact{}, err
	}
	installed, err := npmInstall(ctx, b, pkg, out)
	if err != nil {
		return Artifact{}, err
	}
	command, err := nodeCommand(svc, pkg)
	if err != nil {
		return Artifact{}, err
	}
	art, err := entrypointArtifact(svc, "Node.js", command, nil)
	art.Built = installed
	return art, err
}

// readPackageJSON reads the service's package.json; it returns nil when
// there is none.
func readPackageJSON(dir string) (*packageJSON, error) {
	path := filepath.Join(dir, "package.json")
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pkg packageJSON
	if err := json.Unmarshal(data, &pkg); err != nil {
		return nil, &BuildError{Runtime: "Node.js", Title: "The Node.js application's package.json is not valid.",
			Output: fmt.Sprintf("%s: %v", path, err)}
	}
	return &pkg, nil
}

// nodeCommand is what starts an instance: App Engine's choice.
func nodeCommand(svc *config.Service, pkg *packageJSON) (string, error) {
	switch {
	case svc.Entrypoint != "":
		return svc.Entrypoint, nil
	case pkg != nil && pkg.Scripts["start"] != "":
		return "exec npm start", nil
	case exists(filepath.Join(svc.Dir, "server.js")):
		return "exec node server.js", nil
	}
	return "", &BuildError{Runtime: "Node.js", Title: "The Node.js application has no start command.",
		Output: fmt.Sprintf("%s has no entrypoint, package.json has no \"start\" script and there is no server.js: "+
			"add one of them (App Engine starts the first it finds)", svc.File)}
}

// npmInstall installs the service's packages — `npm ci` when a lock file
// exists, else `npm install` — when node_modules is missing, or when
// package.json or the lock file changed since the last install and
// node_modules is older than they are (the user may have installed them
// already).
func npmInstall(ctx context.Context, b Build, pkg *packageJSON, out io.Writer) (installed bool, err error) {
	svc := b.Service
	lock := npmLock(svc.Dir)
	if pkg == nil || (lock == "" && len(pkg.Dependencies)+len(pkg.DevDependencies) == 0) {
		return false, nil // nothing to install
	}
	manifest := filepath.Join(svc.Dir, "package.json")
	sum, err := npmFingerprint(manifest, lock)
	if err != nil {
		return false, err
	}
	modules := filepath.Join(svc.Dir, "node_modules")
	upToDate := exists(modules) && (unchanged(b.CacheDir, "npm", sum) || newerThan(filepath.Join(modules, ".package-lock.json"), manifest, lock))
	switch {
	case upToDate && b.Force:
		fmt.Fprintln(b.notes(out), "node_modules is up to date; installing anyway, as asked")
	case upToDate:
		fmt.Fprintln(b.notes(out), "node_modules is up to date; not installing")
		return false, remember(b.CacheDir, "npm", sum)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return false, missingTool("Node.js", "npm", svc, installHints["npm"])
	}
	if err := os.MkdirAll(b.CacheDir, 0o755); err != nil {
		return false, err
	}
	forget(b.CacheDir, "npm")
	args := []string{"install"}
	if lock != "" {
		args = []string{"ci"}
	}
	args = append(args, "--no-audit", "--no-fund")
	cmdline := "npm " + strings.Join(args, " ")
	fmt.Fprintln(b.notes(out), cmdline)
	output, err := runTool(ctx, svc.Dir, nil, out, append([]string{npm}, args...)...)
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return false, &BuildError{Runtime: "Node.js", Title: "The Node.js application's packages could not be installed.",
			Command: cmdline, Output: output}
	case err != nil:
		return false, fmt.Errorf("running %s: %w", cmdline, err)
	}
	// npm install writes the lock file, which is then part of what the
	// next start compares.
	if sum, err = npmFingerprint(manifest, npmLock(svc.Dir)); err != nil {
		return false, err
	}
	return true, remember(b.CacheDir, "npm", sum)
}

// npmLock returns the service's lock file, or "".
func npmLock(dir string) string {
	for _, name := range []string{"npm-shrinkwrap.json", "package-lock.json"} {
		if p := filepath.Join(dir, name); exists(p) {
			return p
		}
	}
	return ""
}

// npmFingerprint covers what an install installs: package.json and the
// lock file.
func npmFingerprint(manifest, lock string) (string, error) {
	f := newFingerprint("npm")
	for _, p := range []string{manifest, lock} {
		if err := f.file(p); err != nil {
			return "", err
		}
	}
	return f.sum(), nil
}

// newerThan reports whether path exists and was modified after every one
// of others that exists.
func newerThan(path string, others ...string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	for _, o := range others {
		if oi, err := os.Stat(o); err == nil && !fi.ModTime().After(oi.ModTime()) {
			return false
		}
	}
	return true
}
