package supervisor

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
)

// envApp answers every request with its GREETING and its pid.
const envApp = `import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("%s %d" % (os.environ.get("GREETING", "-"), os.getpid())).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`

// appYAML is the app.yaml of envApp, with extra appended.
func appYAML(runtime, greeting, extra string) string {
	return fmt.Sprintf(`runtime: %s
entrypoint: python3 -u app.py
manual_scaling:
  instances: 1
env_variables:
  GREETING: %s
%s`, runtime, greeting, extra)
}

// reloadApp runs envApp from an app.yaml on disk (see serveReloading)
// and returns the app.yaml's path and the front's URL.
func reloadApp(t *testing.T) (*Supervisor, string, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	writeFile(t, filepath.Join(dir, "app.py"), envApp)
	writeFile(t, filepath.Join(dir, "hello.txt"), "static hello")
	writeFile(t, file, appYAML("custom", "hello", ""))
	sup, url := serveReloading(t, file)
	waitFor(t, "the first answer", 60*time.Second, func() bool {
		code, body := fetch(url + "/")
		return code == 200 && strings.HasPrefix(body, "hello ")
	})
	return sup, file, url
}

// serveReloading runs the app at path the way appdeck does: loaded with
// config.Load, watched, reloaded through the front's Router.Reload,
// served by the front server on loopback. It returns the URL of the
// default service's port once every service is watched.
func serveReloading(t *testing.T, path string) (*Supervisor, string) {
	t.Helper()
	requireTools(t, "python3")
	load := func() (*config.App, error) { return config.Load([]string{path}, config.Options{}) }
	app, err := load()
	if err != nil {
		t.Fatal(err)
	}
	var rt *proxy.Router
	sup, err := New(Options{App: app, CacheDir: t.TempDir(), Grace: 2 * time.Second, ReadyTimeout: 20 * time.Second,
		Watch: true, Load: load, Apply: func(a *config.App) error { return rt.Reload(a) }})
	if err != nil {
		t.Fatal(err)
	}
	if rt, err = proxy.New(proxy.Options{App: app, Pool: sup.Pool, Record: sup.Record}); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := rt.NewServer("default")
	go srv.Serve(l)
	sup.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		sup.Stop()
		rt.Close()
	})
	waitFor(t, "the services watched", 10*time.Second, func() bool {
		for _, s := range sup.Snapshot() {
			if !s.Watching {
				return false
			}
		}
		return true
	})
	return sup, "http://" + l.Addr().String()
}

func pids(sup *Supervisor) []int {
	var out []int
	for _, in := range serviceInfo(sup, "default").Instances {
		out = append(out, in.PID)
	}
	return out
}

// waitForLog waits for a line of the service's log matching re.
func waitForLog(t *testing.T, sup *Supervisor, re string) {
	t.Helper()
	pattern := regexp.MustCompile(re)
	waitFor(t, "a log line matching "+re, 60*time.Second, func() bool {
		return pattern.MatchString(readLog(sup, "default", ""))
	})
}

// TestEnvVariablesChangeRestartsInstancesWithoutAFailedRequest edits
// env_variables under continuous traffic: the instances restart, rolling,
// and the next requests see the new value; not one request fails.
func TestEnvVariablesChangeRestartsInstancesWithoutAFailedRequest(t *testing.T) {
	sup, file, url := reloadApp(t)
	before := pids(sup)
	stop := traffic(url+"/", 4)
	writeFile(t, file, appYAML("custom", "bonjour", ""))
	waitFor(t, "the new greeting", 60*time.Second, func() bool {
		_, body := fetch(url + "/")
		return strings.HasPrefix(body, "bonjour ")
	})
	time.Sleep(200 * time.Millisecond) // traffic after the switch, too
	if ok, failures := stop(); len(failures) > 0 || ok < 20 {
		t.Errorf("%d requests succeeded during the edit; failures: %q", ok, failures)
	}
	waitForLog(t, sup, `(?m)^app\.yaml: env_variables changed; restarting the instances$`)
	if after := pids(sup); fmt.Sprint(after) == fmt.Sprint(before) {
		t.Errorf("instances not restarted: pids %v before and after", before)
	}
}

