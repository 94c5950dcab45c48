package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/supervisor"
)

func TestFailureWatch(t *testing.T) {
	state := func(id string, st supervisor.State) supervisor.Event {
		return supervisor.Event{Kind: supervisor.StateChanged, Service: "web", Instance: id, State: st, Reason: "exited: exit status 3"}
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		events []supervisor.Event
		gaps   []time.Duration // before each event
		want   string          // in the reason given by the last event; "" for none
	}{
		{"build failure", []supervisor.Event{{Kind: supervisor.BuildFailedEvent, Service: "web", Reason: "go build failed"}}, nil,
			`service "web" could not be built: go build failed`},
		{"three crashes", []supervisor.Event{state("0", supervisor.Crashed), state("0", supervisor.Crashed), state("0", supervisor.Crashed)}, nil,
			"instance web/0 crashed 3 times in a row (exited: exit status 3)"},
		{"ready briefly in between", []supervisor.Event{state("0", supervisor.Crashed), state("0", supervisor.Ready), state("0", supervisor.Crashed), state("0", supervisor.Ready), state("0", supervisor.Crashed)},
			[]time.Duration{0, time.Second, time.Second, time.Second, time.Second}, "crashed 3 times"},
		{"healthy a minute in between", []supervisor.Event{state("0", supervisor.Crashed), state("0", supervisor.Crashed), state("0", supervisor.Ready), state("0", supervisor.Crashed)},
			[]time.Duration{0, 0, 0, 2 * time.Minute}, ""},
		{"stopped by hand in between", []supervisor.Event{state("0", supervisor.Crashed), state("0", supervisor.Crashed), state("0", supervisor.Stopped), state("0", supervisor.Crashed)}, nil, ""},
		{"different instances", []supervisor.Event{state("0", supervisor.Crashed), state("1", supervisor.Crashed), state("0", supervisor.Crashed), state("1", supervisor.Crashed)}, nil, ""},
	} {
		w := &failureWatch{crashes: map[string]int{}, readyAt: map[string]time.Time{}}
		now, got := t0, ""
		for i, e := range tc.events {
			if i < len(tc.gaps) {
				now = now.Add(tc.gaps[i])
			}
			why := w.note(e, now)
			if why != "" && i < len(tc.events)-1 {
				t.Errorf("%s: failure at event %d: %s", tc.name, i, why)
			}
			got = why
		}
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestAppRoot(t *testing.T) {
	svc := func(dir string) *config.Service { return &config.Service{Dir: dir} }
	for _, tc := range []struct {
		app  *config.App
		want string
	}{
		{&config.App{Services: []*config.Service{svc("/src/app")}}, "/src/app"},
		{&config.App{Services: []*config.Service{svc("/src/app/web"), svc("/src/app/api")}}, "/src/app"},
		{&config.App{Services: []*config.Service{svc("/src/app/web"), svc("/src/app/web/admin")}}, "/src/app/web"},
		{&config.App{Services: []*config.Service{svc("/src/app/web"), svc("/src/application")}}, "/src"},
		{&config.App{Services: []*config.Service{svc("/a/web")}, Dispatch: &config.Dispatch{File: "/a/dispatch.yaml"}}, "/a"},
		{&config.App{Services: []*config.Service{svc("/a"), svc("/b")}}, "/"},
	} {
		if got := appRoot([]string{"given"}, tc.app); got != tc.want {
			t.Errorf("appRoot(%v) = %s, want %s", tc.app.Services[0].Dir, got, tc.want)
		}
	}
	// An app that could not be read: the paths' directories.
	if got := appRoot([]string{"/src/app/web/app.yaml", "/src/app/api/app.yaml"}, nil); got != "/src/app" {
		t.Errorf("appRoot of unread paths = %s, want /src/app", got)
	}
}

func TestAdminPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	o := options{adminHost: "127.0.0.1", adminPort: port}

	// The default port taken: another one, and appdeck says so.
	l, err := listenAdmin(o)
	if err != nil {
		t.Fatalf("default port taken: %v, want a free port instead", err)
	}
	if got := l.Addr().(*net.TCPAddr).Port; got == port || got == 0 {
		t.Errorf("listening on %d", got)
	}
	l.Close()

	// A port the user chose: a clear error.
	o.adminPortSet = true
	if _, err := listenAdmin(o); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("admin port %d is already in use; choose another with --admin-port", port)) {
		t.Errorf("chosen port taken: %v", err)
	}
}
