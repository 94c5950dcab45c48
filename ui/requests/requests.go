// Package requests is the dashboard's request pane: the last requests of
// the selected instance, service, or of every service, newest at the
// bottom, with status codes coloured by class.
package requests

import (
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui/common"
)

// keep is how many requests of the selection the pane holds for
// scrolling back.
const keep = 1000

// Model is the request pane.
type Model struct {
	ctx   *common.Context
	w, h  int
	ring  *supervisor.Ring[supervisor.Request]
	key   string
	title string
	match func(supervisor.Request) bool
	items []supervisor.Request // the selection's newest requests, oldest first
	next  uint64               // the first request not looked at yet
	back  int                  // rows scrolled back from the newest
}

// New returns a pane over ring (nil shows nothing).
func New(ctx *common.Context, ring *supervisor.Ring[supervisor.Request]) Model {
	return Model{ctx: ctx, ring: ring, next: 1, match: func(supervisor.Request) bool { return true }}
}

// SetSize sets the size, title line included.
func (m *Model) SetSize(w, h int) { m.w, m.h = w, h }

// SetScope chooses the requests shown: service "" is every service,
// instance "" every instance of the service.
func (m *Model) SetScope(service, instance, title string) {
	key := service + "/" + instance
	m.title = title
	if key == m.key {
		return
	}
	m.key, m.items, m.next, m.back = key, nil, 1, 0
	m.match = func(r supervisor.Request) bool {
		return (service == "" || r.Service == service) && (instance == "" || r.Instance == instance)
	}
}

// Refresh takes in the requests recorded since the last frame.
func (m *Model) Refresh() {
	if m.ring == nil {
		return
	}
	for {
		batch := m.ring.Since(m.next, 4096)
		if len(batch) == 0 {
			break
		}
		for _, r := range batch {
			if m.match(r) {
				m.items = append(m.items, r)
			}
		}
		m.next = batch[len(batch)-1].Seq + 1
	}
	if over := len(m.items) - keep; over > 0 {
		m.items = append(m.items[:0:0], m.items[over:]...)
	}
	m.back = min(m.back, max(len(m.items)-m.bodyHeight(), 0))
}

// Items returns the requests held, for tests.
func (m Model) Items() []supervisor.Request { return m.items }

func (m Model) bodyHeight() int { return max(m.h-1, 0) }

// Update handles movement keys while the pane has focus.
func (m Model) Update(msg tea.KeyMsg) (Model, tea.Cmd, bool) {
	ok := m.ctx.Keys.Move(msg, max(m.bodyHeight()-1, 1), m.Scroll,
		func() { m.Scroll(-len(m.items)) }, func() { m.back = 0 })
	return m, nil, ok
}

// Scroll moves n rows, up when negative.
func (m *Model) Scroll(n int) {
	m.back = max(min(m.back-n, len(m.items)-m.bodyHeight()), 0)
}

// View draws the title and the newest requests that fit.
func (m Model) View(focused bool) string {
	st := m.ctx.Styles
	extra := fmt.Sprintf("%d held", len(m.items))
	if m.back > 0 {
		extra = fmt.Sprintf("scrolled back %d · G newest", m.back)
	}
	lines := []string{common.PaneTitle(st, m.title, extra, m.w, focused)}
	body := m.bodyHeight()
	end := len(m.items) - m.back
	start := max(end-body, 0)
	if len(m.items) == 0 && body > 0 {
		lines = append(lines, st.Subtle.Render("  no requests yet"))
	}
	for _, r := range m.items[start:end] {
		lines = append(lines, m.row(r))
	}
	for len(lines) < m.h {
		lines = append(lines, "")
	}
	return strings.Join(lines[:m.h], "\n")
}

// row is one request: time, status, method, latency, instance, path and
// the matched handler or dispatch rule.
func (m Model) row(r supervisor.Request) string {
	st := m.ctx.Styles
	inst := r.Service + "/" + r.Instance
	if r.Instance == "" {
		inst = r.Service + " (none)"
	}
	route := r.Route
	if route == "" {
		route = "*"
	}
	left := st.Subtle.Render(r.Start.In(m.ctx.Loc).Format("15:04:05.000")) + " " +
		st.HTTPStatus(r.Status).Render(strconv.Itoa(r.Status)) + " " +
		st.Text.Render(common.Fit(r.Method, 7)+common.FitRight(common.Latency(r.Latency), 8)+"  "+common.Fit(inst, 14)) + " "
	rest := m.w - common.Width(left)
	routeW := min(max(rest/3, 8), 30)
	pathW := max(rest-routeW-1, 0)
	return left + st.Text.Render(common.Fit(r.Path, pathW)) + " " + st.Subtle.Render(common.Truncate("→ "+route, routeW))
}
