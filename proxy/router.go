package proxy

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/appdeck/appdeck/config"
)

// maxBody is App Engine's limit on a request body: 32 MiB.
const maxBody = 32 << 20

// App Engine's request deadlines: 10 minutes with automatic scaling, 24
// hours with basic and manual scaling.
const (
	automaticDeadline = 10 * time.Minute
	longDeadline      = 24 * time.Hour
)

// Options configures the front servers of an app.
type Options struct {
	App *config.App
	// Pool returns the instance pool of a service.
	Pool func(service string) Pool
	// Record, when set, receives every request's outcome, served or not.
	Record func(Outcome)
	// Host is the --host value, accepted in Host headers with the
	// loopback names; AllowHosts are --allow-host patterns.
	Host       string
	AllowHosts []string
	// HTTPSPort, when set, is where `secure: always` handlers redirect
	// plain HTTP requests; without it they are served with a warning.
	HTTPSPort int
	// Deadline, when positive, replaces App Engine's request deadlines.
	Deadline time.Duration
	// ReadHeaderTimeout is how long a client has to send a request's
	// headers (slowloris; default 10 s); IdleTimeout closes keep-alive
	// connections left idle (default 2 minutes).
	ReadHeaderTimeout, IdleTimeout time.Duration
	// Warn, when set, receives notes for a service's log, such as a
	// `secure: always` handler served over HTTP.
	Warn func(service, msg string)
}

// Router holds what every front port of an app shares: the services'
// handlers, the dispatch rules and the Host check.
type Router struct {
	opts  Options
	hosts *hostCheck
	// table is the configuration in force; Reload swaps in a new one,
	// which the next request reads, while requests under way finish
	// with the one they started with.
	table  atomic.Pointer[table]
	roots  map[string]*os.Root // by service directory, shared by every table
	warned sync.Map
}

// table is one configuration of the app as the front serves it.
type table struct {
	services map[string]*service
	ordered  []*service // as App.Services: a port's service by its index
	dflt     *service   // dispatch target when no rule matches; soft routing
	rules    []dispatchRule
}

// service is one app.yaml as the front serves it.
type service struct {
	name     string
	cfg      *config.Service
	pool     Pool
	root     *os.Root // the service directory: static files never leave it
	handlers []handler
	errFiles map[string]config.ErrorHandler
	deadline time.Duration
	etags    etagCache
}

// New prepares the front of an app. Close releases it.
func New(opts Options) (*Router, error) {
	hc, err := newHostCheck(opts.Host, opts.AllowHosts)
	if err != nil {
		return nil, err
	}
	rt := &Router{opts: opts, hosts: hc, roots: map[string]*os.Root{}}
	t, err := rt.newTable(opts.App)
	if err != nil {
		rt.Close()
		return nil, err
	}
	rt.table.Store(t)
	return rt, nil
}

// Reload puts a new configuration of the app in force from the next
// request on. It must have the same services, in the same order, as the
// app the Router was made with: ports and pools stay as they are.
func (rt *Router) Reload(app *config.App) error {
	old := rt.table.Load()
	if len(app.Services) != len(old.ordered) {
		return fmt.Errorf("the app has %d services, not %d", len(app.Services), len(old.ordered))
	}
	for i, cfg := range app.Services {
		if cfg.Name != old.ordered[i].name || rt.roots[cfg.Dir] == nil {
			return fmt.Errorf("service %q in %s is not service %d of the app", cfg.Name, cfg.Dir, i+1)
		}
	}
	t, err := rt.newTable(app)
	if err != nil {
		return err
	}
	rt.table.Store(t)
	return nil
}

