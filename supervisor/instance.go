package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/appdeck/appdeck/proxy"
)

// Crash-loop backoff: the first restart comes quickly, repeated crashes
// wait ever longer, and an instance that stayed up a while starts over.
const (
	backoffMin   = 500 * time.Millisecond
	backoffMax   = 30 * time.Second
	healthyAfter = time.Minute
)

// instanceHost is where appdeck picks free ports for instances, and where
// it reaches them unless they listen on IPv6 loopback only (loopbackHosts).
const instanceHost = "127.0.0.1"

// loopbackHosts are where appdeck looks for an instance, in order: an
// app that listens on "localhost" may get ::1 alone (Node.js 17 and
// later, where the resolver puts ::1 first).
var loopbackHosts = []string{instanceHost, "::1"}

// Instance is one instance of a service. Its lifecycle is owned by one
// goroutine (run), the only one that changes its state; others talk to it
// through commands and read its fields under the service's lock.
type Instance struct {
	ID   string
	svc  *Service
	Logs *LogBuffer
	cmds chan command
	gone chan struct{} // closed when the lifecycle goroutine has returned
	// onDemand marks an instance started for waiting requests: its first
	// process gets no /_ah/warmup, as in App Engine.
	onDemand bool
	created  time.Time

	// Guarded by svc.mu.
	state     State
	reason    string
	since     time.Time
	history   []Transition // the last historySize transitions
	cur       *generation  // the process in rotation or starting; nil when none
	restarts  int
	nextTry   time.Time
	inflight  int       // requests in flight, over every generation
	idleSince time.Time // when inflight last dropped to zero
	busySince time.Time // when inflight last rose from zero
	retiring  bool      // being removed by Scale or the scaler
	load      load
	lastError string
	usage     usage
}

// generation is one process of an instance. A rolling replace runs two
// for a moment: the old one serving while the new one starts.
type generation struct {
	proc      *process
	ho        *handover // how the process tells its port
	port      int       // guarded by svc.mu once the process runs
	addr      string    // host:port where it serves, set with port
	startedAt time.Time
	// Guarded by svc.mu.
	fwd      *proxy.Forwarder // set once the process is ready
	inflight int
}

type cmdKind int

const (
	cmdStart cmdKind = iota
	cmdStop
	cmdKill
	cmdRestart
	cmdRetire  // stop for good: the instance is being removed
	cmdReplace // rolling restart: the new process is ready before the old one drains
)

var cmdNames = [...]string{"start", "stop", "kill", "restart", "remove", "replace"}

// command asks the lifecycle goroutine to act; reply receives one value
// once the action has taken effect: the process stopped, the new one
// launched, or (for a replace) the new one serving.
type command struct {
	kind   cmdKind
	reason string // why, for the state it leads to; "" for the default
	reply  chan error
}

func (c *command) done(err error) {
	if c != nil {
		c.reply <- err
	}
}

// errSuperseded answers a replace that a later command made pointless.
var errSuperseded = errors.New("superseded by a later command")

// outcome is why one process run ended: a command, a crash (with the
// reason and how long it had been up), a failed build, or shutdown.
type outcome struct {
	cmd         *command
	crashed     string
	upFor       time.Duration
	buildFailed bool
}

// run is the instance's lifecycle loop. It returns when ctx ends, after
// stopping the process, or once the instance is removed.
func (in *Instance) run(ctx context.Context) {
	delay := backoffMin
	var pending *command // a start or restart to answer once launched
	want, warm := true, !in.onDemand
	for ctx.Err() == nil { // an instance added as appdeck stops never starts
		if !want {
			c, ok := in.await(ctx)
			if !ok {
				return
			}
			switch {
			case c.kind == cmdRetire:
				c.done(nil)
				return
			case c.kind == cmdStart || c.kind == cmdRestart,
				// A new build brings back an instance whose build failed,
				// never one stopped by hand.
				c.kind == cmdReplace && in.current() == BuildFailed:
				want, pending, delay = true, c, backoffMin
			case (c.kind == cmdStop || c.kind == cmdKill) && in.current() == BuildFailed:
				// No process to end, but stopped it stays: the next
				// good build does not bring it back.
				in.setState(Stopped, stopReasons[cmdStop]) // no process: no SIGKILL to speak of
				c.done(nil)
			default:
				c.done(in.conflict(c.kind))
			}
			continue
		}
		res := in.runProcess(ctx, pending, warm)
		pending, warm = nil, true
		switch {
		case ctx.Err() != nil:
			res.cmd.done(nil)
			return
		case res.cmd != nil && (res.cmd.kind == cmdRestart || res.cmd.kind == cmdReplace):
			in.countRestart()
			pending, delay = res.cmd, backoffMin
		case res.cmd != nil: // stop, kill or retire
			res.cmd.done(nil)
			if res.cmd.kind == cmdRetire {
				return
			}
			want = false
		case res.buildFailed:
			want = false
		case res.crashed != "":
			if res.upFor >= healthyAfter {
				delay = backoffMin
			}
			var retired bool
			want, pending, retired = in.backoff(ctx, res.crashed, delay)
			if retired {
				return
			}
			delay = min(delay*2, backoffMax)
		}
	}
}

