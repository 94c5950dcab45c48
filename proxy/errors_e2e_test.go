package proxy

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

const errorApp = `runtime: custom
entrypoint: ./app
error_handlers:
- file: errors/default.html
- error_code: timeout
  file: errors/timeout.html
- error_code: over_quota
  file: errors/missing.html
handlers:
- url: /.*
  script: auto
`

func errorFiles() map[string]string {
	return map[string]string{
		"app.yaml":            errorApp,
		"errors/default.html": "error",
		"errors/timeout.html": "too slow",
	}
}

func TestErrorCodeResponsesUseTheErrorHandler(t *testing.T) {
	// Acceptance 18: a runtime answer with X-Appengine-Error-Code is
	// replaced by the default error file, on both paths.
	a := startApp(t, echoBackend(t, nil), errorFiles(), Options{})
	for _, req := range []string{
		"GET /error-code HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /error-code HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	} {
		res, body := raw(t, a.addr, req)
		if res.StatusCode != 500 || body != "error" || res.ContentLength != 5 ||
			res.Header.Get("Content-Type") != "text/html; charset=utf-8" || res.Header.Get("X-Appengine-Error-Code") != "" {
			t.Errorf("%q: %d %v %q", req, res.StatusCode, res.Header, body)
		}
	}
}

func TestErrorCodeWithoutErrorHandlerPassesThrough(t *testing.T) {
	// Acceptance 19.
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	for _, extra := range []string{"", "Transfer-Encoding: chunked\r\n\r\n0\r\n"} {
		res, body := raw(t, a.addr, "GET /error-code HTTP/1.1\r\nHost: localhost\r\n"+extra+"\r\n")
		if res.StatusCode != 500 || body != "the app's own 500" || res.Header.Get("X-Appengine-Error-Code") != "" {
			t.Errorf("%d %v %q", res.StatusCode, res.Header, body)
		}
	}
}

func TestMissingErrorHandlerFile(t *testing.T) {
	// Acceptance 20: over_quota's file does not exist.
	files := errorFiles()
	a := startApp(t, newBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Appengine-Error-Code", "over_quota")
		w.WriteHeader(500)
	})), files, Options{})
	res, body := raw(t, a.addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if res.StatusCode != 500 || body != "Failed to load error handler" || res.ContentLength != 28 || res.Header.Get("Content-Type") != "text/html" {
		t.Errorf("%d %v %q", res.StatusCode, res.Header, body)
	}
}

func TestAppdeckErrorsUseTheErrorHandlers(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), errorFiles(), Options{})
	pool := a.pools["default"]

	pool.set(nil, &Unavailable{Status: 502, Title: "Instance default/0 crashed", Detail: "exit status 2"})
	res, body := raw(t, a.addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if res.StatusCode != 502 || body != "error" {
		t.Errorf("crashed: %d %q", res.StatusCode, body)
	}
	pool.set(nil, &Unavailable{Status: 503, Title: "busy", Timeout: true})
	res, body = raw(t, a.addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if res.StatusCode != 503 || body != "too slow" {
		t.Errorf("no capacity in time: %d %q", res.StatusCode, body)
	}
	pool.set(nil, &Unavailable{Status: 503, Title: "starting", RetryAfter: 1})
	n := a.count()
	res, body = raw(t, a.addr, "GET / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
	if res.StatusCode != 503 || body != "error" || res.Header.Get("Retry-After") != "1" {
		t.Errorf("starting (general path): %d %v %q", res.StatusCode, res.Header, body)
	}
	if o := a.record(t, n); o.Status != 503 || o.Instance != "" {
		t.Errorf("record %+v", o)
	}
}

func TestAppdeckErrorsWithoutErrorHandlersExplain(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	a.pools["default"].set(nil, &Unavailable{Status: 502, Title: "Instance default/0 crashed", Detail: "exit status 2 <oops>"})
	res, body := raw(t, a.addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if res.StatusCode != 502 || !strings.Contains(body, "Instance default/0 crashed") || !strings.Contains(body, "exit status 2 &lt;oops&gt;") {
		t.Errorf("%d %q", res.StatusCode, body)
	}
	a.pools["default"].set(nil, errors.New("plain failure"))
	if res, body = raw(t, a.addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 503 || !strings.Contains(body, "plain failure") {
		t.Errorf("%d %q", res.StatusCode, body)
	}
}

func TestDeadInstanceAndDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	a := startApp(t, echoBackend(t, release), errorFiles(), Options{Deadline: 300 * time.Millisecond})
	// The request deadline passes: the timeout file, 504, on both paths.
	for _, req := range []string{
		"GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /slow HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	} {
		res, body := raw(t, a.addr, req)
		if res.StatusCode != 504 || body != "too slow" {
			t.Errorf("deadline: %d %q", res.StatusCode, body)
		}
	}
	// An instance that does not listen: a 502 explaining why.
	dead := NewForwarder("127.0.0.1:1", 2, func() string { return "Instance default/0 exited: exit status 2." })
	a.pools["default"].set(dead, nil)
	b := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	b.pools["default"].set(dead, nil)
	for _, req := range []string{
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	} {
		res, body := raw(t, b.addr, req)
		if res.StatusCode != 502 || !strings.Contains(body, "exited: exit status 2.") {
			t.Errorf("dead instance: %d %q", res.StatusCode, body)
		}
		if res, body = raw(t, a.addr, req); res.StatusCode != 502 || body != "error" {
			t.Errorf("dead instance, error handler: %d %q", res.StatusCode, body)
		}
	}
}

func TestBuildErrorPageLease(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": scriptApp}, Options{})
	a.pools["default"].set(ErrorPage(500, "The Go application could not be built.", "main.go:3:1: syntax error"), nil)
	res, body := raw(t, a.addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if res.StatusCode != 500 || !strings.Contains(body, "main.go:3:1: syntax error") {
		t.Errorf("%d %q", res.StatusCode, body)
	}
}
