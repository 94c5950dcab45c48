package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tmuxSession is a tmux server of the test's own (its own socket, so it
// never touches the user's or another test's sessions) running one
// command in a window of fixed size.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func startTmux(t *testing.T, w, h int, env []string, argv ...string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("appdeck-e2e-%d-%x", os.Getpid(), rand.Uint32())}
	cmd := append([]string{"env"}, env...)
	cmd = append(cmd, argv...)
	args := []string{"-L", s.socket, "-f", "/dev/null", "new-session", "-d", "-s", "e2e",
		"-x", strconv.Itoa(w), "-y", strconv.Itoa(h), strings.Join(quoteAll(cmd), " ")}
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

func (s *tmuxSession) screen() string {
	out, _ := exec.Command("tmux", "-L", s.socket, "capture-pane", "-p", "-t", "e2e").Output()
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"-L", s.socket, "send-keys", "-t", "e2e"}, keys...)...).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys %v: %v %s", keys, err, out)
	}
}

// waitScreen polls the screen until match finds something, and returns
// the submatches.
func (s *tmuxSession) waitScreen(what string, match *regexp.Regexp, d time.Duration) []string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	var last string
	for time.Now().Before(deadline) {
		last = s.screen()
		if m := match.FindStringSubmatch(last); m != nil {
			return m
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("waited %s for %s; screen:\n%s", d, what, last)
	return nil
}

func (s *tmuxSession) alive() bool {
	return exec.Command("tmux", "-L", s.socket, "has-session", "-t", "e2e").Run() == nil
}

// waitEnded waits until appdeck, told to stop by what, has ended, for at
// most d.
func (s *tmuxSession) waitEnded(what string, d time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for s.alive() {
		if time.Now().After(deadline) {
			s.t.Fatalf("appdeck still runs %s after %s; screen:\n%s", d, what, s.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDashboardEndToEnd drives the real binary in tmux as a user would:
// the demo's table comes up, r restarts an instance (its pid changes),
// enter opens its log pane, q asks and quits, and nothing is left running.
func TestDashboardEndToEnd(t *testing.T) {
	port := freePorts(t, 2)
	marker := strconv.FormatUint(rand.Uint64(), 36)
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"XDG_CACHE_HOME=" + t.TempDir(), "GOCACHE=" + strings.TrimSpace(string(gocache)),
		"APPDECK_TEST_MARKER=" + marker, "NO_COLOR=1", "TERM=xterm-256color"}
	s := startTmux(t, 120, 40, env, appdeckBin, "demo", "--port", strconv.Itoa(port), "--admin-port", "0", "--grace", "3s")
	t.Cleanup(func() {
		for _, pid := range markedProcesses(marker) {
			_ = syscallKill(pid)
		}
	})

	ready := regexp.MustCompile(`default/0 · ● ready · pid (\d+)`)
	first := s.waitScreen("default/0 ready in the status bar", ready, 120*time.Second)[1]
	s.waitScreen("the instance table", regexp.MustCompile(`(?m)▾ api · python312 .*\n.*0 +● ready`), 30*time.Second)

	s.keys("r")
	var second string
	deadline := time.Now().Add(60 * time.Second)
	for second == "" || second == first {
		if time.Now().After(deadline) {
			t.Fatalf("pid stayed %s after r; screen:\n%s", first, s.screen())
		}
		if m := ready.FindStringSubmatch(s.screen()); m != nil {
			second = m[1]
		}
		time.Sleep(100 * time.Millisecond)
	}
	if pidAlive(first) {
		t.Errorf("old pid %s still runs after the restart", first)
	}

	s.keys("Enter")
	s.waitScreen("the focused log pane", regexp.MustCompile(`━ logs · default/0[\s\S]*default service listening`), 10*time.Second)
	s.keys("v")
	s.waitScreen("the merged service log", regexp.MustCompile(`default/0 │ .*listening`), 10*time.Second)

	s.keys("q")
	s.waitScreen("the quit dialog", regexp.MustCompile(`Quit appdeck\? This stops 2 running instances\.`), 10*time.Second)
	s.keys("y")
	s.waitEnded("quitting", 20*time.Second)
	deadline = time.Now().Add(5 * time.Second)
	for len(markedProcesses(marker)) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if left := markedProcesses(marker); len(left) > 0 {
		t.Errorf("processes left behind after quitting: %v", left)
	}
}

func pidAlive(pid string) bool {
	_, err := os.Stat("/proc/" + pid)
	return err == nil
}

func syscallKill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
