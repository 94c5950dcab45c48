package logpane

import (
	"fmt"
	"regexp"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/appdeck/appdeck/ui/common"
)

func (m Model) typeSearch(msg tea.KeyMsg) (Model, tea.Cmd, bool) {
	switch msg.Type {
	case tea.KeyEsc:
		m.searching = false
		m.input.Blur()
		return m, nil, true
	case tea.KeyEnter:
		m.searching = false
		m.input.Blur()
		m.setQuery(m.input.Value())
		var cmd tea.Cmd
		if m.re != nil {
			cmd = m.jump(true)
		}
		m.Refresh()
		return m, cmd, true
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd, true
}

// setQuery compiles a search. Smart case: a query with no upper-case
// letter ignores case. The text is literal, not a regular expression.
func (m *Model) setQuery(q string) {
	m.query, m.cur, m.re = q, nil, nil
	if q == "" {
		return
	}
	expr := regexp.QuoteMeta(q)
	if strings.ToLower(q) == q {
		expr = "(?i)" + expr
	}
	m.re = regexp.MustCompile(expr)
}

// jump moves to the next match towards older lines (older) or newer
// ones, and shows it a third of the way up the pane. The first jump
// after a search starts at the bottom of the window.
func (m *Model) jump(older bool) tea.Cmd {
	if m.re == nil {
		return common.Flash("no search: press / to search the log", true)
	}
	streams := m.streams()
	from := m.ends
	if m.follow || from == nil {
		from = m.newest()
	}
	if m.cur != nil && len(m.cur.cut) == len(streams) {
		from = m.cur.cut
		if older {
			// The cut is just after the current match: step over it.
			from = append([]uint64(nil), from...)
			for i, s := range m.srcs {
				if s.Buf == m.cur.buf {
					from[i] = m.cur.seq
				}
			}
		}
	} else if !older {
		return common.Flash("no newer match", false)
	}
	w := newWalker(streams, from, 512, older)
	for {
		l, ok := w.next()
		if !ok {
			dir := "older"
			if !older {
				dir = "newer"
			}
			return common.Flash(fmt.Sprintf("no %s match for %q", dir, m.query), m.cur == nil)
		}
		if !m.re.MatchString(ansi.Strip(l.Text)) {
			continue
		}
		cut := append([]uint64(nil), w.pos...)
		cut[l.src] = l.Seq + 1
		m.cur = &matchPos{buf: m.srcs[l.src].Buf, seq: l.Seq, cut: cut}
		// Show a few lines after the match below it.
		m.ends, _ = walk(streams, cut, m.bodyHeight()/3, false)
		m.follow = false
		return nil
	}
}