// TestHandlersChangeAppliesToTheNextRequestWithoutRestart adds a static
// file handler and a `login: admin` URL: both apply to the next requests
// and the instance keeps its process.
func TestHandlersChangeAppliesToTheNextRequestWithoutRestart(t *testing.T) {
	sup, file, url := reloadApp(t)
	before := pids(sup)
	if code, body := fetch(url + "/hello"); code != 200 || !strings.HasPrefix(body, "hello ") {
		t.Fatalf("before the edit /hello = %d %q, want the app", code, body)
	}
	writeFile(t, file, appYAML("custom", "hello", `handlers:
- url: /hello
  static_files: hello.txt
  upload: hello\.txt
- url: /admin/.*
  login: admin
  script: auto
`))
	waitFor(t, "the static file", 30*time.Second, func() bool {
		code, body := fetch(url + "/hello")
		return code == 200 && body == "static hello"
	})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url + "/admin/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/_ah/login") {
		t.Errorf("/admin/x without login = %d to %q, want a redirect to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	waitForLog(t, sup, `(?m)^app\.yaml: handlers changed; in force from the next request$`)
	if after := pids(sup); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a handlers change restarted the instances: pids %v, then %v", before, after)
	}
}

// TestInvalidEditKeepsTheConfigurationInForce saves an app.yaml with a bad
// regexp: its position is logged once, the service keeps serving with the
// previous configuration; a fix applies.
func TestInvalidEditKeepsTheConfigurationInForce(t *testing.T) {
	sup, file, url := reloadApp(t)
	ev := record(t, sup)
	bad := "handlers:\n- url: /(unclosed\n  script: auto\n"
	writeFile(t, file, appYAML("custom", "bonjour", bad))
	errLine := `(?m)^\S*app\.yaml:8:8: invalid url regexp .*$`
	waitForLog(t, sup, errLine)
	waitForLog(t, sup, `(?m)^the configuration is not valid: the previous configuration stays in force$`)
	// The dashboard hears of it at once, with the position.
	waitFor(t, "a config-problem event", 10*time.Second, func() bool {
		return len(ev.matching(func(e Event) bool {
			return e.Kind == ConfigProblem && e.Service == "default" &&
				regexp.MustCompile(`app\.yaml:8:8: invalid url regexp .*; the previous configuration stays in force$`).MatchString(e.Reason)
		})) == 1
	})
	// The same mistake again, and another: only the new one is logged.
	writeFile(t, file, appYAML("custom", "bonjour", bad+"default_expiration: 10x\n"))
	waitForLog(t, sup, `(?m)^\S*app\.yaml:10:21: invalid duration`)
	if n := len(regexp.MustCompile(errLine).FindAllString(readLog(sup, "default", ""), -1)); n != 1 {
		t.Errorf("the bad regexp was logged %d times, want once:\n%s", n, readLog(sup, "default", ""))
	}
	if _, body := fetch(url + "/"); !strings.HasPrefix(body, "hello ") {
		t.Errorf("with an invalid app.yaml the app answers %q, want the previous configuration's", body)
	}
	writeFile(t, file, appYAML("custom", "bonjour", ""))
	waitFor(t, "the fixed configuration", 60*time.Second, func() bool {
		_, body := fetch(url + "/")
		return strings.HasPrefix(body, "bonjour ")
	})
}

// TestRuntimeChangeNeedsARestartOfAppdeck changes the runtime: it is
// logged, once, as needing appdeck restarted, the service runs on, and
// the other changes of later edits still apply.
func TestRuntimeChangeNeedsARestartOfAppdeck(t *testing.T) {
	sup, file, url := reloadApp(t)
	before := pids(sup)
	writeFile(t, file, appYAML("python312", "hello", ""))
	waitForLog(t, sup, `(?m)^app\.yaml: runtime changed "custom" → "python312": restart appdeck to apply it$`)
	if code, body := fetch(url + "/"); code != 200 || !strings.HasPrefix(body, "hello ") {
		t.Errorf("after a runtime change the app answers %d %q", code, body)
	}
	if got := serviceInfo(sup, "default").Runtime; got != "custom" {
		t.Errorf("runtime in force %q, want custom", got)
	}
	if after := pids(sup); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a runtime change alone restarted the instances: pids %v, then %v", before, after)
	}
	// The other changes of an edit apply; the runtime line is not repeated.
	writeFile(t, file, appYAML("python312", "salut", ""))
	waitFor(t, "the new greeting", 60*time.Second, func() bool {
		_, body := fetch(url + "/")
		return strings.HasPrefix(body, "salut ")
	})
	if n := strings.Count(readLog(sup, "default", ""), "runtime changed"); n != 1 {
		t.Errorf("the runtime change was logged %d times, want once:\n%s", n, readLog(sup, "default", ""))
	}
}

