package logpane

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/themes"
	"github.com/appdeck/appdeck/ui/common"
)

var t0 = time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)

func newCtx(t *testing.T) *common.Context {
	r := lipgloss.NewRenderer(&bytes.Buffer{})
	r.SetColorProfile(termenv.Ascii)
	th, err := themes.Builtin("dark")
	if err != nil {
		t.Fatal(err)
	}
	return common.NewContext(r, th, func() time.Time { return t0 }, time.UTC)
}

// buf returns a log of n lines "name i", one per millisecond from start,
// every tenth on stderr.
func buf(name string, n int, start time.Time, size int) *supervisor.LogBuffer {
	b := supervisor.NewLogBuffer(size)
	for i := range n {
		s := supervisor.Stdout
		if i%10 == 9 {
			s = supervisor.Stderr
		}
		b.Append(supervisor.Line{Time: start.Add(time.Duration(i) * time.Millisecond), Stream: s, Text: fmt.Sprintf("%s %d", name, i)})
	}
	return b
}

func pane(t *testing.T, h int, srcs ...Source) Model {
	m := New(newCtx(t))
	m.SetSize(60, h)
	m.SetSources("test", "logs", srcs)
	m.Refresh()
	return m
}

func keys(t *testing.T, m Model, ks ...string) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, k := range ks {
		msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		switch k {
		case "enter":
			msg = tea.KeyMsg{Type: tea.KeyEnter}
		case "esc":
			msg = tea.KeyMsg{Type: tea.KeyEsc}
		case "ctrl+s":
			msg = tea.KeyMsg{Type: tea.KeyCtrlS}
		case "pgup":
			msg = tea.KeyMsg{Type: tea.KeyPgUp}
		}
		m, cmd, _ = m.Update(msg)
	}
	return m, cmd
}

func last(m Model) string { l := m.Lines(); return l[len(l)-1] }

func TestWindowIsOnlyWhatFitsAndFollows(t *testing.T) {
	b := buf("a", 5000, t0, 10000)
	m := pane(t, 11, Source{"a", b})
	if n := len(m.Lines()); n != 10 {
		t.Fatalf("window holds %d rows, want the 10 that fit", n)
	}
	if last(m) != "a 4999" || m.Lines()[0] != "a 4990" {
		t.Errorf("window %v", m.Lines())
	}
	b.Add(supervisor.Stdout, "a new")
	m.Refresh()
	if last(m) != "a new" {
		t.Errorf("following pane did not show the new line: %v", m.Lines())
	}
}

func TestScrollPausesAndGResumes(t *testing.T) {
	b := buf("a", 100, t0, 1000)
	m := pane(t, 11, Source{"a", b})
	m, _ = keys(t, m, "k", "k", "k")
	if m.Following() || last(m) != "a 96" {
		t.Fatalf("after 3×k: following=%v last=%q", m.Following(), last(m))
	}
	b.Add(supervisor.Stdout, "a later")
	m.Refresh()
	if last(m) != "a 96" {
		t.Errorf("paused window moved: %q", last(m))
	}
	if !strings.Contains(m.View(false), "paused · 4 newer (G)") {
		t.Errorf("title: %s", strings.Split(m.View(false), "\n")[0])
	}
	m, _ = keys(t, m, "j", "j", "j", "j", "j")
	if !m.Following() || last(m) != "a later" {
		t.Errorf("scrolling to the end did not follow again: %v %q", m.Following(), last(m))
	}
	m, _ = keys(t, m, "f")
	b.Add(supervisor.Stdout, "a frozen")
	m.Refresh()
	if m.Following() || last(m) != "a later" {
		t.Errorf("f did not freeze: %q", last(m))
	}
	m, _ = keys(t, m, "G")
	if !m.Following() || last(m) != "a frozen" {
		t.Errorf("G did not follow")
	}
}

func TestScrollStopsAtOldestLine(t *testing.T) {
	b := buf("a", 30, t0, 1000)
	m := pane(t, 11, Source{"a", b})
	for range 5 {
		m, _ = keys(t, m, "pgup")
	}
	if m.Lines()[0] != "a 0" || len(m.Lines()) != 10 {
		t.Errorf("top window %v", m.Lines())
	}
	m, _ = keys(t, m, "G", "g")
	if m.Lines()[0] != "a 0" || !strings.Contains(m.View(false), "oldest kept line") {
		t.Errorf("g: %v", m.Lines())
	}
	// The ring drops what the paused window showed: the window starts at
	// the oldest line still held.
	for i := range 2000 {
		b.Add(supervisor.Stdout, fmt.Sprint("b ", i))
	}
	m.Refresh()
	if m.Lines()[0] != "b 1000" {
		t.Errorf("after overflow the window starts at %q", m.Lines()[0])
	}
}