// await waits for a command while no process runs.
func (in *Instance) await(ctx context.Context) (*command, bool) {
	select {
	case c := <-in.cmds:
		return &c, true
	case <-ctx.Done():
		return nil, false
	}
}

// backoff waits before restarting a crashed instance. A stop or kill
// meanwhile is final: the restart policy never undoes it. A replace (new
// code) restarts at once: it may be the fix.
func (in *Instance) backoff(ctx context.Context, reason string, delay time.Duration) (restart bool, pending *command, retired bool) {
	in.noteError(reason)
	in.setState(Crashed, reason)
	in.svc.mu.Lock()
	in.nextTry = time.Now().Add(delay)
	in.svc.mu.Unlock()
	in.setState(Backoff, reason) // NextTry says when the restart comes
	in.Logs.Add(System, fmt.Sprintf("next try in %s", delay))
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			in.countRestart()
			return true, nil, false
		case c := <-in.cmds:
			switch c.kind {
			case cmdStart, cmdRestart, cmdReplace:
				in.countRestart()
				return true, &c, false
			default:
				in.setState(Stopped, "stopped by hand after a crash")
				c.done(nil)
				return false, nil, c.kind == cmdRetire
			}
		case <-ctx.Done():
			in.setState(Stopped, "appdeck shut down")
			return false, nil, false
		}
	}
}

func (in *Instance) current() State {
	in.svc.mu.Lock()
	defer in.svc.mu.Unlock()
	return in.state
}

func (in *Instance) countRestart() {
	in.svc.mu.Lock()
	in.restarts++
	in.svc.mu.Unlock()
}

// noteError keeps msg, with the last line the app wrote to stderr, as
// the instance's last error.
func (in *Instance) noteError(msg string) {
	if tail := stderrTail(in.Logs, 1); tail != "" {
		msg += " — " + tail
	}
	in.svc.mu.Lock()
	in.lastError = msg
	in.svc.mu.Unlock()
}

// conflict says why command k cannot be carried out in the instance's
// state, in a few words.
func (in *Instance) conflict(k cmdKind) error {
	name, st := in.svc.Name+"/"+in.ID, in.current()
	switch {
	case k == cmdStart && st == Starting:
		return conflictf("%s is already starting", name)
	case k == cmdStart:
		return conflictf("%s is already running", name)
	case st == Stopped:
		return conflictf("%s is already stopped", name)
	}
	return conflictf("cannot %s %s: it is %s", cmdNames[k], name, st)
}

// runProcess launches one process and follows it until it exits, a
// command ends it, or ctx ends.
func (in *Instance) runProcess(ctx context.Context, pending *command, warm bool) outcome {
	in.setState(Starting, "launching")
	g, err := in.launch()
	if errors.Is(err, errBuildFailed) {
		in.setState(BuildFailed, in.svc.buildFailure())
		pending.done(err)
		return outcome{buildFailed: true}
	}
	pending.done(err)
	if err != nil {
		return outcome{crashed: err.Error()}
	}
	return in.follow(ctx, g, warm)
}

