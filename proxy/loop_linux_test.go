//go:build linux

package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// A client that sends its last request and half-closes, the FIN in the
// same segment as the request (TCP_CORK holds the bytes until shutdown
// sends both), gets its answer and then the end of the connection, as
// from a goroutine, not an open connection until the idle timeout.
func TestRequestAndEndOfInputInOneSegment(t *testing.T) {
	a := startApp(t, newBackend(t, sized(t)), map[string]string{"app.yaml": scriptApp}, Options{})
	k := dialKeepAlive(t, a.addr, nil)
	req := "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
	for range 2 { // the second is the loop's, on the connection the first left
		if res, body := k.do(req); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("%d %q", res.StatusCode, body)
		}
	}
	tc := k.c.(*net.TCPConn)
	cork(t, tc)
	k.send(req)
	if err := tc.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if res, body := readResponse(t, k.br, req); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
	if !k.closedByServer(5 * time.Second) {
		t.Error("the connection stayed open after the client's last request")
	}
}

// An instance that dies in the middle of a response, its last bytes and
// its FIN in one segment: the client gets what came and the end of the
// connection at once, not at the request's deadline.
func TestInstanceEndingMidResponseInOneSegment(t *testing.T) {
	a := appOn(t, rawBackend(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if req.URL.Path != "/die" {
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				continue
			}
			cork(t, c.(*net.TCPConn))
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
			_ = c.(*net.TCPConn).CloseWrite()
			return
		}
	}), 4)
	k := dialKeepAlive(t, a.addr, nil)
	if res, body := k.do("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
	k.send("GET /die HTTP/1.1\r\nHost: localhost\r\n\r\n")
	_ = k.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(k.br)
	if err != nil {
		t.Fatalf("%v after %q: the connection stayed open", err, got)
	}
}

// cork makes c hold what is written until it is shut down, which then
// sends the bytes and the FIN in one segment.
func cork(t *testing.T, c *net.TCPConn) {
	raw, err := c.SyscallConn()
	if err != nil {
		t.Error(err)
		return
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1) }); err != nil || serr != nil {
		t.Error(err, serr)
	}
}

// A client that sends its next request and then its end while the first
// is at the instance is served both, on the event loop as on a goroutine.
func TestPipelinedRequestThenEndWhileInFlight(t *testing.T) {
	release := make(chan struct{})
	a := startApp(t, newBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	})), map[string]string{"app.yaml": scriptApp}, Options{})
	k := dialKeepAlive(t, a.addr, nil)
	for range 2 { // the second is the loop's, on the connection the first left
		if res, body := k.do("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("%d %q", res.StatusCode, body)
		}
	}
	k.send("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
	for deadline := time.Now().Add(10 * time.Second); a.pools["default"].leased() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow request never reached the instance")
		}
	}
	k.send("GET /second HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if err := k.c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // for the loop to see the end
	close(release)
	for _, req := range []string{"GET /slow", "GET /second"} {
		if res, body := readResponse(t, k.br, req); res.StatusCode != 200 || body != "ok" {
			t.Errorf("%s: %d %q", req, res.StatusCode, body)
		}
	}
}
