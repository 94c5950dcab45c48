package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/appdeck/appdeck/supervisor"
)

func TestActionsRunAsCommandsAndFlash(t *testing.T) {
	cases := []struct {
		name    string
		moves   []string // keys that select the row first
		key     string
		call    string
		flashes string
	}{
		{"restart", nil, "r", "restart default/0", "restarted default/0"},
		{"stop running", nil, "s", "stop default/0", "stopped default/0"},
		{"start stopped", []string{"G"}, "s", "start api/0", "started api/0"},
		{"graceful stop", nil, "x", "stop default/0", "stopped default/0"},
		{"rolling restart", nil, "R", "restart-service default", "restarted default"},
		{"scale up", nil, "+", "scale default 3", "default scaled to 3 instances"},
		{"scale down", nil, "-", "scale default 1", "default scaled to 1 instance"},
		{"scale back to auto", nil, "a", fmt.Sprintf("scale default %d", supervisor.ScaleAuto), "default scales as app.yaml says"},
		{"rebuild", []string{"G"}, "b", "rebuild api", "rebuilt api"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSup()
			m, _ := press(t, newModel(t, f, 120, 40), c.moves...)
			m, cmd := press(t, m, c.key)
			if cmd == nil {
				t.Fatal("no command")
			}
			if len(f.Calls()) != 0 {
				t.Fatal("Update called the supervisor itself")
			}
			if m.status.Flashing() == "" {
				t.Error("nothing flashed while the action runs")
			}
			m = run(t, m, cmd)
			if got := f.Calls(); len(got) != 1 || got[0] != c.call {
				t.Errorf("calls %v, want %q", got, c.call)
			}
			if got := m.status.Flashing(); got != c.flashes {
				t.Errorf("flash %q, want %q", got, c.flashes)
			}
		})
	}
}

func TestActionErrorsFlashAsErrors(t *testing.T) {
	f := newFakeSup()
	f.fail = errors.New("default/0 is already stopped")
	m, cmd := press(t, newModel(t, f, 120, 40), "r")
	m = run(t, m, cmd)
	if !strings.Contains(screen(m), "default/0 is already stopped") || !m.status.IsErr() {
		t.Errorf("error not flashed:\n%s", screen(m))
	}
}

// On an instance the table shows stopped, x and ctrl+k say so at once:
// no call, no dialog.
func TestStopAndKillOnAStoppedInstanceSaySo(t *testing.T) {
	f := newFakeSup()
	f.services[1].Instances[0].State = supervisor.Stopped
	m, _ := press(t, newModel(t, f, 120, 40), "G")
	for _, k := range []string{"x", "ctrl+k"} {
		m2, cmd := press(t, m, k)
		m2 = run(t, m2, cmd)
		if m2.confirm.Open() || len(f.Calls()) != 0 || m2.status.Flashing() != "api/0 is already stopped" {
			t.Errorf("%s: dialog %v, calls %v, flash %q", k, m2.confirm.Open(), f.Calls(), m2.status.Flashing())
		}
	}
}

func TestKillAsksFirstAndNamesTheTarget(t *testing.T) {
	f := newFakeSup()
	m, cmd := press(t, newModel(t, f, 120, 40), "ctrl+k")
	m = run(t, m, cmd)
	if !m.confirm.Open() || len(f.Calls()) != 0 {
		t.Fatalf("ctrl+k killed without asking: %v", f.Calls())
	}
	mustContain(t, screen(m), "Kill default/0 (pid 4101) with SIGKILL?")
	// Keys other than yes and no do nothing while the dialog is open.
	m, cmd = press(t, m, "r")
	if cmd != nil || !m.confirm.Open() {
		t.Fatal("a key leaked through the dialog")
	}
	m, cmd = press(t, m, "y")
	m = run(t, m, cmd)
	if got := f.Calls(); len(got) != 1 || got[0] != "kill default/0" {
		t.Errorf("calls %v", got)
	}
	mustContain(t, m.status.Flashing(), "killed default/0")
	m, _ = press(t, m, "ctrl+k", "esc")
	if m.confirm.Open() || len(f.Calls()) != 1 {
		t.Error("esc did not cancel the kill")
	}
}

// The dialog is only a question: what the kill flashes as it starts
// comes with the yes, and a no says the kill was cancelled.
func TestKillFlashesWhenConfirmedNotWhenAsked(t *testing.T) {
	f := newFakeSup()
	m, _ := press(t, newModel(t, f, 120, 40), "ctrl+k")
	if got := m.status.Flashing(); got != "" {
		t.Errorf("flash %q while the dialog only asks", got)
	}
	m, cmd := press(t, m, "n")
	m = run(t, m, cmd)
	if got := m.status.Flashing(); got != "kill of default/0 cancelled" {
		t.Errorf("after n: flash %q, want the kill cancelled", got)
	}
	if len(f.Calls()) != 0 {
		t.Errorf("calls %v", f.Calls())
	}
	m, _ = press(t, m, "ctrl+k")
	m, cmd = press(t, m, "y")
	m = send(t, m, cmd())
	if got := m.status.Flashing(); got != "killing default/0…" {
		t.Errorf("after y: flash %q, want the kill starting", got)
	}
}

func TestInstanceKeysOnServiceRowExplain(t *testing.T) {
	f := newFakeSup()
	m, _ := press(t, newModel(t, f, 120, 40), "g")
	m, cmd := press(t, m, "r")
	m = run(t, m, cmd)
	mustContain(t, m.status.Flashing(), "select an instance")
	if len(f.Calls()) != 0 {
		t.Errorf("calls %v", f.Calls())
	}
}

