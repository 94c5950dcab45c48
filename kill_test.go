package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killServer serves on $PORT, writes its port to $PORTDIR/$GAE_SERVICE-
// $GAE_INSTANCE, and with SPAWN set leaves a child of its own running.
const killServer = `import http.server, os, subprocess
if os.environ.get("SPAWN"):
    subprocess.Popen(["sleep", "1000"])
port = os.environ["PORT"]
with open(os.path.join(os.environ["PORTDIR"], os.environ["GAE_SERVICE"] + "-" + os.environ["GAE_INSTANCE"]), "w") as f:
    f.write(port)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), H).serve_forever()
`

// TestSIGKILLLeavesNothingBehind runs three services whose instances have
// children of their own — a shell whose child holds the port, a server
// with a sleeping sibling, a server that spawns a process — then SIGKILLs
// appdeck: within a second no process it started survives and every port
// is free.
func TestSIGKILLLeavesNothingBehind(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	root, portDir := t.TempDir(), t.TempDir()
	services := map[string]string{
		"a": "entrypoint: sh -c 'python3 -u server.py & wait'\nmanual_scaling:\n  instances: 1\n",
		"b": "entrypoint: sh -c 'sleep 1000 & exec python3 -u server.py'\nmanual_scaling:\n  instances: 2\n",
		"c": "entrypoint: python3 -u server.py\nmanual_scaling:\n  instances: 1\nenv_variables:\n  SPAWN: '1'\n",
	}
	var paths []string
	for name, rest := range services {
		dir := filepath.Join(root, name)
		yaml := fmt.Sprintf("service: %s\nruntime: python312\n%s", name, rest)
		if !strings.Contains(rest, "env_variables") {
			yaml += "env_variables:\n"
		}
		yaml += "  PORTDIR: " + portDir + "\n"
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for file, content := range map[string]string{"app.yaml": yaml, "server.py": killServer} {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		paths = append(paths, filepath.Join(dir, "app.yaml"))
	}
	port := freePorts(t, 3)
	marker := strconv.FormatUint(rand.Uint64(), 36)
	args := append([]string{"--headless", "--port", strconv.Itoa(port), "--admin-port", "0"}, paths...)
	cmd := appdeckCmd(t, marker, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	for p := port; p < port+3; p++ {
		waitBody(t, fmt.Sprintf("http://127.0.0.1:%d/", p), "ok", 60*time.Second)
	}
	// b's second instance and every server's port.
	var ports []int
	deadline := time.Now().Add(30 * time.Second)
	for len(ports) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("instances wrote %d port files; output:\n%s", len(ports), out.String())
		}
		time.Sleep(50 * time.Millisecond)
		ports = readPorts(t, portDir)
	}
	// appdeck, its watchdog; a: sh + python; b: 2 × (python + sleep);
	// c: python + sleep.
	before := markedProcesses(marker)
	if len(before) < 10 {
		t.Fatalf("expected at least 10 processes, found %d: %v", len(before), before)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = cmd.Wait()
	allPorts := append(ports, port, port+1, port+2)
	// A dying process has lost its environment (so it no longer looks
	// marked) a moment before it closes its sockets: both must be over.
	gone := func() bool {
		return len(markedProcesses(marker)) == 0 && len(aliveOf(before)) == 0 && len(openPorts(allPorts)) == 0
	}
	for !gone() && time.Since(killed) < 5*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(killed)
	if left := append(markedProcesses(marker), aliveOf(before)...); len(left) > 0 {
		t.Fatalf("processes alive 5 s after SIGKILL: %v", describe(left))
	}
	for _, p := range openPorts(allPorts) {
		ss, _ := exec.Command("ss", "-ltnp", fmt.Sprintf("sport = :%d", p)).CombinedOutput()
		t.Errorf("port %d still accepts connections 5 s after SIGKILL:\n%s", p, ss)
	}
	if took > time.Second {
		t.Errorf("the last descendant died %s after SIGKILL, want within a second", took)
	}
	t.Logf("%d processes gone and %d ports free %s after SIGKILL", len(before), len(allPorts), took.Round(time.Millisecond))
}

// aliveOf returns the pids that still run (zombies, already dead, do not).
func aliveOf(pids []int) []int {
	var out []int
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 0 && fields[0] != "Z" && fields[0] != "X" {
			out = append(out, pid)
		}
	}
	return out
}

// openPorts returns the ports on which something still accepts
// connections.
func openPorts(ports []int) []int {
	var out []int
	for _, p := range ports {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), 100*time.Millisecond); err == nil {
			c.Close()
			out = append(out, p)
		}
	}
	return out
}

func readPorts(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ports []int
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if p, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			ports = append(ports, p)
		}
	}
	return ports
}

// describe names processes by their command lines, for failures.
func describe(pids []int) []string {
	var out []string
	for _, pid := range pids {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		out = append(out, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	return out
}
