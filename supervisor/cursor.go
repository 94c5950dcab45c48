package supervisor

import "slices"

// LogEntry is one line of a named log, as a LogCursor reads it.
type LogEntry struct {
	Service  string
	Instance string // "" for the service's own log: builds and appdeck's notes
	Line
	// Dropped counts the lines of this log that the ring overwrote before
	// they could be read, just before this one.
	Dropped uint64
}

// LogSource is what a LogCursor reads: the Supervisor, or a stand-in in
// tests of the front ends.
type LogSource interface {
	Snapshot() []ServiceInfo
	Logs(service, instance string) *LogBuffer
}

// LogCursor reads every line of a selection of logs once, for followers
// such as the headless printer and the admin API's log stream. It picks up
// instances as they appear, reads what a removed instance wrote after the
// last Read (its last lines, "stopped" among them) before letting it go,
// and starts over on an instance added again under the same name. It is
// not safe for concurrent use.
type LogCursor struct {
	src      LogSource
	service  string // "" for every service
	instance string // "" for the service's own log and all its instances
	tail     int    // where logs found by the first Read start; 0 = oldest held
	started  bool
	pos      map[logName]logPos
}

type logName struct{ service, instance string }

// logPos is how far a log has been read; buf tells a log from a newer one
// with the same name.
type logPos struct {
	buf  *LogBuffer
	next uint64
}

// NewLogCursor returns a cursor over the logs of service (every service
// when "") and instance (when "", the service's own log and every
// instance's), starting at the oldest line each log holds.
func NewLogCursor(src LogSource, service, instance string) *LogCursor {
	return &LogCursor{src: src, service: service, instance: instance, pos: map[logName]logPos{}}
}

// Tail makes the first Read start at the last n lines of each log it
// finds; logs that appear later are read from their start.
func (c *LogCursor) Tail(n int) { c.tail = max(n, 0) }

// Read returns the lines added since the last Read, at most max per log,
// merged in time order. Call it again until it returns nothing to drain
// logs that had more than max new lines.
func (c *LogCursor) Read(max int) []LogEntry {
	var out []LogEntry
	seen := map[logName]bool{}
	for _, svc := range c.src.Snapshot() {
		if c.service != "" && svc.Name != c.service {
			continue
		}
		if c.instance == "" {
			out = c.readLog(out, logName{svc.Name, ""}, max, seen)
		}
		for _, in := range svc.Instances {
			if c.instance == "" || in.ID == c.instance {
				out = c.readLog(out, logName{svc.Name, in.ID}, max, seen)
			}
		}
		for _, id := range svc.Removed {
			if c.instance == "" || id == c.instance {
				out = c.readLog(out, logName{svc.Name, id}, max, seen)
			}
		}
	}
	for name, p := range c.pos {
		if seen[name] {
			continue
		}
		// Gone from the snapshot: removed by a scale-down longer ago than
		// the service keeps removed logs. The buffer still holds what it
		// wrote since the last Read; read that, then forget it.
		n := len(out)
		out, p = readFrom(out, name, p, max)
		if len(out)-n < max {
			delete(c.pos, name)
		} else {
			c.pos[name] = p // more than max: the rest next time
		}
	}
	c.started = true
	slices.SortStableFunc(out, func(a, b LogEntry) int { return a.Time.Compare(b.Time) })
	return out
}

func (c *LogCursor) readLog(out []LogEntry, name logName, max int, seen map[logName]bool) []LogEntry {
	buf := c.src.Logs(name.service, name.instance)
	if buf == nil {
		return out
	}
	seen[name] = true
	p, ok := c.pos[name]
	if !ok || p.buf != buf {
		p = logPos{buf: buf, next: 1}
		if !c.started && c.tail > 0 {
			// Start at the tail, never before the oldest line held, so
			// that no drop is reported for lines the caller did not want.
			p.next = buf.Next() - uint64(min(c.tail, buf.Len()))
		}
	}
	out, c.pos[name] = readFrom(out, name, p, max)
	return out
}

// readFrom appends up to max lines of p's log from p.next, and returns
// the position after them.
func readFrom(out []LogEntry, name logName, p logPos, max int) ([]LogEntry, logPos) {
	lines := p.buf.Since(p.next, max)
	for i, l := range lines {
		e := LogEntry{Service: name.service, Instance: name.instance, Line: l}
		if i == 0 && l.Seq > p.next {
			e.Dropped = l.Seq - p.next
		}
		out = append(out, e)
	}
	if len(lines) > 0 {
		p.next = lines[len(lines)-1].Seq + 1
	}
	return out, p
}
