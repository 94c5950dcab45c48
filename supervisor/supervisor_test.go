package supervisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
)

func requireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

// pyServer is an entrypoint that serves HTTP on $PORT and says which
// instance it is.
const pyServer = `exec python3 -c '
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("instance " + os.environ["GAE_INSTANCE"]).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
print("listening", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
'`

func newTestSupervisor(t *testing.T, grace time.Duration, svcs ...*config.Service) *Supervisor {
	t.Helper()
	for _, s := range svcs {
		if s.Dir == "" {
			s.Dir = t.TempDir()
		}
		if s.Runtime == "" {
			s.Runtime = "custom"
		}
		if s.Scaling.Kind == config.Automatic && s.Scaling.Automatic.MaxConcurrentRequests == 0 {
			s.Scaling.Automatic.MaxConcurrentRequests = 10
		}
	}
	sup, err := New(Options{
		App:          &config.App{Services: svcs},
		CacheDir:     t.TempDir(),
		Grace:        grace,
		ReadyTimeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	sup.Start()
	t.Cleanup(sup.Stop)
	return sup
}

func manual(n int) config.Scaling {
	return config.Scaling{Kind: config.Manual, Manual: config.ManualScaling{Instances: n}}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func instanceInfo(sup *Supervisor, service, id string) InstanceInfo {
	for _, s := range sup.Snapshot() {
		for _, in := range s.Instances {
			if s.Name == service && in.ID == id {
				return in
			}
		}
	}
	return InstanceInfo{}
}

func stateIs(sup *Supervisor, service, id string, st State) func() bool {
	return func() bool { return instanceInfo(sup, service, id).State == st }
}

func get(t *testing.T, sup *Supervisor, service string) (int, string) {
	t.Helper()
	lease, err := sup.Pool(service).Acquire(context.Background())
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	rec := httptest.NewRecorder()
	lease.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	lease.Done(proxy.Outcome{Status: rec.Code})
	return rec.Code, rec.Body.String()
}

// alive reports whether pid is a live process: a zombie, dead but not yet
// reaped by init, does not count.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	state := strings.Fields(string(rest))[0]
	return state != "Z" && state != "X"
}

func portFree(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 200*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err != nil
}

func TestServesAndStopsCleanly(t *testing.T) {
	requireTools(t, "python3")
	sup := newTestSupervisor(t, 2*time.Second, &config.Service{Name: "web", Entrypoint: pyServer, Scaling: manual(2)})
	for _, id := range []string{"0", "1"} {
		waitFor(t, "web/"+id+" ready", 20*time.Second, stateIs(sup, "web", id, Ready))
	}
	code, body := get(t, sup, "web")
	if code != 200 || !strings.HasPrefix(body, "instance ") {
		t.Fatalf("got %d %q, want 200 from an instance", code, body)
	}
	logs := sup.Logs("web", "0")
	waitFor(t, "the app's stdout in the log", 5*time.Second, func() bool {
		for _, l := range logs.Tail(50) {
			if l.Stream == Stdout && l.Text == "listening" {
				return true
			}
		}
		return false
	})
	a, b := instanceInfo(sup, "web", "0"), instanceInfo(sup, "web", "1")
	sup.Stop()
	for _, in := range []InstanceInfo{a, b} {
		if alive(in.PID) {
			t.Errorf("pid %d still alive after Stop", in.PID)
		}
		if !portFree(in.Port) {
			t.Errorf("port %d still accepts connections after Stop", in.Port)
		}
	}
}

func TestStopKillsGrandchildrenAndIgnorersOfSIGTERM(t *testing.T) {
	requireTools(t, "python3")
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The shell ignores SIGTERM and leaves a background grandchild behind;
	// both must still be gone after the grace period.
	ep := fmt.Sprintf(`exec sh -c 'trap "" TERM; sleep 300 & echo $! > %s; %s'`,
		pidFile, strings.ReplaceAll(strings.TrimPrefix(pyServer, "exec "), "'", `'"'"'`))
	grace := 300 * time.Millisecond
	sup := newTestSupervisor(t, grace, &config.Service{Name: "web", Entrypoint: ep, Scaling: manual(1)})
	waitFor(t, "ready", 20*time.Second, stateIs(sup, "web", "0", Ready))
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	grandchild, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	in := instanceInfo(sup, "web", "0")
	start := time.Now()
	sup.Stop()
	if took := time.Since(start); took < grace || took > grace+5*time.Second {
		t.Errorf("stop took %s; want the grace period (%s), then SIGKILL at once", took, grace)
	}
	// SIGKILL is sent to the group before Stop returns; on a loaded
	// machine a process may take a moment to act on it.
	for _, pid := range []int{in.PID, grandchild} {
		waitFor(t, fmt.Sprintf("pid %d gone after Stop", pid), 2*time.Second, func() bool { return !alive(pid) })
	}
}

func TestCrashLoopBacksOffAndStopIsFinal(t *testing.T) {
	sup := newTestSupervisor(t, time.Second, &config.Service{Name: "bad",
		Entrypoint: "exec sh -c 'echo boom >&2; exit 3'", Scaling: manual(1)})
	waitFor(t, "two restarts", 10*time.Second, func() bool { return instanceInfo(sup, "bad", "0").Restarts >= 2 })
	in := instanceInfo(sup, "bad", "0")
	if in.State != Backoff && in.State != Starting && in.State != Crashed {
		t.Errorf("state %s, want a crash-loop state", in.State)
	}
	_, err := sup.Pool("bad").Acquire(context.Background())
	if err == nil {
		t.Fatal("acquire succeeded on a crashing service")
	}
	if !strings.Contains(err.Error(), "crashed") && !strings.Contains(err.Error(), "starting") {
		t.Errorf("acquire error %q does not say the instance crashed", err)
	}
	if err := sup.StopInstance("bad", "0"); err != nil {
		t.Fatalf("stop: %v", err)
	}
	restarts := instanceInfo(sup, "bad", "0").Restarts
	time.Sleep(1500 * time.Millisecond) // longer than the next backoff step
	in = instanceInfo(sup, "bad", "0")
	if in.State != Stopped || in.Restarts != restarts {
		t.Errorf("after a manual stop: state %s restarts %d→%d, want stopped with no more restarts", in.State, restarts, in.Restarts)
	}
}

func TestRestartAndKillByHand(t *testing.T) {
	requireTools(t, "python3")
	sup := newTestSupervisor(t, 2*time.Second, &config.Service{Name: "web", Entrypoint: pyServer, Scaling: manual(1)})
	waitFor(t, "ready", 20*time.Second, stateIs(sup, "web", "0", Ready))
	old := instanceInfo(sup, "web", "0").PID
	if err := sup.Restart("web", "0"); err != nil {
		t.Fatal(err)
	}
	// Restart returns once the new process serves; the old one drains.
	in := instanceInfo(sup, "web", "0")
	if in.State != Ready || in.PID == old || in.Restarts != 1 {
		t.Errorf("after restart: %s, pid %d (old %d), restarts %d", in.State, in.PID, old, in.Restarts)
	}
	waitFor(t, "the old process gone", 10*time.Second, func() bool { return !alive(old) })
	killed := in.PID
	if err := sup.Kill("web", "0"); err != nil {
		t.Fatal(err)
	}
	if in := instanceInfo(sup, "web", "0"); in.State != Stopped || alive(killed) {
		t.Errorf("after kill: state %s, pid %d alive %v", in.State, killed, alive(killed))
	}
	// Refusals say why in a few words, and are of their kind.
	expectErr := func(err error, kind error, msg string) {
		t.Helper()
		if !errors.Is(err, kind) || err == nil || err.Error() != msg {
			t.Errorf("got error %v, want %q (%v)", err, msg, kind)
		}
	}
	expectErr(sup.StopInstance("web", "0"), ErrConflict, "web/0 is already stopped")
	expectErr(sup.Restart("web", "nope"), ErrNotFound, "no instance web/nope")
	expectErr(sup.Kill("nosuch", "0"), ErrNotFound, `no service "nosuch"`)
	expectErr(sup.Scale("nosuch", 1), ErrNotFound, `no service "nosuch"`)
	if err := sup.StartInstance("web", "0"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ready after start", 20*time.Second, stateIs(sup, "web", "0", Ready))
	expectErr(sup.StartInstance("web", "0"), ErrConflict, "web/0 is already running")
}

func TestExitBeforeListeningFailsFast(t *testing.T) {
	sup := newTestSupervisor(t, time.Second, &config.Service{Name: "web",
		Entrypoint: "exec sh -c 'echo cannot bind >&2; sleep 0.2; exit 1'", Scaling: manual(1)})
	start := time.Now()
	waitFor(t, "crash noticed", 5*time.Second, func() bool {
		return strings.Contains(instanceInfo(sup, "web", "0").Reason, "exited before listening")
	})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %s to notice the exit", took)
	}
}

func TestScaleUpAndDown(t *testing.T) {
	requireTools(t, "python3")
	sup := newTestSupervisor(t, 2*time.Second, &config.Service{Name: "web", Entrypoint: pyServer, Scaling: manual(1)})
	waitFor(t, "ready", 20*time.Second, stateIs(sup, "web", "0", Ready))
	if err := sup.Scale("web", 3); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2"} {
		waitFor(t, "web/"+id+" ready", 20*time.Second, stateIs(sup, "web", id, Ready))
	}
	gone := instanceInfo(sup, "web", "2").PID
	if err := sup.Scale("web", 1); err != nil {
		t.Fatal(err)
	}
	if n := len(sup.Snapshot()[0].Instances); n != 1 {
		t.Errorf("%d instances after scaling to 1", n)
	}
	if alive(gone) {
		t.Errorf("removed instance's pid %d still alive", gone)
	}
	if err := sup.Scale("web", MaxScale+1); err == nil {
		t.Error("scaling past the limit succeeded")
	}
}

func TestGoBuildFailureServesErrorPageUntilRebuild(t *testing.T) {
	requireTools(t, "go")
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	if err := os.WriteFile(main, []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sup := newTestSupervisor(t, time.Second, &config.Service{Name: "default", Runtime: "go125", Dir: dir, Scaling: manual(2)})
	waitFor(t, "build-failed", 60*time.Second, stateIs(sup, "default", "0", BuildFailed))
	waitFor(t, "build-failed", 10*time.Second, stateIs(sup, "default", "1", BuildFailed))
	// Stopped by hand while its build is failed: a good build does not
	// bring it back.
	if err := sup.StopInstance("default", "1"); err != nil {
		t.Fatalf("stopping a build-failed instance: %v", err)
	}
	code, body := get(t, sup, "default")
	if code != 500 || !strings.Contains(body, "The Go application could not be built.") || !strings.Contains(body, "main.go:3:15: undefined: undefinedThing") {
		t.Fatalf("got %d:\n%s", code, body)
	}
	if out := sup.Snapshot()[0].BuildOutput; !strings.Contains(out, "main.go:3:15") {
		t.Errorf("build output kept for the dashboard: %q", out)
	}
	if why := instanceInfo(sup, "default", "0").Reason; why != "The Go application could not be built." {
		t.Errorf("instance reason %q, want the error page's heading", why)
	}
	good := `package main

import (
	"net/http"
	"os"
)

func main() {
	http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("built " + os.Getenv("GAE_SERVICE")))
	}))
}
`
	if err := os.WriteFile(main, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sup.Rebuild("default"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ready after rebuild", 60*time.Second, stateIs(sup, "default", "0", Ready))
	if code, body := get(t, sup, "default"); code != 200 || body != "built default" {
		t.Fatalf("after rebuild got %d %q", code, body)
	}
	if sup.Snapshot()[0].BuildErr != "" {
		t.Error("build error still reported after a good build")
	}
	if st := instanceInfo(sup, "default", "1").State; st != Stopped {
		t.Errorf("instance stopped by hand is %s after a good build, want stopped", st)
	}

	// Rebuild with nothing changed is a forced build, and says so.
	logs := sup.Logs("default", "")
	from, pid := logs.Next(), instanceInfo(sup, "default", "0").PID
	if err := sup.Rebuild("default"); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range logs.Since(from, 100) {
		lines = append(lines, l.Text)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{"rebuilding by hand: a forced build", "sources unchanged since the last build; building anyway, as asked", "go build -o ", "built in "} {
		if !strings.Contains(got, want) {
			t.Errorf("log of a rebuild of unchanged sources lacks %q:\n%s", want, got)
		}
	}
	if in := instanceInfo(sup, "default", "0"); in.State != Ready || in.PID == pid {
		t.Errorf("after the rebuild: %s, pid %d (was %d); want a new process, ready", in.State, in.PID, pid)
	}
}

// slowStopApp is a Go service that answers with version and takes 300 ms
// to exit on SIGTERM, as an app closing its connections does.
func slowStopApp(version string) string {
	return fmt.Sprintf(`package main

import (
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() { <-term; time.Sleep(300 * time.Millisecond); os.Exit(0) }()
	http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(%q))
	}))
}
`, version)
}

// TestAFailedBuildAddsNoInstance breaks and fixes the build of an
// automatic service that keeps one idle instance: its one instance goes
// to build-failed (draining and stopped on the way) and back, and the
// scaler adds none meanwhile.
func TestAFailedBuildAddsNoInstance(t *testing.T) {
	requireTools(t, "go")
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	writeFile(t, main, slowStopApp("v1"))
	sup := newSupervisor(t, Options{}, &config.Service{Name: "default", Runtime: "go125", Dir: dir,
		Scaling: config.Scaling{Kind: config.Automatic, Automatic: config.AutomaticScaling{
			MaxConcurrentRequests: 10, MaxInstances: 5, MinIdleInstances: 1, MaxIdleInstances: 1000,
			MinPendingLatency: 100 * time.Millisecond, MaxPendingLatency: 500 * time.Millisecond}}})
	ev := record(t, sup)
	waitFor(t, "ready", 60*time.Second, stateIs(sup, "default", "0", Ready))
	starts := len(scalingEvents(ev, "starting"))

	writeFile(t, main, "package main\n\nfunc main() { x := }\n")
	if err := sup.Rebuild("default"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "build-failed", 10*time.Second, stateIs(sup, "default", "0", BuildFailed))
	time.Sleep(500 * time.Millisecond) // a scaler that reacts to the draining instance has done so
	if n := len(serviceInfo(sup, "default").Instances); n != 1 {
		t.Errorf("%d instances once the build failed, want the one", n)
	}
	writeFile(t, main, slowStopApp("v2"))
	if err := sup.Rebuild("default"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ready on the fix", 60*time.Second, stateIs(sup, "default", "0", Ready))
	if n := len(serviceInfo(sup, "default").Instances); n != 1 {
		t.Errorf("%d instances after the fix, want the one", n)
	}
	if got := scalingEvents(ev, "starting")[starts:]; len(got) != 0 {
		t.Errorf("the scaler started instances around a failed build: %+v", got)
	}
	// Last: a request in flight leaves no idle instance, and the scaler
	// rightly starts one for min_idle_instances.
	if code, body := get(t, sup, "default"); code != 200 || body != "v2" {
		t.Errorf("after the fix: %d %q", code, body)
	}
}
