package history

import (
	"fmt"
	"slices"
	"strings"
)

// AnomalyKind names what is wrong with a key's final state.
type AnomalyKind uint8

// Anomaly kinds; see the package documentation.
const (
	Lost AnomalyKind = iota + 1
	Resurrected
	FailedVisible
)

func (k AnomalyKind) String() string {
	switch k {
	case Lost:
		return "lost acknowledged write"
	case Resurrected:
		return "resurrected delete"
	case FailedVisible:
		return "failed write visible"
	}
	return fmt.Sprintf("anomaly(%d)", k)
}

// Anomaly is one key whose final state no linearization of its updates
// produces.
type Anomaly struct {
	Kind AnomalyKind
	Key  uint64
	// Final is the write the final state names (0: the point is absent).
	Final WriteID
	// Source is the operation that wrote the final state, when the history
	// has one (an upsert of that id, or for an absent point a failed
	// delete that explains it).
	Source *Op
	// Superseding are the acknowledged operations that should have
	// replaced the final state: each began after Source had certainly
	// taken effect. For an absent point with no Source, the acknowledged
	// upserts that nothing acknowledged followed: one of them should be
	// there.
	Superseding []Op
	Why         string
}

func (a Anomaly) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "key %d: %s: %s", a.Key, a.Kind, a.Why)
	if a.Source != nil {
		fmt.Fprintf(&b, "\n    final state from %s", a.Source)
	}
	what := "should have been superseded by"
	if a.Source == nil {
		what = "acknowledged, yet missing:"
	}
	for _, op := range a.Superseding {
		fmt.Fprintf(&b, "\n    %s %s", what, op)
	}
	return b.String()
}

// Report is the verdict of Check.
type Report struct {
	Keys                          int // keys in the history or the final state
	Upserts, Deletes              int
	Acknowledged, Failed, Unknown int // operations by outcome
	Lost, Resurrected             int // anomalies by kind
	FailedVisible                 int
	Anomalies                     []Anomaly // by key
}

// OK reports whether no anomaly was found.
func (r Report) OK() bool { return len(r.Anomalies) == 0 }

// maxShown bounds the anomalies String prints.
const maxShown = 20

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d keys, %d upserts, %d deletes: %d acknowledged, %d failed, %d unknown; anomalies: %d lost, %d resurrected, %d failed-visible",
		r.Keys, r.Upserts, r.Deletes, r.Acknowledged, r.Failed, r.Unknown, r.Lost, r.Resurrected, r.FailedVisible)
	for i, a := range r.Anomalies {
		if i == maxShown {
			fmt.Fprintf(&b, "\n  ... and %d more", len(r.Anomalies)-maxShown)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(a.String())
	}
	return b.String()
}

// Check judges the final state (point id -> the write id its payload
// names; a point absent from the map is absent) against the history, key
// by key; see the package documentation for what it proves. A final value
// that no recorded upsert of that key wrote (0 for a point without the
// payload field, a delete's id, another key's write) is a Lost anomaly.
func Check(h History, final map[uint64]WriteID) Report {
	var r Report
	byID := make(map[WriteID]Op, len(h))
	for _, op := range h {
		byID[op.ID] = op
		switch op.Kind {
		case Upsert:
			r.Upserts++
		case Delete:
			r.Deletes++
		}
		switch op.Outcome {
		case OK:
			r.Acknowledged++
		case Fail:
			r.Failed++
		default:
			r.Unknown++
		}
	}
	groups := h.byKey()
	keys := make([]uint64, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	for k := range final {
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	r.Keys = len(keys)
	for _, k := range keys {
		v, present := final[k]
		var a *Anomaly
		if present {
			a = checkValue(k, v, byID, groups[k])
		} else {
			a = checkAbsent(k, groups[k])
		}
		if a == nil {
			continue
		}
		switch a.Kind {
		case Lost:
			r.Lost++
		case Resurrected:
			r.Resurrected++
		case FailedVisible:
			r.FailedVisible++
		}
		r.Anomalies = append(r.Anomalies, *a)
	}
	return r
}

// checkValue judges a key whose final state is the value of write v.
func checkValue(key uint64, v WriteID, byID map[WriteID]Op, ops []Op) *Anomaly {
	w, ok := byID[v]
	if !ok || w.Kind != Upsert || w.Key != key {
		why := fmt.Sprintf("final value names write %d, which no upsert of this key wrote", v)
		if v == 0 {
			why = "the point holds no write id: nobody wrote it"
		}
		return &Anomaly{Kind: Lost, Key: key, Final: v, Why: why}
	}
	if w.Outcome == Fail {
		return &Anomaly{Kind: FailedVisible, Key: key, Final: v, Source: &w,
			Why: fmt.Sprintf("the final value comes from write %d, which was refused", v)}
	}
	var upserts, deletes []Op
	for _, x := range ops {
		if x.Outcome == OK && w.precedes(x) {
			if x.Kind == Delete {
				deletes = append(deletes, x)
			} else {
				upserts = append(upserts, x)
			}
		}
	}
	switch {
	case len(upserts) > 0:
		return &Anomaly{Kind: Lost, Key: key, Final: v, Source: &w, Superseding: append(upserts, deletes...),
			Why: fmt.Sprintf("write %d completed before %d acknowledged upsert(s) began, yet it is the final value", v, len(upserts))}
	case len(deletes) > 0:
		return &Anomaly{Kind: Resurrected, Key: key, Final: v, Source: &w, Superseding: deletes,
			Why: fmt.Sprintf("write %d completed before %d acknowledged delete(s) began, yet the point exists", v, len(deletes))}
	}
	return nil
}

// checkAbsent judges a key whose point is absent at the end.
func checkAbsent(key uint64, ops []Op) *Anomaly {
	var acked []Op
	for _, x := range ops {
		if x.Kind == Upsert && x.Outcome == OK {
			acked = append(acked, x)
		}
	}
	if len(acked) == 0 {
		return nil // the initial state, or deletes of nothing
	}
	// followed reports whether some acknowledged upsert began after d had
	// certainly taken effect.
	followed := func(d Op) bool {
		for _, x := range acked {
			if d.precedes(x) {
				return true
			}
		}
		return false
	}
	var failed *Op
	for _, d := range ops {
		if d.Kind != Delete || followed(d) {
			continue
		}
		if d.Outcome != Fail {
			return nil // d may be the last update
		}
		if failed == nil {
			failed = &d
		}
	}
	if failed != nil {
		return &Anomaly{Kind: FailedVisible, Key: key, Source: failed,
			Why: fmt.Sprintf("the point is absent, which only refused delete %d explains", failed.ID)}
	}
	var last []Op // acknowledged upserts no acknowledged op certainly follows
	for _, x := range acked {
		superseded := false
		for _, y := range ops {
			if y.Outcome == OK && x.precedes(y) {
				superseded = true
				break
			}
		}
		if !superseded {
			last = append(last, x)
		}
	}
	return &Anomaly{Kind: Lost, Key: key, Superseding: last,
		Why: "the point is absent, but an acknowledged upsert began after every delete that may have taken effect had completed"}
}
