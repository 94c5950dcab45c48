package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/supervisor"
)

// headlessFake stands in for the supervisor: the printer's output is a
// pure function of what the source holds.
type headlessFake struct {
	services []supervisor.ServiceInfo
	logs     map[string]*supervisor.LogBuffer
	requests *supervisor.Ring[supervisor.Request]
}

func (f *headlessFake) Snapshot() []supervisor.ServiceInfo { return f.services }

func (f *headlessFake) Logs(service, instance string) *supervisor.LogBuffer {
	return f.logs[service+"/"+instance]
}

func (f *headlessFake) Requests() *supervisor.Ring[supervisor.Request] { return f.requests }

func newHeadlessFake() *headlessFake {
	f := &headlessFake{
		logs:     map[string]*supervisor.LogBuffer{},
		requests: supervisor.NewRing[supervisor.Request](10),
		services: []supervisor.ServiceInfo{
			{Name: "default", Instances: []supervisor.InstanceInfo{{ID: "0"}}},
			{Name: "api", Instances: []supervisor.InstanceInfo{{ID: "0"}}},
		},
	}
	for _, k := range []string{"default/0", "api/0", "default/", "api/"} {
		f.logs[k] = supervisor.NewLogBuffer(100)
	}
	for range 50 {
		f.logs["default/0"].Add(supervisor.Stdout, "default line")
	}
	f.logs["api/0"].Add(supervisor.Stderr, "Traceback: boom")
	f.logs["api/"].Add(supervisor.System, "built in 1s")
	f.requests.Append(supervisor.Request{Outcome: proxy.Outcome{
		Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Service: "api", Instance: "0",
		Method: "GET", Path: "/x?y=1", Status: 502, Bytes: 1536, Latency: 12345 * time.Microsecond,
		Route: "dispatch */x → /.*",
	}})
	return f
}

func ascii() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(&bytes.Buffer{})
	r.SetColorProfile(termenv.Ascii)
	return r
}

// runOnce runs a Follower with a context that has already ended: one final
// flush only.
func runOnce(f *headlessFake, format Format, r *lipgloss.Renderer) string {
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	NewFollower(f, NewPrinter(&out, format, r, []string{"default", "api"})).Run(ctx)
	return out.String()
}

func TestHeadlessPrintsPrefixedLinesOnce(t *testing.T) {
	got := runOnce(newHeadlessFake(), TextFormat, ascii())
	for _, want := range []string{
		"default/0 | default line\n",
		"api/0 | Traceback: boom\n",
		"api | [appdeck] built in 1s\n",
		"api/0 | [request] GET /x?y=1 502 1.5kB 12.3ms [dispatch */x → /.*]\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "default/0 |"); n != 50 {
		t.Errorf("%d default/0 lines, want 50", n)
	}
}

func TestHeadlessColoursEachServiceItsOwnWay(t *testing.T) {
	r := lipgloss.NewRenderer(&bytes.Buffer{})
	r.SetColorProfile(termenv.ANSI)
	got := runOnce(newHeadlessFake(), TextFormat, r)
	// Palette colours 6 (cyan) and 5 (magenta), in config order.
	for _, want := range []string{"\x1b[36mdefault/0 |\x1b[0m default line", "\x1b[35mapi/0 |\x1b[0m Traceback", "\x1b[31m502\x1b[0m"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%q", want, got)
		}
	}
}

func TestHeadlessJSONIsOneObjectPerLine(t *testing.T) {
	got := runOnce(newHeadlessFake(), JSONFormat, ascii())
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 53 {
		t.Fatalf("%d lines, want 53 (50 + 1 + 1 log lines, 1 request):\n%s", len(lines), got)
	}
	byStream := map[string]map[string]any{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		for _, k := range []string{"time", "service", "instance", "stream", "line"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%q lacks %q", l, k)
			}
		}
		byStream[m["stream"].(string)] = m
	}
	if m := byStream["stderr"]; m["service"] != "api" || m["instance"] != "0" || m["line"] != "Traceback: boom" {
		t.Errorf("stderr line: %v", m)
	}
	if m := byStream["appdeck"]; m["service"] != "api" || m["instance"] != "" || m["line"] != "built in 1s" {
		t.Errorf("appdeck line: %v", m)
	}
	m := byStream["request"]
	if m["time"] != "2025-01-02T03:04:05Z" || m["status"] != 502.0 || m["path"] != "/x?y=1" || m["latency_ms"] != 12.345 || m["bytes"] != 1536.0 ||
		m["route"] != "dispatch */x → /.*" {
		t.Errorf("request line: %v", m)
	}
}

func TestHeadlessNotesLostLinesAndRequests(t *testing.T) {
	f := newHeadlessFake()
	f.logs["api/0"] = supervisor.NewLogBuffer(2)
	for range 5 {
		f.logs["api/0"].Add(supervisor.Stdout, "x")
	}
	for range 12 {
		f.requests.Append(supervisor.Request{Outcome: proxy.Outcome{Service: "api", Status: 200}})
	}
	got := runOnce(f, TextFormat, ascii())
	for _, want := range []string{"api/0 | [appdeck] … 3 lines dropped", "appdeck: … 3 requests not shown"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

// TestHeadlessPrintsTheLastLinesOfARemovedInstance removes an instance
// between two ticks, after it wrote its last lines: they are printed.
func TestHeadlessPrintsTheLastLinesOfARemovedInstance(t *testing.T) {
	f := newHeadlessFake()
	var out bytes.Buffer
	h := headless{src: f, p: NewPrinter(&out, TextFormat, ascii(), []string{"default", "api"}),
		logs: supervisor.NewLogCursor(f, "", ""), next: 1}
	h.flush()
	f.logs["api/0"].Add(supervisor.Stdout, "shutting down")
	f.logs["api/0"].Add(supervisor.System, "stopped: scaled down")
	f.services[1].Instances = nil // removed by the scaler
	delete(f.logs, "api/0")
	h.flush()
	for _, want := range []string{"api/0 | shutting down\n", "api/0 | [appdeck] stopped: scaled down\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestFollowerRunsContinue: a second Run prints only what came after the
// first, and the printer writes straight to its writer in between, for
// the notes that go there (headless mode's "stopping").
func TestFollowerRunsContinue(t *testing.T) {
	f := newHeadlessFake()
	var out bytes.Buffer
	p := NewPrinter(&out, TextFormat, ascii(), []string{"default", "api"})
	follow := NewFollower(f, p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	follow.Run(ctx)
	p.Note("stopping")
	f.logs["default/0"].Add(supervisor.Stdout, "shutting down")
	follow.Run(ctx)
	_, after, ok := strings.Cut(out.String(), "appdeck: stopping\n")
	if !ok || after != "default/0 | shutting down\n" {
		t.Errorf("output %q, want the first lines, \"stopping\", then only the new line", out.String())
	}
}

func TestFormatLatencyAndBytes(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{850 * time.Microsecond, "850µs"}, {12345 * time.Microsecond, "12.3ms"}, {1254 * time.Millisecond, "1.25s"}} {
		if got := FormatLatency(tc.d); got != tc.want {
			t.Errorf("FormatLatency(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int64
		want string
	}{{13, "13B"}, {1536, "1.5kB"}, {2_500_000, "2.5MB"}} {
		if got := formatBytes(tc.n); got != tc.want {
			t.Errorf("formatBytes(%d) = %s, want %s", tc.n, got, tc.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	if f, err := ParseFormat("json"); err != nil || f != JSONFormat {
		t.Errorf("json: %v %v", f, err)
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "use text or json") {
		t.Errorf("xml: %v", err)
	}
}
