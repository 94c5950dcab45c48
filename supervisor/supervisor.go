// Package supervisor owns everything live: each service's build, its
// instance processes and their lifecycles, their logs, and the events the
// dashboard follows. It implements proxy.Pool for each service.
package supervisor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/runtimes"
)

// Options configures a Supervisor. Zero values take the defaults noted.
type Options struct {
	App *config.App
	// CacheDir holds build output, one subdirectory per service.
	CacheDir string
	// Grace is how long a stopping instance has between SIGTERM and
	// SIGKILL (default 5s).
	Grace time.Duration
	// Env holds --env KEY=VALUE pairs, applied over env_variables.
	Env []string
	// Project is GOOGLE_CLOUD_PROJECT; default the app id, else "test".
	Project string
	// LogLines is the ring size per instance (default 10,000).
	LogLines int
	// ReadyTimeout bounds the wait for an instance to listen (default 60s).
	ReadyTimeout time.Duration
	// PendingTimeout bounds a request's wait for a busy instance
	// (default 10s).
	PendingTimeout time.Duration
	// Ports are the front ports, by service, for Snapshot.
	Ports map[string]int
	// Runtimes are the user's choices for how services are prepared.
	Runtimes runtimes.Options
	// MaxInstances caps the instances of every service, whatever its
	// scaling says (--max-instances); 0 for no cap.
	MaxInstances int
	// IdleCooldown is how long an automatic-scaling instance beyond
	// max_idle_instances stays idle before it stops (default 1m, as
	// dev_appserver.py's minimum between two such stops).
	IdleCooldown time.Duration
	// Watch turns on file watching: a change rebuilds or restarts the
	// service, rolling, as its runtime needs.
	Watch bool
	// WatchIgnore are patterns of app-relative paths (forward slashes)
	// whose changes are ignored, besides skip_files (--watch-ignore).
	WatchIgnore []*regexp.Regexp
	// LogDir, when set, also gets every log as a file: service.log and
	// service-instance.log.
	LogDir string
	// Load, when set, loads the app again as it was loaded at start (the
	// same paths and options). With Watch, a change of app.yaml or
	// dispatch.yaml is then applied live (see reloadConfig); without it,
	// appdeck says to restart.
	Load func() (*config.App, error)
	// Apply, when set, puts a reloaded app in force in the front before
	// the supervisor does (proxy.Router.Reload); an error leaves the
	// previous configuration in force.
	Apply func(*config.App) error
}

// Supervisor runs an app's services.
type Supervisor struct {
	opts     Options
	services []*Service
	events   broker
	conf     confState
	requests *Ring[Request]
	reaper   reaper
	project  string
	version  string

	wg     sync.WaitGroup
	ctx    context.Context // ends when Stop begins
	cancel context.CancelFunc
}

// New checks that every service can be run and prepares them; nothing
// starts until Start.
func New(opts Options) (*Supervisor, error) {
	opts.Grace = orDefault(opts.Grace, 5*time.Second)
	opts.ReadyTimeout = orDefault(opts.ReadyTimeout, 60*time.Second)
	opts.PendingTimeout = orDefault(opts.PendingTimeout, 10*time.Second)
	opts.IdleCooldown = orDefault(opts.IdleCooldown, time.Minute)
	if opts.LogLines <= 0 {
		opts.LogLines = 10000
	}
	if opts.LogDir != "" {
		if err := prepareLogDir(opts.LogDir); err != nil {
			return nil, err
		}
	}
	if opts.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("finding a cache directory: %w", err)
		}
		opts.CacheDir = filepath.Join(dir, "appdeck")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Supervisor{
		opts:   opts,
		ctx:    ctx,
		cancel: cancel,
		// Requests are kept like log lines: a bounded, numbered history.
		requests: NewRing[Request](opts.LogLines),
		project:  firstNonEmpty(opts.Project, opts.App.ID),
		// App Engine names a version deployed without one after its
		// deployment time.
		version: time.Now().UTC().Format("20060102t150405"),
	}
	s.conf.app, s.conf.logged, s.conf.pending, s.conf.warned = opts.App, map[string]bool{}, map[string]string{}, map[string]bool{}
	for _, w := range opts.App.Warnings {
		s.conf.warned[w.String()] = true
	}
	for _, cfg := range opts.App.Services {
		svc, err := newService(s, cfg)
		if err != nil {
			return nil, err
		}
		s.services = append(s.services, svc)
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// Start builds every service concurrently and launches its instances. It
// returns at once; follow progress with Snapshot or Subscribe.
func (s *Supervisor) Start() {
	s.goBackground(s.sampleUsage)
	for _, svc := range s.services {
		s.goBackground(svc.start)
		if s.opts.Watch {
			s.goBackground(svc.watchFiles)
		}
	}
	if file := s.dispatchFile(); file != "" && s.opts.Watch && !s.watchedByAService(file) {
		s.goBackground(func(ctx context.Context) { s.pollDispatch(ctx, file) })
	}
}

// dispatchFile is the dispatch.yaml whose changes count: the one loaded,
// or the one an app directory would have once it is written.
func (s *Supervisor) dispatchFile() string {
	switch app := s.opts.App; {
	case app.Dispatch != nil:
		return app.Dispatch.File
	case app.AppDir != "":
		return filepath.Join(app.AppDir, "dispatch.yaml")
	}
	return ""
}

// goBackground runs f until ctx ends, as part of what Stop waits for.
func (s *Supervisor) goBackground(f func(context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.ctx)
	}()
}

