package supervisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
)

func TestCrashMidRequestAnswers502WithStderrAndRestarts(t *testing.T) {
	svc, _ := pyService(t, "web", manual(1))
	sup := newSupervisor(t, Options{}, svc)
	url := front(t, sup, "web")
	waitFor(t, "ready", 20*time.Second, stateIs(sup, "web", "0", Ready))
	pid := instanceInfo(sup, "web", "0").PID

	code, body := fetch(url + "/crash")
	if code != 502 {
		t.Fatalf("request on a crashing instance: %d, want 502:\n%s", code, body)
	}
	for _, want := range []string{"exit status 3", "about to crash: the database is on fire"} {
		if !strings.Contains(body, want) {
			t.Errorf("502 page lacks %q:\n%s", want, body)
		}
	}
	// Out of rotation at once, back after the backoff.
	waitFor(t, "backoff", 5*time.Second, func() bool {
		in := instanceInfo(sup, "web", "0")
		return in.State == Backoff || in.Restarts > 0
	})
	waitFor(t, "ready again", 20*time.Second, func() bool {
		in := instanceInfo(sup, "web", "0")
		return in.State == Ready && in.PID != pid
	})
	in := instanceInfo(sup, "web", "0")
	if !strings.Contains(in.LastError, "exit status 3") || !strings.Contains(in.LastError, "database is on fire") {
		t.Errorf("last error %q", in.LastError)
	}
	var path []string
	for _, tr := range in.History {
		path = append(path, tr.To.String())
		if tr.Time.IsZero() {
			t.Errorf("transition without a time: %+v", tr)
		}
	}
	if got := strings.Join(path, " "); !strings.Contains(got, "ready crashed backoff starting") {
		t.Errorf("history %q lacks the crash and restart", got)
	}
	if code, body := fetch(url + "/"); code != 200 {
		t.Errorf("after the restart: %d %s", code, body)
	}
}

// TestReplacedProcessLeavesNoConnections checks that the connections the
// front keeps alive to a process are closed once a restart has replaced it
// and it has drained: the fast path's pool never reads an idle connection,
// so without Close each would stay open after the process is gone, until
// a garbage collection finalizes it; the test turns collection off so
// that only Close can close them.
func TestReplacedProcessLeavesNoConnections(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	svc, _ := pyService(t, "web", manual(1))
	sup := newSupervisor(t, Options{}, svc)
	url := fastFront(t, sup, "web")
	waitFor(t, "ready", 20*time.Second, stateIs(sup, "web", "0", Ready))
	old := instanceInfo(sup, "web", "0")
	var wg sync.WaitGroup
	for range 4 { // at once, so that the pool keeps more than one
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := fetch(url + "/?ms=50"); code != 200 {
				t.Errorf("before the restart: %d %s", code, body)
			}
		}()
	}
	wg.Wait()
	waitFor(t, "connections kept alive to the instance", 10*time.Second, func() bool { return connsTo(t, old.Port) > 0 })
	if err := sup.Restart("web", "0"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the old process gone", 10*time.Second, func() bool { return !alive(old.PID) })
	waitFor(t, fmt.Sprintf("no connection left to the old port %d", old.Port), 10*time.Second,
		func() bool { return connsTo(t, old.Port) == 0 })
	if code, body := fetch(url + "/"); code != 200 {
		t.Errorf("after the restart: %d %s", code, body)
	}
}