func TestMergedByTimeWithPrefixes(t *testing.T) {
	a := buf("a", 50, t0, 100)
	b := buf("bb", 50, t0.Add(500*time.Microsecond), 100) // interleaves with a
	m := pane(t, 5, Source{"svc/a", a}, Source{"svc/bb", b})
	want := []string{"svc/a  │ a 48", "svc/bb │ bb 48", "svc/a  │ a 49", "svc/bb │ bb 49"}
	if got := m.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("merged window:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	m, _ = keys(t, m, "k", "k")
	if last(m) != "svc/bb │ bb 48" {
		t.Errorf("merged scroll: %v", m.Lines())
	}
}

func TestStderrOnlyUsesAnIndex(t *testing.T) {
	b := buf("a", 1000, t0, 2000)
	m := pane(t, 4, Source{"a", b})
	m, _ = keys(t, m, "E")
	if got := m.Lines(); strings.Join(got, ",") != "a 979,a 989,a 999" {
		t.Errorf("stderr only: %v", got)
	}
	b.Add(supervisor.Stderr, "boom")
	b.Add(supervisor.Stdout, "fine")
	m.Refresh()
	if last(m) != "boom" {
		t.Errorf("new stderr line missing: %v", m.Lines())
	}
	m, _ = keys(t, m, "k", "k", "k")
	if strings.Join(m.Lines(), ",") != "a 959,a 969,a 979" {
		t.Errorf("filtered scroll: %v", m.Lines())
	}
	m, _ = keys(t, m, "E")
	if !m.Following() || last(m) != "fine" {
		t.Errorf("E off: %v", m.Lines())
	}
}

// The stderr filter stays on when the pane is pointed at other logs
// (another instance selected), and filters those.
func TestStderrOnlySurvivesNewSources(t *testing.T) {
	m := pane(t, 4, Source{"a", buf("a", 100, t0, 200)})
	m, _ = keys(t, m, "E")
	m.SetSources("other", "logs", []Source{{"b", buf("b", 100, t0, 200)}})
	m.Refresh()
	if got := strings.Join(m.Lines(), ","); got != "b 79,b 89,b 99" {
		t.Errorf("stderr only on new logs: %v", got)
	}
}

func TestSearchHighlightsAndJumps(t *testing.T) {
	b := buf("a", 300, t0, 1000)
	m := pane(t, 11, Source{"a", b})
	m, cmd := keys(t, m, "/", "2", "5", "enter")
	if cmd != nil {
		if msg, ok := cmd().(common.FlashMsg); ok {
			t.Fatalf("search found nothing: %s", msg.Text)
		}
	}
	// The newest match is "a 259" (line 260), shown a third of the way up.
	if m.Following() || m.cur.seq != 260 || m.Lines()[6] != "a 259" {
		t.Fatalf("after search: %v", m.Lines())
	}
	if title := title(m); !strings.Contains(title, "/25 match 13 of 13") {
		t.Errorf("query and match count not in the title: %s", title)
	}
	for i, want := range []uint64{259, 258, 257, 256, 255, 254, 253, 252, 251, 226, 126, 26} {
		m, _ = keys(t, m, "n")
		if m.cur.seq != want || !contains(m.Lines(), fmt.Sprint("a ", want-1)) {
			t.Fatalf("n: at line %d, want %d; window %v", m.cur.seq, want, m.Lines())
		}
		if title := title(m); !strings.Contains(title, fmt.Sprintf("match %d of 13", 12-i)) {
			t.Errorf("title %s, want match %d of 13", title, 12-i)
		}
	}
	_, cmd = keys(t, m, "n")
	if cmd == nil || !strings.Contains(cmd().(common.FlashMsg).Text, "no older match") {
		t.Error("n past the oldest match did not say so")
	}
	m, _ = keys(t, m, "N")
	if m.cur.seq != 126 {
		t.Errorf("N: at line %d, want 126", m.cur.seq)
	}
	// The only match is below the paused window: the search (older)
	// finds none, the title counts it, N (newer) goes there.
	m, cmd = keys(t, m, "esc", "/", "2", "5", "0", "enter")
	if cmd == nil || !strings.Contains(cmd().(common.FlashMsg).Text, `no older match for "250"`) {
		t.Error("a search with no older match did not say so")
	}
	if title := title(m); !strings.Contains(title, "/250 1 match") {
		t.Errorf("title %s, want 1 match", title)
	}
	m, _ = keys(t, m, "N")
	if m.cur == nil || m.cur.seq != 251 || !strings.Contains(title(m), "match 1 of 1") {
		t.Fatalf("N did not go to the newer match: %s %v", title(m), m.Lines())
	}
	_, cmd = keys(t, m, "N")
	if cmd == nil || !strings.Contains(cmd().(common.FlashMsg).Text, "no newer match") {
		t.Error("N past the newest match did not say so")
	}
	// Highlighting with colour: the match is styled apart from the rest.
	m.ctx.Renderer.SetColorProfile(termenv.TrueColor)
	m.ctx.SetTheme(m.ctx.Theme)
	m.Refresh()
	styled := map[string]string{}
	for _, l := range strings.Split(m.View(false), "\n")[1:] {
		styled[ansi.Strip(l)] = l
	}
	if match, plain := styled["a 250"], styled["a 251"]; strings.Count(match, "\x1b[") <= strings.Count(plain, "\x1b[") {
		t.Errorf("match not highlighted:\n%q\n%q", match, plain)
	}
	m, _ = keys(t, m, "esc")
	if m.re != nil {
		t.Error("esc did not clear the search")
	}
}

// A search (or g) in a log that fits on screen moves nothing: the pane
// goes on following, and the title counts the matches.
func TestSearchOnScreenKeepsFollowingAndCounts(t *testing.T) {
	b := buf("a", 6, t0, 100)
	m := pane(t, 11, Source{"a", b})
	if m, _ = keys(t, m, "g"); !m.Following() {
		t.Errorf("g paused a log that fits: %s", title(m))
	}
	m, _ = keys(t, m, "/", "a", " ", "enter")
	if !m.Following() || m.cur == nil || m.cur.seq != 6 { // "a 5", the sixth line
		t.Fatalf("following %v, current %v", m.Following(), m.cur)
	}
	if got := title(m); !strings.Contains(got, "following · /a  match 6 of 6") || strings.Contains(got, "paused") || strings.Contains(got, "oldest") {
		t.Errorf("title %s", got)
	}
	m, _ = keys(t, m, "n", "n")
	if !m.Following() || !strings.Contains(title(m), "match 4 of 6") {
		t.Errorf("n on screen: following %v, title %s", m.Following(), title(m))
	}
	b.Add(supervisor.Stdout, "a 6")
	m.Refresh()
	if got := title(m); !strings.Contains(got, "match 4 of 7") {
		t.Errorf("a new matching line is not counted: %s", got)
	}
	m, _ = keys(t, m, "esc", "/", "z", "enter")
	if got := title(m); !strings.Contains(got, "/z no match") || !m.Following() {
		t.Errorf("no match: following %v, title %s", m.Following(), got)
	}
	// The count follows the stderr filter.
	m, _ = keys(t, m, "esc", "/", "a", "enter", "E")
	if got := title(m); !strings.Contains(got, "stderr only · /a no match") {
		t.Errorf("stderr only: %s", got)
	}
}

func title(m Model) string { return strings.SplitN(m.View(false), "\n", 2)[0] }

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

func TestWrapAndTimestamps(t *testing.T) {
	b := supervisor.NewLogBuffer(10)
	b.Append(supervisor.Line{Time: t0.Add(1500 * time.Millisecond), Text: strings.Repeat("x", 100)})
	m := pane(t, 5, Source{"a", b})
	if len(m.Lines()) != 1 || !strings.HasSuffix(m.Lines()[0], "…") {
		t.Fatalf("unwrapped: %q", m.Lines())
	}
	m, _ = keys(t, m, "w", "t")
	got := m.Lines()
	if len(got) != 2 || !strings.HasPrefix(got[0], "15:00:01.500 xxx") || common.Width(got[0]) > 60 {
		t.Errorf("wrapped with time: %q", got)
	}
}

func TestSaveWritesTheMergedLog(t *testing.T) {
	a := buf("a", 20, t0, 100)
	b := buf("b", 20, t0.Add(time.Microsecond), 100)
	m := pane(t, 5, Source{"svc/a", a}, Source{"svc/b", b})
	dir := t.TempDir()
	m.SetSaveDir(dir)
	_, cmd := keys(t, m, "ctrl+s")
	msg := cmd().(common.FlashMsg)
	if msg.Err || !strings.Contains(msg.Text, "saved 40 lines to "+dir) {
		t.Fatalf("flash %+v", msg)
	}
	path := strings.TrimPrefix(msg.Text, "saved 40 lines to ")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 40 || lines[0] != "svc/a | 2025-03-14T15:00:00.000Z stdout a 0" || lines[39] != "svc/b | 2025-03-14T15:00:00.019Z stderr b 19" {
		t.Errorf("saved %d lines: %q … %q", len(lines), lines[0], lines[len(lines)-1])
	}
}
