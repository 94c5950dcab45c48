package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/appdeck/appdeck/config"
)

func TestLoginCookie(t *testing.T) {
	// Acceptance 57 and 58.
	for _, tt := range []struct {
		cookies []string
		want    user
	}{
		{nil, user{}},
		{[]string{`dev_appserver_login="foo:True:123"`}, user{}}, // no "@": signed out
		{[]string{`dev_appserver_login="ann@example.com:True:123"`}, user{"ann@example.com", "123", true}},
		{[]string{`a=b; dev_appserver_login=bob@example.com:False:7; c=d`}, user{"bob@example.com", "7", false}},
		{[]string{"a=b", `dev_appserver_login="c@d.e:False:1"`}, user{"c@d.e", "1", false}},
		{[]string{"garbage;;=;"}, user{}},
	} {
		if got := userFromCookies(tt.cookies); got != tt.want {
			t.Errorf("%q: %+v, want %+v", tt.cookies, got, tt.want)
		}
	}
	id := userID("test@example.com")
	if len(id) != 21 || id[0] != '1' || userID("TEST@example.com") != id {
		t.Errorf("userID %q: want \"1\" and 20 digits, the same for any case", id)
	}
	if got, want := loginCookieValue("test@example.com", true), `dev_appserver_login="test@example.com:True:`+id+`"; Path=/`; got != want {
		t.Errorf("cookie %q, want %q", got, want)
	}
	if logoutCookieValue != "dev_appserver_login=; Max-Age=0; Path=/" {
		t.Errorf("logout cookie %q", logoutCookieValue)
	}
	// The cookie the login page sets is read back as the same user.
	u := userFromCookies([]string{strings.TrimSuffix(loginCookieValue("a@b.c", false), "; Path=/")})
	if u != (user{"a@b.c", userID("a@b.c"), false}) {
		t.Errorf("round trip: %+v", u)
	}
}

func TestPyQuote(t *testing.T) {
	// Acceptance 60's continue parameter.
	if got, want := pyQuote("http://host:8080/path?q=1&r=a b"), "http%3A//host%3A8080/path%3Fq%3D1%26r%3Da%20b"; got != want {
		t.Errorf("pyQuote = %q, want %q", got, want)
	}
}

func TestLoginPages(t *testing.T) {
	// Acceptance 59.
	do := func(target string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "http://localhost:8080"+target, nil)
		w := httptest.NewRecorder()
		serveLogin(w, r, user{})
		return w
	}
	w := do("/_ah/login?action=Login&email=E@x.org")
	if w.Code != 302 || w.Header().Get("Location") != "http://localhost:8080/_ah/login" ||
		!strings.HasPrefix(w.Header().Get("Set-Cookie"), `dev_appserver_login="E@x.org:False:`) {
		t.Errorf("login without continue: %d %v", w.Code, w.Header())
	}
	w = do("/_ah/login?action=login&email=a@b.c&admin=true&continue=http://foo.com/blah")
	if w.Code != 302 || w.Header().Get("Location") != "http://foo.com/blah" || !strings.Contains(w.Header().Get("Set-Cookie"), ":True:") {
		t.Errorf("admin login with continue: %d %v", w.Code, w.Header())
	}
	w = do("/_ah/logout?continue=/home")
	if w.Code != 302 || w.Header().Get("Location") != "/home" || w.Header().Get("Set-Cookie") != logoutCookieValue {
		t.Errorf("logout: %d %v", w.Code, w.Header())
	}
	w = do("/_ah/login?action=Login&email=a@b.c&continue=javascript:alert(1)")
	if loc := w.Header().Get("Location"); strings.HasPrefix(loc, "javascript") {
		t.Errorf("continue to %q", loc)
	}
	w = do("/_ah/login?continue=/x")
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "Not logged in") || !strings.Contains(body, `value="test@example.com"`) ||
		!strings.Contains(body, "Sign in as Administrator") || !strings.Contains(body, `name="continue" value="/x"`) {
		t.Errorf("form: %d\n%s", w.Code, body)
	}
}

func TestAuthorize(t *testing.T) {
	// Acceptance 60 and 61.
	ann := user{email: "ann@example.com", id: "1"}
	root := user{email: "root@example.com", id: "2", admin: true}
	required := &config.Handler{Login: config.LoginRequired, AuthFailAction: config.AuthRedirect}
	requiredUnauth := &config.Handler{Login: config.LoginRequired, AuthFailAction: config.AuthUnauthorized}
	admin := &config.Handler{Login: config.LoginAdmin, AuthFailAction: config.AuthRedirect}
	for _, tt := range []struct {
		h        *config.Handler
		u        user
		ok       bool
		code     int
		location string
		body     string
	}{
		{&config.Handler{Login: config.LoginOptional}, user{}, true, 0, "", ""},
		{nil, user{}, true, 0, "", ""},
		{required, ann, true, 0, "", ""},
		{required, user{}, false, 302, "http://host:8080/_ah/login?continue=http%3A//host%3A8080/path%3Fq%3D1", ""},
		{requiredUnauth, user{}, false, 401, "", "Login required to view page."},
		{admin, root, true, 0, "", ""},
		{admin, ann, false, 401, "", "Current logged in user ann@example.com is not authorized to view this page."},
		{admin, user{}, false, 302, "http://host:8080/_ah/login?continue=http%3A//host%3A8080/path%3Fq%3D1", ""},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "http://host:8080/path?q=1", nil)
		ok := authorize(w, r, tt.h, tt.u)
		if ok != tt.ok {
			t.Errorf("%+v %+v: ok %v", tt.h, tt.u, ok)
			continue
		}
		if ok {
			continue
		}
		if w.Code != tt.code || w.Header().Get("Location") != tt.location || !strings.Contains(w.Body.String(), tt.body) {
			t.Errorf("%+v %+v: %d %q %q", tt.h, tt.u, w.Code, w.Header().Get("Location"), w.Body.String())
		}
		if tt.code == http.StatusUnauthorized && w.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("401 without Cache-Control: no-cache")
		}
	}
}