func TestCrashLoopWaitsLongerEachTimeAndStaysCheap(t *testing.T) {
	sup := newSupervisor(t, Options{}, &config.Service{Name: "bad", Dir: t.TempDir(),
		Entrypoint: "exec sh -c 'echo cannot start >&2; exit 3'", Scaling: manual(1)})
	ev := record(t, sup)
	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	crashes := func() []Event {
		return ev.matching(func(e Event) bool { return e.Kind == StateChanged && e.State == Crashed })
	}
	waitFor(t, "four crashes", 20*time.Second, func() bool { return len(crashes()) >= 4 })
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	wall := time.Since(start)
	// The wait from each crash to the next launch doubles: 0.5 s, 1 s, 2 s.
	launches := ev.matching(func(e Event) bool { return e.Kind == StateChanged && e.Reason == "launching" })
	want := backoffMin
	for _, c := range crashes()[:3] {
		var next time.Time
		for _, l := range launches {
			if l.Time.After(c.Time) {
				next = l.Time
				break
			}
		}
		if wait := next.Sub(c.Time); wait < want {
			t.Errorf("restart %s after a crash, want at least %s", wait, want)
		}
		want *= 2
	}
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	if cpu > wall/5 {
		t.Errorf("appdeck used %s of CPU in %s of crash loop", cpu, wall)
	}
	in := instanceInfo(sup, "bad", "0")
	if in.State == Backoff && time.Until(in.NextTry) > backoffMax {
		t.Errorf("next try %s away, past the cap", time.Until(in.NextTry))
	}
	if !strings.Contains(in.LastError, "cannot start") {
		t.Errorf("last error %q lacks the stderr line", in.LastError)
	}
}

func TestStartWarmupAndStopRequestsComeFromAppEngine(t *testing.T) {
	man, manLog := pyService(t, "man", manual(1))
	auto, autoLog := pyService(t, "auto", config.Scaling{Kind: config.Automatic, Automatic: config.AutomaticScaling{
		MaxConcurrentRequests: 10, MaxInstances: 2, MinIdleInstances: 1, MaxIdleInstances: 1000,
		MinPendingLatency: 100 * time.Millisecond, MaxPendingLatency: 500 * time.Millisecond}})
	auto.InboundServices = []string{"warmup"}
	cold, coldLog := pyService(t, "cold", config.Scaling{Kind: config.Automatic, Automatic: config.AutomaticScaling{
		MaxConcurrentRequests: 10, MaxInstances: 2, MaxIdleInstances: 1000,
		MinPendingLatency: 100 * time.Millisecond, MaxPendingLatency: 500 * time.Millisecond}})
	sup := newSupervisor(t, Options{}, man, auto, cold)
	waitFor(t, "man ready", 20*time.Second, stateIs(sup, "man", "0", Ready))
	waitFor(t, "auto ready", 20*time.Second, stateIs(sup, "auto", "0", Ready))
	if got := readFile(t, manLog); got != "0 /_ah/start 0.1.0.3\n" {
		t.Errorf("manual scaling: requests before any user request %q, want /_ah/start from 0.1.0.3", got)
	}
	if got := readFile(t, autoLog); got != "0 /_ah/warmup 0.1.0.3\n" {
		t.Errorf("automatic scaling with warmup: %q, want /_ah/warmup from 0.1.0.3", got)
	}
	// An instance started for a waiting request gets no warmup.
	if code, _ := fetch(front(t, sup, "cold") + "/hi"); code != 200 {
		t.Fatalf("cold start: %d", code)
	}
	if got := readFile(t, coldLog); got != "0 /hi -\n" {
		t.Errorf("on-demand instance: %q, want only the request", got)
	}
	// Stopping a manual instance tells it first.
	if err := sup.StopInstance("man", "0"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, manLog); !strings.HasSuffix(got, "0 /_ah/stop 0.1.0.3\n") {
		t.Errorf("stop: %q, want /_ah/stop last", got)
	}
}

