//go:build linux

package proxy

import (
	"net"
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
	raw, err := tc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
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
