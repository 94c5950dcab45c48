package supervisor

import (
	"time"
)

// ServiceInfo is a copy of a service's state at one moment.
type ServiceInfo struct {
	Name     string
	Runtime  string
	Scaling  string
	Port     int    // front port, 0 when none
	Building bool   // a build is running
	BuildErr string // "" unless the last build failed
	// BuildOutput is the failed build's output, kept for display.
	BuildOutput string
	Capacity    int
	// Waiting is how many requests wait for room on an instance.
	Waiting int
	// Watching is true while file changes reload the service.
	Watching bool
	// Pinned is true while the number of instances of an automatic- or
	// basic-scaling service is the one Scale set, PinnedTo: its scaler
	// adds and removes none until Scale(name, ScaleAuto).
	Pinned    bool
	PinnedTo  int
	Instances []InstanceInfo
	// Removed names the last instances removed (by Scale or the
	// scaler), oldest first, whose logs Logs still returns.
	Removed []string
}

// InstanceInfo is a copy of an instance's state at one moment.
type InstanceInfo struct {
	Service   string
	ID        string
	State     State
	Reason    string
	Since     time.Time
	PID       int
	Port      int
	StartedAt time.Time // zero when no process runs
	Restarts  int
	NextTry   time.Time // for Backoff: when the next start comes
	InFlight  int
	Capacity  int
	Total     int64
	// ByClass counts responses by status class: [0] 1xx, [1] 2xx, …,
	// [4] 5xx.
	ByClass [5]int64
	// Load and resources: requests per second and latency percentiles
	// over the last 60 s (latency is the instance's own time, not the
	// wait for room), CPU use of the instance's process group (percent
	// of one core, so 150 is one and a half cores) and its resident
	// memory in bytes, read once a second.
	RPS      float64
	P50, P99 time.Duration
	CPU      float64
	RSS      int64
	// LastError is the last thing that went wrong: a crash, a failed
	// start or replace, with the last stderr line.
	LastError string
	// History holds the last transitions, oldest first.
	History []Transition
}

// Snapshot copies the state of every service and instance, in config order.
func (s *Supervisor) Snapshot() []ServiceInfo {
	out := make([]ServiceInfo, 0, len(s.services))
	now := time.Now()
	for _, svc := range s.services {
		out = append(out, svc.info(now))
	}
	return out
}

func (svc *Service) info(now time.Time) ServiceInfo {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	si := ServiceInfo{
		Name: svc.Name, Runtime: svc.conf().Runtime, Scaling: svc.conf().Scaling.Kind.String(),
		Port: svc.sup.opts.Ports[svc.Name], Building: svc.building,
		BuildOutput: svc.buildOut, Capacity: svc.conf().Capacity(),
		Waiting: svc.waiters.Len(), Watching: svc.watcher.Load() != nil,
		Pinned: svc.pinned, PinnedTo: svc.pinnedTo,
	}
	if svc.buildErr != nil {
		si.BuildErr = svc.buildErr.Error()
	}
	for _, in := range svc.instances {
		si.Instances = append(si.Instances, in.infoLocked(now, si.Capacity))
	}
	for _, r := range svc.removed {
		si.Removed = append(si.Removed, r.id)
	}
	return si
}

// infoLocked copies the instance's state; the service's lock is held.
func (in *Instance) infoLocked(now time.Time, capacity int) InstanceInfo {
	n, p50, p99 := in.load.window.summary(now)
	ii := InstanceInfo{
		Service: in.svc.Name, ID: in.ID, State: in.state, Reason: in.reason, Since: in.since,
		Restarts: in.restarts, NextTry: in.nextTry, InFlight: in.inflight, Capacity: capacity,
		Total: in.load.total, ByClass: in.load.byClass,
		RPS: perSecond(n, now, in.created), P50: p50, P99: p99,
		CPU: in.usage.cpu, RSS: in.usage.rss, LastError: in.lastError,
		History: append([]Transition(nil), in.history...),
	}
	if g := in.cur; g != nil && !g.proc.exited() {
		ii.PID, ii.Port, ii.StartedAt = g.proc.cmd.Process.Pid, g.port, g.startedAt
	}
	return ii
}
