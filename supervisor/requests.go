package supervisor

import "github.com/appdeck/appdeck/proxy"

// Request is one request's record, as the front server reported it.
type Request struct {
	Seq uint64
	proxy.Outcome
}

func (r Request) withSeq(seq uint64) Request { r.Seq = seq; return r }

// Record keeps a request's outcome for the dashboard and the API. It is
// what front servers call for every request.
func (s *Supervisor) Record(o proxy.Outcome) {
	s.requests.Append(Request{Outcome: o})
}

// Requests returns the ring of recent requests across all services.
func (s *Supervisor) Requests() *Ring[Request] { return s.requests }
