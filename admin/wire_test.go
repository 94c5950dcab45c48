package admin

import (
	"strings"
	"testing"
	"time"
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
	if got := (Instance{}).Note("; "); got != "" {
		t.Errorf("Note of a plain instance = %q, want empty", got)
	}
}
