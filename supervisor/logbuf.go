package supervisor

import "time"

// Stream says which pipe a log line came from. System lines are appdeck's
// own notes about the instance or service (starts, exits, build output).
type Stream uint8

// Streams.
const (
	Stdout Stream = iota
	Stderr
	System
)

func (s Stream) String() string {
	switch s {
	case Stderr:
		return "stderr"
	case System:
		return "appdeck"
	}
	return "stdout"
}

// Line is one sanitized log line.
type Line struct {
	Seq    uint64 // 1 for the first line ever appended, then +1 per line
	Time   time.Time
	Stream Stream
	Text   string
}

func (l Line) withSeq(seq uint64) Line { l.Seq = seq; return l }

// LogBuffer is an instance's or service's log: a Ring of lines that the
// goroutines draining a child's pipes append to without ever blocking.
type LogBuffer struct {
	Ring[Line]
	file *LogFile // with --log-dir, set before the first line
}

// NewLogBuffer returns a buffer that keeps the last size lines.
func NewLogBuffer(size int) *LogBuffer {
	b := &LogBuffer{}
	b.init(size)
	return b
}

// Add appends a line stamped with the current time.
func (b *LogBuffer) Add(s Stream, text string) {
	l := Line{Time: time.Now(), Stream: s, Text: text}
	b.Append(l)
	if b.file != nil {
		b.file.write(l)
	}
}

// closeFile flushes and closes the --log-dir copy, if any.
func (b *LogBuffer) closeFile() {
	if b.file != nil {
		_ = b.file.Close()
	}
}

// shrink lets the buffer of a removed instance hold only the lines it
// has, rather than a ring of --log-lines: it is kept for a while, and
// most instances log far less. Lines keep their numbers; a late line
// still goes in, pushing the oldest out.
func (b *LogBuffer) shrink() {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.items)
	items := make([]Line, max(n, 1))[:n]
	for i := range items {
		items[i] = b.items[(b.start+i)%n]
	}
	b.items, b.start = items, 0
}
