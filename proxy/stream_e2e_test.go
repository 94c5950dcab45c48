package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestServerSentEventsArriveBeforeTheEnd(t *testing.T) {
	release := make(chan struct{})
	a := startApp(t, echoBackend(t, release), map[string]string{"app.yaml": scriptApp}, Options{})
	for _, req := range []string{
		"GET /sse HTTP/1.1\r\nHost: localhost\r\n\r\n",                                        // fast path
		"GET /sse HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", // general path
	} {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		_, _ = io.WriteString(c, req)
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(res.Body).ReadString('\n')
		if err != nil || line != "data: first\n" {
			t.Fatalf("first event %q %v", line, err)
		}
		// The first event came while the app still held the response open.
		release <- struct{}{}
		rest, _ := io.ReadAll(res.Body)
		if !strings.Contains(string(rest), "data: second") {
			t.Errorf("rest %q", rest)
		}
		c.Close()
	}
}

func TestKeepAliveAcrossBothPaths(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"index.html": "Hello World!", "app.yaml": "runtime: custom\nentrypoint: ./app\n" +
		"handlers:\n- url: /index\\.html\n  static_files: index.html\n  upload: index\\.html\n- url: /.*\n  script: auto\n"}, Options{})
	c, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	// Two pipelined requests for the app, a static file (which hands the
	// connection to the general path), then the app again, then a body.
	reqs := []string{
		"GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"HEAD /b HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /c HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"POST /d HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
	}
	_, _ = io.WriteString(c, reqs[0]+reqs[1])
	for i, req := range reqs {
		if i >= 2 {
			_, _ = io.WriteString(c, req)
		}
		res, body := readResponse(t, br, req)
		if res.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, res.StatusCode, body)
		}
		switch i {
		case 1:
			if body != "" {
				t.Errorf("HEAD body %q", body)
			}
		case 2:
			if body != "Hello World!" {
				t.Errorf("static %q", body)
			}
		case 4:
			if s := decodeSeen(t, body); s.BodyLen != 5 || s.Method != "POST" {
				t.Errorf("POST: %+v", s)
			}
		default:
			if s := decodeSeen(t, body); !strings.HasPrefix(s.URI, "/") {
				t.Errorf("request %d: %+v", i, s)
			}
		}
	}
}

