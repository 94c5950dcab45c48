package ui

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui/buildpanel"
	"github.com/appdeck/appdeck/ui/common"
	"github.com/appdeck/appdeck/ui/helpview"
)

// area is a band of screen lines: [top, top+height).
type area struct{ top, height int }

func (a area) contains(y int) bool { return y >= a.top && y < a.top+a.height }

// regions is where each part of the screen goes.
type regions struct {
	table, build, logs, reqs area
}

// regions splits the screen between header and status bar: the table
// as tall as its rows (at most 40 %), the build panel when a build
// failed, the request pane a fifth, the log pane the rest. Zoom gives
// the focused pane everything.
func (m Model) regions() regions {
	body := max(m.height-2, 0)
	top := 1
	if m.zoom {
		if m.focus == focusRequests {
			return regions{reqs: area{top, body}}
		}
		return regions{logs: area{top, body}}
	}
	var r regions
	tableH := min(len(m.table.Rows())+2, max(body*2/5, 5))
	r.table = area{top, tableH}
	top += tableH
	if svc, ok := m.failedBuild(); ok {
		h := min(buildpanel.Height(svc), max(body/4, 4))
		r.build = area{top, h}
		top += h
	}
	reqH := max(body/5, 3)
	logsH := max(body-(top-1)-reqH, 2)
	r.logs = area{top, logsH}
	r.reqs = area{top + logsH, max(body-(top-1)-logsH, 0)}
	return r
}

// layout hands each component its size.
func (m *Model) layout() {
	r := m.regions()
	m.table.SetSize(m.width, r.table.height)
	m.logs.SetSize(m.width, r.logs.height)
	m.reqs.SetSize(m.width, r.reqs.height)
}

// View draws the screen.
func (m Model) View() string {
	if m.width == 0 {
		return "starting…"
	}
	if m.tooSmall() {
		return m.tooSmallView()
	}
	r := m.regions()
	parts := []string{m.header()}
	if r.table.height > 0 {
		parts = append(parts, m.table.View(m.focus == focusTable))
	}
	if r.build.height > 0 {
		svc, _ := m.failedBuild()
		parts = append(parts, buildpanel.View(m.ctx, svc, m.width, r.build.height))
	}
	if r.logs.height > 0 {
		parts = append(parts, m.logs.View(m.focus == focusLogs))
	}
	if r.reqs.height > 0 {
		parts = append(parts, m.reqs.View(m.focus == focusRequests))
	}
	body := strings.Join(parts, "\n")
	switch {
	case m.help:
		box, _ := helpview.View(m.ctx, m.width, m.height, m.helpOffset)
		body = common.Overlay(body, box, m.width)
	case m.confirm.Open():
		body = common.Overlay(body, m.confirm.View(m.width), m.width)
	}
	return body + "\n" + m.statusBar()
}

// tooSmall reports whether the window is below the size the layout needs.
func (m Model) tooSmall() bool { return m.width < minWidth || m.height < minHeight }

// tooSmallView replaces the dashboard while the window is too small. q
// quits from it at once, so it says what quitting stops.
func (m Model) tooSmallView() string {
	st := m.ctx.Styles
	quit := "Enlarge it, or press q to quit."
	if n := m.running(); n > 0 {
		quit = "Enlarge it, or press q to quit (stops " + common.Plural(n, "instance") + ")."
	}
	msg := st.Bold.Render("Terminal too small") + "\n\n" +
		st.Text.Render(fmt.Sprintf("The window is %d×%d; appdeck needs at least %d×%d.", m.width, m.height, minWidth, minHeight)) + "\n" +
		st.Subtle.Render(quit)
	return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, msg)
}

// header is the top line: app, front ports, admin URL.
func (m Model) header() string {
	st := m.ctx.Styles
	h := m.opts.Header
	parts := []string{st.Accent.Render("appdeck") + st.Subtle.Render(" · ") + st.Bold.Render(h.App)}
	for _, s := range m.services {
		if s.Port > 0 {
			url := "http://" + net.JoinHostPort(h.Host, strconv.Itoa(s.Port))
			parts = append(parts, st.Text.Render(s.Name)+" "+st.Subtle.Render(url))
		}
	}
	if h.Admin != "" {
		parts = append(parts, st.Text.Render("admin")+" "+st.Subtle.Render(h.Admin))
	}
	return common.Truncate(strings.Join(parts, st.Subtle.Render("  │  ")), m.width)
}

func (m Model) statusBar() string {
	ready, total := 0, 0
	var rps float64
	for _, s := range m.services {
		for _, in := range s.Instances {
			total++
			rps += in.RPS
			if in.State == supervisor.Ready {
				ready++
			}
		}
	}
	right := fmt.Sprintf("%d/%d ready · %.1f req/s · ? help", ready, total, rps)
	return m.status.View(m.width, m.mode(), m.selectionInfo(), right)
}

// selectionInfo describes the selected row for the status bar.
func (m Model) selectionInfo() string {
	svc, in, ok := m.selection()
	if !ok {
		return "no services"
	}
	scope := ""
	if m.scope != scopeInstance {
		scope = " · showing " + scopeNames[m.scope]
	}
	if in == nil {
		return fmt.Sprintf("%s · %s · %s%s", svc.Name, svc.Runtime, common.Instances(svc.Instances), scope)
	}
	s := svc.Name + "/" + in.ID + " · " + common.StateLabel(in.State)
	if in.PID > 0 {
		s += fmt.Sprintf(" · pid %d · port %d", in.PID, in.Port)
	}
	return s + scope
}
