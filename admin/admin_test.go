package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/runtimes"
	"github.com/appdeck/appdeck/supervisor"
)

// appPy serves HTTP on $PORT and prints a line for every request, so a
// test can see its own line come through the log stream.
const appPy = `import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print("hello from " + os.environ["GAE_INSTANCE"] + " for " + self.path, flush=True)
        body = b"ok"
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
print("listening", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`

const testToken = "s3cret"

// env is a real supervisor running a two-instance Python service, with
// its front server and the admin API on loopback.
type env struct {
	sup    *supervisor.Supervisor
	admin  *httptest.Server
	front  *httptest.Server
	client *Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.py"), appPy)
	write(t, filepath.Join(dir, "app.yaml"), "runtime: python312\nentrypoint: python3 -u app.py\nmanual_scaling:\n  instances: 2\n")
	app, err := config.Load([]string{filepath.Join(dir, "app.yaml")}, config.Options{CheckRuntime: runtimes.Check})
	if err != nil {
		t.Fatal(err)
	}
	sup, err := supervisor.New(supervisor.Options{App: app, CacheDir: t.TempDir(), Grace: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{sup: sup}
	rt, err := proxy.New(proxy.Options{App: app, Pool: sup.Pool, Record: sup.Record})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	e.front = httptest.NewServer(rt.Handler("default"))
	srv := New(Options{Sup: sup, Token: testToken, App: "testapp", ServiceHost: "127.0.0.1"})
	e.admin = httptest.NewServer(srv)
	e.client = &Client{Base: e.admin.URL, Token: testToken}
	sup.Start()
	t.Cleanup(func() {
		_ = srv.Shutdown(context.Background()) // ends the streams, so Close does not wait on them
		e.admin.Close()
		e.front.Close()
		sup.Stop()
	})
	e.waitReady(t, 2)
	return e
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitReady waits until the service has n instances, all ready.
func (e *env) waitReady(t *testing.T, n int) []Instance {
	t.Helper()
	var last []Instance
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		svc, err := e.client.Service(context.Background(), "default")
		if err != nil {
			t.Fatal(err)
		}
		last = svc.Instances
		ready := len(last) == n
		for _, in := range last {
			ready = ready && in.State == Ready
		}
		if ready {
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never %d ready instances; last: %+v", n, last)
	return nil
}

// call sends a request to the admin API and returns the status and body.
func (e *env) call(t *testing.T, method, path string, header http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.admin.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v[0]
		}
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var bearer = http.Header{"Authorization": {"Bearer " + testToken}}

func TestGuardChecksHostOriginAndToken(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		status             int
		body               string
	}{
		{"read needs no token", "GET", "/api/services", nil, 200, `"name":"default"`},
		{"localhost with port", "GET", "/healthz", http.Header{"Host": {"localhost:8000"}}, 200, `"status":"ok"`},
		{"IPv6 loopback", "GET", "/healthz", http.Header{"Host": {"[::1]:8000"}}, 200, `"ok"`},
		{"foreign host", "GET", "/api/services", http.Header{"Host": {"evil.example:8000"}}, 400, `"message":"Host \"evil.example:8000\" is not allowed`},
		{"rebound name", "GET", "/", http.Header{"Host": {"attacker.test"}}, 400, "DNS rebinding"},
		{"foreign origin", "POST", "/api/instances/default/0/restart", http.Header{"Origin": {"https://evil.example"}, "Authorization": bearer["Authorization"]}, 403, "cross-origin"},
		{"no token", "POST", "/api/instances/default/0/restart", nil, 401, "needs the token"},
		{"wrong token", "POST", "/api/services/default/scale", http.Header{"Authorization": {"Bearer nope"}}, 401, "needs the token"},
		{"token without Bearer", "POST", "/api/services/default/rebuild", http.Header{"Authorization": {testToken}}, 401, `"status":401`},
	} {
		status, body := e.call(t, tc.method, tc.path, tc.header, "")
		if status != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, status, body, tc.status, tc.body)
		}
	}
	// Exposed beyond loopback, reads of the API need the token too; the
	// status page and /healthz do not.
	exposed := New(Options{Sup: e.sup, Token: testToken, TokenForReads: true})
	for _, tc := range []struct {
		path   string
		header http.Header
		status int
	}{
		{"/api/logs", nil, 401},
		{"/api/services", bearer, 200},
		{"/", nil, 200},
		{"/healthz", nil, 200},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "http://127.0.0.1:8000"+tc.path, nil)
		req.Header = tc.header
		if req.Header == nil {
			req.Header = http.Header{}
		}
		exposed.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("exposed GET %s: %d, want %d", tc.path, rec.Code, tc.status)
		}
	}
	// Nothing changed: the refused restart did not happen.
	for _, in := range e.waitReady(t, 2) {
		if in.Restarts != 0 {
			t.Errorf("instance %s restarted by a refused call", in.ID)
		}
	}
}

