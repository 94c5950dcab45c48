package supervisor

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
)

// logSet is a LogSource over hand-made logs: the cursor's logic is pure
// given what the source returns.
type logSet struct {
	services []ServiceInfo
	logs     map[string]*LogBuffer // by "service/instance"
}

func (s *logSet) Snapshot() []ServiceInfo { return s.services }

func (s *logSet) Logs(service, instance string) *LogBuffer { return s.logs[service+"/"+instance] }

func newLogSet(size int, names ...string) *logSet {
	s := &logSet{logs: map[string]*LogBuffer{}}
	for _, n := range names {
		svc, id, _ := strings.Cut(n, "/")
		if len(s.services) == 0 || s.services[len(s.services)-1].Name != svc {
			s.services = append(s.services, ServiceInfo{Name: svc})
			s.logs[svc+"/"] = NewLogBuffer(size)
		}
		last := &s.services[len(s.services)-1]
		last.Instances = append(last.Instances, InstanceInfo{Service: svc, ID: id})
		s.logs[n] = NewLogBuffer(size)
	}
	return s
}

func texts(es []LogEntry) string {
	var b []string
	for _, e := range es {
		s := fmt.Sprintf("%s/%s:%s", e.Service, e.Instance, e.Text)
		if e.Dropped > 0 {
			s += fmt.Sprintf("(+%d)", e.Dropped)
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

func TestLogCursorMergesInTimeOrderAndReadsEachLineOnce(t *testing.T) {
	s := newLogSet(100, "web/0", "web/1", "api/0")
	s.logs["web/0"].Add(Stdout, "a")
	s.logs["api/0"].Add(Stdout, "b")
	s.logs["web/"].Add(System, "c")
	s.logs["web/1"].Add(Stderr, "d")
	c := NewLogCursor(s, "", "")
	if got, want := texts(c.Read(10)), "web/0:a api/0:b web/:c web/1:d"; got != want {
		t.Errorf("first read: %s, want %s", got, want)
	}
	if got := c.Read(10); len(got) != 0 {
		t.Errorf("second read repeats lines: %s", texts(got))
	}
	s.logs["api/0"].Add(Stdout, "e")
	if got, want := texts(c.Read(10)), "api/0:e"; got != want {
		t.Errorf("third read: %s, want %s", got, want)
	}
}

func TestLogCursorSelection(t *testing.T) {
	s := newLogSet(100, "web/0", "web/1", "api/0")
	for name, b := range s.logs {
		b.Add(Stdout, name)
	}
	for _, tc := range []struct{ service, instance, want string }{
		{"web", "", "web/:web/ web/0:web/0 web/1:web/1"},
		{"web", "1", "web/1:web/1"},
		{"api", "7", ""},
		{"nope", "", ""},
	} {
		got := texts(NewLogCursor(s, tc.service, tc.instance).Read(10))
		// Every line was added in map order; compare as sets.
		if g, w := sortedFields(got), sortedFields(tc.want); g != w {
			t.Errorf("%q/%q: %s, want %s", tc.service, tc.instance, got, tc.want)
		}
	}
}

func sortedFields(s string) string {
	f := strings.Fields(s)
	slices.Sort(f)
	return strings.Join(f, " ")
}

func TestLogCursorReportsOverflowAndTails(t *testing.T) {
	s := newLogSet(3, "web/0")
	for i := range 5 {
		s.logs["web/0"].Add(Stdout, fmt.Sprint(i))
	}
	if got, want := texts(NewLogCursor(s, "web", "0").Read(10)), "web/0:2(+2) web/0:3 web/0:4"; got != want {
		t.Errorf("from the start: %s, want %s", got, want)
	}
	c := NewLogCursor(s, "web", "0")
	c.Tail(2)
	if got, want := texts(c.Read(10)), "web/0:3 web/0:4"; got != want {
		t.Errorf("tail 2: %s, want %s", got, want)
	}
	c = NewLogCursor(s, "web", "0")
	c.Tail(50) // more than held: no drop reported
	if got, want := texts(c.Read(10)), "web/0:2 web/0:3 web/0:4"; got != want {
		t.Errorf("tail 50: %s, want %s", got, want)
	}
	for i := range 4 {
		s.logs["web/0"].Add(Stdout, fmt.Sprint(5+i))
	}
	if got, want := texts(c.Read(10)), "web/0:6(+1) web/0:7 web/0:8"; got != want {
		t.Errorf("after overflow: %s, want %s", got, want)
	}
}

func TestLogCursorStartsOverOnAReplacedInstance(t *testing.T) {
	s := newLogSet(100, "web/0", "web/1")
	s.logs["web/1"].Add(Stdout, "old")
	s.logs["web/1"].Add(Stdout, "old")
	c := NewLogCursor(s, "", "")
	c.Tail(1) // applies to the first read only
	if got, want := texts(c.Read(10)), "web/1:old"; got != want {
		t.Errorf("first read: %s, want %s", got, want)
	}
	// Scaled down and up again: a new log under the same name.
	s.logs["web/1"] = NewLogBuffer(100)
	s.logs["web/1"].Add(Stdout, "new")
	s.services = append(s.services, ServiceInfo{Name: "api", Instances: []InstanceInfo{{ID: "0"}}})
	s.logs["api/0"] = NewLogBuffer(100)
	s.logs["api/0"].Add(Stdout, "x")
	s.logs["api/0"].Add(Stdout, "y")
	if got, want := texts(c.Read(10)), "web/1:new api/0:x api/0:y"; got != want {
		t.Errorf("after replace: %s, want %s", got, want)
	}
}

func TestLogCursorReadsAtMostMaxPerLog(t *testing.T) {
	s := newLogSet(100, "web/0")
	for i := range 5 {
		s.logs["web/0"].Add(Stdout, fmt.Sprint(i))
	}
	c := NewLogCursor(s, "web", "0")
	var all []string
	for {
		got := c.Read(2)
		if len(got) == 0 {
			break
		}
		if len(got) > 2 {
			t.Fatalf("read %d lines, max 2", len(got))
		}
		all = append(all, texts(got))
	}
	if got, want := strings.Join(all, " "), "web/0:0 web/0:1 web/0:2 web/0:3 web/0:4"; got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

func TestLogCursorReadsTheLastLinesOfARemovedInstance(t *testing.T) {
	s := newLogSet(100, "web/0", "web/1")
	s.logs["web/1"].Add(Stdout, "first")
	c := NewLogCursor(s, "", "")
	if got, want := texts(c.Read(2)), "web/1:first"; got != want {
		t.Fatalf("first read: %s, want %s", got, want)
	}
	// Between two reads the instance writes its last lines and is
	// removed: gone from the snapshot and from the source.
	for _, l := range []string{"a", "b", "c", "stopped"} {
		s.logs["web/1"].Add(Stdout, l)
	}
	s.services[0].Instances = s.services[0].Instances[:1]
	delete(s.logs, "web/1")
	if got, want := texts(c.Read(2)), "web/1:a web/1:b"; got != want {
		t.Errorf("after the removal: %s, want %s", got, want)
	}
	if got, want := texts(c.Read(2)), "web/1:c web/1:stopped"; got != want {
		t.Errorf("then: %s, want %s", got, want)
	}
	if got := c.Read(2); len(got) != 0 {
		t.Errorf("a removed instance read again: %s", texts(got))
	}
	if _, held := c.pos[logName{"web", "1"}]; held {
		t.Error("the cursor still holds the removed instance's log")
	}
}

// TestLogCursorFollowsAScaleDown reads a real instance removed by Scale:
// the lines of its stop, written after the cursor's last read, come out.
func TestLogCursorFollowsAScaleDown(t *testing.T) {
	requireTools(t, "python3")
	sup := newTestSupervisor(t, 2*time.Second, &config.Service{Name: "web", Entrypoint: pyServer, Scaling: manual(2)})
	waitFor(t, "ready", 20*time.Second, func() bool {
		return instanceInfo(sup, "web", "0").State == Ready && instanceInfo(sup, "web", "1").State == Ready
	})
	c := NewLogCursor(sup, "web", "")
	for len(c.Read(1000)) > 0 {
	}
	if err := sup.Scale("web", 1); err != nil {
		t.Fatal(err)
	}
	var last []string
	for _, e := range c.Read(1000) {
		if e.Instance == "1" {
			last = append(last, e.Text)
		}
	}
	if got := strings.Join(last, "\n"); !strings.Contains(got, "draining") || !strings.Contains(got, "stopped: scaled to 1 instance(s) by hand") {
		t.Errorf("lines of the removed instance after the scale-down:\n%s", got)
	}
}
