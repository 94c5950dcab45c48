package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkForward measures one keep-alive client sending requests in
// turn, directly to a backend and through the front (fast path), so that
// allocations per request and the cost over direct show up side by side:
//
//	go test -run X -bench Forward -benchmem ./proxy
func BenchmarkForward(b *testing.B) {
	body := []byte("Hello, World!")
	backend := newBackend(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	}))
	a := startApp(b, backend, map[string]string{"app.yaml": scriptApp}, Options{})
	b.Run("direct", func(b *testing.B) { benchRequests(b, strings.TrimPrefix(backend.URL, "http://")) })
	b.Run("appdeck", func(b *testing.B) { benchRequests(b, a.addr) })
}

func benchRequests(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte("GET /bench HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
