package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseDropsKeptConnections checks that a forwarder keeps connections
// to its instance alive on both paths until Close, which closes the idle
// ones at once and one carrying a request when that request ends.
func TestCloseDropsKeptConnections(t *testing.T) {
	var open atomic.Int64
	entered, release := make(chan struct{}), make(chan struct{})
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	}))
	backend.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	backend.Start()
	t.Cleanup(backend.Close)
	var released sync.Once
	unblock := func() { released.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before backend.Close, which waits for /slow
	a := startApp(t, backend, map[string]string{"app.yaml": scriptApp}, Options{})
	f := a.pools["default"].f.(*Forwarder)
	waitOpen := func(want int64, when string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); open.Load() != want; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d connections open to the instance, want %d", when, open.Load(), want)
			}
		}
	}

	for _, req := range []string{
		"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", // general path
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",                                                     // fast path
	} {
		if res, body := raw(t, a.addr, req); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("%q: %d %q", req, res.StatusCode, body)
		}
	}
	waitOpen(1, "after a request on each path (the general path keeps none alive)")

	slow := make(chan int)
	go func() {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			slow <- 0
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			slow <- 0
			return
		}
		res.Body.Close()
		slow <- res.StatusCode
	}()
	<-entered // on the fast path's idle connection
	f.Close()
	f.Close() // again: no harm
	waitOpen(1, "after Close, with a request in flight")
	unblock()
	if code := <-slow; code != 200 {
		t.Fatalf("the request in flight at Close: status %d", code)
	}
	waitOpen(0, "after the request in flight at Close ended")
}
