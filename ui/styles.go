package ui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/appdeck/appdeck/supervisor"
)

// styles are built once from a renderer, never in View.
type styles struct {
	title, faint, selected, stderr, status lipgloss.Style
	titleFocused, titleBlurred             lipgloss.Style
	states                                 map[supervisor.State]lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	ns := r.NewStyle
	return styles{
		title:        ns().Bold(true),
		faint:        ns().Faint(true),
		selected:     ns().Reverse(true),
		stderr:       ns().Foreground(lipgloss.Color("1")),
		status:       ns().Faint(true),
		titleFocused: ns().Bold(true).Underline(true),
		titleBlurred: ns().Faint(true),
		states: map[supervisor.State]lipgloss.Style{
			supervisor.Ready:       ns().Foreground(lipgloss.Color("2")),
			supervisor.Starting:    ns().Foreground(lipgloss.Color("3")),
			supervisor.Draining:    ns().Foreground(lipgloss.Color("3")),
			supervisor.Crashed:     ns().Foreground(lipgloss.Color("1")),
			supervisor.Backoff:     ns().Foreground(lipgloss.Color("1")),
			supervisor.BuildFailed: ns().Foreground(lipgloss.Color("1")).Bold(true),
			supervisor.Stopped:     ns().Faint(true),
		},
	}
}

func (s styles) colTitle(focused bool) lipgloss.Style {
	if focused {
		return s.titleFocused
	}
	return s.titleBlurred
}

func (s styles) state(st supervisor.State) lipgloss.Style { return s.states[st] }

// truncate cuts s, which may hold colour sequences, to width cells.
func truncate(s string, width int) string { return ansi.Truncate(s, width, "…") }

// fitCell cuts or pads plain text to exactly width cells.
func fitCell(s string, width int) string {
	s = ansi.Truncate(s, width, "…")
	if pad := width - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}
