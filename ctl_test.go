package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appdeck/appdeck/admin"
)

// ctlAppPy serves HTTP on $PORT and prints a line for every request.
const ctlAppPy = `import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print("app saw " + self.path, flush=True)
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a): pass
print("listening on " + os.environ["PORT"], flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`

// ctlApp writes an app of two Python services, web (two instances) and
// api, in subdirectories of a new directory, and returns that directory.
func ctlApp(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	dir := t.TempDir()
	for name, yaml := range map[string]string{
		"web": "runtime: python312\nentrypoint: python3 -u app.py\nmanual_scaling:\n  instances: 2\n",
		"api": "service: api\nruntime: python312\nentrypoint: python3 -u app.py\n",
	} {
		sub := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(sub, "static"), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(sub, "app.yaml"), yaml)
		writeFile(t, filepath.Join(sub, "app.py"), ctlAppPy)
	}
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// listTree lists every path under dir, to show nothing was added.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		out = append(out, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// deck is a running appdeck and the environment its ctl runs need.
type deck struct {
	t     *testing.T
	cmd   *exec.Cmd
	out   *syncBuffer // stdout
	errs  *syncBuffer // stderr
	cache string      // XDG_CACHE_HOME shared by appdeck and ctl
	dir   string
	done  chan error
}

// syncBuffer is a bytes.Buffer the child's output can be written to
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDeck runs appdeck with args in dir, its cache in a new directory.
func startDeck(t *testing.T, dir string, args ...string) *deck {
	t.Helper()
	return startDeckWithCache(t, t.TempDir(), dir, args...)
}

// startDeckWithCache runs appdeck with args in dir and cache as its
// XDG_CACHE_HOME, which another appdeck may share.
func startDeckWithCache(t *testing.T, cache, dir string, args ...string) *deck {
	t.Helper()
	d := &deck{t: t, out: &syncBuffer{}, errs: &syncBuffer{}, cache: cache, dir: dir, done: make(chan error, 1)}
	d.cmd = appdeckCmd(t, strconv.FormatUint(rand.Uint64(), 36), args...)
	d.cmd.Env = append(d.cmd.Env, "XDG_CACHE_HOME="+d.cache)
	d.cmd.Dir = dir
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.errs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	return d
}

// ctl runs `appdeck ctl args` from dir and returns its output and exit
// code.
func (d *deck) ctl(dir string, args ...string) (string, int) {
	d.t.Helper()
	cmd := d.ctlCmd(dir, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		d.t.Fatal(err)
	}
	return out.String(), 0
}

func (d *deck) ctlCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(appdeckBin, append([]string{"ctl"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+d.cache, "NO_COLOR=1")
	cmd.Dir = dir
	return cmd
}

// mustCtl runs ctl and fails the test unless it exits 0.
func (d *deck) mustCtl(args ...string) string {
	d.t.Helper()
	out, code := d.ctl(d.dir, args...)
	if code != 0 {
		d.t.Fatalf("appdeck ctl %s: exit %d\n%s\nappdeck's output:\n%s%s", strings.Join(args, " "), code, out, d.out.String(), d.errs.String())
	}
	return out
}

func (d *deck) status() map[string]admin.Service {
	d.t.Helper()
	var services []admin.Service
	out := d.mustCtl("--json", "status")
	if err := json.Unmarshal([]byte(out), &services); err != nil {
		d.t.Fatalf("status --json: %v\n%s", err, out)
	}
	m := map[string]admin.Service{}
	for _, s := range services {
		m[s.Name] = s
	}
	return m
}

func (d *deck) state() admin.State {
	d.t.Helper()
	paths, _ := filepath.Glob(filepath.Join(d.cache, "appdeck", "run", "*.json"))
	if len(paths) != 1 {
		d.t.Fatalf("state files: %v", paths)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		d.t.Fatal(err)
	}
	var st admin.State
	if err := json.Unmarshal(b, &st); err != nil {
		d.t.Fatal(err)
	}
	if fi, _ := os.Stat(paths[0]); fi.Mode().Perm() != 0o600 {
		d.t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	return st
}

// stop sends SIGTERM and wants a clean exit.
func (d *deck) stop() {
	d.t.Helper()
	d.signal(syscall.SIGTERM)
	if err := d.exited("SIGTERM", 30*time.Second); err != nil {
		d.t.Fatalf("appdeck exited with %v after SIGTERM; output:\n%s", err, d.out.String())
	}
}

// signal sends sig to appdeck.
func (d *deck) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatal(err)
	}
}

