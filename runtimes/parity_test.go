package runtimes_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appdeck/appdeck/runtimes"
)

// The same Go and Python samples under the real dev_appserver.py and under
// appdeck: every GAE_* variable dev_appserver.py gives the app, appdeck
// gives too, with the same value where the value does not depend on the
// run.

// parityValues are the variables whose values must be equal.
var parityValues = []string{
	"GAE_APPLICATION", "GAE_ENV", "GAE_LONG_APP_ID", "GAE_MEMORY_MB", "GAE_MODULE_NAME",
	"GAE_PARTITION", "GAE_RUNTIME", "GAE_SERVICE", "GOOGLE_CLOUD_PROJECT",
}

func TestParityWithDevAppserver(t *testing.T) {
	devAppserver, err := exec.LookPath("dev_appserver.py")
	if err != nil {
		t.Skip("dev_appserver.py (Google Cloud CLI) is not installed")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("dev_appserver.py needs Debian's /usr/bin/python3")
	}
	requireTools(t, "go", "python3")
	goDir := copyApp(t, example("go"))
	appendFile(t, filepath.Join(goDir, "app.yaml"), "application: parity-app\n")
	samples := map[string]string{"go": goDir, "python": copyApp(t, filepath.Join("testdata", "parity", "python"))}
	for name, dir := range samples {
		t.Run(name, func(t *testing.T) {
			dev := devAppserverEnv(t, devAppserver, dir)
			ours := runApp(t, dir, runtimes.Options{})
			var deck map[string]string
			if err := json.Unmarshal([]byte(ours.getOK("/env")), &deck); err != nil {
				t.Fatal(err)
			}
			compareEnv(t, dev, deck)
			if _, port, _ := net.SplitHostPort(strings.TrimPrefix(ours.url, "http://")); deck["GAE_SERVER_PORT"] != port {
				t.Errorf("GAE_SERVER_PORT=%q, want the service's port %s", deck["GAE_SERVER_PORT"], port)
			}
		})
	}
}

func compareEnv(t *testing.T, dev, deck map[string]string) {
	t.Helper()
	var names []string
	for k := range dev {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !strings.HasPrefix(k, "GAE_") {
			continue
		}
		if _, ok := deck[k]; !ok {
			t.Errorf("dev_appserver.py sets %s=%q, appdeck does not", k, dev[k])
		}
	}
	for _, k := range parityValues {
		if v, ok := dev[k]; ok && deck[k] != v {
			t.Errorf("%s: dev_appserver.py %q, appdeck %q", k, v, deck[k])
		}
	}
	for _, k := range []string{"GAE_VERSION", "GAE_MODULE_VERSION", "GAE_MINOR_VERSION", "GAE_INSTANCE", "GAE_MODULE_INSTANCE", "GAE_SERVER_PORT", "GAE_DEPLOYMENT_ID"} {
		t.Logf("%-20s dev_appserver.py %-40q appdeck %q", k, dev[k], deck[k])
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// devAppserverEnv runs dir/app.yaml under dev_appserver.py and returns what
// the app answers at /env.
func devAppserverEnv(t *testing.T, devAppserver, dir string) map[string]string {
	t.Helper()
	ports := freeTCPPorts(t, 3)
	cmd := exec.Command("/usr/bin/python3", devAppserver,
		"--port="+strconv.Itoa(ports[0]), "--admin_port="+strconv.Itoa(ports[1]), "--api_port="+strconv.Itoa(ports[2]),
		"--storage_path="+t.TempDir(), "--skip_sdk_update_check=true", filepath.Join(dir, "app.yaml"))
	cmd.Env = append(os.Environ(), "CLOUDSDK_PYTHON=/usr/bin/python3",
		// The samples need no package: pip must not wait for an index.
		"PIP_NO_INDEX=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	log, err := os.Create(filepath.Join(t.TempDir(), "dev_appserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	defer func() {
		// dev_appserver.py leaves its instances behind when killed
		// alone: end the whole group.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()
	url := "http://127.0.0.1:" + strconv.Itoa(ports[0]) + "/env"
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("dev_appserver.py exited:\n%s", out)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var env map[string]string
			if resp.StatusCode == 200 && json.Unmarshal(body, &env) == nil {
				return env
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	out, _ := os.ReadFile(log.Name())
	t.Fatalf("dev_appserver.py never served %s:\n%s", url, out)
	return nil
}

// freeTCPPorts returns n ports that are free now.
func freeTCPPorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
