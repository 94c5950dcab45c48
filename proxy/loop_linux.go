//go:build linux

package proxy

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The fast path's event loop. A goroutine per connection costs, under
// load, a read that finds nothing before most waits (Go reads before it
// parks) and a trip through the scheduler at every wake-up: with wrk -c32
// that was 2.8 reads per request and a fifth more CPU than nginx. A loop
// reads a socket only when epoll says it has bytes, so a plain keep-alive
// request costs one read and one write on each side, as in nginx.
//
// The loop serves only the common case: a whole request head (and body)
// in one buffer, an instance with room now, an idle connection to it,
// and a response with a length that fits one buffer. At any other turn
// the connection goes to a goroutine (clientConn.serve), with whatever
// the loop began, and comes back when that request is over.

// One loop serves every port. It forwards some 30,000 requests a second
// on one core, more than a development server is asked for, and it keeps
// its own idle connections to the instances: with several loops, one
// could hold the only connection an instance takes at a time (a
// single-threaded HTTP/1.1 server, Python's http.server) while another
// dialled a second that the instance never accepts.
var theLoop struct {
	once sync.Once
	l    *loop // nil when epoll is not to be had: goroutines serve everything
	// closes counts wakeLoop calls, so that the loop woken only for new
	// connections does not look through all of its own.
	closes atomic.Uint64
}

func getLoop() *loop {
	theLoop.once.Do(func() {
		if l, err := newLoop(); err == nil {
			theLoop.l = l
			go l.run()
		}
	})
	return theLoop.l
}

// wakeLoop makes the loop look at its connections: a server shuts
// down, or a forwarder closed.
func wakeLoop() {
	theLoop.closes.Add(1)
	if l := getLoop(); l != nil {
		l.wakeUp()
	}
}

type loop struct {
	ep, wake int // the epoll and eventfd descriptors

	mu      sync.Mutex
	inbox   []*lconn    // adopted, not yet registered
	given   []*lbackend // idle instance connections given by goroutines
	borrows []borrow    // goroutines asking for an idle instance connection

	// Owned by the loop's goroutine.
	fds    map[int32]endpoint
	serial uint32 // tells a descriptor's uses apart across reuse
	idle   map[*Forwarder][]*lbackend
	swept  time.Time
	closes uint64 // theLoop.closes when last looked at
}

// borrow asks the loop for one of its idle connections to f.
type borrow struct {
	f   *Forwarder
	got chan *backendConn // nil when the loop has none
}

// endpoint is a registered descriptor: a client or a backend connection.
type endpoint interface{ serialNo() uint32 }

// lconn is a client connection while a loop serves it.
type lconn struct {
	cc     *clientConn
	fd     int
	serial uint32
	in     []byte // read and not yet served
	since  time.Time
	head   bool // since marks the first byte of a head still incomplete
	// readable says epoll reported bytes while a request was in flight,
	// a read filled the buffer, or the client's end came (a read takes
	// the bytes before it, and no event says the end is left): read
	// again once the request is over.
	readable bool

	// The request in flight.
	bk    *lbackend
	svc   *service
	u     user
	o     Outcome
	lease *Lease
	base  int // len(cc.out) before the identity headers
}

// lbackend is a connection to an instance owned by a loop.
type lbackend struct {
	f      *Forwarder
	fd     int
	serial uint32
	buf    []byte // the response read so far
	lc     *lconn // the client it answers; nil while idle
}

func (c *lconn) serialNo() uint32    { return c.serial }
func (b *lbackend) serialNo() uint32 { return b.serial }

func newLoop() (*loop, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(ep)
		return nil, err
	}
	l := &loop{ep: ep, wake: wake, fds: map[int32]endpoint{}, idle: map[*Forwarder][]*lbackend{}}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}); err != nil {
		unix.Close(ep)
		unix.Close(wake)
		return nil, err
	}
	return l, nil
}

