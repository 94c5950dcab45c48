package ui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/appdeck/appdeck/supervisor"
)

// fakeSource stands in for the supervisor: the UI's logic is pure given
// what the source returns.
type fakeSource struct {
	services []supervisor.ServiceInfo
	logs     map[string]*supervisor.LogBuffer
}

func (f *fakeSource) Snapshot() []supervisor.ServiceInfo { return f.services }

func (f *fakeSource) Logs(service, instance string) *supervisor.LogBuffer {
	return f.logs[service+"/"+instance]
}

func newFake() *fakeSource {
	f := &fakeSource{logs: map[string]*supervisor.LogBuffer{}}
	now := time.Now()
	f.services = []supervisor.ServiceInfo{
		{Name: "default", Port: 8080, Instances: []supervisor.InstanceInfo{
			{Service: "default", ID: "0", State: supervisor.Ready, PID: 101, Port: 40001, StartedAt: now},
		}},
		{Name: "api", Port: 8081, Instances: []supervisor.InstanceInfo{
			{Service: "api", ID: "0", State: supervisor.Backoff, Reason: "exited: exit status 1", NextTry: now.Add(2500 * time.Millisecond)},
		}},
	}
	for _, k := range []string{"default/0", "api/0", "default/", "api/"} {
		f.logs[k] = supervisor.NewLogBuffer(100)
	}
	for i := range 50 {
		f.logs["default/0"].Add(supervisor.Stdout, "default line "+strings.Repeat("x", i%3)+string(rune('a'+i%26)))
	}
	f.logs["api/0"].Add(supervisor.Stderr, "Traceback: boom")
	return f
}

func plain() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(&bytes.Buffer{})
	r.SetColorProfile(termenv.Ascii)
	return r
}

func update(m tea.Model, msgs ...tea.Msg) tea.Model {
	for _, msg := range msgs {
		m, _ = m.Update(msg)
	}
	return m
}

func key(s string) tea.KeyMsg {
	switch s {
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestDashboardShowsInstancesAndSelectedLog(t *testing.T) {
	m := update(New(newFake(), Header{App: "demo", Host: "127.0.0.1"}, plain()), tea.WindowSizeMsg{Width: 100, Height: 30})
	v := m.View()
	for _, want := range []string{"appdeck · demo", "default http://127.0.0.1:8080", "● ready", "101", "↻ backoff", "retry in 2s · exited: exit status 1", "logs · default/0", "default line"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "Traceback") {
		t.Error("api's log shown while default/0 is selected")
	}
	v = update(m, key("j")).View()
	if !strings.Contains(v, "logs · api/0") || !strings.Contains(v, "Traceback: boom") {
		t.Errorf("after j the api instance's log should show:\n%s", v)
	}
	if !strings.Contains(v, "› api") {
		t.Errorf("selected row lacks the › cursor:\n%s", v)
	}
}

func TestLogPaneScrollsOnlyTheVisibleWindow(t *testing.T) {
	m := update(New(newFake(), Header{App: "demo", Host: "127.0.0.1"}, plain()), tea.WindowSizeMsg{Width: 100, Height: 30}).(Model)
	lastLine := m.lines[len(m.lines)-1].Text
	if len(m.lines) != m.logHeight() {
		t.Errorf("pane holds %d lines, want exactly the %d visible", len(m.lines), m.logHeight())
	}
	m = update(m, key("tab"), key("k"), key("k")).(Model)
	if m.follow || m.lines[len(m.lines)-1].Text == lastLine {
		t.Error("scrolling up did not leave follow mode and move the window")
	}
	if !strings.Contains(m.View(), "scrolled back 2 lines") {
		t.Error("scroll position not shown")
	}
	m = update(m, key("G")).(Model)
	if !m.follow || m.lines[len(m.lines)-1].Text != lastLine {
		t.Error("G did not return to the newest line")
	}
}

func TestTooSmallTerminalSaysSo(t *testing.T) {
	v := update(New(newFake(), Header{}, plain()), tea.WindowSizeMsg{Width: 60, Height: 20}).View()
	if !strings.Contains(v, "Terminal too small: 60×20") {
		t.Errorf("view: %q", v)
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []tea.KeyMsg{key("q"), {Type: tea.KeyCtrlC}} {
		_, cmd := New(newFake(), Header{}, plain()).Update(k)
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%s does not quit", k)
		}
	}
}
