package runtimes_test

import (
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/runtimes"
	"github.com/appdeck/appdeck/supervisor"
)

// These tests run each runtime for real: a supervisor builds and starts
// the service's instance from its app.yaml, a front server on loopback
// forwards requests to it, and the tests talk HTTP to the front server.

// testProject is GOOGLE_CLOUD_PROJECT in the tests, as --project would set
// it.
const testProject = "appdeck-test"

func requireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

// copyApp copies the app in dir to a temporary directory, leaving out
// what builds leave behind (node_modules, Java's build/ and jars), so a
// test sees the app as committed and never writes into the repository.
func copyApp(t testing.TB, dir string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && (d.Name() == "node_modules" || d.Name() == "build"):
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case strings.HasSuffix(d.Name(), ".jar"):
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeApp writes files (path → content) into a new temporary directory.
func writeApp(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// running is one service run by a real supervisor behind a front server.
type running struct {
	t       testing.TB
	sup     *supervisor.Supervisor
	service string
	url     string
}

// runApp loads dir/app.yaml and runs it.
func runApp(t testing.TB, dir string, opts runtimes.Options, env ...string) *running {
	t.Helper()
	app, err := config.Load([]string{filepath.Join(dir, "app.yaml")}, config.Options{CheckRuntime: runtimes.Check})
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	name := app.Services[0].Name
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	project := testProject
	if app.ID != "" {
		project = "" // the app id
	}
	sup, err := supervisor.New(supervisor.Options{
		App: app, CacheDir: filepath.Join(dir, ".appdeck-cache"), Grace: 2 * time.Second,
		Project: project, Env: env, Runtimes: opts,
		Ports: map[string]int{name: l.Addr().(*net.TCPAddr).Port},
		// Generous: the machine is shared and a JVM or an npm install
		// can be slow to come up.
		ReadyTimeout: 2 * time.Minute,
	})
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	rt, err := proxy.New(proxy.Options{App: app, Pool: sup.Pool, Record: sup.Record})
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: rt.Handler(name)}}
	srv.Start()
	sup.Start()
	t.Cleanup(func() {
		srv.Close()
		sup.Stop()
		rt.Close()
	})
	return &running{t: t, sup: sup, service: name, url: srv.URL}
}

type response struct {
	status int
	header http.Header
	body   string
}

// get requests path, waiting while the service answers that it is
// building or starting (a 503 that asks to retry).
func (r *running) get(path string) response {
	r.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := http.Get(r.url + path)
		if err != nil {
			r.t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			r.t.Fatal(err)
		}
		waiting := resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != ""
		if !waiting || time.Now().After(deadline) {
			return response{resp.StatusCode, resp.Header, string(body)}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// getOK requests path and fails the test unless it answers 200.
func (r *running) getOK(path string) string {
	r.t.Helper()
	resp := r.get(path)
	if resp.status != http.StatusOK {
		r.t.Fatalf("GET %s: %d\n%s\nservice log:\n%s\ninstance log:\n%s", path, resp.status, resp.body, r.log(""), r.log("0"))
	}
	return resp.body
}

// log returns the service's log (instance "") or an instance's.
func (r *running) log(instance string) string {
	var b strings.Builder
	if l := r.sup.Logs(r.service, instance); l != nil {
		for _, ln := range l.Tail(200) {
			b.WriteString(ln.Stream.String() + ": " + ln.Text + "\n")
		}
	}
	return b.String()
}

// instance returns the snapshot of instance 0.
func (r *running) instance() supervisor.InstanceInfo {
	in, ok := r.firstInstance()
	if !ok {
		r.t.Fatalf("service %s has no instance", r.service)
	}
	return in
}

// firstInstance returns the snapshot of instance 0, if the scaler has
// made it yet.
func (r *running) firstInstance() (supervisor.InstanceInfo, bool) {
	for _, s := range r.sup.Snapshot() {
		if s.Name == r.service && len(s.Instances) > 0 {
			return s.Instances[0], true
		}
	}
	return supervisor.InstanceInfo{}, false
}

var (
	versionRE    = regexp.MustCompile(`^\d{8}t\d{6}$`)
	deploymentRE = regexp.MustCompile(`^\d{18}$`)
)

// checkEnv checks the standard variables an app reported as JSON at /env.
func (r *running) checkEnv(runtime string) map[string]string {
	r.t.Helper()
	body := r.getOK("/env")
	var env map[string]string
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		r.t.Fatalf("/env is not a JSON object of strings: %v\n%s", err, body)
	}
	want := map[string]string{
		"GAE_APPLICATION": "dev~" + testProject, "GAE_ENV": "localdev", "GAE_INSTANCE": "0",
		"GAE_MEMORY_MB": "128", "GAE_RUNTIME": runtime, "GAE_SERVICE": "default",
		"GOOGLE_CLOUD_PROJECT": testProject, "GAE_MODULE_NAME": "default", "GAE_PARTITION": "dev",
	}
	for k, v := range want {
		if env[k] != v {
			r.t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	if !versionRE.MatchString(env["GAE_VERSION"]) || !deploymentRE.MatchString(env["GAE_DEPLOYMENT_ID"]) {
		r.t.Errorf("GAE_VERSION=%q GAE_DEPLOYMENT_ID=%q, want a yyyymmddthhmmss version and an 18-digit id", env["GAE_VERSION"], env["GAE_DEPLOYMENT_ID"])
	}
	if port, err := strconv.Atoi(env["PORT"]); err != nil || port <= 0 {
		r.t.Errorf("PORT=%q, want a port number", env["PORT"])
	}
	return env
}
