package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui/buildpanel"
	"github.com/appdeck/appdeck/ui/common"
	"github.com/appdeck/appdeck/ui/instancetable"
)

func TestLayoutHasHeaderTableLogsRequestsAndStatus(t *testing.T) {
	m := newModel(t, newFakeSup(), 160, 48)
	v := screen(m)
	lines := strings.Split(v, "\n")
	if len(lines) != 48 {
		t.Fatalf("%d lines, want 48", len(lines))
	}
	for i, l := range lines {
		if w := common.Width(l); w > 160 {
			t.Errorf("line %d is %d wide", i, w)
		}
	}
	mustContain(t, lines[0], "appdeck · demo", "default http://127.0.0.1:8080", "api http://127.0.0.1:8081", "admin http://127.0.0.1:8000")
	mustContain(t, v, "━ instances", "─ logs · default/0", "─ requests · default/0")
	mustContain(t, lines[47], "TABLE", "default/0 · ● ready · pid 4101", "1/3 ready", "12.5 req/s", "? help")
}

func TestTableShowsEveryColumnGroupedByService(t *testing.T) {
	v := screen(newModel(t, newFakeSup(), 160, 48))
	mustContain(t, v,
		"INSTANCE", "STATE", "PID", "PORT", "LOAD", "REQ/S", "P50", "CPU", "RSS", "RESTARTS", "UPTIME", "LAST ERROR / NOTE",
		"▾ default · go125 · automatic scaling · 1/2 ready · :8080",
		"▾ api · python312 · manual scaling · 0/1 ready · :8081",
		"● ready", "4101", "40001", "3/10", "12.5", "4.2ms", "7.5%", "24M", "3m07s",
		"◌ starting", "waiting for the app to listen on $PORT",
		"↻ backoff", "next try 15:09:34 (in 8s) · exited: exit status 1")
	// Services come before their instances, in order.
	if strings.Index(v, "▾ default") > strings.Index(v, "4101") || strings.Index(v, "4102") > strings.Index(v, "▾ api") {
		t.Errorf("rows not grouped by service:\n%s", v)
	}
}

func TestNarrowTableKeepsStateAndDropsMinorColumns(t *testing.T) {
	v := screen(newModel(t, newFakeSup(), 80, 24))
	mustContain(t, v, "● ready", "↻ backoff", "4101", "3m07s", "next try")
	if strings.Contains(v, "PORT") {
		t.Errorf("80 columns should drop the PORT column first:\n%s", v)
	}
	for i, l := range strings.Split(v, "\n") {
		if common.Width(l) > 80 {
			t.Errorf("line %d overflows: %q", i, l)
		}
	}
}

func TestTooSmallAndResize(t *testing.T) {
	m := newModel(t, newFakeSup(), 79, 30)
	mustContain(t, screen(m), "Terminal too small", "79×30", "at least 80×24")
	m = send(t, m, tea.WindowSizeMsg{Width: 100, Height: 23})
	mustContain(t, screen(m), "100×23")
	m = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	if v := screen(m); strings.Contains(v, "too small") || len(strings.Split(v, "\n")) != 40 {
		t.Errorf("after growing:\n%s", v)
	}
}

// The too-small screen says "press q to quit": q quits there at once,
// and keys never act on panes or dialogs it does not show.
func TestTooSmallQuitsAtOnceAndIgnoresOtherKeys(t *testing.T) {
	f := newFakeSup()
	m := newModel(t, f, 60, 15)
	mustContain(t, screen(m), "press q to quit (stops 2 instances)")
	m, cmd := press(t, m, "r", "ctrl+k", "tab", "/")
	if cmd != nil || m.confirm.Open() || m.focus != focusTable || m.table.Filtering() {
		t.Errorf("keys acted behind the too-small screen: dialog %v, focus %d, filtering %v", m.confirm.Open(), m.focus, m.table.Filtering())
	}
	m = send(t, m, tea.MouseMsg{X: 5, Y: 6, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if row, _ := m.table.Selected(); row.Key() != "default/0" {
		t.Errorf("a click behind the too-small screen selected %s", row.Key())
	}
	m, cmd = press(t, m, "q")
	if cmd == nil || m.confirm.Open() {
		t.Fatalf("q did not quit at once (dialog open: %v)", m.confirm.Open())
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("q did not quit")
	}
	if v := screen(send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})); strings.Contains(v, "Quit appdeck?") {
		t.Errorf("a hidden dialog waited behind the too-small screen:\n%s", v)
	}
	if _, cmd := press(t, m, "ctrl+c"); cmd == nil {
		t.Error("ctrl+c did nothing on the too-small screen")
	} else if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("ctrl+c did not quit")
	}
	if len(f.Calls()) != 0 {
		t.Errorf("calls %v", f.Calls())
	}
}

