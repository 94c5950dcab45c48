package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/appdeck/appdeck/config"
)

// clientConn is one front connection while the fast path owns it.
type clientConn struct {
	s      *Server
	c      net.Conn
	br     *bufio.Reader
	active atomic.Bool // a request is in flight (Shutdown waits for it)
	inLoop bool        // an event loop owns the connection: c is stale (Server.mu)
	ip     string

	req reqHead
	out []byte // the request as it goes to the instance
	res []byte // the response head as it goes to the client

	// Strings made from the last request's bytes, reused while the next
	// request carries the same bytes: a keep-alive client usually sends
	// the same Host, and benchmarks the same path, every time.
	host, target strCache
	allowedHost  string // the last Host that passed the check

	watching *clientWatch // while the instance has the request (clientwatch.go)

	// now is when the last request ended; idleSet when the idle
	// deadline was last set (zero after any other read deadline). Setting
	// a deadline costs a timer update, so the idle one is moved only
	// when it is a second stale.
	now, idleSet time.Time
}

// strCache turns bytes into a string, allocating only when they change.
type strCache struct{ s string }

func (c *strCache) get(b []byte) string {
	if c.s != string(b) { // compiled without allocating
		c.s = string(b)
	}
	return c.s
}

func newClientConn(s *Server, c net.Conn) *clientConn {
	return &clientConn{s: s, c: c, ip: clientIP(c.RemoteAddr().String()),
		out: make([]byte, 0, 4<<10), res: make([]byte, 0, 4<<10)}
}

// verdict is what became of one request on the fast path.
type verdict int

const (
	served  verdict = iota // answered; the connection may carry another request
	handoff                // not for the fast path: the general path takes over
	closed                 // answered, or failed, and the connection must close
)

// serve runs the connection on a goroutine: first, when not nil, ends a
// request the event loop began; then each request in turn until one is
// for the general path, the connection closes, or an event loop adopts it.
func (cc *clientConn) serve(first func() verdict) {
	handed := false
	defer func() {
		if !handed {
			cc.s.untrack(cc)
			cc.c.Close()
		}
	}()
	v := served
	if first != nil {
		v = first()
		cc.active.Store(false)
	}
	for v == served && !cc.s.closing.Load() {
		if cc.br.Buffered() == 0 && cc.s.adopt(cc) {
			handed = true
			return
		}
		if !cc.readHead() {
			return
		}
		cc.active.Store(true)
		v = cc.serveOne()
		cc.active.Store(false)
	}
	if v == handoff {
		cc.readDeadline(time.Time{})
		cc.s.untrack(cc)
		handed = cc.s.queue.push(&handedConn{Conn: cc.c, r: cc.br})
	}
}

// readHead waits for a whole request head in the buffer: the idle
// timeout for its first byte, the header timeout for the rest. A head larger than
// the buffer is left for the general path, which allows larger ones.
func (cc *clientConn) readHead() bool {
	if cc.br.Buffered() == 0 {
		if cc.now.IsZero() {
			cc.now = time.Now()
		}
		if cc.idleSet.IsZero() || cc.now.Sub(cc.idleSet) > time.Second {
			_ = cc.c.SetReadDeadline(cc.now.Add(cc.s.idleTimeout))
			cc.idleSet = cc.now
		}
		yieldBeforeRead()
		if _, err := cc.br.Peek(1); err != nil {
			return false
		}
	}
	timed := false
	for {
		buf, _ := cc.br.Peek(cc.br.Buffered())
		// A head ends with an empty line; net/http also takes bare LFs,
		// so a head ending so is complete too (and left to it).
		if bytes.Contains(buf, crlfcrlf) || len(buf) == cc.br.Size() || bytes.Contains(buf, lflf) {
			return true
		}
		if !timed {
			cc.readDeadline(time.Now().Add(cc.s.readHeaderTimeout))
			timed = true
		}
		if _, err := cc.br.Peek(len(buf) + 1); err != nil {
			return false // too slow (slowloris), or gone mid-head
		}
	}
}

// readDeadline sets a read deadline other than the idle one.
func (cc *clientConn) readDeadline(t time.Time) {
	_ = cc.c.SetReadDeadline(t)
	cc.idleSet = time.Time{}
}

var (
	crlfcrlf = []byte("\r\n\r\n")
	lflf     = []byte("\n\n")
)

// reqHead is what the fast path reads from a request head. Its slices
// point into the connection's buffer.
type reqHead struct {
	method, target, path []byte
	host                 []byte
	hasHost              bool
	contentLength        int64
	cookies              [][]byte
	close                bool
	trace                bool // the client sent X-Cloud-Trace-Context
	headLen              int
}

// size is the length of the request, head and body, as it came.
func (r *reqHead) size() int { return r.headLen + int(max(r.contentLength, 0)) }