func (l *loop) wakeUp() {
	one := [8]byte{1}
	_, _ = unix.Write(l.wake, one[:])
}

// adopt moves cc's connection from its goroutine to the loop; false
// leaves it there. Nothing may be buffered on cc.
func (s *Server) adopt(cc *clientConn) bool {
	l := getLoop()
	if l == nil || s.closing.Load() {
		return false
	}
	fd, err := dupConn(cc.c)
	if err != nil {
		return false
	}
	s.mu.Lock()
	cc.inLoop = true
	s.mu.Unlock()
	cc.c.Close()
	l.mu.Lock()
	l.inbox = append(l.inbox, &lconn{cc: cc, fd: fd, in: make([]byte, 0, 8<<10)})
	l.mu.Unlock()
	l.wakeUp()
	return true
}

// borrowIdle takes a connection to f that the loop holds idle, for a
// goroutine that would otherwise dial; nil when it holds none.
func borrowIdle(f *Forwarder) *backendConn {
	l := getLoop()
	if l == nil {
		return nil
	}
	b := borrow{f: f, got: make(chan *backendConn, 1)}
	l.mu.Lock()
	l.borrows = append(l.borrows, b)
	l.mu.Unlock()
	l.wakeUp()
	return <-b.got
}

// giveIdle hands an idle connection to f from a goroutine to the loop's
// pool; false leaves it with the caller.
func giveIdle(f *Forwarder, c net.Conn) bool {
	l := getLoop()
	if l == nil {
		return false
	}
	fd, err := dupConn(c)
	if err != nil {
		return false
	}
	c.Close()
	l.mu.Lock()
	l.given = append(l.given, &lbackend{f: f, fd: fd, buf: make([]byte, 0, maxResponseHead)})
	l.mu.Unlock()
	l.wakeUp()
	return true
}

// lend answers a borrow: the last idle connection to b.f, as a net.Conn.
func (l *loop) lend(b borrow) {
	bk := l.takeIdle(b.f)
	if bk == nil {
		b.got <- nil
		return
	}
	l.unregister(bk.fd)
	c, err := fileConn(bk.fd)
	if err != nil {
		b.got <- nil
		return
	}
	b.got <- &backendConn{c: c, br: bufio.NewReaderSize(c, maxResponseHead), reused: true}
}

// dupConn returns a descriptor of its own for c's socket.
func dupConn(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1, syscall.EINVAL
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := raw.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	return fd, derr
}

// fileConn turns a loop's descriptor back into a net.Conn, closing fd.
func fileConn(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "")
	defer f.Close()
	return net.FileConn(f)
}

func (l *loop) run() {
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := pollNow(l.ep, events)
		if n == 0 && err == nil {
			n, err = unix.EpollWait(l.ep, events, 1000)
		}
		if err != nil && err != unix.EINTR {
			panic("appdeck: epoll_wait: " + err.Error())
		}
		for _, ev := range events[:max(n, 0)] {
			if int(ev.Fd) == l.wake {
				l.woken()
				continue
			}
			e := l.fds[ev.Fd]
			if e == nil || e.serialNo() != uint32(ev.Pad) {
				continue // closed earlier in this batch
			}
			switch e := e.(type) {
			case *lconn:
				l.clientEvent(e, ev.Events)
			case *lbackend:
				l.backendEvent(e, ev.Events)
			}
		}
		if now := time.Now(); now.Sub(l.swept) >= time.Second {
			l.sweep(now)
		}
	}
}

// register adds fd to the epoll set, edge-triggered: an event says new
// bytes came, so a read that comes back short has drained the socket.
func (l *loop) register(fd int, e endpoint) bool {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd), Pad: int32(e.serialNo())}
	if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return false
	}
	l.fds[int32(fd)] = e
	return true
}

func (l *loop) unregister(fd int) {
	delete(l.fds, int32(fd))
	_ = unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, fd, nil)
}

