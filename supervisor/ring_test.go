package supervisor

import (
	"fmt"
	"testing"
)

func TestRingKeepsTheLastItemsNumbered(t *testing.T) {
	r := NewLogBuffer(3)
	for i := range 5 {
		r.Add(Stdout, fmt.Sprint(i))
	}
	got := r.Since(0, 10)
	if len(got) != 3 || got[0].Seq != 3 || got[0].Text != "2" || got[2].Seq != 5 || got[2].Text != "4" {
		t.Fatalf("Since(0) = %+v", got)
	}
	if tail := r.Tail(2); len(tail) != 2 || tail[0].Text != "3" {
		t.Errorf("Tail(2) = %+v", tail)
	}
	if r.Next() != 6 || len(r.Since(6, 10)) != 0 {
		t.Errorf("Next %d", r.Next())
	}
}

// BenchmarkRingAppend measures appending a log line to a full ring, the
// cost every line of a child's output pays in the goroutine reading its
// pipe.
func BenchmarkRingAppend(b *testing.B) {
	r := NewLogBuffer(10000)
	l := Line{Stream: Stdout, Text: "GET /static/app.js 200 1234 bytes in 3ms"}
	b.ReportAllocs()
	for b.Loop() {
		r.Append(l)
	}
}

// BenchmarkRingAppendParallel is the contended case: every core appends
// to one ring, as stdout and stderr of a busy instance do.
func BenchmarkRingAppendParallel(b *testing.B) {
	r := NewLogBuffer(10000)
	l := Line{Stream: Stdout, Text: "GET /static/app.js 200 1234 bytes in 3ms"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Append(l)
		}
	})
}

// BenchmarkLogLine is the whole path of one line of output: sanitize,
// stamp, append.
func BenchmarkLogLine(b *testing.B) {
	r := NewLogBuffer(10000)
	raw := []byte("2026/01/02 03:04:05 \x1b[32mINFO\x1b[0m GET /static/app.js 200 1234 bytes in 3ms\n")
	b.ReportAllocs()
	for b.Loop() {
		r.Add(Stdout, Sanitize(raw))
	}
}