// twoServiceDir is an app directory with the services default and api,
// each answering with its name (envApp), and no dispatch.yaml.
func twoServiceDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, name := range []string{"default", "api"} {
		dir := filepath.Join(root, name)
		mustMkdir(t, dir)
		writeFile(t, filepath.Join(dir, "app.py"), envApp)
		writeFile(t, filepath.Join(dir, "app.yaml"), "service: "+name+"\n"+appYAML("custom", name, ""))
	}
	return root
}

// serveGreetings serves the app directory root (see serveReloading) and
// returns a function naming the service that answers a path on the
// default port.
func serveGreetings(t *testing.T, root string) (*Supervisor, func(path string) string) {
	t.Helper()
	sup, url := serveReloading(t, root)
	return sup, func(path string) string {
		_, body := fetch(url + path)
		g, _, _ := strings.Cut(body, " ")
		return g
	}
}

// TestDispatchChangeAppliesLive edits the dispatch.yaml of an app
// directory, which no service's watcher sees: a new rule routes the next
// requests, and a rule naming an unknown service is logged with its
// position and changes nothing.
func TestDispatchChangeAppliesLive(t *testing.T) {
	root := twoServiceDir(t)
	dispatch := filepath.Join(root, "dispatch.yaml")
	writeFile(t, dispatch, "dispatch:\n- url: \"*/api/*\"\n  service: api\n")
	sup, greeting := serveGreetings(t, root)
	waitFor(t, "the api service", 60*time.Second, func() bool { return greeting("/api/x") == "api" })
	if g := greeting("/v2/x"); g != "default" {
		t.Fatalf("/v2/x went to %q before the edit", g)
	}
	writeFile(t, dispatch, "dispatch:\n- url: \"*/api/*\"\n  service: api\n- url: \"*/v2/*\"\n  service: api\n")
	waitFor(t, "the new rule", 30*time.Second, func() bool { return greeting("/v2/x") == "api" })
	waitForLog(t, sup, `(?m)^dispatch\.yaml changed: its rules apply from the next request$`)

	writeFile(t, dispatch, "dispatch:\n- url: \"*/v3/*\"\n  service: nosuch\n")
	waitForLog(t, sup, `(?m)^\S*dispatch\.yaml:3:12: .*nosuch`)
	waitForLog(t, sup, `(?m)^the configuration is not valid: the previous configuration stays in force$`)
	if g := greeting("/v2/x"); g != "api" {
		t.Errorf("with an invalid dispatch.yaml /v2/x went to %q, want the rules in force", g)
	}
}

// TestDispatchWrittenLaterApplies: an app directory that had no
// dispatch.yaml at start gets one; its rules apply.
func TestDispatchWrittenLaterApplies(t *testing.T) {
	root := twoServiceDir(t)
	sup, greeting := serveGreetings(t, root)
	waitFor(t, "the default service", 60*time.Second, func() bool { return greeting("/api/x") == "default" })
	writeFile(t, filepath.Join(root, "dispatch.yaml"), "dispatch:\n- url: \"*/api/*\"\n  service: api\n")
	waitFor(t, "the new rule", 30*time.Second, func() bool { return greeting("/api/x") == "api" })
	waitForLog(t, sup, `(?m)^dispatch\.yaml changed: its rules apply from the next request$`)
}

// TestSameIgnoresPositions: a value read again after an edit elsewhere in
// the file has other positions and other compiled patterns, and is the
// same value.
func TestSameIgnoresPositions(t *testing.T) {
	handler := func(line int, url string) *config.Handler {
		return &config.Handler{Pos: config.Pos{File: "app.yaml", Line: line, Col: 3}, URL: url,
			Regexp: regexp.MustCompile("^(?:" + url + ")$"), Script: "auto", Login: config.LoginAdmin}
	}
	a := []*config.Handler{handler(7, "/admin/.*")}
	if !same(a, []*config.Handler{handler(9, "/admin/.*")}) {
		t.Error("the same handler on another line is a change")
	}
	if same(a, []*config.Handler{handler(7, "/admin/x")}) {
		t.Error("another url is no change")
	}
	if same(a, []*config.Handler{handler(7, "/admin/.*"), handler(9, "/x")}) {
		t.Error("a handler more is no change")
	}
	yes := true
	if same((*bool)(nil), &yes) || !same([]config.EnvVar{{Name: "A", Value: "1", Pos: config.Pos{Line: 3}}}, []config.EnvVar{{Name: "A", Value: "1"}}) {
		t.Error("same compares pointers or env_variables wrongly")
	}
}

