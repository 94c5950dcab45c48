package supervisor

import (
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func automatic(f func(a *config.AutomaticScaling)) config.Scaling {
	a := config.AutomaticScaling{
		MaxConcurrentRequests: 2, MaxInstances: 3, MinIdleInstances: 0, MaxIdleInstances: 1000,
		MinPendingLatency: 100 * time.Millisecond, MaxPendingLatency: 500 * time.Millisecond,
	}
	if f != nil {
		f(&a)
	}
	return config.Scaling{Kind: config.Automatic, Automatic: a}
}

func basic(maxInstances int, idle time.Duration) config.Scaling {
	return config.Scaling{Kind: config.Basic, Basic: config.BasicScaling{MaxInstances: maxInstances, IdleTimeout: idle}}
}

// ready is a ready instance idle for idleFor, or, with requests in
// flight, busy for long: under sustained load.
func ready(id string, inflight int, idleFor time.Duration) instanceLoad {
	if inflight > 0 {
		return busy(id, inflight, time.Hour)
	}
	return instanceLoad{ID: id, State: Ready, IdleSince: t0.Add(-idleFor)}
}

// busy is a ready instance busy without a break for busyFor.
func busy(id string, inflight int, busyFor time.Duration) instanceLoad {
	return instanceLoad{ID: id, State: Ready, InFlight: inflight, BusySince: t0.Add(-busyFor)}
}

func inState(id string, s State) instanceLoad { return instanceLoad{ID: id, State: s} }

func TestDecide(t *testing.T) {
	tests := []struct {
		name      string
		scaling   config.Scaling
		cap       int
		instances []instanceLoad
		waiting   int
		waited    time.Duration
		pinned    bool
		failed    bool // the build failed
		// want
		start   int
		demand  bool
		reason  string // in StartReason, or in the first Stop's reason
		stop    []string
		recheck time.Duration
	}{
		{name: "manual never scales", scaling: config.Scaling{Kind: config.Manual},
			instances: []instanceLoad{ready("0", 10, 0)}, waiting: 50, waited: time.Minute},

		// Automatic: requests wait for capacity until min_pending_latency.
		{name: "idle service stays", scaling: automatic(nil), instances: []instanceLoad{ready("0", 0, time.Second)}},
		{name: "wait shorter than min pending latency", scaling: automatic(nil),
			instances: []instanceLoad{ready("0", 2, 0)}, waiting: 1, waited: 30 * time.Millisecond,
			recheck: 70 * time.Millisecond},
		{name: "past min pending latency starts one", scaling: automatic(nil),
			instances: []instanceLoad{ready("0", 2, 0)}, waiting: 1, waited: 100 * time.Millisecond,
			start: 1, demand: true, reason: "waited 100ms for capacity"},
		{name: "enough for every waiting request", scaling: automatic(func(a *config.AutomaticScaling) { a.MaxInstances = 10 }),
			instances: []instanceLoad{ready("0", 2, 0)}, waiting: 5, waited: 200 * time.Millisecond,
			start: 3, demand: true},
		{name: "one already starting: wait for max pending latency", scaling: automatic(nil),
			instances: []instanceLoad{ready("0", 2, 0), inState("1", Starting)}, waiting: 4, waited: 200 * time.Millisecond,
			recheck: 300 * time.Millisecond},
		{name: "past max pending latency: start for the uncovered", scaling: automatic(func(a *config.AutomaticScaling) { a.MaxInstances = 10 }),
			instances: []instanceLoad{ready("0", 2, 0), inState("1", Starting)}, waiting: 5, waited: 600 * time.Millisecond,
			start: 2, demand: true},
		{name: "past max pending latency, starting covers it", scaling: automatic(nil),
			instances: []instanceLoad{ready("0", 2, 0), inState("1", Starting)}, waiting: 2, waited: time.Second},
		{name: "capped by max_instances", scaling: automatic(nil),
			instances: []instanceLoad{ready("0", 2, 0), ready("1", 2, 0)}, waiting: 9, waited: time.Second,
			start: 1, demand: true},
		{name: "at max_instances", scaling: automatic(nil),
			instances: []instanceLoad{ready("0", 2, 0), ready("1", 2, 0), ready("2", 2, 0)}, waiting: 9, waited: time.Second},
		{name: "--max-instances caps automatic", scaling: automatic(nil), cap: 1,
			instances: []instanceLoad{ready("0", 2, 0)}, waiting: 3, waited: time.Second},
		{name: "no instance at all: start at once", scaling: automatic(nil),
			waiting: 3, waited: time.Millisecond, start: 2, demand: true, reason: "no instance running"},
		{name: "min_instances", scaling: automatic(func(a *config.AutomaticScaling) { a.MinInstances = 2 }),
			instances: []instanceLoad{ready("0", 0, time.Second)}, start: 1, reason: "min_instances is 2"},
		{name: "min_idle_instances beyond the load", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			instances: []instanceLoad{ready("0", 1, 0)}, start: 1, reason: "min_idle_instances"},
		{name: "a request in flight for less than min_pending_latency keeps the idle one", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			instances: []instanceLoad{busy("0", 1, 5*time.Millisecond)}, recheck: 95 * time.Millisecond},
		{name: "a request in flight for min_pending_latency takes it", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			instances: []instanceLoad{busy("0", 1, 100*time.Millisecond)}, start: 1, reason: "beside 1 request(s) in flight for 100ms"},
		{name: "young busy instances: recheck when the first would count", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1; a.MaxInstances = 5 }),
			instances: []instanceLoad{busy("0", 2, 20*time.Millisecond), busy("1", 1, 70*time.Millisecond)}, recheck: 30 * time.Millisecond},
		{name: "one busy long enough, one young: the young one is the spare until it counts", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1; a.MaxInstances = 5 }),
			instances: []instanceLoad{busy("0", 2, time.Second), busy("1", 1, 10*time.Millisecond)}, recheck: 90 * time.Millisecond},
		{name: "both busy long enough: one spare", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1; a.MaxInstances = 5 }),
			instances: []instanceLoad{busy("0", 2, time.Second), busy("1", 1, 100*time.Millisecond)}, start: 1, reason: "beside 3 request(s)"},
		{name: "two busy long enough: two spares with min_idle 2", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 2; a.MaxInstances = 5 }),
			instances: []instanceLoad{busy("0", 2, time.Second), busy("1", 2, time.Second), ready("2", 0, time.Second)}, start: 1},
		{name: "young load beside an idle spare: nothing to look again for", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			instances: []instanceLoad{busy("0", 1, 5*time.Millisecond), ready("1", 0, time.Second)}},
		{name: "young load at max_instances: no recheck", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1; a.MaxInstances = 1 }),
			instances: []instanceLoad{busy("0", 1, 5*time.Millisecond)}},
		{name: "a young request does not make a surplus idle instance stop",
			scaling:   automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1; a.MaxIdleInstances = 1 }),
			instances: []instanceLoad{busy("0", 1, 5*time.Millisecond), ready("1", 0, time.Hour)}},
		{name: "min_pending_latency 0 counts every request at once", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1; a.MinPendingLatency = 0 }),
			instances: []instanceLoad{busy("0", 1, 0)}, start: 1},
		{name: "min_idle_instances from nothing", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			start: 1},
		{name: "a crash-looping instance counts as the idle one", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			instances: []instanceLoad{inState("0", Backoff)}},
		{name: "a failed build counts as the idle one", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			instances: []instanceLoad{inState("0", BuildFailed)}},
		{name: "stopped by hand does not count, nor is restarted", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			instances: []instanceLoad{inState("0", Stopped)}, start: 1},
		{name: "a retiring instance is gone already", scaling: automatic(func(a *config.AutomaticScaling) { a.MinInstances = 1 }),
			instances: []instanceLoad{{ID: "0", State: Ready, Retiring: true}}, start: 1},

		// Automatic: idle instances beyond max_idle_instances stop after the cool-down.
		{name: "surplus idle stops after the cool-down, newest first",
			scaling:   automatic(func(a *config.AutomaticScaling) { a.MaxIdleInstances = 1 }),
			instances: []instanceLoad{ready("0", 0, 2*time.Minute), ready("1", 0, 2*time.Minute), ready("2", 0, 2*time.Minute)},
			stop:      []string{"2", "1"}, reason: "over max_idle_instances (1)"},
		{name: "surplus idle not cooled down yet",
			scaling:   automatic(func(a *config.AutomaticScaling) { a.MaxIdleInstances = 0 }),
			instances: []instanceLoad{ready("0", 0, 20*time.Second)}, recheck: 40 * time.Second},
		{name: "busy instances do not stop",
			scaling:   automatic(func(a *config.AutomaticScaling) { a.MaxIdleInstances = 0 }),
			instances: []instanceLoad{ready("0", 1, 0), ready("1", 2, 0)}},
		{name: "min_instances stays whatever max idle says",
			scaling:   automatic(func(a *config.AutomaticScaling) { a.MaxIdleInstances = 0; a.MinInstances = 1 }),
			instances: []instanceLoad{ready("0", 0, time.Hour), ready("1", 0, time.Hour)}, stop: []string{"1"}},
		{name: "the default max idle (1000) keeps them",
			scaling:   automatic(nil),
			instances: []instanceLoad{ready("0", 0, time.Hour), ready("1", 0, time.Hour)}},

		// Basic: on demand, up to max_instances; stop after idle_timeout.
		{name: "basic starts for a waiting request", scaling: basic(2, 5*time.Minute),
			waiting: 1, start: 1, demand: true, reason: "on demand"},
		{name: "basic: room on a starting instance", scaling: basic(2, 5*time.Minute),
			instances: []instanceLoad{inState("0", Starting)}, waiting: 1},
		{name: "basic: a busy instance needs another", scaling: basic(2, 5*time.Minute),
			instances: []instanceLoad{ready("0", 10, 0)}, waiting: 1, start: 1, demand: true},
		{name: "basic: at max_instances", scaling: basic(1, 5*time.Minute),
			instances: []instanceLoad{ready("0", 10, 0)}, waiting: 3},
		{name: "basic: --max-instances caps", scaling: basic(5, 5*time.Minute), cap: 1,
			instances: []instanceLoad{ready("0", 10, 0)}, waiting: 3},
		{name: "basic: idle past idle_timeout stops", scaling: basic(2, 5*time.Minute),
			instances: []instanceLoad{ready("0", 0, 6*time.Minute), ready("1", 0, time.Minute)},
			stop:      []string{"0"}, reason: "idle for 6m0s (idle_timeout 5m0s)", recheck: 4 * time.Minute},

		// A failed build: instances on their way to build-failed are not missing.
		{name: "failed build: a draining instance is not replaced", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			instances: []instanceLoad{inState("0", Draining)}, failed: true},
		{name: "failed build: a stopped instance is not replaced", scaling: automatic(func(a *config.AutomaticScaling) { a.MinInstances = 2 }),
			instances: []instanceLoad{inState("0", Stopped), inState("1", BuildFailed)}, failed: true},
		{name: "failed build: no instance yet starts one to show it", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			failed: true, start: 1, reason: "min_idle_instances"},

		// Pinned by hand: the number of instances is the user's.
		{name: "pinned to 0: no start for waiting requests", scaling: automatic(func(a *config.AutomaticScaling) { a.MinIdleInstances = 1 }),
			waiting: 3, waited: time.Second, pinned: true},
		{name: "pinned: no start under load", scaling: automatic(nil),
			instances: []instanceLoad{ready("0", 2, 0)}, waiting: 5, waited: time.Second, pinned: true},
		{name: "pinned: surplus idle stays", scaling: automatic(func(a *config.AutomaticScaling) { a.MaxIdleInstances = 0 }),
			instances: []instanceLoad{ready("0", 0, time.Hour), ready("1", 0, time.Hour)}, pinned: true},
		{name: "pinned basic: idle past idle_timeout stays", scaling: basic(2, 5*time.Minute),
			instances: []instanceLoad{ready("0", 0, 6*time.Minute)}, waiting: 30, pinned: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := scaleInput{
				Now: t0, Scaling: tt.scaling, Capacity: 2, MaxInstances: tt.cap, IdleCooldown: time.Minute,
				Instances: tt.instances, Waiting: tt.waiting, Pinned: tt.pinned, BuildFailed: tt.failed,
			}
			if tt.scaling.Kind == config.Basic || tt.scaling.Kind == config.Manual {
				in.Capacity = 10
			}
			if tt.waiting > 0 {
				in.OldestWait = t0.Add(-tt.waited)
			}
			d := decide(in)
			if d.Start != tt.start || d.OnDemand != tt.demand {
				t.Errorf("start %d (on demand %v), want %d (%v); reason %q", d.Start, d.OnDemand, tt.start, tt.demand, d.StartReason)
			}
			var stopped []string
			for _, s := range d.Stop {
				stopped = append(stopped, s.ID)
			}
			if strings.Join(stopped, ",") != strings.Join(tt.stop, ",") {
				t.Errorf("stop %v, want %v", stopped, tt.stop)
			}
			if d.Recheck != tt.recheck {
				t.Errorf("recheck after %s, want %s", d.Recheck, tt.recheck)
			}
			reason := d.StartReason
			if len(d.Stop) > 0 {
				reason = d.Stop[0].Reason
			}
			if !strings.Contains(reason, tt.reason) {
				t.Errorf("reason %q lacks %q", reason, tt.reason)
			}
			if (d.Start > 0 || len(d.Stop) > 0) && reason == "" {
				t.Error("a decision without a reason")
			}
		})
	}
}

