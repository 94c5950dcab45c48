package ui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// wheelStep is how many lines a wheel notch scrolls.
const wheelStep = 3

// mouse handles clicks and the wheel (only with --mouse): a click focuses
// the pane under it and, in the table, selects the row; the wheel scrolls
// the pane under the pointer.
func (m Model) mouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	if m.help || m.confirm.Open() || m.tooSmall() {
		return m, nil
	}
	r := m.regions()
	wheel := 0
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		wheel = -wheelStep
	case tea.MouseButtonWheelDown:
		wheel = wheelStep
	case tea.MouseButtonLeft:
		if msg.Action != tea.MouseActionPress {
			return m, nil
		}
	default:
		return m, nil
	}
	switch {
	case r.table.contains(msg.Y):
		if wheel != 0 {
			m.table.Move(wheel / wheelStep)
		} else {
			m.focus = focusTable
			if i := m.table.RowAt(msg.Y - r.table.top); i >= 0 {
				m.table.Select(i)
			}
		}
		m.pointPanes()
	case r.logs.contains(msg.Y):
		if wheel != 0 {
			m.logs.Scroll(wheel)
		} else {
			m.focus = focusLogs
		}
	case r.reqs.contains(msg.Y):
		if wheel != 0 {
			m.reqs.Scroll(wheel)
		} else {
			m.focus = focusRequests
		}
	}
	m.logs.Refresh()
	m.reqs.Refresh()
	return m, nil
}

// MouseFilter coalesces wheel events to one per 15 ms, so that a fast
// wheel cannot queue work ahead of key presses (pass it to
// tea.WithFilter).
func MouseFilter() func(tea.Model, tea.Msg) tea.Msg {
	var last time.Time
	return func(_ tea.Model, msg tea.Msg) tea.Msg {
		mm, ok := msg.(tea.MouseMsg)
		if !ok || (mm.Button != tea.MouseButtonWheelUp && mm.Button != tea.MouseButtonWheelDown) {
			return msg
		}
		now := time.Now()
		if now.Sub(last) < 15*time.Millisecond {
			return nil
		}
		last = now
		return msg
	}
}
