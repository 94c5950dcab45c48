package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui/common"
	"github.com/appdeck/appdeck/ui/helpview"
)

// presses handles each key of msg. A terminal read can hold several
// typed letters (key repeat, a busy machine, SSH), which Bubble Tea v1
// delivers as one message; no binding matches "jjj", so each letter is
// handled as the press it was. A paste stays one message: it is text.
func (m Model) presses(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if msg.Type != tea.KeyRunes || msg.Paste || len(msg.Runes) < 2 {
		return m.key(msg)
	}
	var cmds []tea.Cmd
	for _, r := range msg.Runes {
		next, cmd := m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
		m, cmds = next.(Model), append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// key routes a key: dialogs and text inputs first, then global keys and
// actions, then the focused pane.
func (m Model) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := m.ctx.Keys
	if key.Matches(msg, k.ForceQuit) {
		return m, tea.Quit
	}
	if m.tooSmall() {
		// The screen only asks to enlarge the window or press q: any
		// other key would act on panes and dialogs no one can see, and
		// a dialog q opened would wait there unseen. So q quits at once.
		if key.Matches(msg, k.Quit) {
			return m, tea.Quit
		}
		return m, nil
	}
	if m.confirm.Open() {
		var cmd tea.Cmd
		m.confirm, cmd = m.confirm.Update(msg)
		return m, cmd
	}
	if m.help {
		m.helpKey(msg)
		return m, nil
	}
	if m.table.Filtering() {
		var cmd tea.Cmd
		m.table, cmd, _ = m.table.Update(msg)
		m.pointPanes()
		m.logs.Refresh()
		m.reqs.Refresh()
		return m, cmd
	}
	if m.logs.Typing() {
		var cmd tea.Cmd
		m.logs, cmd, _ = m.logs.Update(msg)
		return m, cmd
	}
	if cmd, ok := m.globalKey(msg); ok {
		return m, cmd
	}
	if cmd, ok := m.actionKey(msg); ok {
		return m, cmd
	}
	return m.paneKey(msg)
}

func (m *Model) globalKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Help):
		m.help = true
	case key.Matches(msg, k.Quit):
		return m.quit(), true
	case key.Matches(msg, k.NextPane):
		m.setFocus((m.focus + 1) % numFocus)
	case key.Matches(msg, k.PrevPane):
		m.setFocus((m.focus + numFocus - 1) % numFocus)
	case key.Matches(msg, k.Theme):
		return m.nextTheme(), true
	case key.Matches(msg, k.Scope):
		m.scope = (m.scope + 1) % scope(len(scopeNames))
		m.pointPanes()
		m.logs.Refresh()
		m.reqs.Refresh()
		m.status.Flash("logs and requests of: "+scopeNames[m.scope], false)
	case key.Matches(msg, k.Zoom):
		m.zoom = !m.zoom
		if m.zoom && m.focus == focusTable {
			m.focus = focusLogs
		}
		m.layout()
		m.logs.Refresh()
	case key.Matches(msg, k.Editor):
		return m.openEditor(), true
	default:
		return nil, false
	}
	return nil, true
}

// helpKey closes or scrolls the help overlay; other keys do nothing
// while it is open.
func (m *Model) helpKey(msg tea.KeyMsg) {
	k := m.ctx.Keys
	_, maxOffset := helpview.View(m.ctx, m.width, m.height, 0)
	switch {
	case key.Matches(msg, k.Help, k.Back, k.Quit):
		m.help, m.helpOffset = false, 0
	case key.Matches(msg, k.Up):
		m.helpOffset--
	case key.Matches(msg, k.Down):
		m.helpOffset++
	case key.Matches(msg, k.PageUp, k.Top):
		m.helpOffset = 0
	case key.Matches(msg, k.PageDown, k.Bottom):
		m.helpOffset = maxOffset
	}
	m.helpOffset = max(min(m.helpOffset, maxOffset), 0)
}

func (m *Model) setFocus(f focus) {
	m.focus = f
	if m.zoom && f == focusTable {
		m.zoom = false
	}
	m.layout()
	m.logs.Refresh()
}

// quit asks first while instances run: quitting stops them.
func (m *Model) quit() tea.Cmd {
	if n := m.running(); n > 0 {
		m.confirm.Ask("Quit appdeck? This stops "+common.Plural(n, "running instance")+".", tea.Quit, nil)
		return nil
	}
	return tea.Quit
}

func (m *Model) nextTheme() tea.Cmd {
	if m.opts.NoColor {
		return common.Flash("colours are off (NO_COLOR or --no-color): no theme to switch to", true)
	}
	m.theme = (m.theme + 1) % len(m.opts.Themes)
	t := m.opts.Themes[m.theme]
	m.ctx.SetTheme(t)
	m.logs.Refresh()
	return common.Flash("theme: "+t.Name, false)
}

// paneKey gives the key to the focused pane; esc left over unzooms.
func (m Model) paneKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	handled := false
	switch m.focus {
	case focusTable:
		if key.Matches(msg, m.ctx.Keys.Enter) {
			m.setFocus(focusLogs)
			return m, nil
		}
		m.table, cmd, handled = m.table.Update(msg)
		if handled {
			m.pointPanes()
			m.logs.Refresh()
			m.reqs.Refresh()
		}
	case focusLogs:
		m.logs, cmd, handled = m.logs.Update(msg)
	case focusRequests:
		m.reqs, cmd, handled = m.reqs.Update(msg)
	}
	if !handled && key.Matches(msg, m.ctx.Keys.Back) && m.zoom {
		m.zoom = false
		m.layout()
		m.logs.Refresh()
	}
	return m, cmd
}

// mode names what the keyboard drives now, for the status bar.
func (m Model) mode() string {
	switch {
	case m.confirm.Open():
		return "CONFIRM"
	case m.help:
		return "HELP"
	case m.table.Filtering():
		return "FILTER"
	case m.logs.Typing():
		return "SEARCH"
	}
	return [...]string{"TABLE", "LOGS", "REQUESTS"}[m.focus]
}

// selection returns the selected service and instance (nil on a service
// row); ok is false when nothing is selected.
func (m Model) selection() (*supervisor.ServiceInfo, *supervisor.InstanceInfo, bool) {
	row, ok := m.table.Selected()
	if !ok {
		return nil, nil, false
	}
	return row.Service, row.Instance, true
}
