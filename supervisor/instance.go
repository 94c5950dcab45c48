package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
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

// instanceHost is where instances listen and where appdeck reaches them.
const instanceHost = "127.0.0.1"

// Instance is one process of a service. Its lifecycle is owned by one
// goroutine (run); others talk to it through commands and read its fields
// under the service's lock.
type Instance struct {
	ID   string
	svc  *Service
	Logs *LogBuffer
	cmds chan command

	// Guarded by svc.mu.
	state     State
	reason    string
	since     time.Time
	proc      *process
	port      int
	handler   http.Handler
	startedAt time.Time
	restarts  int
	nextTry   time.Time
	inflight  int
	total     int64
}

type cmdKind int

const (
	cmdStart cmdKind = iota
	cmdStop
	cmdKill
	cmdRestart
	cmdRetire // stop for good: the instance is being removed
)

var cmdNames = [...]string{"start", "stop", "kill", "restart", "remove"}

// command asks the lifecycle goroutine to act; reply receives one value
// once the action has taken effect: the process stopped, or the new one
// launched.
type command struct {
	kind  cmdKind
	reply chan error
}

func (c *command) done(err error) {
	if c != nil {
		c.reply <- err
	}
}

// ErrConflict is returned for an action the instance's state forbids,
// such as starting one that runs.
var ErrConflict = errors.New("not possible in the instance's current state")

// outcome is why one process run ended: a command, a crash (with the
// reason and how long it had been up), or neither (shutdown, failed build).
type outcome struct {
	cmd     *command
	crashed string
	upFor   time.Duration
}

