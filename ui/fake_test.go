package ui

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/themes"
)

// fakeSup stands in for the supervisor: fixed services, real rings, and
// actions that only record that they were called.
type fakeSup struct {
	mu       sync.Mutex
	services []supervisor.ServiceInfo
	logs     map[string]*supervisor.LogBuffer
	reqs     *supervisor.Ring[supervisor.Request]
	events   chan supervisor.Event
	calls    []string
	fail     error // returned by every action when set
}

// now is the pinned clock of every dashboard test.
var now = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func newFakeSup() *fakeSup {
	f := &fakeSup{
		logs:   map[string]*supervisor.LogBuffer{},
		reqs:   supervisor.NewRing[supervisor.Request](100),
		events: make(chan supervisor.Event, 16),
	}
	f.services = []supervisor.ServiceInfo{
		{Name: "default", Runtime: "go125", Scaling: "automatic", Port: 8080, Capacity: 10, Instances: []supervisor.InstanceInfo{
			{Service: "default", ID: "0", State: supervisor.Ready, PID: 4101, Port: 40001, StartedAt: now.Add(-3*time.Minute - 7*time.Second),
				InFlight: 3, Capacity: 10, Total: 120, RPS: 12.5, P50: 4200 * time.Microsecond, P99: 30 * time.Millisecond, CPU: 7.5, RSS: 24 << 20, Restarts: 1},
			{Service: "default", ID: "1", State: supervisor.Starting, PID: 4102, Port: 40002, StartedAt: now.Add(-2 * time.Second),
				Capacity: 10, Reason: "waiting for the app to listen on $PORT"},
		}},
		{Name: "api", Runtime: "python312", Scaling: "manual", Port: 8081, Capacity: 8, Instances: []supervisor.InstanceInfo{
			{Service: "api", ID: "0", State: supervisor.Backoff, Reason: "exited: exit status 1", NextTry: now.Add(8 * time.Second), Restarts: 4, Capacity: 8},
		}},
	}
	for _, k := range []string{"default/", "default/0", "default/1", "api/", "api/0"} {
		f.logs[k] = supervisor.NewLogBuffer(1000)
	}
	f.logs["default/"].Add(supervisor.System, "built in 1.2s")
	for i := range 200 {
		f.logs["default/0"].Add(supervisor.Stdout, fmt.Sprintf("GET /item/%d served in %dms", i, i%17))
		if i%50 == 49 {
			f.logs["default/0"].Add(supervisor.Stderr, fmt.Sprintf("warning: slow query %d", i))
		}
	}
	f.logs["default/1"].Add(supervisor.System, "starting: waiting for the app to listen on $PORT")
	f.logs["api/0"].Add(supervisor.Stderr, "Traceback (most recent call last):")
	f.logs["api/0"].Add(supervisor.Stderr, "ModuleNotFoundError: No module named 'flask'")
	paths := []string{"/", "/api/items?page=2", "/static/app.css", "/missing", "/boom"}
	codes := []int{200, 200, 304, 404, 500}
	for i := range 10 {
		svc, inst := "default", fmt.Sprint(i%2)
		if i%5 == 4 {
			svc, inst = "api", ""
		}
		f.reqs.Append(supervisor.Request{Outcome: proxy.Outcome{
			Start: now.Add(time.Duration(i-10) * time.Second), Service: svc, Instance: inst, Method: "GET",
			Path: paths[i%5], Status: codes[i%5], Latency: time.Duration(i+1) * 1500 * time.Microsecond, Route: "/.*",
		}})
	}
	return f
}

func (f *fakeSup) Snapshot() []supervisor.ServiceInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]supervisor.ServiceInfo, len(f.services))
	for i, s := range f.services {
		s.Instances = append([]supervisor.InstanceInfo(nil), s.Instances...)
		out[i] = s
	}
	return out
}

func (f *fakeSup) Logs(service, instance string) *supervisor.LogBuffer {
	return f.logs[service+"/"+instance]
}

func (f *fakeSup) Requests() *supervisor.Ring[supervisor.Request] { return f.reqs }