func (l *loop) nextSerial() uint32 {
	l.serial++
	return l.serial
}

// woken takes in adopted connections and drops what is shut down.
func (l *loop) woken() {
	var buf [8]byte
	_, _ = unix.Read(l.wake, buf[:])
	l.mu.Lock()
	inbox, given, borrows := l.inbox, l.given, l.borrows
	l.inbox, l.given, l.borrows = nil, nil, nil
	l.mu.Unlock()
	// Connections given back before a borrow was asked for are lent to
	// it: a lease ends after its connection is given back.
	for _, bk := range given {
		bk.serial = l.nextSerial()
		if l.register(bk.fd, bk) {
			l.putBackend(bk)
		} else {
			unix.Close(bk.fd)
		}
	}
	for _, b := range borrows {
		l.lend(b)
	}
	now := time.Now()
	for _, lc := range inbox {
		lc.serial = l.nextSerial()
		lc.since = now
		if !l.register(lc.fd, lc) {
			unix.Close(lc.fd)
			lc.cc.s.untrack(lc.cc)
			continue
		}
		l.readClient(lc) // bytes that came before the registration
	}
	if n := theLoop.closes.Load(); n != l.closes {
		l.closes = n
		l.dropClosed()
	}
}

// dropClosed closes idle connections of servers shutting down and of
// forwarders closed.
func (l *loop) dropClosed() {
	for _, e := range l.fds {
		if lc, ok := e.(*lconn); ok && lc.bk == nil && lc.cc.s.closing.Load() {
			l.closeClient(lc)
		}
	}
	for f, idle := range l.idle {
		if f.conns.isClosed() {
			for _, bk := range idle {
				l.closeBackend(bk)
			}
			delete(l.idle, f)
		}
	}
}

// sweep closes client connections idle or slow past their timeout, and
// gives a request past its deadline to a goroutine, which answers 504.
func (l *loop) sweep(now time.Time) {
	l.swept = now
	for _, e := range l.fds {
		lc, ok := e.(*lconn)
		if !ok {
			continue
		}
		s := lc.cc.s
		switch {
		case lc.bk != nil:
			if now.Sub(lc.o.Start) > lc.svc.deadline {
				l.resume(lc, nil)
			}
		case lc.head && now.Sub(lc.since) > s.readHeaderTimeout, !lc.head && now.Sub(lc.since) > s.idleTimeout:
			l.closeClient(lc)
		}
	}
	l.dropClosed()
}

// ended are the events that say the other side closed or failed.
const ended = unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR

func (l *loop) clientEvent(lc *lconn, events uint32) {
	if events&ended != 0 {
		lc.readable = true
	}
	if lc.bk != nil {
		lc.readable = true
		if events&ended != 0 && !unread(lc.fd) {
			l.abandon(lc)
		}
		return
	}
	l.readClient(lc)
}

// unread reports whether bytes wait in the socket: a client that sent
// its next request before its end is served both, as on a goroutine
// (whose watch of the client ends at the first byte).
func unread(fd int) bool {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	return err == nil && n > 0
}

// abandon ends the request in flight of a client that left (see
// clientwatch.go): the instance's connection closes, so the app sees the
// request end, and the request is recorded as 499.
func (l *loop) abandon(lc *lconn) {
	bk := lc.bk
	bk.lc, lc.bk = nil, nil
	l.closeBackend(bk)
	lc.o.Status = statusClientGone
	lc.lease.Done(lc.o)
	lc.lease = nil
	lc.cc.active.Store(false)
	lc.cc.done(&lc.o, closed)
	l.closeClient(lc)
}

// readClient reads what the client sent and serves it. The buffer has
// room: a full one is served or handed over before.
func (l *loop) readClient(lc *lconn) {
	n, err := read(lc.fd, lc.in[len(lc.in):cap(lc.in)])
	if err == unix.EAGAIN {
		return
	}
	if n <= 0 {
		l.closeClient(lc)
		return
	}
	lc.readable = lc.readable || len(lc.in)+n == cap(lc.in)
	lc.in = lc.in[:len(lc.in)+n]
	l.serveBuffered(lc)
}

