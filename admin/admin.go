// Package admin is appdeck's control API: JSON and server-sent events over
// the supervisor, for `appdeck ctl`, scripts and CI, plus a small status
// page. It is safe by default: it listens on loopback, answers only to
// Host names that mean this machine (so a DNS-rebound name in a browser
// gets nothing), refuses cross-origin requests, and every call that
// changes state needs the token appdeck wrote to its state file.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/appdeck/appdeck/supervisor"
)

// Supervisor is what the API reads and drives.
type Supervisor interface {
	supervisor.LogSource
	Requests() *supervisor.Ring[supervisor.Request]
	Subscribe() (<-chan supervisor.Event, func())
	Restart(service, id string) error
	StopInstance(service, id string) error
	StartInstance(service, id string) error
	Kill(service, id string) error
	Scale(service string, n int) error
	Rebuild(service string) error
	RestartService(service string) error
}

// Options configures a Server.
type Options struct {
	Sup Supervisor
	// Token is what state-changing calls must send as
	// "Authorization: Bearer TOKEN".
	Token string
	// App names the app on the status page and in /healthz.
	App string
	// Hosts are the names and addresses, besides localhost and loopback
	// addresses, that a request's Host header may name (see proxy.MachineHosts).
	Hosts []string
	// ServiceHost is the host in services' URLs, as a browser should use it.
	ServiceHost string
	// TokenForReads makes every /api/ call need the token, reads too: for
	// an API reachable from other machines, whose logs may hold secrets.
	TokenForReads bool
}

// Server is the control API. It is an http.Handler; Serve runs it.
type Server struct {
	opts Options
	mux  *http.ServeMux
	// ctx ends at Shutdown, which ends the streams: http.Server.Shutdown
	// alone would wait for them forever.
	ctx    context.Context
	cancel context.CancelFunc
	srv    *http.Server
}

// New returns a Server; it serves nothing until Serve or ServeHTTP.
func New(opts Options) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{opts: opts, mux: http.NewServeMux(), ctx: ctx, cancel: cancel}
	s.routes()
	return s
}

func (s *Server) routes() {
	h := func(pattern string, f func(http.ResponseWriter, *http.Request) error) {
		s.mux.Handle(pattern, handlerFunc(f))
	}
	h("GET /{$}", s.page)
	h("GET /healthz", s.health)
	h("GET /api/services", s.listServices)
	h("GET /api/services/{service}", s.getService)
	h("POST /api/services/{service}/scale", s.scale)
	h("POST /api/services/{service}/rebuild", s.rebuild)
	h("POST /api/services/{service}/{action}", s.serviceAction)
	h("GET /api/instances", s.listInstances)
	h("GET /api/instances/{service}/{id}", s.getInstance)
	h("POST /api/instances/{service}/{id}/{action}", s.instanceAction)
	h("GET /api/logs", s.logs)
	h("GET /api/requests", s.requests)
	h("GET /api/events", s.events)
}

// Serve answers on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	if err := s.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown ends the streams and stops serving, waiting at most until ctx
// ends for calls in progress.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

// ServeHTTP checks every request (Host, Origin, token) before routing it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.guard(r); err != nil {
		writeError(w, err)
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		// The mux's own 404 and 405 answers are plain text; every answer
		// of this API is JSON.
		writeError(w, unrouted(s.mux, r))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// handlerFunc is a handler that returns its error for ServeHTTP to write.
type handlerFunc func(http.ResponseWriter, *http.Request) error

func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		writeError(w, err)
	}
}

// apiError is an error with the HTTP status it calls for.
type apiError struct {
	status int
	msg    string
	header http.Header // extra response headers, such as Allow
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, msg string) error { return &apiError{status: status, msg: msg} }

// writeError answers with err as JSON. Errors from the supervisor get the
// status their kind calls for: 404 for an unknown service or instance,
// 409 for an action the instance's state forbids.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		status = ae.status
		for k, v := range ae.header {
			w.Header()[k] = v
		}
	case errors.Is(err, supervisor.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, supervisor.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, supervisor.ErrStopping):
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, errorBody{Message: err.Error(), Status: status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do
}

// unrouted asks the mux what it would answer (404, or 405 with Allow) and
// returns that as an error.
func unrouted(mux *http.ServeMux, r *http.Request) error {
	h, _ := mux.Handler(r)
	rec := &statusRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		return &apiError{status: rec.status, header: http.Header{"Allow": rec.header["Allow"]},
			msg: r.Method + " is not allowed on " + r.URL.Path + "; use " + rec.header.Get("Allow")}
	}
	return errorf(http.StatusNotFound, "no such endpoint: "+r.URL.Path+" (see GET /api/services, /api/instances, /api/logs, /api/requests, /api/events)")
}

// statusRecorder keeps the status and headers a handler writes.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header         { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(code int)        { r.status = code }

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, Health{Status: "ok", App: s.opts.App, PID: os.Getpid()})
	return nil
}
