//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// pointState is what a point holds: its (unnamed) vector and its payload in
// canonical form (see canonical).
type pointState struct {
	Vector  []float32
	Payload map[string]any
}

func (p *pointState) clone() *pointState {
	return &pointState{Vector: slices.Clone(p.Vector), Payload: canonical(p.Payload)}
}

func (p *pointState) String() string {
	if p == nil {
		return "<absent>"
	}
	b, _ := json.Marshal(p.Payload)
	return fmt.Sprintf("vector=%v payload=%s", p.Vector, b)
}

// samePoint compares two states exactly; nil means absent.
func samePoint(a, b *pointState) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return slices.Equal(a.Vector, b.Vector) && reflect.DeepEqual(canonical(a.Payload), canonical(b.Payload))
}

// canonical round-trips a payload through JSON with numbers kept as
// json.Number, so that a payload built in Go and one decoded from an answer
// compare equal exactly when their JSON does. A nil payload is empty.
func canonical(payload map[string]any) map[string]any {
	b, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	out := map[string]any{}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		panic(err)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// wirePoint is a point in a scroll or retrieve answer.
type wirePoint struct {
	ID      json.Number    `json:"id"`
	Payload map[string]any `json:"payload"`
	Vector  []float32      `json:"vector"`
}

// scrollAll reads every point of a collection with its vector and payload,
// page by page, keyed by (integer) id.
func scrollAll(t testing.TB, s *server, collection string) map[uint64]*pointState {
	t.Helper()
	out := map[uint64]*pointState{}
	var offset any
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatal("scroll does not end")
		}
		req := map[string]any{"limit": 97, "with_payload": true, "with_vector": true}
		if offset != nil {
			req["offset"] = offset
		}
		var res struct {
			Points         []wirePoint `json:"points"`
			NextPageOffset any         `json:"next_page_offset"`
		}
		s.must("POST", "/collections/"+collection+"/points/scroll", req, &res)
		for _, p := range res.Points {
			id, err := strconv.ParseUint(p.ID.String(), 10, 64)
			if err != nil {
				t.Fatalf("scroll: point id %q is not an integer", p.ID)
			}
			if _, dup := out[id]; dup {
				t.Fatalf("scroll: point %d returned twice", id)
			}
			out[id] = &pointState{Vector: p.Vector, Payload: canonical(p.Payload)}
		}
		if res.NextPageOffset == nil {
			return out
		}
		offset = res.NextPageOffset
	}
}

// countPoints is the exact count of points in a collection.
func countPoints(t testing.TB, s *server, collection string) int {
	t.Helper()
	var res struct {
		Count int `json:"count"`
	}
	s.must("POST", "/collections/"+collection+"/points/count", map[string]any{"exact": true}, &res)
	return res.Count
}

// checkState fails the test unless the collection holds exactly want.
func checkState(t testing.TB, s *server, collection string, want map[uint64]*pointState) {
	t.Helper()
	got := scrollAll(t, s, collection)
	bad := 0
	for id, w := range want {
		if g := got[id]; !samePoint(g, w) {
			bad++
			if bad <= 10 {
				t.Errorf("point %d: got %v, want %v", id, g, w)
			}
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			bad++
			if bad <= 10 {
				t.Errorf("point %d: got %v, want <absent>", id, g)
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d points differ in all", bad)
	}
	if n := countPoints(t, s, collection); n != len(want) {
		t.Errorf("count: got %d, want %d", n, len(want))
	}
}
