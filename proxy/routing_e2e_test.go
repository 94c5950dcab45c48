package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// serviceBackend answers with the name of the service it stands for, so
// a test can tell where a request went.
func serviceBackends(t *testing.T, a *testApp) {
	for name, p := range a.pools {
		srv := newBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(name + " " + r.URL.Path))
		}))
		p.set(NewForwarder(strings.TrimPrefix(srv.URL, "http://"), 4, func() string { return "" }), nil)
	}
}

func TestRoutingEndToEnd(t *testing.T) {
	files := map[string]string{
		"default/app.yaml": scriptApp,
		"api/app.yaml":     "service: api\n" + scriptApp,
		"admin/app.yaml":   "service: admin\n" + scriptApp,
		"dispatch.yaml": "dispatch:\n" +
			"- url: \"*/api/*\"\n  service: api\n" +
			"- url: \"admin.example.dev/*\"\n  service: admin\n" +
			"- url: \"*/_ah/queue/deferred*\"\n  service: api\n",
	}
	a := startApp(t, echoBackend(t, nil), files, Options{AllowHosts: []string{"admin.example.dev"}})
	serviceBackends(t, a)
	for _, tt := range []struct {
		port, host, path, want, route string
	}{
		{"default", "localhost", "/", "default /", ""},
		{"default", "localhost", "/api/users", "api /api/users", "dispatch */api/* → /.*"},
		{"default", "localhost", "/apix", "default /apix", ""},
		{"default", "admin.example.dev", "/x", "admin /x", "dispatch admin.example.dev/* → /.*"},
		{"default", "localhost", "/_ah/queue/deferred", "api /_ah/queue/deferred", "dispatch */_ah/queue/deferred* → /.*"},
		{"default", "localhost", "/_ah/api/x", "default /_ah/api/x", ""},
		{"api", "localhost", "/", "api /", ""},                  // a port per service
		{"api", "localhost", "/api/x", "api /api/x", ""},        // dispatch only on the default port
		{"default", "api.localhost", "/", "api /", ""},          // <service>.localhost
		{"api", "admin.localhost", "/", "admin /", ""},          // on any port
		{"default", "1.v1.admin.localhost", "/", "admin /", ""}, // instance and version labels ignored
		{"api", "nope.localhost", "/", "default /", ""},         // unknown service: default
	} {
		for _, extra := range []string{"", "Transfer-Encoding: chunked\r\n\r\n0\r\n"} {
			n := a.count()
			res, body := raw(t, a.addrs[tt.port], "GET "+tt.path+" HTTP/1.1\r\nHost: "+tt.host+"\r\n"+extra+"\r\n")
			if res.StatusCode != 200 || body != tt.want {
				t.Errorf("port %s host %s %s%q: %d %q, want %q", tt.port, tt.host, tt.path, extra, res.StatusCode, body, tt.want)
			}
			o := a.record(t, n)
			if wantSvc, _, _ := strings.Cut(tt.want, " "); o.Service != wantSvc || o.Route != tt.route && !(tt.route == "" && o.Route == "/.*") {
				t.Errorf("port %s host %s %s: record %+v", tt.port, tt.host, tt.path, o)
			}
		}
	}
}