func TestBasicScalingStartsOnRequestAndStopsWhenIdle(t *testing.T) {
	svc, reqlog := pyService(t, "lazy", config.Scaling{Kind: config.Basic,
		Basic: config.BasicScaling{MaxInstances: 2, IdleTimeout: 1500 * time.Millisecond}})
	sup := newSupervisor(t, Options{}, svc)
	ev := record(t, sup)
	url := front(t, sup, "lazy")
	time.Sleep(300 * time.Millisecond)
	if n := len(serviceInfo(sup, "lazy").Instances); n != 0 {
		t.Fatalf("%d instances before any request; basic scaling starts them on demand", n)
	}
	if code, body := fetch(url + "/first"); code != 200 || body != "instance 0" {
		t.Fatalf("first request: %d %q", code, body)
	}
	if got := readFile(t, reqlog); got != "0 /_ah/start 0.1.0.3\n0 /first -\n" {
		t.Errorf("requests %q, want /_ah/start then the request", got)
	}
	waitFor(t, "idle instance removed", 15*time.Second, func() bool { return len(serviceInfo(sup, "lazy").Instances) == 0 })
	if got := readFile(t, reqlog); !strings.HasSuffix(got, "0 /_ah/stop 0.1.0.3\n") {
		t.Errorf("requests %q, want /_ah/stop before the stop", got)
	}
	stops := scalingEvents(ev, "stopping")
	if len(stops) != 1 || !strings.Contains(stops[0].Reason, "idle_timeout") {
		t.Errorf("scaling events %+v", stops)
	}
	// The next request starts a new instance.
	if code, body := fetch(url + "/again"); code != 200 || body != "instance 1" {
		t.Errorf("request after the idle stop: %d %q", code, body)
	}
}

func TestAutomaticScalingAddsInstancesUnderLoadAndRemovesThemIdle(t *testing.T) {
	svc, _ := pyService(t, "auto", config.Scaling{Kind: config.Automatic, Automatic: config.AutomaticScaling{
		MaxConcurrentRequests: 2, MinInstances: 1, MaxInstances: 3, MinIdleInstances: 0, MaxIdleInstances: 0,
		MinPendingLatency: 50 * time.Millisecond, MaxPendingLatency: 200 * time.Millisecond}})
	sup := newSupervisor(t, Options{IdleCooldown: 500 * time.Millisecond}, svc)
	ev := record(t, sup)
	url := front(t, sup, "auto")
	waitFor(t, "first instance", 20*time.Second, stateIs(sup, "auto", "0", Ready))

	// Eight slow requests at once: two per instance, so the service
	// grows to its maximum of three and the rest wait in line.
	var wg sync.WaitGroup
	codes := make([]int, 8)
	peak := 0
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				peak = max(peak, liveInstances(sup, "auto"))
			}
		}
	}()
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = fetch(url + "/slow?ms=1500")
		}()
	}
	wg.Wait()
	close(stop)
	<-stopped
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d: %d", i, c)
		}
	}
	if peak != 3 {
		t.Errorf("peak of %d instances, want max_instances 3", peak)
	}
	var forLoad []Event
	for _, e := range scalingEvents(ev, "starting") {
		if strings.Contains(e.Reason, "waited") {
			forLoad = append(forLoad, e)
		}
	}
	if len(forLoad) != 2 || !strings.Contains(forLoad[0].Reason, "min_pending_latency") {
		t.Errorf("start decisions %+v, want two for waiting requests", forLoad)
	}
	waitFor(t, "back to min_instances", 15*time.Second, func() bool { return len(serviceInfo(sup, "auto").Instances) == 1 })
	if stops := scalingEvents(ev, "stopping"); len(stops) != 2 || !strings.Contains(stops[0].Reason, "max_idle_instances") {
		t.Errorf("stop decisions %+v", stops)
	}
}

func TestNoCapacityWithinThePendingTimeoutIs503(t *testing.T) {
	svc, _ := pyService(t, "one", config.Scaling{Kind: config.Automatic, Automatic: config.AutomaticScaling{
		MaxConcurrentRequests: 1, MinInstances: 1, MaxInstances: 5, MinIdleInstances: 0, MaxIdleInstances: 1000,
		MinPendingLatency: 50 * time.Millisecond, MaxPendingLatency: 100 * time.Millisecond}})
	sup := newSupervisor(t, Options{MaxInstances: 1, PendingTimeout: 500 * time.Millisecond}, svc)
	url := front(t, sup, "one")
	waitFor(t, "ready", 20*time.Second, stateIs(sup, "one", "0", Ready))
	slow := make(chan int)
	go func() {
		c, _ := fetch(url + "/slow?ms=3000")
		slow <- c
	}()
	waitFor(t, "slow request in flight", 5*time.Second, func() bool { return instanceInfo(sup, "one", "0").InFlight == 1 })
	start := time.Now()
	code, body := fetch(url + "/")
	if code != 503 || !strings.Contains(body, "stayed busy for 500ms") || !strings.Contains(body, "maximum of 1 instance") {
		t.Errorf("request without capacity: %d\n%s", code, body)
	}
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Errorf("answered after %s, before the pending timeout", waited)
	}
	if c := <-slow; c != 200 {
		t.Errorf("slow request: %d", c)
	}
	if n := len(serviceInfo(sup, "one").Instances); n != 1 {
		t.Errorf("%d instances, past --max-instances 1", n)
	}
}

