package logpane

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui/common"
)

// SetSaveDir sets where ctrl+s writes logs (default: the temporary
// directory).
func (m *Model) SetSaveDir(dir string) { m.saveDir = dir }

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// save writes every line the pane's logs hold (after the stderr filter),
// merged and stamped, to a new file, off the UI goroutine.
func (m *Model) save() tea.Cmd {
	dir := m.saveDir
	if dir == "" {
		dir = os.TempDir()
	}
	streams := make([]stream, len(m.srcs)) // raw: the index is the UI's
	labels := make([]string, len(m.srcs))
	for i, s := range m.srcs {
		streams[i], labels[i] = stream{buf: s.Buf}, s.Label
	}
	name := fmt.Sprintf("%s-%s.log", strings.Trim(unsafeName.ReplaceAllString(m.title, "-"), "-"),
		m.ctx.Now().In(m.ctx.Loc).Format("20060102-150405"))
	stderrOnly := m.stderrOnly
	return func() tea.Msg {
		path := filepath.Join(dir, name)
		n, err := writeLog(path, streams, labels, stderrOnly)
		if err != nil {
			return common.FlashMsg{Text: "saving the log: " + err.Error(), Err: true}
		}
		return common.FlashMsg{Text: fmt.Sprintf("saved %d lines to %s", n, path)}
	}
}

func writeLog(path string, streams []stream, labels []string, stderrOnly bool) (int, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(f)
	w := newWalker(streams, make([]uint64, len(streams)), 4096, false)
	n := 0
	for {
		l, ok := w.next()
		if !ok {
			break
		}
		if stderrOnly && l.Stream != supervisor.Stderr {
			continue
		}
		prefix := ""
		if len(streams) > 1 {
			prefix = labels[l.src] + " | "
		}
		fmt.Fprintf(bw, "%s%s %-6s %s\n", prefix, l.Time.Format("2006-01-02T15:04:05.000Z07:00"), l.Stream, ansi.Strip(l.Text))
		n++
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return n, err
	}
	return n, f.Close()
}
