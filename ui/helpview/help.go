// Package helpview draws the `?` overlay: every binding of the key map,
// grouped, so that help cannot drift from what the keys do.
package helpview

import (
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/appdeck/appdeck/ui/common"
)

// View returns the help box for a screen width×height.
func View(ctx *common.Context, width, height int) string {
	st := ctx.Styles
	var cols []string
	var col []string
	colHeight := 0
	limit := max(height-6, 8)
	for _, g := range ctx.Keys.Groups() {
		block := []string{st.Accent.Render(g.Title)}
		for _, b := range g.Bindings {
			h := b.Help()
			block = append(block, st.Key.Render(common.Fit(h.Key, 12))+" "+st.Text.Render(h.Desc))
		}
		block = append(block, "")
		if colHeight+len(block) > limit && len(col) > 0 {
			cols = append(cols, strings.Join(col, "\n"))
			col, colHeight = nil, 0
		}
		col = append(col, block...)
		colHeight += len(block)
	}
	cols = append(cols, strings.Join(col, "\n"))
	for i := range cols[:len(cols)-1] {
		cols[i] = lipgloss.NewStyle().PaddingRight(3).Render(cols[i])
	}
	body := lipgloss.JoinHorizontal(lipgloss.Top, cols...)
	footer := st.Subtle.Render("Keys act on the pane with focus (tab); actions act on the selected row. ? or esc closes.")
	box := st.Box.Render(st.Accent.Render("appdeck keys") + "\n\n" + body + "\n" + footer)
	return common.TruncateLines(box, width)
}
