package ui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/appdeck/appdeck/supervisor"
)

// fakeSource stands in for the supervisor: the UI's logic is pure given
// what the source returns.
type fakeSource struct {
	services []supervisor.ServiceInfo
	logs     map[string]*supervisor.LogBuffer
}

func (f *fakeSource) Snapshot() []supervisor.ServiceInfo { return f.services }

func (f *fakeSource) Logs(service, instance string) *supervisor.LogBuffer {
	return f.logs[service+"/"+instance]
}

func newFake() *fakeSource {
	f := &fakeSource{logs: map[string]*supervisor.LogBuffer{}}
	now := time.Now()
	f.services = []supervisor.ServiceInfo{
		{Name: "default", Port: 8080, Instances: []supervisor.InstanceInfo{
			{Service: "default", ID: "0", State: supervisor.Ready, PID: 101, Port: 40001, StartedAt: now},
		}},
		{Name: "api", Port: 8081, Instances: []supervisor.InstanceInfo{
			{Service: "api", ID: "0", State: supervisor.Backoff, Reason: "exited: exit status 1", NextTry: now.Add(2500 * time.Millisecond)},
		}},
	}
	for _, k := range []string{"default/0", "api/0", "default/", "api/"} {
		f.logs[k] = supervisor.NewLogBuffer(100)
	}
	for i := range 50 {
		f.logs["default/0"].Add(supervisor.Stdout, "default line "+strings.Repeat("x", i%3)+string(rune('a'+i%26)))
	}
	f.logs["api/0"].Add(supervisor.Stderr, "Traceback: boom")
	return f
}

func plain() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(&bytes.Buffer{})
	r.SetColorProfile(termenv.Ascii)
	return r
}

func TestHeadlessPrintsPrefixedLinesOnce(t *testing.T) {
	f := newFake()
	f.logs["api/"].Add(supervisor.System, "built in 1s")
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one final flush only
	Headless(ctx, f, &out, plain())
	got := out.String()
	for _, want := range []string{"default/0 | default line a\n", "api/0 | Traceback: boom\n", "api | [appdeck] built in 1s\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "default/0 |"); n != 50 {
		t.Errorf("%d default/0 lines, want 50", n)
	}
}
