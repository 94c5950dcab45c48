package proxy

import (
	"bytes"
	"sync/atomic"
	"time"
)

// A client can leave while the instance works on its request: a browser
// tab closed on server-sent events or a long poll. Served directly, the
// app would see its request end; through the front it must too, or the
// app works on for no one and the request holds a slot of the instance.
// Go cannot wait for a socket's end without reading it, so while a
// goroutine relays a request another one reads the client, as net/http's
// server does. An end (or an error) ends the request: while it waits for
// an instance with room, the wait; at the instance, the connection to it,
// which ends the request at the app and the relay's blocked read. The
// end may be a half-close by a client still waiting for its answer;
// nginx and Go's ReverseProxy read it as leaving too, and so does the
// event loop (loop.abandon).

// clientWatch is one watch: while the request waits for an instance, or
// from its sending to its end.
type clientWatch struct {
	stopped atomic.Bool
	gone    atomic.Bool
	done    chan struct{}
	b       [1]byte
	n       int // bytes read into b: the start of a pipelined request
}

// watch starts watching the client, whose request has its last unread
// bytes buffered, pending of them; gone runs if the client leaves.
func (cc *clientConn) watch(pending int, gone func()) {
	if cc.br.Buffered() != pending {
		return // more is coming, or came: the client's end, if any, is behind it
	}
	cc.readDeadline(time.Time{}) // the header timeout must not end the watch
	w := &clientWatch{done: make(chan struct{})}
	cc.watching = w
	go func() {
		defer close(w.done)
		w.n, _ = cc.c.Read(w.b[:])
		if w.n == 0 && !w.stopped.Load() {
			w.gone.Store(true)
			gone()
		}
	}()
}

// unwatch ends the watch, if any, keeping a byte it read after those
// buffered; it reports whether the client left.
func (cc *clientConn) unwatch() bool {
	w := cc.watching
	if w == nil {
		return false
	}
	cc.watching = nil
	w.stopped.Store(true)
	_ = cc.c.SetReadDeadline(aLongTimeAgo)
	<-w.done
	cc.readDeadline(time.Time{})
	if w.n > 0 {
		held, _ := cc.br.Peek(cc.br.Buffered())
		cc.br = readerWith(cc.c, append(bytes.Clone(held), w.b[:w.n]...), cc.br.Size())
	}
	return w.gone.Load()
}

// aLongTimeAgo is a deadline in the past: it wakes a blocked read.
var aLongTimeAgo = time.Unix(1, 0)