// TestCodeAndConfigChangedTogether changes a Go service's `main:` and the
// code of both main packages in one save (a git checkout does): the
// service ends up serving the new package's new code, once, and stays
// up. The build made for the code alone, of the old main package, is
// dropped rather than put in force after the configuration's.
func TestCodeAndConfigChangedTogether(t *testing.T) {
	requireTools(t, "go")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/app\n\ngo 1.22\n")
	for _, pkg := range []string{"v1", "v2"} {
		if err := os.Mkdir(filepath.Join(dir, pkg), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, pkg, "main.go"), goApp(pkg))
	}
	yaml := func(main string) string {
		return fmt.Sprintf("runtime: go125\nmain: %s\nmanual_scaling:\n  instances: 1\n", main)
	}
	file := filepath.Join(dir, "app.yaml")
	writeFile(t, file, yaml("v1"))
	sup, url := serveReloading(t, file)
	waitFor(t, "v1", 120*time.Second, func() bool { _, body := fetch(url + "/"); return body == "v1" })

	writeFile(t, filepath.Join(dir, "v1", "main.go"), goApp("v1 edited"))
	writeFile(t, filepath.Join(dir, "v2", "main.go"), goApp("v2 edited"))
	writeFile(t, file, yaml("v2"))
	waitFor(t, "the new package's new code", 120*time.Second, func() bool {
		_, body := fetch(url + "/")
		return body == "v2 edited"
	})
	time.Sleep(2 * time.Second) // a second restart, or a crash, would show by now
	in := serviceInfo(sup, "default").Instances[0]
	if code, body := fetch(url + "/"); code != 200 || body != "v2 edited" || in.State != Ready {
		t.Errorf("after the change: %d %q, instance %s (%s)", code, body, in.State, in.LastError)
	}
	if n := strings.Count(readLog(sup, "default", "0"), "replaced: pid"); n != 1 {
		t.Errorf("the instance was replaced %d times for one save, want once:\n%s", n, readLog(sup, "default", "0"))
	}
	// What is in force is the new build: a restart starts it again.
	if err := sup.Restart("default", "0"); err != nil {
		t.Fatalf("restart after the change: %v\n%s", err, readLog(sup, "default", ""))
	}
	if _, body := fetch(url + "/"); body != "v2 edited" {
		t.Errorf("after a restart: %q, want v2 edited\n%s", body, readLog(sup, "default", ""))
	}
}

// TestSkipFilesChangeWatchesWhatItNoLongerSkips: a directory skip_files
// left out when watching began is watched once skip_files no longer
// names it.
func TestSkipFilesChangeWatchesWhatItNoLongerSkips(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	writeFile(t, filepath.Join(dir, "app.py"), envApp)
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, appYAML("custom", "hello", "skip_files:\n- ^data/.*$\n"))
	sup, url := serveReloading(t, file)
	waitFor(t, "the first answer", 60*time.Second, func() bool { _, body := fetch(url + "/"); return strings.HasPrefix(body, "hello ") })

	writeFile(t, file, appYAML("custom", "hello", ""))
	waitForLog(t, sup, `(?m)^app\.yaml: skip_files changed; restarting the instances$`)
	waitFor(t, "the restart", 30*time.Second, func() bool { return strings.Contains(readLog(sup, "default", "0"), "replaced: pid") })
	writeFile(t, filepath.Join(dir, "data", "x.py"), "# data\n")
	waitForLog(t, sup, `(?m)^files changed: data/x\.py$`)
}

