package proxy

import (
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/appdeck/appdeck/config"
)

func rules(rs ...config.DispatchRule) []dispatchRule {
	var out []dispatchRule
	for _, r := range rs {
		out = append(out, dispatchRule{DispatchRule: r, route: "dispatch " + r.URL})
	}
	return out
}

func TestDispatch(t *testing.T) {
	// Acceptance 51 and 52 of the devappserver reference, and host rules.
	rs := rules(
		config.DispatchRule{URL: "*/path", Host: "*", Path: "/path", Service: "one"},
		config.DispatchRule{URL: "*/other_path/*", Host: "*", Path: "/other_path/*", Service: "two"},
		config.DispatchRule{URL: "*/other_path", Host: "*", Path: "/other_path", Service: "three"},
		config.DispatchRule{URL: "*/*", Host: "*", Path: "/_ah/queue/deferred*", Service: "tasks"},
		config.DispatchRule{URL: "admin.example.dev/*", Host: "admin.example.dev", Path: "/*", Service: "admin"},
		config.DispatchRule{URL: "*.api.dev/*", Host: "*.api.dev", Path: "/*", Service: "api"},
		config.DispatchRule{URL: "*/", Host: "*", Path: "/", Service: "home"},
	)
	for _, tt := range []struct{ host, path, want string }{
		{"localhost:8080", "/path", "one"},
		{"localhost:8080", "/other_path/", "two"},
		{"localhost:8080", "/other_path/a", "two"},
		{"localhost:8080", "/other_path", "three"},
		{"localhost:8080", "/undispatched", ""},
		{"localhost:8080", "/path/", ""}, // no "*": the whole path
		{"localhost:8080", "/", "home"},
		{"localhost:8080", "/_ah/queue/deferred/blah", "tasks"},
		{"localhost:8080", "/_ah/", ""},
		{"localhost:8080", "/_ah/foo/", ""},
		{"localhost:8080", "/_ah/queue/", ""},
		{"admin.example.dev:8080", "/x", "admin"},
		{"ADMIN.example.dev", "/x", "admin"},
		{"other.example.dev:8080", "/x", ""},
		{"v1.api.dev", "/x", "api"},
		{"api.dev", "/x", ""},
	} {
		got := ""
		if r := matchDispatch(rs, tt.host, tt.path); r != nil {
			got = r.Service
		}
		if got != tt.want {
			t.Errorf("host %q path %q: service %q, want %q", tt.host, tt.path, got, tt.want)
		}
	}
}

func TestServiceFromHost(t *testing.T) {
	// Acceptance 53.
	for host, want := range map[string]string{
		"backend.localhost:1":      "backend",
		"1.backend.localhost:1":    "backend",
		"1.v1.backend.localhost:1": "backend",
		"API.localhost":            "api",
		"localhost:8080":           "",
		"127.0.0.1:8080":           "",
		"backend.example.com":      "",
		"[::1]:8080":               "",
	} {
		if got := serviceFromHost(host); got != want {
			t.Errorf("serviceFromHost(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestMachineHosts(t *testing.T) {
	if got := MachineHosts("127.0.0.1"); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Errorf("loopback: %v", got)
	}
	if got := MachineHosts("10.1.2.3"); len(got) != 1 || got[0] != "10.1.2.3" {
		t.Errorf("one address: %v", got)
	}
	// A wildcard bind answers to this machine's addresses, which include
	// a loopback one on every machine.
	for _, wild := range []string{"0.0.0.0", "::", "[::]"} {
		if got := MachineHosts(wild); !slices.Contains(got, "127.0.0.1") {
			t.Errorf("wildcard %s: %v lacks 127.0.0.1", wild, got)
		}
	}
}

// With a wildcard --host, the service ports answer to this machine's
// name and addresses (a phone on the network uses them), as the admin
// API does, and still to nothing else.
func TestHostCheckOnAWildcardAddress(t *testing.T) {
	hc, err := newHostCheck("0.0.0.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	name, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{name + ":8080", strings.ToUpper(name)}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() {
			allowed = append(allowed, net.JoinHostPort(n.IP.String(), "8080"))
		}
	}
	for _, h := range allowed {
		if !hc.allowed(h) {
			t.Errorf("allowed(%q) = false on 0.0.0.0", h)
		}
	}
	for _, h := range []string{"evil.com", "0.0.0.0:8080", name + ".evil.com", "[2001:db8::1]:8080"} {
		if hc.allowed(h) {
			t.Errorf("allowed(%q) = true on 0.0.0.0", h)
		}
	}
}

func TestHostCheck(t *testing.T) {
	// Acceptance 62, plus loopback names and --host.
	hc, err := newHostCheck("devbox", []string{"*.example.dev", "**.deep.example", "exact.test"})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"localhost":              true,
		"localhost:8080":         true,
		"api.localhost:8080":     true,
		"127.0.0.1:8080":         true,
		"127.1.2.3":              true,
		"[::1]:8080":             true,
		"[::ffff:127.0.0.1]:80":  true,
		"devbox:8080":            true,
		"DEVBOX":                 true,
		"exact.test":             true,
		"sub.example.dev":        true,
		"a.b.deep.example":       true,
		"b.deep.example:1":       true,
		"example.dev":            false,
		"sub.sub.example.dev":    false,
		"deep.example":           false,
		"evil.com":               false,
		"localhost.evil.com":     false,
		"10.0.0.1":               false,
		"[2001:db8::1]:8080":     false,
		"127.0.0.1.nip.io":       false,
		"":                       true, // HTTP/1.0 without Host
		"[::1":                   false,
		"exact.test.evil.com:80": false,
	} {
		if got := hc.allowed(host); got != want {
			t.Errorf("allowed(%q) = %v, want %v", host, got, want)
		}
	}
	for _, bad := range []string{"*", "*.", "a*.b", "http://x", "**."} {
		if _, err := newHostCheck("", []string{bad}); err == nil {
			t.Errorf("--allow-host %q accepted", bad)
		}
	}
	// A wildcard bind address is not a name anyone sends.
	hc, _ = newHostCheck("0.0.0.0", nil)
	if hc.allowed("0.0.0.0:8080") {
		t.Error("0.0.0.0 accepted as a Host")
	}
}

