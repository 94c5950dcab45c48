package supervisor

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
)

// waiter is a request waiting for capacity. Room is handed to waiters in
// arrival order (dispatchLocked), so that a request is never overtaken by
// later ones while it waits.
type waiter struct {
	since time.Time
	// Set under the service's lock when room is handed over; got is
	// closed then.
	lease *proxy.Lease
	in    *Instance
	g     *generation
	got   chan struct{}
}

// TryAcquire is Acquire without waiting: nil, nil when no instance has
// room now.
func (s *Service) TryAcquire() (*proxy.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settledLocked(s.waiters.Len() == 0)
}

// Acquire implements proxy.Pool. It picks a ready instance with room, or
// waits in line for one — while instances start, a build runs, or every
// instance is busy and the scaler may add one — for at most the pending
// timeout. It answers at once when waiting cannot help: the build failed
// (the error page serves the request), the instances crashed, or all are
// stopped by hand.
func (s *Service) Acquire(ctx context.Context) (*proxy.Lease, error) {
	s.mu.Lock()
	if lease, err := s.settledLocked(s.waiters.Len() == 0); lease != nil || err != nil {
		s.mu.Unlock()
		return lease, err
	}
	w := &waiter{since: time.Now(), got: make(chan struct{})}
	elem := s.waiters.PushBack(w)
	s.notifyLocked() // the scaler counts waiting requests
	s.mu.Unlock()

	deadline := time.NewTimer(s.sup.opts.PendingTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		avail := s.avail
		s.mu.Unlock()
		select {
		case <-w.got:
			return w.lease, nil
		case <-avail:
			s.mu.Lock()
			if w.lease == nil {
				if lease, err := s.settledLocked(false); lease != nil || err != nil {
					s.waiters.Remove(elem)
					s.notifyLocked()
					s.mu.Unlock()
					return lease, err
				}
			}
			s.mu.Unlock()
		case <-ctx.Done():
			s.mu.Lock()
			if w.lease != nil { // handed over as the client left: give it back
				s.unleaseLocked(w.in, w.g, time.Now())
			} else {
				s.waiters.Remove(elem)
				s.notifyLocked()
			}
			s.mu.Unlock()
			return nil, ctx.Err()
		case <-deadline.C:
			s.mu.Lock()
			defer s.mu.Unlock()
			if w.lease != nil {
				return w.lease, nil
			}
			s.waiters.Remove(elem)
			s.notifyLocked()
			return nil, s.timeoutLocked()
		}
	}
}

// settledLocked answers a request without waiting when it can: with the
// error page of a failed build, with room on an instance (when pick is
// set), or with why no instance will come. It returns neither when the
// request should wait.
func (s *Service) settledLocked(pick bool) (*proxy.Lease, error) {
	if s.errPage != nil {
		return &proxy.Lease{Handler: s.errPage, Instance: "build-failed", Done: func(proxy.Outcome) {}}, nil
	}
	if pick {
		if in := s.pickLocked(); in != nil {
			return s.leaseLocked(in), nil
		}
	}
	if u := s.unavailableLocked(); u != nil {
		return nil, u
	}
	return nil, nil
}

// pickLocked returns a ready instance with room. Automatic and basic
// scaling pack requests onto the busiest instance with room, as App
// Engine does, so that surplus instances go idle and can stop; manual
// scaling, whose instances stay anyway, spreads them to the least busy.
func (s *Service) pickLocked() *Instance {
	limit := s.conf().Capacity()
	pack := s.conf().Scaling.Kind != config.Manual
	var best *Instance
	for _, in := range s.instances {
		g := in.cur
		if in.state != Ready || in.retiring || g == nil || g.fwd == nil || g.inflight >= limit {
			continue
		}
		if best == nil || (pack && g.inflight > best.cur.inflight) || (!pack && g.inflight < best.cur.inflight) {
			best = in
		}
	}
	return best
}

// lease is the supervisor's side of a proxy.Lease: what its Done gives
// back. Leases are recycled, Done bound once, so that a request allocates
// nothing here; proxy.Lease says a lease is not used after Done.
type lease struct {
	proxy.Lease
	s     *Service
	in    *Instance
	g     *generation
	start time.Time
}

var leases = sync.Pool{New: func() any { return new(lease) }}

func (l *lease) done(o proxy.Outcome) {
	now := time.Now()
	s, in := l.s, l.in
	s.mu.Lock()
	in.load.count(now, o.Status, now.Sub(l.start))
	s.unleaseLocked(in, l.g, now)
	s.mu.Unlock()
	l.Handler, l.s, l.in, l.g = nil, nil, nil, nil
	leases.Put(l)
}

// leaseLocked reserves room on in's current process for one request.
func (s *Service) leaseLocked(in *Instance) *proxy.Lease {
	now := time.Now()
	g := in.cur
	if in.inflight == 0 {
		in.busySince = now
	}
	g.inflight++
	in.inflight++
	in.idleSince = time.Time{}
	s.notifyLocked() // the scaler keeps idle instances beyond the load
	l := leases.Get().(*lease)
	if l.Done == nil {
		l.Done = l.done // once per lease, not per request
	}
	l.Handler, l.Instance = g.fwd, in.ID
	l.s, l.in, l.g, l.start = s, in, g, now
	return &l.Lease
}

