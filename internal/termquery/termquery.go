// Package termquery stops the terminal query that Bubble Tea makes when it
// is initialized. Bubble Tea v1's init asks the terminal for its
// background colour (OSC 11, then a cursor position report) so that the
// answer is in before a program takes the terminal. appdeck's headless
// modes must never do that: the query shows up in their output, and on a
// terminal that does not answer, nothing is printed for five seconds.
//
// Import it for its side effect from package main. Go initializes
// packages in the order of their import paths among those whose imports
// are ready, so this one, which needs only Lip Gloss, runs before
// github.com/charmbracelet/bubbletea.
//
// The dashboard asks the terminal itself, on its own renderer, when the
// theme depends on the background.
package termquery

import "github.com/charmbracelet/lipgloss"

func init() {
	// An explicit value for the default renderer: Bubble Tea's init then
	// reads it instead of asking the terminal.
	lipgloss.SetHasDarkBackground(true)
}
