package main

import (
	"fmt"
	"os"
	"time"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui"
)

// requestLog writes every request's access line to --log-dir, beside the
// service's other logs: SERVICE.requests.log (a name no service's or
// instance's file can have, since service names hold no dot), one line
// per request in the other files' layout,
//
//	2006-01-02T15:04:05.000 request default/0 GET /path 200 2B 1.2ms
//
// It follows the supervisor's request ring on a tick, as the headless
// printer does, so that a request never waits on the disk.
type requestLog struct {
	dir   string
	sup   *supervisor.Supervisor
	files map[string]*supervisor.LogFile // by service; nil when it could not be created or written
	next  uint64                         // sequence number of the next request to write
	stop  chan struct{}
	done  chan struct{}
}

// requestLogTick is how often new requests are written: a request's line
// is in its file at most this long (and the file's flush delay) after the
// request ended.
const requestLogTick = 200 * time.Millisecond

// startRequestLog creates the files of services in dir and follows sup's
// requests until close. It returns nil when dir is "" (no --log-dir).
func startRequestLog(dir string, sup *supervisor.Supervisor, services []string) *requestLog {
	if dir == "" {
		return nil
	}
	l := &requestLog{dir: dir, sup: sup, files: map[string]*supervisor.LogFile{}, next: 1,
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, s := range services {
		l.file(s)
	}
	go l.run()
	return l
}

func (l *requestLog) run() {
	defer close(l.done)
	t := time.NewTicker(requestLogTick)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			l.write()
			l.closeFiles()
			return
		case <-t.C:
			l.write()
		}
	}
}

// close writes the requests not yet written and closes the files; call it
// once the front servers have stopped.
func (l *requestLog) close() {
	if l == nil {
		return
	}
	close(l.stop)
	<-l.done
}

// write writes what came since the last call.
func (l *requestLog) write() {
	for {
		reqs := l.sup.Requests().Since(l.next, 512)
		if len(reqs) == 0 {
			break
		}
		if gap := reqs[0].Seq - l.next; gap > 0 {
			// Which services they were for is lost with them: every file says so.
			for _, f := range l.files {
				if f != nil {
					f.Write(time.Now(), supervisor.System.String(),
						fmt.Sprintf("… %d requests of this app not written (the request ring overflowed)", gap))
				}
			}
		}
		for _, r := range reqs {
			if f := l.file(r.Service); f != nil {
				name := r.Service
				if r.Instance != "" {
					name += "/" + r.Instance
				}
				f.Write(r.Start, "request", name+" "+ui.AccessText(r))
			}
		}
		l.next = reqs[len(reqs)-1].Seq + 1
	}
	for service, f := range l.files {
		if f != nil && f.Err() != nil {
			l.fail(service, f.Err())
		}
	}
}

// file returns service's file, creating (or truncating: each run starts
// its files afresh) it on first use; nil when it cannot be written.
func (l *requestLog) file(service string) *supervisor.LogFile {
	if f, ok := l.files[service]; ok {
		return f
	}
	f, err := supervisor.OpenLogFile(l.dir, service+".requests")
	if err != nil {
		l.files[service] = nil
		l.warn(service, err)
		return nil
	}
	l.files[service] = f
	return f
}

// fail stops writing a file that failed, and says so in the service's log.
func (l *requestLog) fail(service string, err error) {
	_ = l.files[service].Close()
	l.files[service] = nil
	l.warn(service, err)
}

func (l *requestLog) warn(service string, err error) {
	if logs := l.sup.Logs(service, ""); logs != nil {
		logs.Add(supervisor.System, fmt.Sprintf("warning: %v; its request lines are not written to --log-dir", err))
	}
}

func (l *requestLog) closeFiles() {
	for service, f := range l.files {
		if f == nil {
			continue
		}
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "appdeck: --log-dir: the request lines of %s: %v\n", service, err)
		}
	}
}
