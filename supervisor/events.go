package supervisor

import (
	"sync"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	StateChanged EventKind = iota // an instance moved to Event.State
	BuildStarted
	BuildSucceeded
	BuildFailedEvent
	Notice // anything else worth showing: Event.Reason says it
	// Scaling: the scaler started or stopped Event.Instance, or (Instance
	// "") the service was scaled, pinned or unpinned by hand; Event.Reason
	// says why.
	Scaling
	Changed // files or configuration of the service changed: Event.Reason says which
	// ConfigProblem: a configuration change did not take (not valid, or
	// it needs appdeck restarted); Event.Reason says what and where.
	ConfigProblem
)

// Event is something that happened. Events are for reacting quickly; the
// truth is always Snapshot, since a slow subscriber loses events.
type Event struct {
	Time     time.Time
	Kind     EventKind
	Service  string
	Instance string // "" for service-wide events
	State    State  // only for StateChanged; other kinds leave it zero, which reads "starting"
	Reason   string
}

// broker fans events out to subscribers without ever blocking the
// publisher: a subscriber whose buffer is full misses the event.
type broker struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

func (b *broker) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[chan Event]struct{}{}
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
		})
	}
}

func (b *broker) publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}