func TestHeaderRules(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Appengine-User-Email":     true,
		"x-appengine-user-is-admin":  true,
		"X_Appengine_User_Email":     true,
		"x_appengine-user_id":        true,
		"X-AppEngine-Country":        true,
		"X-Appengine-Fake-Is-Admin":  true,
		"X-Google-Apps-Metadata":     true,
		"X_GOOGLE_ANYTHING":          true,
		"X-Forwarded-For":            true,
		"X_Forwarded_Proto":          true,
		"X-Appengine":                false, // not a family member
		"X-Cloud-Trace-Context":      false,
		"X-Appengineer":              false,
		"Cookie":                     false,
		"Authorization":              false,
		"Content-Type":               false,
		"X-Custom":                   false,
		"X-Googlebot":                false,
		"X-Appengine-Request-Log-Id": true,
	} {
		if got := owned(name); got != want {
			t.Errorf("owned(%q) = %v, want %v", name, got, want)
		}
		if got := owned([]byte(name)); got != want {
			t.Errorf("owned([]byte %q) = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]bool{
		"Connection": true, "keep-alive": true, "Proxy-Connection": true, "TE": true,
		"Transfer-Encoding": true, "Upgrade": true, "Trailer": false, "Proxy-Authorization": true,
		"Content-Length": false, "Host": false, "Te-x": false,
	} {
		if got := hop(name); got != want {
			t.Errorf("hop(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIdentityHeaders(t *testing.T) {
	id := newIdentity(user{email: "ann@example.com", id: "42", admin: true}, "127.0.0.1")
	wire := string(id.appendHeaders([]byte("GET / HTTP/1.1\r\nHost: x"), true))
	for _, line := range []string{
		"\r\nX-Appengine-Country: ZZ\r\n", "\r\nX-Appengine-User-Email: ann@example.com\r\n",
		"\r\nX-Appengine-User-Id: 42\r\n", "\r\nX-Appengine-User-Nickname: ann\r\n",
		"\r\nX-Appengine-User-Organization: example.com\r\n", "\r\nX-Appengine-User-Is-Admin: 1\r\n",
		"\r\nX-Forwarded-For: 127.0.0.1\r\n", "\r\nX-Forwarded-Proto: http\r\n\r\n",
		"\r\nX-Appengine-Request-Log-Id: " + string(id.logID[:]) + "\r\n",
		"\r\nX-Cloud-Trace-Context: " + string(id.traceID[:]) + "/",
	} {
		if !strings.Contains(wire, line) {
			t.Errorf("fast-path head lacks %q:\n%s", line, wire)
		}
	}
	other := newIdentity(user{}, "::1")
	if other.logID == id.logID || other.traceID == id.traceID {
		t.Error("request ids repeat")
	}
}