// launch starts a process of the current build on a free port.
func (in *Instance) launch() (*generation, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	spec, err := in.svc.launchSpec(in, port)
	if err != nil {
		return nil, err
	}
	for _, w := range spec.Warnings {
		in.Logs.Add(System, "warning: "+w)
	}
	ho, err := newHandover(&spec, port, in.Logs)
	if err != nil {
		return nil, err
	}
	p, err := startProcess(spec, &in.svc.sup.reaper, in.Logs)
	if err != nil {
		ho.close()
		return nil, fmt.Errorf("could not start %s: %v", spec.Argv[0], err)
	}
	return &generation{proc: p, ho: ho, port: port, startedAt: time.Now()}, nil
}

// settlePort records the port g turned out to serve on: the one it was
// given, or the one it reported (port file or stdout handover).
func (in *Instance) settlePort(g *generation) {
	in.svc.mu.Lock()
	g.port, g.addr = g.ho.port, g.ho.addr
	in.svc.mu.Unlock()
}

// watched is a generation on its way to readiness.
type watched struct {
	g      *generation
	ready  <-chan error // nil once the result is in
	cmd    *command     // the replace to answer once it serves
	cancel context.CancelFunc
}

// watch starts checking that g is ready: listening on its port, then
// answered /_ah/start or /_ah/warmup when App Engine would send them.
func (in *Instance) watch(ctx context.Context, g *generation, warm bool, cmd *command) *watched {
	ctx, cancel := context.WithCancel(ctx)
	ready := make(chan error, 1)
	go func() { ready <- in.becomeReady(ctx, g, warm) }()
	return &watched{g: g, ready: ready, cmd: cmd, cancel: cancel}
}

func (in *Instance) becomeReady(ctx context.Context, g *generation, warm bool) error {
	timeout := in.svc.sup.opts.ReadyTimeout
	start := time.Now()
	defer g.ho.close() // the port file, if any, has served its purpose
	if err := g.ho.wait(ctx, g.proc, timeout); err != nil {
		return err
	}
	path := in.svc.readyRequest(warm)
	if path == "" {
		return nil
	}
	err := in.lifecycleRequest(ctx, g.ho.addr, path, max(timeout-time.Since(start), time.Second))
	if err != nil && g.proc.exited() {
		return fmt.Errorf("exited during GET %s: %s", path, exitReason(g.proc.err))
	}
	return err
}

// follow runs the instance on g until g exits, a command ends it, or ctx
// ends. A replace command starts a candidate process next to g; once the
// candidate is ready it takes g's place and g drains in the background.
func (in *Instance) follow(ctx context.Context, g *generation, warm bool) outcome {
	in.adopt(g, "waiting for the app: "+g.ho.what())
	cur := in.watch(ctx, g, warm, nil)
	var cand *watched
	defer func() {
		cur.cancel()
		in.abandon(cand, errSuperseded)
	}()
	for {
		var candReady <-chan error
		if cand != nil {
			candReady = cand.ready
		}
		select {
		case err := <-cur.ready:
			cur.ready = nil
			if err != nil {
				cur.cmd.done(err)
				cur.g.proc.stop(in.svc.sup.opts.Grace)
				return outcome{crashed: err.Error()}
			}
			in.settlePort(cur.g)
			in.setReady(cur.g, "")
			cur.cmd.done(nil)
			cur.cmd = nil
		case <-cur.g.proc.done:
			why := "exited: " + exitReason(cur.g.proc.err)
			if cur.ready != nil {
				why = fmt.Sprintf("exited before %s: %s", cur.g.ho.what(), exitReason(cur.g.proc.err))
				cur.cmd.done(errors.New(why))
			}
			if cand == nil {
				return outcome{crashed: why, upFor: time.Since(cur.g.startedAt)}
			}
			// The old process died while its replacement starts: wait
			// for the replacement rather than restart.
			in.noteError(why)
			cur.cancel()
			cur, cand = cand, nil
			in.adopt(cur.g, "the previous process "+why+"; waiting for its replacement")
		case err := <-candReady:
			cand.ready = nil
			if err != nil {
				// The new code does not start: take the crash path with
				// its reason rather than keep serving the old code.
				in.abandon(cand, err)
				cand = nil
				in.background(func() { in.drain(cur.g, true) })
				return outcome{crashed: "the new process failed: " + err.Error()}
			}
			old := cur.g
			cur.cancel()
			cur, cand = cand, nil
			in.countRestart()
			in.settlePort(cur.g)
			in.setReady(cur.g, "")
			msg := fmt.Sprintf("replaced: pid %d took over on port %d; pid %d drains", cur.g.proc.cmd.Process.Pid, cur.g.port, old.proc.cmd.Process.Pid)
			in.Logs.Add(System, msg)
			in.svc.sup.events.publish(Event{Kind: Notice, Service: in.svc.Name, Instance: in.ID, Reason: msg})
			cur.cmd.done(nil)
			cur.cmd = nil
			in.background(func() { in.drain(old, true) })
		case c := <-in.cmds:
			if out, ok := in.command(ctx, &c, &cur, &cand); ok {
				return out
			}
		case <-ctx.Done():
			// Every instance stops at once: /_ah/stop goes to all that
			// serve, each within the grace period.
			in.stopProcess(cur.g, cmdStop, "appdeck shut down", cur.ready == nil)
			return outcome{}
		}
	}
}

