package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopLoggingAppPy serves HTTP on $PORT, answers /_ah/stop, takes a
// second over /slow, and prints a line when SIGTERM comes, as an app that
// reports its own shutdown does.
const stopLoggingAppPy = `import http.server, os, signal, sys, time
def term(*a):
    print("SIGTERM received inst=" + os.environ.get("GAE_INSTANCE", "?"), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print("app saw " + self.path, flush=True)
        if self.path == "/slow":
            time.sleep(1)
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`

// TestHeadlessPrintsTheStop: after "stopping", headless output goes on
// through the stop of the instances (the access line of a request in
// flight, /_ah/stop, what the app prints on SIGTERM) and ends with
// "stopped": a CI log shows why a stop went wrong, not only the --log-dir
// files.
func TestHeadlessPrintsTheStop(t *testing.T) {
	dir := ctlApp(t) // skips without python3
	app := filepath.Join(dir, "web")
	writeFile(t, filepath.Join(app, "app.yaml"), "runtime: python312\nentrypoint: python3 -u app.py\nmanual_scaling:\n  instances: 1\n")
	writeFile(t, filepath.Join(app, "app.py"), stopLoggingAppPy)
	d := startDeck(t, app, "--headless", "--no-color", "--port", "0", "--admin-port", "0", "--no-watch", "--grace", "10s")
	d.mustCtl("wait", "--ready", "--timeout", "90s")
	slow := make(chan error, 1)
	go func() {
		_, _, err := getBody(d.status()["default"].URL + "/slow")
		slow <- err
	}()
	d.waitOutput("default/0 | app saw /slow\n")
	d.stop()
	if err := <-slow; err != nil {
		t.Errorf("the request in flight at the stop: %v", err)
	}
	out := d.out.String()
	_, after, ok := strings.Cut(out, "appdeck: stopping (press Ctrl-C again to kill at once)\n")
	if !ok {
		t.Fatalf("no \"stopping\" line in the output:\n%s", out)
	}
	if !strings.Contains(after, "default/0 | [request] GET /slow 200") {
		t.Errorf("no access line for the request in flight after \"stopping\"; output:\n%s", out)
	}
	last := -1
	for _, want := range []string{
		"default/0 | app saw /_ah/stop\n",
		"default/0 | [appdeck] GET /_ah/stop → 200",
		"default/0 | SIGTERM received inst=0\n",
		"appdeck: stopped\n",
	} {
		i := strings.Index(after, want)
		if i < 0 {
			t.Errorf("no %q after \"stopping\"; output:\n%s", want, out)
			continue
		}
		if i < last {
			t.Errorf("%q comes too early; output:\n%s", want, out)
		}
		last = i
	}
	if !strings.HasSuffix(out, "appdeck: stopped\n") {
		t.Errorf("the output does not end with \"appdeck: stopped\":\n%s", out)
	}
}

// TestHeadlessSecondSignalKills: while the printer follows the stop, a
// second signal still kills every instance at once.
func TestHeadlessSecondSignalKills(t *testing.T) {
	dir := t.TempDir()
	// An instance that ignores SIGTERM holds the graceful stop for --grace.
	writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: custom\nentrypoint: sh -c 'trap \"\" TERM; exec python3 -m http.server $PORT'\n")
	d := startDeck(t, dir, "--headless", "--port", "0", "--admin-port", "0", "--no-watch", "--grace", "120s")
	d.mustCtl("wait", "--ready", "--timeout", "90s")
	d.signal(syscall.SIGTERM)
	d.waitOutput("appdeck: stopping")
	d.signal(syscall.SIGINT)
	_ = d.exited("a second signal", 60*time.Second) // long before --grace
	if code := d.cmd.ProcessState.ExitCode(); code != exitFailure || !strings.Contains(d.errs.String(), "appdeck: killed every instance") {
		t.Errorf("exit %d after a second signal, want 1 and \"killed every instance\"; output:\n%s%s", code, d.out.String(), d.errs.String())
	}
}

// waitOutput waits until appdeck's stdout holds want.
func (d *deck) waitOutput(want string) {
	d.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(d.out.String(), want); {
		if time.Now().After(deadline) {
			d.t.Fatalf("no %q in the output:\n%s%s", want, d.out.String(), d.errs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
