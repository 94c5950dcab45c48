package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// appdeckBin is the binary under test, built once by TestMain.
var appdeckBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "appdeck-test")
	if err != nil {
		panic(err)
	}
	appdeckBin = filepath.Join(dir, "appdeck")
	if out, err := exec.Command("go", "build", "-o", appdeckBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building appdeck: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePorts returns the first of n consecutive ports that are free now.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + rand.IntN(30000)
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}

// appdeckCmd prepares a run of the binary with its own cache directory
// (but the shared Go build cache, so builds stay fast) and a marker
// variable that every process it starts inherits.
func appdeckCmd(t *testing.T, marker string, args ...string) *exec.Cmd {
	t.Helper()
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(appdeckBin, args...)
	cmd.Env = append(os.Environ(),
		"XDG_CACHE_HOME="+t.TempDir(),
		"GOCACHE="+strings.TrimSpace(string(gocache)),
		"APPDECK_TEST_MARKER="+marker,
	)
	return cmd
}

// markedProcesses lists live processes whose environment holds marker.
func markedProcesses(marker string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(env, []byte("APPDECK_TEST_MARKER="+marker+"\x00")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func getBody(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitBody polls url until it answers 200 with a body containing want.
func waitBody(t *testing.T, url, want string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	var last string
	for time.Now().Before(deadline) {
		code, body, err := getBody(url)
		if err == nil && code == 200 && strings.Contains(body, want) {
			return
		}
		last = fmt.Sprintf("%d %q %v", code, body, err)
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200 with %q; last: %s", url, want, last)
}

func TestDemoHeadlessServesBothServicesAndStopsClean(t *testing.T) {
	port := freePorts(t, 2)
	marker := strconv.FormatUint(rand.Uint64(), 36)
	cmd := appdeckCmd(t, marker, "demo", "--headless", "--port", strconv.Itoa(port), "--admin-port", "0", "--grace", "3s")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	waitBody(t, fmt.Sprintf("http://127.0.0.1:%d/", port), `This is service "default"`, 90*time.Second)
	waitBody(t, fmt.Sprintf("http://127.0.0.1:%d/", port+1), `"service": "api"`, 30*time.Second)
	// dispatch.yaml sends /api on the default port to the api service.
	waitBody(t, fmt.Sprintf("http://127.0.0.1:%d/api", port), `"service": "api"`, 30*time.Second)
	if len(markedProcesses(marker)) < 3 { // appdeck, its watchdog, two instances
		t.Errorf("expected appdeck's instances among marked processes, got %v", markedProcesses(marker))
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("appdeck exited with %v after SIGTERM; output:\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("appdeck did not exit within the grace period after SIGTERM; output:\n%s", out.String())
	}
	if left := markedProcesses(marker); len(left) > 0 {
		t.Errorf("processes left behind after SIGTERM: %v", left)
	}
	for _, p := range []int{port, port + 1} {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			c.Close()
			t.Errorf("port %d still open after exit", p)
		}
	}
	for _, want := range []string{"default/0 | ", "api/0 | api service listening", "[appdeck] ready",
		`api/0 | [request] GET /api 200`} { // the access log
		if !strings.Contains(out.String(), want) {
			t.Errorf("headless output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPortInUseIsOneClearLine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	cmd := appdeckCmd(t, "none", "demo", "--headless", "--port", strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want status 1; output:\n%s", err, out)
	}
	want := fmt.Sprintf("appdeck: port %d for service \"default\" is already in use; choose another with --port\n", port)
	if string(out) != want {
		t.Errorf("output:\n%q\nwant:\n%q", out, want)
	}
}

func TestValidateListsEveryProblemAndExits2(t *testing.T) {
	dir := t.TempDir()
	yaml := "runtime: go99\nhandlers:\n- url: /(x\n  script: auto\ndefault_expiration: 10x\n"
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := appdeckCmd(t, "none", "validate", "app.yaml")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2; output:\n%s", err, out)
	}
	for _, want := range []string{"app.yaml:1:10: unknown runtime \"go99\"", "app.yaml:3:8: invalid url regexp", "app.yaml:5:21: invalid duration \"10x\""} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	ok := appdeckCmd(t, "none", "validate", "examples/demo/default", "examples/demo/api/app.yaml")
	if out, err := ok.CombinedOutput(); err != nil || !strings.Contains(string(out), "2 service(s) OK") {
		t.Errorf("valid demo: %v\n%s", err, out)
	}
}

// slowApp answers /slow after 1.5 s, saying on stdout when it began.
const slowApp = `import http.server, os, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/slow":
            print("slow request began", flush=True)
            time.sleep(1.5)
        self.send_response(200)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"done")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`

// TestSIGTERMLetsRequestsInFlightFinish: appdeck's own shutdown closes
// its ports at once but lets a request in flight finish, within --grace.
func TestSIGTERMLetsRequestsInFlightFinish(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: custom\nentrypoint: python3 -u app.py\n")
	writeFile(t, filepath.Join(dir, "app.py"), slowApp)
	port := freePorts(t, 1)
	marker := strconv.FormatUint(rand.Uint64(), 36)
	cmd := appdeckCmd(t, marker, "--headless", "--port", strconv.Itoa(port), "--admin-port", "0", "--grace", "5s", dir)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	waitBody(t, url, "done", 60*time.Second)

	type answer struct {
		code int
		body string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		code, body, err := getBody(url + "slow")
		got <- answer{code, body, err}
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "slow request began"); {
		if time.Now().After(deadline) {
			t.Fatalf("the slow request never reached the app; output:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || a.code != 200 || a.body != "done" {
		t.Errorf("the request in flight at SIGTERM got %d %q %v, want 200 done; output:\n%s", a.code, a.body, a.err, out.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("appdeck exited with %v; output:\n%s", err, out.String())
	}
}
