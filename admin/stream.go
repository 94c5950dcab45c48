package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/appdeck/appdeck/supervisor"
)

// Streams are server-sent events: each item is an event with a name, an
// id where one means something (a request's sequence number), and one
// line of JSON. They poll the supervisor's rings on a short tick (rings
// never notify, so a slow client can never slow an instance down) and send
// a comment when idle so that dead connections are noticed.
const (
	pollEvery = 50 * time.Millisecond
	keepAlive = 15 * time.Second
)

type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startSSE(w http.ResponseWriter) (*sse, error) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell proxies in front not to buffer
	w.WriteHeader(http.StatusOK)
	e := &sse{w: w, rc: http.NewResponseController(w)}
	return e, e.rc.Flush()
}

func (e *sse) send(event string, id uint64, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if id > 0 {
		_, err = fmt.Fprintf(e.w, "event: %s\nid: %d\ndata: %s\n\n", event, id, b)
	} else {
		_, err = fmt.Fprintf(e.w, "event: %s\ndata: %s\n\n", event, b)
	}
	return err
}

// follow calls poll on every tick until the client leaves or the server
// shuts down. poll sends what is new and reports whether it sent anything.
func (s *Server) follow(ctx context.Context, e *sse, poll func() (bool, error)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	idle := time.Now()
	for {
		sent, err := poll()
		if err == nil && !sent && time.Since(idle) > keepAlive {
			_, err = fmt.Fprint(e.w, ": keep-alive\n\n")
			sent = true
		}
		if sent {
			idle = time.Now()
			if err == nil {
				err = e.rc.Flush()
			}
		}
		if err != nil {
			return // the client is gone
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// query holds the parameters the log and request endpoints share.
type query struct {
	follow bool
	tail   int       // the last tail items held; -1 (no tail=): all, 0: none
	since  time.Time // zero: everything held
}

func parseQuery(r *http.Request) (query, error) {
	v := r.URL.Query()
	q := query{tail: -1}
	switch f := v.Get("follow"); f {
	case "", "0", "false":
	case "1", "true":
		q.follow = true
	default:
		return q, errorf(http.StatusBadRequest, fmt.Sprintf("follow=%q: use 1 or 0", f))
	}
	if t := v.Get("tail"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return q, errorf(http.StatusBadRequest, fmt.Sprintf("tail=%q: want a number of lines, 0 or more (leave tail out for all)", t))
		}
		q.tail = n
	}
	if s := v.Get("since"); s != "" {
		since, err := parseSince(s, time.Now())
		if err != nil {
			return q, errorf(http.StatusBadRequest, err.Error())
		}
		q.since = since
	}
	return q, nil
}

// parseSince reads a since= value: a duration back from now ("5m") or a
// time (RFC 3339).
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since=%q: want a duration such as 5m or a time such as 2006-01-02T15:04:05Z", s)
}

// logs answers GET /api/logs?service=&instance=&since=&tail=&follow=1:
// the lines held of every service (or one service, or one instance), in
// time order, as a JSON array; with follow=1 as "log" events, then every
// new line as it comes.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) error {
	service, instance := r.URL.Query().Get("service"), r.URL.Query().Get("instance")
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	switch {
	case instance != "" && service == "":
		return errorf(http.StatusBadRequest, "instance= needs service= too")
	case instance != "":
		_, err = s.instance(service, instance)
	case service != "":
		_, err = s.service(service)
	}
	if err != nil {
		return err
	}
	keep := func(e supervisor.LogEntry) bool { return e.Time.Compare(q.since) >= 0 }
	cur := supervisor.NewLogCursor(s.opts.Sup, service, instance)
	// Each log's last lines hold the last lines of all of them. Tail(0)
	// starts at the oldest: for tail=0 lastN drops that first read.
	cur.Tail(max(q.tail, 0))
	read := func() []supervisor.LogEntry { return filter(cur.Read(math.MaxInt32), keep) }
	serveItems(s, w, r, q.follow, "log", lastN(read(), q.tail), read, func(e supervisor.LogEntry) (LogLine, uint64) {
		return logLineOf(e), 0
	})
	return nil
}

// serveItems answers a log or request list: the backlog as a JSON array,
// or with follow as server-sent events named event, then each tick what
// read returns. wire gives an item's JSON and its event id (0: none).
func serveItems[T, W any](s *Server, w http.ResponseWriter, r *http.Request, follow bool, event string,
	backlog []T, read func() []T, wire func(T) (W, uint64)) {
	if !follow {
		out := make([]W, 0, len(backlog))
		for _, it := range backlog {
			v, _ := wire(it)
			out = append(out, v)
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	e, err := startSSE(w)
	if err != nil {
		return
	}
	s.follow(r.Context(), e, func() (bool, error) {
		for _, it := range backlog {
			v, id := wire(it)
			if err := e.send(event, id, v); err != nil {
				return true, err
			}
		}
		sent := len(backlog) > 0
		backlog = read()
		return sent, nil
	})
}

func filter[T any](items []T, keep func(T) bool) []T {
	out := items[:0]
	for _, it := range items {
		if keep(it) {
			out = append(out, it)
		}
	}
	return out
}

// lastN keeps the last n items; a negative n keeps all. With n == 0 a
// follower gets only what comes next, as with tail -n 0.
func lastN[T any](items []T, n int) []T {
	if n >= 0 && len(items) > n {
		return items[len(items)-n:]
	}
	return items
}

// requests answers GET /api/requests?service=&since=&tail=&follow=1 like
// logs, with "request" events whose id is the request's sequence number
// (so an EventSource resumes where it stopped, through Last-Event-ID).
func (s *Server) requests(w http.ResponseWriter, r *http.Request) error {
	service := r.URL.Query().Get("service")
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	if service != "" {
		if _, err := s.service(service); err != nil {
			return err
		}
	}
	ring := s.opts.Sup.Requests()
	next := uint64(1)
	if id, err := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && q.follow {
		next = id + 1 // an EventSource reconnecting
	}
	keep := func(rq supervisor.Request) bool {
		return (service == "" || rq.Service == service) && rq.Start.Compare(q.since) >= 0
	}
	read := func() []supervisor.Request {
		rs := ring.Since(next, math.MaxInt32)
		if len(rs) > 0 {
			next = rs[len(rs)-1].Seq + 1
		}
		return filter(rs, keep)
	}
	serveItems(s, w, r, q.follow, "request", lastN(read(), q.tail), read, func(rq supervisor.Request) (Request, uint64) {
		return requestOf(rq), rq.Seq
	})
	return nil
}

// events answers GET /api/events: first a "snapshot" event with every
// service, then each event as it happens, named by its kind. Events are
// lossy for a client that falls behind; the snapshot is the truth, so a
// client that needs certainty re-reads GET /api/services.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	ch, unsubscribe := s.opts.Sup.Subscribe()
	defer unsubscribe()
	e, err := startSSE(w)
	if err != nil {
		return nil
	}
	if e.send("snapshot", 0, s.services()) != nil || e.rc.Flush() != nil {
		return nil
	}
	s.follow(r.Context(), e, func() (bool, error) {
		sent := false
		for {
			select {
			case ev := <-ch:
				out := eventOf(ev)
				if err := e.send(out.Kind, 0, out); err != nil {
					return sent, err
				}
				sent = true
			default:
				return sent, nil
			}
		}
	})
	return nil
}
