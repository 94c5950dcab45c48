// Package themes holds the dashboard's colour themes: a theme is a set of
// semantic colour tokens (text, ok, error, selection, …) that the UI turns
// into styles once, never per frame. Built-in themes are embedded YAML
// files; users may give their own file in the same format.
package themes

import (
	"github.com/charmbracelet/lipgloss"
)

// Tokens are the colour names a theme defines, in the order files list them.
var Tokens = []string{
	"text",         // ordinary text
	"subtle",       // secondary text: column titles, hints
	"accent",       // the app name, the focused pane's title
	"border",       // rules of panes without focus
	"border_focus", // the rule of the pane with focus
	"selection_fg", // the selected table row
	"selection_bg",
	"ok",    // ready instances, 2xx responses, successful actions
	"warn",  // starting, draining, backoff; 4xx responses
	"error", // crashed, build failed, stderr lines, 5xx responses, failed actions
	"info",  // appdeck's own log lines, 3xx responses
	"muted", // stopped instances
	"status_fg",
	"status_bg",
	"match_fg", // search matches in the log pane
	"match_bg",
	"location", // file:line:col in build output
	"prefix_1", // prefixes of merged log lines, one colour per source
	"prefix_2",
	"prefix_3",
	"prefix_4",
	"prefix_5",
	"prefix_6",
}

// Theme is a complete set of colours: every token has one (possibly
// lipgloss.NoColor).
type Theme struct {
	Name string
	// Mono themes have no colour at all; the UI then marks state and
	// emphasis with symbols, bold and reverse video.
	Mono   bool
	colors map[string]lipgloss.TerminalColor
}

// Color returns the token's colour; unknown tokens have none.
func (t Theme) Color(token string) lipgloss.TerminalColor {
	if c, ok := t.colors[token]; ok {
		return c
	}
	return lipgloss.NoColor{}
}

// Prefixes returns the colours of merged log prefixes.
func (t Theme) Prefixes() []lipgloss.TerminalColor {
	var out []lipgloss.TerminalColor
	for _, tok := range Tokens {
		if len(tok) > 7 && tok[:7] == "prefix_" {
			out = append(out, t.Color(tok))
		}
	}
	return out
}
