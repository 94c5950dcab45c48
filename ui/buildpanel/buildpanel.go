// Package buildpanel shows a failed build's output with its
// file:line:col positions highlighted, and opens the first one in the
// user's editor.
package buildpanel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui/common"
)

// Location is a position in a source file.
type Location struct {
	File      string
	Line, Col int
}

func (l Location) String() string {
	if l.Col > 0 {
		return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Col)
	}
	return fmt.Sprintf("%s:%d", l.File, l.Line)
}

// location matches compiler positions: path/file.ext:line[:col].
var location = regexp.MustCompile(`(?:^|[\s(])((?:[A-Za-z]:)?[^\s:()"']+\.[A-Za-z0-9]+):(\d+)(?::(\d+))?`)

// First returns the first position in a build's output.
func First(output string) (Location, bool) {
	m := location.FindStringSubmatch(output)
	if m == nil {
		return Location{}, false
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	return Location{File: m[1], Line: line, Col: col}, true
}

// Height returns how many lines the panel wants for svc's output.
func Height(svc supervisor.ServiceInfo) int {
	return strings.Count(strings.TrimSpace(svc.BuildOutput+"\n"+svc.BuildErr), "\n") + 2
}

// View draws the panel: a title naming the service and the first error,
// then the output with positions highlighted, cut to h lines.
func View(ctx *common.Context, svc supervisor.ServiceInfo, w, h int) string {
	st := ctx.Styles
	out := svc.BuildOutput
	if out == "" {
		out = svc.BuildErr
	}
	hint := "fix it and save, or press b to rebuild"
	if loc, ok := First(out); ok {
		hint = "e opens " + loc.String() + " in $EDITOR"
	}
	lines := []string{st.Stderr.Render(common.Truncate(fmt.Sprintf("━ ✖ build of %s failed · %s ", svc.Name, hint)+strings.Repeat("━", w), w))}
	src := strings.Split(strings.TrimSpace(out), "\n")
	body := max(h-1, 0)
	if len(src) > body && body > 0 {
		more := len(src) - body + 1
		src = append(src[:body-1], fmt.Sprintf("… %d more lines in the service log (v, then select the service row)", more))
	}
	for _, l := range src {
		lines = append(lines, highlight(st, common.Truncate(l, w)))
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines[:h], "\n")
}

func highlight(st *common.Styles, line string) string {
	idx := location.FindAllStringSubmatchIndex(line, -1)
	if idx == nil {
		return st.Text.Render(line)
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		start, end := m[2], m[1] // the path starts after the separator the pattern consumed
		b.WriteString(st.Text.Render(line[last:start]))
		b.WriteString(st.Location.Render(line[start:end]))
		last = end
	}
	b.WriteString(st.Text.Render(line[last:]))
	return b.String()
}

// EditorCommand returns the command that opens loc, relative to dir, in
// the user's $VISUAL or $EDITOR, placing the cursor on the line (and
// column, for editors that take one).
func EditorCommand(dir string, loc Location) (*exec.Cmd, error) {
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		return nil, fmt.Errorf("set $EDITOR to open %s", loc)
	}
	file := loc.File
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	argv := strings.Fields(editor)
	col := max(loc.Col, 1)
	switch filepath.Base(argv[0]) {
	case "code", "code-insiders", "codium", "cursor":
		argv = append(argv, "--goto", fmt.Sprintf("%s:%d:%d", file, loc.Line, col))
	case "subl", "zed", "hx", "helix":
		argv = append(argv, fmt.Sprintf("%s:%d:%d", file, loc.Line, col))
	case "vi", "vim", "nvim", "gvim":
		argv = append(argv, fmt.Sprintf("+call cursor(%d,%d)", loc.Line, col), file)
	default: // emacs, nano, micro, joe, ne, … take +line
		argv = append(argv, fmt.Sprintf("+%d", loc.Line), file)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	return cmd, nil
}
