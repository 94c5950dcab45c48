// Package instancetable is the dashboard's instance table: one row per
// service (runtime, scaling, instance count, build state) followed by a
// row per instance, a cursor over both, and a `/` filter.
package instancetable

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui/common"
)

// Row is one line of the table: a service, or one of its instances.
type Row struct {
	Service  *supervisor.ServiceInfo
	Instance *supervisor.InstanceInfo // nil on a service row
}

// Key names the row stably across refreshes: "svc" or "svc/id".
func (r Row) Key() string {
	if r.Instance == nil {
		return r.Service.Name
	}
	return r.Service.Name + "/" + r.Instance.ID
}

// Model is the table.
type Model struct {
	ctx       *common.Context
	w, h      int
	services  []supervisor.ServiceInfo
	rows      []Row
	cursor    int
	offset    int    // first row drawn
	selected  string // Key of the selected row, kept across refreshes
	filter    string
	input     textinput.Model
	filtering bool
	// touched is set once the user moves the cursor; until then the
	// selection goes to the first instance as soon as there is one.
	touched bool
}

// New returns an empty table.
func New(ctx *common.Context) Model {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "service, instance or state"
	return Model{ctx: ctx, input: in}
}

// SetSize sets the table's size, its title line included.
func (m *Model) SetSize(w, h int) { m.w, m.h = w, h; m.clampOffset() }

// SetServices replaces the data, keeping the selection on the same row.
func (m *Model) SetServices(s []supervisor.ServiceInfo) {
	m.services = s
	m.rebuild()
}

// Filtering reports whether the filter input has the keyboard.
func (m Model) Filtering() bool { return m.filtering }

// Filter returns the applied filter.
func (m Model) Filter() string { return m.filter }

// Rows returns the rows shown, after filtering.
func (m Model) Rows() []Row { return m.rows }

// Selected returns the selected row; ok is false when the table is empty.
func (m Model) Selected() (Row, bool) {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return Row{}, false
	}
	return m.rows[m.cursor], true
}

// Select moves the cursor to the i-th row shown (for mouse clicks).
func (m *Model) Select(i int) {
	if i >= 0 && i < len(m.rows) {
		m.touched = true
		m.cursor = i
		m.selected = m.rows[i].Key()
		m.clampOffset()
	}
}

// RowAt returns the index of the row drawn on line y of the table's
// area (0 is the title, 1 the column names), or -1.
func (m Model) RowAt(y int) int {
	i := m.offset + y - 2
	if y < 2 || i >= len(m.rows) {
		return -1
	}
	return i
}

// Move moves the cursor by n rows.
func (m *Model) Move(n int) { m.Select(max(min(m.cursor+n, len(m.rows)-1), 0)) }

func (m *Model) rebuild() {
	q := strings.ToLower(m.filter)
	m.rows = m.rows[:0]
	for i := range m.services {
		svc := &m.services[i]
		svcMatch := q == "" || matches(q, svc.Name, svc.Runtime, svc.Scaling)
		var inst []Row
		for j := range svc.Instances {
			in := &svc.Instances[j]
			if svcMatch || matches(q, in.ID, svc.Name+"/"+in.ID, in.State.String()) {
				inst = append(inst, Row{Service: svc, Instance: in})
			}
		}
		if svcMatch || len(inst) > 0 {
			m.rows = append(m.rows, Row{Service: svc})
			m.rows = append(m.rows, inst...)
		}
	}
	sel := m.selected
	if !m.touched {
		sel = ""
	}
	m.cursor = m.find(sel)
	if len(m.rows) > 0 {
		m.selected = m.rows[m.cursor].Key()
	}
	m.clampOffset()
}

// find returns the row with key, else its service's row, else the row
// where the cursor was.
func (m Model) find(key string) int {
	svc, _, _ := strings.Cut(key, "/")
	fallback := -1
	for i, r := range m.rows {
		switch r.Key() {
		case key:
			return i
		case svc:
			fallback = i
		}
	}
	if fallback >= 0 {
		return fallback
	}
	if key == "" {
		for i, r := range m.rows {
			if r.Instance != nil {
				return i // start on the first instance
			}
		}
	}
	return max(min(m.cursor, len(m.rows)-1), 0)
}

