package supervisor

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
)

func instanceIDs(sup *Supervisor, service string) string {
	var ids []string
	for _, in := range serviceInfo(sup, service).Instances {
		ids = append(ids, in.ID+":"+in.State.String())
	}
	return strings.Join(ids, " ")
}

// twoReady runs service web with two instances, both ready, and returns
// its front URL.
func twoReady(t *testing.T) (*Supervisor, string) {
	t.Helper()
	svc, _ := pyService(t, "web", manual(2))
	sup := newSupervisor(t, Options{}, svc)
	url := front(t, sup, "web")
	waitFor(t, "both ready", 20*time.Second, func() bool {
		return instanceInfo(sup, "web", "0").State == Ready && instanceInfo(sup, "web", "1").State == Ready
	})
	return sup, url
}

// TestScaleDownRemovesAStoppedInstanceBeforeAReadyOne is the trial's
// repro: with one instance stopped by hand and the other ready, scaling
// down by one must leave the ready one, and the service keeps serving.
func TestScaleDownRemovesAStoppedInstanceBeforeAReadyOne(t *testing.T) {
	sup, url := twoReady(t)
	if err := sup.StopInstance("web", "0"); err != nil {
		t.Fatal(err)
	}
	if err := sup.Scale("web", 1); err != nil {
		t.Fatal(err)
	}
	if got, want := instanceIDs(sup, "web"), "1:ready"; got != want {
		t.Errorf("after scaling down by one: %s, want %s", got, want)
	}
	if code, body := fetch(url + "/"); code != 200 || body != "instance 1" {
		t.Errorf("GET / after the scale-down: %d %q", code, body)
	}
}

// TestScaleDownKeepsABusyInstanceOverAnIdleOne: of two ready instances,
// the one serving a request stays, even when it is the newest, and the
// request finishes.
func TestScaleDownKeepsABusyInstanceOverAnIdleOne(t *testing.T) {
	sup, url := twoReady(t)
	// With web/0 stopped the slow request can only go to web/1; web/0
	// then comes back idle.
	if err := sup.StopInstance("web", "0"); err != nil {
		t.Fatal(err)
	}
	type result struct {
		code int
		body string
	}
	slow := make(chan result, 1)
	go func() {
		code, body := fetch(url + "/?ms=3000")
		slow <- result{code, body}
	}()
	waitFor(t, "the request on web/1", 10*time.Second, func() bool { return instanceInfo(sup, "web", "1").InFlight == 1 })
	if err := sup.StartInstance("web", "0"); err != nil {
		t.Fatal(err)
	}
	if err := sup.Scale("web", 1); err != nil {
		t.Fatal(err)
	}
	if got, want := instanceIDs(sup, "web"), "1:ready"; got != want {
		t.Errorf("after scaling down by one: %s, want %s", got, want)
	}
	if r := <-slow; r.code != 200 || r.body != "instance 1" {
		t.Errorf("the request in flight: %d %q", r.code, r.body)
	}
}

// TestScaleDownOrder: what a scale-down removes first.
func TestScaleDownOrder(t *testing.T) {
	sup := newTestSupervisor(t, time.Second, &config.Service{Name: "web", Entrypoint: "exec sleep 600", Scaling: manual(0)})
	svc := sup.service("web")
	add := func(st State, inflight int) {
		svc.mu.Lock()
		in := svc.newInstanceLocked(false)
		in.state, in.inflight = st, inflight
		svc.mu.Unlock()
	}
	// Instances that never run: their states are set by hand, and the
	// claim is all that is looked at.
	add(Ready, 3)       // 0
	add(Ready, 0)       // 1
	add(Stopped, 0)     // 2
	add(Starting, 0)    // 3
	add(Ready, 0)       // 4
	add(Crashed, 0)     // 5
	add(BuildFailed, 0) // 6
	var order []string
	for _, in := range svc.claimSurplus(1) {
		order = append(order, in.ID)
	}
	if got, want := strings.Join(order, " "), "6 5 2 3 4 1"; got != want {
		t.Errorf("removal order %s, want %s", got, want)
	}
}

// TestRemovedInstancesLeaveTheirLogs: an instance removed by a
// scale-down keeps its log readable — its last lines say why it went —
// and the service's log says it was removed; only the last keepRemoved
// are kept.
func TestRemovedInstancesLeaveTheirLogs(t *testing.T) {
	requireTools(t, "python3")
	sup := newTestSupervisor(t, 2*time.Second, &config.Service{Name: "web", Entrypoint: pyServer, Scaling: manual(1)})
	waitFor(t, "ready", 20*time.Second, stateIs(sup, "web", "0", Ready))
	if err := sup.Scale("web", 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web/1 ready", 20*time.Second, stateIs(sup, "web", "1", Ready))
	if err := sup.Scale("web", 1); err != nil {
		t.Fatal(err)
	}
	if got := serviceInfo(sup, "web").Removed; !slices.Equal(got, []string{"1"}) {
		t.Errorf("Removed = %q, want [1]", got)
	}
	logText := func(service, id string) string {
		buf := sup.Logs(service, id)
		if buf == nil {
			return "<no log>"
		}
		var lines []string
		for _, l := range buf.Tail(100) {
			lines = append(lines, l.Text)
		}
		return strings.Join(lines, "\n")
	}
	if got := logText("web", "1"); !strings.Contains(got, "stopped: scaled to 1 instance(s) by hand") {
		t.Errorf("the removed instance's log:\n%s", got)
	}
	if got := logText("web", ""); !strings.Contains(got, "instance 1 removed: scaled to 1 instance(s) by hand") {
		t.Errorf("the service's log:\n%s", got)
	}
	// A follower that starts after the removal reads it too.
	var read []string
	for _, e := range NewLogCursor(sup, "web", "").Read(1000) {
		if e.Instance == "1" {
			read = append(read, e.Text)
		}
	}
	if got := strings.Join(read, "\n"); !strings.Contains(got, "stopped: scaled to 1 instance(s) by hand") {
		t.Errorf("a new cursor's lines of web/1:\n%s", got)
	}

	// Only the last keepRemoved removed instances keep their logs.
	if err := sup.Scale("web", keepRemoved+1); err != nil {
		t.Fatal(err)
	}
	if err := sup.Scale("web", 1); err != nil {
		t.Fatal(err)
	}
	removed := serviceInfo(sup, "web").Removed
	if len(removed) != keepRemoved || slices.Contains(removed, "1") {
		t.Errorf("Removed = %q, want the last %d removed", removed, keepRemoved)
	}
	if sup.Logs("web", "1") != nil {
		t.Error("the log of the first removed instance is still kept")
	}
}
