package ui

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/appdeck/appdeck/supervisor"
)

// frameInterval is how often the dashboard pulls state and the visible
// log lines. Log output never reaches Bubble Tea as messages: a message
// per line would render per line and saturate a core.
const frameInterval = 50 * time.Millisecond

// Minimum terminal size the layout is designed for.
const minWidth, minHeight = 80, 24

type focus int

const (
	focusTable focus = iota
	focusLogs
)

type frameMsg time.Time

// Model is the dashboard's root model.
type Model struct {
	src    Source
	header Header
	st     styles

	width, height int
	services      []supervisor.ServiceInfo
	rows          []supervisor.InstanceInfo // table rows, in service order
	cursor        int
	focus         focus

	// The log pane shows the selected instance's log ending scroll lines
	// above the newest, or the newest when following.
	follow bool
	scroll int
	lines  []supervisor.Line
}

// New returns the dashboard over src.
func New(src Source, h Header, r *lipgloss.Renderer) Model {
	m := Model{src: src, header: h, st: newStyles(r), follow: true}
	m.refresh()
	return m
}

func (m Model) Init() tea.Cmd { return tick() }

func tick() tea.Cmd {
	return tea.Tick(frameInterval, func(t time.Time) tea.Msg { return frameMsg(t) })
}

func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.refresh()
	case frameMsg:
		m.refresh()
		return m, tick()
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m Model) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "q", "ctrl+c":
		return m, tea.Quit
	case "tab", "shift+tab":
		m.focus = 1 - m.focus
		return m, nil
	}
	if m.focus == focusTable {
		m.tableKey(k.String())
	} else {
		m.logKey(k.String())
	}
	m.refresh()
	return m, nil
}

func (m *Model) tableKey(k string) {
	prev := m.cursor
	switch k {
	case "j", "down":
		m.cursor = min(m.cursor+1, len(m.rows)-1)
	case "k", "up":
		m.cursor = max(m.cursor-1, 0)
	case "g", "home":
		m.cursor = 0
	case "G", "end":
		m.cursor = len(m.rows) - 1
	}
	if m.cursor != prev {
		m.follow, m.scroll = true, 0
	}
}

func (m *Model) logKey(k string) {
	page := max(m.logHeight()-1, 1)
	switch k {
	case "k", "up":
		m.scroll++
	case "j", "down":
		m.scroll--
	case "pgup", "ctrl+u":
		m.scroll += page
	case "pgdown", "ctrl+d":
		m.scroll -= page
	case "g", "home":
		m.scroll = 1 << 30
	case "G", "end":
		m.scroll = 0
	}
	m.scroll = max(m.scroll, 0)
	m.follow = m.scroll == 0
}

// refresh pulls the snapshot and the log lines the pane can show.
func (m *Model) refresh() {
	m.services = m.src.Snapshot()
	m.rows = m.rows[:0]
	for _, s := range m.services {
		m.rows = append(m.rows, s.Instances...)
	}
	m.cursor = max(min(m.cursor, len(m.rows)-1), 0)
	m.lines = nil
	if len(m.rows) == 0 {
		return
	}
	sel := m.rows[m.cursor]
	logs := m.src.Logs(sel.Service, sel.ID)
	if logs == nil {
		return
	}
	h := m.logHeight()
	m.scroll = min(m.scroll, max(logs.Len()-h, 0))
	window := logs.Tail(h + m.scroll)
	m.lines = window[:max(len(window)-m.scroll, 0)]
}

// Layout: header (1) + table title and rows + log title + log lines +
// status bar (1).
func (m Model) tableHeight() int { return min(len(m.rows)+1, max(m.height/3, 4)) }

func (m Model) logHeight() int {
	return max(m.height-1-1-m.tableHeight()-1-1, 1)
}

func (m Model) View() string {
	if m.width == 0 {
		return "starting…"
	}
	if m.width < minWidth || m.height < minHeight {
		return fmt.Sprintf("Terminal too small: %d×%d. appdeck needs at least %d×%d; enlarge the window or press q to quit.",
			m.width, m.height, minWidth, minHeight)
	}
	parts := []string{m.viewHeader(), m.viewTable(), m.viewLogs(), m.viewStatus()}
	return strings.Join(parts, "\n")
}

