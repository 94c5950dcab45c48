package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/supervisor"
)

func TestAccessLog(t *testing.T) {
	reqs := supervisor.NewRing[supervisor.Request](16)
	reqs.Append(supervisor.Request{Outcome: proxy.Outcome{Service: "old", Path: "/before"}}) // not printed: before the start
	from := reqs.Next()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { accessLog(ctx, reqs, from, &out); close(done) }()
	reqs.Append(supervisor.Request{Outcome: proxy.Outcome{Service: "default", Instance: "0", Method: "GET",
		Path: "/a?b=1", Status: 200, Bytes: 13, Latency: 1234 * time.Microsecond, Route: "dispatch */a → /.*"}})
	reqs.Append(supervisor.Request{Outcome: proxy.Outcome{Service: "api", Method: "POST", Path: "/x", Status: 503}})
	cancel()
	<-done
	want := "default/0 | \"GET /a?b=1\" 200 13 B 1.23ms [dispatch */a → /.*]\napi | \"POST /x\" 503 0 B 0s\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(out.String(), "/before") {
		t.Error("printed a request from before the start")
	}
}
