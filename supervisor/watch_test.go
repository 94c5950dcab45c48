package supervisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
)

func TestIgnoredPaths(t *testing.T) {
	app := "/src/app"
	svc := &Service{
		sup: &Supervisor{opts: Options{CacheDir: "/src/app/.cache/appdeck",
			WatchIgnore: []*regexp.Regexp{regexp.MustCompile(`\.log$`), regexp.MustCompile(`^tmp/`)}}},
	}
	svc.cfg.Store(&config.Service{Dir: app, SkipFiles: []*regexp.Regexp{regexp.MustCompile(`^(?:vendor/.*)`)}})
	tests := []struct {
		path    string
		dir     bool
		ignored bool
	}{
		{"/src/app/main.go", false, false},
		{"/src/app/static/app.js", false, false},
		{"/src/app/.git", true, true},
		{"/src/app/node_modules", true, true},
		{"/src/app/pkg/__pycache__/x.cpython-312.pyc", false, true},
		{"/src/app/main.go~", false, true},
		{"/src/app/.main.go.swp", false, true},
		{"/src/app/#main.go#", false, true},
		{"/src/app/4913", false, true},
		{"/src/app/app.yaml.orig", false, true}, // cp app.yaml app.yaml.orig, patch -b
		{"/src/app/main.go.rej", false, true},   // a patch that did not apply
		{"/src/app/app.yaml.bak", false, true},
		{"/src/app/main.py.kate-swp", false, true},
		{"/src/app/main.go___jb_tmp___", false, true}, // JetBrains' safe write
		{"/src/app/main.go___jb_old___", false, true},
		{"/src/lib/util.go.orig", false, true},
		{"/src/app/original.go", false, false},
		{"/src/app/static/logo.bakery.png", false, false},
		{"/src/app/vendor", true, true}, // skip_files prunes the directory
		{"/src/app/vendor/x/y.go", false, true},
		{"/src/app/lib/vendor/y.go", false, false}, // skip_files is anchored at the start
		{"/src/app/server.log", false, true},       // --watch-ignore
		{"/src/app/tmp", true, true},
		{"/src/app/tmpl/page.html", false, false},
		{"/src/go.mod", false, false}, // elsewhere in the module: Go inputs only
		{"/src/lib/util.go", false, false},
		{"/src/lib/README.md", false, true},
		{"/src/lib", true, false},
	}
	for _, tt := range tests {
		if got := svc.ignored(tt.path, tt.dir); got != tt.ignored {
			t.Errorf("ignored(%q, dir=%v) = %v, want %v", tt.path, tt.dir, got, tt.ignored)
		}
	}
}

func TestChangePolicy(t *testing.T) {
	tests := []struct {
		family         string
		paths          []string
		build, restart bool
	}{
		{"go", []string{"/a/main.go"}, true, true},
		{"go", []string{"/a/templates/x.html"}, true, true},
		{"python", []string{"/a/main.py"}, false, true},
		{"python", []string{"/a/requirements.txt"}, true, true},
		{"nodejs", []string{"/a/package-lock.json"}, true, true},
		{"php", []string{"/a/index.php"}, false, false},
		{"php", []string{"/a/composer.lock"}, true, true},
		{"custom", []string{"/a/server.sh"}, false, true},
		{"java", []string{"src/Main.java"}, false, false},
		{"java", []string{"build/classes/Main.class", "src/Main.java", "build", "gone.jar"}, false, false},
		{"java", []string{"build/classes/Main.class", "app.jar"}, true, true},
		{"java", []string{"config.properties"}, true, true},
	}
	// Java's policy looks at the files: these exist, "gone.jar" does not.
	t.Chdir(t.TempDir())
	for _, f := range []string{"app.jar", "config.properties", "build/classes/Main.class", "src/Main.java"} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		build, restart := changePolicy(tt.family, tt.paths)
		if build != tt.build || restart != tt.restart {
			t.Errorf("%s %v: build %v restart %v, want %v %v", tt.family, tt.paths, build, restart, tt.build, tt.restart)
		}
	}
}