func TestInstanceNumbersAndLogFiles(t *testing.T) {
	requireTools(t, "python3")
	dir := t.TempDir()
	logDir := filepath.Join(t.TempDir(), "logs")
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(pyApp), 0o644); err != nil {
		t.Fatal(err)
	}
	// A grandchild burns CPU: it must count in the instance's numbers.
	svc := &config.Service{Name: "web", Dir: dir, Scaling: manual(1),
		Entrypoint: "exec sh -c 'sh -c \"while :; do :; done\" & exec python3 -u app.py'"}
	sup := newSupervisor(t, Options{LogDir: logDir}, svc)
	url := front(t, sup, "web")
	waitFor(t, "ready", 20*time.Second, stateIs(sup, "web", "0", Ready))
	for range 20 {
		fetch(url + "/")
	}
	fetch(url + "/missing?ms=20")
	// The front records a request once its response is sent, which may be
	// a moment after the client has read it.
	waitFor(t, "every request counted, CPU and memory read", 10*time.Second, func() bool {
		in := instanceInfo(sup, "web", "0")
		return in.Total == 21 && in.CPU > 30 && in.RSS > 1<<20
	})
	in := instanceInfo(sup, "web", "0")
	if in.Total != 21 || in.ByClass[1] != 21 || in.RPS <= 0 || in.P50 <= 0 || in.P99 < 15*time.Millisecond || in.Capacity != 10 {
		t.Errorf("numbers: total %d by class %v rps %.1f p50 %s p99 %s capacity %d", in.Total, in.ByClass, in.RPS, in.P50, in.P99, in.Capacity)
	}
	// A custom runtime builds nothing: the service's log gets its first
	// line from scaling.
	if err := sup.Scale("web", 1); err != nil {
		t.Fatal(err)
	}
	sup.Stop()
	for _, name := range []string{"web.log", "web-0.log"} {
		data, err := os.ReadFile(filepath.Join(logDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), " appdeck ") {
			t.Errorf("%s has no appdeck lines:\n%s", name, data)
		}
	}
	data, _ := os.ReadFile(filepath.Join(logDir, "web-0.log"))
	if !strings.Contains(string(data), " stdout 0 /missing -") || !strings.Contains(string(data), " appdeck ready") {
		t.Errorf("instance log file:\n%s", data)
	}
}

func TestBadLogDirIsAClearError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(Options{App: &config.App{}, CacheDir: t.TempDir(), LogDir: filepath.Join(file, "logs")})
	if err == nil || !strings.Contains(err.Error(), "--log-dir") {
		t.Errorf("New with a log dir under a file: %v", err)
	}
}

// A process that leaves the instance's group (setsid) is out of reach of
// the group kill, and may hold the instance's output pipes open: stopping
// must not wait for it forever.
func TestStopDoesNotWaitForAProcessThatLeftTheGroup(t *testing.T) {
	requireTools(t, "python3", "setsid")
	svc, _ := pyService(t, "web", manual(1))
	pidFile := filepath.Join(svc.Dir, "escaped.pid")
	svc.Entrypoint = "exec sh -c 'setsid sh -c \"echo \\$\\$ > " + pidFile + "; exec sleep 300\" & exec python3 -u app.py'"
	sup := newSupervisor(t, Options{Grace: time.Second}, svc)
	waitFor(t, "ready", 20*time.Second, stateIs(sup, "web", "0", Ready))
	waitFor(t, "escaped pid", 5*time.Second, func() bool { return readFile(t, pidFile) != "" })
	escaped := 0
	fmt.Sscan(readFile(t, pidFile), &escaped)
	t.Cleanup(func() { _ = syscall.Kill(escaped, syscall.SIGKILL) })
	start := time.Now()
	sup.Stop()
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Stop took %s with an escaped process holding the pipes", took)
	}
	if !strings.Contains(readLog(sup, "web", "0"), "left the instance's process group") {
		t.Errorf("no warning about the escaped process in the log:\n%s", readLog(sup, "web", "0"))
	}
}

