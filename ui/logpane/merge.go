package logpane

import (
	"sort"

	"github.com/appdeck/appdeck/supervisor"
)

// A pane shows one or more logs merged by time. A position in the merged
// log is a cut: for each log the sequence number where the cut falls,
// every line numbered below it being on the older side. Cuts let the pane
// page through rings that keep moving, reading only the lines it shows.

// stream is one log of a pane: every line, or only the lines an index
// holds.
type stream struct {
	buf *supervisor.LogBuffer
	idx *index // nil: every line
}

// before returns up to n lines numbered below pos, oldest first.
func (s stream) before(pos uint64, n int) []supervisor.Line {
	if s.idx != nil {
		return s.idx.before(s.buf, pos, n)
	}
	from := uint64(0)
	if pos > uint64(n) {
		from = pos - uint64(n)
	}
	lines := s.buf.Since(from, n)
	// Since starts at the oldest line held, so it may reach past pos.
	k := sort.Search(len(lines), func(i int) bool { return lines[i].Seq >= pos })
	return lines[:k]
}

// after returns up to n lines numbered pos or above, oldest first.
func (s stream) after(pos uint64, n int) []supervisor.Line {
	if s.idx != nil {
		return s.idx.after(s.buf, pos, n)
	}
	return s.buf.Since(pos, n)
}

// tagged is a line and the index of the stream it came from.
type tagged struct {
	supervisor.Line
	src int
}

// newer orders lines across streams: by time, then by stream.
func newer(a, b tagged) bool {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c > 0
	}
	return a.src > b.src
}

// walker reads streams from a cut, newest first (back) or oldest first
// (forward), fetching chunk lines at a time per stream. pos is the cut
// between what it has yielded and what it has not.
type walker struct {
	streams []stream
	pos     []uint64
	pending [][]supervisor.Line // fetched, not yet yielded, oldest first
	done    []bool
	chunk   int
	back    bool
}

func newWalker(streams []stream, cut []uint64, chunk int, back bool) *walker {
	return &walker{
		streams: streams, pos: append([]uint64(nil), cut...),
		pending: make([][]supervisor.Line, len(streams)), done: make([]bool, len(streams)),
		chunk: max(chunk, 16), back: back,
	}
}

// next yields the next line, or false when every stream is exhausted.
func (w *walker) next() (tagged, bool) {
	best, bestLine := -1, tagged{}
	for i, s := range w.streams {
		p := w.pending[i]
		if len(p) == 0 && !w.done[i] {
			if w.back {
				p = s.before(w.pos[i], w.chunk)
			} else {
				p = s.after(w.pos[i], w.chunk)
			}
			w.pending[i], w.done[i] = p, len(p) == 0
		}
		if len(p) == 0 {
			continue
		}
		cand := tagged{p[0], i}
		if w.back {
			cand.Line = p[len(p)-1]
		}
		if best < 0 || newer(cand, bestLine) == w.back {
			best, bestLine = i, cand
		}
	}
	if best < 0 {
		return tagged{}, false
	}
	p := w.pending[best]
	if w.back {
		w.pending[best] = p[:len(p)-1]
		w.pos[best] = bestLine.Seq
	} else {
		w.pending[best] = p[1:]
		w.pos[best] = bestLine.Seq + 1
	}
	return bestLine, true
}

// walk moves n lines from cut and returns the cut it reaches and how many
// lines it passed.
func walk(streams []stream, cut []uint64, n int, back bool) ([]uint64, int) {
	w := newWalker(streams, cut, n, back)
	moved := 0
	for moved < n {
		if _, ok := w.next(); !ok {
			break
		}
		moved++
	}
	return w.pos, moved
}

// index is the sequence numbers of a log's lines that pass a test, kept
// up to date by scanning only the lines added since the last update, so
// a filter costs per new line, not per frame.
type index struct {
	keep func(supervisor.Line) bool
	seqs []uint64
	next uint64 // the first line not scanned yet
}

func (x *index) update(buf *supervisor.LogBuffer) {
	for {
		lines := buf.Since(x.next, 4096)
		if len(lines) == 0 {
			break
		}
		for _, l := range lines {
			if x.keep(l) {
				x.seqs = append(x.seqs, l.Seq)
			}
		}
		x.next = lines[len(lines)-1].Seq + 1
	}
	// Forget lines the ring has dropped.
	oldest := buf.Next() - uint64(buf.Len())
	if i := sort.Search(len(x.seqs), func(i int) bool { return x.seqs[i] >= oldest }); i > 0 {
		x.seqs = x.seqs[i:]
	}
}

func (x *index) before(buf *supervisor.LogBuffer, pos uint64, n int) []supervisor.Line {
	i := sort.Search(len(x.seqs), func(i int) bool { return x.seqs[i] >= pos })
	return fetch(buf, x.seqs[max(i-n, 0):i])
}

func (x *index) after(buf *supervisor.LogBuffer, pos uint64, n int) []supervisor.Line {
	i := sort.Search(len(x.seqs), func(i int) bool { return x.seqs[i] >= pos })
	return fetch(buf, x.seqs[i:min(i+n, len(x.seqs))])
}

// fetch reads the numbered lines still held.
func fetch(buf *supervisor.LogBuffer, seqs []uint64) []supervisor.Line {
	out := make([]supervisor.Line, 0, len(seqs))
	for _, s := range seqs {
		if l := buf.Since(s, 1); len(l) == 1 && l[0].Seq == s {
			out = append(out, l[0])
		}
	}
	return out
}
