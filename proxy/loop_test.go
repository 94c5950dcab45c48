package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Tests of the fast path's turns between its event loop (Linux) and
// its goroutines. What they check holds on every platform; on Linux the
// first request of a connection warms the loop's pool of instance
// connections, and the requests after it are the loop's.

// keepAlive is one keep-alive client connection to the front.
type keepAlive struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string, d *net.Dialer) *keepAlive {
	t.Helper()
	if d == nil {
		d = &net.Dialer{}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &keepAlive{t: t, c: c, br: bufio.NewReader(c)}
}

func (k *keepAlive) send(req string) {
	k.t.Helper()
	if _, err := io.WriteString(k.c, req); err != nil {
		k.t.Fatal(err)
	}
}

func (k *keepAlive) do(req string) (*http.Response, string) {
	k.t.Helper()
	k.send(req)
	return readResponse(k.t, k.br, req)
}

// repeat sends req in turn until the time comes and checks each answer
// is 200 "ok"; it may run on any goroutine.
func (k *keepAlive) repeat(req string, until time.Time) error {
	for i := 0; time.Now().Before(until); i++ {
		_ = k.c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(k.c, req); err != nil {
			return err
		}
		res, err := http.ReadResponse(k.br, nil)
		if err != nil {
			return fmt.Errorf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || string(body) != "ok" {
			return fmt.Errorf("request %d: %d %q", i, res.StatusCode, body)
		}
	}
	return nil
}

// serveWith serves the script app's default service with pool on a
// free port, and returns its address and server.
func serveWith(t *testing.T, pool Pool) (string, *Server) {
	return serveOptions(t, Options{Pool: func(string) Pool { return pool }})
}

// serveOptions serves the script app with opts on a free port.
func serveOptions(t *testing.T, opts Options) (string, *Server) {
	opts.App = loadApp(t, scriptApp)
	rt, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := rt.NewServer("default")
	go s.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		rt.Close()
	})
	return l.Addr().String(), s
}

// closedByServer says whether the server closed the connection within
// wait.
func (k *keepAlive) closedByServer(wait time.Duration) bool {
	_ = k.c.SetReadDeadline(time.Now().Add(wait))
	_, err := k.br.ReadByte()
	_ = k.c.SetDeadline(time.Now().Add(30 * time.Second))
	return err == io.EOF
}

// sized answers /size/N with N bytes of a pattern, and anything else
// with "ok"; /chunked/N sends N bytes without a length.
func sized(t *testing.T) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/size/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		_, _ = io.WriteString(w, pattern(n))
	})
	mux.HandleFunc("/chunked/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		p := pattern(n)
		_, _ = io.WriteString(w, p[:n/2])
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, p[n/2:])
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	return mux
}

func pattern(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%07d\n", i)
	}
	return b.String()[:n]
}

func TestKeptConnectionSeesWhatTheFirstRequestSaw(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	k := dialKeepAlive(t, a.addr, nil)
	req := "GET /who?x=1 HTTP/1.1\r\nHost: localhost\r\nCookie: dev_appserver_login=\"ann@example.com:True:185804764220139124118\"\r\n" +
		"X-Appengine-User-Is-Admin: 0\r\nX_Appengine_User_Email: evil@example.com\r\nX-Forwarded-For: 6.6.6.6\r\nX-Custom: kept\r\n\r\n"
	var first http.Header
	for i := range 4 {
		res, body := k.do(req)
		if res.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, res.StatusCode, body)
		}
		h := decodeSeen(t, body).Header
		if h.Get("X-Appengine-User-Email") != "ann@example.com" || h.Get("X-Appengine-User-Is-Admin") != "1" ||
			h.Get("X-Forwarded-For") != "127.0.0.1" || h.Get("X-Custom") != "kept" || h.Get("X_appengine_user_email") != "" {
			t.Fatalf("request %d: the app saw %v", i, h)
		}
		h.Del("X-Appengine-Request-Log-Id")
		h.Del("X-Cloud-Trace-Context")
		if i == 0 {
			first = h
		} else if fmt.Sprint(h) != fmt.Sprint(first) {
			t.Fatalf("request %d: the app saw\n%v\nthe first saw\n%v", i, h, first)
		}
	}
}