// parse reads the head in buf, copying the headers the instance may
// see into out. It returns false for anything the fast path leaves to
// net/http: HTTP/1.0, absolute or odd targets, encoded or dot-segment
// paths, Transfer-Encoding, Expect, upgrades, malformed lines.
func (r *reqHead) parse(buf []byte, out []byte) ([]byte, bool) {
	end := bytes.Index(buf, crlfcrlf)
	if end < 0 {
		return out, false
	}
	*r = reqHead{cookies: r.cookies[:0], contentLength: -1, headLen: end + 4}
	line, rest, _ := bytes.Cut(buf[:end+2], crlf)
	var ok bool
	if r.method, r.target, ok = parseRequestLine(line); !ok {
		return out, false
	}
	r.path = r.target
	if q := bytes.IndexByte(r.target, '?'); q >= 0 {
		r.path = r.target[:q]
	}
	if bytes.IndexByte(r.path, '%') >= 0 || bytes.Contains(r.path, slashDot) {
		return out, false
	}
	out = append(out, r.method...)
	out = append(out, ' ')
	out = append(out, r.target...)
	out = append(out, " HTTP/1.1"...)
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, crlf)
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) || !fieldValue(line[colon+1:]) {
			return out, false
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		if keep, ok := r.header(name, value); !ok {
			return out, false
		} else if keep {
			out = append(out, crlf...)
			out = append(out, line...)
		}
	}
	return out, r.hasHost
}

var (
	crlf     = []byte("\r\n")
	slashDot = []byte("/.")
)

// header notes one request header; keep says whether the instance sees it.
func (r *reqHead) header(name, value []byte) (keep, ok bool) {
	switch {
	case foldEqual(name, "host"):
		if r.hasHost {
			return false, false
		}
		r.host, r.hasHost = value, true
		return true, true
	case foldEqual(name, "content-length"):
		n, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil || n < 0 || r.contentLength >= 0 {
			return false, false
		}
		r.contentLength = n
		return true, true
	case foldEqual(name, "connection"):
		for _, tok := range bytes.Split(value, []byte(",")) {
			tok = bytes.TrimSpace(tok)
			switch {
			case foldEqual(tok, "close"):
				r.close = true
			case !foldEqual(tok, "keep-alive"):
				return false, false // upgrades, or headers named hop-by-hop
			}
		}
		return false, true
	case foldEqual(name, "transfer-encoding"), foldEqual(name, "upgrade"), foldEqual(name, "expect"):
		return false, false
	case foldEqual(name, "cookie"):
		r.cookies = append(r.cookies, value)
		return true, true
	case foldEqual(name, "x-cloud-trace-context"):
		r.trace = true
		return true, true
	}
	return !owned(name) && !hop(name), true
}

// parseRequestLine splits "METHOD /target HTTP/1.1".
func parseRequestLine(line []byte) (method, target []byte, ok bool) {
	method, rest, ok1 := bytes.Cut(line, []byte(" "))
	target, proto, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 || string(proto) != "HTTP/1.1" || !isToken(method) || len(target) == 0 || target[0] != '/' {
		return nil, nil, false
	}
	for _, c := range target {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return nil, nil, false
		}
	}
	return method, target, true
}

// fieldValue reports whether b has no control characters but tabs: a
// bare CR or LF, or a NUL, passed on could split the request in two for
// the app's parser.
func fieldValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenChar[c] {
			return false
		}
	}
	return true
}

var tokenChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), byte(c)) >= 0
	}
	return t
}()

// serveOne handles the request whose head is buffered.
func (cc *clientConn) serveOne() verdict {
	buf, _ := cc.br.Peek(cc.br.Buffered())
	svc, u, o, ok := cc.admit(buf)
	if !ok {
		return handoff
	}
	lease, err := svc.pool.TryAcquire()
	if lease == nil && err == nil {
		if lease, err = cc.acquire(svc.pool); errors.Is(err, errClient) {
			o.Status = statusClientGone
			return cc.done(&o, closed)
		}
	}
	return cc.done(&o, cc.forward(svc, u, &o, lease, err))
}

// acquire waits for an instance with room, while the client stays: one
// that leaves while its request waits (a page reloaded while the app is
// busy) takes its request with it.
func (cc *clientConn) acquire(pool Pool) (*Lease, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc.watch(cc.req.size(), cancel)
	lease, err := pool.Acquire(ctx)
	if cc.unwatch() {
		if lease != nil {
			lease.Done(Outcome{Status: statusClientGone})
		}
		return nil, errClient
	}
	return lease, err
}

