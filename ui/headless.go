package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/appdeck/appdeck/supervisor"
)

// servicePalette colours services' prefixes so interleaved lines stay
// easy to tell apart; ANSI colours follow the user's terminal theme.
var servicePalette = []lipgloss.Color{"6", "5", "3", "2", "4", "13", "14", "11"}

// HeadlessSource is what the headless printer follows. It is declared
// apart from Source so that the dashboard's needs can grow on their own.
type HeadlessSource interface {
	supervisor.LogSource
	Requests() *supervisor.Ring[supervisor.Request]
}

// Follower prints every log line and every request of a source through a
// printer, each once. A Run continues where the one before it ended, so
// that appdeck's own notes can come between two runs: the headless mode
// prints "stopping" between the run until the stop and the run through it.
type Follower struct {
	h headless
}

// NewFollower returns a follower of src that prints through p, from the
// oldest line and request src still holds.
func NewFollower(src HeadlessSource, p *Printer) *Follower {
	return &Follower{headless{src: src, p: p, logs: supervisor.NewLogCursor(src, "", ""), next: 1}}
}

// Run prints until ctx ends, then prints what is left. It pulls on a
// short tick, like the dashboard, so a flood of output never slows the
// instances down. The printer is the follower's until Run returns.
func (f *Follower) Run(ctx context.Context) {
	// Each tick's lines leave in one write, not one write per line: under
	// load that is thousands of system calls a second fewer.
	h, w := &f.h, f.h.p.w
	h.out = bufio.NewWriterSize(w, 64<<10)
	h.p.w = h.out
	defer func() { h.p.w, h.out = w, nil }()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			h.flush()
			return
		case <-t.C:
			h.flush()
		}
	}
}

type headless struct {
	src  HeadlessSource
	p    *Printer
	logs *supervisor.LogCursor
	next uint64 // sequence number of the next request to print
	out  *bufio.Writer
}

func (h *headless) flush() {
	if h.out != nil {
		defer h.out.Flush()
	}
	for {
		lines := h.logs.Read(512)
		if len(lines) == 0 {
			break
		}
		for _, l := range lines {
			h.p.Log(l)
		}
	}
	for {
		reqs := h.src.Requests().Since(h.next, 512)
		if len(reqs) == 0 {
			return
		}
		if gap := reqs[0].Seq - h.next; gap > 0 {
			h.p.Note("… %d requests not shown (the request ring overflowed)", gap)
		}
		for _, r := range reqs {
			h.p.Request(r)
		}
		h.next = reqs[len(reqs)-1].Seq + 1
	}
}

// Format is how a Printer writes.
type Format int

// Formats, as --log-format names them.
const (
	TextFormat Format = iota // "service/instance | line", coloured by service
	JSONFormat               // one JSON object per line
)

func (f Format) String() string {
	if f == JSONFormat {
		return "json"
	}
	return "text"
}

// Set makes a Format a flag.Value, for --log-format.
func (f *Format) Set(s string) error {
	v, err := ParseFormat(s)
	if err == nil {
		*f = v
	}
	return err
}

// ParseFormat reads a --log-format value.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "text":
		return TextFormat, nil
	case "json":
		return JSONFormat, nil
	}
	return 0, fmt.Errorf("unknown log format %q; use text or json", s)
}

// Printer writes log lines, request access lines and appdeck's own notes,
// as text or as JSON lines. The headless mode and `appdeck ctl logs` share
// it, so both look the same.
type Printer struct {
	w      io.Writer
	format Format
	r      *lipgloss.Renderer
	styles map[string]lipgloss.Style // prefix colour by service
	status [6]lipgloss.Style         // by status class, 1xx to 5xx
	// Rendered prefixes and statuses, kept because rendering one with
	// lipgloss costs more than the rest of an access line.
	prefixes map[[2]string]string
	statuses map[int]string
}

// NewPrinter returns a printer to w. services, in config order, fix each
// service's colour; others get the next colours as they appear.
func NewPrinter(w io.Writer, f Format, r *lipgloss.Renderer, services []string) *Printer {
	p := &Printer{w: w, format: f, r: r, styles: map[string]lipgloss.Style{},
		prefixes: map[[2]string]string{}, statuses: map[int]string{}}
	for _, s := range services {
		p.style(s)
	}
	for class, c := range map[int]lipgloss.Color{2: "2", 3: "6", 4: "3", 5: "1"} {
		p.status[class] = r.NewStyle().Foreground(c)
	}
	return p
}

func (p *Printer) style(service string) lipgloss.Style {
	st, ok := p.styles[service]
	if !ok {
		st = p.r.NewStyle().Foreground(servicePalette[len(p.styles)%len(servicePalette)])
		p.styles[service] = st
	}
	return st
}