// TestMinIdleInstancesIgnoresQuickRequests runs a real app with App
// Engine's default automatic scaling but a longer min_pending_latency, so
// that a quick request slowed by a loaded machine still counts as quick:
// sequential quick requests leave the one idle instance alone, and a
// request that lasts brings a second instance while it is in flight.
func TestMinIdleInstancesIgnoresQuickRequests(t *testing.T) {
	svc, _ := pyService(t, "auto", automatic(func(a *config.AutomaticScaling) {
		a.MaxConcurrentRequests, a.MaxInstances, a.MinIdleInstances = 10, 20, 1
		a.MinPendingLatency = 250 * time.Millisecond
	}))
	sup := newSupervisor(t, Options{}, svc)
	ev := record(t, sup)
	url := front(t, sup, "auto")
	waitFor(t, "the idle instance kept ready", 20*time.Second, stateIs(sup, "auto", "0", Ready))

	for i := range 20 {
		if code, body := fetch(url + "/quick"); code != 200 || body != "instance 0" {
			t.Fatalf("quick request %d: %d %q", i, code, body)
		}
	}
	time.Sleep(500 * time.Millisecond) // past any recheck the requests asked for
	if n := len(serviceInfo(sup, "auto").Instances); n != 1 {
		t.Errorf("%d instances after 20 quick requests, want 1; scaling: %+v", n, scalingEvents(ev, "starting"))
	}

	code, body := fetch(url + "/slow?ms=2000")
	ended := time.Now()
	if code != 200 || body != "instance 0" {
		t.Fatalf("slow request: %d %q", code, body)
	}
	waitFor(t, "a second instance ready", 20*time.Second, stateIs(sup, "auto", "1", Ready))
	// The first instance may have started before ev listened: count the
	// others.
	var starts []Event
	for _, s := range scalingEvents(ev, "starting") {
		if s.Instance != "0" {
			starts = append(starts, s)
		}
	}
	if len(starts) != 1 || starts[0].Instance != "1" {
		t.Fatalf("start decisions after the first instance %+v, want one, for the slow request", starts)
	}
	if s := starts[0]; !s.Time.Before(ended) || !strings.Contains(s.Reason, "beside 1 request(s) in flight") {
		t.Errorf("second start %+v: want it while the slow request ran (it ended %s), for that request", s, ended.Format(time.StampMilli))
	}
}
