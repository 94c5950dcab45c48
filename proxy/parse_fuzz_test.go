package proxy

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// FuzzRequestHead feeds the fast path's request parser anything. It must
// not panic, and a head it accepts must be one net/http reads the same
// way, rewritten without any header the app must not see.
func FuzzRequestHead(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nCookie: a=b\r\n\r\nabc",
		"GET / HTTP/1.1\r\nHost: x\r\nX_Appengine_User_Email: e\r\nConnection: keep-alive, close\r\n\r\n",
		"GET /%2e%2e HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r reqHead
		out, ok := r.parse(data, nil)
		if !ok {
			return
		}
		want, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatalf("accepted a head net/http refuses (%v):\n%q", err, data)
		}
		if want.Host != string(r.host) || want.RequestURI != string(r.target) || want.Method != string(r.method) {
			t.Fatalf("read %q %q %q, net/http %q %q %q", r.method, r.target, r.host, want.Method, want.RequestURI, want.Host)
		}
		if want.ContentLength != max(r.contentLength, 0) {
			t.Fatalf("Content-Length %d, net/http %d", r.contentLength, want.ContentLength)
		}
		// What goes to the app is a well-formed head once the identity
		// headers end it, with none of the client's owned headers.
		id := newIdentity(user{}, "127.0.0.1")
		head := string(id.appendHeaders(out, true))
		got, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head)))
		if err != nil {
			t.Fatalf("the rewritten head does not parse (%v):\n%q", err, head)
		}
		for name := range got.Header {
			if hop(name) {
				t.Fatalf("hop-by-hop %s passed:\n%q", name, head)
			}
		}
		// A client's copy of an owned header would make a second value.
		for name, want := range map[string]string{"X-Appengine-User-Is-Admin": "0", "X-Forwarded-For": "127.0.0.1", "X-Appengine-Country": "ZZ"} {
			if v := got.Header.Values(name); len(v) != 1 || v[0] != want {
				t.Fatalf("%s %q:\n%q", name, v, head)
			}
		}
	})
}

// FuzzResponseHead checks that the response parser never panics on
// what an instance may send.
func FuzzResponseHead(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.0 200 OK\r\n\r\nbody",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		method := []byte("GET")
		if head {
			method = []byte("HEAD")
		}
		res, err := readResponseHead(bufio.NewReaderSize(bytes.NewReader(data), 4096), method)
		if err == nil && (res.code < 100 || res.code > 999 || res.headLen > len(data)) {
			t.Fatalf("%+v from %q", res, data)
		}
	})
}
