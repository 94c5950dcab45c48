package supervisor

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// cfg is the configuration in force, which a reload of app.yaml
	// swaps (see Supervisor.reloadConfig); read it with conf.
	cfg atomic.Pointer[config.Service]
	rt  runtimes.Runtime
	sup *Supervisor
	// Logs holds the service's own lines: builds and appdeck's notes.
	Logs *LogBuffer

	scaleMu sync.Mutex // serializes Scale, Rebuild and reloads

	mu        sync.Mutex
	instances []*Instance
	nextID    int // instance ids are never reused within a run
	art       runtimes.Artifact
	building  bool
	// builds numbers builds in the order they start; applied is the
	// number of the one in service, and running cancels those under
	// way. A build that ends after a newer one was put in service (the
	// one at launch, slow, and an edit's, quick) is of older files: it
	// is discarded, never put in service over the newer one.
	builds   int
	applied  int
	running  map[int]context.CancelFunc
	buildErr error  // nil, or the last build's failure
	buildOut string // output of the last failed build
	errPage  http.Handler
	waiters  list.List // of *waiter, oldest first
	// watcher watches the service's trees once watchFiles runs (Watching
	// in the snapshot); a new skip_files has it walk them again
	// (reconfigure).
	watcher atomic.Pointer[treeWatcher]
	// pinned: Scale set the number of instances of an automatic- or
	// basic-scaling service, pinnedTo; the scaler leaves it alone.
	pinned   bool
	pinnedTo int
	// ownWrites are paths the instances write in the app directory,
	// found by the reload loop; their changes are ignored.
	ownWrites map[string]bool
	// changed, once someone waits for it (changedLocked: the scaler, a
	// drain), is closed at the next change of instance state or load; a
	// change nobody waits for, such as most requests ending, costs
	// nothing. avail is closed and replaced only when what a waiting
	// request can get changes (states, builds), so that waiters do not
	// wake per request.
	changed chan struct{}
	avail   chan struct{}
	// removed are the logs of the last keepRemoved instances removed, oldest
	// first, which Logs still returns: the record of why they went away.
	removed []removedLog
}

// removedLog is the log of a removed instance.
type removedLog struct {
	id   string
	logs *LogBuffer
}

// keepRemoved bounds the removed instances whose logs a service keeps.
// Each is shrunk to the lines it holds (LogBuffer.shrink), so a quiet
// instance's costs little; a scaler removing instance after instance
// keeps only the last few.
const keepRemoved = 5

var _ proxy.Pool = (*Service)(nil)

// conf returns the service's configuration in force.
func (s *Service) conf() *config.Service { return s.cfg.Load() }

func newService(sup *Supervisor, cfg *config.Service) (*Service, error) {
	rt, err := runtimes.For(cfg)
	if err != nil {
		return nil, err
	}
	s := &Service{
		Name: cfg.Name, rt: rt, sup: sup,
		Logs:  NewLogBuffer(sup.opts.LogLines),
		avail: make(chan struct{}),
	}
	s.cfg.Store(cfg)
	sup.attachLogFile(s.Logs, cfg.Name, "")
	return s, nil
}

// scales reports whether the scaler adds and removes instances: automatic
// and basic scaling do, manual scaling runs a fixed number.
func (s *Service) scales() bool { return s.conf().Scaling.Kind != config.Manual }

// sendsStop reports whether App Engine sends /_ah/stop before stopping an
// instance of this service (manual and basic scaling).
func (s *Service) sendsStop() bool { return s.conf().Scaling.Kind != config.Automatic }

// readyRequest is the request App Engine sends a new instance before any
// other: /_ah/start for manual and basic scaling; /_ah/warmup for an
// automatic-scaling instance started ahead of need, when inbound_services
// lists warmup; otherwise none.
func (s *Service) readyRequest(warm bool) string {
	switch {
	case s.conf().Scaling.Kind != config.Automatic:
		return pathStart
	case warm && s.conf().HasInbound("warmup"):
		return pathWarmup
	}
	return ""
}

// start builds the service and launches its instances: a manual-scaling
// service its fixed number; the scaler decides for the others (basic
// scaling starts none until a request comes).
func (s *Service) start(ctx context.Context) {
	s.build(ctx, false)
	if s.conf().Scaling.Kind == config.Manual {
		n := capped(s.conf().Scaling.Manual.Instances, s.sup.opts.MaxInstances)
		if n < s.conf().Scaling.Manual.Instances {
			s.Logs.Add(System, fmt.Sprintf("starting %d of %d instances (--max-instances %d)", n, s.conf().Scaling.Manual.Instances, n))
		}
		for range n {
			s.addInstance(ctx, false)
		}
		return
	}
	s.autoscale(ctx)
}

func (s *Service) addInstance(ctx context.Context, onDemand bool) *Instance {
	s.mu.Lock()
	in := s.newInstanceLocked(onDemand)
	s.mu.Unlock()
	s.runInstance(ctx, in)
	return in
}

