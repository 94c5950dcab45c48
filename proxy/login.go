package proxy

import (
	"crypto/md5"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// loginCookie is devappserver2's cookie; apps and test suites that log in
// by setting it keep working.
const loginCookie = "dev_appserver_login"

// user is who the login cookie says is signed in; the zero user is
// signed out.
type user struct {
	email, id string
	admin     bool
}

// userFromCookies reads the login cookie from Cookie header values. A
// value whose email has no "@" counts as signed out, as in devappserver2.
func userFromCookies(values []string) user {
	for _, v := range values {
		for v != "" {
			var pair string
			pair, v, _ = strings.Cut(v, ";")
			name, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || name != loginCookie {
				continue
			}
			return parseLogin(strings.Trim(val, `"`))
		}
	}
	return user{}
}

func parseLogin(v string) user {
	email, rest, ok := strings.Cut(v, ":")
	if !ok || !strings.Contains(email, "@") {
		return user{}
	}
	admin, id, _ := strings.Cut(rest, ":")
	return user{email: email, admin: admin == "True", id: id}
}

// userID is devappserver2's stable id for an email: "1" and the first 20
// digits of the MD5 bytes of the lower-cased email, each written in
// decimal with at least two digits.
func userID(email string) string {
	var b strings.Builder
	for _, c := range md5.Sum([]byte(strings.ToLower(email))) {
		fmt.Fprintf(&b, "%02d", c)
	}
	return "1" + b.String()[:20]
}

func (u user) nickname() string { n, _, _ := strings.Cut(u.email, "@"); return n }

func (u user) organization() string { _, o, _ := strings.Cut(u.email, "@"); return o }

func (u user) isAdmin() string {
	if u.admin {
		return "1"
	}
	return "0"
}

// loginCookieValue is the Set-Cookie value devappserver2 writes; the
// value is quoted because it holds "@" and ":".
func loginCookieValue(email string, admin bool) string {
	a := "False"
	if admin {
		a = "True"
	}
	return fmt.Sprintf(`%s="%s:%s:%s"; Path=/`, loginCookie, email, a, userID(email))
}

const logoutCookieValue = loginCookie + "=; Max-Age=0; Path=/"

// authorize applies a handler's login setting. It returns false after
// answering the request itself: a redirect to the login page or a 401.
func authorize(w http.ResponseWriter, r *http.Request, h *config.Handler, u user) bool {
	if h == nil || h.Login == config.LoginOptional || h.Login == "" {
		return true
	}
	if u.email != "" {
		if h.Login == config.LoginRequired || u.admin {
			return true
		}
		unauthorized(w, fmt.Sprintf("Current logged in user %s is not authorized to view this page.", template.HTMLEscapeString(u.email)))
		return false
	}
	if h.AuthFailAction == config.AuthUnauthorized {
		unauthorized(w, "Login required to view page.")
		return false
	}
	http.Redirect(w, r, loginURL(r, requestURL(r)), http.StatusFound)
	return false
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprint(w, msg)
}

// requestURL is the full URL the client asked for.
func requestURL(r *http.Request) string {
	return scheme(r) + "://" + r.Host + r.URL.RequestURI()
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// loginURL is the login page that returns to next, with next quoted the
// way devappserver2 quotes it (Python's urllib quote: "/" kept).
func loginURL(r *http.Request, next string) string {
	return scheme(r) + "://" + r.Host + "/_ah/login?continue=" + pyQuote(next)
}

// pyQuote percent-encodes s like Python's urllib.parse.quote(s, safe="/").
func pyQuote(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.-~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// serveLogin is /_ah/login and /_ah/logout: a form to sign in as any
// email, optionally as an administrator, like devappserver2's.
func serveLogin(w http.ResponseWriter, r *http.Request, u user) {
	q := r.URL.Query()
	action := strings.ToLower(q.Get("action"))
	if r.URL.Path == "/_ah/logout" {
		action = "logout"
	}
	next := q.Get("continue")
	switch {
	case action == "logout":
		w.Header().Add("Set-Cookie", logoutCookieValue)
	case action == "login" && q.Get("email") != "":
		w.Header().Add("Set-Cookie", loginCookieValue(q.Get("email"), strings.EqualFold(q.Get("admin"), "true")))
	case action == "":
		showLoginForm(w, u, next)
		return
	}
	if next == "" || !sameOriginOrPath(next) {
		next = scheme(r) + "://" + r.Host + "/_ah/login"
	}
	w.Header().Set("Location", next)
	w.WriteHeader(http.StatusFound)
}

// sameOriginOrPath refuses continue URLs that are not http(s) or a path,
// so the login page cannot be used to send users to javascript: URLs.
func sameOriginOrPath(next string) bool {
	u, err := url.Parse(next)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "" && strings.HasPrefix(next, "/"))
}

var loginForm = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Login</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:3em auto;max-width:28em;padding:0 1em}
input[type=text]{width:100%;padding:.3em;font:inherit}p{margin:1em 0}</style></head>
<body><h1>{{if .Email}}Logged in{{else}}Not logged in{{end}}</h1>
<form method="get" action="/_ah/login">
<input type="hidden" name="continue" value="{{.Continue}}">
<p><label>Email: <input type="text" name="email" id="email" value="{{.Default}}"></label></p>
<p><label><input type="checkbox" name="admin" value="True" id="admin"{{if .Admin}} checked{{end}}> Sign in as Administrator</label></p>
<p><input type="submit" name="action" value="Login" id="submit-login">
<input type="submit" name="action" value="Logout" id="submit-logout"></p>
</form>
<footer style="color:#777;font-size:.85em">Local sign-in emulated by appdeck: no password, any email.</footer>
</body></html>
`))

func showLoginForm(w http.ResponseWriter, u user, next string) {
	def := u.email
	if def == "" {
		def = "test@example.com"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_ = loginForm.Execute(w, struct {
		Email, Default, Continue string
		Admin                    bool
	}{u.email, def, next, u.admin})
}
