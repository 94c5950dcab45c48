package supervisor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// App Engine's lifecycle requests. /_ah/start reaches every manual- and
// basic-scaling instance before any user request; /_ah/warmup reaches an
// automatic-scaling instance started ahead of need when inbound_services
// lists warmup; /_ah/stop tells a manual- or basic-scaling instance it is
// about to be stopped.
const (
	pathStart  = "/_ah/start"
	pathWarmup = "/_ah/warmup"
	pathStop   = "/_ah/stop"
)

// internalAddr is the address App Engine's own requests come from
// (devappserver2 uses 0.1.0.3 for start, stop and warmup requests).
const internalAddr = "0.1.0.3"

// internalClient sends lifecycle requests on fresh connections: they are
// rare, and a kept-alive connection would outlive the process.
var internalClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true},
	// A redirect from /_ah/start is an answer, not something to follow.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// internalRequest sends GET path to the instance at addr as App Engine
// does: from 0.1.0.3, as an administrator. Any status counts as an answer,
// as in App Engine, which lets apps without such a handler answer 404.
func internalRequest(ctx context.Context, addr string, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, err
	}
	h := req.Header
	h.Set("X-Appengine-Remote-Addr", internalAddr)
	h.Set("X-Forwarded-For", internalAddr)
	h.Set("X-Appengine-User-Is-Admin", "1")
	h.Set("X-Appengine-Country", "ZZ")
	if path == pathStop {
		h.Set("X-Appengine-Dev-Request-Type", "shutdown")
	}
	resp, err := internalClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// lifecycleRequest sends path and notes the answer in the instance's log.
func (in *Instance) lifecycleRequest(ctx context.Context, addr string, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	code, err := internalRequest(ctx, addr, path)
	if err != nil {
		return fmt.Errorf("GET %s failed: %w", path, err)
	}
	in.Logs.Add(System, fmt.Sprintf("GET %s → %d in %s", path, code, time.Since(start).Round(100*time.Microsecond)))
	return nil
}
