package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// autoscale runs the scaling policy of an automatic- or basic-scaling
// service until ctx ends: it decides whenever the service changes (a
// request waits or ends, an instance changes state) or a decision's
// recheck time comes, and never otherwise, so an idle service costs
// nothing.
func (s *Service) autoscale(ctx context.Context) {
	for {
		s.mu.Lock()
		now := time.Now()
		in := s.scaleInputLocked(now)
		wake := s.changedLocked()
		s.mu.Unlock()
		d := decide(in)
		s.apply(ctx, d)
		if !s.sleep(ctx, wake, d.Recheck) {
			return
		}
		// Under load every request is a change: decide at most every
		// scaleEvery, which is far below any pending latency.
		if wait := scaleEvery - time.Since(now); wait > 0 && !s.sleep(ctx, nil, wait) {
			return
		}
	}
}

const scaleEvery = 2 * time.Millisecond

// sleep waits for wake, or for after when it is positive. It returns
// false when ctx ends.
func (s *Service) sleep(ctx context.Context, wake <-chan struct{}, after time.Duration) bool {
	var recheck <-chan time.Time
	if after > 0 {
		t := time.NewTimer(after)
		defer t.Stop()
		recheck = t.C
	}
	select {
	case <-wake:
	case <-recheck:
	case <-ctx.Done():
		return false
	}
	return true
}

func (s *Service) scaleInputLocked(now time.Time) scaleInput {
	in := scaleInput{
		Now: now, Scaling: s.conf().Scaling, Capacity: s.conf().Capacity(),
		MaxInstances: s.sup.opts.MaxInstances, IdleCooldown: s.sup.opts.IdleCooldown,
		Waiting: s.waiters.Len(), Pinned: s.pinned, BuildFailed: s.buildErr != nil,
	}
	if f := s.waiters.Front(); f != nil {
		in.OldestWait = f.Value.(*waiter).since
	}
	for _, x := range s.instances {
		l := instanceLoad{ID: x.ID, State: x.state, Retiring: x.retiring}
		if x.cur != nil {
			l.InFlight = x.cur.inflight
		}
		switch {
		case x.state != Ready:
		case x.inflight == 0:
			l.IdleSince = x.idleSince
		default:
			l.BusySince = x.busySince
		}
		in.Instances = append(in.Instances, l)
	}
	return in
}

// apply carries out a decision, publishing each action with its reason.
// Nothing is done once Scale has pinned the service since the decision:
// the number of instances is the user's then.
func (s *Service) apply(ctx context.Context, d scaleDecision) {
	for range d.Start {
		s.mu.Lock()
		if s.pinned {
			s.mu.Unlock()
			return
		}
		in := s.newInstanceLocked(d.OnDemand)
		s.mu.Unlock()
		s.runInstance(ctx, in)
		s.scaled(in.ID, "starting an instance: "+d.StartReason)
	}
	for _, st := range d.Stop {
		in := s.instance(st.ID)
		if in == nil || !s.claimUnpinned(in) { // at once, so that the next decision counts it gone
			continue
		}
		s.scaled(in.ID, "stopping an instance: "+st.Reason)
		reason := "scaled down: " + st.Reason
		in.background(func() {
			if err := s.retire(in, reason); err != nil && !errors.Is(err, ErrStopping) {
				s.Logs.Add(System, fmt.Sprintf("removing instance %s: %v", in.ID, err))
			}
		})
	}
}

// claimUnpinned claims in for the scaler, unless the service is pinned.
func (s *Service) claimUnpinned(in *Instance) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.pinned && s.claimLocked(in)
}

// scaled notes a scaling decision in the service's log and as an event.
func (s *Service) scaled(instance, reason string) {
	line := reason
	if instance != "" {
		line = fmt.Sprintf("instance %s: %s", instance, reason)
	}
	s.Logs.Add(System, line)
	s.sup.events.publish(Event{Kind: Scaling, Service: s.Name, Instance: instance, Reason: reason})
}