func TestEcho(t *testing.T) {
	from, to := t0, t0.Add(300*time.Millisecond)
	tests := []struct {
		path string
		at   time.Duration // after from
		echo bool
	}{
		{"/app/hits", 100 * time.Millisecond, true},
		{"/app/data/db.sqlite", 300 * time.Millisecond, true},
		{"/app/hits", 500 * time.Millisecond, true}, // the event a moment after the restart
		{"/app/hits", 2 * time.Second, false},
		{"/app/hits", -time.Millisecond, false},
		{"/app/main.go", 100 * time.Millisecond, false}, // code is edited, not written by the app
		{"/app/static/app.js", 100 * time.Millisecond, false},
		{"/app/requirements.txt", 100 * time.Millisecond, false},
		{"/app/app.yaml", 100 * time.Millisecond, false},
	}
	for _, tt := range tests {
		if got := echo(tt.path, from.Add(tt.at), from, to); got != tt.echo {
			t.Errorf("echo(%s at %s) = %v, want %v", tt.path, tt.at, got, tt.echo)
		}
	}
}

func TestTreeWatcherReportsChangesAndFollowsNewDirectories(t *testing.T) {
	root := t.TempDir()
	mustMkdir(t, filepath.Join(root, "sub"))
	mustMkdir(t, filepath.Join(root, ".git"))
	w, err := newTreeWatcher(func(p string, dir bool) bool { return ignoredName(filepath.Base(p)) }, func(msg string) { t.Log(msg) })
	if err != nil {
		t.Fatal(err)
	}
	w.addTree(root)
	// Changed paths, gathered until 100 ms pass without one.
	changed := make(chan string, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx, func(p string, _ bool) { changed <- p })
	}()
	defer func() { cancel(); <-done }()
	batch := func(wait time.Duration) string {
		seen := map[string]bool{}
		timeout := time.After(wait)
		for {
			select {
			case p := <-changed:
				r, _ := filepath.Rel(root, p)
				seen[r] = true
				timeout = time.After(100 * time.Millisecond)
			case <-timeout:
				var out []string
				for p := range seen {
					out = append(out, p)
				}
				sort.Strings(out)
				return strings.Join(out, " ")
			}
		}
	}
	expect := func(want string) {
		t.Helper()
		if got := batch(5 * time.Second); got != want {
			t.Errorf("changed %q, want %q", got, want)
		}
	}
	expectNone := func(what string) {
		t.Helper()
		if got := batch(400 * time.Millisecond); got != "" {
			t.Errorf("%s reported: %q", what, got)
		}
	}

	// A burst of writes.
	for i := range 5 {
		writeFile(t, filepath.Join(root, "sub", "a.go"), fmt.Sprint(i))
	}
	expect("sub/a.go")
	// Ignored paths and attribute changes are not changes.
	writeFile(t, filepath.Join(root, ".git", "index"), "x")
	writeFile(t, filepath.Join(root, "sub", "a.go~"), "backup")
	if err := os.Chmod(filepath.Join(root, "sub", "a.go"), 0o600); err != nil {
		t.Fatal(err)
	}
	expectNone("ignored files and chmod")
	// A new directory is watched from then on.
	mustMkdir(t, filepath.Join(root, "new"))
	expect("new")
	writeFile(t, filepath.Join(root, "new", "b.go"), "b")
	expect("new/b.go")
	// Removal and rename count.
	if err := os.Rename(filepath.Join(root, "new", "b.go"), filepath.Join(root, "new", "c.go")); err != nil {
		t.Fatal(err)
	}
	expect("new/b.go new/c.go")
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// goApp is a Go service that answers every request with version.
func goApp(version string) string {
	return fmt.Sprintf(`package main

import (
	"net/http"
	"os"
)

func main() {
	http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(%q))
	}))
}
`, version)
}