// exited waits at most timeout for appdeck, told to stop by what, to
// exit, and returns how it exited.
func (d *deck) exited(what string, timeout time.Duration) error {
	d.t.Helper()
	select {
	case err := <-d.done:
		d.done <- err // for the cleanup
		return err
	case <-time.After(timeout):
		d.t.Fatalf("appdeck did not stop after %s; output:\n%s%s", what, d.out.String(), d.errs.String())
		return nil
	}
}

func pids(s admin.Service) map[string]int {
	m := map[string]int{}
	for _, in := range s.Instances {
		m[in.ID] = in.PID
	}
	return m
}

func TestCtlDrivesARunningAppdeck(t *testing.T) {
	dir := ctlApp(t)
	before := listTree(t, dir)
	port := freePorts(t, 2)
	d := startDeck(t, dir, "--headless", "--port", strconv.Itoa(port), "--admin-port", "0", "--grace", "3s")

	// Run at once, before appdeck has written its state file: wait
	// finds it, then waits for every instance.
	out := d.mustCtl("wait", "--ready", "--timeout", "90s")
	if !strings.Contains(out, "ready after") || !strings.Contains(out, "default (2/2)") || !strings.Contains(out, "api (1/1)") {
		t.Errorf("wait --ready said:\n%s", out)
	}
	st := d.state()
	if st.Root != admin.Canonical(dir) || st.Token == "" || !strings.HasPrefix(st.Admin, "http://127.0.0.1:") {
		t.Errorf("state: %+v", st)
	}

	t.Run("status from a directory below the app", func(t *testing.T) {
		out, code := d.ctl(filepath.Join(dir, "web", "static"), "status")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, out)
		}
		// Found with no path: the default service (web/) takes --port, api the next.
		for _, want := range []string{"default/0", "default/1", "api/0", fmt.Sprintf("default  http://127.0.0.1:%d", port), fmt.Sprintf("api      http://127.0.0.1:%d", port+1)} {
			if !strings.Contains(out, want) {
				t.Errorf("status lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("restart changes the pid", func(t *testing.T) {
		old := pids(d.status()["default"])[("0")]
		out := d.mustCtl("restart", "default/0")
		now := pids(d.status()["default"])["0"]
		if now == 0 || now == old {
			t.Errorf("pid %d → %d", old, now)
		}
		if want := fmt.Sprintf("restarted default/0: ready, pid %d → %d", old, now); !strings.Contains(out, want) {
			t.Errorf("restart said %q, want %q", out, want)
		}
	})

	t.Run("scale up and down", func(t *testing.T) {
		d.mustCtl("scale", "default", "3")
		d.mustCtl("wait", "--ready", "--timeout", "60s", "default")
		if got := pids(d.status()["default"]); len(got) != 3 || got["2"] == 0 {
			t.Errorf("after scale 3: %v", got)
		}
		d.mustCtl("scale", "default", "1")
		if got := pids(d.status()["default"]); len(got) != 1 {
			t.Errorf("after scale 1: %v", got)
		}
		// api scales automatically: a number pins it, auto hands it back.
		if out := d.mustCtl("scale", "api", "2"); !strings.Contains(out, "pinned: automatic scaling leaves it until `appdeck ctl scale api auto`") {
			t.Errorf("scale api 2 said %q", out)
		}
		if out := d.mustCtl("status", "api"); !strings.Contains(out, "automatic (pinned)") {
			t.Errorf("status of a pinned service:\n%s", out)
		}
		if out := d.mustCtl("scale", "api", "auto"); !strings.Contains(out, "api scales as app.yaml says (automatic scaling)") {
			t.Errorf("scale api auto said %q", out)
		}
		if out := d.mustCtl("status", "api"); strings.Contains(out, "pinned") {
			t.Errorf("status after auto still pinned:\n%s", out)
		}
	})

	t.Run("kill", func(t *testing.T) {
		pid := pids(d.status()["api"])["0"]
		out := d.mustCtl("kill", "api/0")
		if !strings.Contains(out, "killed api/0: stopped") {
			t.Errorf("kill said %q", out)
		}
		in := d.status()["api"].Instances[0]
		if in.State != "stopped" || in.PID != 0 || !strings.Contains(in.Reason, "SIGKILL") {
			t.Errorf("after kill: %+v", in)
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after kill: %v", pid, err)
		}
		if out, code := d.ctl(dir, "kill", "api/0"); code != 1 || !strings.Contains(out, "api/0 is already stopped") {
			t.Errorf("kill of a stopped instance: exit %d: %s", code, out)
		}
		d.mustCtl("start", "api")
	})

	t.Run("logs -f shows what the app printed", func(t *testing.T) {
		cmd := d.ctlCmd(dir, "logs", "-f", "default")
		lines := startLines(t, cmd)
		// The backlog first (the stream is open), then a line of our own.
		waitFor(t, lines, "default/0 | listening on ")
		marker := fmt.Sprintf("/marker-%d", rand.Uint64())
		if _, _, err := getBody(d.status()["default"].URL + marker); err != nil {
			t.Fatal(err)
		}
		waitFor(t, lines, "default/0 | app saw "+marker)
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("logs -f after Ctrl-C: %v, want exit 0", err)
		}
		// The headless output has the access line for it.
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(d.out.String(), "default/0 | [request] GET "+marker+" 200 2B ") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(d.out.String(), "[request] GET "+marker+" 200") {
			t.Errorf("no access line for %s in:\n%s", marker, d.out.String())
		}
		out := d.mustCtl("requests", "--json")
		if !strings.Contains(out, `"path":"`+marker+`"`) {
			t.Errorf("requests --json lacks %s:\n%s", marker, out)
		}
	})

	t.Run("--tail 0 follows only new lines", func(t *testing.T) {
		if out := d.mustCtl("logs", "--tail", "0"); out != "" {
			t.Errorf("logs --tail 0 printed history:\n%s", out)
		}
		cmd := d.ctlCmd(dir, "requests", "-f", "--tail", "0")
		lines := startLines(t, cmd)
		// Requests go until one shows: the first line must be a new one,
		// though the requests of the test above are held.
		url, deadline := d.status()["default"].URL, time.After(60*time.Second)
		for n := 0; ; n++ {
			if _, _, err := getBody(fmt.Sprintf("%s/new-%d", url, n)); err != nil {
				t.Fatal(err)
			}
			select {
			case l := <-lines:
				if !strings.Contains(l, "[request] GET /new-") {
					t.Errorf("requests -f --tail 0 printed an old request first: %q", l)
				}
			case <-time.After(200 * time.Millisecond):
				continue
			case <-deadline:
				t.Fatal("no request was printed")
			}
			break
		}
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})

	t.Run("safety", func(t *testing.T) {
		req, _ := http.NewRequest("POST", st.Admin+"/api/instances/default/0/restart", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("POST without the token: %d, want 401", resp.StatusCode)
		}
		req, _ = http.NewRequest("GET", st.Admin+"/api/services", nil)
		req.Host = "rebind.example.com"
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("foreign Host: %d, want 400", resp.StatusCode)
		}
	})

	t.Run("status page in Chromium shows every instance", func(t *testing.T) {
		dom := chromiumDOM(t, st.Admin+"/")
		for name, svc := range d.status() {
			for _, in := range svc.Instances {
				row := fmt.Sprintf(`<tr class="instance state-%s" id="instance-%s-%s">`, in.State, name, in.ID)
				if !strings.Contains(dom, row) || !strings.Contains(dom, fmt.Sprintf("<td>%s/%s</td>", name, in.ID)) {
					t.Errorf("the page lacks instance %s/%s (%s):\n%s", name, in.ID, in.State, dom)
				}
			}
		}
	})

	t.Run("usage errors exit 2", func(t *testing.T) {
		for _, args := range [][]string{{"frob"}, {"scale", "default"}, {"scale", "default", "many"}, {"status", "-f"}, {"wait"}, {"rebuild", "default/0"}} {
			if out, code := d.ctl(dir, args...); code != 2 {
				t.Errorf("ctl %v: exit %d, want 2: %s", args, code, out)
			}
		}
		if out, code := d.ctl(dir, "scale", "default", "500"); code != 2 || !strings.Contains(out, "choose 0 to 50") {
			t.Errorf("scale 500: exit %d: %s", code, out)
		}
		if out, code := d.ctl(dir, "restart", "default/9"); code != 1 || !strings.Contains(out, "no instance default/9") {
			t.Errorf("restart of an unknown instance: exit %d: %s", code, out)
		}
		// Each names what is missing, and only that.
		for _, args := range [][]string{{"scale", "nosuch", "1"}, {"logs", "nosuch"}, {"requests", "nosuch"}, {"status", "nosuch"}, {"restart", "nosuch"}} {
			want := "appdeck: no service \"nosuch\" (the services are default, api)\n"
			if out, code := d.ctl(dir, args...); code != 1 || out != want {
				t.Errorf("ctl %v: exit %d, %q; want 1, %q", args, code, out, want)
			}
		}
	})

	d.stop()
	if paths, _ := filepath.Glob(filepath.Join(d.cache, "appdeck", "run", "*.json")); len(paths) != 0 {
		t.Errorf("state files left after a clean exit: %v", paths)
	}
	if out, code := d.ctl(dir, "status"); code != 3 || !strings.Contains(out, "no appdeck is running for") {
		t.Errorf("status after exit: exit %d: %s", code, out)
	}
	if after := listTree(t, dir); !slices.Equal(before, after) {
		t.Errorf("appdeck wrote into the app directory:\nbefore %v\nafter  %v", before, after)
	}
}

