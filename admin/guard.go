package admin

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/appdeck/appdeck/proxy"
)

// guard checks what every request must pass: a Host that names this
// machine (400), no foreign Origin (403), and for every call that can
// change something (and every API call when TokenForReads), the token
// (401).
func (s *Server) guard(r *http.Request) error {
	if !s.hostAllowed(r.Host) {
		return errorf(http.StatusBadRequest, fmt.Sprintf(
			"Host %q is not allowed: the admin API answers only to localhost and this machine's addresses "+
				"(DNS rebinding protection); use --admin-host to serve another name", r.Host))
	}
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
		return errorf(http.StatusForbidden, fmt.Sprintf("cross-origin request from %q refused", o))
	}
	read := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
	if read && !(s.opts.TokenForReads && strings.HasPrefix(r.URL.Path, "/api/")) {
		return nil
	}
	if !s.tokenOK(r.Header.Get("Authorization")) {
		return &apiError{
			status: http.StatusUnauthorized,
			header: http.Header{"Www-Authenticate": {`Bearer realm="appdeck"`}},
			msg: "this call needs the token appdeck wrote to its state file: " +
				"use `appdeck ctl`, or send \"Authorization: Bearer TOKEN\"",
		}
	}
	return nil
}

// hostAllowed reports whether host (a Host header, with or without a
// port) names this server: localhost, a loopback address, or one of the
// configured hosts. An empty Host is HTTP/1.0, which browsers never use.
func (s *Server) hostAllowed(host string) bool {
	if host == "" {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.Trim(name, "[]"), ".")
	if proxy.IsLoopbackHost(name) {
		return true
	}
	for _, h := range s.opts.Hosts {
		if strings.EqualFold(name, strings.Trim(h, "[]")) {
			return true
		}
	}
	return false
}

// sameOrigin reports whether an Origin header names the server the
// request was sent to.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Scheme == "http" && strings.EqualFold(u.Host, host)
}

func (s *Server) tokenOK(auth string) bool {
	got, ok := strings.CutPrefix(auth, "Bearer ")
	return ok && s.opts.Token != "" &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.opts.Token)) == 1
}

// NewToken returns a fresh random token (128 bits from crypto/rand).
func NewToken() string { return rand.Text() }
