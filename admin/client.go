package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/appdeck/appdeck/supervisor"
)

// Client talks to a running appdeck's admin API.
type Client struct {
	Base  string // base URL, such as http://127.0.0.1:8000
	Token string // for state-changing calls
	HTTP  *http.Client
}

// Error is an answer of the API other than success, with its message.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Base, "/")+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var eb errorBody
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, &eb) != nil || eb.Message == "" {
			eb.Message = fmt.Sprintf("%s %s: %s", method, path, resp.Status)
		}
		return nil, &Error{Status: resp.StatusCode, Message: eb.Message}
	}
	return resp, nil
}

func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// Services lists every service and its instances.
func (c *Client) Services(ctx context.Context) ([]Service, error) {
	var s []Service
	return s, c.call(ctx, http.MethodGet, "/api/services", nil, &s)
}

// Service returns one service.
func (c *Client) Service(ctx context.Context, name string) (Service, error) {
	var s Service
	return s, c.call(ctx, http.MethodGet, "/api/services/"+url.PathEscape(name), nil, &s)
}

// Instance returns one instance.
func (c *Client) Instance(ctx context.Context, service, id string) (Instance, error) {
	var in Instance
	return in, c.call(ctx, http.MethodGet, instancePath(service, id), nil, &in)
}

func instancePath(service, id string) string {
	return "/api/instances/" + url.PathEscape(service) + "/" + url.PathEscape(id)
}

// InstanceAction restarts, stops, starts or kills one instance and
// returns it as it is afterwards.
func (c *Client) InstanceAction(ctx context.Context, service, id, action string) (Instance, error) {
	var in Instance
	return in, c.call(ctx, http.MethodPost, instancePath(service, id)+"/"+action, nil, &in)
}

// ServiceAction restarts, stops, starts, kills or rebuilds every instance
// of a service and returns it as it is afterwards.
func (c *Client) ServiceAction(ctx context.Context, service, action string) (Service, error) {
	var s Service
	return s, c.call(ctx, http.MethodPost, "/api/services/"+url.PathEscape(service)+"/"+action, nil, &s)
}

// Scale sets the number of instances of a service; n ==
// supervisor.ScaleAuto hands it back to the service's app.yaml.
func (c *Client) Scale(ctx context.Context, service string, n int) (Service, error) {
	body := ScaleRequest{Instances: &n}
	if n == supervisor.ScaleAuto {
		body = ScaleRequest{Auto: true}
	}
	var s Service
	return s, c.call(ctx, http.MethodPost, "/api/services/"+url.PathEscape(service)+"/scale", body, &s)
}

// Logs returns the log lines held that match q (see GET /api/logs).
func (c *Client) Logs(ctx context.Context, q url.Values) ([]LogLine, error) {
	var ls []LogLine
	return ls, c.call(ctx, http.MethodGet, "/api/logs?"+q.Encode(), nil, &ls)
}

// FollowLogs calls f with every line held that matches q, then with every
// new one, until ctx ends or appdeck stops (which returns nil).
func (c *Client) FollowLogs(ctx context.Context, q url.Values, f func(LogLine)) error {
	q.Set("follow", "1")
	return c.stream(ctx, "/api/logs?"+q.Encode(), func(event string, data []byte) error {
		var l LogLine
		if err := json.Unmarshal(data, &l); err != nil {
			return err
		}
		f(l)
		return nil
	})
}

// Requests returns the requests held that match q (see GET /api/requests).
func (c *Client) Requests(ctx context.Context, q url.Values) ([]Request, error) {
	var rs []Request
	return rs, c.call(ctx, http.MethodGet, "/api/requests?"+q.Encode(), nil, &rs)
}

// FollowRequests is FollowLogs for requests.
func (c *Client) FollowRequests(ctx context.Context, q url.Values, f func(Request)) error {
	q.Set("follow", "1")
	return c.stream(ctx, "/api/requests?"+q.Encode(), func(event string, data []byte) error {
		var r Request
		if err := json.Unmarshal(data, &r); err != nil {
			return err
		}
		f(r)
		return nil
	})
}

// stream reads server-sent events from path, calling f with each event's
// name and data. The end of the stream (appdeck stopped) is no error.
func (c *Client) stream(ctx context.Context, path string, f func(event string, data []byte) error) error {
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 4<<20) // a log line is at most 16 KiB, escaped
	var event string
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if data != nil {
				if err := f(event, data); err != nil {
					return fmt.Errorf("reading %s: %w", path, err)
				}
			}
			event, data = "", nil
		case line[0] == ':': // a comment: keep-alive
		default:
			field, value, _ := strings.Cut(string(line), ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				event = value
			case "data":
				if data != nil {
					data = append(data, '\n')
				}
				data = append(data, value...)
			}
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}
