package supervisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/runtimes"
)

// errBuildFailed is what launching reports while the service's last build
// failed; the instance then serves the build error page.
var errBuildFailed = errors.New("the service's build failed")

// Service is one app.yaml: its build and its instances. It is the proxy's
// Pool for that service.
type Service struct {
	Name string
	cfg  *config.Service
	rt   runtimes.Runtime
	sup  *Supervisor
	// Logs holds the service's own lines: builds and appdeck's notes.
	Logs *LogBuffer

	scaleMu sync.Mutex // serializes Scale and Rebuild

	mu        sync.Mutex
	instances []*Instance
	art       runtimes.Artifact
	building  bool
	buildErr  error  // nil, or the last build's failure
	buildOut  string // output of the last failed build
	errPage   http.Handler
	changed   chan struct{} // closed and replaced whenever instance state or load changes
}

var _ proxy.Pool = (*Service)(nil)

func newService(sup *Supervisor, cfg *config.Service) (*Service, error) {
	rt, err := runtimes.For(cfg)
	if err != nil {
		return nil, err
	}
	return &Service{
		Name: cfg.Name, cfg: cfg, rt: rt, sup: sup,
		Logs:    NewLogBuffer(sup.opts.LogLines),
		changed: make(chan struct{}),
	}, nil
}

// initialInstances is how many instances start with the service.
func (s *Service) initialInstances() int {
	switch s.cfg.Scaling.Kind {
	case config.Manual:
		return s.cfg.Scaling.Manual.Instances
	case config.Basic:
		return 1
	}
	return max(1, s.cfg.Scaling.Automatic.MinInstances)
}

// start builds the service and launches its instances.
func (s *Service) start(ctx context.Context) {
	s.build(ctx)
	for range s.initialInstances() {
		s.addInstance(ctx)
	}
}

func (s *Service) addInstance(ctx context.Context) *Instance {
	s.mu.Lock()
	in := &Instance{
		ID: fmt.Sprint(len(s.instances)), svc: s,
		Logs: NewLogBuffer(s.sup.opts.LogLines),
		cmds: make(chan command),
	}
	s.instances = append(s.instances, in)
	s.mu.Unlock()
	s.sup.wg.Add(1)
	go func() {
		defer s.sup.wg.Done()
		in.run(ctx)
	}()
	return in
}

func (s *Service) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.instances)
}

func (s *Service) lastInstance() *Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.instances[len(s.instances)-1]
}

func (s *Service) snapshotInstances() []*Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Instance(nil), s.instances...)
}

func (s *Service) remove(in *Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.instances {
		if x == in {
			s.instances = append(s.instances[:i], s.instances[i+1:]...)
			break
		}
	}
	s.notifyLocked()
}

// build runs the runtime's build step, keeping the output of a failure
// for the error page and the dashboard.
func (s *Service) build(ctx context.Context) {
	s.mu.Lock()
	s.building = true
	s.mu.Unlock()
	s.sup.events.publish(Event{Kind: BuildStarted, Service: s.Name})
	start := time.Now()
	var out bytes.Buffer
	lw := &lineWriter{buf: &out, logs: s.Logs}
	art, err := s.rt.Build(ctx, runtimes.Build{
		Service:  s.cfg,
		CacheDir: filepath.Join(s.sup.opts.CacheDir, s.Name),
	}, lw)
	lw.flush()
	s.mu.Lock()
	s.building, s.art, s.buildErr, s.buildOut, s.errPage = false, art, err, "", nil
	if err != nil {
		s.buildOut = strings.TrimSpace(out.String())
		s.errPage = buildErrorPage(s.cfg, err)
	}
	s.notifyLocked()
	s.mu.Unlock()
	if err != nil {
		s.Logs.Add(System, "build failed: "+err.Error())
		s.sup.events.publish(Event{Kind: BuildFailedEvent, Service: s.Name, Reason: err.Error()})
		return
	}
	s.Logs.Add(System, fmt.Sprintf("built in %s", time.Since(start).Round(time.Millisecond)))
	s.sup.events.publish(Event{Kind: BuildSucceeded, Service: s.Name})
}

// buildErrorPage is the page served in place of an app that did not
// build: every request gets the tool's output, with its file:line:col
// positions, and a 500.
func buildErrorPage(cfg *config.Service, err error) http.Handler {
	var be *runtimes.BuildError
	if errors.As(err, &be) {
		title := fmt.Sprintf("The %s application could not be built.", be.Runtime)
		return proxy.ErrorPage(http.StatusInternalServerError, title,
			fmt.Sprintf("(Executed command: %s)\n\n%s", be.Command, strings.TrimSpace(be.Output)))
	}
	return proxy.ErrorPage(http.StatusInternalServerError,
		fmt.Sprintf("Service %q could not be prepared to run.", cfg.Name), err.Error())
}