func readLog(sup *Supervisor, service, id string) string {
	var b strings.Builder
	for _, l := range sup.Logs(service, id).Tail(100) {
		b.WriteString(l.Text + "\n")
	}
	return b.String()
}

// TestRoomGoesToWaitersInArrivalOrder checks that when every slot of an
// instance is taken, each slot given back goes to the request that has
// waited longest.
func TestRoomGoesToWaitersInArrivalOrder(t *testing.T) {
	requireTools(t, "python3")
	sup := newTestSupervisor(t, 2*time.Second, &config.Service{Name: "web", Entrypoint: pyServer, Scaling: manual(1)})
	waitFor(t, "ready", 20*time.Second, stateIs(sup, "web", "0", Ready))
	svc := sup.service("web")
	var held []*proxy.Lease
	for range svc.conf().Capacity() {
		l, err := svc.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
	}
	waiting := func() int {
		svc.mu.Lock()
		defer svc.mu.Unlock()
		return svc.waiters.Len()
	}
	const waiters = 5
	type turn struct {
		waiter int
		lease  *proxy.Lease
	}
	got := make(chan turn, waiters)
	for i := range waiters {
		go func() {
			l, err := svc.Acquire(context.Background())
			if err != nil {
				t.Errorf("waiter %d: %v", i, err)
			}
			got <- turn{i, l}
		}()
		waitFor(t, fmt.Sprintf("waiter %d in line", i), 10*time.Second, func() bool { return waiting() == i+1 })
	}
	for i := range waiters {
		held[i].Done(proxy.Outcome{Status: 200})
		tn := <-got
		if tn.waiter != i || tn.lease == nil {
			t.Fatalf("slot %d went to waiter %d, want %d", i, tn.waiter, i)
		}
		held[i] = tn.lease // kept until the end, so that it frees no slot
	}
	for _, l := range held {
		l.Done(proxy.Outcome{Status: 200})
	}
	waitFor(t, "every slot back", 10*time.Second, func() bool { return instanceInfo(sup, "web", "0").InFlight == 0 })
}

// stopApp logs each request to $REQLOG as "service/instance path". It
// answers /_ah/stop only once $STOPS of them have come (or after 4 s),
// and logs how many had: all of them if they were sent at once.
const stopApp = `import http.server, os, time
log, name = os.environ["REQLOG"], os.environ["GAE_SERVICE"] + "/" + os.environ["GAE_INSTANCE"]
def note(line):
    with open(log, "a") as f:
        f.write(name + " " + line + "\n")
def stops():
    with open(log) as f:
        return f.read().count(" /_ah/stop\n")
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        note(self.path)
        if self.path == "/_ah/stop":
            deadline = time.time() + 4
            while stops() < int(os.environ["STOPS"]) and time.time() < deadline:
                time.sleep(0.01)
            note("answered /_ah/stop with %d in" % stops())
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`

// TestStopWaitsForASlowStopHandler: /_ah/stop gets App Engine's shutdown
// period, not only --grace, so an app that flushes its work there for
// longer than --grace finishes it.
func TestStopWaitsForASlowStopHandler(t *testing.T) {
	requireTools(t, "python3")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.py"), stopApp)
	reqlog := filepath.Join(dir, "requests.log")
	// STOPS 2 with one instance: /_ah/stop answers after its 4 s wait.
	env := []config.EnvVar{{Name: "REQLOG", Value: reqlog}, {Name: "STOPS", Value: "2"}}
	sup := newSupervisor(t, Options{Grace: time.Second},
		&config.Service{Name: "man", Dir: dir, Entrypoint: "exec python3 -u app.py", Env: env, Scaling: manual(1)})
	waitFor(t, "man/0 ready", 20*time.Second, stateIs(sup, "man", "0", Ready))
	if err := sup.StopInstance("man", "0"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, reqlog); !strings.Contains(got, "man/0 answered /_ah/stop with 1 in\n") {
		t.Errorf("the slow /_ah/stop was cut off by --grace 1s; requests:\n%s", got)
	}
}

