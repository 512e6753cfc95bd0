package history

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// WriteID names one recorded operation; upserts write it into the point's
// payload. IDs start at 1: 0 is "no write".
type WriteID uint64

// Kind is what an operation does.
type Kind uint8

// Kinds of operation.
const (
	Upsert Kind = iota + 1
	Delete
)

func (k Kind) String() string {
	switch k {
	case Upsert:
		return "upsert"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Outcome is what the client learned of an operation.
type Outcome uint8

// Outcomes; see the package documentation for what each promises.
const (
	Unknown Outcome = iota
	OK
	Fail
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Fail:
		return "fail"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("outcome(%d)", o)
}

// Forever is the Complete time of an operation that never completed.
const Forever = time.Duration(math.MaxInt64)

// Op is one recorded operation.
type Op struct {
	ID     WriteID
	Kind   Kind
	Key    uint64 // the point id
	Peer   string // where the request was sent
	Invoke time.Duration
	// Complete is when the answer (or the error) came back; Forever while
	// in flight.
	Complete time.Duration
	Outcome  Outcome
	// Detail says why the outcome is what it is (status and error text).
	Detail string
}

func (o Op) String() string {
	end := "…"
	if o.Complete != Forever {
		end = fmtDur(o.Complete)
	}
	s := fmt.Sprintf("#%d %s key %d via %s [%s, %s] %s", o.ID, o.Kind, o.Key, o.Peer, fmtDur(o.Invoke), end, o.Outcome)
	if o.Detail != "" {
		s += " (" + o.Detail + ")"
	}
	return s
}

func fmtDur(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }

// precedes reports whether a certainly took effect before b was invoked:
// a was acknowledged or refused (an unknown operation may take effect at
// any later time) and completed before b's invoke.
func (a Op) precedes(b Op) bool {
	return a.Outcome != Unknown && a.Complete < b.Invoke
}

// History is a set of recorded operations, ordered by ID.
type History []Op

// Recorder hands out write ids and records operations; safe for
// concurrent use. The zero value is not usable: call NewRecorder.
type Recorder struct {
	start time.Time

	mu struct {
		sync.Mutex
		ops []Op // by ID-1
	}
}

// NewRecorder starts the clock of a history.
func NewRecorder() *Recorder { return &Recorder{start: time.Now()} }

// Now is the time since the recorder started (monotonic).
func (r *Recorder) Now() time.Duration { return time.Since(r.start) }

// Invoke records the start of an operation and returns its write id; call
// Complete with it once the answer is known. An operation never completed
// stays Unknown, in flight.
func (r *Recorder) Invoke(kind Kind, key uint64, peer string) WriteID {
	now := r.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	id := WriteID(len(r.mu.ops) + 1)
	r.mu.ops = append(r.mu.ops, Op{ID: id, Kind: kind, Key: key, Peer: peer, Invoke: now, Complete: Forever})
	return id
}

// Complete records the answer to operation id. It returns the recorded
// operation; completing an unknown id or one already completed is an
// error.
func (r *Recorder) Complete(id WriteID, outcome Outcome, detail string) (Op, error) {
	now := r.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if id == 0 || int(id) > len(r.mu.ops) {
		return Op{}, fmt.Errorf("history: complete of unknown write %d", id)
	}
	op := &r.mu.ops[id-1]
	if op.Complete != Forever {
		return Op{}, fmt.Errorf("history: write %d completed twice", id)
	}
	op.Complete, op.Outcome, op.Detail = now, outcome, detail
	return *op, nil
}

// History returns a copy of every operation so far; those in flight are
// Unknown with Complete Forever.
func (r *Recorder) History() History {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.mu.ops)
}

// byKey groups a history's operations by key, each group by invoke time.
func (h History) byKey() map[uint64][]Op {
	m := map[uint64][]Op{}
	for _, op := range h {
		m[op.Key] = append(m[op.Key], op)
	}
	for _, ops := range m {
		slices.SortStableFunc(ops, func(a, b Op) int {
			switch {
			case a.Invoke < b.Invoke:
				return -1
			case a.Invoke > b.Invoke:
				return 1
			}
			return 0
		})
	}
	return m
}