func TestLargeUploadOnTheFastPath(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	body := strings.Repeat("x", 3<<20)
	res, out := raw(t, a.addr, fmt.Sprintf("PUT /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	if res.StatusCode != 200 || decodeSeen(t, out).BodyLen != len(body) {
		t.Errorf("%d %s", res.StatusCode, out)
	}
}

func TestBodiesOver32MiBGet413(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	// Announced: refused before any byte of the body is read.
	res, body := raw(t, a.addr, "POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: 33554433\r\n\r\n")
	if res.StatusCode != 413 || !strings.Contains(body, "Upload limited to 32 megabytes.") {
		t.Errorf("Content-Length over the limit: %d %q", res.StatusCode, body)
	}
	// Exactly the limit passes.
	c, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	go func() {
		_, _ = io.WriteString(c, "POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: 33554432\r\n\r\n")
		_, _ = c.Write(make([]byte, 32<<20))
	}()
	res, out := readResponse(t, bufio.NewReader(c), "POST")
	if res.StatusCode != 200 || decodeSeen(t, out).BodyLen != 32<<20 {
		t.Errorf("exactly 32 MiB: %d", res.StatusCode)
	}
	// Chunked: cut off once it passes the limit.
	c2, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_ = c2.SetDeadline(time.Now().Add(60 * time.Second))
	go func() {
		_, _ = io.WriteString(c2, "POST /up HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
		chunk := append([]byte(fmt.Sprintf("%x\r\n", 1<<20)), make([]byte, 1<<20)...)
		chunk = append(chunk, "\r\n"...)
		for range 40 {
			if _, err := c2.Write(chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(c2, "0\r\n\r\n")
	}()
	res, body = readResponse(t, bufio.NewReader(c2), "POST")
	if res.StatusCode != 413 || !strings.Contains(body, "Upload limited to 32 megabytes.") {
		t.Errorf("chunked over the limit: %d %q", res.StatusCode, body)
	}
}

func TestHostCheckEndToEnd(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{AllowHosts: []string{"*.example.dev"}})
	for _, tt := range []struct {
		req  string
		code int
	}{
		{"GET / HTTP/1.1\r\nHost: evil.com\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: evil.com:8080\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: 10.1.2.3\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: example.dev\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\n\r\n", 400}, // HTTP/1.1 needs a Host (acceptance 63)
		{"GET / HTTP/1.0\r\n\r\n", 200}, // HTTP/1.0 may omit it
		{"GET / HTTP/1.1\r\nHost: localhost:1234\r\n\r\n", 200},
		{"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 200},
		{"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 200},
		{"GET / HTTP/1.1\r\nHost: app.example.dev\r\n\r\n", 200},
	} {
		res, body := raw(t, a.addr, tt.req)
		if res.StatusCode != tt.code {
			t.Errorf("%q: %d, want %d", tt.req, res.StatusCode, tt.code)
		}
		if tt.code == 400 && strings.Contains(tt.req, "evil") && !strings.Contains(body, "--allow-host evil.com") {
			t.Errorf("400 does not say how to allow the host: %q", body)
		}
	}
}

func TestChunkedAndUnframedResponses(t *testing.T) {
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			// HTTP/1.0 style: no length, the end is the connection's end.
			c, brw, _ := http.NewResponseController(w).Hijack()
			_, _ = brw.WriteString("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
			_ = brw.Flush()
			c.Close()
			return
		}
		if r.URL.Path == "/trailer" {
			w.Header().Set("Trailer", "X-Checksum")
			fmt.Fprint(w, "counted")
			w.(http.Flusher).Flush()
			w.Header().Set("X-Checksum", "7 bytes")
			return
		}
		for i := range 3 {
			fmt.Fprintf(w, "part %d;", i)
			w.(http.Flusher).Flush()
		}
	})
	srv := newBackend(t, backend)
	a := startApp(t, srv, map[string]string{"app.yaml": scriptApp}, Options{})
	res, body := raw(t, a.addr, "GET /chunked HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if res.StatusCode != 200 || body != "part 0;part 1;part 2;" || len(res.TransferEncoding) == 0 {
		t.Errorf("chunked: %d %v %q", res.StatusCode, res.TransferEncoding, body)
	}
	res, body = raw(t, a.addr, "GET /close HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if res.StatusCode != 200 || body != "until the end" || !res.Close {
		t.Errorf("unframed: %d close=%v %q", res.StatusCode, res.Close, body)
	}
	// Trailers reach the client on both paths, and the connection to the
	// instance stays usable after them.
	for _, req := range []string{
		"GET /trailer HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /trailer HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	} {
		res, body = raw(t, a.addr, req)
		if res.StatusCode != 200 || body != "counted" || res.Trailer.Get("X-Checksum") != "7 bytes" {
			t.Errorf("trailer: %d %q trailer %v", res.StatusCode, body, res.Trailer)
		}
	}
	// The pool did not keep the closed connection: the next request works.
	if res, body = raw(t, a.addr, "GET /chunked HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 200 {
		t.Errorf("after an unframed response: %d %q", res.StatusCode, body)
	}
}

// A backend that closes each connection a moment after answering, with
// no "Connection: close": the pooled connection goes stale, and the next
// request on it must be retried on a fresh one.
func TestStaleBackendConnectionIsRetried(t *testing.T) {
	a := appOn(t, rawBackend(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		time.Sleep(20 * time.Millisecond)
	}), 4)
	for i := range 3 {
		res, body := raw(t, a.addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
		if res.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, res.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond) // the backend has closed by now
	}
}

func TestMalformedRequestsAreLeftToNetHTTP(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	for _, tt := range []struct {
		req  string
		code int
	}{
		{"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\rInjected: 1\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\x00b\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost : localhost\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
		{"GET / HTTP/1.1\nHost: localhost\n\n", 200}, // bare LFs: accepted at once, not after a timeout
	} {
		start := time.Now()
		res, body := raw(t, a.addr, tt.req)
		if res.StatusCode != tt.code {
			t.Errorf("%q: %d %q, want %d", tt.req, res.StatusCode, body, tt.code)
		}
		if tt.code == 200 && strings.Contains(body, "Injected") {
			t.Errorf("%q reached the app as %s", tt.req, body)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("%q took %s", tt.req, time.Since(start))
		}
	}
}

// Acceptance 22: an instance that fails after sending the status and
// part of the body leaves the client a 200 with the partial body, and
// the connection is closed rather than reused.
func TestInstanceFailingMidBody(t *testing.T) {
	backend := newBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, _ := http.NewResponseController(w).Hijack()
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst part")
		_ = brw.Flush()
		c.Close()
	}))
	a := startApp(t, backend, map[string]string{"app.yaml": scriptApp}, Options{})
	for _, extra := range []string{"", "Transfer-Encoding: chunked\r\n\r\n0\r\n"} {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n"+extra+"\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("%q: %v", extra, err)
		}
		body, err := io.ReadAll(res.Body)
		if res.StatusCode != 200 || string(body) != "first part" || err == nil {
			t.Errorf("%q: %d %q %v", extra, res.StatusCode, body, err)
		}
		c.Close()
	}
}

