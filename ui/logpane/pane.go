// Package logpane is the dashboard's log pane: one instance's log, a
// whole service's or every service's merged by time with coloured
// prefixes. It is virtualized: on each frame it reads from the
// supervisor's rings only the lines it draws, and it never holds a copy of
// a log.
package logpane

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui/common"
)

// Source is one log the pane shows.
type Source struct {
	Label string // prefix of its lines when the pane merges several logs
	Buf   *supervisor.LogBuffer
}

// Model is the log pane.
type Model struct {
	ctx   *common.Context
	w, h  int
	key   string // what the pane shows, e.g. "instance default/0"
	title string
	srcs  []Source

	// The window ends at the cut ends; when following, at the newest lines.
	follow bool
	ends   []uint64
	atTop  bool
	window []row

	wrap, stamps, stderrOnly bool
	indexes                  map[*supervisor.LogBuffer]*index

	input     textinput.Model
	searching bool
	query     string
	re        *regexp.Regexp
	cur       *matchPos // the current match, highlighted
	// found indexes the lines that match the search, per log, so that
	// counting them costs per new line, not per frame.
	found   map[*supervisor.LogBuffer]*index
	matches int // lines that match the search
	matchNo int // the current match's number from the oldest; 0 when none is held

	saveDir string
}

// matchPos is a search match and the cut just after it.
type matchPos struct {
	buf *supervisor.LogBuffer
	seq uint64
	cut []uint64
}

// row is a screen line: a line of the log, or a part of a wrapped one.
type row struct {
	text string
	src  int    // the stream of the line
	seq  uint64 // the line's number in its log
}

// New returns an empty pane that follows.
func New(ctx *common.Context) Model {
	in := textinput.New()
	in.Prompt = "search: "
	in.Placeholder = "text (lower case ignores case)"
	return Model{ctx: ctx, follow: true, input: in}
}

// SetSize sets the pane's size, title line included.
func (m *Model) SetSize(w, h int) { m.w, m.h = w, h }

// SetSources points the pane at logs. A different key starts over
// (following, no search); the same key keeps the position of logs that
// stay, as when a service gains an instance.
func (m *Model) SetSources(key, title string, srcs []Source) {
	m.title = title
	if key != m.key {
		m.key, m.srcs, m.follow, m.ends, m.cur = key, srcs, true, nil, nil
		m.indexes, m.found = nil, nil
		return
	}
	if sameBuffers(m.srcs, srcs) {
		m.srcs = srcs
		return
	}
	old := map[*supervisor.LogBuffer]uint64{}
	for i, s := range m.srcs {
		if i < len(m.ends) {
			old[s.Buf] = m.ends[i]
		}
	}
	m.srcs, m.cur, m.found = srcs, nil, nil
	if m.ends != nil {
		// A new log's lines are all newer than a frozen window.
		m.ends = make([]uint64, len(srcs))
		for i, s := range srcs {
			m.ends[i] = old[s.Buf]
		}
	}
}

func sameBuffers(a, b []Source) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Buf != b[i].Buf {
			return false
		}
	}
	return true
}

// Following reports whether the pane shows the newest lines as they come.
func (m Model) Following() bool { return m.follow }

// Typing reports whether the search input has the keyboard.
func (m Model) Typing() bool { return m.searching }

// Lines returns the text of the rows drawn, for tests.
func (m Model) Lines() []string {
	out := make([]string, len(m.window))
	for i, r := range m.window {
		out[i] = ansi.Strip(r.text)
	}
	return out
}

// streams returns the pane's logs, through the stderr index when that
// filter is on, bringing the indexes up to date (and building them after
// the filter or the logs changed).
func (m *Model) streams() []stream {
	out := make([]stream, len(m.srcs))
	for i, s := range m.srcs {
		out[i] = stream{buf: s.Buf}
		if m.stderrOnly {
			if m.indexes == nil {
				m.indexes = map[*supervisor.LogBuffer]*index{}
			}
			x := m.indexes[s.Buf]
			if x == nil {
				x = &index{keep: func(l supervisor.Line) bool { return l.Stream == supervisor.Stderr }}
				m.indexes[s.Buf] = x
			}
			x.update(s.Buf)
			out[i].idx = x
		}
	}
	return out
}

