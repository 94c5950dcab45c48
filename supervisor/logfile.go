package supervisor

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// LogFile copies lines to a file (--log-dir): a log's, or the front's
// access lines (see the main package's requestLog). Lines are buffered
// and written at most flushDelay after they arrive, so that a chatty
// instance costs a write per batch, not per line, and the goroutine
// draining its pipe never waits on the disk for long.
type LogFile struct {
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	timer *time.Timer // pending flush, nil when none
	err   error       // first write error; later lines are dropped
}

const flushDelay = 200 * time.Millisecond

// OpenLogFile creates (or truncates) dir/name.log: each run of appdeck
// starts its files afresh.
func OpenLogFile(dir, name string) (*LogFile, error) {
	f, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &LogFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// logFileName names an instance's file: "service-instance", or "service"
// for the service's own log. Service names are App Engine names
// (lowercase letters, digits and hyphens), so no escaping is needed.
func logFileName(service, instance string) string {
	if instance == "" {
		return service
	}
	return service + "-" + instance
}

func (l *LogFile) write(ln Line) { l.Write(ln.Time, ln.Stream.String(), ln.Text) }

// Write adds a line: its time, a tag (the stream, or "request") and text.
func (l *LogFile) Write(t time.Time, tag, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil || l.f == nil {
		return
	}
	_, l.err = fmt.Fprintf(l.w, "%s %-6s %s\n", t.Format("2006-01-02T15:04:05.000"), tag, text)
	if l.timer == nil {
		l.timer = time.AfterFunc(flushDelay, l.flush)
	}
}

// Err returns the first error writing the file: the lines since are lost.
func (l *LogFile) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *LogFile) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	if l.err == nil && l.f != nil {
		l.err = l.w.Flush()
	}
}

// Close flushes what is buffered and closes the file.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	err := l.w.Flush()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// prepareLogDir makes sure dir exists and is writable, so that a bad
// --log-dir is reported at start rather than as missing files later.
func prepareLogDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--log-dir: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".appdeck-probe-*")
	if err != nil {
		return fmt.Errorf("--log-dir %s is not writable: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// attachLogFile makes logs also write to the file for service/instance
// when --log-dir is set. A file that cannot be created is reported in the
// log itself; the ring keeps working.
func (s *Supervisor) attachLogFile(logs *LogBuffer, service, instance string) {
	if s.opts.LogDir == "" {
		return
	}
	f, err := OpenLogFile(s.opts.LogDir, logFileName(service, instance))
	if err != nil {
		logs.Add(System, "warning: "+strings.TrimPrefix(err.Error(), "open ")+"; this log is not written to --log-dir")
		return
	}
	logs.file = f
}