func TestPipelinedRequests(t *testing.T) {
	release := make(chan struct{})
	a := startApp(t, echoBackend(t, release), map[string]string{"app.yaml": scriptApp}, Options{})
	k := dialKeepAlive(t, a.addr, nil)
	k.do("GET /warm HTTP/1.1\r\nHost: localhost\r\n\r\n")
	reqs := []string{
		"GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"POST /b HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nxyz",
		"GET /c HTTP/1.1\r\nHost: localhost\r\n\r\n",
	}
	k.send(strings.Join(reqs, ""))
	for i, want := range []seen{{Method: "GET", URI: "/a"}, {Method: "POST", URI: "/b", BodyLen: 3}, {Method: "GET", URI: "/c"}} {
		res, body := readResponse(t, k.br, reqs[i])
		s := decodeSeen(t, body)
		if res.StatusCode != 200 || s.Method != want.Method || s.URI != want.URI || s.BodyLen != want.BodyLen {
			t.Errorf("response %d: %d %+v, want %+v", i, res.StatusCode, s, want)
		}
	}
	// More than the front reads at once: a head is cut in two by the end
	// of its buffer.
	many := strings.Repeat(reqs[0], 300)
	k.send(many)
	for i := range 300 {
		if res, body := readResponse(t, k.br, reqs[0]); res.StatusCode != 200 || decodeSeen(t, body).URI != "/a" {
			t.Fatalf("response %d of 300: %d %s", i, res.StatusCode, body)
		}
	}
	// The next request sent while one is in flight waits its turn.
	k.send("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	k.send(reqs[2])
	time.Sleep(50 * time.Millisecond)
	close(release)
	if res, body := readResponse(t, k.br, "GET /slow"); res.StatusCode != 200 || body != "" {
		t.Errorf("/slow: %d %q", res.StatusCode, body)
	}
	if res, body := readResponse(t, k.br, reqs[2]); res.StatusCode != 200 || decodeSeen(t, body).URI != "/c" {
		t.Errorf("after /slow: %d %s", res.StatusCode, body)
	}
}

// An instance may close a kept connection just as a request goes out on
// it; the request is sent again on a new one, and the client never knows.
func TestInstanceClosingAKeptConnectionAsTheRequestGoesOut(t *testing.T) {
	var conns atomic.Int64
	a := appOn(t, rawBackend(t, func(c net.Conn) {
		conns.Add(1)
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		_, _ = http.ReadRequest(br) // and close without an answer
	}), 4)
	k := dialKeepAlive(t, a.addr, nil)
	for i := range 4 {
		if res, body := k.do("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, res.StatusCode, body)
		}
	}
	if n := conns.Load(); n != 4 {
		t.Errorf("%d connections to the instance, want 4: one per request", n)
	}
}

// Responses too large for one buffer, or without a length, are streamed
// by a goroutine; the connection carries on with small ones after.
func TestLargeAndStreamedResponsesBetweenSmallOnes(t *testing.T) {
	a := startApp(t, newBackend(t, sized(t)), map[string]string{"app.yaml": scriptApp}, Options{})
	k := dialKeepAlive(t, a.addr, nil)
	for _, path := range []string{"/", "/size/100000", "/", "/size/32000", "/chunked/50000", "/", "/size/40000", "/size/13", "/"} {
		req := "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
		res, body := k.do(req)
		want := "ok"
		if n, ok := strings.CutPrefix(path, "/size/"); ok {
			want = pattern(atoi(n))
		} else if n, ok := strings.CutPrefix(path, "/chunked/"); ok {
			want = pattern(atoi(n))
		}
		if res.StatusCode != 200 || body != want {
			t.Fatalf("%s: %d, %d bytes, want %d", path, res.StatusCode, len(body), len(want))
		}
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// A client that reads slowly gets every byte of every response, in
// order, however little its socket takes at a time.
func TestSlowReaderGetsEveryByte(t *testing.T) {
	a := startApp(t, newBackend(t, sized(t)), map[string]string{"app.yaml": scriptApp}, Options{})
	small := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	k := dialKeepAlive(t, a.addr, small)
	k.do("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	const n = 300
	req := "GET /size/20000 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	k.send(strings.Repeat(req, n))
	time.Sleep(300 * time.Millisecond) // the front's writes find the socket full
	want := pattern(20000)
	for i := range n {
		if res, body := readResponse(t, k.br, req); res.StatusCode != 200 || body != want {
			t.Fatalf("response %d: %d, %d bytes", i, res.StatusCode, len(body))
		}
	}
	if res, body := k.do("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("after: %d %q", res.StatusCode, body)
	}
}

func TestDeadlineOnAKeptConnection(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	a := startApp(t, echoBackend(t, release), errorFiles(), Options{Deadline: 300 * time.Millisecond})
	k := dialKeepAlive(t, a.addr, nil)
	k.do("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if res, body := k.do("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 504 || body != "too slow" {
		t.Errorf("%d %q", res.StatusCode, body)
	}
}

// Shutdown closes idle connections at once and lets a request in flight
// finish.
func TestShutdownLetsRequestsInFlightFinish(t *testing.T) {
	release := make(chan struct{})
	backend := echoBackend(t, release)
	f := NewForwarder(strings.TrimPrefix(backend.URL, "http://"), 10, func() string { return "" })
	addr, s := serveWith(t, &testPool{f: f})
	idle := dialKeepAlive(t, addr, nil)
	busy := dialKeepAlive(t, addr, nil)
	for _, k := range []*keepAlive{idle, busy, idle, busy} {
		k.do("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	}
	busy.send("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
	time.Sleep(100 * time.Millisecond) // the request reaches the instance
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	if !idle.closedByServer(5 * time.Second) {
		t.Error("the idle connection stayed open")
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if res, _ := readResponse(t, busy.br, "GET /slow HTTP/1.1\r\n"); res.StatusCode != 200 {
		t.Errorf("the request in flight: %d", res.StatusCode)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the last request")
	}
	if !busy.closedByServer(5 * time.Second) {
		t.Error("the busy connection stayed open after its request")
	}
}

// oneConnAtATime is an instance that serves one connection at a time,
// keeping it alive (a single-threaded HTTP/1.1 server): a second
// connection waits until the first one closes.
func oneConnAtATime(t *testing.T) string {
	return acceptEach(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
}

// With capacity 1, requests one after the other, from several clients,
// never need a second connection.
func TestOneConnectionAtATimeInstance(t *testing.T) {
	a := appOn(t, oneConnAtATime(t), 1)
	var ks []*keepAlive
	for range 4 {
		ks = append(ks, dialKeepAlive(t, a.addr, nil))
	}
	for i := range 12 {
		k := ks[i%len(ks)]
		_ = k.c.SetDeadline(time.Now().Add(5 * time.Second))
		if res, body := k.do("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, res.StatusCode, body)
		}
	}
}

// Requests the fast path leaves to net/http (HTTP/1.0, a chunked upload,
// Expect, an encoded path) reach an instance that serves one connection
// at a time too, after the fast path left a connection to it idle.
func TestOneConnectionAtATimeInstanceOnTheGeneralPath(t *testing.T) {
	a := appOn(t, oneConnAtATime(t), 1)
	for _, req := range []string{
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /%7Ex HTTP/1.1\r\nHost: localhost\r\n\r\n",
	} {
		k := dialKeepAlive(t, a.addr, nil)
		_ = k.c.SetDeadline(time.Now().Add(5 * time.Second))
		if res, body := k.do(req); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("%q: %d %q", req, res.StatusCode, body)
		}
	}
}

// capacityPool leases one forwarder to at most n requests at once, as
// the supervisor's pool does.
type capacityPool struct {
	f     http.Handler
	slots chan struct{}
}

func (p *capacityPool) lease() *Lease {
	return &Lease{Handler: p.f, Instance: "0", Done: func(Outcome) { <-p.slots }}
}

func (p *capacityPool) Acquire(ctx context.Context) (*Lease, error) {
	select {
	case p.slots <- struct{}{}:
		return p.lease(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *capacityPool) TryAcquire() (*Lease, error) {
	select {
	case p.slots <- struct{}{}:
		return p.lease(), nil
	default:
		return nil, nil
	}
}

// Clients at once, to an instance of capacity 1 that serves one
// connection at a time: whichever tier a request waits on, it gets the
// one connection, never a second that the instance would not accept.
func TestOneConnectionAtATimeInstanceUnderConcurrentClients(t *testing.T) {
	f := NewForwarder(oneConnAtATime(t), 1, func() string { return "" })
	addr, _ := serveWith(t, &capacityPool{f: f, slots: make(chan struct{}, 1)})
	errs := make(chan error, 4)
	until := time.Now().Add(time.Second)
	for range 4 {
		k := dialKeepAlive(t, addr, nil)
		go func() { errs <- k.repeat("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", until) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// Thirty clients at once, against an instance of capacity 10: the front
// never holds more connections to it than the instance serves at once,
// whichever tier each request takes (bodies of 3,000 bytes often come
// in two reads, and go to a goroutine).
func TestConnectionsToAnInstanceStayWithinItsCapacity(t *testing.T) {
	var open, most atomic.Int64
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	backend.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			n := open.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	backend.Start()
	t.Cleanup(backend.Close)
	f := NewForwarder(strings.TrimPrefix(backend.URL, "http://"), 10, func() string { return "" })
	addr, _ := serveWith(t, &capacityPool{f: f, slots: make(chan struct{}, 10)})
	post := "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3000\r\n\r\n" + strings.Repeat("x", 3000)
	errs := make(chan error, 30)
	until := time.Now().Add(2 * time.Second)
	for i := range 30 {
		k := dialKeepAlive(t, addr, nil)
		req := "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
		if i%2 == 1 {
			req = post
		}
		go func() { errs <- k.repeat(req, until) }()
	}
	for range 30 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := most.Load(); n > 10 {
		t.Errorf("%d connections open to an instance of capacity 10", n)
	}
}

// A connect that fails is said to be one, not a passed deadline.
func TestAFailedConnectIsNamed(t *testing.T) {
	a := appOn(t, "127.0.0.1:1", 1)
	for _, req := range []string{
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n", // the general path
	} {
		res, body := raw(t, a.addr, req)
		if res.StatusCode != 502 || !strings.Contains(body, "The instance did not accept a connection") ||
			!strings.Contains(body, "could not connect to the instance within 5s") {
			t.Errorf("%q: %d %q", req, res.StatusCode, body)
		}
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// A connect that times out points at the likely cause; a refused one
// does not.
func TestDialErrorDetail(t *testing.T) {
	if d := (&dialError{timeoutError{}}).detail(); !strings.Contains(d, "max_concurrent_requests: 1") {
		t.Errorf("timeout: %q", d)
	}
	if d := (&dialError{syscall.ECONNREFUSED}).detail(); strings.Contains(d, "max_concurrent_requests") || !strings.Contains(d, "connection refused") {
		t.Errorf("refused: %q", d)
	}
}
