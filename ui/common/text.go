package common

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/appdeck/appdeck/supervisor"
)

// Truncate cuts s, which may hold colour sequences, to width cells.
func Truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, "…")
}

// Fit cuts or pads s to exactly width cells.
func Fit(s string, width int) string {
	s = Truncate(s, width)
	if pad := width - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// FitRight right-aligns s in width cells.
func FitRight(s string, width int) string {
	s = Truncate(s, width)
	if pad := width - ansi.StringWidth(s); pad > 0 {
		s = strings.Repeat(" ", pad) + s
	}
	return s
}

// Width is the display width of s.
func Width(s string) int { return ansi.StringWidth(s) }

// Glyph is an instance state's symbol; with the word it reads without
// colour.
func Glyph(s supervisor.State) string {
	switch s {
	case supervisor.Starting:
		return "◌"
	case supervisor.Ready:
		return "●"
	case supervisor.Draining:
		return "◐"
	case supervisor.Stopped:
		return "■"
	case supervisor.Crashed, supervisor.BuildFailed:
		return "✖"
	case supervisor.Backoff:
		return "↻"
	}
	return "?"
}

// StateLabel is a state as glyph and word.
func StateLabel(s supervisor.State) string { return Glyph(s) + " " + s.String() }

// Running reports whether an instance in state s has a live process.
func Running(s supervisor.State) bool {
	return s == supervisor.Starting || s == supervisor.Ready || s == supervisor.Draining
}

// Duration formats an uptime compactly: 42s, 3m07s, 5h02m, 3d04h.
func Duration(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// Latency formats a latency with three significant figures at most.
func Latency(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// Plural says n of word: "1 instance", "3 instances".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Instances counts a service's instances — "2 instances" — or, unless
// all are ready, how many of them are, as the status bar does: "1/2
// ready", so that an instance stopped by hand is not counted as one that
// serves.
func Instances(list []supervisor.InstanceInfo) string {
	ready := 0
	for _, in := range list {
		if in.State == supervisor.Ready {
			ready++
		}
	}
	if ready < len(list) {
		return fmt.Sprintf("%d/%d ready", ready, len(list))
	}
	return Plural(len(list), "instance")
}

// Bytes formats a size in binary units: 512B, 12.3M, 1.02G.
func Bytes(n int64) string {
	const unit = 1024
	if n <= 0 {
		return "-"
	}
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	v, suffix := float64(n), "KMGT"
	i := -1
	for v >= unit && i < len(suffix)-1 {
		v /= unit
		i++
	}
	if v < 10 {
		return fmt.Sprintf("%.1f%c", v, suffix[i])
	}
	return fmt.Sprintf("%.0f%c", v, suffix[i])
}

// PaneTitle draws a pane's title line: a rule with the title in it, heavy
// when the pane has focus, with right-aligned extra text.
func PaneTitle(st *Styles, title, extra string, width int, focused bool) string {
	rule, rs, ts := "─", st.Rule, st.Title
	if focused {
		rule, rs, ts = "━", st.RuleFocus, st.TitleFocus
	}
	left := rs.Render(rule+" ") + ts.Render(title) + " "
	right := ""
	if extra != "" {
		right = " " + st.Subtle.Render(extra) + rs.Render(" "+rule)
	}
	fill := width - Width(left) - Width(right)
	if fill < 1 {
		return Truncate(left+right, width)
	}
	return left + rs.Render(strings.Repeat(rule, fill)) + right
}

// Overlay draws box over the middle of background (both multi-line
// strings), keeping the background visible around it.
func Overlay(background, box string, width int) string {
	bg := strings.Split(background, "\n")
	fg := strings.Split(box, "\n")
	bw := 0
	for _, l := range fg {
		bw = max(bw, Width(l))
	}
	top := max((len(bg)-len(fg))/2, 0)
	left := max((width-bw)/2, 0)
	for i, l := range fg {
		y := top + i
		if y >= len(bg) {
			break
		}
		line := bg[y]
		pad := ""
		if w := Width(line); w < left {
			pad = strings.Repeat(" ", left-w)
		}
		head := ansi.Truncate(line, left, "")
		if strings.Contains(head, "\x1b") {
			head += "\x1b[m" // a style cut in the middle must not bleed into the box
		}
		bg[y] = head + pad + Fit(l, bw) + ansi.TruncateLeft(line, left+bw, "")
	}
	return strings.Join(bg, "\n")
}

// TruncateLines cuts every line of s to width cells.
func TruncateLines(s string, width int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Truncate(l, width)
	}
	return strings.Join(lines, "\n")
}
