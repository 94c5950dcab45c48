package supervisor

import (
	"fmt"
	"time"

	"github.com/appdeck/appdeck/config"
)

// This file is the scaling policy as a pure function: what the scaler
// sees goes in, what to do comes out. The scaler goroutine (scaler.go)
// gathers the input and carries out the decision.

// instanceLoad is what the scaler sees of one instance.
type instanceLoad struct {
	ID       string
	State    State
	InFlight int
	Retiring bool // already being removed
	// IdleSince is when the instance last became idle; zero while it
	// serves requests or is not ready.
	IdleSince time.Time
	// BusySince is when the instance last went from no request in flight
	// to one; zero while it is idle or not ready.
	BusySince time.Time
}

// scaleInput is everything a scaling decision depends on.
type scaleInput struct {
	Now      time.Time
	Scaling  config.Scaling
	Capacity int // requests one instance takes at once
	// MaxInstances caps every service (--max-instances); 0 for no cap.
	MaxInstances int
	// IdleCooldown is how long a surplus automatic-scaling instance stays
	// idle before it is stopped.
	IdleCooldown time.Duration
	Instances    []instanceLoad // in the service's order, oldest first
	Waiting      int            // requests waiting for capacity
	OldestWait   time.Time      // when the longest-waiting one arrived
	// Pinned: Scale fixed the number of instances by hand.
	Pinned bool
	// BuildFailed: the service's last build failed.
	BuildFailed bool
}

// scaleStop is an instance to stop, and why.
type scaleStop struct{ ID, Reason string }

// scaleDecision is what to do now, and when to look again.
type scaleDecision struct {
	Start       int
	StartReason string
	// OnDemand marks instances started for waiting requests, which App
	// Engine never sends /_ah/warmup: the request is waiting.
	OnDemand bool
	Stop     []scaleStop
	// Recheck is when the decision may change although nothing else
	// does (a wait passing a pending latency, an idle timeout running
	// out); 0 when only a change can change it.
	Recheck time.Duration
}

func (d *scaleDecision) recheck(after time.Duration) {
	if after > 0 && (d.Recheck == 0 || after < d.Recheck) {
		d.Recheck = after
	}
}

// want raises the number of instances to start to n, with its reason;
// several rules may ask for instances, and the largest need covers the
// others.
func (d *scaleDecision) want(n int, onDemand bool, format string, a ...any) {
	if n > d.Start {
		d.Start, d.OnDemand, d.StartReason = n, onDemand, fmt.Sprintf(format, a...)
	}
}

// census counts instances by what they can do.
type census struct {
	live     int // counts toward the maximum: everything not stopped or leaving
	ready    int // in rotation
	starting int // will be in rotation soon
	inflight int // requests on ready instances
	free     int // room for more requests on ready and starting instances
}

func count(in scaleInput) census {
	var c census
	for _, i := range in.Instances {
		if i.Retiring {
			continue
		}
		switch i.State {
		case Ready:
			c.live++
			c.ready++
			c.inflight += i.InFlight
			c.free += max(in.Capacity-i.InFlight, 0)
		case Starting:
			c.live++
			c.starting++
			c.free += in.Capacity
		case Crashed, Backoff, BuildFailed:
			c.live++ // it will run again; another would crash as well
		}
	}
	return c
}

