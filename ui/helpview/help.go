// Package helpview draws the `?` overlay: every binding of the key map,
// grouped, so that help cannot drift from what the keys do.
package helpview

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/appdeck/appdeck/ui/common"
)

// keyWidth is the width of the key column.
const keyWidth = 12

// View returns the help box for a screen of width×height, scrolled down
// offset lines when it does not fit, and the largest useful offset.
func View(ctx *common.Context, width, height, offset int) (string, int) {
	st := ctx.Styles
	var groups [][]string
	colW := 0
	for _, g := range ctx.Keys.Groups() {
		block := []string{st.Accent.Render(g.Title)}
		colW = max(colW, common.Width(g.Title))
		for _, b := range g.Bindings {
			h := b.Help()
			block = append(block, st.Key.Render(common.Fit(h.Key, keyWidth))+st.Text.Render(h.Desc))
			colW = max(colW, keyWidth+common.Width(h.Desc))
		}
		groups = append(groups, block)
	}
	availW, availH := width-4, max(height-6, 3) // border, padding, title, footer
	ncols := max(min(availW/(colW+3), len(groups)), 1)
	cols := flow(groups, ncols, availH)
	body := lipgloss.JoinHorizontal(lipgloss.Top, pad(cols)...)
	lines := strings.Split(body, "\n")
	maxOffset := max(len(lines)-availH, 0)
	offset = max(min(offset, maxOffset), 0)
	lines = lines[offset:min(offset+availH, len(lines))]
	footer := "? or esc closes · keys act on the focused pane (tab), actions on the selected row"
	if maxOffset > 0 {
		footer = fmt.Sprintf("j/k scroll (%d more) · ", maxOffset-offset) + footer
	}
	content := st.Accent.Render("appdeck keys") + "\n" + strings.Join(lines, "\n") + "\n" + st.Subtle.Render(common.Truncate(footer, availW))
	return common.TruncateLines(st.Box.Render(content), width), maxOffset
}

// flow puts whole groups into at most ncols columns, a blank line
// between groups, filling each column to about the same height.
func flow(groups [][]string, ncols, availH int) [][]string {
	total := 0
	for _, g := range groups {
		total += len(g) + 1
	}
	target := max((total+ncols-1)/ncols, min(availH, total))
	if ncols == 1 {
		target = total
	}
	var cols [][]string
	var col []string
	for _, g := range groups {
		if len(col) > 0 && len(col)+len(g) > target && len(cols) < ncols-1 {
			cols = append(cols, col)
			col = nil
		}
		if len(col) > 0 {
			col = append(col, "")
		}
		col = append(col, g...)
	}
	return append(cols, col)
}

func pad(cols [][]string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		s := strings.Join(c, "\n")
		if i < len(cols)-1 {
			s = lipgloss.NewStyle().PaddingRight(3).Render(s)
		}
		out[i] = s
	}
	return out
}
