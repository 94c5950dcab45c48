package admin

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/supervisor"
)

func TestInstanceNote(t *testing.T) {
	in := Instance{Reason: "exited with status 1", NextTry: time.Now().Add(time.Minute), LastError: "panic: boom"}
	got := in.Note("; ")
	parts := strings.Split(got, "; ")
	if len(parts) != 3 || parts[0] != "exited with status 1" || !strings.HasPrefix(parts[1], "next try in ") || parts[2] != "last error: panic: boom" {
		t.Errorf("Note = %q", got)
	}
	if got := (Instance{Reason: "a", LastError: "b"}).Note(" · "); got != "a · last error: b" {
		t.Errorf("Note = %q", got)
	}
	// The reason of a crash is its last error: once, with the stderr line.
	crash := Instance{Reason: "exited before listening on port 39395: exit status 3", NextTry: time.Now().Add(3 * time.Second),
		LastError: "exited before listening on port 39395: exit status 3 — boom"}
	if got := crash.Note("; "); !strings.HasPrefix(got, "exited before listening on port 39395: exit status 3 — boom; next try in ") ||
		strings.Count(got, "exit status 3") != 1 {
		t.Errorf("Note of a crash = %q", got)
	}
	if got := (Instance{}).Note("; "); got != "" {
		t.Errorf("Note of a plain instance = %q, want empty", got)
	}
}

// TestEventStateOnlyForStateChanges checks that only a state event names
// a state: supervisor.Event.State is meaningless (its zero value, starting)
// for the other kinds.
func TestEventStateOnlyForStateChanges(t *testing.T) {
	for _, k := range []supervisor.EventKind{supervisor.StateChanged, supervisor.BuildStarted, supervisor.BuildSucceeded,
		supervisor.BuildFailedEvent, supervisor.Notice, supervisor.Scaling, supervisor.Changed} {
		b, err := json.Marshal(eventOf(supervisor.Event{Kind: k, Service: "default", Instance: "0", Reason: "why"}))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		state, has := got["state"]
		if want := k == supervisor.StateChanged; has != want || (want && state != "starting") {
			t.Errorf("kind %v: %s", k, b)
		}
	}
}
