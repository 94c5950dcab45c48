package supervisor

import (
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
)

// reaperScript kills every registered process group once its standard
// input closes. appdeck holds the only write end, so the pipe closes however
// appdeck ends — a clean exit, a panic, or SIGKILL — and no instance, nor
// any process an instance started, outlives it holding a port. A parent
// death signal alone reaches only direct children; a grandchild such as a
// server's worker would survive. Lines are "+PGID" to register and "-PGID"
// to forget a group that has already been cleaned up.
const reaperScript = `live=" "
while IFS= read -r line; do
  case $line in
    +*) live="$live${line#+} " ;;
    -*) n=" "; for p in $live; do [ "$p" = "${line#-}" ] || n="$n$p "; done; live=$n ;;
  esac
done
for p in $live; do kill -s KILL -- "-$p" 2>/dev/null; done`

// reaper is the handle on the watchdog shell.
type reaper struct {
	mu  sync.Mutex
	w   io.WriteCloser
	cmd *exec.Cmd
	err error
}

func (r *reaper) send(format string, pgid int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil && r.err == nil {
		r.err = r.start()
	}
	if r.err != nil {
		return r.err
	}
	_, err := fmt.Fprintf(r.w, format, pgid)
	return err
}

func (r *reaper) start() error {
	cmd := exec.Command("/bin/sh", "-c", reaperScript)
	// Its own process group keeps a terminal's Ctrl-C from reaching it: it
	// must outlive appdeck's graceful shutdown, not race it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the process-group watchdog: %w", err)
	}
	r.w, r.cmd = w, cmd
	return nil
}

// add registers a process group to kill if appdeck dies.
func (r *reaper) add(pgid int) error { return r.send("+%d\n", pgid) }

// forget unregisters a group appdeck has already cleaned up, so that a
// later group reusing the number is never touched.
func (r *reaper) forget(pgid int) { _ = r.send("-%d\n", pgid) }

// close ends the watchdog, which kills whatever is still registered.
func (r *reaper) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w != nil {
		r.w.Close()
		r.cmd.Wait()
		r.w = nil
	}
}
