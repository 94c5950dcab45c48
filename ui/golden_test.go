package ui

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
)

// TestGoldenViews pins the whole screen at the two sizes the layout is
// designed around, in two colour themes (true colour, dark background)
// and in mono without colour (NO_COLOR). Rewrite with -update after a
// deliberate change, and read the diff.
func TestGoldenViews(t *testing.T) {
	for _, c := range []struct {
		theme   string
		profile termenv.Profile
		w, h    int
	}{
		{"dark", termenv.TrueColor, 80, 24},
		{"dark", termenv.TrueColor, 160, 48},
		{"light", termenv.TrueColor, 80, 24},
		{"light", termenv.TrueColor, 160, 48},
		{"mono", termenv.Ascii, 80, 24},
		{"mono", termenv.Ascii, 160, 48},
	} {
		t.Run(fmt.Sprintf("%s_%dx%d", c.theme, c.w, c.h), func(t *testing.T) {
			m := newModel(t, newFakeSup(), c.w, c.h)
			m.ctx.Renderer.SetColorProfile(c.profile)
			m.ctx.SetTheme(theme(t, c.theme))
			m = send(t, m, frameMsg(now))
			golden.RequireEqualEscape(t, []byte(m.View()), true)
		})
	}
}

// TestGoldenBuildFailure pins the build panel and the help overlay.
func TestGoldenBuildFailure(t *testing.T) {
	f := newFakeSup()
	f.services[0].BuildErr = "go build failed"
	f.services[0].BuildOutput = "# example.com/demo\n./main.go:12:5: undefined: greet\n./main.go:20:2: declared and not used: x"
	m := newModel(t, f, 80, 24)
	golden.RequireEqual(t, []byte(m.View()))
	m, _ = press(t, m, "?")
	t.Run("help", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })
}

// TestTeatestRun drives the real program loop in memory: ticks, keys, a
// restart through a command, and quitting through the confirm dialog.
func TestTeatestRun(t *testing.T) {
	f := newFakeSup()
	tm := teatest.NewTestModel(t, newModel(t, f, 120, 40), teatest.WithInitialTermSize(120, 40))
	wait := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(what)) },
			teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	wait("logs · default/0")
	tm.Type("r")
	wait("restarted default/0")
	tm.Type("v")
	wait("logs · default (service and instances)")
	tm.Type("q")
	wait("Quit appdeck?")
	tm.Type("y")
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(Model)
	if got := f.Calls(); len(got) != 1 || got[0] != "restart default/0" {
		t.Errorf("calls %v", got)
	}
	if final.scope != scopeService {
		t.Errorf("final scope %d", final.scope)
	}
}
