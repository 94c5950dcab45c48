package main

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// onTerminal runs appdeck with args on a pseudo-terminal (through
// script(1)) in a directory holding a one-service app, until its output
// holds until; then it sends appdeck sig and returns everything the
// terminal received and appdeck's exit code.
func onTerminal(t *testing.T, until string, env []string, sig syscall.Signal, args ...string) (string, int) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: custom\nentrypoint: sleep 600\n")
	term := startOnTerminal(t, dir, env, args...)
	term.waitOutput(until)
	term.signal(sig)
	return term.wait()
}

// terminalRun is appdeck running on a pseudo-terminal.
type terminalRun struct {
	t      *testing.T
	args   []string
	marker string // in the environment of appdeck and every process it starts
	stdin  io.WriteCloser
	out    *syncBuffer // everything the terminal received
	done   chan error
}

// startOnTerminal starts appdeck with args on a pseudo-terminal (through
// script(1)) in dir; what is written to stdin is typed on it.
func startOnTerminal(t *testing.T, dir string, env []string, args ...string) *terminalRun {
	t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) is not installed")
	}
	term := &terminalRun{t: t, args: args, marker: strconv.FormatUint(rand.Uint64(), 36), out: &syncBuffer{}, done: make(chan error, 1)}
	cmd := appdeckCmd(t, term.marker)
	line := "exec " + strings.Join(quoteAll(append([]string{appdeckBin}, args...)), " ")
	cmd.Path, cmd.Args = script, []string{script, "-qfec", line, "/dev/null"}
	cmd.Dir = dir
	// CI set (as on a CI machine) makes termenv treat every terminal as
	// none, so the dashboard would never ask: run as on a developer's.
	cmd.Env = append(cmd.Env, append([]string{"TERM=xterm-256color", "CI="}, env...)...)
	term.stdin, err = cmd.StdinPipe() // kept open: script ends when its input does
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = term.out, term.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { term.done <- cmd.Wait() }()
	t.Cleanup(func() {
		for _, pid := range markedProcesses(term.marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		term.stdin.Close()
	})
	return term
}

// waitOutput waits until the terminal received s.
func (term *terminalRun) waitOutput(s string) {
	term.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(term.out.String(), s) {
		if time.Now().After(deadline) {
			term.t.Fatalf("appdeck %s printed no %q in 60s; output:\n%q", strings.Join(term.args, " "), s, term.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signal sends sig to appdeck itself.
func (term *terminalRun) signal(sig syscall.Signal) {
	for _, pid := range markedProcesses(term.marker) {
		if exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); exe == appdeckBin {
			_ = syscall.Kill(pid, sig)
		}
	}
}

// wait waits for appdeck to end and returns what the terminal received
// and its exit code.
func (term *terminalRun) wait() (string, int) {
	term.t.Helper()
	var err error
	select {
	case err = <-term.done:
	case <-time.After(30 * time.Second):
		term.t.Fatalf("appdeck did not stop; output:\n%q", term.out.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return term.out.String(), ee.ExitCode()
	}
	if err != nil {
		term.t.Fatal(err)
	}
	return term.out.String(), 0
}

// TestDashboardStopsCleanOnSignals: SIGINT from another process, SIGTERM
// and SIGHUP stop the dashboard with status 0, like its ctrl+c key.
func TestDashboardStopsCleanOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			out, code := onTerminal(t, "starting…", []string{"NO_COLOR=1"}, sig, "--port", "0", "--admin-port", "0")
			if code != 0 || !strings.Contains(out, "appdeck: stopping instances…") {
				t.Errorf("exit %d after %v, want 0; output:\n%q", code, sig, out)
			}
		})
	}
}

// TestOnlyTheDashboardAsksTheTerminal: headless output never carries the
// terminal background query (OSC 11 and the cursor report sent after it),
// whatever the flags; the dashboard asks only when its theme depends on
// the answer.
func TestOnlyTheDashboardAsksTheTerminal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   []string
		args  []string
		until string
		query bool
	}{
		{"json", nil, []string{"--log-format", "json"}, `"line":"admin API`, false},
		{"headless", nil, []string{"--headless"}, "appdeck: admin API", false},
		{"headless, NO_COLOR", []string{"NO_COLOR=1"}, []string{"--headless"}, "appdeck: admin API", false},
		{"headless, --theme dark", nil, []string{"--headless", "--theme", "dark"}, "appdeck: admin API", false},
		{"dashboard, --theme dark", nil, []string{"--theme", "dark"}, "starting…", false},
		{"dashboard, NO_COLOR", []string{"NO_COLOR=1"}, nil, "starting…", false},
		{"dashboard, no theme", nil, nil, "starting…", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--port", "0", "--admin-port", "0"}, tc.args...)
			out, _ := onTerminal(t, tc.until, tc.env, syscall.SIGTERM, args...)
			asked := strings.Contains(out, "\x1b]11;?") || strings.Contains(out, "\x1b[6n")
			if asked != tc.query {
				t.Errorf("asked the terminal: %v, want %v; output:\n%q", asked, tc.query, out)
			}
			if tc.until != "starting…" && !strings.HasPrefix(out, "appdeck: ") && !strings.HasPrefix(out, `{"time"`) {
				t.Errorf("output does not start with appdeck's first line:\n%q", out)
			}
		})
	}
}

// press types s on the terminal.
func (term *terminalRun) press(s string) {
	term.t.Helper()
	if _, err := io.WriteString(term.stdin, s); err != nil {
		term.t.Fatal(err)
	}
}

// runs reports whether a process named name runs among appdeck's.
func (term *terminalRun) runs(name string) bool {
	for _, pid := range markedProcesses(term.marker) {
		if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); strings.TrimSpace(string(comm)) == name {
			return true
		}
	}
	return false
}