// run is the instance's lifecycle loop. It returns when ctx ends, after
// stopping the process.
func (in *Instance) run(ctx context.Context) {
	delay := backoffMin
	var pending *command // a start or restart to answer once launched
	want := true
	for {
		if !want {
			c, ok := in.await(ctx)
			if !ok {
				return
			}
			if c.kind == cmdRetire {
				c.done(nil)
				return
			}
			if c.kind == cmdStart || c.kind == cmdRestart {
				want, pending, delay = true, c, backoffMin
			} else {
				c.done(in.conflict(c.kind))
			}
			continue
		}
		res := in.runProcess(ctx, pending)
		pending = nil
		switch {
		case ctx.Err() != nil:
			return
		case res.cmd != nil && res.cmd.kind == cmdRestart:
			in.countRestart()
			pending, delay = res.cmd, backoffMin
		case res.cmd != nil: // stop, kill or retire
			res.cmd.done(nil)
			if res.cmd.kind == cmdRetire {
				return
			}
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
		default: // the build failed: wait to be told to try again
			want = false
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
// meanwhile is final: the restart policy never undoes it.
func (in *Instance) backoff(ctx context.Context, reason string, delay time.Duration) (restart bool, pending *command, retired bool) {
	next := time.Now().Add(delay)
	in.svc.mu.Lock()
	in.nextTry = next
	in.svc.mu.Unlock()
	in.setState(Crashed, reason)
	in.setState(Backoff, reason) // NextTry says when the restart comes
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			in.countRestart()
			return true, nil, false
		case c := <-in.cmds:
			switch c.kind {
			case cmdStart, cmdRestart:
				in.countRestart()
				return true, &c, false
			default:
				in.setState(Stopped, "stopped by hand after a crash")
				c.done(nil)
				return false, nil, c.kind == cmdRetire
			}
		case <-ctx.Done():
			in.setState(Stopped, "appdeck is shutting down")
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

func (in *Instance) conflict(k cmdKind) error {
	return fmt.Errorf("cannot %s %s/%s: it is %s: %w", cmdNames[k], in.svc.Name, in.ID, in.current(), ErrConflict)
}

// runProcess launches one process and follows it until it exits, a
// command ends it, or ctx ends.
func (in *Instance) runProcess(ctx context.Context, pending *command) outcome {
	port, err := freePort()
	if err != nil {
		pending.done(err)
		return outcome{crashed: err.Error()}
	}
	spec, err := in.svc.launchSpec(in, port)
	if errors.Is(err, errBuildFailed) {
		in.setState(BuildFailed, "the build failed; fix it and appdeck rebuilds")
		pending.done(err)
		return outcome{}
	}
	if err != nil {
		pending.done(err)
		return outcome{crashed: err.Error()}
	}
	for _, w := range spec.Warnings {
		in.Logs.Add(System, "warning: "+w)
	}
	ho, err := newHandover(&spec, port, in.Logs)
	if err != nil {
		pending.done(err)
		return outcome{crashed: err.Error()}
	}
	defer ho.close()
	p, err := startProcess(spec, &in.svc.sup.reaper, in.Logs)
	pending.done(err)
	if err != nil {
		return outcome{crashed: fmt.Sprintf("could not start %s: %v", spec.Argv[0], err)}
	}
	in.launched(p, port)
	return in.follow(ctx, p, ho)
}

// follow watches a launched process: readiness, then exit or a command.
func (in *Instance) follow(ctx context.Context, p *process, ho *handover) outcome {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readyc := make(chan error, 1)
	go func() { readyc <- ho.wait(rctx, p, in.svc.sup.opts.ReadyTimeout) }()
	start := time.Now()
	for {
		select {
		case err := <-readyc:
			readyc = nil
			if err != nil {
				p.stop(in.svc.sup.opts.Grace)
				return outcome{crashed: err.Error()}
			}
			in.setReady(ho.port)
		case <-p.done:
			if readyc != nil {
				return outcome{crashed: fmt.Sprintf("exited before %s: %s", ho.what(), exitReason(p.err))}
			}
			return outcome{crashed: "exited: " + exitReason(p.err), upFor: time.Since(start)}
		case c := <-in.cmds:
			if c.kind == cmdStart {
				c.done(in.conflict(c.kind))
				continue
			}
			in.stopProcess(p, c.kind)
			return outcome{cmd: &c}
		case <-ctx.Done():
			in.stopProcess(p, cmdStop)
			return outcome{}
		}
	}
}

// stopProcess takes the instance out of rotation and ends the process:
// at once for a kill, otherwise after requests in flight finish (at most
// the grace period), with SIGTERM and then SIGKILL.
func (in *Instance) stopProcess(p *process, k cmdKind) {
	grace := in.svc.sup.opts.Grace
	if k == cmdKill {
		in.setState(Draining, "killing")
		p.signal(syscall.SIGKILL)
		<-p.done
		in.setState(Stopped, "killed by hand (SIGKILL)")
		return
	}
	in.setState(Draining, "finishing requests in flight")
	in.svc.waitIdle(in, grace)
	p.stop(grace)
	why := map[cmdKind]string{cmdStop: "stopped", cmdRestart: "restarting", cmdRetire: "removed"}[k]
	in.setState(Stopped, why)
}

func (in *Instance) launched(p *process, port int) {
	in.svc.mu.Lock()
	in.proc, in.port, in.startedAt, in.handler = p, port, time.Now(), nil
	in.svc.mu.Unlock()
	in.setState(Starting, "waiting for the app to listen on $PORT")
}

func (in *Instance) setReady(port int) {
	addr := net.JoinHostPort(instanceHost, strconv.Itoa(port))
	h := proxy.NewForwarder(addr, in.svc.cfg.Capacity(), in.explain)
	in.svc.mu.Lock()
	in.handler, in.port = h, port
	in.svc.mu.Unlock()
	in.setState(Ready, "")
}

// explain says why the instance failed a request it was given: how its
// process ended and the last lines it wrote to stderr.
func (in *Instance) explain() string {
	in.svc.mu.Lock()
	p := in.proc
	in.svc.mu.Unlock()
	if p == nil {
		return ""
	}
	select { // a crash is noticed a moment after the connection breaks
	case <-p.done:
	case <-time.After(100 * time.Millisecond):
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Instance %s/%s exited: %s.", in.svc.Name, in.ID, exitReason(p.err))
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

// setState moves the instance to st, notes it in the log and publishes it.
func (in *Instance) setState(st State, reason string) {
	in.svc.mu.Lock()
	if in.state == st && in.reason == reason {
		in.svc.mu.Unlock()
		return
	}
	in.state, in.reason, in.since = st, reason, time.Now()
	if st != Backoff {
		in.nextTry = time.Time{}
	}
	in.svc.notifyLocked()
	in.svc.mu.Unlock()
	msg := st.String()
	if reason != "" {
		msg += ": " + reason
	}
	in.Logs.Add(System, msg)
	in.svc.sup.events.publish(Event{Kind: StateChanged, Service: in.svc.Name, Instance: in.ID, State: st, Reason: reason})
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