func (m *Model) newest() []uint64 {
	cut := make([]uint64, len(m.srcs))
	for i, s := range m.srcs {
		cut[i] = s.Buf.Next()
	}
	return cut
}

func (m Model) bodyHeight() int { return max(m.h-1, 0) }

// Refresh reads the window the pane shows; the root calls it each frame.
func (m *Model) Refresh() {
	m.count()
	streams := m.streams()
	if m.follow || m.ends == nil {
		ends := m.newest()
		if !m.follow {
			m.ends = ends
		}
		m.window, m.atTop = m.read(streams, ends)
		return
	}
	m.window, m.atTop = m.read(streams, m.ends)
	if len(m.window) < m.bodyHeight() {
		// The ring dropped lines the paused window showed: show the
		// oldest lines held instead.
		if top, _ := walk(streams, make([]uint64, len(streams)), m.bodyHeight(), false); !slices.Equal(top, m.ends) {
			m.ends = top
			m.window, m.atTop = m.read(streams, top)
		}
	}
}

// read renders the rows that fit above the cut ends, and whether they
// reach the oldest line held.
func (m *Model) read(streams []stream, ends []uint64) ([]row, bool) {
	h := m.bodyHeight()
	w := newWalker(streams, ends, h+1, true)
	var rows []row
	for len(rows) < h {
		l, ok := w.next()
		if !ok {
			return reverse(rows), true
		}
		r := m.render(l)
		for i := len(r) - 1; i >= 0 && len(rows) < h; i-- {
			rows = append(rows, r[i])
		}
	}
	_, more := w.next()
	return reverse(rows), !more
}

func reverse(rows []row) []row {
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return rows
}

// Update handles a key while the pane has focus; it reports whether the
// key was the pane's.
func (m Model) Update(msg tea.KeyMsg) (Model, tea.Cmd, bool) {
	if m.searching {
		return m.typeSearch(msg)
	}
	k := m.ctx.Keys
	if k.Move(msg, max(m.bodyHeight()-1, 1), m.Scroll, m.top, func() { m.follow, m.ends = true, nil }) {
		m.Refresh()
		return m, nil, true
	}
	var cmd tea.Cmd
	switch {
	case key.Matches(msg, k.Follow):
		if m.follow {
			m.follow, m.ends = false, m.newest()
		} else {
			m.follow, m.ends = true, nil
		}
	case key.Matches(msg, k.Wrap):
		m.wrap = !m.wrap
	case key.Matches(msg, k.Stamps):
		m.stamps = !m.stamps
	case key.Matches(msg, k.StderrOnly):
		m.toggleStderr()
	case key.Matches(msg, k.Search):
		m.searching = true
		m.input.SetValue(m.query)
		cmd = m.input.Focus()
	case key.Matches(msg, k.NextMatch):
		cmd = m.jump(true)
	case key.Matches(msg, k.PrevMatch):
		cmd = m.jump(false)
	case key.Matches(msg, k.Save):
		cmd = m.save()
	case key.Matches(msg, k.Back) && m.re != nil:
		m.setQuery("")
	default:
		return m, nil, false
	}
	m.Refresh()
	return m, cmd, true
}

// Scroll moves the window n lines: up when negative. Reaching the newest
// line follows again.
func (m *Model) Scroll(n int) {
	streams := m.streams()
	ends := m.ends
	if m.follow || ends == nil {
		ends = m.newest()
	}
	if n < 0 {
		if m.atTop {
			return
		}
		// Never scroll past the oldest line: move at most as far as
		// there are lines above the window.
		top, _ := walk(streams, ends, m.bodyHeight(), true)
		_, room := walk(streams, top, -n, true)
		if room == 0 {
			return
		}
		m.ends, _ = walk(streams, ends, room, true)
		m.follow = false
		return
	}
	if m.follow {
		return
	}
	cut, moved := walk(streams, ends, n, false)
	if moved < n {
		m.follow, m.ends = true, nil
		return
	}
	m.ends = cut
}

// top shows the oldest lines held. When the window shows them already
// nothing moves: a following pane goes on following.
func (m *Model) top() {
	if m.atTop {
		return
	}
	streams := m.streams()
	m.ends, _ = walk(streams, make([]uint64, len(streams)), m.bodyHeight(), false)
	m.follow = false
}

