// Package statusbar is the dashboard's bottom line: a mode pill, the
// selection, a flash message (an action's result) that fades after a few
// seconds, totals and the help hint.
package statusbar

import (
	"time"

	"github.com/appdeck/appdeck/ui/common"
)

// flashFor is how long a flash message stays.
const flashFor = 4 * time.Second

// Model is the status bar.
type Model struct {
	ctx   *common.Context
	text  string
	err   bool
	until time.Time
}

// New returns an empty status bar.
func New(ctx *common.Context) Model { return Model{ctx: ctx} }

// Flash shows text for a few seconds.
func (m *Model) Flash(text string, isErr bool) {
	m.text, m.err, m.until = text, isErr, m.ctx.Now().Add(flashFor)
}

// Flashing returns the message shown, "" when none.
func (m Model) Flashing() string {
	if m.text == "" || !m.ctx.Now().Before(m.until) {
		return ""
	}
	return m.text
}

// View draws the bar: mode, then the flash message or info, then right.
func (m Model) View(width int, mode, info, right string) string {
	st := m.ctx.Styles
	pill := st.Pill.Render(" " + mode + " ")
	rightText := st.StatusBar.Render(" " + right + " ")
	room := width - common.Width(pill) - common.Width(rightText)
	mid := st.StatusBar.Render(common.Fit(" "+info, max(room, 0)))
	if f := m.Flashing(); f != "" {
		style := st.FlashOK
		if m.err {
			style = st.FlashErr
		}
		mid = style.Render(common.Fit(" "+f, max(room, 0)))
	}
	if room < 0 {
		return common.Truncate(pill+mid, width)
	}
	return pill + mid + rightText
}

// IsErr reports whether the flash shown is an error.
func (m Model) IsErr() bool { return m.err && m.Flashing() != "" }
