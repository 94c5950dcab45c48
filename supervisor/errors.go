package supervisor

import (
	"errors"
	"fmt"
)

// The kinds of error the supervisor's actions return, for errors.Is: the
// admin API answers 404, 409 and 503 for them. Their own text is never
// shown after a message that already says it all ("no instance api/7",
// "api/0 is already stopped").
var (
	// ErrNotFound is the kind of error for an unknown service or
	// instance.
	ErrNotFound = errors.New("not found")
	// ErrConflict is the kind of error for an action the instance's
	// state forbids, such as starting one that runs.
	ErrConflict = errors.New("not possible in the current state")
	// ErrStopping is returned for actions asked for while appdeck shuts
	// down.
	ErrStopping = errors.New("appdeck is shutting down")
)

// kindError is an error of one kind whose message is complete as it is.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

// notFound returns an error that reads exactly as formatted and is
// ErrNotFound for errors.Is.
func notFound(format string, a ...any) error {
	return &kindError{ErrNotFound, fmt.Sprintf(format, a...)}
}

func conflictf(format string, a ...any) error {
	return &kindError{ErrConflict, fmt.Sprintf(format, a...)}
}

func noService(name string) error { return notFound("no service %q", name) }

// removed answers a command for an instance removed meanwhile (scaled
// down).
func removed(in *Instance) error {
	return notFound("%s/%s was removed meanwhile", in.svc.Name, in.ID)
}