// oneServiceApp writes an app of one Python service, with one instance
// at a time, into a new directory and returns it.
func oneServiceApp(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: python312\nentrypoint: python3 -u app.py\n")
	writeFile(t, filepath.Join(dir, "app.py"), ctlAppPy)
	return dir
}

// TestLogDirHasTheAccessLines: --log-dir writes each service's access
// lines, as the headless output prints them, to SERVICE.requests.log.
func TestLogDirHasTheAccessLines(t *testing.T) {
	dir, logs := oneServiceApp(t), t.TempDir()
	d := startDeck(t, dir, "--headless", "--no-color", "--port", "0", "--admin-port", "0", "--grace", "3s", "--log-dir", logs)
	d.mustCtl("wait", "--ready", "--timeout", "90s")
	url := d.status()["default"].URL
	for _, p := range []string{"/one", "/two?x=1"} {
		if _, _, err := getBody(url + p); err != nil {
			t.Fatal(err)
		}
	}
	d.stop() // writes what is left

	b, err := os.ReadFile(filepath.Join(logs, "default.requests.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("default.requests.log has %d lines, want 2:\n%s", len(lines), b)
	}
	for i, p := range []string{"/one", "/two?x=1"} {
		stamp, rest, _ := strings.Cut(lines[i], " ")
		if _, err := time.ParseInLocation("2006-01-02T15:04:05.000", stamp, time.Local); err != nil {
			t.Errorf("line %q does not start with a time: %v", lines[i], err)
		}
		want := "request default/0 GET " + p + " 200 2B "
		if !strings.HasPrefix(rest, want) {
			t.Errorf("line %q, want %q after the time", lines[i], want)
		}
		// The headless output has the same line.
		if !strings.Contains(d.out.String(), "default/0 | [request] GET "+p+" 200 2B ") {
			t.Errorf("headless output lacks the access line for %s:\n%s", p, d.out.String())
		}
	}
	if b, err := os.ReadFile(filepath.Join(logs, "default-0.log")); err != nil || !strings.Contains(string(b), "app saw /two?x=1") {
		t.Errorf("default-0.log: %v\n%s", err, b)
	}
}

// TestTwoAppdecksOnOneDirectory: a second appdeck on the same app says
// so at start, ctl says which one it talks to and how to reach the other,
// and when one stops ctl still finds the other.
func TestTwoAppdecksOnOneDirectory(t *testing.T) {
	dir := oneServiceApp(t)
	port1 := freePorts(t, 1)
	first := startDeck(t, dir, "--headless", "--port", strconv.Itoa(port1), "--admin-port", "0", "--grace", "3s")
	first.mustCtl("wait", "--ready", "--timeout", "90s")
	st1 := first.state()

	port2 := freePorts(t, 1)
	second := startDeckWithCache(t, first.cache, dir, "--headless", "--port", strconv.Itoa(port2), "--admin-port", "0", "--grace", "3s")
	warning := fmt.Sprintf("appdeck: another appdeck already serves %s (pid %d, port %d, started ", st1.Root, st1.PID, port1)
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(second.errs.String(), warning) {
		if time.Now().After(deadline) {
			t.Fatalf("the second appdeck did not warn %q; stderr:\n%s", warning, second.errs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if want := "`appdeck ctl` there now talks to this one, the newest, and to that one with --admin " + st1.Admin; !strings.Contains(second.errs.String(), want) {
		t.Errorf("the warning lacks %q:\n%s", want, second.errs.String())
	}

	// ctl talks to the newest and says how to reach the other.
	var out string
	for deadline = time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out = first.mustCtl("status")
		if strings.Contains(out, fmt.Sprintf("127.0.0.1:%d", port2)) || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{
		fmt.Sprintf("appdeck ctl: 2 appdecks serve %s; this talks to the newest (pid %d, port %d, started ", st1.Root, second.cmd.Process.Pid, port2),
		fmt.Sprintf("  --admin %s  (pid %d, port %d, started ", st1.Admin, st1.PID, port1),
		fmt.Sprintf("default  http://127.0.0.1:%d", port2),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status with two appdecks lacks %q:\n%s", want, out)
		}
	}
	if out := first.mustCtl("--admin", st1.Admin, "status"); !strings.Contains(out, fmt.Sprintf("default  http://127.0.0.1:%d", port1)) || strings.Contains(out, "2 appdecks") {
		t.Errorf("status --admin of the first:\n%s", out)
	}

	// The newest stops: ctl finds the first again.
	second.stop()
	out = first.mustCtl("status")
	if !strings.Contains(out, fmt.Sprintf("default  http://127.0.0.1:%d", port1)) || strings.Contains(out, "2 appdecks") {
		t.Errorf("status after the second stopped:\n%s", out)
	}
	first.stop()
	if out, code := first.ctl(dir, "status"); code != 3 {
		t.Errorf("status after both stopped: exit %d: %s", code, out)
	}
}

// waitFor reads lines until one contains want.
func waitFor(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the output ended before %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no line with %q", want)
		}
	}
}

// chromiumDOM loads url in headless Chromium and returns the DOM it built.
func chromiumDOM(t *testing.T, url string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (.ci/run installs it)")
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--user-data-dir="+t.TempDir(), "--dump-dom", url)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, stderr.String())
		}
	case <-time.After(120 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("chromium did not finish\n%s", stderr.String())
	}
	return stdout.String()
}

