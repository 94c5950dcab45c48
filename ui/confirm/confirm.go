// Package confirm is the yes/no dialog in front of destructive actions:
// kill, and quitting while instances run. It names its target.
package confirm

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/appdeck/appdeck/ui/common"
)

// Model is the dialog; the zero value is closed.
type Model struct {
	ctx    *common.Context
	prompt string
	onYes  tea.Cmd
	onNo   tea.Cmd
	open   bool
}

// New returns a closed dialog.
func New(ctx *common.Context) Model { return Model{ctx: ctx} }

// Ask opens the dialog; yes runs onYes, no runs onNo (either may be
// nil). Whatever the action shows as it starts belongs in onYes: the
// question is not the action.
func (m *Model) Ask(prompt string, onYes, onNo tea.Cmd) {
	m.prompt, m.onYes, m.onNo, m.open = prompt, onYes, onNo, true
}

// Open reports whether the dialog is shown.
func (m Model) Open() bool { return m.open }

// Prompt returns the question asked.
func (m Model) Prompt() string { return m.prompt }

// Update takes every key while the dialog is open: yes runs the action,
// no or esc runs onNo and closes; anything else is ignored.
func (m Model) Update(msg tea.KeyMsg) (Model, tea.Cmd) {
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Yes):
		m.open = false
		return m, m.onYes
	case key.Matches(msg, k.No):
		m.open = false
		return m, m.onNo
	}
	return m, nil
}

// View draws the dialog box.
func (m Model) View(width int) string {
	st := m.ctx.Styles
	text := st.Bold.Render(m.prompt) + "\n\n" + st.Key.Render("y") + st.Text.Render(" yes    ") + st.Key.Render("n") + st.Text.Render(" no")
	return common.TruncateLines(st.Box.Width(min(max(common.Width(m.prompt)+4, 30), width-4)).Render(text), width)
}
