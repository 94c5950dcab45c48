package common

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// KeyMap is every binding of the dashboard. Help is generated from it, so
// a binding that is not here does not exist.
type KeyMap struct {
	// Global: work in every pane.
	Help, Quit, ForceQuit, NextPane, PrevPane, Back, Theme, Scope, Zoom, Editor key.Binding
	// Actions on the selected instance or its service; global too.
	Restart, RollingRestart, StartStop, Stop, Kill, ScaleUp, ScaleDown, ScaleAuto, Rebuild, Open key.Binding
	// Movement, in whichever pane has focus.
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	// Table.
	Filter, Enter key.Binding
	// Log pane.
	Follow, Wrap, Stamps, StderrOnly, Search, NextMatch, PrevMatch, Save key.Binding
	// Dialogs.
	Yes, No key.Binding
}

func bind(help, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// DefaultKeys follows the conventions of k9s, lazygit and process-compose
// (tui-notes §5): vi movement, / to filter or search, ? for help.
func DefaultKeys() KeyMap {
	return KeyMap{
		Help:      bind("?", "help", "?"),
		Quit:      bind("q", "quit (asks while instances run)", "q"),
		ForceQuit: bind("ctrl+c", "quit now", "ctrl+c"),
		NextPane:  bind("tab", "next pane", "tab"),
		PrevPane:  bind("shift+tab", "previous pane", "shift+tab"),
		Back:      bind("esc", "close, clear filter or search, unzoom", "esc"),
		Theme:     bind("T", "next theme", "T"),
		Scope:     bind("v", "logs of: instance › service › all", "v"),
		Zoom:      bind("z", "zoom the log or request pane", "z"),
		Editor:    bind("e", "open the first build error in $EDITOR", "e"),

		Restart:        bind("r", "restart instance", "r"),
		RollingRestart: bind("R", "rolling restart of the service", "R"),
		StartStop:      bind("s", "start or stop instance", "s"),
		Stop:           bind("x", "stop instance (SIGTERM, graceful)", "x"),
		Kill:           bind("ctrl+k", "kill instance (SIGKILL, asks)", "ctrl+k"),
		ScaleUp:        bind("+", "one instance more", "+", "="),
		ScaleDown:      bind("-", "one instance less", "-"),
		ScaleAuto:      bind("a", "hand scaling back to app.yaml", "a"),
		Rebuild:        bind("b", "rebuild the service now", "b"),
		Open:           bind("o", "open the service in the browser", "o"),

		Up:       bind("↑/k", "up", "up", "k"),
		Down:     bind("↓/j", "down", "down", "j"),
		PageUp:   bind("pgup/ctrl+u", "page up", "pgup", "ctrl+u"),
		PageDown: bind("pgdn/ctrl+d", "page down", "pgdown", "ctrl+d"),
		Top:      bind("g/home", "top", "g", "home"),
		Bottom:   bind("G/end", "bottom (logs: follow)", "G", "end"),

		Filter: bind("/", "filter by service, instance, runtime, state", "/"),
		Enter:  bind("enter", "show the instance's logs", "enter"),

		Follow:     bind("f", "follow on/off", "f"),
		Wrap:       bind("w", "wrap long lines", "w"),
		Stamps:     bind("t", "timestamps", "t"),
		StderrOnly: bind("E", "stderr lines only", "E"),
		Search:     bind("/", "search", "/"),
		NextMatch:  bind("n", "next match (older)", "n"),
		PrevMatch:  bind("N", "previous match (newer)", "N"),
		Save:       bind("ctrl+s", "save the log to a file", "ctrl+s"),

		Yes: bind("y/enter", "confirm", "y", "Y", "enter"),
		No:  bind("n/esc", "cancel", "n", "N", "esc"),
	}
}

// Move applies msg when it is a movement key, the same in every pane: up
// and down step one row, the page keys page rows, top and bottom jump to
// the ends. It reports whether msg was a movement key.
func (k KeyMap) Move(msg tea.KeyMsg, page int, step func(n int), top, bottom func()) bool {
	switch {
	case key.Matches(msg, k.Up):
		step(-1)
	case key.Matches(msg, k.Down):
		step(1)
	case key.Matches(msg, k.PageUp):
		step(-page)
	case key.Matches(msg, k.PageDown):
		step(page)
	case key.Matches(msg, k.Top):
		top()
	case key.Matches(msg, k.Bottom):
		bottom()
	default:
		return false
	}
	return true
}

// Group is a titled list of bindings, a column of the help overlay.
type Group struct {
	Title    string
	Bindings []key.Binding
}

// Groups lists every binding for help, in the order it is shown.
func (k KeyMap) Groups() []Group {
	return []Group{
		{"Global", []key.Binding{k.Help, k.NextPane, k.PrevPane, k.Back, k.Scope, k.Zoom, k.Theme, k.Editor, k.Quit, k.ForceQuit}},
		{"Actions (selected instance or service)", []key.Binding{k.Restart, k.RollingRestart, k.StartStop, k.Stop, k.Kill, k.ScaleUp, k.ScaleDown, k.ScaleAuto, k.Rebuild, k.Open}},
		{"Move (every pane)", []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}},
		{"Instance table", []key.Binding{k.Filter, k.Enter}},
		{"Log pane", []key.Binding{k.Follow, k.Wrap, k.Stamps, k.StderrOnly, k.Search, k.NextMatch, k.PrevMatch, k.Save}},
		{"Dialogs", []key.Binding{k.Yes, k.No}},
	}
}

// Pane names a pane for PaneBindings.
type Pane int

// Panes.
const (
	TablePane Pane = iota
	LogPane
	RequestPane
)

// PaneBindings returns every binding live while pane has focus (and no
// dialog is open): the global ones, the actions, movement and the pane's
// own.
func (k KeyMap) PaneBindings(p Pane) []key.Binding {
	g := k.Groups()
	out := append(append(append([]key.Binding{}, g[0].Bindings...), g[1].Bindings...), g[2].Bindings...)
	switch p {
	case TablePane:
		out = append(out, g[3].Bindings...)
	case LogPane:
		out = append(out, g[4].Bindings...)
	}
	return out
}