// serveBuffered starts the request in lc.in when its head is whole.
func (l *loop) serveBuffered(lc *lconn) {
	if bytes.Contains(lc.in, crlfcrlf) {
		lc.head = false
		l.request(lc)
		return
	}
	if len(lc.in) == cap(lc.in) || bytes.Contains(lc.in, lflf) {
		l.toGoroutine(lc, lc.in, nil) // a head for net/http to judge
		return
	}
	if !lc.head {
		lc.head, lc.since = true, time.Now()
	}
	if lc.readable { // the rest may be in the socket already: no event will say so
		lc.readable = false
		l.readClient(lc)
	}
}

// request relays the request whose head is in lc.in, or gives it to a
// goroutine when the loop cannot see it through.
func (l *loop) request(lc *lconn) {
	cc := lc.cc
	svc, u, o, ok := cc.admit(lc.in)
	if !ok || cc.req.contentLength > 0 && int64(len(lc.in)-cc.req.headLen) < cc.req.contentLength {
		l.toGoroutine(lc, lc.in, nil)
		return
	}
	lease, err := svc.pool.TryAcquire()
	if lease == nil || err != nil {
		l.toGoroutine(lc, lc.in, nil) // to wait for an instance, or answer why none
		return
	}
	lc.svc, lc.u, lc.o, lc.lease = svc, u, o, lease
	lc.o.Instance = lease.Instance
	cc.active.Store(true)
	lc.base = len(cc.out)
	f, ok := lease.Handler.(*Forwarder)
	var bk *lbackend
	if ok {
		bk = l.backend(f)
	}
	if bk == nil {
		l.restart(lc)
		return
	}
	id := newIdentity(u, cc.ip)
	cc.out = id.appendHeaders(cc.out, !cc.req.trace)
	cc.out = append(cc.out, lc.in[cc.req.headLen:cc.req.size()]...)
	l.send(lc, bk)
}

// send writes the request to the instance.
func (l *loop) send(lc *lconn, bk *lbackend) {
	out := lc.cc.out
	n, err := write(bk.fd, out)
	if err == unix.EAGAIN {
		n, err = 0, nil
	}
	if err != nil {
		l.closeBackend(bk) // closed by the instance while idle: try a new one
		l.restart(lc)
		return
	}
	lc.bk, bk.lc = bk, lc
	if n < len(out) {
		l.resume(lc, out[n:])
	}
}

// backend returns an idle connection to f: the loop's own, else one the
// goroutines left in f's pool; nil when there is none (a goroutine dials).
func (l *loop) backend(f *Forwarder) *lbackend {
	if bk := l.takeIdle(f); bk != nil {
		return bk
	}
	bc := f.conns.takeIdle()
	if bc == nil {
		return nil
	}
	defer bc.c.Close()
	if bc.br.Buffered() > 0 {
		return nil // bytes nobody asked for: the connection is not sound
	}
	fd, err := dupConn(bc.c)
	if err != nil {
		return nil
	}
	bk := &lbackend{f: f, fd: fd, serial: l.nextSerial(), buf: make([]byte, 0, maxResponseHead)}
	if !l.register(fd, bk) {
		unix.Close(fd)
		return nil
	}
	return bk
}