// launchSpec describes how to start instance in on port.
func (s *Service) launchSpec(in *Instance, port int) (runtimes.LaunchSpec, error) {
	s.mu.Lock()
	art, err := s.art, s.buildErr
	s.mu.Unlock()
	if err != nil {
		return runtimes.LaunchSpec{}, errBuildFailed
	}
	return s.rt.Launch(s.cfg, art, runtimes.Instance{
		ID: in.ID, Port: port,
		Project: s.sup.project, Version: s.sup.version, Extra: s.sup.opts.Env,
	})
}

// notifyLocked wakes everyone waiting for a change. s.mu must be held.
func (s *Service) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Acquire implements proxy.Pool: it picks the ready instance with the most
// room, waiting for room when every ready instance is busy. With none
// ready it answers at once with the reason: starting, crashed, stopped or
// a failed build (whose error page then serves the request).
func (s *Service) Acquire(ctx context.Context) (*proxy.Lease, error) {
	var deadline <-chan time.Time // made on the first wait: most requests find room at once
	for {
		s.mu.Lock()
		if in := s.pickLocked(); in != nil {
			in.inflight++
			h := in.handler
			s.mu.Unlock()
			return &proxy.Lease{Handler: h, Instance: in.ID, Done: func(o proxy.Outcome) { s.release(in) }}, nil
		}
		if s.errPage != nil {
			h := s.errPage
			s.mu.Unlock()
			return &proxy.Lease{Handler: h, Instance: "build-failed", Done: func(proxy.Outcome) {}}, nil
		}
		if u := s.unavailableLocked(); u != nil {
			s.mu.Unlock()
			return nil, u
		}
		wait := s.changed
		s.mu.Unlock()
		if deadline == nil {
			t := time.NewTimer(s.sup.opts.PendingTimeout)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline:
			return nil, &proxy.Unavailable{Status: http.StatusServiceUnavailable, Timeout: true,
				Title:  fmt.Sprintf("Every instance of service %q stayed busy for %s", s.Name, s.sup.opts.PendingTimeout),
				Detail: fmt.Sprintf("Each instance takes %d requests at once.", s.cfg.Capacity())}
		}
	}
}

// pickLocked returns the ready instance with the most free capacity.
func (s *Service) pickLocked() *Instance {
	var best *Instance
	limit := s.cfg.Capacity()
	for _, in := range s.instances {
		if in.state == Ready && in.inflight < limit && (best == nil || in.inflight < best.inflight) {
			best = in
		}
	}
	return best
}

// unavailableLocked explains why no instance can take a request now, or
// returns nil when one is ready but busy (worth waiting for).
func (s *Service) unavailableLocked() *proxy.Unavailable {
	var starting, crashed *Instance
	for _, in := range s.instances {
		switch in.state {
		case Ready:
			return nil
		case Starting:
			starting = in
		case Crashed, Backoff:
			crashed = in
		}
	}
	switch {
	case s.building:
		return &proxy.Unavailable{Status: http.StatusServiceUnavailable, RetryAfter: 1,
			Title: fmt.Sprintf("Service %q is building", s.Name), Detail: "This page reloads itself when the build is done."}
	case starting != nil:
		return &proxy.Unavailable{Status: http.StatusServiceUnavailable, RetryAfter: 1,
			Title: fmt.Sprintf("Service %q is starting", s.Name), Detail: starting.reason}
	case crashed != nil:
		detail := crashed.reason
		if tail := stderrTail(crashed.Logs, 20); tail != "" {
			detail += "\n\nLast lines on stderr:\n" + tail
		}
		return &proxy.Unavailable{Status: http.StatusBadGateway,
			Title: fmt.Sprintf("Instance %s/%s crashed", s.Name, crashed.ID), Detail: detail}
	}
	return &proxy.Unavailable{Status: http.StatusServiceUnavailable,
		Title:  fmt.Sprintf("Service %q has no running instance", s.Name),
		Detail: "Every instance is stopped. Start one from the dashboard (s) or with `appdeck ctl start " + s.Name + "`."}
}

func (s *Service) release(in *Instance) {
	s.mu.Lock()
	in.inflight--
	in.total++
	s.notifyLocked()
	s.mu.Unlock()
}

// waitIdle waits until in has no request in flight, at most max.
func (s *Service) waitIdle(in *Instance, max time.Duration) {
	deadline := time.NewTimer(max)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		n, wait := in.inflight, s.changed
		s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-wait:
		case <-deadline.C:
			return
		}
	}
}

// lineWriter sends a build's output to the service log line by line while
// keeping all of it.
type lineWriter struct {
	buf     *bytes.Buffer
	logs    *LogBuffer
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.logs.Add(Stderr, Sanitize(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
}

func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		w.logs.Add(Stderr, Sanitize(w.partial))
		w.partial = nil
	}
}