// TestShutdownSendsStopToEveryManualAndBasicInstanceAtOnce stops appdeck
// with two manual-scaling instances and a basic-scaling one running: each
// gets GET /_ah/stop, all at once, as `appdeck ctl stop` would send it.
func TestShutdownSendsStopToEveryManualAndBasicInstanceAtOnce(t *testing.T) {
	requireTools(t, "python3")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.py"), stopApp)
	reqlog := filepath.Join(dir, "requests.log")
	env := []config.EnvVar{{Name: "REQLOG", Value: reqlog}, {Name: "STOPS", Value: "3"}}
	man := &config.Service{Name: "man", Dir: dir, Entrypoint: "exec python3 -u app.py", Env: env, Scaling: manual(2)}
	lazy := &config.Service{Name: "lazy", Dir: dir, Entrypoint: "exec python3 -u app.py", Env: env,
		Scaling: config.Scaling{Kind: config.Basic, Basic: config.BasicScaling{MaxInstances: 1, IdleTimeout: time.Hour}}}
	sup := newSupervisor(t, Options{Grace: 5 * time.Second}, man, lazy)
	if code, _ := fetch(front(t, sup, "lazy") + "/hi"); code != 200 {
		t.Fatalf("request to the basic service: %d", code)
	}
	for _, id := range []string{"0", "1"} {
		waitFor(t, "man/"+id+" ready", 20*time.Second, stateIs(sup, "man", id, Ready))
	}
	sup.Stop()
	got := readFile(t, reqlog)
	for _, name := range []string{"man/0", "man/1", "lazy/0"} {
		if !strings.Contains(got, name+" /_ah/stop\n") {
			t.Errorf("%s got no /_ah/stop on shutdown", name)
		}
		if !strings.Contains(got, name+" answered /_ah/stop with 3 in\n") {
			t.Errorf("%s answered /_ah/stop before the others got theirs: not sent at once", name)
		}
	}
	if t.Failed() {
		t.Logf("requests:\n%s", got)
	}
}

// v6App listens on IPv6 loopback only, as an app that listens on
// "localhost" may where the resolver puts ::1 first, and logs each path.
const v6App = `import http.server, os, socket
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        print("got " + self.path, flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"v6")
    def log_message(self, *a):
        pass
S(("::1", int(os.environ["PORT"])), H).serve_forever()
`

// TestAnAppOnIPv6LoopbackOnly: an instance listening on [::1]:$PORT alone
// becomes ready, gets /_ah/start and /_ah/stop, and serves requests.
func TestAnAppOnIPv6LoopbackOnly(t *testing.T) {
	requireTools(t, "python3")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.py"), v6App)
	sup := newSupervisor(t, Options{}, &config.Service{Name: "v6", Dir: dir, Entrypoint: "exec python3 -u app.py", Scaling: manual(1)})
	waitFor(t, "v6/0 ready", 20*time.Second, stateIs(sup, "v6", "0", Ready))
	if code, body := fetch(front(t, sup, "v6") + "/hi"); code != 200 || body != "v6" {
		t.Fatalf("request through the front: %d %q", code, body)
	}
	if err := sup.StopInstance("v6", "0"); err != nil {
		t.Fatal(err)
	}
	if got := readLog(sup, "v6", "0"); !regexp.MustCompile(`(?s)got /_ah/start.*got /hi.*got /_ah/stop`).MatchString(got) {
		t.Errorf("want /_ah/start, /hi and /_ah/stop in the log:\n%s", got)
	}
}