func TestErrorsAreJSONWithTheRightStatus(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, path, body string
		status             int
		message            string
	}{
		{"GET", "/api/instances/default/7", "", 404, `"no instance default/7 (default has instances 0, 1)",`},
		{"GET", "/api/services/nope", "", 404, `"no service \"nope\" (the services are default)",`},
		{"POST", "/api/instances/default/9/kill", "", 404, "no instance default/9"},
		{"POST", "/api/instances/default/0/explode", "", 404, `unknown action \"explode\"`},
		{"POST", "/api/instances/default/0/start", "", 409, "default/0 is already running"},
		{"POST", "/api/services/default/scale", `{"instances": "two"}`, 400, "bad body"},
		{"POST", "/api/services/default/scale", `{"replicas": 2}`, 400, `unknown field \"replicas\"`},
		{"POST", "/api/services/default/scale", `{}`, 400, `give either \"instances\" or \"auto\"`},
		{"POST", "/api/services/default/scale", `{"instances": 1, "auto": true}`, 400, `give either \"instances\" or \"auto\"`},
		{"POST", "/api/services/default/scale", `{"instances": 5000}`, 400, "choose 0 to 50"},
		{"POST", "/api/services/default/scale", `{"instances": -1}`, 400, "choose 0 to 50"},
		{"POST", "/api/services/nope/scale", `{"instances": 1}`, 404, `"no service \"nope\" (the services are default)",`},
		{"GET", "/api/logs?follow=yes", "", 400, `follow=\"yes\"`},
		{"GET", "/api/logs?since=yesterday", "", 400, "want a duration"},
		{"GET", "/api/logs?instance=0", "", 400, "instance= needs service="},
		{"GET", "/api/logs?service=default&instance=5", "", 404, `"no instance default/5 (default has instances 0, 1)",`},
		{"GET", "/api/logs?service=nope", "", 404, `"no service \"nope\" (the services are default)",`},
		{"GET", "/api/requests?service=nope", "", 404, `"no service \"nope\" (the services are default)",`},
		{"GET", "/api/nothing", "", 404, "no such endpoint"},
		{"DELETE", "/api/services", "", 405, "DELETE is not allowed on /api/services; use GET"},
	} {
		status, body := e.call(t, tc.method, tc.path, bearer, tc.body)
		var eb errorBody
		if err := json.Unmarshal([]byte(body), &eb); err != nil {
			t.Errorf("%s %s: not JSON: %s", tc.method, tc.path, body)
			continue
		}
		if status != tc.status || eb.Status != tc.status || !strings.Contains(body, tc.message) {
			t.Errorf("%s %s: %d %s, want %d with %q", tc.method, tc.path, status, body, tc.status, tc.message)
		}
	}
}

func TestInstanceActions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	before, err := e.client.Instance(ctx, "default", "0")
	if err != nil {
		t.Fatal(err)
	}
	after, err := e.client.InstanceAction(ctx, "default", "0", "restart")
	if err != nil {
		t.Fatal(err)
	}
	if after.PID == 0 || after.PID == before.PID || after.Restarts != 1 {
		t.Errorf("restart: pid %d → %d, restarts %d", before.PID, after.PID, after.Restarts)
	}
	stopped, err := e.client.InstanceAction(ctx, "default", "1", "stop")
	if err != nil || stopped.State != "stopped" || stopped.PID != 0 {
		t.Errorf("stop: %+v %v", stopped, err)
	}
	var ae *Error
	if _, err := e.client.InstanceAction(ctx, "default", "1", "kill"); !errors.As(err, &ae) || ae.Status != 409 {
		t.Errorf("kill of a stopped instance: %v, want 409", err)
	}
	if _, err := e.client.InstanceAction(ctx, "default", "1", "start"); err != nil {
		t.Fatal(err)
	}
	e.waitReady(t, 2)
	killed, err := e.client.InstanceAction(ctx, "default", "1", "kill")
	if err != nil || killed.State != "stopped" || !strings.Contains(killed.Reason, "SIGKILL") {
		t.Errorf("kill: %+v %v", killed, err)
	}
}