func TestMovingSelectsInstanceOrServiceAndPointsPanes(t *testing.T) {
	m := newModel(t, newFakeSup(), 120, 40)
	if row, _ := m.table.Selected(); row.Key() != "default/0" {
		t.Fatalf("starts on %s, want the first instance", row.Key())
	}
	m, _ = press(t, m, "j", "j", "j")
	mustContain(t, screen(m), "logs · api/0", "ModuleNotFoundError", "requests · api/0")
	m, _ = press(t, m, "k")
	mustContain(t, screen(m), "logs · api (builds and notes)", "requests · api", "api · python312 · 0/1 ready")
	m, _ = press(t, m, "g")
	mustContain(t, screen(m), "logs · default (builds and notes)", "built in 1.2s")
	m, _ = press(t, m, "G")
	if row, _ := m.table.Selected(); row.Key() != "api/0" {
		t.Errorf("G selected %s", row.Key())
	}
}

// A terminal can deliver several typed letters in one read (key repeat,
// a busy machine, SSH): each is still a key press of its own.
func TestLettersReadTogetherAreSeparatePresses(t *testing.T) {
	m, _ := press(t, newModel(t, newFakeSup(), 120, 40), "jjj")
	if row, _ := m.table.Selected(); row.Key() != "api/0" {
		t.Errorf("jjj in one message selected %s, want api/0 as j, j, j does", row.Key())
	}
	if m, _ := press(t, newModel(t, newFakeSup(), 120, 40), "/back", "enter"); m.table.Filter() != "back" {
		t.Errorf("/back in one message filtered by %q", m.table.Filter())
	}
	// A paste is text, not key presses: "jk" pasted moves nothing.
	next, _ := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jk"), Paste: true})
	if row, _ := next.(Model).table.Selected(); row.Key() != "api/0" {
		t.Errorf("a paste moved the selection to %s", row.Key())
	}
}

func TestTableFilter(t *testing.T) {
	m := newModel(t, newFakeSup(), 120, 40)
	m, _ = press(t, m, "/", "b", "a", "c", "k")
	if m.mode() != "FILTER" {
		t.Errorf("mode %s", m.mode())
	}
	m, _ = press(t, m, "enter")
	rows := m.table.Rows()
	if len(rows) != 2 || rows[0].Key() != "api" || rows[1].Key() != "api/0" {
		t.Errorf("filter backoff: rows %v", keys(rows))
	}
	mustContain(t, screen(m), "filter: back (esc clears)", "logs · api/0")
	m, _ = press(t, m, "esc")
	if len(m.table.Rows()) != 5 {
		t.Errorf("esc did not clear the filter: %v", keys(m.table.Rows()))
	}
	m, _ = press(t, m, "/", "z", "z", "z", "enter")
	mustContain(t, screen(m), `nothing matches the filter "zzz"`)
}

