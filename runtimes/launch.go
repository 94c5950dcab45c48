package runtimes

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// launch is the Launch of every adapter: the artifact's command in the
// service directory, with {port} replaced and the instance's environment.
type launch struct{}

func (launch) Launch(svc *config.Service, art Artifact, inst Instance) (LaunchSpec, error) {
	if len(art.Argv) == 0 {
		return LaunchSpec{}, fmt.Errorf("service %q has not been built", svc.Name)
	}
	how, err := handoverOf(svc, inst.Extra)
	if err != nil {
		return LaunchSpec{}, err
	}
	port := strconv.Itoa(inst.Port)
	argv := make([]string, len(art.Argv))
	for i, a := range art.Argv {
		argv[i] = strings.ReplaceAll(a, "{port}", port)
	}
	env, warnings := Environ(svc, inst, art.Env...)
	return LaunchSpec{Argv: argv, Dir: svc.Dir, Env: env, Handover: how, Warnings: warnings}, nil
}

// shell runs command through the shell, as App Engine runs an entrypoint,
// so that $PORT and other variables expand. Config loading has put "exec "
// in front of an app.yaml entrypoint, so the shell replaces itself with
// the server and no shell stays behind as the parent.
func shell(command string) []string { return []string{"/bin/sh", "-c", command} }

// entrypointArtifact checks that the program an entrypoint starts exists
// and returns the artifact that runs it. runtime names the runtime in
// errors; env holds the runtime's variables (a virtualenv's PATH).
func entrypointArtifact(svc *config.Service, runtime, command string, env []string) (Artifact, error) {
	if err := checkCommand(svc, runtime, command, env); err != nil {
		return Artifact{}, err
	}
	return Artifact{Argv: shell(command), Env: env}, nil
}

// checkCommand checks that the program a shell command starts is
// installed. A command whose program is computed by the shell ($VAR,
// quotes) is not checked: the instance's stderr will tell.
func checkCommand(svc *config.Service, runtime, command string, env []string) error {
	prog := commandProgram(command)
	if prog == "" {
		return nil
	}
	if _, err := lookPath(prog, svc.Dir, pathOf(svc, env)); err != nil {
		return missingTool(runtime, prog, svc, hintFor(prog, svc))
	}
	return nil
}

// commandProgram returns the program a shell command runs first, after
// "exec" and VAR=value assignments, or "" when the shell computes it.
func commandProgram(command string) string {
	for _, w := range strings.Fields(command) {
		switch {
		case w == "exec":
			continue
		case strings.ContainsAny(w, "$`'\"\\(){};&|<>*?[]~"):
			return ""
		case strings.Contains(w, "=") && !strings.Contains(w, "/"):
			continue // an assignment: FOO=bar cmd
		}
		return w
	}
	return ""
}

// pathOf is the PATH an instance of svc runs with: env_variables' PATH,
// else the runtime's, else appdeck's own.
func pathOf(svc *config.Service, env []string) string {
	path := os.Getenv("PATH")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, e := range svc.Env {
		if e.Name == "PATH" {
			path = e.Value
		}
	}
	return path
}

// lookPath finds prog as the shell would with the given PATH; a prog with
// a slash is taken relative to dir.
func lookPath(prog, dir, path string) (string, error) {
	if strings.Contains(prog, "/") {
		if !filepath.IsAbs(prog) {
			prog = filepath.Join(dir, prog)
		}
		return prog, executable(prog)
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		if p := filepath.Join(d, prog); executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH", prog)
}

func executable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case fi.IsDir() || fi.Mode()&0o111 == 0:
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// installHints say how to install the programs runtimes commonly need.
var installHints = map[string]string{
	"go":       "install Go from https://go.dev/dl/",
	"python3":  "install Python 3 (Debian: apt-get install python3)",
	"gunicorn": "install gunicorn (Debian: apt-get install gunicorn; or pip install gunicorn), run with --python-venv and list gunicorn in requirements.txt, or set an `entrypoint:` in app.yaml",
	"node":     "install Node.js (Debian: apt-get install nodejs npm; or https://nodejs.org)",
	"npm":      "install npm (Debian: apt-get install npm; or https://nodejs.org)",
	"php":      "install PHP's command-line interpreter (Debian: apt-get install php-cli)",
	"java":     "install a Java runtime (Debian: apt-get install default-jre-headless) or set JAVA_HOME to one",
}

// hintFor says how to get prog, an entrypoint's program, installed.
func hintFor(prog string, svc *config.Service) string {
	if h, ok := installHints[filepath.Base(prog)]; ok {
		return h
	}
	if strings.Contains(prog, "/") {
		return fmt.Sprintf("build or create it, or change the entrypoint (%s)", orFile(svc.EntrypointPos, svc.File))
	}
	return fmt.Sprintf("install it, or change the entrypoint (%s)", orFile(svc.EntrypointPos, svc.File))
}

// missingTool is the error for a program a service needs that is not
// installed: the page names the program and how to get it.
func missingTool(runtime, prog string, svc *config.Service, hint string) *BuildError {
	where := "on PATH"
	if strings.Contains(prog, "/") {
		where = "in " + svc.Dir
	}
	return &BuildError{
		Runtime: runtime,
		Title:   fmt.Sprintf("The %s application cannot start: %s was not found.", runtime, prog),
		Output:  fmt.Sprintf("%s not found %s: %s.", prog, where, hint),
	}
}

// orFile is pos as text, or file when pos is unknown.
func orFile(pos config.Pos, file string) string {
	if s := pos.String(); s != "" {
		return s
	}
	return file
}
