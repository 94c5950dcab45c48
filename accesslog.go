package main

import (
	"context"
	"fmt"
	"io"
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

func printRequests(reqs *supervisor.Ring[supervisor.Request], next *uint64, w io.Writer) {
	for {
		batch := reqs.Since(*next, 512)
		if len(batch) == 0 {
			return
		}
		for _, r := range batch {
			fmt.Fprintln(w, accessLine(r))
		}
		*next = batch[len(batch)-1].Seq + 1
	}
}

func accessLine(r supervisor.Request) string {
	name := r.Service
	if r.Instance != "" {
		name += "/" + r.Instance
	}
	route := ""
	if r.Route != "" {
		route = " [" + r.Route + "]"
	}
	return fmt.Sprintf("%s | %q %d %d B %s%s", name, r.Method+" "+r.Path, r.Status, r.Bytes, r.Latency.Round(10*time.Microsecond), route)
}
