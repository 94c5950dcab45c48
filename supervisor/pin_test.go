package supervisor

import (
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
)

// TestScalePinsAnAutomaticServiceUntilScaledToAuto scales an automatic
// service by hand: to 0 (its min_idle_instances would start one at once),
// then to 3 (its max_idle_instances would stop two after the cool-down).
// The scaler leaves the pinned number alone, requests get a page that says
// so, and ScaleAuto hands the service back to its rules.
func TestScalePinsAnAutomaticServiceUntilScaledToAuto(t *testing.T) {
	svc, _ := pyService(t, "auto", config.Scaling{Kind: config.Automatic, Automatic: config.AutomaticScaling{
		MaxConcurrentRequests: 10, MaxInstances: 5, MinIdleInstances: 1, MaxIdleInstances: 1,
		MinPendingLatency: 50 * time.Millisecond, MaxPendingLatency: 200 * time.Millisecond}})
	sup := newSupervisor(t, Options{IdleCooldown: 200 * time.Millisecond}, svc)
	ev := record(t, sup)
	url := front(t, sup, "auto")
	waitFor(t, "the idle instance", 20*time.Second, stateIs(sup, "auto", "0", Ready))

	if err := sup.Scale("auto", 0); err != nil {
		t.Fatal(err)
	}
	started := len(scalingEvents(ev, "starting"))
	time.Sleep(time.Second) // long enough for a scaler to undo it many times over
	info := serviceInfo(sup, "auto")
	if len(info.Instances) != 0 || !info.Pinned || info.PinnedTo != 0 {
		t.Fatalf("after scaling to 0: %d instance(s), pinned %v to %d; want none, pinned to 0", len(info.Instances), info.Pinned, info.PinnedTo)
	}
	if n := len(scalingEvents(ev, "starting")); n != started {
		t.Errorf("the scaler started %d instance(s) in a service pinned to 0", n-started)
	}
	if pins := scalingEvents(ev, "pinned to 0 instance(s) by hand"); len(pins) != 1 || pins[0].Instance != "" {
		t.Errorf("pin events %+v, want one for the service", pins)
	}
	if code, body := fetch(url + "/"); code != 503 || !strings.Contains(body, "scaled to 0 instances by hand") || !strings.Contains(body, "scale auto auto") {
		t.Errorf("request to a service pinned to 0: %d\n%s", code, body)
	}

	if err := sup.Scale("auto", 3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three ready", 20*time.Second, func() bool { return liveInstances(sup, "auto") == 3 })
	time.Sleep(time.Second) // five cool-downs: two of the three are surplus idle instances
	if n := len(serviceInfo(sup, "auto").Instances); n != 3 {
		t.Errorf("%d instances in a service pinned to 3", n)
	}
	if stops := scalingEvents(ev, "stopping"); len(stops) != 0 {
		t.Errorf("the scaler stopped instances of a pinned service: %+v", stops)
	}

	if err := sup.Scale("auto", ScaleAuto); err != nil {
		t.Fatal(err)
	}
	if info := serviceInfo(sup, "auto"); info.Pinned {
		t.Error("still pinned after ScaleAuto")
	}
	waitFor(t, "the unpin event", 5*time.Second, func() bool { return len(scalingEvents(ev, "unpinned by hand")) == 1 })
	waitFor(t, "back to max_idle_instances", 20*time.Second, func() bool { return len(serviceInfo(sup, "auto").Instances) == 1 })
}

// TestScaleAutoBringsAManualServiceBackToItsInstances: a manual service
// has no scaler to hand back to; ScaleAuto restores app.yaml's instances.
func TestScaleAutoBringsAManualServiceBackToItsInstances(t *testing.T) {
	svc, _ := pyService(t, "man", manual(2))
	sup := newSupervisor(t, Options{}, svc)
	waitFor(t, "two ready", 20*time.Second, func() bool {
		return instanceInfo(sup, "man", "0").State == Ready && instanceInfo(sup, "man", "1").State == Ready
	})
	if err := sup.Scale("man", 0); err != nil {
		t.Fatal(err)
	}
	if info := serviceInfo(sup, "man"); len(info.Instances) != 0 || info.Pinned {
		t.Fatalf("manual service scaled to 0: %d instance(s), pinned %v", len(info.Instances), info.Pinned)
	}
	if err := sup.Scale("man", ScaleAuto); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "app.yaml's two again", 20*time.Second, func() bool { return liveInstances(sup, "man") == 2 })
}