// Clearing a filter keeps the row it left selected, whether the filter
// was applied (enter, then esc) or is still being typed (esc).
func TestClearingTheFilterKeepsTheSelection(t *testing.T) {
	for _, typed := range [][]string{{"/", "b", "a", "c", "k", "enter", "esc"}, {"/", "a", "p", "i", "esc"}} {
		m, _ := press(t, newModel(t, newFakeSup(), 120, 40), typed...)
		if m.table.Filter() != "" || len(m.table.Rows()) != 5 {
			t.Fatalf("%v: filter %q still applied", typed, m.table.Filter())
		}
		if row, _ := m.table.Selected(); row.Key() != "api/0" {
			t.Errorf("%v: selection jumped to %s, want api/0", typed, row.Key())
		}
		mustContain(t, screen(m), "logs · api/0")
	}
	// A selection the filter hid is not brought back: the row it
	// showed selected stays.
	m, _ := press(t, newModel(t, newFakeSup(), 120, 40), "j", "/", "a", "p", "i", "enter", "j", "esc")
	if row, _ := m.table.Selected(); row.Key() != "api/0" {
		t.Errorf("selection %s, want api/0", row.Key())
	}
}

func keys(rows []instancetable.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Key())
	}
	return out
}

func TestBuildFailurePanelHighlightsAndClears(t *testing.T) {
	f := newFakeSup()
	f.services[0].BuildErr = "go build failed"
	f.services[0].BuildOutput = "# example.com/demo\n./main.go:12:5: undefined: greet\n./util.go:3:1: syntax error"
	m := newModel(t, f, 120, 40)
	v := screen(m)
	mustContain(t, v, "✖ BUILD FAILED", "✖ build of default failed · e opens ./main.go:12:5 in $EDITOR", "./util.go:3:1: syntax error")
	if !strings.Contains(m.View(), "./main.go:12:5") {
		t.Fatal("location missing")
	}
	f.mu.Lock()
	f.services[0].BuildErr, f.services[0].BuildOutput = "", ""
	f.mu.Unlock()
	m = send(t, m, frameMsg(now))
	if strings.Contains(screen(m), "build of default failed") {
		t.Error("panel stayed after a good build")
	}
}

func TestEditorOpensFirstError(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "args")
	script := filepath.Join(dir, "ed")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$PWD $*\" > "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", script)
	f := newFakeSup()
	f.services[1].BuildErr = "build failed"
	f.services[1].BuildOutput = "Traceback\n  in ./api.py:12:5: invalid syntax"
	m := newModel(t, f, 120, 40)
	m.opts.Dirs = map[string]string{"api": dir}
	if _, cmd := press(t, m, "e"); cmd == nil {
		t.Fatal("e gave no command")
	}
	// The command hands the terminal to what EditorCommand builds; run
	// that the way tea.ExecProcess would.
	c, err := buildpanel.EditorCommand(dir, buildpanel.Location{File: "./api.py", Line: 12, Col: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if want := dir + " +12 " + filepath.Join(dir, "api.py") + "\n"; string(got) != want {
		t.Errorf("editor ran as %q, want %q", got, want)
	}
	// Without a failed build, e says so.
	m, cmd := press(t, newModel(t, newFakeSup(), 120, 40), "e")
	m = run(t, m, cmd)
	mustContain(t, m.status.Flashing(), "no failed build")
	t.Setenv("EDITOR", "")
	m, cmd = press(t, newModel(t, f, 120, 40), "e")
	m = run(t, m, cmd)
	mustContain(t, m.status.Flashing(), "set $EDITOR to open ./api.py:12:5")
}

func TestQuitAsksWhileInstancesRun(t *testing.T) {
	m := newModel(t, newFakeSup(), 120, 40)
	m, cmd := press(t, m, "q")
	if cmd != nil || !m.confirm.Open() {
		t.Fatal("q quit without asking while instances run")
	}
	mustContain(t, screen(m), "Quit appdeck? This stops 2 running instances.", "y yes", "n no")
	m, cmd = press(t, m, "n")
	if cmd != nil || m.confirm.Open() {
		t.Fatal("n did not cancel")
	}
	m, _ = press(t, m, "q")
	_, cmd = press(t, m, "y")
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("y did not quit")
	}
	// ctrl+c quits at once; q quits at once when nothing runs.
	if _, cmd := press(t, newModel(t, newFakeSup(), 120, 40), "ctrl+c"); cmd == nil {
		t.Error("ctrl+c did nothing")
	} else if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("ctrl+c did not quit")
	}
	f := newFakeSup()
	f.services = f.services[1:]
	if _, cmd := press(t, newModel(t, f, 120, 40), "q"); cmd == nil {
		t.Error("q with nothing running asked")
	}
}