// TestEditsOfAGoServiceFailNoRequest edits a Go service five times under
// continuous traffic: each edit is rebuilt and rolled out (new processes
// ready before the old ones drain), and not one request fails. Then a
// broken edit switches the service to its error page, and a fix brings
// it back.
func TestEditsOfAGoServiceFailNoRequest(t *testing.T) {
	requireTools(t, "go")
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	writeFile(t, main, goApp("version 0"))
	svc := &config.Service{Name: "default", Runtime: "go125", Dir: dir, Scaling: config.Scaling{
		Kind: config.Automatic, Automatic: config.AutomaticScaling{MaxConcurrentRequests: 10, MinInstances: 2,
			MaxInstances: 20, MinIdleInstances: 1, MaxIdleInstances: 1000,
			MinPendingLatency: 100 * time.Millisecond, MaxPendingLatency: 500 * time.Millisecond}}}
	sup := newSupervisor(t, Options{Watch: true}, svc)
	url := front(t, sup, "default")
	waitForBody(t, url, "version 0", 90*time.Second)
	waitFor(t, "both instances ready", 60*time.Second, func() bool {
		n := 0
		for _, in := range serviceInfo(sup, "default").Instances {
			if in.State == Ready {
				n++
			}
		}
		return n == 2
	})
	var old []int
	ids := map[string]bool{}
	for _, in := range serviceInfo(sup, "default").Instances {
		old = append(old, in.PID)
		ids[in.ID] = true
	}
	ev := record(t, sup)

	stop := traffic(url+"/", 4)
	for v := 1; v <= 5; v++ {
		want := fmt.Sprintf("version %d", v)
		writeFile(t, main, goApp(want))
		waitForBody(t, url, want, 90*time.Second)
	}
	ok, failures := stop()
	t.Logf("%d requests succeeded during five edits", ok)
	if len(failures) > 0 || ok < 50 {
		t.Errorf("%d requests succeeded during five edits; failures: %q", ok, failures)
	}
	// Rolling: the instances never left rotation.
	for _, e := range ev.matching(func(e Event) bool { return e.Kind == StateChanged && ids[e.Instance] && e.State != Ready }) {
		t.Errorf("instance %s went %s (%s) during an edit", e.Instance, e.State, e.Reason)
	}
	// Each edit replaces every instance, except that an edit landing while
	// an instance's previous replacement still starts supersedes it.
	replaced := map[string]int{}
	for _, e := range ev.matching(func(e Event) bool { return e.Kind == Notice && strings.HasPrefix(e.Reason, "replaced:") }) {
		replaced[e.Instance]++
	}
	for id := range ids {
		if replaced[id] < 4 {
			t.Errorf("instance %s was replaced %d times for five edits", id, replaced[id])
		}
	}
	for _, pid := range old {
		waitFor(t, fmt.Sprintf("replaced pid %d gone", pid), 10*time.Second, func() bool { return !alive(pid) })
	}

	writeFile(t, main, "package main\n\nfunc main() { broken() }\n")
	waitFor(t, "the error page", 90*time.Second, func() bool {
		code, body := fetch(url + "/")
		return code == 500 && strings.Contains(body, "main.go:3:15: undefined: broken")
	})
	waitFor(t, "instances build-failed", 10*time.Second, func() bool {
		for _, in := range serviceInfo(sup, "default").Instances {
			if in.State != BuildFailed {
				return false
			}
		}
		return true
	})
	writeFile(t, main, goApp("fixed"))
	waitForBody(t, url, "fixed", 90*time.Second)
}

func waitForBody(t *testing.T, url, want string, d time.Duration) {
	t.Helper()
	var last string
	waitFor(t, fmt.Sprintf("%q from %s (last: %s)", want, url, last), d, func() bool {
		code, body := fetch(url + "/")
		last = fmt.Sprintf("%d %q", code, body)
		return code == 200 && body == want
	})
}

// TestACrashBeforeABuildIsAppliedRestartsTheAppliedCode builds an edit
// the way the reload loop does before the files are quiet (built, not yet
// applied), crashes the instance, and checks that the restart runs the
// build in service, not the one waiting; once applied, the new one serves.
func TestACrashBeforeABuildIsAppliedRestartsTheAppliedCode(t *testing.T) {
	requireTools(t, "go")
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	writeFile(t, main, goApp("applied"))
	sup := newTestSupervisor(t, time.Second, &config.Service{Name: "default", Runtime: "go125", Dir: dir, Scaling: manual(1)})
	waitFor(t, "ready", 60*time.Second, stateIs(sup, "default", "0", Ready))
	if code, body := get(t, sup, "default"); code != 200 || body != "applied" {
		t.Fatalf("first build: %d %q", code, body)
	}
	writeFile(t, main, goApp("not applied yet"))
	svc := sup.service("default")
	waiting := svc.compile(context.Background(), false)
	if waiting.err != nil {
		t.Fatalf("building the edit: %v\n%s", waiting.err, waiting.out)
	}
	pid := instanceInfo(sup, "default", "0").PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the crashed instance back", 60*time.Second, func() bool {
		in := instanceInfo(sup, "default", "0")
		return in.State == Ready && in.PID != pid
	})
	if code, body := get(t, sup, "default"); code != 200 || body != "applied" {
		t.Errorf("after a crash before the build was applied: %d %q, want the applied build's answer", code, body)
	}
	svc.scaleMu.Lock()
	svc.publish(waiting)
	err := svc.replaceAll("files changed")
	svc.scaleMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, sup, "default"); code != 200 || body != "not applied yet" {
		t.Errorf("once applied: %d %q", code, body)
	}
}