func TestCtlNotRunningAndUsage(t *testing.T) {
	d := &deck{t: t, cache: t.TempDir(), dir: t.TempDir()}
	if out, code := d.ctl(d.dir, "status"); code != 3 || !strings.Contains(out, "no appdeck is running for") {
		t.Errorf("status with nothing running: exit %d: %s", code, out)
	}
	if out, code := d.ctl(d.dir, "wait", "--ready", "--timeout", "300ms"); code != 3 {
		t.Errorf("wait with nothing running: exit %d: %s", code, out)
	}
	if out, code := d.ctl(d.dir, "--help"); code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "Exit codes: 0 done, 1") {
		t.Errorf("--help: exit %d: %s", code, out)
	}
	if out, code := d.ctl(d.dir); code != 2 || !strings.Contains(out, "ctl needs a command") {
		t.Errorf("no command: exit %d: %s", code, out)
	}
}

func TestExitOnFailureWithJSONLogs(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, file, content, why string
	}{
		{"crash loop", "runtime: python312\nentrypoint: python3 -c 'import sys; print(\"boom\"); sys.exit(3)'\n", "", "", "instance default/0 crashed 3 times in a row"},
		{"failed build", "runtime: go125\n", "main.go", "package main\n\nfunc main() { undefined() }\n", `service \"default\" could not be built`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "app.yaml"), tc.yaml)
			if tc.file != "" {
				writeFile(t, filepath.Join(dir, tc.file), tc.content)
			}
			d := startDeck(t, dir, "--log-format", "json", "--exit-on-failure", "--port", "0", "--admin-port", "0")
			var err error
			select {
			case err = <-d.done:
				d.done <- err
			case <-time.After(120 * time.Second):
				t.Fatalf("appdeck did not exit; output:\n%s", d.out.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want status 1; output:\n%s%s", err, d.out.String(), d.errs.String())
			}
			if e := d.errs.String(); e != "" {
				t.Errorf("stderr: %s", e)
			}
			out := d.out.String()
			if !strings.Contains(out, tc.why) {
				t.Errorf("output lacks %q:\n%s", tc.why, out)
			}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Errorf("not a JSON line: %q", l)
					continue
				}
				for _, k := range []string{"time", "service", "instance", "stream", "line"} {
					if _, ok := m[k]; !ok {
						t.Errorf("%q lacks %q", l, k)
					}
				}
			}
		})
	}
}

// startLines starts cmd and returns the lines of its output as they come.
func startLines(t *testing.T, cmd *exec.Cmd) <-chan string {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines
}
