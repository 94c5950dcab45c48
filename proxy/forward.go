package proxy

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// NewForwarder returns a handler that forwards requests to the instance
// listening on addr (host:port), keeping up to capacity connections to it
// alive between requests. When the instance fails to answer, explain tells
// why (the process exited, its last stderr lines), for the 502 page.
func NewForwarder(addr string, capacity int, explain func() string) http.Handler {
	target := &url.URL{Scheme: "http", Host: addr}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Host = pr.In.Host
		},
		Transport:  newTransport(capacity),
		BufferPool: bufferPool{},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client went away; nobody to tell
			}
			detail := err.Error()
			if why := explain(); why != "" {
				detail = why
			}
			writePage(w, http.StatusBadGateway, "The instance did not answer", strings.TrimSpace(detail), 0)
		},
	}
}

// newTransport is tuned for one local backend: http.DefaultTransport keeps
// only two idle connections per host, so under concurrency most requests
// would dial anew and throughput halves.
func newTransport(capacity int) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          capacity * 2,
		MaxIdleConnsPerHost:   capacity * 2,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // pass the app's encoding through untouched
		ExpectContinueTimeout: time.Second,
	}
}

// bufferPool recycles the 32 KiB copy buffers ReverseProxy uses per request.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }
