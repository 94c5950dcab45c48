package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
)

// seen is what the echo backend reports about a request it received.
type seen struct {
	Method, URI, Host string
	Header            http.Header
	BodyLen           int
}

// echoBackend is a real app on loopback: it answers with what it
// received, plus a few paths that stream, fail or hang.
func echoBackend(t testing.TB, release <-chan struct{}) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sse":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: first\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			fmt.Fprint(w, "data: second\n\n")
			return
		case "/error-code":
			w.Header().Set("X-Appengine-Error-Code", "1")
			w.WriteHeader(500)
			fmt.Fprint(w, "the app's own 500")
			return
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		case "/ws":
			serveWebSocketEcho(t, w, r)
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		_ = json.NewEncoder(w).Encode(seen{r.Method, r.RequestURI, r.Host, r.Header, int(n)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// testPool leases a real forwarder, or fails with err.
type testPool struct {
	f   http.Handler
	err error
	mu  sync.Mutex
	n   int // leases out
}

func (p *testPool) Acquire(context.Context) (*Lease, error) { return p.TryAcquire() }

func (p *testPool) TryAcquire() (*Lease, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	p.n++
	return &Lease{Handler: p.f, Instance: "0", Done: func(Outcome) { p.mu.Lock(); p.n--; p.mu.Unlock() }}, nil
}

// set replaces what the pool leases: a handler, or an error.
func (p *testPool) set(h http.Handler, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h != nil {
		p.f = h
	}
	p.err = err
}

// testApp is an app served by a real front Server on loopback.
type testApp struct {
	addr    string // front host:port of the first service
	addrs   map[string]string
	pools   map[string]*testPool
	mu      sync.Mutex
	records []Outcome
	warns   []string
}

// count is how many requests were recorded so far.
func (a *testApp) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.records)
}

// record returns the n-th record (from 0), waiting for it: a request is
// recorded once its response is written, a moment after the client may
// have read it.
func (a *testApp) record(t *testing.T, n int) Outcome {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		a.mu.Lock()
		if len(a.records) > n {
			o := a.records[n]
			a.mu.Unlock()
			return o
		}
		a.mu.Unlock()
	}
	t.Fatalf("request %d was never recorded", n)
	return Outcome{}
}

// writeFiles writes name → content under dir; a content starting with
// "symlink:" makes a symbolic link to the rest.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "symlink:"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startApp loads the app.yaml files (and dispatch.yaml) in files, gives
// every service a forwarder to backend and serves each on a free port.
func startApp(t testing.TB, backend *httptest.Server, files map[string]string, opts Options) *testApp {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	var paths []string
	for name := range files {
		if filepath.Base(name) == "app.yaml" || name == "dispatch.yaml" {
			paths = append(paths, filepath.Join(dir, name))
		}
	}
	// Services in a stable order: the default service first.
	for i, p := range paths {
		if strings.HasSuffix(p, filepath.Join(dir, "app.yaml")) || strings.HasSuffix(p, "/default/app.yaml") {
			paths[0], paths[i] = paths[i], paths[0]
		}
	}
	app, err := config.Load(paths, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := &testApp{addrs: map[string]string{}, pools: map[string]*testPool{}}
	f := NewForwarder(strings.TrimPrefix(backend.URL, "http://"), 10, func() string { return "" })
	opts.App = app
	opts.Pool = func(name string) Pool {
		p := &testPool{f: f}
		a.pools[name] = p
		return p
	}
	opts.Record = func(o Outcome) { a.mu.Lock(); a.records = append(a.records, o); a.mu.Unlock() }
	opts.Warn = func(svc, msg string) { a.mu.Lock(); a.warns = append(a.warns, svc+": "+msg); a.mu.Unlock() }
	rt, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, svc := range app.Services {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := rt.NewServer(svc.Name)
		go s.Serve(l)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
		})
		a.addrs[svc.Name] = l.Addr().String()
		if i == 0 {
			a.addr = l.Addr().String()
		}
	}
	t.Cleanup(func() { rt.Close() })
	return a
}

// appOn is the script app, its requests forwarded to the instance at
// addr, which serves capacity of them at once.
func appOn(t testing.TB, addr string, capacity int) *testApp {
	t.Helper()
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	a.pools["default"].set(NewForwarder(addr, capacity, func() string { return "" }), nil)
	return a
}

// rawBackend is an instance written by hand: serve runs on each
// connection it accepts, on a goroutine of its own, which closes the
// connection after. It returns the instance's address.
func rawBackend(t testing.TB, serve func(c net.Conn)) string {
	t.Helper()
	return acceptEach(t, func(c net.Conn) {
		go func() {
			defer c.Close()
			serve(c)
		}()
	})
}

// acceptEach listens on a free loopback port and runs handle on each
// connection it accepts, in turn, until the test ends. It returns the
// address.
func acceptEach(t testing.TB, handle func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
	return l.Addr().String()
}