// TestAnEditIsLoggedBeforeItsBuild edits a Go service: the service log
// says which file changed before the build's lines, appdeck's own lines
// (the command it runs, the result) are its own, and only the compiler's
// output is tagged stderr.
func TestAnEditIsLoggedBeforeItsBuild(t *testing.T) {
	requireTools(t, "go")
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	writeFile(t, main, goApp("one"))
	sup := newSupervisor(t, Options{Watch: true}, &config.Service{Name: "default", Runtime: "go125", Dir: dir, Scaling: manual(1)})
	waitFor(t, "ready", 60*time.Second, stateIs(sup, "default", "0", Ready))
	logs := sup.Logs("default", "")
	from := logs.Next()
	writeFile(t, main, "package main\n\nfunc main() { broken() }\n")
	waitFor(t, "build-failed", 60*time.Second, stateIs(sup, "default", "0", BuildFailed))
	var lines []string
	for _, l := range logs.Since(from, 100) {
		lines = append(lines, l.Stream.String()+" "+l.Text)
	}
	got := strings.Join(lines, "\n")
	want := regexp.MustCompile(`^appdeck files changed: main.go
appdeck go build -o \S+ main.go
stderr # command-line-arguments
stderr ./main.go:3:15: undefined: broken
appdeck build failed: `)
	if !want.MatchString(got) {
		t.Errorf("service log after the edit:\n%s\nwant it to match:\n%s", got, want)
	}
}

// hitsApp appends a line to ./hits, in its own directory, on every
// request — /_ah/start included.
const hitsApp = `import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        with open("hits", "a") as f:
            f.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`

// TestAnAppWritingItsOwnDirectoryDoesNotRestartForever runs a basic
// service whose /_ah/start writes a file in the app directory: each
// restart wrote it again and restarted the service, forever. appdeck
// notices, says which file and what to do, and stops reacting to it;
// other files still restart the service.
func TestAnAppWritingItsOwnDirectoryDoesNotRestartForever(t *testing.T) {
	requireTools(t, "python3")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.py"), hitsApp)
	sup := newSupervisor(t, Options{Watch: true}, &config.Service{Name: "hits", Dir: dir, Entrypoint: "exec python3 -u app.py",
		Scaling: config.Scaling{Kind: config.Basic, Basic: config.BasicScaling{MaxInstances: 1, IdleTimeout: time.Hour}}})
	ev := record(t, sup)
	waitFor(t, "watching", 10*time.Second, func() bool { return serviceInfo(sup, "hits").Watching })
	if code, _ := fetch(front(t, sup, "hits") + "/"); code != 200 {
		t.Fatalf("first request: %d", code)
	}
	waitFor(t, "the warning", 30*time.Second, func() bool {
		return len(ev.matching(func(e Event) bool { return e.Kind == Notice && strings.Contains(e.Reason, "an instance writes it") })) > 0
	})
	warning := ev.matching(func(e Event) bool { return e.Kind == Notice && strings.Contains(e.Reason, "an instance writes it") })[0].Reason
	for _, want := range []string{"hits changed right after each of the last 3 restarts", "skip_files", "--watch-ignore '^hits$'"} {
		if !strings.Contains(warning, want) {
			t.Errorf("warning %q lacks %q", warning, want)
		}
	}
	if log := readLog(sup, "hits", ""); !strings.Contains(log, "files changed: hits\n") {
		t.Errorf("the service log does not name the file:\n%s", log)
	}
	restarts := instanceInfo(sup, "hits", "0").Restarts
	time.Sleep(time.Second) // the loop restarted the service every few hundred milliseconds
	if n := instanceInfo(sup, "hits", "0").Restarts; n != restarts {
		t.Errorf("%d more restarts after the warning", n-restarts)
	}
	if n := len(ev.matching(func(e Event) bool { return e.Kind == Notice && strings.Contains(e.Reason, "an instance writes it") })); n != 1 {
		t.Errorf("%d warnings, want one", n)
	}
	// A change of the app's code still restarts it.
	writeFile(t, filepath.Join(dir, "app.py"), hitsApp+"\n")
	waitFor(t, "restarted for app.py", 30*time.Second, func() bool { return instanceInfo(sup, "hits", "0").Restarts > restarts })
	time.Sleep(time.Second)
	if n := instanceInfo(sup, "hits", "0").Restarts; n != restarts+1 {
		t.Errorf("%d restarts for one change of app.py", n-restarts)
	}
}
