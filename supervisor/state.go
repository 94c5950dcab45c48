package supervisor

import (
	"fmt"
	"time"
)

// State is where an instance is in its life.
type State int

// Instance states.
const (
	Starting    State = iota // process launched, not yet accepting connections
	Ready                    // in rotation
	Draining                 // out of rotation, finishing requests in flight
	Stopped                  // not running, by request or at shutdown
	Crashed                  // exited on its own or failed to start
	Backoff                  // crashed and waiting to be restarted
	BuildFailed              // the service's build failed; serves the error page
)

var stateNames = [...]string{"starting", "ready", "draining", "stopped", "crashed", "backoff", "build-failed"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "unknown"
	}
	return stateNames[s]
}

// MarshalText writes the state as its name, for JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// next lists the states each state may move to. A move to the same state
// is allowed when only the reason changes (starting: "sending
// /_ah/start"). Every process goes through Draining on its way to
// Stopped, so that nothing is stopped without leaving rotation first.
var next = map[State][]State{
	// A crash or a failed readiness check is Crashed; a build that failed
	// before the launch is BuildFailed; a command while starting drains.
	Starting: {Starting, Ready, Draining, Crashed, BuildFailed},
	// Ready → Starting: the old process died while its replacement (a
	// rolling restart) was still starting; the instance waits for it.
	Ready:       {Ready, Draining, Crashed, Starting},
	Draining:    {Draining, Stopped},
	Stopped:     {Stopped, Starting, BuildFailed},
	Crashed:     {Backoff, Stopped},
	Backoff:     {Starting, Stopped, BuildFailed},
	BuildFailed: {BuildFailed, Starting, Stopped},
}

// canMove reports whether an instance in state from may move to to.
func canMove(from, to State) bool {
	for _, s := range next[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Transition is one change of an instance's state.
type Transition struct {
	Time     time.Time
	From, To State
	Reason   string
}

func (t Transition) String() string {
	s := fmt.Sprintf("%s %s → %s", t.Time.Format("15:04:05.000"), t.From, t.To)
	if t.Reason != "" {
		s += ": " + t.Reason
	}
	return s
}

// historySize bounds the transitions kept per instance: enough to see a
// crash loop's pattern, not a log.
const historySize = 16
