package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWaitEndsWithTheAppdeck: `appdeck ctl wait --ready`, started with
// appdeck as the CI recipe does, ends as soon as that appdeck ends before
// it is ready, with status 1 and the reason; status 3 only when none ran.
func TestWaitEndsWithTheAppdeck(t *testing.T) {
	t.Run("build failed", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: go125\n")
		writeFile(t, filepath.Join(dir, "main.go"), "package main\n\nfunc main() { undefined() }\n")
		d := startDeck(t, dir, "--exit-on-failure", "--log-format", "json", "--port", "0", "--admin-port", "0")
		out, code := d.ctl(dir, "wait", "--ready", "--timeout", "90s")
		if code != 1 || !strings.Contains(out, `service "default" could not be built`) && !strings.Contains(out, "service default could not be built") {
			t.Errorf("wait: exit %d, want 1 with the build failure:\n%s", code, out)
		}
	})

	t.Run("bad configuration", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: go99\n")
		d := startDeck(t, dir, "--headless", "--port", "0", "--admin-port", "0")
		out, code := d.ctl(dir, "wait", "--ready", "--timeout", "90s")
		if want := `exited with status 2 before it was ready: app.yaml:1:10: unknown runtime "go99"`; code != 1 || !strings.Contains(out, want) {
			t.Errorf("wait: exit %d, want 1 with %q:\n%s", code, want, out)
		}
	})

	t.Run("port in use", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		port := busy.Addr().(*net.TCPAddr).Port
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: custom\nentrypoint: sleep 600\n")
		d := startDeck(t, dir, "--headless", "--port", strconv.Itoa(port), "--admin-port", "0")
		out, code := d.ctl(dir, "wait", "--ready", "--timeout", "90s")
		if want := fmt.Sprintf("exited with status 1 before it was ready: port %d for service \"default\" is already in use", port); code != 1 || !strings.Contains(out, want) {
			t.Errorf("wait: exit %d, want 1 with %q:\n%s", code, want, out)
		}

		// A later wait takes that exit for an earlier run's: it waits, and
		// says what it knows when nothing comes.
		<-d.done
		d.done <- nil
		time.Sleep(recentExit + 500*time.Millisecond)
		out, code = d.ctl(dir, "wait", "--ready", "--timeout", "300ms")
		if code != exitNotRunning || !strings.Contains(out, "exited with status 1 at ") || !strings.Contains(out, "is already in use") {
			t.Errorf("a later wait: exit %d, want 3 naming the earlier exit:\n%s", code, out)
		}
	})

	t.Run("stopped before ready", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: custom\nentrypoint: sleep 600\n") // never listens
		d := startDeck(t, dir, "--headless", "--port", "0", "--admin-port", "0")
		wait := d.ctlCmd(dir, "wait", "--ready", "--timeout", "90s")
		out := &syncBuffer{}
		wait.Stdout, wait.Stderr = out, out
		if err := wait.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- wait.Wait() }()
		// Once wait talks to appdeck (its connection to the API is up),
		// appdeck stops.
		deadline := time.Now().Add(60 * time.Second)
		for {
			paths, _ := filepath.Glob(filepath.Join(d.cache, "appdeck", "run", "*.json"))
			if len(paths) == 1 && connectedTo(t, d.state().Admin) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("wait never reached appdeck; wait said:\n%s", out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		d.stop()
		select {
		case err := <-done:
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if code != 1 || !strings.Contains(out.String(), "stopped before it was ready") {
				t.Errorf("wait: exit %d (%v), want 1:\n%s", code, err, out.String())
			}
		case <-time.After(60 * time.Second):
			_ = wait.Process.Kill()
			t.Fatalf("wait went on after appdeck stopped:\n%s", out.String())
		}
	})
}

// connectedTo reports whether a TCP connection to the server at url (on
// this machine) is established.
func connectedTo(t *testing.T, url string) bool {
	t.Helper()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	local := fmt.Sprintf(":%04X ", p)
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, _ := os.ReadFile(file)
		for _, l := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(l)
			// Fields: sl, local address, remote address, state (01: established).
			if len(f) > 3 && strings.HasSuffix(f[1]+" ", local) && f[3] == "01" {
				return true
			}
		}
	}
	return false
}
