package logpane

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/appdeck/appdeck/supervisor"
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
	m.query, m.cur, m.re, m.found = q, nil, nil, nil
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
// ones. A match on screen is only highlighted: the window stays, and a
// following pane goes on following. Otherwise the window moves to show
// it a third of the way up, paused. Without a current match (the first
// jump after a search) it starts at the bottom of the window.
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
		if m.shown(l) {
			return nil
		}
		// Show a few lines after the match below it.
		m.ends, _ = walk(streams, cut, m.bodyHeight()/3, false)
		m.follow = false
		return nil
	}
}

// shown reports whether the window draws line l.
func (m *Model) shown(l tagged) bool {
	return slices.ContainsFunc(m.window, func(r row) bool { return r.src == l.src && r.seq == l.Seq })
}

// count brings the match count up to date, scanning only the lines logged
// since it last ran: how many lines match the search, and the number of
// the current match counted from the oldest.
func (m *Model) count() {
	m.matches, m.matchNo = 0, 0
	if m.re == nil {
		return
	}
	if m.found == nil {
		m.found = map[*supervisor.LogBuffer]*index{}
	}
	re, stderrOnly := m.re, m.stderrOnly
	keep := func(l supervisor.Line) bool {
		return (!stderrOnly || l.Stream == supervisor.Stderr) && re.MatchString(ansi.Strip(l.Text))
	}
	cur, held := m.current()
	for i, s := range m.srcs {
		x := m.found[s.Buf]
		if x == nil {
			x = &index{keep: keep}
			m.found[s.Buf] = x
		}
		x.update(s.Buf)
		m.matches += len(x.seqs)
		if held {
			// Matches not newer than the current one, found by
			// bisection: each log's lines are in time order.
			m.matchNo += sort.Search(len(x.seqs), func(k int) bool {
				if i == cur.src {
					return x.seqs[k] > cur.Seq
				}
				l := fetch(s.Buf, x.seqs[k:k+1])
				return len(l) == 1 && newer(tagged{l[0], i}, cur)
			})
		}
	}
}

// current returns the current match's line, if its log still holds it.
func (m *Model) current() (tagged, bool) {
	if m.cur == nil {
		return tagged{}, false
	}
	for i, s := range m.srcs {
		if s.Buf == m.cur.buf {
			if l := fetch(s.Buf, []uint64{m.cur.seq}); len(l) == 1 {
				return tagged{l[0], i}, true
			}
		}
	}
	return tagged{}, false
}

// matchText says where the search stands, for the title.
func (m Model) matchText() string {
	switch {
	case m.matchNo > 0:
		return fmt.Sprintf("match %d of %d", m.matchNo, m.matches)
	case m.matches == 0:
		return "no match"
	case m.matches == 1:
		return "1 match"
	}
	return fmt.Sprintf("%d matches", m.matches)
}
