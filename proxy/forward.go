package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Forwarder passes requests to one instance. The fast path (server.go,
// loop_linux.go) writes plain HTTP/1.1 requests itself over pooled
// keep-alive connections; everything else — upgrades, chunked uploads,
// odd requests — goes through an httputil.ReverseProxy, on a connection
// of its own for each request.
type Forwarder struct {
	addr    string
	explain func() string
	rp      *httputil.ReverseProxy
	conns   backendPool // idle fast path connections (without an event loop)
}

// NewForwarder returns a forwarder to the instance listening on addr
// (host:port) that keeps up to capacity connections to it alive between
// requests. When the instance fails to answer, explain tells why (the
// process exited, its last stderr lines), for the 502 page.
func NewForwarder(addr string, capacity int, explain func() string) *Forwarder {
	f := &Forwarder{addr: addr, explain: explain, conns: backendPool{addr: addr, max: capacity}}
	target := &url.URL{Scheme: "http", Host: addr}
	f.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			fc := contextOf(pr.In)
			for name := range pr.Out.Header {
				if owned(name) {
					delete(pr.Out.Header, name)
				}
			}
			fc.id.set(pr.Out.Header, true)
		},
		Transport:  newTransport(f.dialGeneral),
		BufferPool: bufferPool{},
		// Flush every write, as the fast path does: the client sees what
		// the instance sent even when the instance fails mid-body.
		FlushInterval:  -1,
		ModifyResponse: func(res *http.Response) error { return contextOf(res.Request).errorCode(res) },
		ErrorHandler:   func(w http.ResponseWriter, r *http.Request, err error) { contextOf(r).failed(w, r, err, f.explain) },
	}
	return f
}

// Close drops the connections f keeps alive to the instance, for when its
// process is done: the idle ones at once, and one still carrying a fast
// path request when that request ends. (The general path keeps none.)
// Close may be called more than once.
func (f *Forwarder) Close() {
	f.conns.close()
	wakeLoop() // for its idle connections to f
}

// forwardContext is what the general path needs to know about a request
// inside ReverseProxy's hooks.
type forwardContext struct {
	svc *service // nil when the forwarder is used on its own
	id  *identity
}

type ctxKey struct{}

func contextOf(r *http.Request) *forwardContext {
	if fc, ok := r.Context().Value(ctxKey{}).(*forwardContext); ok {
		return fc
	}
	id := newIdentity(userFromCookies(r.Header["Cookie"]), clientIP(r.RemoteAddr))
	return &forwardContext{id: &id}
}

// ServeHTTP forwards r on its own, without a service's error handlers.
func (f *Forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.rp.ServeHTTP(w, r)
}

// forward is the general path: the request goes to the instance under
// the service's deadline (upgraded connections excepted: they are long
// lived by nature) with svc's error handlers.
func (f *Forwarder) forward(w http.ResponseWriter, r *http.Request, svc *service, id *identity) {
	ctx := context.WithValue(r.Context(), ctxKey{}, &forwardContext{svc: svc, id: id})
	if r.Header.Get("Upgrade") == "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, svc.deadline)
		defer cancel()
	}
	f.rp.ServeHTTP(w, r.WithContext(ctx))
}

// errorCode applies X-Appengine-Error-Code: when the app's error
// handlers have a file for it, the response is replaced by that file
// with status 500; otherwise the header is dropped and the response
// passes unchanged, as in devappserver2.
func (fc *forwardContext) errorCode(res *http.Response) error {
	code := res.Header.Get("X-Appengine-Error-Code")
	if code == "" {
		return nil
	}
	res.Header.Del("X-Appengine-Error-Code")
	if fc.svc == nil {
		return nil
	}
	eh, ok := fc.svc.errorFile(code)
	if !ok {
		return nil
	}
	rec := newBufferedResponse()
	fc.svc.serveErrorFile(rec, http.StatusInternalServerError, eh)
	res.Body.Close()
	res.StatusCode, res.Status = rec.code, strconv.Itoa(rec.code)+" "+http.StatusText(rec.code)
	res.Header, res.Trailer = rec.header, nil
	res.ContentLength, res.TransferEncoding = int64(rec.body.Len()), nil
	res.Body = io.NopCloser(&rec.body)
	return nil
}

// failed answers when the instance did not: 413 for a body over the
// limit, the timeout error for a passed deadline, else a 502 saying why.
func (fc *forwardContext) failed(w http.ResponseWriter, r *http.Request, err error, explain func() string) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		tooLarge(w)
		return
	case errors.Is(err, context.DeadlineExceeded) && !errors.Is(r.Context().Err(), context.Canceled):
		title := "The request did not finish before its deadline"
		detail := "App Engine ends requests after 10 minutes with automatic scaling and 24 hours with basic or manual scaling."
		if fc.svc != nil {
			fc.svc.fail(w, http.StatusGatewayTimeout, codeTimeout, title, detail+" This one had "+fc.svc.deadline.String()+".", 0)
		} else {
			writePage(w, http.StatusGatewayTimeout, title, detail, 0)
		}
		return
	case r.Context().Err() != nil:
		return // the client went away; nobody to tell
	}
	title, detail := "The instance did not answer", err.Error()
	var de *dialError
	if errors.As(err, &de) {
		title, detail = "The instance did not accept a connection", de.detail()
	}
	if why := explain(); why != "" {
		detail = why
	}
	if fc.svc != nil {
		fc.svc.fail(w, http.StatusBadGateway, codeDefault, title, strings.TrimSpace(detail), 0)
		return
	}
	writePage(w, http.StatusBadGateway, title, strings.TrimSpace(detail), 0)
}

// newTransport returns the general path's transport. It keeps no
// connection alive: the fast path's pool is the one pool of idle
// connections, and a second one could hold the only connection an
// instance serves at a time. The general path's requests are the odd
// ones, so a dial each costs little.
func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	return &http.Transport{
		DialContext:           dial,
		DisableKeepAlives:     true,
		DisableCompression:    true, // pass the app's encoding through untouched
		ExpectContinueTimeout: time.Second,
	}
}

// dialGeneral dials for the general path, first closing one idle
// connection of the fast path's, so that an instance serving a set
// number of connections at a time has room for the new one.
func (f *Forwarder) dialGeneral(ctx context.Context, network, addr string) (net.Conn, error) {
	if bc := f.idle(); bc != nil {
		bc.c.Close()
	}
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, &dialError{err}
	}
	return c, nil
}

// bufferPool recycles the 32 KiB copy buffers of both paths.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }

// bufferedResponse is an http.ResponseWriter that keeps the response in
// memory: for small answers the fast path writes itself (error pages)
// and for replacing a response body.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: http.Header{}}
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}
