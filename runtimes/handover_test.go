package runtimes_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appdeck/appdeck/runtimes"
)

// Each way an instance can hand its port to appdeck (dev_appserver.py's
// process-start flavors), with a real server that binds the port it is
// given or one of its own.
func TestPortHandover(t *testing.T) {
	requireTools(t, "python3")
	server, err := os.ReadFile(filepath.Join("testdata", "handover", "server.py"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		mode, entrypoint, handover string
		// ownPort: the server binds a port of its choice, not $PORT.
		ownPort bool
	}{
		{"env", "python3 server.py env", "", false},
		{"argv", "python3 server.py argv {port}", "env", false},
		{"file", "python3 server.py file", "file", true},
		{"stdout", "python3 server.py stdout", "stdout", true},
		{"stdout-host", "python3 server.py stdout-host", "stdout", true},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			yaml := "runtime: custom\nentrypoint: " + c.entrypoint + "\n"
			if c.handover != "" {
				yaml += "env_variables:\n  " + runtimes.HandoverVar + ": " + c.handover + "\n"
			}
			app := runApp(t, writeApp(t, map[string]string{"app.yaml": yaml, "server.py": string(server)}), runtimes.Options{})
			// The server answers with its mode, the port it listens on
			// and $PORT.
			body := app.getOK("/")
			var mode string
			var port, envPort int
			if _, err := fmt.Sscan(body, &mode, &port, &envPort); err != nil || mode != c.mode {
				t.Fatalf("GET / = %q", body)
			}
			if own := port != envPort; own != c.ownPort {
				t.Errorf("listening on %d with PORT=%d; want a port of its own: %v", port, envPort, c.ownPort)
			}
			if in := app.instance(); in.Port != port {
				t.Errorf("the dashboard shows port %d, the server listens on %d", in.Port, port)
			}
		})
	}
}

func TestPortHandoverBadLine(t *testing.T) {
	requireTools(t, "python3")
	server, err := os.ReadFile(filepath.Join("testdata", "handover", "server.py"))
	if err != nil {
		t.Fatal(err)
	}
	app := runApp(t, writeApp(t, map[string]string{
		"app.yaml":  "runtime: custom\nentrypoint: python3 server.py stdout-bad\n",
		"server.py": string(server),
	}), runtimes.Options{}, runtimes.HandoverVar+"=stdout")
	resp := app.get("/")
	want := `bad port: the first line on stdout was &#34;hello `
	if resp.status != 502 || !strings.Contains(resp.body, want) || !strings.Contains(resp.body, "print the port it listens on as the first line on stdout") {
		t.Errorf("GET / = %d, want 502 with %q:\n%s", resp.status, want, resp.body)
	}
}