func (l *loop) backendEvent(bk *lbackend, events uint32) {
	lc := bk.lc
	n, err := read(bk.fd, bk.buf[len(bk.buf):cap(bk.buf)])
	if err == unix.EAGAIN {
		// An event can come late: for bytes the read after an
		// earlier one already took. Nothing to do.
		return
	}
	if lc == nil {
		l.dropIdle(bk) // closed by the instance, or bytes nobody asked for
		return
	}
	if n <= 0 {
		if len(bk.buf) == 0 {
			// A keep-alive connection the instance closed as the request
			// went out: send it again on a new one, as net/http does.
			l.closeBackend(bk)
			lc.bk = nil
			l.restart(lc)
			return
		}
		l.resume(lc, nil) // the goroutine reports the broken response
		return
	}
	bk.buf = bk.buf[:len(bk.buf)+n]
	l.response(lc, bk)
	if bk.lc == lc && events&ended != 0 {
		// The instance's end came with the bytes read, a response cut
		// short: no event will say so.
		l.backendEvent(bk, 0)
	}
}

// response answers the client when the whole response is in bk.buf, and
// hands over to a goroutine what the loop does not handle.
func (l *loop) response(lc *lconn, bk *lbackend) {
	end := bytes.Index(bk.buf, crlfcrlf)
	if end < 0 {
		if len(bk.buf) == cap(bk.buf) {
			l.resume(lc, nil)
		}
		return
	}
	res, err := parseResponseHead(bk.buf[:end+4], lc.cc.req.method)
	if err != nil || res.code < 200 || res.errorCode != "" || res.contentLength < 0 ||
		int64(cap(bk.buf)-res.headLen) < res.contentLength {
		l.resume(lc, nil)
		return
	}
	if int64(len(bk.buf)-res.headLen) < res.contentLength {
		return // more to come
	}
	l.reply(lc, bk, &res)
}

// reply writes the response in bk.buf to the client and ends the request.
func (l *loop) reply(lc *lconn, bk *lbackend, res *resHead) {
	cc := lc.cc
	size := res.headLen + int(res.contentLength)
	cc.res = appendResponseHead(cc.res[:0], bk.buf[:res.headLen], res, cc.req.close)
	cc.res = append(cc.res, bk.buf[res.headLen:size]...)
	sound := !res.close && len(bk.buf) == size
	bk.buf, bk.lc, lc.bk = bk.buf[:0], nil, nil
	if sound {
		l.putBackend(bk)
	} else {
		l.closeBackend(bk)
	}
	// The request ends, and is recorded, before the client can see the
	// response: whoever the client tells finds it among the records.
	lc.o.Status, lc.o.Bytes = res.code, res.contentLength
	lc.lease.Done(lc.o)
	lc.lease = nil
	cc.active.Store(false)
	v := cc.done(&lc.o, served)
	reqLen := cc.req.size()
	n, err := write(lc.fd, cc.res)
	if err == unix.EAGAIN {
		n, err = 0, nil
	}
	if err == nil && n < len(cc.res) {
		l.flush(lc, lc.in[reqLen:], cc.res[n:], v)
		return
	}
	if err != nil || v != served || cc.s.closing.Load() {
		l.closeClient(lc)
		return
	}
	lc.in = lc.in[:copy(lc.in, lc.in[reqLen:])]
	lc.since = cc.now
	l.next(lc)
}

// next serves what the client sent while the last request was in flight.
func (l *loop) next(lc *lconn) {
	switch {
	case len(lc.in) > 0:
		l.serveBuffered(lc)
	case lc.readable:
		lc.readable = false
		l.readClient(lc)
	}
}

func (l *loop) putBackend(bk *lbackend) {
	idle := l.idle[bk.f]
	if bk.f.conns.isClosed() || len(idle) >= max(bk.f.conns.max, 1) {
		l.closeBackend(bk)
		return
	}
	l.idle[bk.f] = append(idle, bk)
}

// takeIdle takes the connection to f last made idle, or nil.
func (l *loop) takeIdle(f *Forwarder) *lbackend {
	idle := l.idle[f]
	if len(idle) == 0 {
		return nil
	}
	bk := idle[len(idle)-1]
	l.idle[f] = idle[:len(idle)-1]
	return bk
}