// newInstanceLocked adds an instance to the list; runInstance starts it.
// s.mu must be held.
func (s *Service) newInstanceLocked(onDemand bool) *Instance {
	now := time.Now()
	in := &Instance{
		ID: strconv.Itoa(s.nextID), svc: s, onDemand: onDemand, created: now,
		Logs:  NewLogBuffer(s.sup.opts.LogLines),
		cmds:  make(chan command),
		gone:  make(chan struct{}),
		state: Starting, reason: "launching", since: now,
	}
	s.nextID++
	s.sup.attachLogFile(in.Logs, s.Name, in.ID)
	s.instances = append(s.instances, in)
	s.stateChangedLocked()
	return in
}

// runInstance starts the lifecycle goroutine of a new instance.
func (s *Service) runInstance(ctx context.Context, in *Instance) {
	s.sup.wg.Add(1)
	go func() {
		defer s.sup.wg.Done()
		defer close(in.gone)
		in.run(ctx)
	}()
}

func (s *Service) snapshotInstances() []*Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Instance(nil), s.instances...)
}

func (svc *Service) instance(id string) *Instance {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	for _, in := range svc.instances {
		if in.ID == id {
			return in
		}
	}
	return nil
}

// claimLocked marks in as leaving, out of rotation at once; it returns
// false when someone else already removes it. s.mu must be held.
func (s *Service) claimLocked(in *Instance) bool {
	if in.retiring {
		return false
	}
	in.retiring = true
	s.stateChangedLocked()
	return true
}

// retire removes a claimed instance: it drains and stops (with /_ah/stop
// for manual and basic scaling), then leaves the list.
func (s *Service) retire(in *Instance, reason string) error {
	if err := s.sup.send(in, cmdRetire, reason); err != nil {
		return err
	}
	in.Logs.shrink()
	s.mu.Lock()
	for i, x := range s.instances {
		if x == in {
			s.instances = append(s.instances[:i], s.instances[i+1:]...)
			break
		}
	}
	s.removed = append(s.removed, removedLog{in.ID, in.Logs})
	if len(s.removed) > keepRemoved {
		s.removed = slices.Delete(s.removed, 0, len(s.removed)-keepRemoved)
	}
	s.stateChangedLocked()
	s.mu.Unlock()
	in.Logs.closeFile()
	s.Logs.Add(System, fmt.Sprintf("instance %s removed: %s", in.ID, reason))
	return nil
}

// removedLogs returns the log of removed instance id, or nil.
func (s *Service) removedLogs(id string) *LogBuffer {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.removed {
		if r.id == id {
			return r.logs
		}
	}
	return nil
}

// build runs the runtime's build step and puts the result in service.
// force runs every step of it, whatever changed.
func (s *Service) build(ctx context.Context, force bool) {
	s.setBuilding()
	s.publish(s.compile(ctx, force))
}

// buildResult is one run of the runtime's build step.
type buildResult struct {
	art  runtimes.Artifact
	err  error
	out  string // the tool's output, kept when the build failed
	took time.Duration
	seq  int // the build's number, in the order builds start (Service.builds)
	gen  int // for the reload loop: which build this was
}

func (s *Service) setBuilding() {
	s.mu.Lock()
	s.building = true
	s.stateChangedLocked()
	s.mu.Unlock()
	s.sup.events.publish(Event{Kind: BuildStarted, Service: s.Name})
}

// endBuilding ends the building state of a build that is not put in
// service.
func (s *Service) endBuilding() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.building {
		s.building = false
		s.stateChangedLocked()
	}
}

// compile runs the runtime's build step, sending its output to the
// service log. Instances keep serving the previous build meanwhile, and
// restart on it until this one is published: the runtime leaves its
// artifact alone. force runs every step of the build, whatever changed.
func (s *Service) compile(ctx context.Context, force bool) buildResult {
	start := time.Now()
	out := &buildOutput{logs: s.Logs}
	tools, notes := out.writer(Stderr), out.writer(System)
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	running := s.art
	s.builds++
	seq := s.builds
	if s.running == nil {
		s.running = map[int]context.CancelFunc{}
	}
	s.running[seq] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, seq)
		s.mu.Unlock()
		cancel()
	}()
	art, err := s.rt.Build(ctx, runtimes.Build{
		Service:  s.conf(),
		CacheDir: filepath.Join(s.sup.opts.CacheDir, s.Name),
		Options:  s.sup.opts.Runtimes,
		Running:  running,
		Force:    force,
		Notes:    notes,
	}, tools)
	tools.flush()
	notes.flush()
	return buildResult{art: art, err: err, out: out.String(), took: time.Since(start), seq: seq}
}