// unleaseLocked returns room taken by leaseLocked and hands it on.
func (s *Service) unleaseLocked(in *Instance, g *generation, now time.Time) {
	g.inflight--
	in.inflight--
	if in.inflight == 0 {
		in.idleSince = now
	}
	s.dispatchLocked()
	s.notifyLocked()
}

// dispatchLocked hands room to waiting requests, oldest first.
func (s *Service) dispatchLocked() {
	for s.waiters.Len() > 0 {
		in := s.pickLocked()
		if in == nil {
			return
		}
		w := s.waiters.Remove(s.waiters.Front()).(*waiter)
		w.in, w.g = in, in.cur
		w.lease = s.leaseLocked(in)
		close(w.got)
	}
}

// unavailableLocked explains why no instance will take a request, or
// returns nil when waiting is worth it: an instance is ready (busy) or
// starting, a build runs, or the scaler will start one.
func (s *Service) unavailableLocked() *proxy.Unavailable {
	var crashed *Instance
	stopped := 0
	for _, in := range s.instances {
		if in.retiring {
			continue
		}
		switch in.state {
		case Ready, Starting, BuildFailed: // BuildFailed without an error page: a good build is restarting it
			return nil
		case Crashed, Backoff:
			crashed = in
		case Stopped, Draining:
			stopped++
		}
	}
	switch {
	case s.building:
		return nil
	case crashed != nil:
		detail := crashed.reason
		if tail := stderrTail(crashed.Logs, 20); tail != "" {
			detail += "\n\nLast lines on stderr:\n" + tail
		}
		return &proxy.Unavailable{Status: http.StatusBadGateway,
			Title: fmt.Sprintf("Instance %s/%s crashed", s.Name, crashed.ID), Detail: detail}
	case stopped == 0 && s.scales() && !s.pinned:
		return nil // no instance yet: the scaler starts one for this request
	case stopped == 0:
		detail := "It was scaled to 0 instances by hand. Scale it up from the dashboard or with `appdeck ctl scale " + s.Name + " 1`"
		if s.scales() {
			detail += ", or hand it back to " + s.conf().Scaling.Kind.String() + " scaling with `appdeck ctl scale " + s.Name + " auto`"
		}
		return &proxy.Unavailable{Status: http.StatusServiceUnavailable,
			Title: fmt.Sprintf("Service %q has no instances", s.Name), Detail: detail + "."}
	}
	return &proxy.Unavailable{Status: http.StatusServiceUnavailable,
		Title:  fmt.Sprintf("Service %q has no running instance", s.Name),
		Detail: "Every instance is stopped. Start one from the dashboard (s) or with `appdeck ctl start " + s.Name + "`."}
}

// timeoutLocked is the answer to a request that found no room within the
// pending timeout, saying what it waited for.
func (s *Service) timeoutLocked() *proxy.Unavailable {
	wait := s.sup.opts.PendingTimeout
	var ready, starting int
	var startingWhy string
	for _, in := range s.instances {
		switch {
		case in.retiring:
		case in.state == Ready:
			ready++
		case in.state == Starting:
			starting++
			startingWhy = in.reason
		}
	}
	switch {
	case s.building:
		return &proxy.Unavailable{Status: http.StatusServiceUnavailable, Timeout: true, RetryAfter: 1,
			Title:  fmt.Sprintf("Service %q is still building", s.Name),
			Detail: fmt.Sprintf("The request waited %s (--pending-timeout) for the build to finish. This page reloads itself.", wait)}
	case ready == 0 && starting > 0:
		return &proxy.Unavailable{Status: http.StatusServiceUnavailable, Timeout: true, RetryAfter: 1,
			Title:  fmt.Sprintf("Service %q is still starting", s.Name),
			Detail: fmt.Sprintf("The request waited %s (--pending-timeout) for an instance: %s. This page reloads itself.", wait, startingWhy)}
	}
	detail := fmt.Sprintf("The request waited %s (--pending-timeout) in line. %d instance(s) are ready and each takes %d request(s) at once",
		wait, ready, s.conf().Capacity())
	if s.conf().Scaling.Kind == config.Automatic {
		detail += " (max_concurrent_requests)"
	}
	detail += fmt.Sprintf("; %d more are starting; %d request(s) are waiting.", starting, s.waiters.Len()+1)
	switch limit := s.maxInstances(); {
	case s.pinned:
		detail += fmt.Sprintf(" The service is pinned to %d instance(s) by hand: no more start until it is scaled up or to auto"+
			" (a in the dashboard, or appdeck ctl scale %s auto).", s.pinnedTo, s.Name)
	case limit > 0 && ready+starting >= limit:
		detail += fmt.Sprintf(" The service runs its maximum of %d instance(s) (max_instances, --max-instances).", limit)
	}
	return &proxy.Unavailable{Status: http.StatusServiceUnavailable, Timeout: true,
		Title:  fmt.Sprintf("Every instance of service %q stayed busy for %s", s.Name, wait),
		Detail: detail}
}

// maxInstances is the most instances the scaler may run, or 0 for a
// manual-scaling service.
func (s *Service) maxInstances() int {
	switch s.conf().Scaling.Kind {
	case config.Automatic:
		return capped(s.conf().Scaling.Automatic.MaxInstances, s.sup.opts.MaxInstances)
	case config.Basic:
		return capped(s.conf().Scaling.Basic.MaxInstances, s.sup.opts.MaxInstances)
	}
	return 0
}