// jsonLine is one line of --log-format json. Every kind of line has the
// first five fields; access lines add the request's.
type jsonLine struct {
	Time     time.Time `json:"time"`
	Service  string    `json:"service"`
	Instance string    `json:"instance"`
	Stream   string    `json:"stream"` // stdout, stderr, appdeck or request
	Line     string    `json:"line"`

	Method    string  `json:"method,omitempty"`
	Path      string  `json:"path,omitempty"`
	Status    int     `json:"status,omitempty"`
	Bytes     int64   `json:"bytes,omitempty"`
	LatencyMS float64 `json:"latency_ms,omitempty"`
	Route     string  `json:"route,omitempty"`
}

func (p *Printer) writeJSON(l jsonLine) {
	b, _ := json.Marshal(l) // plain strings and numbers: cannot fail
	b = append(b, '\n')
	_, _ = p.w.Write(b)
}

func (p *Printer) prefix(service, instance string) string {
	key := [2]string{service, instance}
	if s, ok := p.prefixes[key]; ok {
		return s
	}
	name := service
	if instance != "" {
		name += "/" + instance
	}
	s := p.style(service).Render(name + " |")
	if len(p.prefixes) >= maxCached {
		clear(p.prefixes) // instances come and go: bound the cache
	}
	p.prefixes[key] = s
	return s
}

// maxCached bounds each of a Printer's caches.
const maxCached = 256

// statusText renders a status code coloured by its class.
func (p *Printer) statusText(code int) string {
	if s, ok := p.statuses[code]; ok {
		return s
	}
	s := fmt.Sprint(code)
	if class := code / 100; class >= 1 && class <= 5 {
		s = p.status[class].Render(s)
	}
	if len(p.statuses) >= maxCached {
		clear(p.statuses)
	}
	p.statuses[code] = s
	return s
}

// Log prints one log line, after a note when lines before it were lost.
func (p *Printer) Log(e supervisor.LogEntry) {
	if e.Dropped > 0 {
		p.logLine(e.Time, e.Service, e.Instance, supervisor.System,
			fmt.Sprintf("… %d lines dropped (the log ring overflowed)", e.Dropped))
	}
	p.logLine(e.Time, e.Service, e.Instance, e.Stream, e.Text)
}

func (p *Printer) logLine(t time.Time, service, instance string, s supervisor.Stream, text string) {
	if p.format == JSONFormat {
		p.writeJSON(jsonLine{Time: t, Service: service, Instance: instance, Stream: s.String(), Line: text})
		return
	}
	if s == supervisor.System {
		text = "[appdeck] " + text
	}
	fmt.Fprintf(p.w, "%s %s\n", p.prefix(service, instance), text)
}

// AccessText is a request's access line without colours: method, path,
// status, size, latency and what matched. --log-dir files and JSON lines
// carry it.
func AccessText(r supervisor.Request) string {
	o := r.Outcome
	return fmt.Sprintf("%s %s %d %s %s%s", o.Method, o.Path, o.Status, formatBytes(o.Bytes), FormatLatency(o.Latency), routeText(o.Route))
}

// routeText shows the handler or dispatch rule that matched, if any.
func routeText(route string) string {
	if route == "" {
		return ""
	}
	return " [" + route + "]"
}

// Request prints an access line: method, path, status, size and latency.
func (p *Printer) Request(r supervisor.Request) {
	o := r.Outcome
	if p.format == JSONFormat {
		p.writeJSON(jsonLine{
			Time: o.Start, Service: o.Service, Instance: o.Instance, Stream: "request", Line: AccessText(r),
			Method: o.Method, Path: o.Path, Status: o.Status, Bytes: o.Bytes,
			LatencyMS: float64(o.Latency.Microseconds()) / 1000, Route: o.Route,
		})
		return
	}
	fmt.Fprintf(p.w, "%s [request] %s %s %s %s %s%s\n", p.prefix(o.Service, o.Instance),
		o.Method, o.Path, p.statusText(o.Status), formatBytes(o.Bytes), FormatLatency(o.Latency), routeText(o.Route))
}

// Note prints one of appdeck's own lines, such as where a service listens.
func (p *Printer) Note(format string, a ...any) {
	text := fmt.Sprintf(format, a...)
	if p.format == JSONFormat {
		p.writeJSON(jsonLine{Time: time.Now(), Stream: supervisor.System.String(), Line: text})
		return
	}
	fmt.Fprintf(p.w, "appdeck: %s\n", text)
}

// formatBytes writes a size the way access logs do: 512B, 1.5kB, 2.0MB.
func formatBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%dB", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1fkB", float64(n)/1000)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1fMB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1fGB", float64(n)/1e9)
}

// FormatLatency rounds a latency to three significant digits or so:
// 850µs, 12.3ms, 1.25s.
func FormatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