func TestSlowHeadersAndIdleConnectionsAreClosed(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp},
		Options{ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 600 * time.Millisecond})
	for _, tt := range []struct{ name, first string }{
		{"headers sent slowly", "GET / HTTP/1.1\r\nHost: loc"},
		{"idle before any request", ""},
		{"idle after a request", "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"},
	} {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		_, _ = io.WriteString(c, tt.first)
		// The server closes the connection; reading sees the end (after
		// the response, for the last case) long before our own deadline.
		rest, err := io.ReadAll(c)
		if err != nil {
			t.Errorf("%s: %v (the server did not close the connection)", tt.name, err)
		}
		if strings.HasPrefix(tt.first, "GET / HTTP/1.1\r\nHost: localhost") != strings.Contains(string(rest), "200 OK") {
			t.Errorf("%s: read %q", tt.name, rest)
		}
		c.Close()
	}
}

func TestDeadlinesPerScalingType(t *testing.T) {
	for yaml, want := range map[string]time.Duration{
		"": 10 * time.Minute,
		"automatic_scaling:\n  max_instances: 2\n": 10 * time.Minute,
		"basic_scaling:\n  max_instances: 2\n":     24 * time.Hour,
		"manual_scaling:\n  instances: 1\n":        24 * time.Hour,
	} {
		rt, err := New(Options{App: loadApp(t, scriptApp+yaml), Pool: func(string) Pool { return &testPool{} }})
		if err != nil {
			t.Fatal(err)
		}
		if got := rt.table.Load().services["default"].deadline; got != want {
			t.Errorf("%q: deadline %s, want %s", yaml, got, want)
		}
		rt.Close()
	}
}

// A client that leaves while the instance works on its request (a tab
// closed on server-sent events, or on a long poll) ends the request at
// the instance, as it would served directly: the app's request context
// is done, the instance's slot is free again, and the request is
// recorded as 499 when no response had begun.
func TestClientLeavingEndsTheRequestAtTheInstance(t *testing.T) {
	started, gone := make(chan struct{}, 1), make(chan struct{}, 1)
	srv := newBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			fmt.Fprint(w, "ok")
			return
		}
		started <- struct{}{}
		if r.URL.Path == "/sse" {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: first\n\n")
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
			gone <- struct{}{}
		case <-time.After(30 * time.Second):
		}
	}))
	a := startApp(t, srv, map[string]string{"app.yaml": scriptApp}, Options{})
	cases := []struct {
		name   string
		warm   int // quick requests first, for the event loop to own the connection
		path   string
		status int
	}{
		{"fast path, streaming", 0, "/sse", 200},
		{"fast path, before the response", 0, "/poll", statusClientGone},
		{"general path", 0, "/%73se", 200},
		{"event loop, before the response", 2, "/poll", statusClientGone},
	}
	n := 0 // requests recorded so far
	for _, c := range cases {
		k := dialKeepAlive(t, a.addr, nil)
		for range c.warm {
			if res, body := k.do("GET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 200 || body != "ok" {
				t.Fatalf("%s: %d %q", c.name, res.StatusCode, body)
			}
			n++
		}
		k.send("GET " + c.path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
		<-started
		if c.status == 200 {
			res, err := http.ReadResponse(k.br, &http.Request{Method: "GET"})
			if err != nil {
				t.Fatal(err)
			}
			if line, err := bufio.NewReader(res.Body).ReadString('\n'); err != nil || line != "data: first\n" {
				t.Fatalf("%s: first event %q %v", c.name, line, err)
			}
		}
		k.c.Close()
		select {
		case <-gone:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the app did not learn that the client left", c.name)
		}
		if o := a.record(t, n); o.Status != c.status {
			t.Errorf("%s: recorded %d, want %d", c.name, o.Status, c.status)
		}
		n++
	}
	if n := a.pools["default"].leased(); n != 0 {
		t.Errorf("%d leases still held after the clients left", n)
	}
}