// command carries out c while a process runs. It returns true with the
// outcome when the process run is over.
func (in *Instance) command(ctx context.Context, c *command, cur, cand **watched) (outcome, bool) {
	switch c.kind {
	case cmdStart:
		c.done(in.conflict(c.kind))
		return outcome{}, false
	case cmdReplace:
		if (*cur).ready == nil { // serving: start the candidate next to it
			return in.replace(ctx, c, cur, cand)
		}
		// Still starting: nothing to keep serving; restart it.
	}
	in.abandon(*cand, errSuperseded)
	*cand = nil
	in.stopProcess((*cur).g, c.kind, c.reason, true)
	return outcome{cmd: c}, true
}

// replace launches a candidate process for a rolling restart. A failed
// build ends the run: the service now serves its error page.
func (in *Instance) replace(ctx context.Context, c *command, cur, cand **watched) (outcome, bool) {
	in.abandon(*cand, errSuperseded)
	*cand = nil
	g, err := in.launch()
	switch {
	case errors.Is(err, errBuildFailed):
		in.stopProcess((*cur).g, cmdStop, "the new build failed", true)
		in.setState(BuildFailed, in.svc.buildFailure())
		c.done(err)
		return outcome{buildFailed: true}, true
	case err != nil:
		in.noteError(err.Error())
		c.done(err)
		return outcome{}, false
	}
	why := ""
	if c.reason != "" {
		why = " (" + c.reason + ")"
	}
	in.Logs.Add(System, fmt.Sprintf("replacing%s: started pid %d on port %d", why, g.proc.cmd.Process.Pid, g.port))
	*cand = in.watch(ctx, g, true, c)
	return outcome{}, false
}

// abandon stops a candidate that will not take over, in the background:
// it serves nothing, and the lifecycle should not wait for it.
func (in *Instance) abandon(w *watched, why error) {
	if w == nil {
		return
	}
	w.cancel()
	w.cmd.done(why)
	in.background(func() { w.g.proc.stop(in.svc.sup.opts.Grace) })
}

// background runs f in a goroutine that Stop waits for.
func (in *Instance) background(f func()) {
	in.svc.sup.wg.Add(1)
	go func() {
		defer in.svc.sup.wg.Done()
		f()
	}()
}

// stopReasons says where each command leaves the instance.
var stopReasons = map[cmdKind]string{
	cmdStop:    "stopped by hand",
	cmdKill:    "killed by hand (SIGKILL)",
	cmdRestart: "restarting",
	cmdReplace: "restarting",
	cmdRetire:  "removed",
}

// stopProcess takes the instance out of rotation and ends g: at once for
// a kill, otherwise after requests in flight finish (at most the grace
// period), with /_ah/stop when App Engine would send it and tell is set,
// then SIGTERM and SIGKILL.
func (in *Instance) stopProcess(g *generation, k cmdKind, reason string, tell bool) {
	final := stopReasons[k]
	if reason != "" {
		final = reason
	}
	if k == cmdKill {
		in.setState(Draining, "killing")
		g.proc.signal(syscall.SIGKILL)
		<-g.proc.done
		in.setState(Stopped, final)
		return
	}
	in.setState(Draining, "finishing requests in flight")
	in.drain(g, tell)
	in.setState(Stopped, final)
}

