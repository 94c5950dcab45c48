package admin

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/appdeck/appdeck/supervisor"
)

// The API's JSON: its own types rather than the supervisor's structs, so
// that names are stable for scripts (snake_case, durations in ms) while
// the supervisor changes inside.

// Service is a service and its instances.
type Service struct {
	Name        string `json:"name"`
	Runtime     string `json:"runtime"`
	Scaling     string `json:"scaling"`
	URL         string `json:"url,omitempty"` // where the service answers
	Building    bool   `json:"building"`
	BuildError  string `json:"build_error,omitempty"`
	BuildOutput string `json:"build_output,omitempty"`
	Capacity    int    `json:"capacity"` // concurrent requests per instance
	// Pinned: the number of instances was set by hand and the scaler
	// leaves it until the service is scaled to auto.
	Pinned    bool       `json:"pinned,omitempty"`
	Instances []Instance `json:"instances"`
}

// Instance is one instance of a service.
type Instance struct {
	Service   string    `json:"service"`
	ID        string    `json:"id"`
	State     string    `json:"state"` // starting, ready, draining, stopped, crashed, backoff, build-failed
	Reason    string    `json:"reason,omitempty"`
	Since     time.Time `json:"since,omitzero"` // when it entered State
	PID       int       `json:"pid,omitempty"`
	Port      int       `json:"port,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
	Restarts  int       `json:"restarts"`
	NextTry   time.Time `json:"next_try,omitzero"` // in backoff: when the next start comes
	InFlight  int       `json:"in_flight"`
	Capacity  int       `json:"capacity"`
	Total     int64     `json:"total"` // requests served
	RPS       float64   `json:"rps"`
	P50MS     float64   `json:"p50_ms"`
	P99MS     float64   `json:"p99_ms"`
	CPU       float64   `json:"cpu"` // percent of one core
	RSS       int64     `json:"rss"` // resident memory, bytes
	LastError string    `json:"last_error,omitempty"`
}

// Note says what is worth knowing about an instance beyond its state: why
// it is in it, when the next try comes, its last error; parts joined by sep,
// so the status page and appdeck ctl each read well.
func (in Instance) Note(sep string) string {
	var parts []string
	lastError := in.LastError
	switch {
	// A crash's reason is its last error, which may add the last line on
	// stderr ("reason — line"): said once, in full.
	case in.Reason != "" && (lastError == in.Reason || strings.HasPrefix(lastError, in.Reason+" — ")):
		parts, lastError = append(parts, lastError), ""
	case in.Reason != "":
		parts = append(parts, in.Reason)
	}
	if !in.NextTry.IsZero() {
		parts = append(parts, "next try in "+time.Until(in.NextTry).Round(100*time.Millisecond).String())
	}
	if lastError != "" {
		parts = append(parts, "last error: "+lastError)
	}
	return strings.Join(parts, sep)
}

// Ready is the state of an instance in rotation.
const Ready = "ready"

// LogLine is one line of a log. Instance is "" for the service's own log
// (builds and appdeck's notes); Dropped counts lines of the same log lost
// just before this one because the ring overflowed.
type LogLine struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Service  string    `json:"service"`
	Instance string    `json:"instance"`
	Stream   string    `json:"stream"` // stdout, stderr or appdeck
	Line     string    `json:"line"`
	Dropped  uint64    `json:"dropped,omitempty"`
}

// Request is one request a front server handled.
type Request struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Service   string    `json:"service"`
	Instance  string    `json:"instance"` // "" when no instance took it
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Status    int       `json:"status"`
	Bytes     int64     `json:"bytes"`
	LatencyMS float64   `json:"latency_ms"`
	Route     string    `json:"route,omitempty"`
}

// Event is something that happened; see GET /api/events.
type Event struct {
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"` // state, build-started, build-succeeded, build-failed, notice
	Service  string    `json:"service"`
	Instance string    `json:"instance,omitempty"`
	State    string    `json:"state,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

// Health is the answer of GET /healthz.
type Health struct {
	Status string `json:"status"` // "ok"
	App    string `json:"app"`
	PID    int    `json:"pid"`
}

// errorBody is every error's JSON.
type errorBody struct {
	Message string `json:"message"`
	Status  int    `json:"status"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func serviceOf(si supervisor.ServiceInfo, host string) Service {
	s := Service{
		Name: si.Name, Runtime: si.Runtime, Scaling: si.Scaling, Building: si.Building,
		BuildError: si.BuildErr, BuildOutput: si.BuildOutput, Capacity: si.Capacity, Pinned: si.Pinned,
		Instances: make([]Instance, 0, len(si.Instances)),
	}
	if si.Port != 0 {
		s.URL = "http://" + net.JoinHostPort(host, strconv.Itoa(si.Port))
	}
	for _, in := range si.Instances {
		s.Instances = append(s.Instances, instanceOf(in))
	}
	return s
}

func instanceOf(in supervisor.InstanceInfo) Instance {
	return Instance{
		Service: in.Service, ID: in.ID, State: in.State.String(), Reason: in.Reason, Since: in.Since,
		PID: in.PID, Port: in.Port, StartedAt: in.StartedAt, Restarts: in.Restarts, NextTry: in.NextTry,
		InFlight: in.InFlight, Capacity: in.Capacity, Total: in.Total, RPS: in.RPS,
		P50MS: ms(in.P50), P99MS: ms(in.P99), CPU: in.CPU, RSS: in.RSS, LastError: in.LastError,
	}
}

func logLineOf(e supervisor.LogEntry) LogLine {
	return LogLine{
		Seq: e.Seq, Time: e.Time, Service: e.Service, Instance: e.Instance,
		Stream: e.Stream.String(), Line: e.Text, Dropped: e.Dropped,
	}
}

// Entry turns a line back into the supervisor's form, for printers
// shared with the headless mode.
func (l LogLine) Entry() supervisor.LogEntry {
	s := supervisor.Stdout
	for _, st := range []supervisor.Stream{supervisor.Stderr, supervisor.System} {
		if st.String() == l.Stream {
			s = st
		}
	}
	return supervisor.LogEntry{
		Service: l.Service, Instance: l.Instance, Dropped: l.Dropped,
		Line: supervisor.Line{Seq: l.Seq, Time: l.Time, Stream: s, Text: l.Line},
	}
}

func requestOf(r supervisor.Request) Request {
	o := r.Outcome
	return Request{
		Seq: r.Seq, Time: o.Start, Service: o.Service, Instance: o.Instance, Method: o.Method,
		Path: o.Path, Status: o.Status, Bytes: o.Bytes, LatencyMS: ms(o.Latency), Route: o.Route,
	}
}

var eventKinds = map[supervisor.EventKind]string{
	supervisor.StateChanged:     "state",
	supervisor.BuildStarted:     "build-started",
	supervisor.BuildSucceeded:   "build-succeeded",
	supervisor.BuildFailedEvent: "build-failed",
	supervisor.Notice:           "notice",
	supervisor.ConfigProblem:    "config-problem",
}

func eventOf(e supervisor.Event) Event {
	kind, ok := eventKinds[e.Kind]
	if !ok {
		kind = "notice" // a kind added to the supervisor later
	}
	ev := Event{Time: e.Time, Kind: kind, Service: e.Service, Instance: e.Instance, Reason: e.Reason}
	if e.Kind == supervisor.StateChanged {
		ev.State = e.State.String()
	}
	return ev
}
