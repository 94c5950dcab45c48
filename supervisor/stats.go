package supervisor

import (
	"math"
	"time"
)

// Latency is kept as a log-scale histogram per second of the last minute:
// eight buckets per doubling (each about 9% wide) from 1 µs to over two
// minutes. Percentiles read from it are off by at most half a bucket, and
// the cost per request is one increment, whatever the request rate.
const (
	bucketsPerDoubling = 8
	latencyBuckets     = 27 * bucketsPerDoubling // up to 2^27 µs ≈ 134 s
	windowSeconds      = 60
)

// latencyWindow holds the requests of the last windowSeconds: one slot per
// second, plus their sum, so that a summary costs one pass over the
// buckets however many seconds are busy.
type latencyWindow struct {
	slots   [windowSeconds]*latencySlot // allocated on first use
	sum     [latencyBuckets]uint32
	n       int
	expired int64 // the Unix second of the last expire: once a second is enough
}

type latencySlot struct {
	sec  int64 // the Unix second the slot counts
	n    int
	hist [latencyBuckets]uint32
}

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return min(int(math.Log2(us)*bucketsPerDoubling), latencyBuckets-1)
}

// bucketValue is the geometric middle of bucket b.
func bucketValue(b int) time.Duration {
	return time.Duration(math.Exp2((float64(b)+0.5)/bucketsPerDoubling) * float64(time.Microsecond))
}

// add counts one request that took d and ended at now.
func (w *latencyWindow) add(now time.Time, d time.Duration) {
	w.expire(now)
	sec := now.Unix()
	i := sec % windowSeconds
	s := w.slots[i]
	if s == nil {
		s = &latencySlot{sec: sec}
		w.slots[i] = s
	}
	if s.sec != sec { // a second ago a minute (or, if the clock moved back, a stale one)
		w.drop(s)
		s.sec = sec
	}
	b := bucketOf(d)
	s.hist[b]++
	s.n++
	w.sum[b]++
	w.n++
}

// expire drops the seconds that have left the window.
func (w *latencyWindow) expire(now time.Time) {
	if now.Unix() == w.expired {
		return
	}
	w.expired = now.Unix()
	oldest := w.expired - windowSeconds
	for _, s := range w.slots {
		if s != nil && s.sec <= oldest {
			w.drop(s)
		}
	}
}

// drop takes a slot's counts out of the window and empties it.
func (w *latencyWindow) drop(s *latencySlot) {
	if s.n == 0 {
		return
	}
	for b, c := range s.hist {
		w.sum[b] -= c
	}
	w.n -= s.n
	s.hist, s.n = [latencyBuckets]uint32{}, 0
}

// summary returns how many requests ended in the last minute and their
// median and 99th percentile latency.
func (w *latencyWindow) summary(now time.Time) (n int, p50, p99 time.Duration) {
	w.expire(now)
	return w.n, w.quantile(0.50), w.quantile(0.99)
}

func (w *latencyWindow) quantile(q float64) time.Duration {
	if w.n == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(w.n)))
	seen := 0
	for b, c := range w.sum {
		seen += int(c)
		if seen >= rank {
			return bucketValue(b)
		}
	}
	return bucketValue(latencyBuckets - 1)
}

// load is an instance's request counters, guarded by the service's lock.
type load struct {
	total   int64
	byClass [5]int64 // [0] 1xx … [4] 5xx
	window  latencyWindow
}

// count records one request that got status after taking d.
func (l *load) count(now time.Time, status int, d time.Duration) {
	l.total++
	if c := status/100 - 1; c >= 0 && c < len(l.byClass) {
		l.byClass[c]++
	}
	l.window.add(now, d)
}

// perSecond turns n requests in the last minute into a rate: over the
// minute, or over the instance's life when that is shorter, so that a new
// instance shows its real rate rather than a ramp.
func perSecond(n int, now, created time.Time) float64 {
	span := min(now.Sub(created), windowSeconds*time.Second)
	if span < time.Second {
		span = time.Second
	}
	return float64(n) / span.Seconds()
}