func TestLoginEndToEnd(t *testing.T) {
	app := `runtime: custom
entrypoint: ./app
handlers:
- url: /admin/.*
  script: auto
  login: admin
- url: /account/.*
  script: auto
  login: required
  auth_fail_action: unauthorized
- url: /members/.*
  script: auto
  login: required
- url: /.*
  script: auto
`
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": app}, Options{})
	get := func(path, cookie string) (*http.Response, string) {
		if cookie != "" {
			cookie = "Cookie: " + strings.TrimSuffix(cookie, "; Path=/") + "\r\n"
		}
		return raw(t, a.addr, "GET "+path+" HTTP/1.1\r\nHost: localhost:8080\r\n"+cookie+"\r\n")
	}
	res, _ := get("/members/page?q=1", "")
	if res.StatusCode != 302 || res.Header.Get("Location") != "http://localhost:8080/_ah/login?continue=http%3A//localhost%3A8080/members/page%3Fq%3D1" {
		t.Errorf("required, signed out: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := get("/account/x", "")
	if res.StatusCode != 401 || body != "Login required to view page." {
		t.Errorf("unauthorized: %d %q", res.StatusCode, body)
	}
	ann := loginCookieValue("ann@example.com", false)
	res, body = get("/members/page", ann)
	if res.StatusCode != 200 || http.Header(decodeSeen(t, body).Header).Get("X-Appengine-User-Email") != "ann@example.com" {
		t.Errorf("required, signed in: %d %q", res.StatusCode, body)
	}
	res, body = get("/admin/x", ann)
	if res.StatusCode != 401 || !strings.Contains(body, "Current logged in user ann@example.com is not authorized") {
		t.Errorf("admin, not admin: %d %q", res.StatusCode, body)
	}
	res, body = get("/admin/x", loginCookieValue("root@example.com", true))
	if res.StatusCode != 200 || http.Header(decodeSeen(t, body).Header).Get("X-Appengine-User-Is-Admin") != "1" {
		t.Errorf("admin: %d %q", res.StatusCode, body)
	}
	// The fake admin header of devappserver2 is no way in.
	res, _ = raw(t, a.addr, "GET /admin/x HTTP/1.1\r\nHost: localhost\r\nX-Appengine-Fake-Is-Admin: 1\r\nX-AppEngine-Fake-Logged-In: 1\r\n\r\n")
	if res.StatusCode != 302 {
		t.Errorf("fake admin header: %d", res.StatusCode)
	}
	// The login page signs in, and its cookie works.
	res, _ = get("/_ah/login?action=Login&email=root@example.com&admin=True&continue=/admin/x", "")
	cookie := res.Header.Get("Set-Cookie")
	if res.StatusCode != 302 || res.Header.Get("Location") != "/admin/x" {
		t.Fatalf("login: %d %v", res.StatusCode, res.Header)
	}
	if res, _ = get("/admin/x", cookie); res.StatusCode != 200 {
		t.Errorf("with the login page's cookie: %d", res.StatusCode)
	}
	n := a.count()
	if res, body = get("/_ah/login", cookie); !strings.Contains(body, "Logged in") || !strings.Contains(body, "root@example.com") {
		t.Errorf("form when signed in: %d %q", res.StatusCode, body)
	}
	if o := a.record(t, n); o.Route != "/_ah/login" {
		t.Errorf("record %+v", o)
	}
}

func TestSecureHandlers(t *testing.T) {
	app := "runtime: custom\nentrypoint: ./app\nhandlers:\n- url: /pay.*\n  script: auto\n  secure: always\n" +
		"  redirect_http_response_code: 301\n- url: /.*\n  script: auto\n  secure: always\n"
	// Without an HTTPS port: served, with one warning per handler.
	a := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": app}, Options{})
	for range 2 {
		if res, _ := raw(t, a.addr, "GET /pay HTTP/1.1\r\nHost: localhost\r\n\r\n"); res.StatusCode != 200 {
			t.Errorf("secure without HTTPS: %d", res.StatusCode)
		}
	}
	a.mu.Lock()
	if len(a.warns) != 1 || !strings.Contains(a.warns[0], "secure: always") {
		t.Errorf("warnings %q", a.warns)
	}
	a.mu.Unlock()
	// With one: redirected, with redirect_http_response_code.
	b := startApp(t, echoBackend(t, nil), map[string]string{"app.yaml": app}, Options{HTTPSPort: 8443})
	res, _ := raw(t, b.addr, "GET /pay?x=1 HTTP/1.1\r\nHost: localhost:8080\r\n\r\n")
	if res.StatusCode != 301 || res.Header.Get("Location") != "https://localhost:8443/pay?x=1" {
		t.Errorf("secure: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ = raw(t, b.addr, "GET /other HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"); res.StatusCode != 302 || res.Header.Get("Location") != "https://[::1]:8443/other" {
		t.Errorf("secure, default code: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}