// Stop stops every instance — SIGTERM to each process group, SIGKILL after
// the grace period — and returns when all have exited.
func (s *Supervisor) Stop() {
	s.cancel()
	s.wg.Wait()
	s.reaper.close()
	for _, svc := range s.services {
		for _, in := range svc.snapshotInstances() {
			in.Logs.closeFile()
		}
		svc.Logs.closeFile()
	}
}

// Pool returns the request pool of the named service, or nil.
func (s *Supervisor) Pool(service string) proxy.Pool {
	if svc := s.service(service); svc != nil {
		return svc
	}
	return nil
}

func (s *Supervisor) service(name string) *Service {
	for _, svc := range s.services {
		if svc.Name == name {
			return svc
		}
	}
	return nil
}

// Subscribe returns a channel of events and a function that ends the
// subscription. A subscriber that falls behind misses events.
func (s *Supervisor) Subscribe() (<-chan Event, func()) { return s.events.subscribe() }

// Logs returns the log of an instance, or the service's own log when
// instance is "". It returns nil for unknown names. The logs of the last
// few instances removed (ServiceInfo.Removed) stay readable.
func (s *Supervisor) Logs(service, instance string) *LogBuffer {
	svc := s.service(service)
	switch {
	case svc == nil:
		return nil
	case instance == "":
		return svc.Logs
	}
	if in := svc.instance(instance); in != nil {
		return in.Logs
	}
	return svc.removedLogs(instance)
}

// Restart replaces the instance's process with a new one.
//
// A ready instance is replaced rolling — the new process serves before the
// old one drains — so the restart fails no request and the scaler sees no
// gap to fill; any other is started again at once.
func (s *Supervisor) Restart(service, id string) error {
	in, err := s.lookup(service, id)
	if err != nil {
		return err
	}
	k := cmdRestart
	if in.current() == Ready {
		k = cmdReplace
	}
	return s.send(in, k, "restarted by hand")
}

// StopInstance stops the instance gracefully; it stays stopped.
func (s *Supervisor) StopInstance(service, id string) error { return s.do(service, id, cmdStop) }

// StartInstance starts a stopped instance.
func (s *Supervisor) StartInstance(service, id string) error { return s.do(service, id, cmdStart) }

// Kill ends the instance's process group with SIGKILL; it stays stopped.
func (s *Supervisor) Kill(service, id string) error { return s.do(service, id, cmdKill) }

// MaxScale bounds Scale, so that a typo cannot start a thousand processes.
const MaxScale = 50

// ScaleAuto, given to Scale, hands the number of instances back to the
// service's app.yaml: the scaler of an automatic- or basic-scaling service
// decides again; a manual-scaling service goes back to its `instances`.
const ScaleAuto = -1

// Scale sets the number of instances of a service: new ones start at
// once; those beyond n stop (with /_ah/stop for manual and basic scaling)
// and are removed — stopped, crashed and build-failed instances first,
// then starting ones, then ready ones, idle before busy, newest first
// among equals. For an automatic- or basic-scaling service it
// also pins the number: the scaler adds and removes no instance until
// Scale(service, ScaleAuto); Snapshot shows it as Pinned.
func (s *Supervisor) Scale(service string, n int) error {
	svc := s.service(service)
	if svc == nil {
		return noService(service)
	}
	limit := MaxScale
	if s.opts.MaxInstances > 0 {
		limit = min(limit, s.opts.MaxInstances)
	}
	if n != ScaleAuto && (n < 0 || n > limit) {
		return fmt.Errorf("cannot scale %s to %d instances: choose 0 to %d", service, n, limit)
	}
	svc.scaleMu.Lock()
	defer svc.scaleMu.Unlock()
	switch {
	case n == ScaleAuto && svc.scales():
		svc.unpin()
		return nil
	case n == ScaleAuto:
		n = capped(svc.conf().Scaling.Manual.Instances, s.opts.MaxInstances)
		svc.scaled("", fmt.Sprintf("scaled to %d instance(s) by hand, as app.yaml says", n))
	case svc.scales():
		svc.pin(n)
	default:
		svc.scaled("", fmt.Sprintf("scaled to %d instance(s) by hand", n))
	}
	return svc.scaleTo(s.ctx, n)
}