// loadApp loads one app.yaml.
func loadApp(t testing.TB, yaml string) *config.App {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"app.yaml": yaml})
	app, err := config.Load([]string{filepath.Join(dir, "app.yaml")}, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// raw sends a request written by hand on a fresh connection and reads
// one response.
func raw(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	return readResponse(t, bufio.NewReader(c), req)
}

func readResponse(t *testing.T, br *bufio.Reader, req string) (*http.Response, string) {
	t.Helper()
	method, _, _ := strings.Cut(req, " ")
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading the response to %q: %v", strings.SplitN(req, "\r\n", 2)[0], err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return res, string(body)
}

func decodeSeen(t *testing.T, body string) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("the app did not answer: %v\n%s", err, body)
	}
	return s
}

const scriptApp = "runtime: custom\nentrypoint: ./app\nhandlers:\n- url: /.*\n  script: auto\n"

func TestSpoofedHeadersNeverReachTheApp(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	spoof := "X-Appengine-User-Email: evil@example.com\r\n" +
		"X_Appengine_User_Email: evil@example.com\r\n" +
		"x-appengine-user-is-admin: 1\r\n" +
		"X_APPENGINE_USER_IS_ADMIN: 1\r\n" +
		"X-Appengine-User-Id: 123\r\n" +
		"X-AppEngine-Country: US\r\n" +
		"X-Appengine-Fake-Is-Admin: 1\r\n" +
		"X-Appengine-Request-Log-Id: spoofed\r\n" +
		"X-Google-Internal: spoofed\r\n" +
		"X_Google_Internal: spoofed\r\n" +
		"X-Forwarded-For: 6.6.6.6\r\n" +
		"X_Forwarded_For: 6.6.6.6\r\n" +
		"X-Forwarded-Proto: https\r\n" +
		"Keep-Alive: timeout=5\r\n" +
		"Proxy-Authorization: secret\r\n" +
		"X-Custom: kept\r\n"
	for _, tt := range []struct{ name, req string }{
		{"fast path", "GET /who?x=1 HTTP/1.1\r\nHost: localhost\r\n" + spoof + "\r\n"},
		{"general path (chunked upload)", "POST /who?x=1 HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n" + spoof + "\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"general path (HTTP/1.0)", "GET /who?x=1 HTTP/1.0\r\nHost: localhost\r\n" + spoof + "\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := raw(t, a.addr, tt.req)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			s := decodeSeen(t, body)
			for name, vs := range s.Header {
				for _, v := range vs {
					if strings.Contains(v, "evil") || strings.Contains(v, "spoofed") || v == "6.6.6.6" || v == "US" || v == "secret" || v == "timeout=5" {
						t.Errorf("the app saw the client's %s: %s", name, v)
					}
				}
				if strings.Contains(name, "_") {
					t.Errorf("the app saw %s", name)
				}
			}
			h := http.Header(s.Header)
			want := map[string]string{
				"X-Appengine-Country": "ZZ", "X-Appengine-User-Email": "", "X-Appengine-User-Is-Admin": "0",
				"X-Appengine-User-Id": "", "X-Appengine-User-Nickname": "", "X-Appengine-User-Organization": "",
				"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "X-Custom": "kept",
			}
			for k, v := range want {
				if got := h.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s: %q, want exactly %q", k, got, v)
				}
			}
			if id := h.Get("X-Appengine-Request-Log-Id"); len(id) != 32 {
				t.Errorf("X-Appengine-Request-Log-Id %q", id)
			}
			if tc := h.Get("X-Cloud-Trace-Context"); !strings.Contains(tc, "/") || !strings.HasSuffix(tc, ";o=1") {
				t.Errorf("X-Cloud-Trace-Context %q", tc)
			}
			if s.Host != "localhost" || s.URI != "/who?x=1" {
				t.Errorf("host %q uri %q", s.Host, s.URI)
			}
			if got := res.Header.Values("Set-Cookie"); len(got) != 2 {
				t.Errorf("repeated response headers: %q", got)
			}
		})
	}
}

func TestUserHeadersComeFromTheCookie(t *testing.T) {
	// Acceptance 13 (and 12: a client's user id is replaced).
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	cookie := strings.TrimSuffix(loginCookieValue("user@example.com", true), "; Path=/")
	for _, extra := range []string{"", "Transfer-Encoding: chunked\r\n"} {
		body := ""
		if extra != "" {
			body = "0\r\n\r\n"
		}
		_, out := raw(t, a.addr, "POST / HTTP/1.1\r\nHost: localhost\r\nCookie: x=y; "+cookie+"\r\nX-Appengine-User-Id: 123\r\n"+extra+"\r\n"+body)
		h := http.Header(decodeSeen(t, out).Header)
		for k, v := range map[string]string{
			"X-Appengine-User-Email": "user@example.com", "X-Appengine-User-Id": userID("user@example.com"),
			"X-Appengine-User-Is-Admin": "1", "X-Appengine-User-Nickname": "user", "X-Appengine-User-Organization": "example.com",
		} {
			if got := h.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("%q: %s = %q, want %q", extra, k, got, v)
			}
		}
	}
}

func TestTraceContextFromTheClientIsKept(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	_, out := raw(t, a.addr, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Cloud-Trace-Context: abc/1;o=1\r\n\r\n")
	if got := http.Header(decodeSeen(t, out).Header).Values("X-Cloud-Trace-Context"); len(got) != 1 || got[0] != "abc/1;o=1" {
		t.Errorf("trace %q", got)
	}
}

func newBackend(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// leased is how many leases are out.
func (p *testPool) leased() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}