func (m Model) viewHeader() string {
	var b strings.Builder
	b.WriteString(m.st.title.Render("appdeck · " + m.header.App))
	for _, s := range m.services {
		if s.Port > 0 {
			url := "http://" + net.JoinHostPort(m.header.Host, strconv.Itoa(s.Port))
			fmt.Fprintf(&b, "  %s %s", s.Name, m.st.faint.Render(url))
		}
	}
	if m.header.Admin != "" {
		b.WriteString("  admin " + m.st.faint.Render(m.header.Admin))
	}
	return truncate(b.String(), m.width)
}

var tableCols = []struct {
	title string
	width int
}{{"SERVICE", 14}, {"INSTANCE", 9}, {"STATE", 15}, {"PID", 8}, {"PORT", 7}, {"UPTIME", 9}, {"NOTE", 0}}

func (m Model) viewTable() string {
	lines := []string{m.st.colTitle(m.focus == focusTable).Render(padRow(m.width, colTitles()...))}
	first := max(0, m.cursor-(m.tableHeight()-2))
	for i := first; i < len(m.rows) && len(lines) < m.tableHeight(); i++ {
		lines = append(lines, m.viewRow(i))
	}
	return strings.Join(lines, "\n")
}

func colTitles() []string {
	t := make([]string, len(tableCols))
	for i, c := range tableCols {
		t[i] = c.title
	}
	return t
}

func (m Model) viewRow(i int) string {
	in := m.rows[i]
	pid, port, up := "-", "-", "-"
	if in.PID > 0 {
		pid, port = strconv.Itoa(in.PID), strconv.Itoa(in.Port)
		up = formatDuration(time.Since(in.StartedAt))
	}
	cursor := "  "
	if i == m.cursor {
		cursor = "› "
	}
	row := padRow(m.width-2, in.Service, in.ID, stateLabel(in.State), pid, port, up, note(in))
	if i == m.cursor {
		return m.st.selected.Render(cursor + row)
	}
	return cursor + m.st.state(in.State).Render(row)
}

// note is the table's last column: for a crash loop, when the next try
// comes, then why; otherwise the reason for the state.
func note(in supervisor.InstanceInfo) string {
	if in.State == supervisor.Backoff && !in.NextTry.IsZero() {
		wait := max(time.Until(in.NextTry), 0).Round(time.Second)
		return fmt.Sprintf("retry in %s · %s", wait, in.Reason)
	}
	return in.Reason
}

// stateLabel is a state as glyph and word, readable without colour.
func stateLabel(s supervisor.State) string {
	glyph := map[supervisor.State]string{
		supervisor.Starting: "◌", supervisor.Ready: "●", supervisor.Draining: "◐",
		supervisor.Stopped: "■", supervisor.Crashed: "✖", supervisor.Backoff: "↻",
		supervisor.BuildFailed: "✖",
	}[s]
	return glyph + " " + s.String()
}

func padRow(width int, cells ...string) string {
	var b strings.Builder
	for i, c := range cells {
		w := tableCols[i].width
		if w == 0 {
			b.WriteString(c)
			continue
		}
		b.WriteString(fitCell(c, w-1) + " ")
	}
	return truncate(b.String(), width)
}

func (m Model) viewLogs() string {
	title := "logs"
	if len(m.rows) > 0 {
		sel := m.rows[m.cursor]
		title = fmt.Sprintf("logs · %s/%s", sel.Service, sel.ID)
	}
	if !m.follow {
		title += fmt.Sprintf(" · scrolled back %d lines (G to follow)", m.scroll)
	}
	out := []string{m.st.colTitle(m.focus == focusLogs).Render(truncate(title, m.width))}
	for _, l := range m.lines {
		text := truncate(l.Text, m.width)
		switch l.Stream {
		case supervisor.Stderr:
			text = m.st.stderr.Render(text)
		case supervisor.System:
			text = m.st.faint.Render(text)
		}
		out = append(out, text)
	}
	for len(out) < m.logHeight()+1 {
		out = append(out, "")
	}
	return strings.Join(out, "\n")
}

func (m Model) viewStatus() string {
	ready, total := 0, 0
	for _, s := range m.services {
		for _, in := range s.Instances {
			total++
			if in.State == supervisor.Ready {
				ready++
			}
		}
	}
	keys := "j/k move · tab switch pane · g/G top/bottom · q quit"
	return m.st.status.Render(truncate(fmt.Sprintf("%d/%d ready   %s", ready, total, keys), m.width))
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
