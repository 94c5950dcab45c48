package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestStopsWithGoRun: appdeck started by a program named go (as by `go
// run`, which passes no signal on) stops when that program is killed;
// started by a shell that exits, it keeps running, as `nohup appdeck &`
// needs.
func TestStopsWithGoRun(t *testing.T) {
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Skip("no /bin/sh to stand in for the go command")
	}
	goCmd := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(goCmd, sh, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, parent string
		stops        bool
	}{
		{"under go", goCmd, true},
		{"under a shell", "/bin/sh", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "app.yaml"), "runtime: custom\nentrypoint: python3 -m http.server $PORT --bind 127.0.0.1\n")
			port := freePorts(t, 1)
			marker := strconv.FormatUint(rand.Uint64(), 36)
			cmd := appdeckCmd(t, marker)
			// The parent starts appdeck and waits for it, as go run does.
			line := fmt.Sprintf("%s --headless --port %d --admin-port 0 --grace 2s >/dev/null 2>&1 & wait", quoteAll([]string{appdeckBin})[0], port)
			cmd.Path, cmd.Args, cmd.Dir = tc.parent, []string{tc.parent, "-c", line}, dir
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				for _, pid := range markedProcesses(marker) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
				_ = cmd.Wait()
			})
			waitBody(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "Directory listing", 60*time.Second)

			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if !tc.stops {
				// Still serving well after its parent is gone.
				time.Sleep(time.Second)
				waitBody(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "Directory listing", 10*time.Second)
				return
			}
			deadline := time.Now().Add(30 * time.Second)
			for len(markedProcesses(marker)) > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("processes left 30s after go was killed: %v", describe(markedProcesses(marker)))
				}
				time.Sleep(50 * time.Millisecond)
			}
			if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
				c.Close()
				t.Errorf("port %d still open", port)
			}
		})
	}
}