// drain waits for g's requests to finish (within the grace period), sends
// /_ah/stop to manual and basic scaling instances when tell is set (within
// stopPeriod), and ends the process.
func (in *Instance) drain(g *generation, tell bool) {
	grace := in.svc.sup.opts.Grace
	in.svc.waitIdle(g, grace)
	// A process that never got ready (no addr) has no one to tell.
	if tell && in.svc.sendsStop() && g.addr != "" && !g.proc.exited() {
		if err := in.lifecycleRequest(context.Background(), g.addr, pathStop, stopPeriod); err != nil {
			in.Logs.Add(System, err.Error())
		}
	}
	g.proc.stop(grace)
}

// stopPeriod is how long GET /_ah/stop may take, apart from --grace:
// App Engine's shutdown period, which apps that flush their work in
// /_ah/stop count on (dev_appserver.py waits as long).
const stopPeriod = 30 * time.Second

// adopt makes g the instance's process, starting.
func (in *Instance) adopt(g *generation, reason string) {
	in.svc.mu.Lock()
	in.cur = g
	in.svc.mu.Unlock()
	in.setState(Starting, reason)
}

// setReady puts g in rotation as the instance's process.
func (in *Instance) setReady(g *generation, reason string) {
	fwd := proxy.NewForwarder(g.addr, in.svc.conf().Capacity(), func() string { return in.explain(g) })
	// Whichever way the process ends (crash, stop, kill, or replaced and
	// drained), the connections kept alive to it go with it.
	in.background(func() {
		<-g.proc.done
		fwd.Close()
	})
	in.svc.mu.Lock()
	g.fwd, in.cur = fwd, g
	// Waiters may take the new process's room even when the state does
	// not change (a replace, from ready to ready).
	in.svc.stateChangedLocked()
	in.svc.mu.Unlock()
	in.setState(Ready, reason)
}

// explain says why g failed a request it was given: how its process
// ended and the last lines it wrote to stderr.
func (in *Instance) explain(g *generation) string {
	select { // a crash is noticed a moment after the connection breaks
	case <-g.proc.done:
	case <-time.After(100 * time.Millisecond):
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Instance %s/%s (pid %d) exited: %s.", in.svc.Name, in.ID, g.proc.cmd.Process.Pid, exitReason(g.proc.err))
	if tail := stderrTail(in.Logs, 20); tail != "" {
		b.WriteString("\n\nLast lines on stderr:\n" + tail)
	}
	return b.String()
}

// stderrTail returns up to n of the last stderr lines, joined.
func stderrTail(l *LogBuffer, n int) string {
	var lines []string
	for _, ln := range l.Tail(200) {
		if ln.Stream == Stderr {
			lines = append(lines, ln.Text)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// setState moves the instance to st, notes it in the log and publishes
// it. A move the state machine does not allow is refused and reported:
// it would be a bug in the lifecycle.
func (in *Instance) setState(st State, reason string) {
	s := in.svc
	s.mu.Lock()
	from := in.state
	if from == st && in.reason == reason {
		s.mu.Unlock()
		return
	}
	if !canMove(from, st) {
		s.mu.Unlock()
		msg := fmt.Sprintf("internal error: refused to move from %s to %s (%s)", from, st, reason)
		in.Logs.Add(System, msg)
		s.sup.events.publish(Event{Kind: Notice, Service: s.Name, Instance: in.ID, Reason: msg})
		return
	}
	now := time.Now()
	in.state, in.reason, in.since = st, reason, now
	in.history = append(in.history, Transition{Time: now, From: from, To: st, Reason: reason})
	if len(in.history) > historySize {
		in.history = in.history[len(in.history)-historySize:]
	}
	if st != Backoff {
		in.nextTry = time.Time{}
	}
	if st == Ready && in.inflight == 0 {
		in.idleSince = now
	}
	s.stateChangedLocked()
	s.mu.Unlock()
	msg := st.String()
	if reason != "" {
		msg += ": " + reason
	}
	in.Logs.Add(System, msg)
	s.sup.events.publish(Event{Time: now, Kind: StateChanged, Service: s.Name, Instance: in.ID, State: st, Reason: reason})
}

// freePort asks the kernel for a port nobody uses right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(instanceHost, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
