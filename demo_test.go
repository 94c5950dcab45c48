package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoSecondStartDoesNotRebuild: the demo's files are extracted once,
// so a second start finds the Go service's sources unchanged.
func TestDemoSecondStartDoesNotRebuild(t *testing.T) {
	cache := t.TempDir()
	for i, want := range []string{"default | [appdeck] go build ", "default | [appdeck] sources unchanged since the last build; not rebuilding"} {
		cmd := appdeckCmd(t, "none", "demo", "--headless", "--no-color", "--port", "0", "--admin-port", "0")
		cmd.Env = append(cmd.Env, "XDG_CACHE_HOME="+cache)
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.Now().Add(90 * time.Second)
		for !strings.Contains(out.String(), "default/0 | [appdeck] ready") {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("start %d: the default service was never ready; output:\n%s", i+1, out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-done; err != nil {
			t.Fatalf("start %d: %v; output:\n%s", i+1, err, out.String())
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("start %d: no %q in the output:\n%s", i+1, want, out.String())
		}
	}
}