func (m *Model) toggleStderr() {
	m.stderrOnly = !m.stderrOnly
	m.cur, m.indexes, m.found = nil, nil, nil
	if !m.follow {
		// A cut into the filtered log is a cut into the whole log too,
		// but the window would jump; start again at the newest lines.
		m.follow, m.ends = true, nil
	}
}

// render turns a line into the rows it takes.
func (m *Model) render(l tagged) []row {
	st := m.ctx.Styles
	var b strings.Builder
	if len(m.srcs) > 1 {
		b.WriteString(st.Prefix(l.src).Render(common.Fit(m.srcs[l.src].Label, m.labelWidth())))
		b.WriteString(st.Subtle.Render(" │ "))
	}
	if m.stamps {
		b.WriteString(st.Subtle.Render(l.Time.In(m.ctx.Loc).Format("15:04:05.000")) + " ")
	}
	text := l.Text
	base := st.Text
	switch l.Stream {
	case supervisor.Stderr:
		base = st.Stderr
		if st.Mono {
			text = "! " + text
		}
	case supervisor.System:
		base = st.System
		if st.Mono {
			text = "» " + text
		}
	}
	if m.re != nil && m.re.MatchString(ansi.Strip(text)) {
		current := m.cur != nil && m.cur.buf == m.srcs[l.src].Buf && m.cur.seq == l.Seq
		b.WriteString(m.highlight(ansi.Strip(text), base, current))
	} else if strings.Contains(text, "\x1b") {
		b.WriteString(text + "\x1b[m") // the app's own colours, closed
	} else {
		b.WriteString(base.Render(text))
	}
	s := b.String()
	if !m.wrap {
		return []row{{common.Truncate(s, m.w), l.src, l.Seq}}
	}
	parts := strings.Split(ansi.Hardwrap(s, max(m.w, 1), true), "\n")
	rows := make([]row, len(parts))
	for i, p := range parts {
		rows[i] = row{p, l.src, l.Seq}
	}
	return rows
}

func (m *Model) labelWidth() int {
	w := 0
	for _, s := range m.srcs {
		w = max(w, common.Width(s.Label))
	}
	return min(w, 24)
}

func (m *Model) highlight(text string, base interface{ Render(...string) string }, current bool) string {
	st := m.ctx.Styles
	match := st.Match
	if current {
		match = st.Current
	}
	var b strings.Builder
	last := 0
	for _, loc := range m.re.FindAllStringIndex(text, -1) {
		if loc[1] == loc[0] {
			continue
		}
		b.WriteString(base.Render(text[last:loc[0]]))
		b.WriteString(match.Render(text[loc[0]:loc[1]]))
		last = loc[1]
	}
	b.WriteString(base.Render(text[last:]))
	return b.String()
}

// View draws the title line and the window.
func (m Model) View(focused bool) string {
	lines := make([]string, 0, m.h)
	if m.searching {
		lines = append(lines, common.Fit(m.input.View(), m.w))
	} else {
		lines = append(lines, common.PaneTitle(m.ctx.Styles, m.title, m.status(), m.w, focused))
	}
	for _, r := range m.window {
		lines = append(lines, r.text)
	}
	if len(m.window) == 0 && m.h > 1 {
		msg := "  no log lines yet"
		if m.stderrOnly {
			msg = "  no stderr lines (E shows every line)"
		}
		lines = append(lines, m.ctx.Styles.Subtle.Render(msg))
	}
	for len(lines) < m.h {
		lines = append(lines, "")
	}
	return strings.Join(lines[:m.h], "\n")
}

// status is the title's right side: mode and flags.
func (m Model) status() string {
	var parts []string
	if m.follow {
		parts = append(parts, "following")
	} else {
		var newer uint64
		for i, s := range m.srcs {
			if i < len(m.ends) {
				newer += s.Buf.Next() - m.ends[i]
			}
		}
		p := "paused"
		if newer > 0 {
			p += fmt.Sprintf(" · %d newer (G)", newer)
		}
		if m.atTop {
			p += " · oldest kept line"
		}
		parts = append(parts, p)
	}
	if m.stderrOnly {
		parts = append(parts, "stderr only")
	}
	if m.wrap {
		parts = append(parts, "wrap")
	}
	if m.stamps {
		parts = append(parts, "time")
	}
	if m.query != "" {
		parts = append(parts, "/"+m.query+" "+m.matchText())
	}
	return strings.Join(parts, " · ")
}
