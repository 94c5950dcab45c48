package common

import (
	"github.com/charmbracelet/lipgloss"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/themes"
)

// Styles are every style the dashboard draws with, built once per theme.
type Styles struct {
	Mono bool

	Text, Subtle, Accent, Bold lipgloss.Style
	// Pane rules: the focused pane's title line is drawn heavier, so
	// focus shows without colour too.
	Rule, RuleFocus, Title, TitleFocus lipgloss.Style
	Selected                           lipgloss.Style
	States                             map[supervisor.State]lipgloss.Style
	ServiceRow                         lipgloss.Style

	Stderr, System lipgloss.Style
	Prefixes       []lipgloss.Style
	Match, Current lipgloss.Style
	Location       lipgloss.Style

	StatusBar, Pill, FlashOK, FlashErr lipgloss.Style
	// HTTP colours a status code by class; index 0 is for 1xx and
	// anything unknown.
	HTTP [6]lipgloss.Style

	Box, Key lipgloss.Style
}

// NewStyles turns a theme's tokens into styles.
func NewStyles(r *lipgloss.Renderer, t themes.Theme) *Styles {
	ns := r.NewStyle
	fg := func(tok string) lipgloss.Style { return ns().Foreground(t.Color(tok)) }
	s := &Styles{
		Mono:       t.Mono,
		Text:       fg("text"),
		Subtle:     fg("subtle"),
		Accent:     fg("accent").Bold(true),
		Bold:       fg("text").Bold(true),
		Rule:       fg("border"),
		RuleFocus:  fg("border_focus"),
		Title:      fg("subtle"),
		TitleFocus: fg("accent").Bold(true),
		ServiceRow: fg("text").Bold(true),
		Stderr:     fg("error"),
		System:     fg("info"),
		Location:   fg("location").Underline(true),
		StatusBar:  ns().Foreground(t.Color("status_fg")).Background(t.Color("status_bg")),
		Pill:       ns().Foreground(t.Color("selection_fg")).Background(t.Color("selection_bg")).Bold(true),
		FlashOK:    fg("ok").Background(t.Color("status_bg")).Bold(true),
		FlashErr:   fg("error").Background(t.Color("status_bg")).Bold(true),
		Box:        ns().Border(lipgloss.RoundedBorder()).BorderForeground(t.Color("border_focus")).Padding(0, 1),
		Key:        fg("accent").Bold(true),
		States: map[supervisor.State]lipgloss.Style{
			supervisor.Ready:       fg("ok"),
			supervisor.Starting:    fg("warn"),
			supervisor.Draining:    fg("warn"),
			supervisor.Backoff:     fg("warn"),
			supervisor.Crashed:     fg("error").Bold(true),
			supervisor.BuildFailed: fg("error").Bold(true),
			supervisor.Stopped:     fg("muted"),
		},
		HTTP: [6]lipgloss.Style{fg("subtle"), fg("subtle"), fg("ok"), fg("info"), fg("warn"), fg("error").Bold(true)},
	}
	for _, c := range t.Prefixes() {
		s.Prefixes = append(s.Prefixes, ns().Foreground(c))
	}
	if t.Mono {
		// Without colour, reverse video and weight carry what hue would.
		s.Selected = ns().Reverse(true)
		s.Pill = ns().Reverse(true).Bold(true)
		s.StatusBar = ns()
		s.Match = ns().Reverse(true)
		s.Current = ns().Reverse(true).Bold(true).Underline(true)
		s.States[supervisor.Stopped] = ns().Faint(true)
		s.Subtle = ns().Faint(true)
		s.Title = ns().Faint(true)
		s.System = ns().Faint(true)
	} else {
		s.Selected = ns().Foreground(t.Color("selection_fg")).Background(t.Color("selection_bg")).Bold(true)
		s.Match = ns().Foreground(t.Color("match_fg")).Background(t.Color("match_bg"))
		s.Current = s.Match.Bold(true).Underline(true)
	}
	return s
}

// State returns the style of an instance state.
func (s *Styles) State(st supervisor.State) lipgloss.Style { return s.States[st] }

// Prefix returns the colour of the i-th source of a merged log.
func (s *Styles) Prefix(i int) lipgloss.Style {
	if len(s.Prefixes) == 0 {
		return lipgloss.Style{}
	}
	return s.Prefixes[i%len(s.Prefixes)]
}

// HTTPStatus returns the style of a status code.
func (s *Styles) HTTPStatus(code int) lipgloss.Style {
	c := code / 100
	if c < 1 || c > 5 {
		c = 0
	}
	return s.HTTP[c]
}
