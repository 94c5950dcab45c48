package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/appdeck/appdeck/config"
)

// port is the front of one service port: the general path, which serves
// every request the fast path (see server.go) leaves to net/http.
type port struct {
	rt    *Router
	name  string // the port's own service
	index int    // of the service in the app, for table.ordered
}

func (p *port) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	o := Outcome{Start: time.Now(), Service: p.name, Method: r.Method, Path: r.URL.RequestURI()}
	// Deferred so that the record is made even when forwarding aborts the
	// response with a panic (http.ErrAbortHandler).
	defer func() {
		o.Status, o.Bytes, o.Latency = rec.status(), rec.bytes, time.Since(o.Start)
		if p.rt.opts.Record != nil {
			p.rt.opts.Record(o)
		}
	}()
	p.serve(rec, r, &o)
}

// serve runs App Engine's request pipeline: Host check, routing, path
// normalization, body limit, the login pages, then the first handler
// that matches, after its login and secure checks.
func (p *port) serve(w *recorder, r *http.Request, o *Outcome) {
	if !p.rt.hosts.allowed(r.Host) {
		status, msg := rejectHost(r.Host)
		http.Error(w, msg, status)
		return
	}
	svc, rule := p.route(r.Host, r.URL.Path)
	o.Service, o.Route = svc.name, routeName(rule, nil)
	if clean := cleanPath(r.URL.Path); clean != r.URL.Path {
		redirect(w, scheme(r)+"://"+r.Host+(&url.URL{Path: clean, RawQuery: r.URL.RawQuery}).RequestURI(), http.StatusFound)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/_ah/") {
		if r.ContentLength > maxBody {
			tooLarge(w)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	u := userFromCookies(r.Header["Cookie"])
	if r.URL.Path == "/_ah/login" || r.URL.Path == "/_ah/logout" {
		o.Route = r.URL.Path
		serveLogin(w, r, u)
		return
	}
	for i := range svc.handlers {
		h := &svc.handlers[i]
		static := h.StaticDir != "" || h.StaticFiles != ""
		ok, m := h.match(r.URL.Path, static)
		if !ok {
			continue
		}
		o.Route = routeName(rule, h)
		if !authorize(w, r, h.Handler, u) || p.redirectSecure(w, r, svc, h.Handler) {
			return
		}
		if !static {
			p.forward(w, r, svc, u, o)
			return
		}
		if svc.serveStatic(w, r, h.Handler, m) {
			return
		}
		o.Route = routeName(rule, nil) // require_matching_file found no file: go on
	}
	// Modern runtimes end their handlers with a catch-all to the app.
	p.forward(w, r, svc, u, o)
}

// redirectSecure applies `secure: always`: a redirect to the HTTPS port
// when there is one; without one the request is served, with a warning.
func (p *port) redirectSecure(w http.ResponseWriter, r *http.Request, svc *service, h *config.Handler) bool {
	if h.Secure != config.SecureAlways || r.TLS != nil {
		return false
	}
	if p.rt.opts.HTTPSPort == 0 {
		p.rt.warnOnce(svc.name, svc.name+" secure "+h.URL, fmt.Sprintf(
			"handler %q has secure: always, but appdeck serves no HTTPS port; serving it over HTTP", h.URL))
		return false
	}
	code := h.RedirectCode
	if code == 0 {
		code = http.StatusFound
	}
	host := fmt.Sprintf("%s:%d", hostName(r.Host), p.rt.opts.HTTPSPort)
	if strings.Contains(hostName(r.Host), ":") {
		host = fmt.Sprintf("[%s]:%d", hostName(r.Host), p.rt.opts.HTTPSPort)
	}
	redirect(w, "https://"+host+r.URL.RequestURI(), code)
	return true
}

// redirect sends a redirect to an absolute URL as given: http.Redirect
// would clean the path, losing repeated slashes.
func redirect(w http.ResponseWriter, location string, code int) {
	w.Header().Set("Location", location)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<a href=\"%s\">%s</a>.\n", htmlEscaper.Replace(location), http.StatusText(code))
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")

func tooLarge(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	http.Error(w, "Upload limited to 32 megabytes.", http.StatusRequestEntityTooLarge)
}

// forward hands the request to an instance of svc.
func (p *port) forward(w *recorder, r *http.Request, svc *service, u user, o *Outcome) {
	lease, err := svc.pool.Acquire(r.Context())
	if err != nil {
		if r.Context().Err() != nil {
			return // the client went away while waiting
		}
		svc.unavailable(w, err)
		return
	}
	o.Instance = lease.Instance
	defer func() {
		// The instance's numbers need the status now, before ServeHTTP
		// completes the record.
		o.Status, o.Bytes = w.status(), w.bytes
		lease.Done(*o)
	}()
	f, ok := lease.Handler.(*Forwarder)
	if !ok {
		lease.Handler.ServeHTTP(w, r) // e.g. the build error page
		return
	}
	id := newIdentity(u, clientIP(r.RemoteAddr))
	id.https = r.TLS != nil
	f.forward(w, r, svc, &id)
}

// unavailable answers when no instance could take a request.
func (s *service) unavailable(w http.ResponseWriter, err error) {
	var u *Unavailable
	if !errors.As(err, &u) {
		u = &Unavailable{Status: http.StatusServiceUnavailable, Title: "No instance could take the request", Detail: err.Error()}
	}
	code := codeDefault
	if u.Timeout {
		code = codeTimeout
	}
	s.fail(w, u.Status, code, u.Title, u.Detail, u.RetryAfter)
}

// recorder notes the status and size of a response as it passes.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 && code >= 200 {
		r.code = code
	}
	if code == http.StatusSwitchingProtocols {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// Hijack takes the connection over, which the general path does only to
// relay an upgraded connection (101 Switching Protocols).
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil {
		r.code = http.StatusSwitchingProtocols
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack underneath,
// which streaming responses and WebSocket upgrades need.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
