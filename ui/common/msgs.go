package common

import tea "github.com/charmbracelet/bubbletea"

// FlashMsg asks the status bar to show a short message for a few seconds:
// an action's result, a search that found nothing, a saved file.
type FlashMsg struct {
	Text string
	Err  bool
}

// Flash returns a command that flashes text.
func Flash(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return FlashMsg{Text: text, Err: isErr} }
}