// TestScalingChangeNeedsARestartAndKeepsWhatFollowsFromIt edits the
// scaling of an automatic service, within its kind and to another kind:
// each is logged once, short and in app.yaml's words, as needing appdeck
// restarted, and nothing that follows from the scaling changes with it
// (the default instance class, so GAE_MEMORY_MB): the instances run on.
func TestScalingChangeNeedsARestartAndKeepsWhatFollowsFromIt(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	automatic := func(greeting, scaling string) string {
		return "runtime: custom\nentrypoint: python3 -u app.py\nenv_variables:\n  GREETING: " + greeting + "\n" + scaling
	}
	writeFile(t, filepath.Join(dir, "app.py"), envApp)
	writeFile(t, file, automatic("hello", ""))
	sup, url := serveReloading(t, file)
	waitFor(t, "the first answer", 60*time.Second, func() bool {
		code, body := fetch(url + "/")
		return code == 200 && strings.HasPrefix(body, "hello ")
	})
	before := pids(sup)

	writeFile(t, file, automatic("hello", "automatic_scaling:\n  max_instances: 5\n  min_instances: 1\n"))
	waitForLog(t, sup, `(?m)^app\.yaml: automatic_scaling changed min_instances 0 → 1, max_instances 20 → 5: restart appdeck to apply it$`)
	writeFile(t, file, automatic("hello", "manual_scaling:\n  instances: 2\n"))
	waitForLog(t, sup, `(?m)^app\.yaml: scaling changed automatic_scaling → manual_scaling \(instances: 2\): restart appdeck to apply it$`)
	if c := sup.service("default").conf(); c.Scaling.Kind != config.Automatic || c.InstanceClass != "F1" {
		t.Errorf("in force: %s scaling, instance class %s; want automatic, F1 until appdeck restarts", c.Scaling.Kind, c.InstanceClass)
	}
	if now := pids(sup); fmt.Sprint(now) != fmt.Sprint(before) {
		t.Errorf("a scaling change alone restarted the instances: pids %v, then %v", before, now)
	}
	// Back to no scaling block, with a change that does apply: only it
	// is named, and the instances restart for it alone.
	writeFile(t, file, automatic("salut", ""))
	waitFor(t, "the new greeting", 60*time.Second, func() bool {
		_, body := fetch(url + "/")
		return strings.HasPrefix(body, "salut ")
	})
	log := readLog(sup, "default", "")
	if strings.Contains(log, "instance_class") || !strings.Contains(log, "app.yaml: env_variables changed; restarting the instances") {
		t.Errorf("the log names a change the edits did not make:\n%s", log)
	}
	if strings.Contains(log, "{") {
		t.Errorf("the log shows Go values:\n%s", log)
	}
	if after := pids(sup); len(after) == 0 || len(before) == 0 || after[0] == before[0] {
		t.Errorf("pids %v, then %v: want the instances replaced once, for the greeting", before, after)
	}
}

// TestScalingChangeWords checks the words of scaling changes that the
// live test does not make: values spelled as in app.yaml, a long list
// cut short, and an instance class that waits for the scaling.
func TestScalingChangeWords(t *testing.T) {
	parse := func(yaml string) *config.Service {
		s, diags := config.ParseService("app.yaml", []byte("runtime: go125\n"+yaml), config.Options{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return s
	}
	auto := parse("")
	for _, tt := range []struct{ was, now, want string }{
		{"basic_scaling:\n  idle_timeout: 10m\n", "basic_scaling:\n  idle_timeout: 90s\n  max_instances: 3\n",
			"basic_scaling changed max_instances 1 → 3, idle_timeout 10m → 90s"},
		{"", "automatic_scaling:\n  min_pending_latency: 30ms\n", "automatic_scaling changed min_pending_latency 100ms → 30ms"},
		{"", "basic_scaling:\n  max_instances: 2\n", "scaling changed automatic_scaling → basic_scaling (max_instances: 2)"},
		{"manual_scaling:\n  instances: 3\n", "automatic_scaling:\n  max_concurrent_requests: 5\n  min_instances: 1\n  max_instances: 4\n  target_cpu_utilization: 0.7\n",
			"scaling changed manual_scaling → automatic_scaling (max_concurrent_requests: 5, min_instances: 1, max_instances: 4, …)"},
		{"", "manual_scaling:\n  instances: 1\ninstance_class: B4\n", "scaling changed automatic_scaling → manual_scaling with instance_class B4"},
		{"", "automatic_scaling:\n  max_instances: 20\n", ""},
	} {
		was := auto
		if tt.was != "" {
			was = parse(tt.was)
		}
		if got := scalingChange(was, parse(tt.now)); got != tt.want {
			t.Errorf("%q → %q: %q, want %q", tt.was, tt.now, got, tt.want)
		}
	}
	// The class that waits stays as it was in force.
	now := parse("manual_scaling:\n  instances: 1\ninstance_class: B4\n")
	keepScaling(now, auto)
	if now.Scaling.Kind != config.Automatic || now.InstanceClass != "F1" || now.MemoryMB() != 128 {
		t.Errorf("kept: %s scaling, class %s, %d MB; want automatic, F1, 128", now.Scaling.Kind, now.InstanceClass, now.MemoryMB())
	}
}
