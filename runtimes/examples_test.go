package runtimes_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appdeck/appdeck/runtimes"
)

// Each example app in examples/<runtime>, run against its real
// interpreter: / and /env, with the standard variables.

func example(runtime string) string { return filepath.Join("..", "examples", runtime) }

func TestGoExample(t *testing.T) {
	requireTools(t, "go")
	app := runApp(t, copyApp(t, example("go")), runtimes.Options{})
	if got := app.getOK("/"); got != "Hello from Go! Service default, instance 0.\n" {
		t.Errorf("GET / = %q", got)
	}
	app.checkEnv("go124")
}

func TestPythonExample(t *testing.T) {
	requireTools(t, "gunicorn")
	if exec.Command("python3", "-c", "import flask").Run() != nil && exec.Command("/usr/bin/python3", "-c", "import flask").Run() != nil {
		t.Skip("Flask is not installed (Debian: apt-get install python3-flask)")
	}
	app := runApp(t, copyApp(t, example("python")), runtimes.Options{})
	if got := app.getOK("/"); got != "Hello from Python! Service default, instance 0.\n" {
		t.Errorf("GET / = %q", got)
	}
	app.checkEnv("python312")
	if !strings.Contains(app.log("0"), "Listening at: http://127.0.0.1:") {
		t.Errorf("gunicorn does not listen on loopback only:\n%s", app.log("0"))
	}
}

func TestNodeExample(t *testing.T) {
	requireTools(t, "node", "npm")
	app := runApp(t, copyApp(t, example("nodejs")), runtimes.Options{})
	resp := app.get("/")
	if resp.status == 500 && offline(app.log("")) {
		t.Skipf("the npm registry is unreachable, so express cannot be installed:\n%s", app.log(""))
	}
	if resp.body != "Hello from Node.js! Service default, instance 0.\n" {
		t.Fatalf("GET / = %d %q\nservice log:\n%s", resp.status, resp.body, app.log(""))
	}
	app.checkEnv("nodejs20")
	if log := app.log(""); !strings.Contains(log, "npm ci") {
		t.Errorf("the lock file did not lead to npm ci:\n%s", log)
	}
}

// offline reports whether npm's output says the registry was unreachable.
func offline(log string) bool {
	for _, s := range []string{"ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ENETUNREACH"} {
		if strings.Contains(log, s) {
			return true
		}
	}
	return false
}

func TestPHPExample(t *testing.T) {
	requireTools(t, "php")
	app := runApp(t, copyApp(t, example("php")), runtimes.Options{})
	if got := app.getOK("/"); got != "Hello from PHP! Service default, instance 0.\n" {
		t.Errorf("GET / = %q", got)
	}
	app.checkEnv("php83")

	css := app.get("/style.css")
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, "A static file") {
		t.Errorf("GET /style.css = %d %s %q, want the static file", css.status, css.header.Get("Content-Type"), css.body)
	}
	// Everything that is not a static file reaches the front controller
	// with its path and query: other scripts, missing files, hidden ones.
	for _, path := range []string{"/some/page?x=1&y=2", "/index.php?a=b", "/other.php", "/.htaccess", "/missing.css"} {
		if got, want := app.getOK(path), "front controller: GET "+path+"\n"; got != want {
			t.Errorf("GET %s = %q, want %q", path, got, want)
		}
	}
}

func TestJavaExample(t *testing.T) {
	requireTools(t, "java", "javac", "jar")
	dir := copyApp(t, example("java"))
	if out, err := exec.Command(filepath.Join(dir, "build.sh")).CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	app := runApp(t, dir, runtimes.Options{})
	if got := app.getOK("/"); got != "Hello from Java! Service default, instance 0.\n" {
		t.Errorf("GET / = %q", got)
	}
	app.checkEnv("java17")
}

func TestCustomExample(t *testing.T) {
	requireTools(t, "python3")
	app := runApp(t, copyApp(t, example("custom")), runtimes.Options{})
	if got := app.getOK("/"); got != "Hello from a custom entrypoint! Service default, instance 0.\n" {
		t.Errorf("GET / = %q", got)
	}
	env := app.checkEnv("custom")
	// {port} in the entrypoint and $PORT name the same port.
	if !strings.Contains(app.log("0"), "listening on :"+env["PORT"]) {
		t.Errorf("the server did not get $PORT (%s) as --port:\n%s", env["PORT"], app.log("0"))
	}
}
