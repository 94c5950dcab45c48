package supervisor

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Readiness polling: a Go server accepts connections a few milliseconds
// after exec, so the first polls come fast; slower runtimes (Java, Python
// with imports) are polled ever less often, up to readyMaxPoll.
const (
	readyFirstPoll = time.Millisecond
	readyMaxPoll   = 50 * time.Millisecond
)

// waitReady waits until something accepts TCP connections on port, the
// process exits, ctx ends or the timeout passes, whichever comes first.
func waitReady(ctx context.Context, p *process, host string, port int, timeout time.Duration) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	d := net.Dialer{Timeout: time.Second}
	for wait := readyFirstPoll; ; wait = min(wait*3/2+time.Millisecond, readyMaxPoll) {
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			c.Close()
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-p.done:
			t.Stop()
			return fmt.Errorf("exited before listening on port %d: %s", port, exitReason(p.err))
		case <-deadline.C:
			t.Stop()
			return fmt.Errorf("nothing listened on port %d within %s; the app must serve HTTP on $PORT", port, timeout)
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// exitReason describes how a process ended.
func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
