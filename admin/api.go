package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/appdeck/appdeck/supervisor"
)

func (s *Server) services() []Service {
	snap := s.opts.Sup.Snapshot()
	out := make([]Service, 0, len(snap))
	for _, si := range snap {
		out = append(out, serviceOf(si, s.opts.ServiceHost))
	}
	return out
}

func (s *Server) service(name string) (Service, error) {
	for _, svc := range s.services() {
		if svc.Name == name {
			return svc, nil
		}
	}
	return Service{}, errorf(http.StatusNotFound, fmt.Sprintf("no service %q (the services are %s)", name, s.serviceNames()))
}

func (s *Server) serviceNames() string {
	var names []string
	for _, si := range s.opts.Sup.Snapshot() {
		names = append(names, si.Name)
	}
	return strings.Join(names, ", ")
}

func (s *Server) instance(service, id string) (Instance, error) {
	svc, err := s.service(service)
	if err != nil {
		return Instance{}, err
	}
	var ids []string
	for _, in := range svc.Instances {
		if in.ID == id {
			return in, nil
		}
		ids = append(ids, in.ID)
	}
	return Instance{}, errorf(http.StatusNotFound, fmt.Sprintf("no instance %s/%s (%s has %s)", service, id, service, plural(ids)))
}

func plural(ids []string) string {
	switch len(ids) {
	case 0:
		return "no instances"
	case 1:
		return "only instance " + ids[0]
	}
	return "instances " + strings.Join(ids, ", ")
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.services())
	return nil
}

func (s *Server) getService(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.service(r.PathValue("service"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, svc)
	return nil
}

func (s *Server) listInstances(w http.ResponseWriter, r *http.Request) error {
	out := []Instance{}
	for _, svc := range s.services() {
		out = append(out, svc.Instances...)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getInstance(w http.ResponseWriter, r *http.Request) error {
	in, err := s.instance(r.PathValue("service"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// instanceActions are the POST /api/instances/{service}/{id}/{action}
// actions. Each returns once it has taken effect: the process stopped, or
// the new one launched.
var instanceActions = map[string]func(Supervisor, string, string) error{
	"restart": Supervisor.Restart,
	"stop":    Supervisor.StopInstance,
	"start":   Supervisor.StartInstance,
	"kill":    Supervisor.Kill,
}

func unknownAction(action string) error {
	return errorf(http.StatusNotFound, fmt.Sprintf("unknown action %q; use restart, stop, start or kill", action))
}

func (s *Server) instanceAction(w http.ResponseWriter, r *http.Request) error {
	service, id, action := r.PathValue("service"), r.PathValue("id"), r.PathValue("action")
	do, ok := instanceActions[action]
	if !ok {
		return unknownAction(action)
	}
	if _, err := s.instance(service, id); err != nil {
		return err
	}
	if err := do(s.opts.Sup, service, id); err != nil {
		return s.actionError(service, err)
	}
	in, err := s.instance(service, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// serviceAction applies an instance action to every instance of the
// service. Instances already where the action would take them are left
// alone, so that `stop` and `start` can be repeated; restart leaves the
// instances stopped by hand stopped.
func (s *Server) serviceAction(w http.ResponseWriter, r *http.Request) error {
	service, action := r.PathValue("service"), r.PathValue("action")
	do, ok := instanceActions[action]
	if !ok {
		return errorf(http.StatusNotFound, fmt.Sprintf("unknown action %q; use restart, stop, start, kill, scale or rebuild", action))
	}
	svc, err := s.service(service)
	if err != nil {
		return err
	}
	if action == "restart" {
		err = s.opts.Sup.RestartService(service)
	} else {
		for _, in := range svc.Instances {
			e := do(s.opts.Sup, service, in.ID)
			if e != nil && !errors.Is(e, supervisor.ErrConflict) && !errors.Is(e, supervisor.ErrNotFound) {
				err = e
				break
			}
		}
	}
	if err != nil {
		return s.actionError(service, err)
	}
	return s.writeService(w, service)
}

// actionError gives an action's failure its status. The supervisor's own
// kinds map in writeError; a service whose build failed cannot run, which
// is a conflict with its state, not a server error.
func (s *Server) actionError(service string, err error) error {
	var ae *apiError
	if errors.Is(err, supervisor.ErrNotFound) || errors.Is(err, supervisor.ErrConflict) ||
		errors.Is(err, supervisor.ErrStopping) || errors.As(err, &ae) {
		return err
	}
	if svc, e := s.service(service); e == nil && svc.BuildError != "" {
		return errorf(http.StatusConflict, fmt.Sprintf("%v: service %s did not build: %s", err, service, svc.BuildError))
	}
	return err
}

func (s *Server) writeService(w http.ResponseWriter, name string) error {
	svc, err := s.service(name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, svc)
	return nil
}

// ScaleRequest is the body of POST /api/services/{service}/scale: either
// {"instances": N}, or {"auto": true} to hand the number back to the
// service's app.yaml.
type ScaleRequest struct {
	Instances *int `json:"instances,omitempty"`
	Auto      bool `json:"auto,omitempty"`
}

func (s *Server) scale(w http.ResponseWriter, r *http.Request) error {
	service := r.PathValue("service")
	var body ScaleRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil && (body.Instances == nil) == !body.Auto {
		err = errors.New(`give either "instances" or "auto"`)
	}
	if err != nil {
		return errorf(http.StatusBadRequest, `bad body: want {"instances": N} or {"auto": true}: `+err.Error())
	}
	n := supervisor.ScaleAuto
	if body.Instances != nil {
		if n = *body.Instances; n < 0 || n > supervisor.MaxScale {
			return errorf(http.StatusBadRequest, fmt.Sprintf("cannot scale to %d instances: choose 0 to %d", n, supervisor.MaxScale))
		}
	}
	if _, err := s.service(service); err != nil {
		return err
	}
	if err := s.opts.Sup.Scale(service, n); err != nil {
		return s.actionError(service, err)
	}
	return s.writeService(w, service)
}

// rebuild builds the service again and restarts its instances. A build
// that fails is no error of the call: the answer shows build_error.
func (s *Server) rebuild(w http.ResponseWriter, r *http.Request) error {
	service := r.PathValue("service")
	if _, err := s.service(service); err != nil {
		return err
	}
	if err := s.opts.Sup.Rebuild(service); err != nil {
		return s.actionError(service, err)
	}
	return s.writeService(w, service)
}