// admit parses the request head in buf and finds the service and the
// user it is for; false leaves the request to the general path. The head
// as the instance will see it, less the identity headers, is in cc.out.
func (cc *clientConn) admit(buf []byte) (svc *service, u user, o Outcome, ok bool) {
	if cc.out, ok = cc.req.parse(buf, cc.out[:0]); !ok {
		return nil, u, o, false
	}
	r := &cc.req
	p := cc.s.port
	host := cc.host.get(r.host)
	if host != cc.allowedHost {
		if !p.rt.hosts.allowed(host) {
			return nil, u, o, false
		}
		cc.allowedHost = host
	}
	path := r.path
	if string(path) == "/_ah/login" || string(path) == "/_ah/logout" ||
		r.contentLength > maxBody && !bytes.HasPrefix(path, []byte("/_ah/")) {
		return nil, u, o, false
	}
	target := cc.target.get(r.target)
	pathStr := target[:len(path)]
	svc, rule := p.route(host, pathStr)
	if len(r.cookies) > 0 {
		u = userFromCookieBytes(r.cookies)
	}
	h, ok := svc.fastHandler(pathStr, u)
	if !ok {
		return nil, u, o, false
	}
	o = Outcome{Start: time.Now(), Service: svc.name, Method: methodString(r.method), Path: target, Route: routeName(rule, h)}
	return svc, u, o, true
}

// done records a request that ended as v, and says whether the
// connection carries on.
func (cc *clientConn) done(o *Outcome, v verdict) verdict {
	cc.now = time.Now()
	o.Latency = cc.now.Sub(o.Start)
	if record := cc.s.port.rt.opts.Record; record != nil {
		record(*o)
	}
	if v == served && cc.req.close {
		v = closed
	}
	return v
}

// fastHandler finds the handler for path, reporting false when the
// general path must serve the request: a static handler, a login the
// user does not pass, or a secure handler. A nil handler is the
// catch-all.
func (s *service) fastHandler(path string, u user) (*handler, bool) {
	for i := range s.handlers {
		h := &s.handlers[i]
		if ok, _ := h.match(path, false); !ok {
			continue
		}
		switch {
		case h.StaticDir != "" || h.StaticFiles != "", h.Secure == config.SecureAlways:
			return nil, false
		case h.Login == config.LoginRequired && u.email == "", h.Login == config.LoginAdmin && !u.admin:
			return nil, false
		}
		return h, true
	}
	return nil, true
}

func userFromCookieBytes(values [][]byte) user {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return userFromCookies(s)
}

// methodString avoids allocating for the common methods.
func methodString(m []byte) string {
	for _, s := range [...]string{"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		if string(m) == s {
			return s
		}
	}
	return string(m)
}

// forward relays the request to the instance of lease, or answers err
// when no instance took it. Failures before the response starts are
// answered with the same pages, and error handler files, as the general
// path.
func (cc *clientConn) forward(svc *service, u user, o *Outcome, lease *Lease, err error) verdict {
	if err != nil {
		return cc.answer(o, true, func(w http.ResponseWriter) { svc.unavailable(w, err) })
	}
	o.Instance = lease.Instance
	defer func() { lease.Done(*o) }()
	f, ok := lease.Handler.(*Forwarder)
	if !ok {
		return cc.answer(o, true, func(w http.ResponseWriter) {
			req, _ := http.NewRequest(o.Method, "http://"+cc.host.s+o.Path, http.NoBody)
			lease.Handler.ServeHTTP(w, req)
		})
	}
	id := newIdentity(u, cc.ip)
	cc.out = id.appendHeaders(cc.out, !cc.req.trace)
	return f.relay(cc, svc, o)
}

// answer writes a response made by fn, first dropping the request when
// skip says it is still unread.
func (cc *clientConn) answer(o *Outcome, skip bool, fn func(http.ResponseWriter)) verdict {
	if skip && !cc.skipRequest() {
		return closed
	}
	w := newBufferedResponse()
	fn(w)
	o.Status, o.Bytes = w.code, int64(w.body.Len())
	cc.res = appendResponse(cc.res[:0], w, o.Method == "HEAD", cc.req.close)
	if _, err := cc.c.Write(cc.res); err != nil {
		return closed
	}
	return served
}

// skipRequest consumes the request's head and body.
func (cc *clientConn) skipRequest() bool {
	n := int64(cc.req.headLen)
	if cc.req.contentLength > 0 {
		n += cc.req.contentLength
	}
	cc.readDeadline(time.Time{})
	_, err := io.CopyN(io.Discard, cc.br, n)
	return err == nil
}

// appendResponse writes a buffered response in wire format.
func appendResponse(b []byte, w *bufferedResponse, head, close bool) []byte {
	code := w.code
	if code == 0 {
		code = http.StatusOK
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(code)...)
	w.header.Del("Content-Length")
	w.header.Del("Connection")
	for k, vs := range w.header {
		for _, v := range vs {
			b = appendHeader(b, k, v)
		}
	}
	b = appendHeader(b, "Content-Length", strconv.Itoa(w.body.Len()))
	if close {
		b = appendHeader(b, "Connection", "close")
	}
	b = append(b, "\r\n\r\n"...)
	if !head {
		b = append(b, w.body.Bytes()...)
	}
	return b
}