func (f *fakeSup) Subscribe() (<-chan supervisor.Event, func()) { return f.events, func() {} }

func (f *fakeSup) record(format string, a ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
	return f.fail
}

func (f *fakeSup) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeSup) Restart(s, id string) error       { return f.record("restart %s/%s", s, id) }
func (f *fakeSup) StopInstance(s, id string) error  { return f.record("stop %s/%s", s, id) }
func (f *fakeSup) StartInstance(s, id string) error { return f.record("start %s/%s", s, id) }
func (f *fakeSup) Kill(s, id string) error          { return f.record("kill %s/%s", s, id) }
func (f *fakeSup) Scale(s string, n int) error      { return f.record("scale %s %d", s, n) }
func (f *fakeSup) Rebuild(s string) error           { return f.record("rebuild %s", s) }
func (f *fakeSup) RestartService(s string) error    { return f.record("restart-service %s", s) }

// renderer returns a renderer with a pinned profile and background.
func renderer(p termenv.Profile) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(&bytes.Buffer{})
	r.SetColorProfile(p)
	r.SetHasDarkBackground(true)
	return r
}

func theme(t *testing.T, name string) themes.Theme {
	t.Helper()
	th, err := themes.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// newModel returns a dashboard over f at w×h, plain text, pinned clock.
func newModel(t *testing.T, f *fakeSup, w, h int) Model {
	t.Helper()
	m := New(f, Options{
		Header:   Header{App: "demo", Host: "127.0.0.1", Admin: "http://127.0.0.1:8000"},
		Renderer: renderer(termenv.Ascii), Theme: theme(t, "mono"),
		Now: func() time.Time { return now }, Loc: time.UTC, SaveDir: t.TempDir(),
		Open: func(string) error { return errors.New("no opener found") },
	})
	return send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
}

// send updates m with msgs and returns the model.
func send(t *testing.T, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	for _, msg := range msgs {
		next, _ := m.Update(msg)
		m = next.(Model)
	}
	return m
}

// press sends keys ("j", "tab", "ctrl+k", …) and returns the model and
// the last command.
func press(t *testing.T, m Model, keys ...string) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, k := range keys {
		var next tea.Model
		next, cmd = m.Update(keyMsg(k))
		m = next.(Model)
	}
	return m, cmd
}

func keyMsg(k string) tea.KeyMsg {
	special := map[string]tea.KeyType{
		"tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab, "enter": tea.KeyEnter, "esc": tea.KeyEsc,
		"ctrl+c": tea.KeyCtrlC, "ctrl+k": tea.KeyCtrlK, "ctrl+s": tea.KeyCtrlS, "ctrl+u": tea.KeyCtrlU,
		"ctrl+d": tea.KeyCtrlD, "up": tea.KeyUp, "down": tea.KeyDown, "backspace": tea.KeyBackspace,
	}
	if t, ok := special[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// run executes cmd and feeds back what it returns (batches included,
// and the action a dialog's yes starts), as the program would.
func run(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	if cmd == nil {
		return m
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			m = run(t, m, c)
		}
		return m
	}
	if msg == nil {
		return m
	}
	next, follow := m.Update(msg)
	if _, ok := msg.(confirmedMsg); ok {
		// A confirmed action answers with the command doing it.
		return run(t, next.(Model), follow)
	}
	return next.(Model)
}

// screen is the view as plain text.
func screen(m Model) string { return ansi.Strip(m.View()) }

func mustContain(t *testing.T, view string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(view, w) {
			t.Errorf("screen lacks %q:\n%s", w, view)
		}
	}
}

func eventMsgFor(service, instance string) supervisor.Event {
	return supervisor.Event{Kind: supervisor.StateChanged, Service: service, Instance: instance, State: supervisor.Crashed, Reason: "exited: signal: killed"}
}

// fakeTimeout bounds a wait for a command that should answer at once;
// the tick command answers after a frame.
func fakeTimeout() <-chan time.Time { return time.After(200 * time.Millisecond) }
