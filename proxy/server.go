package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Default timeouts of every front connection (see Options).
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultIdleTimeout       = 2 * time.Minute
)

// Server serves one service port. Each connection starts on the fast
// path, which parses requests itself and relays plain HTTP/1.1 requests
// bound for an instance straight to a pooled backend connection. The
// first request the fast path does not handle (static files, login
// pages, redirects, upgrades, chunked uploads, anything unusual) hands
// the connection, with the bytes already read, to a net/http server
// running the general path, which keeps it from then on.
type Server struct {
	port    *port
	general *http.Server
	queue   *connQueue
	// Timeouts for the fast path; the general path's server has the same.
	readHeaderTimeout, idleTimeout time.Duration

	mu      sync.Mutex
	l       net.Listener
	conns   map[*clientConn]struct{}
	closing atomic.Bool
}

// NewServer returns the server of the named service's port.
func (rt *Router) NewServer(name string) *Server {
	p := rt.port(name)
	rh, idle := rt.opts.ReadHeaderTimeout, rt.opts.IdleTimeout
	if rh <= 0 {
		rh = defaultReadHeaderTimeout
	}
	if idle <= 0 {
		idle = defaultIdleTimeout
	}
	return &Server{
		port: p, readHeaderTimeout: rh, idleTimeout: idle,
		general: &http.Server{
			Handler:           p,
			ReadHeaderTimeout: rh,
			IdleTimeout:       idle,
			MaxHeaderBytes:    1 << 20,
			ErrorLog:          log.New(io.Discard, "", 0),
		},
		conns: map[*clientConn]struct{}{},
	}
}

// Serve accepts connections on l until Shutdown; it always returns an
// error, http.ErrServerClosed after Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	s.l, s.queue = l, newConnQueue(l.Addr())
	s.mu.Unlock()
	go s.general.Serve(s.queue)
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay) // out of file descriptors: let some close
				continue
			}
			return err
		}
		delay = 0
		cc := newClientConn(s, c)
		if !s.track(cc) {
			c.Close()
			return http.ErrServerClosed
		}
		if !s.adopt(cc) {
			cc.br = bufio.NewReaderSize(c, 8<<10)
			go cc.serve(nil)
		}
	}
}

func (s *Server) track(cc *clientConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns[cc] = struct{}{}
	return true
}

func (s *Server) untrack(cc *clientConn) {
	s.mu.Lock()
	delete(s.conns, cc)
	s.mu.Unlock()
}

// Shutdown stops accepting, closes idle connections, waits for requests
// in flight until ctx ends, then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	if s.l != nil {
		s.l.Close()
		s.queue.Close()
	}
	s.mu.Unlock()
	wakeLoop() // to close its idle connections of s
	err := s.general.Shutdown(ctx)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		for cc := range s.conns {
			if !cc.active.Load() && !cc.inLoop {
				cc.c.Close()
			}
		}
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for cc := range s.conns {
				if !cc.inLoop { // the loop closes its own when their requests end
					cc.c.Close()
				}
			}
			s.mu.Unlock()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// connQueue is the listener of the general path: it "accepts" the
// connections the fast path hands over.
type connQueue struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// push hands c to the general path; false when it is shut down.
func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		return false
	}
}

func (q *connQueue) Close() error   { q.once.Do(func() { close(q.done) }); return nil }
func (q *connQueue) Addr() net.Addr { return q.addr }

// handedConn is a connection given to the general path with what the
// fast path had already read from it.
type handedConn struct {
	net.Conn
	r *bufio.Reader
}

func (h *handedConn) Read(p []byte) (int, error) { return h.r.Read(p) }
