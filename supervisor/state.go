package supervisor

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
