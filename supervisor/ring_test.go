package supervisor

import (
	"fmt"
	"strings"
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

func TestShrinkKeepsTheLinesAndTheirNumbers(t *testing.T) {
	texts := func(b *LogBuffer) string {
		var s []string
		for _, l := range b.Since(0, 100) {
			s = append(s, fmt.Sprintf("%d:%s", l.Seq, l.Text))
		}
		return strings.Join(s, " ")
	}
	b := NewLogBuffer(4)
	for i := range 6 { // wrapped: the oldest is not at index 0
		b.Add(Stdout, fmt.Sprint(i))
	}
	b.shrink()
	if got, want := texts(b), "3:2 4:3 5:4 6:5"; got != want || cap(b.items) != 4 {
		t.Errorf("after shrink: %s (cap %d), want %s", got, cap(b.items), want)
	}
	small := NewLogBuffer(1000)
	small.Add(Stdout, "a")
	small.Add(Stdout, "b")
	small.shrink()
	small.Add(Stdout, "late") // a line after the removal pushes the oldest out
	if got, want := texts(small), "2:b 3:late"; got != want || cap(small.items) != 2 {
		t.Errorf("a shrunk buffer: %s (cap %d), want %s", got, cap(small.items), want)
	}
	empty := NewLogBuffer(1000)
	empty.shrink()
	empty.Add(Stdout, "x")
	if got := texts(empty); got != "1:x" {
		t.Errorf("an empty shrunk buffer: %s", got)
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