func TestServiceActionsAndScale(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	svc, err := e.client.Scale(ctx, "default", 3)
	if err != nil || len(svc.Instances) != 3 {
		t.Fatalf("scale to 3: %+v %v", svc, err)
	}
	e.waitReady(t, 3)
	svc, err = e.client.ServiceAction(ctx, "default", "stop")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range svc.Instances {
		if in.State != "stopped" {
			t.Errorf("after stop: %s is %s", in.ID, in.State)
		}
	}
	if _, err := e.client.ServiceAction(ctx, "default", "stop"); err != nil {
		t.Errorf("stop again: %v (want no error: every instance is already stopped)", err)
	}
	if _, err := e.client.ServiceAction(ctx, "default", "start"); err != nil {
		t.Fatal(err)
	}
	e.waitReady(t, 3)
	if svc, err = e.client.Scale(ctx, "default", 1); err != nil || len(svc.Instances) != 1 {
		t.Fatalf("scale to 1: %+v %v", svc, err)
	}
	if svc, err = e.client.ServiceAction(ctx, "default", "rebuild"); err != nil || svc.BuildError != "" {
		t.Fatalf("rebuild: %+v %v", svc, err)
	}
	e.waitReady(t, 1)
	// auto: back to app.yaml's manual_scaling.instances, 2.
	if svc, err = e.client.Scale(ctx, "default", supervisor.ScaleAuto); err != nil || len(svc.Instances) != 2 {
		t.Fatalf("scale to auto: %+v %v", svc, err)
	}
	e.waitReady(t, 2)
}

func TestLogsFollowSeesWhatTheAppPrints(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lines := make(chan LogLine, 100)
	go func() {
		_ = e.client.FollowLogs(ctx, url.Values{"service": {"default"}}, func(l LogLine) { lines <- l })
	}()
	// The backlog comes first: each instance said it was listening.
	waitLine(t, lines, func(l LogLine) bool { return l.Line == "listening" && l.Stream == "stdout" })
	marker := fmt.Sprintf("/marker-%d", time.Now().UnixNano())
	if _, err := http.Get(e.front.URL + marker); err != nil {
		t.Fatal(err)
	}
	l := waitLine(t, lines, func(l LogLine) bool { return strings.HasSuffix(l.Line, "for "+marker) })
	if l.Service != "default" || l.Instance == "" || l.Seq == 0 || l.Time.IsZero() {
		t.Errorf("line without its origin: %+v", l)
	}

	// Without follow: the lines held, filtered by instance and tail.
	got, err := e.client.Logs(ctx, url.Values{"service": {"default"}, "instance": {l.Instance}, "tail": {"1"}})
	if err != nil || len(got) != 1 || got[0].Line != l.Line {
		t.Errorf("tail 1 of %s: %+v %v", l.Instance, got, err)
	}
	if got, err := e.client.Logs(ctx, url.Values{"tail": {"0"}}); err != nil || len(got) != 0 {
		t.Errorf("tail 0: %+v %v, want none", got, err)
	}
	if got, err := e.client.Logs(ctx, url.Values{"tail": {"-1"}}); err == nil {
		t.Errorf("tail -1: %d lines, want 400 (leave tail out for all)", len(got))
	}
	got, err = e.client.Logs(ctx, url.Values{"since": {"1h"}})
	if err != nil || len(got) < 3 {
		t.Errorf("since 1h: %d lines, %v", len(got), err)
	}
	got, err = e.client.Logs(ctx, url.Values{"since": {time.Now().Add(time.Hour).Format(time.RFC3339)}})
	if err != nil || len(got) != 0 {
		t.Errorf("since an hour ahead: %+v %v", got, err)
	}
}

func waitLine(t *testing.T, lines <-chan LogLine, match func(LogLine) bool) LogLine {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l := <-lines:
			if match(l) {
				return l
			}
		case <-timeout:
			t.Fatal("the line never came")
		}
	}
}