// pin stops the scaler from changing the number of instances, which Scale
// then sets to n. A decision the scaler made before is not carried out
// after (see apply), so the number Scale sets stays.
func (svc *Service) pin(n int) {
	svc.mu.Lock()
	svc.pinned, svc.pinnedTo = true, n
	svc.mu.Unlock()
	svc.scaled("", fmt.Sprintf("pinned to %d instance(s) by hand: %s scaling adds and removes none until the service is scaled to auto"+
		" (a in the dashboard, or appdeck ctl scale %s auto)", n, svc.conf().Scaling.Kind, svc.Name))
}

// unpin hands the number of instances back to the scaler.
func (svc *Service) unpin() {
	svc.mu.Lock()
	was := svc.pinned
	svc.pinned, svc.pinnedTo = false, 0
	svc.notifyLocked() // the scaler decides again
	svc.mu.Unlock()
	if was {
		svc.scaled("", fmt.Sprintf("unpinned by hand: %s scaling decides the number of instances again", svc.conf().Scaling.Kind))
	}
}

// scaleTo starts instances until n run, or removes those beyond n (see
// surplus), all at once, and returns when they are gone.
func (svc *Service) scaleTo(ctx context.Context, n int) error {
	for svc.live() < n {
		svc.addInstance(ctx, false)
	}
	leaving := svc.claimSurplus(n)
	reason := fmt.Sprintf("scaled to %d instance(s) by hand", n)
	errs := make([]error, len(leaving))
	var wg sync.WaitGroup
	for i, in := range leaving {
		wg.Go(func() { errs[i] = svc.retire(in, reason) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// live counts the instances that are not on their way out.
func (svc *Service) live() int {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	n := 0
	for _, in := range svc.instances {
		if !in.retiring {
			n++
		}
	}
	return n
}

// claimSurplus claims the instances beyond n for removal, those whose
// loss costs least first (removalCost): scaling down by one takes away
// an instance that serves nothing before one that serves, so that a
// stopped instance never outlives the only ready one.
func (svc *Service) claimSurplus(n int) []*Instance {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	var live []*Instance
	for _, in := range svc.instances {
		if !in.retiring {
			live = append(live, in)
		}
	}
	// Newest first among equals, so that the oldest instances (and their
	// low ids) stay; the sort is stable.
	slices.Reverse(live)
	slices.SortStableFunc(live, func(a, b *Instance) int { return cmp.Compare(removalCost(a), removalCost(b)) })
	if len(live) <= n {
		return nil
	}
	leaving := live[:len(live)-n]
	for _, in := range leaving {
		svc.claimLocked(in)
	}
	return leaving
}

// removalCost ranks what removing an instance takes away: nothing for
// one that serves nothing (stopped, crashed, build-failed, draining),
// little for one still starting, then a ready one by the requests it has
// in flight. s.mu must be held.
func removalCost(in *Instance) int {
	switch in.state {
	case Starting:
		return 1
	case Ready:
		return 2 + in.inflight
	}
	return 0
}

// RestartService restarts every running instance of the service, rolling:
// each new process is ready before the old one drains, so no request
// fails. Instances stopped by hand stay stopped.
func (s *Supervisor) RestartService(service string) error {
	svc := s.service(service)
	if svc == nil {
		return noService(service)
	}
	svc.scaleMu.Lock()
	defer svc.scaleMu.Unlock()
	return svc.replaceAll("restarted by hand")
}

// Rebuild builds the service again and replaces its instances, rolling,
// with the new build — or switches the service to its error page if the
// build failed. The build is forced: every step runs even when its inputs
// look unchanged, since the user may have changed what they do not cover
// (a dependency outside the app, the environment).
func (s *Supervisor) Rebuild(service string) error {
	svc := s.service(service)
	if svc == nil {
		return noService(service)
	}
	svc.scaleMu.Lock()
	defer svc.scaleMu.Unlock()
	svc.Logs.Add(System, "rebuilding by hand: a forced build, whatever changed")
	svc.build(s.ctx, true)
	return svc.replaceAll("rebuilt by hand")
}

// do sends a command to the instance and waits until it has taken effect.
func (s *Supervisor) do(service, id string, k cmdKind) error {
	in, err := s.lookup(service, id)
	if err != nil {
		return err
	}
	return s.send(in, k, "")
}

func (s *Supervisor) lookup(service, id string) (*Instance, error) {
	svc := s.service(service)
	if svc == nil {
		return nil, noService(service)
	}
	in := svc.instance(id)
	if in == nil {
		return nil, notFound("no instance %s/%s", service, id)
	}
	return in, nil
}

// send gives the instance's goroutine a command and waits until it has
// taken effect. reason, when set, is why, for the state it leads to.
func (s *Supervisor) send(in *Instance, k cmdKind, reason string) error {
	c := command{kind: k, reason: reason, reply: make(chan error, 1)}
	select {
	case in.cmds <- c:
	case <-in.gone:
		return removed(in)
	case <-s.ctx.Done():
		return ErrStopping
	}
	select {
	case err := <-c.reply:
		return err
	case <-s.ctx.Done():
		return ErrStopping
	}
}