// publish puts a build in service: the next processes run it, or, if it
// failed, requests get its error page, with the tool's output and
// file:line:col positions. A build that started before the one in
// service is discarded: the newest build decides, failed or not.
func (s *Service) publish(r buildResult) {
	s.mu.Lock()
	if r.seq < s.applied {
		s.mu.Unlock()
		s.Logs.Add(System, "build discarded: a build started after it is in service")
		return
	}
	s.applied = r.seq
	for seq, cancel := range s.running {
		if seq < r.seq {
			cancel() // of older files, and would be discarded
		}
	}
	s.building, s.art, s.buildErr, s.buildOut, s.errPage = false, r.art, r.err, "", nil
	if r.err != nil {
		s.buildOut = r.out
		s.errPage = buildErrorPage(s.conf(), r.err)
	}
	s.stateChangedLocked()
	s.mu.Unlock()
	if r.err != nil {
		s.Logs.Add(System, "build failed: "+r.err.Error())
		s.sup.events.publish(Event{Kind: BuildFailedEvent, Service: s.Name, Reason: r.err.Error()})
		return
	}
	// A build that ran no tool — the runtime has nothing to build, or
	// its notes said why it reused the last build — took no time worth
	// telling.
	if r.art.Built {
		s.Logs.Add(System, fmt.Sprintf("built in %s", r.took.Round(time.Millisecond)))
	}
	s.sup.events.publish(Event{Kind: BuildSucceeded, Service: s.Name})
}

// buildFailure says, for the instances' reason, what the last build's
// failure is in its own words: the error page's heading (a missing tool
// names itself), else the error's first line.
func (s *Service) buildFailure() string {
	s.mu.Lock()
	err := s.buildErr
	s.mu.Unlock()
	var be *runtimes.BuildError
	switch {
	case errors.As(err, &be):
		title, _ := be.Page()
		return title
	case err != nil:
		first, _, _ := strings.Cut(err.Error(), "\n")
		return first
	}
	return "the build failed" // a new build succeeded meanwhile: the next launch uses it
}

// buildErrorPage is the page served in place of an app that did not
// build: every request gets the tool's output, with its file:line:col
// positions, or the missing tool and how to install it, and a 500.
func buildErrorPage(cfg *config.Service, err error) http.Handler {
	var be *runtimes.BuildError
	if errors.As(err, &be) {
		title, detail := be.Page()
		return proxy.ErrorPage(http.StatusInternalServerError, title, detail)
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
	return s.rt.Launch(s.conf(), art, runtimes.Instance{
		ID: in.ID, Port: port, ServerPort: s.sup.opts.Ports[s.Name],
		Project: s.sup.project, Version: s.sup.version, Extra: s.sup.opts.Env,
	})
}

// replaceAll restarts every instance that is not stopped by hand on the
// current build, all at once and each rolling: its new process is ready
// before the old one drains. It returns once every new process serves. A
// failed build is no error: the instances then show it.
func (s *Service) replaceAll(reason string) error {
	var wg sync.WaitGroup
	all := s.snapshotInstances()
	errs := make(chan error, len(all))
	for _, in := range all {
		s.mu.Lock()
		skip := in.retiring || in.state == Stopped || in.state == Draining
		s.mu.Unlock()
		if skip {
			continue // stopped by hand (or leaving): a restart does not undo that
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.sup.send(in, cmdReplace, reason)
			if err != nil && !errors.Is(err, errBuildFailed) && !errors.Is(err, ErrNotFound) {
				errs <- fmt.Errorf("%s/%s: %w", s.Name, in.ID, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// changedLocked returns a channel closed at the next change. s.mu must be
// held.
func (s *Service) changedLocked() <-chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// notifyLocked wakes everyone waiting for a change. s.mu must be held.
func (s *Service) notifyLocked() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// stateChangedLocked wakes waiting requests as well, and hands them any
// room that appeared. s.mu must be held.
func (s *Service) stateChangedLocked() {
	s.notifyLocked()
	close(s.avail)
	s.avail = make(chan struct{})
	s.dispatchLocked()
}

// waitIdle waits until g has no request in flight, at most max.
func (s *Service) waitIdle(g *generation, max time.Duration) {
	deadline := time.NewTimer(max)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		n, wait := g.inflight, s.changedLocked()
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

// buildOutput sends a build's lines to the service log as they come —
// the tools' output tagged stderr, appdeck's notes as its own lines — and
// keeps all of them, in order, for the dashboard.
type buildOutput struct {
	mu   sync.Mutex
	all  bytes.Buffer
	logs *LogBuffer
}

func (o *buildOutput) writer(s Stream) *lineWriter { return &lineWriter{out: o, stream: s} }

func (o *buildOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.TrimSpace(o.all.String())
}

// lineWriter is one stream of a build's output.
type lineWriter struct {
	out     *buildOutput
	stream  Stream
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.out.mu.Lock()
	defer w.out.mu.Unlock()
	w.out.all.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.out.logs.Add(w.stream, Sanitize(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
}

func (w *lineWriter) flush() {
	w.out.mu.Lock()
	defer w.out.mu.Unlock()
	if len(w.partial) > 0 {
		w.out.logs.Add(w.stream, Sanitize(w.partial))
		w.partial = nil
	}
}