func matches(q string, fields ...string) bool {
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

func (m *Model) clampOffset() {
	body := max(m.h-2, 1)
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+body {
		m.offset = m.cursor - body + 1
	}
	m.offset = max(min(m.offset, len(m.rows)-body), 0)
}

// Update handles a key while the table has focus. It reports whether the
// key was the table's.
func (m Model) Update(msg tea.KeyMsg) (Model, tea.Cmd, bool) {
	k := m.ctx.Keys
	if m.filtering {
		switch msg.Type {
		case tea.KeyEnter:
			m.filtering = false
			m.input.Blur()
			return m, nil, true
		case tea.KeyEsc:
			m.filtering = false
			m.input.Blur()
			m.clearFilter()
			return m, nil, true
		}
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		m.filter = m.input.Value()
		m.rebuild()
		return m, cmd, true
	}
	if k.Move(msg, max(m.h-2, 1), m.Move, func() { m.Select(0) }, func() { m.Select(len(m.rows) - 1) }) {
		return m, nil, true
	}
	switch {
	case key.Matches(msg, k.Filter):
		m.filtering = true
		return m, m.input.Focus(), true
	case key.Matches(msg, k.Back) && m.filter != "":
		m.clearFilter()
	default:
		return m, nil, false
	}
	return m, nil, true
}

// clearFilter shows every row again, keeping the selection: the row the
// filter left selected is the one the user is looking at, even if they
// never moved the cursor.
func (m *Model) clearFilter() {
	m.filter = ""
	m.input.SetValue("")
	m.touched = m.touched || len(m.rows) > 0
	m.rebuild()
}

// column is one column of instance rows. Columns are dropped from the
// right-hand priority end when the terminal is narrow.
type column struct {
	title    string
	width    int
	right    bool
	priority int // lower stays longer
	cell     func(m *Model, in *supervisor.InstanceInfo) string
}

var columns = []column{
	{"INSTANCE", 10, false, 0, func(_ *Model, in *supervisor.InstanceInfo) string { return "  " + in.ID }},
	{"STATE", 14, false, 0, func(_ *Model, in *supervisor.InstanceInfo) string { return common.StateLabel(in.State) }},
	{"PID", 7, true, 1, func(_ *Model, in *supervisor.InstanceInfo) string { return orDash(in.PID) }},
	{"PORT", 6, true, 5, func(_ *Model, in *supervisor.InstanceInfo) string { return orDash(in.Port) }},
	{"LOAD", 7, true, 2, func(_ *Model, in *supervisor.InstanceInfo) string {
		return fmt.Sprintf("%d/%d", in.InFlight, in.Capacity)
	}},
	{"REQ/S", 7, true, 2, func(_ *Model, in *supervisor.InstanceInfo) string { return rate(in.RPS) }},
	{"P50", 8, true, 3, func(_ *Model, in *supervisor.InstanceInfo) string { return common.Latency(in.P50) }},
	{"CPU", 7, true, 3, func(_ *Model, in *supervisor.InstanceInfo) string { return percent(in) }},
	{"RSS", 7, true, 4, func(_ *Model, in *supervisor.InstanceInfo) string { return common.Bytes(in.RSS) }},
	{"RESTARTS", 9, true, 4, func(_ *Model, in *supervisor.InstanceInfo) string { return strconv.Itoa(in.Restarts) }},
	{"UPTIME", 8, true, 1, func(m *Model, in *supervisor.InstanceInfo) string {
		if in.PID == 0 || in.StartedAt.IsZero() {
			return "-"
		}
		return common.Duration(m.ctx.Now().Sub(in.StartedAt))
	}},
}

// minNote is the room the last column (last error or note) keeps.
const minNote = 18

// visibleColumns drops columns by priority until the rest fit.
func (m Model) visibleColumns() []column {
	for maxPrio := 5; maxPrio > 0; maxPrio-- {
		var cols []column
		used := 2 // cursor gutter
		for _, c := range columns {
			if c.priority <= maxPrio {
				cols = append(cols, c)
				used += c.width + 1
			}
		}
		if used+minNote <= m.w {
			return cols
		}
	}
	return columns[:2]
}

func orDash(n int) string {
	if n <= 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func rate(r float64) string {
	switch {
	case r <= 0:
		return "0"
	case r < 10:
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return strconv.FormatFloat(r, 'f', 0, 64)
}

func percent(in *supervisor.InstanceInfo) string {
	if in.PID == 0 {
		return "-"
	}
	return strconv.FormatFloat(in.CPU, 'f', 1, 64) + "%"
}

// note is the last column: the last error, the time of the next try for a
// crash loop, or why the instance is in its state.
func (m Model) note(in *supervisor.InstanceInfo) string {
	var parts []string
	if in.State == supervisor.Backoff && !in.NextTry.IsZero() {
		wait := max(in.NextTry.Sub(m.ctx.Now()), 0).Round(time.Second)
		parts = append(parts, fmt.Sprintf("next try %s (in %s)", in.NextTry.In(m.ctx.Loc).Format("15:04:05"), wait))
	}
	if in.LastError != "" {
		parts = append(parts, in.LastError)
	} else if in.Reason != "" {
		parts = append(parts, in.Reason)
	}
	return strings.Join(parts, " · ")
}

// View draws the title line and the rows that fit.
func (m Model) View(focused bool) string {
	st := m.ctx.Styles
	cols := m.visibleColumns()
	var lines []string
	if m.filtering {
		lines = append(lines, common.Fit(m.input.View(), m.w))
	} else {
		extra := common.Plural(len(m.services), "service")
		if m.filter != "" {
			extra = "filter: " + m.filter + " (esc clears)"
		}
		lines = append(lines, common.PaneTitle(st, "instances", extra, m.w, focused))
	}
	var b strings.Builder
	b.WriteString("  ")
	for _, c := range cols {
		b.WriteString(cell(c.title, c.width, c.right) + " ")
	}
	b.WriteString("LAST ERROR / NOTE")
	lines = append(lines, st.Subtle.Render(common.Fit(b.String(), m.w)))
	body := max(m.h-2, 0)
	if len(m.rows) == 0 {
		msg := "no services"
		if m.filter != "" {
			msg = "nothing matches the filter " + strconv.Quote(m.filter)
		}
		lines = append(lines, st.Subtle.Render("  "+msg))
	}
	for i := m.offset; i < len(m.rows) && i < m.offset+body; i++ {
		lines = append(lines, m.viewRow(i, cols))
	}
	for len(lines) < m.h {
		lines = append(lines, "")
	}
	return strings.Join(lines[:m.h], "\n")
}

func cell(s string, w int, right bool) string {
	if right {
		return common.FitRight(s, w)
	}
	return common.Fit(s, w)
}

func (m Model) viewRow(i int, cols []column) string {
	st := m.ctx.Styles
	r := m.rows[i]
	gutter := "  "
	if i == m.cursor {
		gutter = "› "
	}
	if r.Instance == nil {
		text := common.Fit(gutter+m.serviceLine(r.Service), m.w)
		if i == m.cursor {
			return st.Selected.Render(text)
		}
		return st.ServiceRow.Render(text)
	}
	in := r.Instance
	var b strings.Builder
	for _, c := range cols {
		b.WriteString(cell(c.cell(&m, in), c.width, c.right) + " ")
	}
	used := 2 + common.Width(b.String())
	note := common.Fit(m.note(in), max(m.w-used, 0))
	if i == m.cursor {
		return st.Selected.Render(gutter + b.String() + note)
	}
	// Colour the state cell (and a crash's note); the rest stays plain.
	stateStyle := st.State(in.State)
	first := cell(cols[0].cell(&m, in), cols[0].width, false) + " "
	state := cell(cols[1].cell(&m, in), cols[1].width, false) + " "
	rest := strings.TrimPrefix(b.String(), first+state)
	if in.State == supervisor.Crashed || in.State == supervisor.Backoff || in.State == supervisor.BuildFailed || in.LastError != "" {
		note = st.Stderr.Render(note)
	}
	return gutter + st.Text.Render(first) + stateStyle.Render(state) + st.Text.Render(rest) + note
}

// serviceLine is a service row: name, runtime, scaling, instance count,
// port and build state.
func (m Model) serviceLine(s *supervisor.ServiceInfo) string {
	scaling := s.Scaling + " scaling"
	if s.Pinned {
		scaling += ", pinned by hand (a: back to auto)"
	}
	parts := []string{s.Name, s.Runtime, scaling, common.Instances(s.Instances)}
	if s.Port > 0 {
		parts = append(parts, ":"+strconv.Itoa(s.Port))
	}
	switch {
	case s.Building:
		parts = append(parts, "⚙ building…")
	case s.BuildErr != "":
		parts = append(parts, "✖ BUILD FAILED (see the build panel; e opens the error)")
	}
	return "▾ " + strings.Join(parts, " · ")
}
