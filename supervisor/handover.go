package supervisor

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/runtimes"
)

// handover learns which port an instance serves on, the way its
// LaunchSpec says (dev_appserver.py's process-start flavors): the port
// appdeck chose and put in $PORT, or one the process reports in a port
// file or on the first line of its stdout. Either way the instance is
// ready once that port accepts connections.
type handover struct {
	how      runtimes.Handover
	assigned int // the port in $PORT
	// port is where the instance serves, addr the host:port that
	// accepted; wait sets them before returning.
	port int
	addr string
	file string     // the port file, for HandoverFile
	logs *LogBuffer // the instance's log, for HandoverStdout
	from uint64     // the first log line of this process
}

// newHandover prepares spec for its handover before the process starts:
// for a port file it creates the file and names it in $APPDECK_PORT_FILE.
func newHandover(spec *runtimes.LaunchSpec, port int, logs *LogBuffer) (*handover, error) {
	h := &handover{how: spec.Handover, assigned: port, port: port, logs: logs, from: logs.Next()}
	if h.how == runtimes.HandoverFile {
		f, err := os.CreateTemp("", "appdeck-port-*")
		if err != nil {
			return nil, fmt.Errorf("creating the port file: %w", err)
		}
		f.Close()
		h.file = f.Name()
		spec.Env = append(spec.Env, "APPDECK_PORT_FILE="+h.file)
	}
	return h, nil
}

// close removes the port file, if any.
func (h *handover) close() {
	if h.file != "" {
		os.Remove(h.file)
	}
}

// what says what the instance must do to be ready, for messages.
func (h *handover) what() string {
	switch h.how {
	case runtimes.HandoverFile:
		return "writing its port to $APPDECK_PORT_FILE"
	case runtimes.HandoverStdout:
		return "printing its port on stdout"
	}
	return fmt.Sprintf("listening on port %d", h.assigned)
}

// wait returns once the instance accepts connections on its port, the
// process exits, ctx ends or timeout passes. On success h.port is the port.
func (h *handover) wait(ctx context.Context, p *process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if h.how != runtimes.HandoverEnv {
		port, err := h.reported(ctx, p, timeout)
		if err != nil {
			return err
		}
		h.port = port
	}
	addr, err := waitReady(ctx, p, h.port, time.Until(deadline))
	h.addr = addr
	return err
}

// reported polls for the port the process reports, fast at first like
// readiness.
func (h *handover) reported(ctx context.Context, p *process, timeout time.Duration) (int, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	start := time.Now()
	for wait := readyFastPoll; ; wait = readyPoll(time.Since(start), wait) {
		text, ok := h.read()
		if ok {
			return h.parse(text)
		}
		t := time.NewTimer(wait)
		select {
		case <-p.done:
			t.Stop()
			if text, ok := h.read(); ok { // said just before exiting
				return h.parse(text)
			}
			return 0, fmt.Errorf("exited before %s: %s", h.what(), exitReason(p.err))
		case <-deadline.C:
			t.Stop()
			return 0, fmt.Errorf("no port reported within %s: the app must %s", timeout, h.instructions())
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	}
}

// read returns what the process reported so far: the port file once it
// holds a whole line, or the first line on stdout.
func (h *handover) read() (string, bool) {
	if h.how == runtimes.HandoverFile {
		b, err := os.ReadFile(h.file)
		if err != nil || !strings.Contains(string(b), "\n") { // a line not yet complete
			return "", false
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return line, true
	}
	for _, l := range h.logs.Since(h.from, 256) {
		if l.Stream == Stdout {
			return l.Text, true
		}
		h.from = l.Seq + 1
	}
	return "", false
}

func (h *handover) instructions() string {
	if h.how == runtimes.HandoverFile {
		return "write the port it listens on, and a newline, to the file named in $APPDECK_PORT_FILE"
	}
	return "print the port it listens on as the first line on stdout"
}

// parse reads a reported port: "PORT", or dev_appserver.py's
// "HOST\tPORT" with a loopback HOST (instances are reached on loopback,
// where readiness looks on both 127.0.0.1 and ::1).
func (h *handover) parse(text string) (int, error) {
	host, portText, withHost := strings.Cut(strings.TrimSpace(text), "\t")
	if !withHost {
		portText = host
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 || withHost && !proxy.IsLoopbackHost(host) {
		what := "the port file held"
		if h.how == runtimes.HandoverStdout {
			what = "the first line on stdout was"
		}
		return 0, fmt.Errorf("bad port: %s %q; the app must %s", what, text, h.instructions())
	}
	return port, nil
}
