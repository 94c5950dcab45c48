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
	Instances   []InstanceInfo
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
	// Load and resources, filled by the stats collector: requests per
	// second and latency percentiles over the last 60 s, CPU use of the
	// instance's process group (percent of one core) and its resident
	// memory.
	RPS       float64
	P50, P99  time.Duration
	CPU       float64
	RSS       int64
	LastError string
}

// Snapshot copies the state of every service and instance, in config order.
func (s *Supervisor) Snapshot() []ServiceInfo {
	out := make([]ServiceInfo, 0, len(s.services))
	for _, svc := range s.services {
		out = append(out, svc.info())
	}
	return out
}

func (svc *Service) info() ServiceInfo {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	si := ServiceInfo{
		Name: svc.Name, Runtime: svc.cfg.Runtime, Scaling: svc.cfg.Scaling.Kind.String(),
		Port: svc.sup.opts.Ports[svc.Name], Building: svc.building,
		BuildOutput: svc.buildOut, Capacity: svc.cfg.Capacity(),
	}
	if svc.buildErr != nil {
		si.BuildErr = svc.buildErr.Error()
	}
	for _, in := range svc.instances {
		ii := InstanceInfo{
			Service: svc.Name, ID: in.ID, State: in.state, Reason: in.reason, Since: in.since,
			Restarts: in.restarts, NextTry: in.nextTry, InFlight: in.inflight, Total: in.total,
			Capacity: si.Capacity,
		}
		if in.proc != nil && !in.proc.exited() {
			ii.PID, ii.Port, ii.StartedAt = in.proc.cmd.Process.Pid, in.port, in.startedAt
		}
		si.Instances = append(si.Instances, ii)
	}
	return si
}
