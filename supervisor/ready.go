package supervisor

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Readiness polling: a Go server accepts connections a few milliseconds
// after exec, so for the first readyFastFor the port is tried every
// readyFastPoll (a refused connect on loopback costs microseconds);
// slower runtimes (Java, Python with imports) are then polled ever less
// often, up to readyMaxPoll.
const (
	readyFastPoll = 500 * time.Microsecond
	readyFastFor  = 50 * time.Millisecond
	readyMaxPoll  = 50 * time.Millisecond
)

// readyPoll is the wait before the next readiness check, elapsed after
// the first.
func readyPoll(elapsed, last time.Duration) time.Duration {
	if elapsed < readyFastFor {
		return readyFastPoll
	}
	return min(last*3/2, readyMaxPoll)
}

// waitReady waits until something accepts TCP connections on port on a
// loopback address, the process exits, ctx ends or the timeout passes,
// whichever comes first. It returns the host:port that accepted.
func waitReady(ctx context.Context, p *process, port int, timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	d := net.Dialer{Timeout: time.Second}
	start := time.Now()
	for wait := readyFastPoll; ; wait = readyPoll(time.Since(start), wait) {
		for _, host := range loopbackHosts {
			addr := net.JoinHostPort(host, strconv.Itoa(port))
			if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
				c.Close()
				return addr, nil
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-p.done:
			t.Stop()
			return "", fmt.Errorf("exited before listening on port %d: %s", port, exitReason(p.err))
		case <-deadline.C:
			t.Stop()
			return "", fmt.Errorf("nothing listened on port %d within %s; the app must serve HTTP on $PORT", port, timeout)
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
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
