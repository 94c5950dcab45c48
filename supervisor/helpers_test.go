package supervisor

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
)

// pyApp serves HTTP on $PORT and writes one line per request to stdout
// and to $REQLOG: instance, path and the X-Appengine-Remote-Addr header.
// /crash writes to stderr and exits with status 3 mid-request; ?ms=N
// sleeps N milliseconds before answering.
const pyApp = `import http.server, os, sys, time, urllib.parse
log = open(os.environ["REQLOG"], "a", buffering=1) if os.environ.get("REQLOG") else None
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        line = "%s %s %s" % (os.environ["GAE_INSTANCE"], u.path, self.headers.get("X-Appengine-Remote-Addr", "-"))
        print(line, flush=True)
        if log:
            log.write(line + "\n")
        if u.path == "/crash":
            print("about to crash: the database is on fire", file=sys.stderr, flush=True)
            os._exit(3)
        if "ms" in q:
            time.sleep(int(q["ms"][0]) / 1000)
        body = ("instance " + os.environ["GAE_INSTANCE"]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`

// pyService returns a service running pyApp, logging requests to the
// returned file.
func pyService(t *testing.T, name string, scaling config.Scaling) (*config.Service, string) {
	t.Helper()
	requireTools(t, "python3")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(pyApp), 0o644); err != nil {
		t.Fatal(err)
	}
	reqlog := filepath.Join(dir, "requests.log")
	return &config.Service{
		Name: name, Dir: dir, Entrypoint: "exec python3 -u app.py", Scaling: scaling,
		Env: []config.EnvVar{{Name: "REQLOG", Value: reqlog}},
	}, reqlog
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// front serves a service through a real front server on loopback, as
// appdeck does, and returns its URL.
func front(t *testing.T, sup *Supervisor, service string) string {
	t.Helper()
	rt, err := proxy.New(proxy.Options{App: sup.opts.App, Pool: sup.Pool, Record: sup.Record})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt.Handler(service))
	t.Cleanup(func() { srv.Close(); rt.Close() })
	return srv.URL
}

// fastFront serves a service on its own port through the front server
// appdeck runs (proxy.Server: its fast path first), and returns the URL.
func fastFront(t *testing.T, sup *Supervisor, service string) string {
	t.Helper()
	rt, err := proxy.New(proxy.Options{App: sup.opts.App, Pool: sup.Pool, Record: sup.Record})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := rt.NewServer(service)
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		rt.Close()
	})
	return "http://" + l.Addr().String()
}

// connsTo counts this process's open TCP connections to port: sockets it
// holds whatever their state, so one the peer closed but appdeck never
// did counts too.
func connsTo(t *testing.T, port int) int {
	t.Helper()
	held := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil {
			if inode, ok := strings.CutPrefix(l, "socket:["); ok {
				held[strings.TrimSuffix(inode, "]")] = true
			}
		}
	}
	n := 0
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		b, _ := os.ReadFile(table)
		for _, line := range strings.Split(string(b), "\n") {
			// sl local_address rem_address st ... inode (field 9)
			f := strings.Fields(line)
			if len(f) < 10 {
				continue
			}
			_, rport, _ := strings.Cut(f[2], ":")
			if p, err := strconv.ParseUint(rport, 16, 16); err == nil && int(p) == port && held[f[9]] {
				n++
			}
		}
	}
	return n
}

// fetch GETs url and returns the status and body; a transport error is
// status 0 with the error as body.
func fetch(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// events records every event the supervisor publishes.
type events struct {
	mu   sync.Mutex
	list []Event
}

func record(t *testing.T, sup *Supervisor) *events {
	ch, stop := sup.Subscribe()
	e := &events{}
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case ev := <-ch:
				e.mu.Lock()
				e.list = append(e.list, ev)
				e.mu.Unlock()
			case <-quit:
				return
			}
		}
	}()
	t.Cleanup(func() {
		stop()
		close(quit)
	})
	return e
}

func (e *events) matching(f func(Event) bool) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Event
	for _, ev := range e.list {
		if f(ev) {
			out = append(out, ev)
		}
	}
	return out
}

func scalingEvents(e *events, verb string) []Event {
	return e.matching(func(ev Event) bool { return ev.Kind == Scaling && strings.HasPrefix(ev.Reason, verb) })
}

// live counts the service's instances that are not stopped.
func liveInstances(sup *Supervisor, service string) int {
	n := 0
	for _, s := range sup.Snapshot() {
		if s.Name != service {
			continue
		}
		for _, in := range s.Instances {
			if in.State == Ready || in.State == Starting {
				n++
			}
		}
	}
	return n
}

func serviceInfo(sup *Supervisor, name string) ServiceInfo {
	for _, s := range sup.Snapshot() {
		if s.Name == name {
			return s
		}
	}
	return ServiceInfo{}
}

// newSupervisor starts a supervisor with opts for the services.
func newSupervisor(t *testing.T, opts Options, svcs ...*config.Service) *Supervisor {
	t.Helper()
	for _, s := range svcs {
		if s.Runtime == "" {
			s.Runtime = "custom"
		}
	}
	opts.App = &config.App{Services: svcs}
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	opts.Grace = orDefault(opts.Grace, 2*time.Second)
	opts.ReadyTimeout = orDefault(opts.ReadyTimeout, 20*time.Second)
	sup, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	sup.Start()
	t.Cleanup(sup.Stop)
	return sup
}

// traffic sends requests to url from clients goroutines, one after
// another, until the returned stop is called; stop returns how many
// succeeded (200) and the first failures.
func traffic(url string, clients int) (stop func() (ok int64, failures []string)) {
	var good, bad atomic.Int64
	var mu sync.Mutex
	var first []string
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				code, body := fetch(url)
				if code == 200 {
					good.Add(1)
					continue
				}
				bad.Add(1)
				mu.Lock()
				if len(first) < 5 {
					first = append(first, fmt.Sprintf("%d %s", code, body))
				}
				mu.Unlock()
			}
		})
	}
	return func() (int64, []string) {
		close(done)
		wg.Wait()
		if n := bad.Load(); n > int64(len(first)) {
			first = append(first, fmt.Sprintf("… %d failures in all", n))
		}
		return good.Load(), first
	}
}
