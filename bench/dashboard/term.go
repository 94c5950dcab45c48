package main

import (
	"bytes"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// term plays the terminal on a pty's master. It reads everything appdeck
// writes, so that appdeck never waits on its output; answers the
// background colour query appdeck makes before the dashboard starts; and
// notes the moment the status bar first shows each new selection.
type term struct {
	master  *os.File
	ready   []byte        // text whose first appearance closes readyCh
	readyCh chan struct{} // closed once ready has been seen
	done    chan struct{} // closed when the output ends
	written atomic.Int64  // bytes appdeck has written

	mu    sync.Mutex
	sel   string    // the selection the status bar shows, "" before any
	since time.Time // when the bytes showing sel were read
	moved chan struct{}
}

var (
	// The status bar's selection text, e.g. " default/4 · ● ready · pid…":
	// the instance, its state (symbol and word) and pid. The log pane
	// puts "default/4 │ " before merged lines, the table's rows show the
	// bare instance id, and the bar's right side reads "… · 0.0 req/s · ".
	selectionRE = regexp.MustCompile(` ([a-z][a-z0-9-]*/[A-Za-z0-9_-]+) · \S+ [a-z]+ · pid `)
	// termenv's background query (OSC 11), which it follows with a cursor
	// position query and waits on for up to 5 s.
	bgQuery = []byte("\x1b]11;?")
	// A dark background, then the cursor position.
	bgAnswer = []byte("\x1b]11;rgb:1c1c/1c1c/1c1c\x1b\\\x1b[1;1R")
)

// keep is how many bytes of one read are kept in front of the next, so
// that text cut across two reads is still found. It is longer than any
// text looked for.
const keep = 256

func newTerm(master *os.File, ready string) *term {
	t := &term{
		master: master, ready: []byte(ready),
		readyCh: make(chan struct{}), done: make(chan struct{}), moved: make(chan struct{}, 1),
	}
	go t.read()
	return t
}

func (t *term) read() {
	defer close(t.done)
	buf := make([]byte, 64<<10)
	var carry []byte
	for {
		n, err := t.master.Read(buf)
		at := time.Now()
		if n > 0 {
			t.written.Add(int64(n))
			data := append(carry, buf[:n]...)
			t.scan(data, len(carry), at)
			carry = append([]byte(nil), data[max(len(data)-keep, 0):]...)
		}
		if err != nil {
			return // EIO once appdeck and every copy of the slave are gone
		}
	}
}

// scan looks at data, of which the first old bytes were scanned before,
// for text that ends in the new bytes.
func (t *term) scan(data []byte, old int, at time.Time) {
	if endsAfter(data, old, bgQuery) {
		_, _ = t.master.Write(bgAnswer)
	}
	if endsAfter(data, old, t.ready) {
		select {
		case <-t.readyCh:
		default:
			close(t.readyCh)
		}
	}
	for _, m := range selectionRE.FindAllSubmatchIndex(data, -1) {
		if m[1] > old {
			t.show(string(data[m[2]:m[3]]), at)
		}
	}
}

// endsAfter reports whether pat occurs in data ending after offset old.
func endsAfter(data []byte, old int, pat []byte) bool {
	return bytes.Contains(data[max(old-len(pat)+1, 0):], pat)
}

func (t *term) show(sel string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sel == t.sel {
		return // the same selection drawn again: keep when it first showed
	}
	t.sel, t.since = sel, at
	select {
	case t.moved <- struct{}{}:
	default:
	}
}

// selection returns the selection shown and since when.
func (t *term) selection() (string, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sel, t.since
}

// press types key and returns how long until the status bar showed a
// selection other than the one before; ok is false after timeout.
func (t *term) press(key string, timeout time.Duration) (d time.Duration, ok bool, err error) {
	before, _ := t.selection()
	select { // forget a move noted before this press
	case <-t.moved:
	default:
	}
	start := time.Now()
	if _, err := t.master.WriteString(key); err != nil {
		return 0, false, err
	}
	deadline := time.After(timeout)
	for {
		select {
		case <-t.moved:
			if sel, since := t.selection(); sel != before {
				return since.Sub(start), true, nil
			}
		case <-deadline:
			return 0, false, nil
		case <-t.done:
			return 0, false, nil
		}
	}
}
