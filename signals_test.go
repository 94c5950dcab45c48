package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalWhileStartingStopsInOrder: a SIGTERM that comes while appdeck
// is still starting (here: reading app.yaml, a named pipe the test holds)
// leads to the orderly stop, status 0 and no state file left, as one that
// comes later does; in both modes.
func TestSignalWhileStartingStopsInOrder(t *testing.T) {
	const app = "runtime: custom\nentrypoint: sleep 600\n"
	t.Run("headless", func(t *testing.T) {
		dir := t.TempDir()
		pipe := makeFifo(t, dir)
		d := startDeck(t, dir, "--headless", "--port", "0", "--admin-port", "0", "--no-watch")
		w := openWriter(t, pipe, func() string { return d.out.String() + d.errs.String() })
		d.signal(syscall.SIGTERM)
		writeAndClose(t, w, app)
		if err := d.exited("SIGTERM", 60*time.Second); err != nil {
			t.Fatalf("appdeck exited with %v after a SIGTERM while it started; output:\n%s%s", err, d.out.String(), d.errs.String())
		}
		if !strings.Contains(d.out.String(), "appdeck: stopping") {
			t.Errorf("no orderly stop in the output:\n%s", d.out.String())
		}
		if left, _ := filepath.Glob(filepath.Join(d.cache, "appdeck", "run", "*.json")); len(left) > 0 {
			t.Errorf("state files left behind: %v", left)
		}
	})
	t.Run("dashboard", func(t *testing.T) {
		dir := t.TempDir()
		pipe := makeFifo(t, dir)
		term := startOnTerminal(t, dir, []string{"NO_COLOR=1"}, "--port", "0", "--admin-port", "0", "--no-watch")
		w := openWriter(t, pipe, term.out.String)
		term.signal(syscall.SIGTERM)
		writeAndClose(t, w, app)
		out, code := term.wait()
		if code != 0 || !strings.Contains(out, "appdeck: stopping instances…") {
			t.Errorf("exit %d after a SIGTERM while it started, want 0 and an orderly stop; output:\n%q", code, out)
		}
	})
}

// TestDashboardSecondCtrlCKills: ctrl+c quits the dashboard and starts
// the graceful stop; ctrl+c again, on the terminal now back in its normal
// mode, kills every instance at once, as in headless mode, rather than
// killing appdeck alone by SIGINT.
func TestDashboardSecondCtrlCKills(t *testing.T) {
	dir := t.TempDir()
	// An instance that ignores SIGTERM holds the graceful stop for --grace.
	writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: custom\nentrypoint: sh -c \"trap '' TERM; exec sleep 600\"\n")
	term := startOnTerminal(t, dir, []string{"NO_COLOR=1"}, "--port", "0", "--admin-port", "0", "--grace", "120s")
	deadline := time.Now().Add(60 * time.Second)
	for !term.runs("sleep") {
		if time.Now().After(deadline) {
			t.Fatalf("the instance never started; output:\n%q", term.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	term.press("\x03")
	term.waitOutput("appdeck: stopping instances…")
	term.press("\x03")
	out, code := term.wait() // within 30s, long before --grace
	if code != exitFailure || !strings.Contains(out, "appdeck: killed every instance") {
		t.Errorf("exit %d after a second ctrl+c, want 1 and \"killed every instance\"; output:\n%q", code, out)
	}
	deadline = time.Now().Add(10 * time.Second)
	for len(markedProcesses(term.marker)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes left after a second ctrl+c: %v", describe(markedProcesses(term.marker)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// makeFifo makes dir/app.yaml a named pipe: appdeck's read of it waits
// until the test writes it.
func makeFifo(t *testing.T, dir string) string {
	t.Helper()
	pipe := filepath.Join(dir, "app.yaml")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	return pipe
}

// openWriter opens the pipe for writing, which returns once appdeck opened
// it for reading: appdeck is then loading its configuration.
func openWriter(t *testing.T, pipe string, output func() string) *os.File {
	t.Helper()
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(pipe, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
		}
		opened <- f
	}()
	select {
	case f := <-opened:
		if f == nil {
			t.FailNow()
		}
		return f
	case <-time.After(60 * time.Second):
		t.Fatalf("appdeck never read app.yaml; output:\n%s", output())
	}
	return nil
}

func writeAndClose(t *testing.T, f *os.File, s string) {
	t.Helper()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// A SIGHUP that follows the SIGTERM (systemd, a terminal closing as its
// shell is told to stop) does not cut the orderly stop short, as a
// second Ctrl-C does.
func TestHangupDuringTheStopIsNotASecondSignal(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: custom\nentrypoint: sh -c 'trap \"\" TERM; exec python3 -m http.server $PORT'\n")
	d := startDeck(t, dir, "--headless", "--port", "0", "--admin-port", "0", "--no-watch", "--grace", "2s")
	d.mustCtl("wait", "--ready", "--timeout", "90s")
	d.signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	d.signal(syscall.SIGHUP)
	if err := d.exited("SIGTERM and SIGHUP", 60*time.Second); err != nil || strings.Contains(d.errs.String(), "killed every instance") {
		t.Errorf("exit %v after SIGTERM and SIGHUP, want 0 and the orderly stop; stderr:\n%s", err, d.errs.String())
	}
}
