package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// onePool leases a single handler, or fails with err.
type onePool struct {
	h        http.Handler
	err      error
	released chan Outcome
}

func (p *onePool) Acquire(context.Context) (*Lease, error) {
	if p.err != nil {
		return nil, p.err
	}
	return &Lease{Handler: p.h, Instance: "7", Done: func(o Outcome) { p.released <- o }}, nil
}

func TestFrontForwardsToInstanceAndRecords(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Forwarded-For") == "" {
			t.Error("backend saw no X-Forwarded-For")
		}
		fmt.Fprintf(w, "hello %s %s", r.Host, r.URL.RequestURI())
	}))
	defer backend.Close()
	pool := &onePool{h: NewForwarder(strings.TrimPrefix(backend.URL, "http://"), 4, func() string { return "" }), released: make(chan Outcome, 1)}
	var recorded Outcome
	front := httptest.NewServer(&Front{Service: "web", Pool: pool, Record: func(o Outcome) { recorded = o }})
	defer front.Close()

	resp, err := http.Get(front.URL + "/a?b=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	host := strings.TrimPrefix(front.URL, "http://")
	if want := "hello " + host + " /a?b=1"; string(body) != want {
		t.Errorf("body %q, want %q (Host kept, path and query forwarded)", body, want)
	}
	o := <-pool.released
	if o.Status != 200 || o.Bytes != int64(len(body)) || o.Instance != "7" || o.Path != "/a?b=1" || o.Method != "GET" {
		t.Errorf("outcome %+v", o)
	}
	if recorded.Service != "web" || recorded.Status != 200 {
		t.Errorf("recorded %+v", recorded)
	}
}

func TestFrontExplainsUnavailable(t *testing.T) {
	var recorded Outcome
	front := &Front{Service: "web", Record: func(o Outcome) { recorded = o }, Pool: &onePool{err: &Unavailable{
		Status: 503, Title: `Service "web" is starting`, Detail: "waiting for <the app>", RetryAfter: 1,
	}}}
	rec := httptest.NewRecorder()
	front.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("status %d headers %v", rec.Code, rec.Header())
	}
	if !strings.Contains(body, "Service &#34;web&#34; is starting") || !strings.Contains(body, "waiting for &lt;the app&gt;") {
		t.Errorf("page does not explain (or does not escape):\n%s", body)
	}
	if recorded.Status != 503 || recorded.Instance != "" {
		t.Errorf("recorded %+v", recorded)
	}
}

func TestForwarderStreamsAndExplainsDeadInstance(t *testing.T) {
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		fmt.Fprint(w, "data: second\n\n")
	}))
	defer backend.Close()
	fwd := NewForwarder(strings.TrimPrefix(backend.URL, "http://"), 2, func() string { return "" })
	front := httptest.NewServer(fwd)
	defer front.Close()
	resp, err := http.Get(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event %q %v", line, err)
	}
	close(release) // the first event arrived while the response was still open

	dead := NewForwarder("127.0.0.1:1", 2, func() string { return "Instance web/0 exited: exit status 2." })
	rec := httptest.NewRecorder()
	dead.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil).WithContext(context.Background()))
	if rec.Code != 502 || !strings.Contains(rec.Body.String(), "exited: exit status 2.") {
		t.Errorf("dead instance: %d %s", rec.Code, rec.Body.String())
	}
}
