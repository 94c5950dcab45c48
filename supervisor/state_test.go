package supervisor

import "testing"

func TestStateMachineAllowsOnlyLifecycleMoves(t *testing.T) {
	tests := []struct {
		from, to State
		ok       bool
	}{
		{Starting, Ready, true},
		{Starting, Crashed, true},
		{Starting, BuildFailed, true},
		{Starting, Starting, true}, // a new reason
		{Starting, Stopped, false}, // a process always drains first
		{Starting, Backoff, false}, // a crash is shown before the wait
		{Ready, Draining, true},
		{Ready, Crashed, true},
		{Ready, Starting, true}, // the old process died during a replace
		{Ready, Stopped, false},
		{Ready, BuildFailed, false}, // the instance drains first
		{Draining, Stopped, true},
		{Draining, Ready, false},
		{Draining, Crashed, false}, // an exit while stopping is the stop
		{Stopped, Starting, true},
		{Stopped, BuildFailed, true},
		{Stopped, Ready, false},
		{Stopped, Backoff, false}, // nothing restarts a stopped instance
		{Crashed, Backoff, true},
		{Crashed, Stopped, true},
		{Crashed, Starting, false},
		{Backoff, Starting, true},
		{Backoff, Stopped, true},
		{Backoff, Ready, false},
		{BuildFailed, Starting, true},
		{BuildFailed, Stopped, true},
		{BuildFailed, Ready, false},
	}
	for _, tt := range tests {
		if got := canMove(tt.from, tt.to); got != tt.ok {
			t.Errorf("canMove(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
	for s := Starting; s <= BuildFailed; s++ {
		if len(next[s]) == 0 {
			t.Errorf("state %s has no way out", s)
		}
	}
}