func TestRequestsFollowAndList(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	reqs := make(chan Request, 10)
	go func() {
		_ = e.client.FollowRequests(ctx, url.Values{}, func(r Request) { reqs <- r })
	}()
	if _, err := http.Get(e.front.URL + "/one?x=1"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reqs:
		if r.Path != "/one?x=1" || r.Status != 200 || r.Service != "default" || r.Instance == "" || r.Seq != 1 {
			t.Errorf("request: %+v", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request never came")
	}
	got, err := e.client.Requests(ctx, url.Values{"service": {"default"}})
	if err != nil || len(got) != 1 || got[0].Bytes != 2 || got[0].Method != "GET" {
		t.Errorf("list: %+v %v", got, err)
	}
	for _, p := range []string{"/two", "/three"} {
		if _, err := http.Get(e.front.URL + p); err != nil {
			t.Fatal(err)
		}
		select { // recorded once the front server is done with it
		case <-reqs:
		case <-ctx.Done():
			t.Fatal("the request never came")
		}
	}
	got, err = e.client.Requests(ctx, url.Values{"tail": {"2"}})
	if err != nil || len(got) != 2 || got[0].Path != "/two" || got[1].Path != "/three" {
		t.Errorf("tail 2: %+v %v", got, err)
	}
	if got, err = e.client.Requests(ctx, url.Values{"tail": {"0"}}); err != nil || len(got) != 0 {
		t.Errorf("tail 0: %+v %v, want none", got, err)
	}
	// Following with tail 0 gives only what comes next, as tail -n 0 -f.
	fresh := make(chan Request, 10)
	go func() {
		_ = e.client.FollowRequests(ctx, url.Values{"tail": {"0"}}, func(r Request) { fresh <- r })
	}()
	// Requests go until one reaches it: the first it sends must be new.
	for n := 0; ; n++ {
		if _, err := http.Get(fmt.Sprintf("%s/new-%d", e.front.URL, n)); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-fresh:
			if !strings.HasPrefix(r.Path, "/new-") {
				t.Errorf("follow with tail 0 sent an old request: %+v", r)
			}
		case <-time.After(200 * time.Millisecond):
			continue
		case <-ctx.Done():
			t.Fatal("no request came")
		}
		break
	}
	if got, err = e.client.Requests(ctx, url.Values{"service": {"nope"}}); err == nil {
		t.Errorf("unknown service: %+v, want 404", got)
	}
}

func TestEventsStartWithASnapshot(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type ev struct {
		name string
		data []byte
	}
	events := make(chan ev, 100)
	go func() {
		_ = e.client.stream(ctx, "/api/events", func(name string, data []byte) error {
			events <- ev{name, data}
			return nil
		})
	}()
	var first ev
	select {
	case first = <-events:
	case <-ctx.Done():
		t.Fatal("no snapshot event")
	}
	var snap []Service
	if first.name != "snapshot" || json.Unmarshal(first.data, &snap) != nil || len(snap) != 1 {
		t.Fatalf("first event: %s %s", first.name, first.data)
	}
	// A stop and a start pass through every state change; a restart of a
	// ready instance is rolling and announces itself as a notice.
	next := func() Event { // the next event about instance 0
		t.Helper()
		for {
			select {
			case x := <-events:
				var got Event
				if err := json.Unmarshal(x.data, &got); err != nil || x.name != got.Kind {
					t.Fatalf("event %s: %s", x.name, x.data)
				}
				if got.Instance == "0" {
					return got
				}
			case <-ctx.Done():
				t.Fatal("no more events")
			}
		}
	}
	seen := map[string]bool{}
	for _, action := range []string{"stop", "start"} {
		if _, err := e.client.InstanceAction(ctx, "default", "0", action); err != nil {
			t.Fatal(err)
		}
	}
	for !seen["ready"] {
		if got := next(); got.Kind == "state" {
			seen[got.State] = true
		}
	}
	if !seen["draining"] || !seen["stopped"] || !seen["starting"] {
		t.Errorf("a stop and a start pass through draining, stopped, starting and ready; saw %v", seen)
	}
	if _, err := e.client.InstanceAction(ctx, "default", "0", "restart"); err != nil {
		t.Fatal(err)
	}
	for {
		got := next()
		if got.Kind == "state" && got.State != "ready" {
			t.Errorf("a rolling restart took the instance out of rotation: %+v", got)
		}
		if got.Kind == "notice" && strings.HasPrefix(got.Reason, "replaced:") {
			break
		}
	}
}

func TestStatusPageShowsEveryInstance(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.admin.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	for _, want := range []string{"<title>testapp · appdeck</title>", `http-equiv="refresh"`, "default/0", "default/1", "● ready", "python312"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestStreamsEndAtShutdown(t *testing.T) {
	e := newEnv(t)
	srv := New(Options{Sup: e.sup, Token: testToken})
	l := httptest.NewUnstartedServer(nil).Listener
	go func() { _ = srv.Serve(l) }()
	c := &Client{Base: "http://" + l.Addr().String()}
	done := make(chan error, 1)
	started := make(chan struct{}, 1)
	go func() {
		done <- c.FollowLogs(context.Background(), url.Values{}, func(LogLine) {
			select {
			case started <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-started: // the backlog came: the stream is open
	case err := <-done:
		t.Fatalf("follow: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("shutdown waited on the stream: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("follow ended with %v, want nil at shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the stream did not end at shutdown")
	}
}
