package main

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"time"

	"github.com/appdeck/appdeck/supervisor"
)

// accessLog prints every request recorded from number next on as one
// line, in the headless output's "service/instance | …" shape, until ctx
// ends:
//
//	default/0 | "GET /api/users?page=2" 200 1532 B 1.3ms [dispatch */api/* → /.*]
func accessLog(ctx context.Context, reqs *supervisor.Ring[supervisor.Request], next uint64, w io.Writer) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			printRequests(reqs, &next, w)
			return
		case <-t.C:
			printRequests(reqs, &next, w)
		}
	}
}

// printRequests prints what was recorded since next. Lines are written
// in batches: one write per request would cost the process as much as
// forwarding it.
func printRequests(reqs *supervisor.Ring[supervisor.Request], next *uint64, w io.Writer) {
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	for {
		batch := reqs.Since(*next, 512)
		if len(batch) == 0 {
			return
		}
		var line []byte
		for _, r := range batch {
			line = appendAccessLine(line[:0], r)
			_, _ = bw.Write(line)
		}
		*next = batch[len(batch)-1].Seq + 1
	}
}

// appendAccessLine formats one request without fmt: under load the log
// formats thousands of lines a second.
func appendAccessLine(b []byte, r supervisor.Request) []byte {
	b = append(b, r.Service...)
	if r.Instance != "" {
		b = append(append(b, '/'), r.Instance...)
	}
	b = append(b, " | "...)
	b = strconv.AppendQuote(b, r.Method+" "+r.Path)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.Bytes, 10)
	b = append(b, " B "...)
	b = append(b, r.Latency.Round(10*time.Microsecond).String()...)
	if r.Route != "" {
		b = append(append(append(b, " ["...), r.Route...), ']')
	}
	return append(b, '\n')
}