// dropIdle closes an idle backend connection and forgets it.
func (l *loop) dropIdle(bk *lbackend) {
	idle := l.idle[bk.f]
	for i, b := range idle {
		if b == bk {
			l.idle[bk.f] = append(idle[:i], idle[i+1:]...)
			break
		}
	}
	l.closeBackend(bk)
}

func (l *loop) closeBackend(bk *lbackend) {
	l.unregister(bk.fd)
	unix.Close(bk.fd)
}

func (l *loop) closeClient(lc *lconn) {
	l.unregister(lc.fd)
	unix.Close(lc.fd)
	lc.cc.s.untrack(lc.cc)
}

// restart gives the request, unsent, to a goroutine holding its lease,
// which relays it on a connection of its own.
func (l *loop) restart(lc *lconn) {
	cc, svc, u, lease := lc.cc, lc.svc, lc.u, lc.lease
	o := lc.o
	cc.out = cc.out[:lc.base]
	l.toGoroutine(lc, lc.in, func() verdict {
		return cc.done(&o, cc.forward(svc, u, &o, lease, nil))
	})
}

// resume gives the request in flight to a goroutine, with its backend
// connection and what came on it, unsent bytes of the request first.
func (l *loop) resume(lc *lconn, unsent []byte) {
	cc, svc, bk, lease := lc.cc, lc.svc, lc.bk, lc.lease
	o := lc.o
	unsent = bytes.Clone(unsent)
	pending := bytes.Clone(bk.buf)
	l.unregister(bk.fd)
	c, err := fileConn(bk.fd)
	bk.lc = nil
	reqLen := cc.req.size()
	handed := l.toGoroutine(lc, lc.in[reqLen:], func() verdict {
		v := bk.f.answerFrom(cc, svc, &o, c, err, pending, unsent)
		lease.Done(o)
		return cc.done(&o, v)
	})
	if !handed && c != nil {
		c.Close()
	}
}

// flush gives the end of a response the client's socket had no room
// for to a goroutine, which writes it; v is what became of the request.
func (l *loop) flush(lc *lconn, pending, rest []byte, v verdict) {
	cc := lc.cc
	rest = bytes.Clone(rest)
	l.toGoroutine(lc, pending, func() verdict {
		if _, err := cc.c.Write(rest); err != nil {
			return closed
		}
		return v
	})
}

// toGoroutine hands lc's connection, with pending as already read, to a
// goroutine that runs first and then serves the connection. False says
// the connection is lost instead (no descriptor was left to hand over),
// and the request in flight, if any, ended.
func (l *loop) toGoroutine(lc *lconn, pending []byte, first func() verdict) bool {
	cc := lc.cc
	l.unregister(lc.fd)
	c, err := fileConn(lc.fd)
	if err != nil {
		if lc.lease != nil {
			lc.o.Status = statusClientGone
			lc.lease.Done(lc.o)
			cc.done(&lc.o, closed)
		}
		cc.s.untrack(cc)
		return false
	}
	lc.bk, lc.lease = nil, nil
	cc.active.Store(first != nil)
	cc.br, cc.idleSet = readerWith(c, bytes.Clone(pending), 8<<10), time.Time{}
	s := cc.s
	s.mu.Lock()
	cc.c, cc.inLoop = c, false
	s.mu.Unlock()
	go cc.serve(first)
	return true
}

// The loop's system calls on sockets never block (the descriptors are
// non-blocking), so they skip the runtime's syscall bookkeeping. That
// bookkeeping also keeps sysmon waking every 20µs to look for a
// blocked thread, which under wrk was 8% of appdeck's CPU.

// pollNow returns the events ready now, without waiting.
func pollNow(ep int, events []unix.EpollEvent) (int, error) {
	n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func read(fd int, p []byte) (int, error)  { return rawIO(unix.SYS_READ, fd, p) }
func write(fd int, p []byte) (int, error) { return rawIO(unix.SYS_WRITE, fd, p) }

// rawIO is read(2) or write(2), whichever trap says.
func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}
