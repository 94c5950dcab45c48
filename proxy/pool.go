// Package proxy is appdeck's HTTP side: one front server per service that
// takes an instance from the service's pool and forwards the request to it,
// plus the error pages served in place of an app that cannot run. It knows
// nothing of processes; the supervisor implements Pool.
package proxy

import (
	"context"
	"net/http"
	"time"
)

// Pool is what a front server needs from a service.
type Pool interface {
	// Acquire reserves capacity on an instance for one request. It
	// waits at most until ctx ends; when no instance can take the request
	// it returns an *Unavailable saying why.
	Acquire(ctx context.Context) (*Lease, error)
	// TryAcquire is Acquire that never waits: nil, nil when Acquire
	// would. The fast path's event loop, which must not block, uses it.
	TryAcquire() (*Lease, error)
}

// Lease is capacity reserved on one instance.
type Lease struct {
	// Handler serves the request: a forwarder to the instance, or an
	// error page when the instance cannot run (a failed build).
	Handler http.Handler
	// Instance names the instance, for request records.
	Instance string
	// Done returns the capacity and reports how the request went. It is
	// called exactly once, and the lease is not used after it: the pool
	// may reuse it for another request.
	Done func(Outcome)
}

// Outcome is how one request went: what the dashboard's request pane and
// the access log show.
type Outcome struct {
	Start    time.Time
	Service  string
	Instance string // "" when no instance took the request
	Method   string
	Path     string // path and query as the client sent them
	Status   int
	Bytes    int64 // response body bytes written
	Latency  time.Duration
	// Route names what matched: a handler's url pattern or a dispatch
	// rule; "" for the service's catch-all.
	Route string
}

// Unavailable is the answer when no instance can serve a request.
type Unavailable struct {
	Status int    // 502 or 503
	Title  string // one line, e.g. `service "api" is starting`
	Detail string // may span lines: a reason, the last lines of stderr
	// RetryAfter, when positive, is sent as Retry-After (seconds) and makes
	// the page reload itself, for services that are starting.
	RetryAfter int
	// Timeout says the request waited for a free instance until its time
	// ran out; the app's `timeout` error handler then answers.
	Timeout bool
}

func (u *Unavailable) Error() string { return u.Title }

func (u *Unavailable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writePage(w, u.Status, u.Title, u.Detail, u.RetryAfter)
}
