package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/appdeck/appdeck/admin"
	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/supervisor"
)

// listenAdmin binds the admin API's port. When the default port is taken
// appdeck takes a free one and says so (ctl finds it through the state
// file either way); a port the user chose must be free.
func listenAdmin(o options) (net.Listener, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(o.adminHost, strconv.Itoa(o.adminPort)))
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		if err != nil {
			err = fmt.Errorf("listening for the admin API: %w", err)
		}
		return l, err
	}
	if o.adminPortSet {
		return nil, fmt.Errorf("admin port %d is already in use; choose another with --admin-port (0 picks a free one)", o.adminPort)
	}
	l, err = net.Listen("tcp", net.JoinHostPort(o.adminHost, "0"))
	if err != nil {
		return nil, fmt.Errorf("listening for the admin API: %w", err)
	}
	return l, nil
}

// control is the running admin API and the state file that leads
// `appdeck ctl` to it.
type control struct {
	srv   *admin.Server
	url   string // for people: the dashboard header, the headless banner
	state admin.State
	path  string // the state file; "" when it could not be written
	// notices were printed on stderr at start; the dashboard, which
	// covers the screen, shows them again.
	notices []string
}

// notify prints a notice on stderr and keeps it for the dashboard.
func (c *control) notify(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(os.Stderr, "appdeck: "+msg)
	c.notices = append(c.notices, msg)
}

// startControl serves the admin API on l and writes the state file, st
// completed with the API's address and token. A state file that cannot be
// written costs only ctl's discovery, so it is a warning.
func startControl(l net.Listener, sup *supervisor.Supervisor, o options, st admin.State) *control {
	token := admin.NewToken()
	exposed := !proxy.IsLoopbackHost(o.adminHost)
	srv := admin.New(admin.Options{
		Sup: sup, Token: token, App: st.App, TokenForReads: exposed,
		Hosts: proxy.MachineHosts(o.adminHost), ServiceHost: displayHost(o.host),
	})
	go func() {
		if err := srv.Serve(l); err != nil {
			fmt.Fprintln(os.Stderr, "appdeck: admin API:", err)
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	c := &control{srv: srv, url: "http://" + net.JoinHostPort(displayHost(o.adminHost), strconv.Itoa(port))}
	if !o.adminPortSet && port != o.adminPort {
		c.notify("admin port %d is in use; the admin API listens on port %d instead", o.adminPort, port)
	}
	st.Token, st.Admin = token, "http://"+net.JoinHostPort(dialHost(o.adminHost), strconv.Itoa(port))
	c.state = st
	for _, other := range admin.StatesOf(st.Root) {
		c.notify("another appdeck already serves %s (%s, admin %s); `appdeck ctl` there now talks "+
			"to this one, the newest, and to that one with --admin %s", other.Root, describeDeck(other), other.Admin, other.Admin)
	}
	path, err := admin.WriteState(c.state)
	if err != nil {
		c.notify("%v; `appdeck ctl` needs --admin %s", err, c.state.Admin)
	}
	c.path = path
	if exposed {
		c.notify("the admin API (%s) can be reached from other machines, so every "+
			"/api/ call needs its token (appdeck ctl reads it from the state file; elsewhere set APPDECK_TOKEN)", c.url)
	}
	return c
}

// close stops the API and removes the state file.
func (c *control) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.srv.Shutdown(ctx)
	if c.path != "" {
		admin.RemoveState(c.path, c.state)
	}
}

// dialHost is the address a client on this machine reaches a server
// bound to h at: loopback for a wildcard bind.
func dialHost(h string) string {
	switch h {
	case "", "0.0.0.0":
		return "127.0.0.1"
	case "::":
		return "::1"
	}
	return h
}

// appRoot is the directory `appdeck ctl` knows the app by: the directory
// appdeck searched for app.yaml files when given no paths, else the
// deepest directory holding every service and the dispatch file; or, when
// app could not be read (nil), every path.
func appRoot(paths []string, app *config.App) string {
	if len(paths) == 0 {
		if wd, err := os.Getwd(); err == nil {
			return wd
		}
	}
	var dirs []string
	switch {
	case app == nil:
		for _, p := range paths {
			abs, _ := filepath.Abs(p) // fails only without a working directory
			if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
				abs = filepath.Dir(abs)
			}
			dirs = append(dirs, abs)
		}
	default:
		for _, s := range app.Services {
			dirs = append(dirs, s.Dir)
		}
		if app.Dispatch != nil {
			dirs = append(dirs, filepath.Dir(app.Dispatch.File))
		}
	}
	if len(dirs) == 0 {
		return "" // no paths and no working directory
	}
	return commonDir(dirs)
}

// commonDir returns the deepest directory that holds all of dirs, which
// are absolute.
func commonDir(dirs []string) string {
	common := filepath.Clean(dirs[0])
	for _, d := range dirs[1:] {
		d = filepath.Clean(d)
		for common != d && !strings.HasPrefix(d, common+string(filepath.Separator)) && filepath.Dir(common) != common {
			common = filepath.Dir(common)
		}
	}
	return common
}

// crashLoop is how many crashes in a row, each within a minute of the
// instance becoming ready (or without it ever being ready), make a crash
// loop for --exit-on-failure.
const crashLoop = 3

// serviceFailure is why --exit-on-failure stops appdeck.
type serviceFailure struct{ why string }

func (f *serviceFailure) Error() string { return f.why }

// failureWatch follows events for --exit-on-failure. It subscribes when
// made, before the supervisor starts, so that it misses nothing early.
type failureWatch struct {
	events  <-chan supervisor.Event
	cancel  func()
	crashes map[string]int       // by service/instance: crashes in a row
	readyAt map[string]time.Time // when each instance last became ready
}

func newFailureWatch(sup *supervisor.Supervisor, on bool) *failureWatch {
	if !on {
		return nil
	}
	ch, cancel := sup.Subscribe()
	return &failureWatch{events: ch, cancel: cancel, crashes: map[string]int{}, readyAt: map[string]time.Time{}}
}

// run ends ctx, with the reason as its cause, at the first failure.
func (w *failureWatch) run(ctx context.Context, fail context.CancelCauseFunc) {
	defer w.cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-w.events:
			if why := w.note(e, time.Now()); why != "" {
				fail(&serviceFailure{why})
				return
			}
		}
	}
}

// note takes in one event and says what failed, if anything.
func (w *failureWatch) note(e supervisor.Event, now time.Time) string {
	if e.Kind == supervisor.BuildFailedEvent {
		return fmt.Sprintf("service %q could not be built: %s", e.Service, e.Reason)
	}
	if e.Kind != supervisor.StateChanged {
		return ""
	}
	name := e.Service + "/" + e.Instance
	switch e.State {
	case supervisor.Ready:
		w.readyAt[name] = now
	case supervisor.Stopped: // by hand, or on the way to a restart: a new start
		delete(w.crashes, name)
		delete(w.readyAt, name)
	case supervisor.Crashed:
		if t, ok := w.readyAt[name]; ok && now.Sub(t) >= time.Minute {
			delete(w.crashes, name) // it ran well for a while: not a loop
		}
		delete(w.readyAt, name)
		w.crashes[name]++
		if w.crashes[name] >= crashLoop {
			return fmt.Sprintf("instance %s crashed %d times in a row (%s)", name, w.crashes[name], e.Reason)
		}
	}
	return ""
}