func (rt *Router) newTable(app *config.App) (*table, error) {
	t := &table{services: map[string]*service{}}
	for _, cfg := range app.Services {
		s, err := rt.newService(cfg)
		if err != nil {
			return nil, err
		}
		t.services[cfg.Name] = s
		t.ordered = append(t.ordered, s)
		if t.dflt == nil || cfg.Name == "default" {
			t.dflt = s
		}
	}
	if d := app.Dispatch; d != nil {
		for _, r := range d.Rules {
			if t.services[r.Service] == nil {
				return nil, fmt.Errorf("%s: dispatch rule %q names service %q, which the app does not have", d.File, r.URL, r.Service)
			}
			t.rules = append(t.rules, dispatchRule{DispatchRule: r, route: "dispatch " + r.URL})
		}
	}
	for i := range t.rules {
		r := &t.rules[i]
		s := t.services[r.Service]
		for j := range s.handlers {
			h := &s.handlers[j]
			if h.viaRule == nil {
				h.viaRule = map[*dispatchRule]string{}
			}
			h.viaRule[r] = r.route + " → " + h.label
		}
	}
	return t, nil
}

func (rt *Router) newService(cfg *config.Service) (*service, error) {
	root := rt.roots[cfg.Dir]
	if root == nil {
		var err error
		if root, err = os.OpenRoot(cfg.Dir); err != nil {
			return nil, fmt.Errorf("service %q: %w", cfg.Name, err)
		}
		rt.roots[cfg.Dir] = root
	}
	s := &service{name: cfg.Name, cfg: cfg, pool: rt.opts.Pool(cfg.Name), root: root,
		errFiles: map[string]config.ErrorHandler{}, deadline: rt.opts.Deadline}
	for _, h := range cfg.Handlers {
		s.handlers = append(s.handlers, newHandler(h))
	}
	for _, eh := range cfg.ErrorHandlers {
		if _, dup := s.errFiles[eh.Code]; !dup {
			s.errFiles[eh.Code] = eh
		}
	}
	if s.deadline <= 0 {
		s.deadline = automaticDeadline
		if cfg.Scaling.Kind != config.Automatic {
			s.deadline = longDeadline
		}
	}
	return s, nil
}

// Close releases the service directories.
func (rt *Router) Close() error {
	for _, root := range rt.roots {
		root.Close()
	}
	return nil
}

// port returns the handler of the named service's front port. The
// default service's port (the first service's, when none is named
// "default") also applies dispatch.yaml.
// Handler serves the named service's port with net/http alone, without
// the fast path: for embedding a port in another server, as tests do.
func (rt *Router) Handler(name string) http.Handler { return rt.port(name) }

func (rt *Router) port(name string) *port {
	for i, s := range rt.table.Load().ordered {
		if s.name == name {
			return &port{rt: rt, name: name, index: i}
		}
	}
	panic(fmt.Sprintf("proxy: no service %q", name))
}

// route picks the service for a request on port p: a service named in
// the host ("api.localhost"), then dispatch rules on the default port,
// then the port's own service. A host naming an unknown service goes to
// the default service, as App Engine's soft routing does.
func (p *port) route(host, path string) (*service, *dispatchRule) {
	t := p.rt.table.Load()
	if name := serviceFromHost(host); name != "" {
		if s := t.services[name]; s != nil {
			return s, nil
		}
		return t.dflt, nil
	}
	own := t.ordered[p.index]
	if own == t.dflt && len(t.rules) > 0 {
		if r := matchDispatch(t.rules, host, path); r != nil {
			return t.services[r.Service], r
		}
	}
	return own, nil
}

// warnOnce passes msg to Options.Warn the first time key is seen.
func (rt *Router) warnOnce(service, key, msg string) {
	if rt.opts.Warn == nil {
		return
	}
	if _, seen := rt.warned.LoadOrStore(key, true); !seen {
		rt.opts.Warn(service, msg)
	}
}

// cleanPath resolves "." and ".." segments as devappserver2 does before
// matching, keeping repeated slashes; the client is redirected to the
// result, so no handler ever sees a dot segment.
func cleanPath(p string) string {
	if !strings.Contains(p, "/.") || !strings.HasPrefix(p, "/") {
		return p
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
			continue
		}
		if last {
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/")
}
