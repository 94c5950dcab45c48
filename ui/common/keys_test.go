package common

import (
	"fmt"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// TestNoKeyDoesTwoThingsInOnePane checks every pane's live bindings, and
// the dialogs', for a key bound twice.
func TestNoKeyDoesTwoThingsInOnePane(t *testing.T) {
	k := DefaultKeys()
	scopes := map[string][]key.Binding{
		"table":    k.PaneBindings(TablePane),
		"logs":     k.PaneBindings(LogPane),
		"requests": k.PaneBindings(RequestPane),
		"dialog":   {k.Yes, k.No},
	}
	for name, bindings := range scopes {
		seen := map[string]string{}
		for _, b := range bindings {
			for _, s := range b.Keys() {
				if prev, ok := seen[s]; ok {
					t.Errorf("%s pane: %q is both %q and %q", name, s, prev, b.Help().Desc)
				}
				seen[s] = b.Help().Desc
			}
		}
	}
}

// TestEveryBindingIsInHelp checks that the help groups hold every
// binding of the key map, each with a key and a description.
func TestEveryBindingIsInHelp(t *testing.T) {
	k := DefaultKeys()
	inHelp := map[string]bool{}
	for _, g := range k.Groups() {
		for _, b := range g.Bindings {
			if b.Help().Key == "" || b.Help().Desc == "" {
				t.Errorf("binding %v has no help", b.Keys())
			}
			inHelp[b.Help().Desc] = true
		}
	}
	all := []key.Binding{k.Help, k.Quit, k.ForceQuit, k.NextPane, k.PrevPane, k.Back, k.Theme, k.Scope, k.Zoom, k.Editor,
		k.Restart, k.RollingRestart, k.StartStop, k.Stop, k.Kill, k.ScaleUp, k.ScaleDown, k.Rebuild, k.Open,
		k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Filter, k.Enter,
		k.Follow, k.Wrap, k.Stamps, k.StderrOnly, k.Search, k.NextMatch, k.PrevMatch, k.Save, k.Yes, k.No}
	for _, b := range all {
		if !inHelp[b.Help().Desc] {
			t.Errorf("%v (%s) is missing from help", b.Keys(), b.Help().Desc)
		}
	}
}

func TestMoveKeys(t *testing.T) {
	k := DefaultKeys()
	for _, c := range []struct {
		msg  tea.KeyMsg
		want string
	}{
		{tea.KeyMsg{Type: tea.KeyUp}, "step -1"},
		{tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("j")}, "step 1"},
		{tea.KeyMsg{Type: tea.KeyPgUp}, "step -7"},
		{tea.KeyMsg{Type: tea.KeyCtrlD}, "step 7"},
		{tea.KeyMsg{Type: tea.KeyHome}, "top"},
		{tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")}, "bottom"},
		{tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")}, ""},
	} {
		var got string
		ok := k.Move(c.msg, 7, func(n int) { got = fmt.Sprintf("step %d", n) },
			func() { got = "top" }, func() { got = "bottom" })
		if got != c.want || ok != (c.want != "") {
			t.Errorf("Move(%q) did %q (%v), want %q", c.msg.String(), got, ok, c.want)
		}
	}
}
