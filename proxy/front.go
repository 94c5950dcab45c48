package proxy

import (
	"errors"
	"net/http"
	"time"
)

// Front is the HTTP handler on a service's port.
type Front struct {
	Service string
	Pool    Pool
	// Record, when set, receives every request's outcome, served or not.
	Record func(Outcome)
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	o := Outcome{Start: time.Now(), Service: f.Service, Method: r.Method, Path: r.URL.RequestURI()}
	var lease *Lease
	// Deferred so that capacity comes back even when forwarding aborts
	// the response with a panic (http.ErrAbortHandler).
	defer func() {
		o.Status, o.Bytes, o.Latency = rec.status(), rec.bytes, time.Since(o.Start)
		if lease != nil {
			lease.Done(o)
		}
		if f.Record != nil {
			f.Record(o)
		}
	}()
	lease, err := f.Pool.Acquire(r.Context())
	if err != nil {
		var u *Unavailable
		if !errors.As(err, &u) {
			u = &Unavailable{Status: http.StatusServiceUnavailable, Title: "No instance could take the request", Detail: err.Error()}
		}
		u.ServeHTTP(rec, r)
		return
	}
	o.Instance = lease.Instance
	lease.Handler.ServeHTTP(rec, r)
}

// recorder notes the status and size of a response as it passes.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
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

// Unwrap lets http.ResponseController reach Flush and Hijack underneath,
// which streaming responses and WebSocket upgrades need.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
