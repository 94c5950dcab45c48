// Package common holds what the dashboard's root model and every component
// share: the context (styles, keys, clock), the theme's styles, the key map
// and small text helpers. It imports no component, so components import it
// without cycles.
package common

import (
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/appdeck/appdeck/themes"
)

// Context is shared by pointer between the root model and its components:
// a theme change rebuilds Styles once and every component sees it.
type Context struct {
	Styles *Styles
	Keys   KeyMap
	// Now is the clock for uptimes and countdowns; tests pin it so that
	// views are deterministic.
	Now func() time.Time
	// Loc is the time zone of displayed clock times.
	Loc      *time.Location
	Renderer *lipgloss.Renderer
	Theme    themes.Theme
}

// NewContext builds the styles of theme once.
func NewContext(r *lipgloss.Renderer, theme themes.Theme, now func() time.Time, loc *time.Location) *Context {
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = time.Local
	}
	c := &Context{Keys: DefaultKeys(), Now: now, Loc: loc, Renderer: r}
	c.SetTheme(theme)
	return c
}

// SetTheme switches theme, rebuilding the styles.
func (c *Context) SetTheme(t themes.Theme) {
	c.Theme = t
	c.Styles = NewStyles(c.Renderer, t)
}