func capped(limit, maxInstances int) int {
	if maxInstances > 0 {
		return min(limit, maxInstances)
	}
	return limit
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// decide applies App Engine's scaling rules for the service's scaling
// kind. Manual scaling never changes the number of instances, nor does a
// service pinned by hand, nor a failed build: while the build is failed
// its instances pass through draining and stopped on their way to
// build-failed, and none of them is missing — only a service with no
// instance yet gets those its rules ask for, to show the failure.
func decide(in scaleInput) scaleDecision {
	if in.Pinned || (in.BuildFailed && len(in.Instances) > 0) {
		return scaleDecision{}
	}
	switch in.Scaling.Kind {
	case config.Automatic:
		return decideAutomatic(in)
	case config.Basic:
		return decideBasic(in)
	}
	return scaleDecision{}
}

// decideAutomatic: a request waits for capacity; once the longest wait
// passes min_pending_latency (and no instance is already starting for
// it) or max_pending_latency (whatever is starting), instances start for
// the waiting requests, up to max_instances. min_instances and
// min_idle_instances keep instances up ahead of need, the latter beyond
// the load that has lasted min_pending_latency; idle instances beyond
// max_idle_instances stop once idle for the cool-down.
func decideAutomatic(in scaleInput) scaleDecision {
	a := in.Scaling.Automatic
	c := count(in)
	var d scaleDecision
	if in.Waiting > 0 {
		waited := in.Now.Sub(in.OldestWait)
		uncovered := in.Waiting - c.starting*in.Capacity
		switch {
		case c.ready+c.starting == 0:
			d.want(ceilDiv(in.Waiting, in.Capacity), true, "%d request(s) waiting and no instance running", in.Waiting)
		case waited < a.MinPendingLatency:
			d.recheck(a.MinPendingLatency - waited)
		case waited < a.MaxPendingLatency && c.starting > 0:
			d.recheck(a.MaxPendingLatency - waited)
		case uncovered > 0:
			d.want(ceilDiv(uncovered, in.Capacity), true, "%d request(s) waited %s for capacity (min_pending_latency %s, max_pending_latency %s)",
				in.Waiting, waited.Round(time.Millisecond), a.MinPendingLatency, a.MaxPendingLatency)
		}
	}
	if c.live < a.MinInstances {
		d.want(a.MinInstances-c.live, false, "min_instances is %d", a.MinInstances)
	}
	// Every live instance beyond the load is a spare; one that crashes or
	// failed to build too, or a broken service would fill up to its
	// maximum with broken instances. Only load that lasts takes a spare
	// away (sustainedLoad): the scaler decides on every request, and
	// counting each quick request would start a second instance for a
	// single curl. Stopping counts every request in flight, so that a
	// blip does not stop a spare either.
	limit := capped(a.MaxInstances, in.MaxInstances)
	sustained, matures := sustainedLoad(in, a.MinPendingLatency)
	spare := c.live - ceilDiv(sustained, in.Capacity)
	spareNow := c.live - ceilDiv(c.inflight, in.Capacity)
	switch {
	case spare < a.MinIdleInstances:
		load := ""
		if sustained > 0 {
			load = fmt.Sprintf(" beside %d request(s) in flight for %s (min_pending_latency) or longer", sustained, a.MinPendingLatency)
		}
		d.want(a.MinIdleInstances-spare, false, "keeping %d idle instance(s) ready%s (min_idle_instances)", a.MinIdleInstances, load)
	case spareNow < a.MinIdleInstances && c.live < limit:
		d.recheck(matures) // the load may last: look again when it would count
	}
	d.Start = min(d.Start, max(limit-c.live, 0))
	if d.Start > 0 {
		return d
	}
	d.StartReason, d.OnDemand = "", false
	surplus := spareNow - a.MaxIdleInstances
	stoppable := c.live - a.MinInstances
	stopIdle(in, &d, min(surplus, stoppable), in.IdleCooldown, func(idle time.Duration) string {
		return fmt.Sprintf("idle for %s with %d idle instance(s) over max_idle_instances (%d)", idle.Round(time.Second), surplus, a.MaxIdleInstances)
	})
	return d
}

// sustainedLoad counts the requests in flight on ready instances that
// have been busy without a break for at least after, and returns how long
// until the next busy instance gets there (0 when none is busy for less).
// Using min_pending_latency as after matches the waiting rule: load that
// App Engine would not yet start an instance for, had it waited, does
// not start a spare either.
func sustainedLoad(in scaleInput, after time.Duration) (n int, next time.Duration) {
	for _, i := range in.Instances {
		if i.Retiring || i.State != Ready || i.InFlight == 0 {
			continue
		}
		busy := in.Now.Sub(i.BusySince)
		if busy >= after {
			n += i.InFlight
		} else if next == 0 || after-busy < next {
			next = after - busy
		}
	}
	return n, next
}

// decideBasic: an instance starts when a request finds no room, up to
// max_instances, and stops after idle_timeout without requests.
func decideBasic(in scaleInput) scaleDecision {
	b := in.Scaling.Basic
	c := count(in)
	var d scaleDecision
	limit := capped(b.MaxInstances, in.MaxInstances)
	if in.Waiting > c.free && c.live < limit {
		d.want(min(ceilDiv(in.Waiting-c.free, in.Capacity), limit-c.live), true,
			"%d request(s) waiting and no room (basic_scaling starts instances on demand)", in.Waiting)
		return d
	}
	stopIdle(in, &d, c.live, b.IdleTimeout, func(idle time.Duration) string {
		return fmt.Sprintf("idle for %s (idle_timeout %s)", idle.Round(time.Second), b.IdleTimeout)
	})
	return d
}

// stopIdle stops up to n ready instances that have been idle for at least
// after, newest first so that the oldest instances (and their low ids)
// stay, and schedules a recheck for those still cooling down.
func stopIdle(in scaleInput, d *scaleDecision, n int, after time.Duration, why func(time.Duration) string) {
	for i := len(in.Instances) - 1; i >= 0 && n > 0; i-- {
		x := in.Instances[i]
		if x.Retiring || x.State != Ready || x.InFlight > 0 || x.IdleSince.IsZero() {
			continue
		}
		n--
		idle := in.Now.Sub(x.IdleSince)
		if idle < after {
			d.recheck(after - idle)
			continue
		}
		d.Stop = append(d.Stop, scaleStop{ID: x.ID, Reason: why(idle)})
	}
}