// A request waiting for an instance with room goes when its client
// leaves (a page reloaded while the app is busy): the app never gets it,
// and it is recorded as 499.
func TestClientLeavingWhileWaitingForAnInstance(t *testing.T) {
	release := make(chan struct{})
	var queued atomic.Int64
	srv := newBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/busy":
			<-release
		case "/queued":
			queued.Add(1)
		}
		fmt.Fprint(w, "ok")
	}))
	pool := &waitCounter{capacityPool: capacityPool{
		f:     NewForwarder(strings.TrimPrefix(srv.URL, "http://"), 1, func() string { return "" }),
		slots: make(chan struct{}, 1),
	}}
	records := make(chan Outcome, 8)
	addr, _ := serveOptions(t, Options{Pool: func(string) Pool { return pool }, Record: func(o Outcome) { records <- o }})
	busy := dialKeepAlive(t, addr, nil)
	busy.send("GET /busy HTTP/1.1\r\nHost: localhost\r\n\r\n")
	waiter := dialKeepAlive(t, addr, nil)
	waiter.send("GET /queued HTTP/1.1\r\nHost: localhost\r\n\r\n")
	for deadline := time.Now().Add(10 * time.Second); pool.waiting.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second request never waited for the instance")
		}
	}
	waiter.c.Close()
	select {
	case o := <-records:
		if o.Path != "/queued" || o.Status != statusClientGone {
			t.Errorf("recorded %s %d, want /queued %d", o.Path, o.Status, statusClientGone)
		}
	case <-time.After(10 * time.Second):
		t.Error("the request of the client that left was not ended")
	}
	close(release)
	if res, body := readResponse(t, busy.br, "GET /busy"); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("busy: %d %q", res.StatusCode, body)
	}
	// The slot is free and served next whatever waited for it: nothing did.
	if res, body := busy.do("GET /after HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("after: %d %q", res.StatusCode, body)
	}
	if n := queued.Load(); n != 0 {
		t.Errorf("the app got the request of the client that left (%d times)", n)
	}
}

// waitCounter counts the requests waiting in Acquire.
type waitCounter struct {
	capacityPool
	waiting atomic.Int32
}

func (p *waitCounter) Acquire(ctx context.Context) (*Lease, error) {
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	return p.capacityPool.Acquire(ctx)
}

// A request that fills the client's buffer (8 KiB, head and body) waits
// for an instance while the client pipelines its next one: the watch for
// the client's leaving reads the next request's first byte, which must
// reach the app with the rest.
func TestPipelinedRequestBehindAFullBufferWhileWaiting(t *testing.T) {
	release := make(chan struct{})
	got := make(chan string, 8)
	srv := newBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/busy" {
			<-release
		} else {
			got <- r.Method + " " + r.URL.Path
		}
		fmt.Fprint(w, "ok")
	}))
	pool := &waitCounter{capacityPool: capacityPool{
		f:     NewForwarder(strings.TrimPrefix(srv.URL, "http://"), 1, func() string { return "" }),
		slots: make(chan struct{}, 1),
	}}
	addr, _ := serveOptions(t, Options{Pool: func(string) Pool { return pool }})
	busy := dialKeepAlive(t, addr, nil)
	busy.send("GET /busy HTTP/1.1\r\nHost: localhost\r\n\r\n")
	head := "POST /first HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n"
	n := 8<<10 - len(fmt.Sprintf(head, 1000))
	first := fmt.Sprintf(head, n) + strings.Repeat("x", n)
	waiter := dialKeepAlive(t, addr, nil)
	waiter.send(first + "GET /second HTTP/1.1\r\nHost: localhost\r\n\r\n")
	for deadline := time.Now().Add(10 * time.Second); pool.waiting.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request never waited for the instance")
		}
	}
	time.Sleep(100 * time.Millisecond) // for the watch to read the next request's first byte
	close(release)
	readResponse(t, busy.br, "GET /busy")
	for _, req := range []string{"POST /first", "GET /second"} {
		if res, body := readResponse(t, waiter.br, req); res.StatusCode != 200 || body != "ok" {
			t.Errorf("%s: %d %q", req, res.StatusCode, body)
		}
		if app := <-got; app != req {
			t.Errorf("the app got %q, want %q", app, req)
		}
	}
}
