package supervisor

import (
	"math"
	"testing"
	"time"
)

func TestLatencyWindowPercentilesAndExpiry(t *testing.T) {
	var l load
	now := t0
	// 98 fast requests and two slow ones: p50 is fast, p99 slow.
	for i := range 100 {
		d := 2 * time.Millisecond
		if i%50 == 0 {
			d = 800 * time.Millisecond
		}
		l.count(now.Add(time.Duration(i)*10*time.Millisecond), 200, d)
	}
	l.count(now.Add(time.Second), 503, time.Millisecond)
	l.count(now.Add(time.Second), 404, time.Millisecond)
	n, p50, p99 := l.window.summary(now.Add(2 * time.Second))
	if n != 102 || l.total != 102 {
		t.Fatalf("n %d total %d, want 102", n, l.total)
	}
	if !near(p50, 2*time.Millisecond) || !near(p99, 800*time.Millisecond) {
		t.Errorf("p50 %s p99 %s, want about 2ms and 800ms", p50, p99)
	}
	if l.byClass != [5]int64{0, 100, 0, 1, 1} {
		t.Errorf("by class %v", l.byClass)
	}
	// A minute later the first second has left the window.
	n, _, _ = l.window.summary(now.Add(60*time.Second + 500*time.Millisecond))
	if n != 2 {
		t.Errorf("after a minute n = %d, want the 2 requests of the second second", n)
	}
	n, p50, _ = l.window.summary(now.Add(5 * time.Minute))
	if n != 0 || p50 != 0 {
		t.Errorf("after five minutes n %d p50 %s, want none", n, p50)
	}
	if l.total != 102 {
		t.Error("the total must not expire")
	}
	// Slots are reused as the window turns.
	for i := range 200 {
		l.count(now.Add(5*time.Minute+time.Duration(i)*time.Second), 200, time.Millisecond)
	}
	if n, _, _ := l.window.summary(now.Add(5*time.Minute + 199*time.Second)); n != 60 {
		t.Errorf("steady one per second: n = %d, want 60", n)
	}
}

// near reports whether got is within one histogram bucket of want.
func near(got, want time.Duration) bool {
	return math.Abs(math.Log2(float64(got)/float64(want))) <= 1.0/bucketsPerDoubling
}

func TestPerSecondUsesTheInstanceLifeWhenShorter(t *testing.T) {
	if got := perSecond(120, t0.Add(time.Hour), t0); got != 2 {
		t.Errorf("120 in a minute: %v/s", got)
	}
	if got := perSecond(20, t0.Add(10*time.Second), t0); got != 2 {
		t.Errorf("20 in a 10 s old instance: %v/s", got)
	}
}

func TestParseStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	line := []byte("4242 (my (weird) app) S 1 4240 4240 0 -1 4194560 500 0 0 0 150 50 0 0 20 0 3 0 12345 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n")
	pgrp, ticks, rss, ok := parseStat(line)
	if !ok || pgrp != 4240 || ticks != 200 || rss != 2560 {
		t.Errorf("parseStat = %d %d %d %v, want 4240 200 2560 true", pgrp, ticks, rss, ok)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2"} {
		if _, _, _, ok := parseStat([]byte(bad)); ok {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
	if got := cpuPercent(usageSample{at: t0, ticks: 100}, t0.Add(2*time.Second), 250); got != 75 {
		t.Errorf("150 ticks in 2 s = %v%%, want 75", got)
	}
	if got := cpuPercent(usageSample{at: t0, ticks: 300}, t0.Add(time.Second), 250); got != 0 {
		t.Errorf("a member exited: %v%%, want 0", got)
	}
}
