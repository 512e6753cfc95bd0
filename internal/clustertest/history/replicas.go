package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Point is one point of a replica dump, in canonical JSON (object keys
// sorted, no spaces), so that equal values compare equal as strings.
type Point struct {
	Vector  string
	Payload string
}

// Dump is the content of one replica: point id (its JSON text, e.g. 42 or
// "a8098c1a-...") -> point.
type Dump map[string]Point

// Replica is one replica's dump under a name (e.g. "shard 2 on peer 3").
type Replica struct {
	Name   string
	Points Dump
}

// DumpOf builds a dump from scrolled records. Garbage JSON is an error.
func DumpOf(records []Record) (Dump, error) {
	d := make(Dump, len(records))
	for _, rec := range records {
		id, err := canonical(rec.ID)
		if err != nil {
			return nil, fmt.Errorf("point id: %w", err)
		}
		if _, dup := d[id]; dup {
			return nil, fmt.Errorf("point %s listed twice", id)
		}
		vec, err := canonical(rec.Vector)
		if err != nil {
			return nil, fmt.Errorf("point %s: vector: %w", id, err)
		}
		pay, err := canonical(rec.Payload)
		if err != nil {
			return nil, fmt.Errorf("point %s: payload: %w", id, err)
		}
		d[id] = Point{Vector: vec, Payload: pay}
	}
	return d, nil
}

// canonical re-encodes JSON with sorted keys; numbers keep their text.
// Missing JSON reads as null.
func canonical(raw json.RawMessage) (string, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "null", nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	if dec.More() {
		return "", fmt.Errorf("trailing data after JSON value")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Difference is one point on which replicas disagree: the replicas
// grouped by what they hold (Absent: the replicas that lack it).
type Difference struct {
	ID     string
	Absent []string
	Values []Variant
}

// Variant is one version of a point and the replicas that hold it.
type Variant struct {
	Point    Point
	Replicas []string
}

func (d Difference) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "point %s:", d.ID)
	if len(d.Absent) > 0 {
		fmt.Fprintf(&b, "\n    absent on %s", strings.Join(d.Absent, ", "))
	}
	for _, v := range d.Values {
		fmt.Fprintf(&b, "\n    on %s: vector %s payload %s", strings.Join(v.Replicas, ", "), clip(v.Point.Vector), clip(v.Point.Payload))
	}
	return b.String()
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// CompareReplicas reports every point on which the replicas of one shard
// disagree (held by some but not all, or held with different vectors or
// payloads), sorted by id; nil means they are identical.
func CompareReplicas(replicas []Replica) []Difference {
	ids := map[string]bool{}
	for _, r := range replicas {
		for id := range r.Points {
			ids[id] = true
		}
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	slices.SortFunc(sorted, compareIDs)
	var diffs []Difference
	for _, id := range sorted {
		var d Difference
		for _, r := range replicas {
			p, ok := r.Points[id]
			if !ok {
				d.Absent = append(d.Absent, r.Name)
				continue
			}
			i := slices.IndexFunc(d.Values, func(v Variant) bool { return v.Point == p })
			if i < 0 {
				d.Values = append(d.Values, Variant{Point: p})
				i = len(d.Values) - 1
			}
			d.Values[i].Replicas = append(d.Values[i].Replicas, r.Name)
		}
		if len(d.Absent) > 0 || len(d.Values) > 1 {
			d.ID = id
			diffs = append(diffs, d)
		}
	}
	return diffs
}

// compareIDs orders numeric ids numerically, before UUIDs.
func compareIDs(a, b string) int {
	na, nb := !strings.HasPrefix(a, `"`), !strings.HasPrefix(b, `"`)
	switch {
	case na && !nb:
		return -1
	case !na && nb:
		return 1
	case na && len(a) != len(b):
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