func TestOpenShowsTheURLWithoutAnOpener(t *testing.T) {
	m, cmd := press(t, newModel(t, newFakeSup(), 120, 40), "o")
	m = run(t, m, cmd)
	mustContain(t, m.status.Flashing(), "open http://127.0.0.1:8080/ in your browser (no opener found)")
	var opened string
	m.opts.Open = func(u string) error { opened = u; return nil }
	m, cmd = press(t, m, "G", "o")
	m = run(t, m, cmd)
	if opened != "http://127.0.0.1:8081/" || m.status.Flashing() != "opened http://127.0.0.1:8081/" {
		t.Errorf("opened %q, flash %q", opened, m.status.Flashing())
	}
}

func TestFocusZoomAndPaneKeys(t *testing.T) {
	m := newModel(t, newFakeSup(), 120, 40)
	m, _ = press(t, m, "enter")
	if m.focus != focusLogs || m.mode() != "LOGS" {
		t.Fatalf("enter: focus %d", m.focus)
	}
	mustContain(t, screen(m), "━ logs · default/0")
	m, _ = press(t, m, "z")
	v := screen(m)
	if strings.Contains(v, "INSTANCE") || strings.Contains(v, "requests ·") || len(strings.Split(v, "\n")) != 40 {
		t.Errorf("zoomed view still shows other panes:\n%s", v)
	}
	if n := len(m.logs.Lines()); n != 37 {
		t.Errorf("zoomed log pane shows %d lines, want 37", n)
	}
	m, _ = press(t, m, "k", "esc")
	if m.zoom || m.logs.Following() {
		t.Errorf("esc: zoom %v, following %v (esc unzooms, scroll stays)", m.zoom, m.logs.Following())
	}
	m, _ = press(t, m, "tab")
	if m.focus != focusRequests || m.mode() != "REQUESTS" {
		t.Errorf("tab: focus %d", m.focus)
	}
	m, _ = press(t, m, "shift+tab", "shift+tab")
	if m.focus != focusTable {
		t.Errorf("shift+tab: focus %d", m.focus)
	}
	m, _ = press(t, m, "tab", "/", "4", "2")
	if m.mode() != "SEARCH" {
		t.Errorf("/ in the log pane: mode %s", m.mode())
	}
	// While typing, action keys are text.
	m, cmd := press(t, m, "r")
	if cmd != nil && len(m.sup.(*fakeSup).Calls()) != 0 {
		t.Error("r acted while typing a search")
	}
}

func TestMouseClickSelectsAndWheelScrolls(t *testing.T) {
	m := newModel(t, newFakeSup(), 120, 40)
	r := m.regions()
	// Rows start two lines into the table: title, column names.
	m = send(t, m, tea.MouseMsg{X: 5, Y: r.table.top + 2 + 4, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if row, _ := m.table.Selected(); row.Key() != "api/0" {
		t.Errorf("click selected %s", row.Key())
	}
	m = send(t, m, tea.MouseMsg{X: 5, Y: r.table.top + 2 + 1, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	m = send(t, m, tea.MouseMsg{X: 5, Y: r.logs.top + 3, Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if m.logs.Following() || m.focus != focusTable {
		t.Errorf("wheel up over logs: following %v focus %d", m.logs.Following(), m.focus)
	}
	m = send(t, m, tea.MouseMsg{X: 5, Y: r.logs.top + 3, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.focus != focusLogs {
		t.Errorf("click on logs: focus %d", m.focus)
	}
	filter := MouseFilter()
	wheel := tea.MouseMsg{Button: tea.MouseButtonWheelDown}
	if filter(m, wheel) == nil || filter(m, wheel) != nil || filter(m, keyMsg("j")) == nil {
		t.Error("the mouse filter should pass one wheel event of a burst and every key")
	}
}

// A configuration change that did not take is flashed as an error: the
// service's log, where it is written, may not be the one on screen.
func TestConfigProblemsFlash(t *testing.T) {
	m := newModel(t, newFakeSup(), 120, 40)
	const why = "app.yaml:9:8: invalid url regexp `/(.*`: missing closing ); the previous configuration stays in force"
	m = send(t, m, eventMsg(supervisor.Event{Kind: supervisor.ConfigProblem, Service: "default", Reason: why}))
	if m.status.Flashing() != why || !m.status.IsErr() {
		t.Errorf("flash %q (error %v), want %q", m.status.Flashing(), m.status.IsErr(), why)
	}
}

func TestEventsRefreshAtOnceAndFlashCrashes(t *testing.T) {
	f := newFakeSup()
	m := newModel(t, f, 120, 40)
	cmd := m.Init()
	f.mu.Lock()
	f.services[0].Instances[0].State = 4 // crashed
	f.mu.Unlock()
	f.events <- eventMsgFor("default", "0")
	var msg tea.Msg
	for _, c := range cmd().(tea.BatchMsg) {
		if c == nil {
			continue
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		select {
		case msg = <-done:
		case <-fakeTimeout():
		}
		if _, ok := msg.(eventMsg); ok {
			break
		}
	}
	if _, ok := msg.(eventMsg); !ok {
		t.Fatalf("no event message, got %T", msg)
	}
	m = send(t, m, msg)
	mustContain(t, screen(m), "✖ crashed", "default/0 crashed: exited: signal: killed")
}
