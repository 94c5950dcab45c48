package runtimes_test

import (
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/runtimes"
	"github.com/appdeck/appdeck/supervisor"
)

// A service that cannot run is served by an error page (500, HTML) that
// says why, and the dashboard sees the same reason.

// checkErrorPage requests / and checks the error page and the state.
func (r *running) checkErrorPage(wants ...string) {
	r.t.Helper()
	resp := r.get("/")
	if resp.status != 500 || !strings.HasPrefix(resp.header.Get("Content-Type"), "text/html") {
		r.t.Fatalf("GET / = %d %s, want a 500 HTML error page:\n%s", resp.status, resp.header.Get("Content-Type"), resp.body)
	}
	for _, w := range wants {
		if !strings.Contains(resp.body, w) {
			r.t.Errorf("the error page lacks %q:\n%s", w, resp.body)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if in, ok := r.firstInstance(); ok && in.State == supervisor.BuildFailed {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	in := r.instance()
	if in.State != supervisor.BuildFailed {
		r.t.Errorf("instance state %s (%s), want build-failed", in.State, in.Reason)
	}
	// The instance says what is wrong as the page does: its heading.
	_, h1, _ := strings.Cut(resp.body, "<h1>")
	h1, _, _ = strings.Cut(h1, "</h1>")
	if heading := html.UnescapeString(h1); heading == "" || in.Reason != heading {
		r.t.Errorf("instance reason %q, want the page's heading %q", in.Reason, heading)
	}
}

func TestGoSyntaxErrorServesCompilerOutputUntilFixed(t *testing.T) {
	requireTools(t, "go")
	dir := writeApp(t, map[string]string{
		"app.yaml": "runtime: go125\n",
		"go.mod":   "module example.com/broken\n\ngo 1.22\n",
		"main.go":  "package main\n\nfunc main() {\n\tx :=\n}\n",
	})
	app := runApp(t, dir, runtimes.Options{})
	app.checkErrorPage("The Go application could not be built.", "(Executed command: go build -o ", "main.go:5:1: syntax error")
	for _, s := range app.sup.Snapshot() {
		if !strings.Contains(s.BuildOutput, "main.go:5:1: syntax error") {
			t.Errorf("the dashboard does not get the compiler output: %q", s.BuildOutput)
		}
	}

	fixed := "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n\thttp.ListenAndServe(\"127.0.0.1:\"+os.Getenv(\"PORT\"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(\"fixed\")) }))\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := app.sup.Rebuild(app.service); err != nil {
		t.Fatal(err)
	}
	if got := app.getOK("/"); got != "fixed" {
		t.Errorf("after the fix: %q", got)
	}
}

// emptyPath leaves appdeck a PATH with none of the usual programs.
func emptyPath(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("JAVA_HOME", "")
}

func TestMissingInterpreterNamesItAndTheFix(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		wants []string
	}{
		{"go", map[string]string{"app.yaml": "runtime: go125\n", "main.go": "package main\n"},
			[]string{"The Go application cannot start: go was not found.", "go not found on PATH: install Go from https://go.dev/dl/"}},
		{"python default entrypoint", map[string]string{"app.yaml": "runtime: python312\n", "main.py": ""},
			[]string{"The Python application cannot start: gunicorn was not found.", "gunicorn not found on PATH: install gunicorn (Debian: apt-get install gunicorn"}},
		{"python entrypoint", map[string]string{"app.yaml": "runtime: python312\nentrypoint: python3 main.py\n", "main.py": ""},
			[]string{"python3 not found on PATH: install Python 3 (Debian: apt-get install python3)"}},
		{"nodejs", map[string]string{"app.yaml": "runtime: nodejs20\n", "server.js": ""},
			[]string{"The Node.js application cannot start: node was not found.", "node not found on PATH: install Node.js (Debian: apt-get install nodejs npm"}},
		{"php", map[string]string{"app.yaml": "runtime: php83\n", "index.php": ""},
			[]string{"Bad PHP environment: the PHP application cannot run.", "php not found on PATH: install PHP&#39;s command-line interpreter (Debian: apt-get install php-cli)"}},
		{"java", map[string]string{"app.yaml": "runtime: java17\n"},
			[]string{"The Java application cannot start: java was not found.", "java not found on PATH: install a Java runtime (Debian: apt-get install default-jre-headless) or set JAVA_HOME"}},
		{"custom", map[string]string{"app.yaml": "runtime: custom\nentrypoint: myserver --port {port}\n"},
			[]string{"The custom application cannot start: myserver was not found.", "myserver not found on PATH: install it, or change the entrypoint (", "app.yaml:2:13)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeApp(t, c.files)
			emptyPath(t)
			runApp(t, dir, runtimes.Options{}).checkErrorPage(c.wants...)
		})
	}
}

func TestBrokenPHPIsABadEnvironment(t *testing.T) {
	// A php that cannot start, as with a broken php.ini or a missing
	// shared library.
	bin := writeApp(t, map[string]string{"php": "#!/bin/sh\necho 'PHP Fatal error: Unable to start: libxml2.so.2: cannot open shared object file' >&2\nexit 1\n"})
	os.Chmod(filepath.Join(bin, "php"), 0o755)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := writeApp(t, map[string]string{"app.yaml": "runtime: php83\n", "index.php": ""})
	runApp(t, dir, runtimes.Options{}).checkErrorPage(
		"Bad PHP environment: the PHP application cannot run.",
		filepath.Join(bin, "php")+" does not run (exit status 1)",
		"libxml2.so.2: cannot open shared object file")
}

func TestPythonWithoutMainPy(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.yaml": "runtime: python312\n", "app.py": ""})
	runApp(t, dir, runtimes.Options{}).checkErrorPage("The Python application has no main.py.",
		"so App Engine&#39;s default runs `gunicorn -b :$PORT main:app`, which needs main.py in "+dir)
}

func TestPHPWithoutFrontController(t *testing.T) {
	requireTools(t, "php")
	dir := writeApp(t, map[string]string{"app.yaml": "runtime: php83\nentrypoint: serve web/front.php\n"})
	runApp(t, dir, runtimes.Options{}).checkErrorPage("The PHP application has no front controller.", "no web/front.php in "+dir)
}

func TestPHPServeEntrypoint(t *testing.T) {
	requireTools(t, "php")
	dir := writeApp(t, map[string]string{
		"app.yaml":      "runtime: php82\nentrypoint: serve web/front.php\n",
		"web/front.php": "<?php echo 'front ', $_SERVER['REQUEST_URI'], ' ', $_SERVER['SCRIPT_NAME'], ' ', basename(getcwd());\n",
		"web/logo.txt":  "a static file",
		"index.php":     "<?php echo 'not the front controller';\n",
	})
	app := runApp(t, dir, runtimes.Options{})
	for path, want := range map[string]string{
		"/":         "front / /front.php web",
		"/a/b?c=d":  "front /a/b?c=d /front.php web",
		"/logo.txt": "a static file",
		// Paths that climb out of the document root never reach a file
		// there, static or PHP: the front redirects them to the cleaned
		// path, which the front controller then gets.
		"/../index.php?x=1": "front /index.php?x=1 /front.php web",
		"/../app.yaml":      "front /app.yaml /front.php web",
	} {
		if got := app.getOK(path); got != want {
			t.Errorf("GET %s = %q, want %q", path, got, want)
		}
	}
}

func TestExitBeforeListeningShowsReasonAndStderr(t *testing.T) {
	requireTools(t, "python3")
	dir := writeApp(t, map[string]string{
		"app.yaml": "runtime: python312\nentrypoint: python3 main.py\n",
		"main.py":  "import sys\nprint('error: DATABASE_URL is not set', file=sys.stderr)\nsys.exit(3)\n",
	})
	app := runApp(t, dir, runtimes.Options{})
	resp := app.get("/")
	for _, want := range []string{"crashed", "exited before listening on port", "exit status 3", "error: DATABASE_URL is not set"} {
		if resp.status != 502 || !strings.Contains(resp.body, want) {
			t.Errorf("GET / = %d, want 502 with %q:\n%s", resp.status, want, resp.body)
		}
	}
}

// A service whose executable jar is missing says how to get one.
func TestJavaWithoutJar(t *testing.T) {
	requireTools(t, "java")
	dir := writeApp(t, map[string]string{"app.yaml": "runtime: java21\n"})
	runApp(t, dir, runtimes.Options{}).checkErrorPage("The Java application has no executable jar.", "build the app first, or set an `entrypoint:`")
}

func TestJavaEntrypointGetsPortInArgv(t *testing.T) {
	requireTools(t, "java", "javac", "jar")
	dir := copyApp(t, example("java"))
	if out, err := exec.Command(filepath.Join(dir, "build.sh")).CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("runtime: java17\nentrypoint: env PORT={port} java -jar app.jar\n"), 0o644)
	app := runApp(t, dir, runtimes.Options{})
	app.checkEnv("java17")
}