func TestHelpOverlayListsEveryBinding(t *testing.T) {
	m := newModel(t, newFakeSup(), 160, 48)
	m, _ = press(t, m, "?")
	v := screen(m)
	for _, g := range m.ctx.Keys.Groups() {
		mustContain(t, v, g.Title)
		for _, b := range g.Bindings {
			mustContain(t, v, b.Help().Key+" ", b.Help().Desc)
		}
	}
	m, _ = press(t, m, "esc")
	if m.help {
		t.Error("esc did not close help")
	}
	// At 80×24 help scrolls to show the rest.
	m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m, _ = press(t, m, "?")
	if strings.Contains(screen(m), "Dialogs") || !strings.Contains(screen(m), "j/k scroll") {
		t.Errorf("help at 80×24 should scroll:\n%s", screen(m))
	}
	m, _ = press(t, m, "G")
	mustContain(t, screen(m), "Dialogs", "y/enter", "ctrl+s")
	if m.mode() != "HELP" {
		t.Errorf("G closed help")
	}
}

func TestThemeCyclesLiveAndNoColorSaysWhy(t *testing.T) {
	m := newModel(t, newFakeSup(), 120, 40)
	first := m.ctx.Theme.Name
	m = run(t, m, func() tea.Msg { _, c := press(t, m, "T"); return c() })
	m, cmd := press(t, m, "T")
	m = run(t, m, cmd)
	if m.ctx.Theme.Name == first {
		t.Errorf("T did not change the theme from %s", first)
	}
	mustContain(t, m.status.Flashing(), "theme: ")
	m.opts.NoColor = true
	m, cmd = press(t, m, "T")
	m = run(t, m, cmd)
	mustContain(t, m.status.Flashing(), "colours are off")
}

func TestScopeCyclesInstanceServiceAll(t *testing.T) {
	m := newModel(t, newFakeSup(), 160, 48)
	m, _ = press(t, m, "v")
	v := screen(m)
	mustContain(t, v, "logs · default (service and instances)", "default/0 │ GET /item/199", "requests · default")
	m, _ = press(t, m, "v")
	mustContain(t, screen(m), "logs · all services", "api/0     │ ! ModuleNotFoundError", "requests · all services")
	m, _ = press(t, m, "v")
	mustContain(t, screen(m), "logs · default/0")
}

// TestServiceScopeShowsRemovedInstances: the service's merged log keeps
// the lines of instances a scale-down removed, which say why they went.
func TestServiceScopeShowsRemovedInstances(t *testing.T) {
	f := newFakeSup()
	f.services[0].Removed = []string{"2"}
	f.logs["default/2"] = supervisor.NewLogBuffer(10)
	f.logs["default/2"].Add(supervisor.System, "stopped: scaled to 2 instance(s) by hand")
	m := newModel(t, f, 160, 48)
	m, _ = press(t, m, "v")
	mustContain(t, screen(m), "default/2 │ » stopped: scaled to 2 instance(s) by hand")
	m, _ = press(t, m, "v")
	mustContain(t, screen(m), "default/2 │ » stopped: scaled to 2 instance(s) by hand")
}

func TestRequestsPaneShowsTheSelection(t *testing.T) {
	m := newModel(t, newFakeSup(), 160, 48)
	for _, r := range m.reqs.Items() {
		if r.Service != "default" || r.Instance != "0" {
			t.Errorf("request of %s/%s in default/0's pane", r.Service, r.Instance)
		}
	}
	m, _ = press(t, m, "v", "v")
	if n := len(m.reqs.Items()); n != 10 {
		t.Errorf("all services: %d requests, want 10", n)
	}
	mustContain(t, screen(m), "15:09:25.000 500 GET", "/boom", "→ /.*", "api (none)")
	m.reqs.Refresh()
	f := m.sup.(*fakeSup)
	f.reqs.Append(supervisor.Request{})
	m = send(t, m, frameMsg(now))
	if n := len(m.reqs.Items()); n != 11 {
		t.Errorf("new request not taken in: %d", n)
	}
}
