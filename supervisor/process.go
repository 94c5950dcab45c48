package supervisor

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/appdeck/appdeck/runtimes"
)

// process is one running child: the leader of its own process group.
type process struct {
	cmd  *exec.Cmd
	pgid int
	// done is closed once the child has been reaped and its output
	// drained; err is then its exit error (nil for status 0).
	done chan struct{}
	err  error
}

// spawnReqs feeds the goroutine that starts every child. A parent death
// signal fires when the OS thread that forked the child exits, not when
// the process does; that goroutine keeps its thread locked for the life of
// the program, so the signal can only mean appdeck is gone.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

func startOnLockedThread(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: see spawnReqs
			for r := range spawnReqs {
				r.errc <- r.cmd.Start()
			}
		}()
	})
	errc := make(chan error, 1)
	spawnReqs <- spawnReq{cmd, errc}
	return <-errc
}

// startProcess starts spec as the leader of a new process group, registers
// the group with the reaper, and sends each line it prints, sanitized, to
// logs. The returned process's done channel closes when it has exited.
func startProcess(spec runtimes.LaunchSpec, rp *reaper, logs *LogBuffer) (*process, error) {
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Dir, cmd.Env = spec.Dir, spec.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Own pipes rather than StdoutPipe: Wait must not close them while a
	// grandchild still writes, and reading them to EOF is the drain.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = startOnLockedThread(cmd)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	p := &process{cmd: cmd, pgid: cmd.Process.Pid, done: make(chan struct{})}
	if err := rp.add(p.pgid); err != nil {
		logs.Add(System, "warning: "+err.Error()+"; children may outlive appdeck if it is killed")
	}
	var drained sync.WaitGroup
	drained.Add(2)
	go drain(outR, Stdout, logs, &drained)
	go drain(errR, Stderr, logs, &drained)
	go func() {
		p.err = cmd.Wait()
		// Whatever the leader left behind in its group goes with it.
		_ = syscall.Kill(-p.pgid, syscall.SIGKILL)
		if !waitTimeout(&drained, drainAfterExit) {
			// A process that left the group (setsid) still holds the
			// pipes: stop reading rather than wait for it forever.
			logs.Add(System, "warning: a process that left the instance's process group still holds its output; no longer reading it")
			outR.Close()
			errR.Close()
			drained.Wait()
		}
		rp.forget(p.pgid)
		close(p.done)
	}()
	return p, nil
}

// drainAfterExit bounds the wait for the rest of a process's output once
// its group is gone.
const drainAfterExit = 2 * time.Second

// waitTimeout waits for wg at most d and reports whether it finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// drain copies r into logs line by line until EOF.
func drain(r io.ReadCloser, s Stream, logs *LogBuffer, wg *sync.WaitGroup) {
	defer wg.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			if len(long) < MaxLineBytes*2 {
				long = append(long, chunk...)
			}
			continue
		case len(long) > 0:
			chunk = append(long, chunk...)
			long = long[:0]
		}
		if len(chunk) > 0 {
			logs.Add(s, Sanitize(chunk))
		}
		if err != nil {
			return
		}
	}
}

// signal sends sig to the whole group.
func (p *process) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.pgid, sig)
}

// stop asks the group to exit with SIGTERM and kills it with SIGKILL if it
// has not exited after grace. It returns once the process is reaped.
func (p *process) stop(grace time.Duration) {
	p.signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.signal(syscall.SIGKILL)
		<-p.done
	}
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
