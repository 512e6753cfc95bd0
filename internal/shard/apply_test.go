package shard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/vector"
)

func testSpecs() map[string]segment.VectorSpec {
	return map[string]segment.VectorSpec{
		"":    {Dim: 2, Distance: vector.Dot},
		"img": {Dim: 3, Distance: vector.Euclid},
	}
}

func pl(t testing.TB, js string) point.Payload {
	t.Helper()
	p, err := point.DecodePayload([]byte(js))
	if err != nil {
		t.Fatalf("payload %s: %v", js, err)
	}
	return p
}

const uuidA = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"

// bg is the context of the reads that are never cancelled.
var bg = context.Background()

// must is the answer of a read under bg, which cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func mustUUID(t testing.TB, s string) point.ID {
	t.Helper()
	id, err := point.ParseUUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type scroller interface {
	Scroll(ctx context.Context, f *filter.Filter, from *point.ID, limit int, sel segment.VectorSelection) ([]segment.Record, *point.ID, error)
	Len() int
}

// dump renders every point of a store as "version payload vectors", keyed
// by id, so that whole states compare with ==. The store's id order must be
// current (PrepareRead), as it is inside Shard.View.
func dump(s scroller) map[string]string {
	recs, _, err := s.Scroll(bg, nil, nil, s.Len()+1, func(string) bool { return true })
	if err != nil {
		panic(err) // bg is never done
	}
	out := make(map[string]string, len(recs))
	for _, r := range recs {
		pj, _ := json.Marshal(r.Payload)
		out[r.ID.String()] = fmt.Sprintf("v%d %s %v", r.Version, pj, map[string][]float32(r.Vectors))
		if r.Sparse != nil {
			out[r.ID.String()] += fmt.Sprintf(" sparse %v", map[string]point.SparseVector(r.Sparse))
		}
	}
	return out
}

func diffStates(want, got map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			fmt.Fprintf(&b, "\n  %s: got %q, want %q", k, got[k], want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "\n  %s: unexpected %q", k, got[k])
		}
	}
	return b.String()
}

// applyBase is the store every apply case starts from (each point at
// version 1).
func applyBase(t testing.TB) *segment.Store {
	s := segment.NewStore(testSpecs())
	s.Upsert(point.NumID(1), 1, point.Vectors{"": {1, 0}, "img": {1, 1, 1}}, pl(t, `{"color":"red","n":1,"nested":{"x":1,"arr":[{"y":1},{"y":2}]}}`))
	s.Upsert(point.NumID(2), 1, point.Vectors{"": {0, 1}}, pl(t, `{"color":"blue","n":2}`))
	s.Upsert(point.NumID(3), 1, point.Vectors{"img": {2, 2, 2}}, nil)
	s.Upsert(mustUUID(t, uuidA), 1, nil, pl(t, `{"color":"red"}`))
	return s
}

const redFilter = `{"must":[{"key":"color","match":{"value":"red"}}]}`

func mustFilter(t testing.TB, js string) *filter.Filter {
	t.Helper()
	f, err := filter.Parse([]byte(js))
	if err != nil {
		t.Fatalf("filter %s: %v", js, err)
	}
	return f
}

func TestApply(t *testing.T) {
	ua := mustUUID(t, uuidA)
	ids := func(ns ...uint64) []point.ID {
		out := make([]point.ID, len(ns))
		for i, n := range ns {
			out[i] = point.NumID(n)
		}
		return out
	}
	cases := []struct {
		name     string
		op       ops.Operation
		wantKind *point.Kind // nil: success
		// changes maps an id to its new dump line; "" means deleted.
		changes map[string]string
	}{
		{
			name: "upsert new and existing",
			op: ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{
				{ID: point.NumID(2), Vectors: point.Vectors{"img": {3, 3, 3}}, Payload: point.Payload{"k": "v"}},
				{ID: point.NumID(9), Vectors: point.Vectors{"": {9, 9}}},
			}},
			changes: map[string]string{
				"2": `v7 {"k":"v"} map[img:[3 3 3]]`,
				"9": `v7 null map[:[9 9]]`,
			},
		},
		{
			name: "upsert with an update filter: new points go in, existing ones only when they match",
			op: ops.Operation{Kind: ops.Upsert, UpdateFilter: mustFilter(t, redFilter), Points: []ops.PointStruct{
				{ID: point.NumID(1), Vectors: point.Vectors{"": {5, 5}}, Payload: point.Payload{"k": "one"}},
				{ID: point.NumID(2), Vectors: point.Vectors{"": {6, 6}}, Payload: point.Payload{"k": "two"}},
				{ID: point.NumID(9), Vectors: point.Vectors{"": {9, 9}}},
			}},
			changes: map[string]string{
				"1": `v7 {"k":"one"} map[:[5 5]]`,
				"9": `v7 null map[:[9 9]]`,
			},
		},
		{
			name: "insert_only leaves every existing point, whatever the filter",
			op: ops.Operation{Kind: ops.Upsert, UpdateMode: ops.ModeInsertOnly, UpdateFilter: mustFilter(t, redFilter), Points: []ops.PointStruct{
				{ID: point.NumID(1), Payload: point.Payload{"k": "one"}},
				{ID: point.NumID(2), Payload: point.Payload{"k": "two"}},
				{ID: point.NumID(9), Payload: point.Payload{"k": "nine"}},
			}},
			changes: map[string]string{"9": `v7 {"k":"nine"} map[]`},
		},
		{
			name: "update_only inserts nothing",
			op: ops.Operation{Kind: ops.Upsert, UpdateMode: ops.ModeUpdateOnly, Points: []ops.PointStruct{
				{ID: point.NumID(2), Payload: point.Payload{"k": "two"}},
				{ID: point.NumID(9), Payload: point.Payload{"k": "nine"}},
			}},
			changes: map[string]string{"2": `v7 {"k":"two"} map[]`},
		},
		{
			name: "update_only with a filter updates existing matching points only",
			op: ops.Operation{Kind: ops.Upsert, UpdateMode: ops.ModeUpdateOnly, UpdateFilter: mustFilter(t, redFilter), Points: []ops.PointStruct{
				{ID: ua, Payload: point.Payload{"k": "a"}},
				{ID: point.NumID(2), Payload: point.Payload{"k": "two"}},
				{ID: point.NumID(9), Payload: point.Payload{"k": "nine"}},
			}},
			changes: map[string]string{uuidA: `v7 {"k":"a"} map[]`},
		},
		{
			name: "upsert mode set explicitly is a plain upsert",
			op: ops.Operation{Kind: ops.Upsert, UpdateMode: ops.ModeUpsert, Points: []ops.PointStruct{
				{ID: point.NumID(2), Payload: point.Payload{"k": "two"}},
			}},
			changes: map[string]string{"2": `v7 {"k":"two"} map[]`},
		},
		{
			// Decided on the state before the operation: the first copy
			// of 9 does not make the second one an update, and the first
			// write of 2 (red) does not make the second one match.
			name: "a point named twice is decided once, before either write",
			op: ops.Operation{Kind: ops.Upsert, UpdateMode: ops.ModeInsertOnly, Points: []ops.PointStruct{
				{ID: point.NumID(9), Payload: point.Payload{"k": "first"}},
				{ID: point.NumID(9), Payload: point.Payload{"k": "second"}},
			}},
			changes: map[string]string{"9": `v7 {"k":"second"} map[]`},
		},
		{
			name: "a point named twice under a filter it stops (or starts) matching",
			op: ops.Operation{Kind: ops.Upsert, UpdateFilter: mustFilter(t, redFilter), Points: []ops.PointStruct{
				{ID: point.NumID(1), Payload: point.Payload{"color": "blue"}},
				{ID: point.NumID(2), Payload: point.Payload{"color": "red"}},
				{ID: point.NumID(1), Payload: point.Payload{"color": "green"}},
				{ID: point.NumID(2), Payload: point.Payload{"color": "red", "second": true}},
			}},
			changes: map[string]string{"1": `v7 {"color":"green"} map[]`},
		},
		{
			name: "update_vectors with an update filter",
			op: ops.Operation{Kind: ops.UpdateVectors, UpdateFilter: mustFilter(t, redFilter), Vectors: []ops.PointVectors{
				{ID: point.NumID(1), Vectors: point.Vectors{"": {7, 7}}},
				{ID: point.NumID(2), Vectors: point.Vectors{"": {8, 8}}},
			}},
			changes: map[string]string{"1": `v7 {"color":"red","n":1,"nested":{"arr":[{"y":1},{"y":2}],"x":1}} map[:[7 7] img:[1 1 1]]`},
		},
		{
			name: "update_vectors with an update filter refuses a missing point",
			op: ops.Operation{Kind: ops.UpdateVectors, UpdateFilter: mustFilter(t, redFilter), Vectors: []ops.PointVectors{
				{ID: point.NumID(1), Vectors: point.Vectors{"": {7, 7}}},
				{ID: point.NumID(77), Vectors: point.Vectors{"": {8, 8}}},
			}},
			wantKind: ptr(point.KindNotFound),
		},
		{
			name:    "upsert nothing",
			op:      ops.Operation{Kind: ops.Upsert},
			changes: nil,
		},
		{
			name:    "delete ignores missing ids",
			op:      ops.Operation{Kind: ops.Delete, IDs: append(ids(2, 77), ua)},
			changes: map[string]string{"2": "", uuidA: ""},
		},
		{
			name:    "delete by filter",
			op:      ops.Operation{Kind: ops.Delete, Filter: mustFilter(t, redFilter), IDs: ids(2)},
			changes: map[string]string{"1": "", uuidA: ""},
		},
		{
			name:    "delete by filter matching nothing",
			op:      ops.Operation{Kind: ops.Delete, Filter: mustFilter(t, `{"must":[{"key":"color","match":{"value":"green"}}]}`)},
			changes: nil,
		},
		{
			name:    "null filter falls back to ids",
			op:      ops.Operation{Kind: ops.Delete, Filter: nil, IDs: ids(3)},
			changes: map[string]string{"3": ""},
		},
		{
			name:    "set_payload merges top-level keys",
			op:      ops.Operation{Kind: ops.SetPayload, IDs: ids(1, 3), Payload: point.Payload{"n": json.Number("10"), "new": true}},
			changes: map[string]string{"1": `v7 {"color":"red","n":10,"nested":{"arr":[{"y":1},{"y":2}],"x":1},"new":true} map[:[1 0] img:[1 1 1]]`, "3": `v7 {"n":10,"new":true} map[img:[2 2 2]]`},
		},
		{
			name:    "set_payload null value removes the key",
			op:      ops.Operation{Kind: ops.SetPayload, IDs: ids(2), Payload: point.Payload{"color": nil}},
			changes: map[string]string{"2": `v7 {"n":2} map[:[0 1]]`},
		},
		{
			name:    "set_payload with a nested key",
			op:      ops.Operation{Kind: ops.SetPayload, IDs: ids(1, 2), Key: "nested", Payload: point.Payload{"z": "zz"}},
			changes: map[string]string{"1": `v7 {"color":"red","n":1,"nested":{"arr":[{"y":1},{"y":2}],"x":1,"z":"zz"}} map[:[1 0] img:[1 1 1]]`, "2": `v7 {"color":"blue","n":2,"nested":{"z":"zz"}} map[:[0 1]]`},
		},
		{
			name:    "set_payload with a deep key into array elements",
			op:      ops.Operation{Kind: ops.SetPayload, IDs: ids(1), Key: "nested.arr[].w", Payload: point.Payload{"q": json.Number("1.0")}},
			changes: map[string]string{"1": `v7 {"color":"red","n":1,"nested":{"arr":[{"w":{"q":1.0},"y":1},{"w":{"q":1.0},"y":2}],"x":1}} map[:[1 0] img:[1 1 1]]`},
		},
		{
			name:    "set_payload by filter",
			op:      ops.Operation{Kind: ops.SetPayload, Filter: mustFilter(t, redFilter), Payload: point.Payload{"hit": true}},
			changes: map[string]string{"1": `v7 {"color":"red","hit":true,"n":1,"nested":{"arr":[{"y":1},{"y":2}],"x":1}} map[:[1 0] img:[1 1 1]]`, uuidA: `v7 {"color":"red","hit":true} map[]`},
		},
		{
			name:     "set_payload with a missing id changes nothing",
			op:       ops.Operation{Kind: ops.SetPayload, IDs: ids(1, 77, 2), Payload: point.Payload{"x": true}},
			wantKind: ptr(point.KindNotFound),
		},
		{
			name:     "set_payload with a bad key",
			op:       ops.Operation{Kind: ops.SetPayload, IDs: ids(1), Key: "a..b", Payload: point.Payload{"x": true}},
			wantKind: ptr(point.KindBadInput),
		},
		{
			name:    "overwrite_payload",
			op:      ops.Operation{Kind: ops.OverwritePayload, IDs: ids(1, 3), Payload: point.Payload{"only": "this"}},
			changes: map[string]string{"1": `v7 {"only":"this"} map[:[1 0] img:[1 1 1]]`, "3": `v7 {"only":"this"} map[img:[2 2 2]]`},
		},
		{
			name:     "overwrite_payload with a missing id",
			op:       ops.Operation{Kind: ops.OverwritePayload, IDs: append(ids(1), mustUUID(t, "00000000-0000-0000-0000-000000000001")), Payload: point.Payload{"a": "b"}},
			wantKind: ptr(point.KindNotFound),
		},
		{
			name:    "delete_payload keys and nested paths",
			op:      ops.Operation{Kind: ops.DeletePayload, IDs: ids(1, 2, 3), Keys: []string{"color", "nested.arr[].y", "absent"}},
			changes: map[string]string{"1": `v7 {"n":1,"nested":{"arr":[{},{}],"x":1}} map[:[1 0] img:[1 1 1]]`, "2": `v7 {"n":2} map[:[0 1]]`, "3": `v7 null map[img:[2 2 2]]`},
		},
		{
			name:     "delete_payload with a bad key",
			op:       ops.Operation{Kind: ops.DeletePayload, IDs: ids(1), Keys: []string{"ok", "[0]"}},
			wantKind: ptr(point.KindBadInput),
		},
		{
			name:     "delete_payload with a missing id",
			op:       ops.Operation{Kind: ops.DeletePayload, IDs: ids(77, 1), Keys: []string{"color"}},
			wantKind: ptr(point.KindNotFound),
		},
		{
			name:    "clear_payload by filter",
			op:      ops.Operation{Kind: ops.ClearPayload, Filter: mustFilter(t, redFilter)},
			changes: map[string]string{"1": `v7 null map[:[1 0] img:[1 1 1]]`, uuidA: `v7 null map[]`},
		},
		{
			name:     "clear_payload with a missing id",
			op:       ops.Operation{Kind: ops.ClearPayload, IDs: ids(1, 2, 3, 4)},
			wantKind: ptr(point.KindNotFound),
		},
		{
			name: "update_vectors keeps the others",
			op: ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{
				{ID: point.NumID(1), Vectors: point.Vectors{"": {5, 5}}},
				{ID: point.NumID(3), Vectors: point.Vectors{"": {6, 6}}},
			}},
			changes: map[string]string{"1": `v7 {"color":"red","n":1,"nested":{"arr":[{"y":1},{"y":2}],"x":1}} map[:[5 5] img:[1 1 1]]`, "3": `v7 null map[:[6 6] img:[2 2 2]]`},
		},
		{
			name: "update_vectors with a missing id changes nothing",
			op: ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{
				{ID: point.NumID(1), Vectors: point.Vectors{"": {5, 5}}},
				{ID: point.NumID(77), Vectors: point.Vectors{"": {6, 6}}},
			}},
			wantKind: ptr(point.KindNotFound),
		},
		{
			name:    "delete_vectors",
			op:      ops.Operation{Kind: ops.DeleteVectors, IDs: ids(1, 2), Keys: []string{"img"}},
			changes: map[string]string{"1": `v7 {"color":"red","n":1,"nested":{"arr":[{"y":1},{"y":2}],"x":1}} map[:[1 0]]`, "2": `v7 {"color":"blue","n":2} map[:[0 1]]`},
		},
		{
			name:    "delete_vectors by filter",
			op:      ops.Operation{Kind: ops.DeleteVectors, Filter: mustFilter(t, redFilter), Keys: []string{"", "img"}},
			changes: map[string]string{"1": `v7 {"color":"red","n":1,"nested":{"arr":[{"y":1},{"y":2}],"x":1}} map[]`, uuidA: `v7 {"color":"red"} map[]`},
		},
		{
			name:     "delete_vectors with a missing id",
			op:       ops.Operation{Kind: ops.DeleteVectors, IDs: ids(1, 77), Keys: []string{"img"}},
			wantKind: ptr(point.KindNotFound),
		},
		{
			name:     "unknown kind",
			op:       ops.Operation{Kind: "merge", IDs: ids(1)},
			wantKind: ptr(point.KindInternal),
		},
		{
			name:     "unknown kind without ids",
			op:       ops.Operation{Kind: "merge"},
			wantKind: ptr(point.KindInternal),
		},
		{
			name: "upsert with a vector of the wrong size changes nothing",
			op: ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{
				{ID: point.NumID(9), Vectors: point.Vectors{"": {9, 9}}},
				{ID: point.NumID(2), Vectors: point.Vectors{"img": {1, 2}}},
			}},
			wantKind: ptr(point.KindBadInput),
		},
		{
			name:     "upsert with an unknown vector name",
			op:       ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(9), Vectors: point.Vectors{"audio": {1}}}}},
			wantKind: ptr(point.KindBadInput),
		},
		{
			name:     "update_vectors with a vector of the wrong size",
			op:       ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(1), Vectors: point.Vectors{"": {1, 2, 3}}}}},
			wantKind: ptr(point.KindBadInput),
		},
		{
			name:     "create_index with a bad schema",
			op:       ops.Operation{Kind: ops.CreateIndex, Key: "color", Schema: &ops.FieldSchema{Type: "nope"}},
			wantKind: ptr(point.KindBadInput),
		},
		{
			// The vocabulary keeps language names as given; the index
			// knows them.
			name: "create_index with a stopword language the index does not know",
			op: ops.Operation{Kind: ops.CreateIndex, Key: "color", Schema: &ops.FieldSchema{Type: ops.TextField, HasParams: true,
				Stopwords: &ops.Stopwords{Language: "klingon"}}},
			wantKind: ptr(point.KindBadInput),
		},
		{
			name:     "create_index with a bad key",
			op:       ops.Operation{Kind: ops.CreateIndex, Key: "a..b", Schema: &ops.FieldSchema{Type: ops.KeywordField}},
			wantKind: ptr(point.KindBadInput),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := applyBase(t)
			s.PrepareRead()
			before := dump(s)
			err := apply(s, 7, &c.op)
			s.PrepareRead()
			got := dump(s)
			if c.wantKind != nil {
				if err == nil {
					t.Fatal("no error")
				}
				if k := point.KindOf(err); k != *c.wantKind {
					t.Fatalf("error %q has kind %v, want %v", err, k, *c.wantKind)
				}
				// Input the operation brings is refused (replay skips
				// it, as it was skipped the first time); an internal
				// error is not.
				if refused := errors.Is(err, ErrRefused); refused != (*c.wantKind != point.KindInternal) {
					t.Fatalf("error %q: refused %v for kind %v", err, refused, *c.wantKind)
				}
				if d := diffStates(before, got); d != "" {
					t.Fatalf("failed operation changed the store:%s", d)
				}
				return
			}
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			want := maps.Clone(before)
			for id, line := range c.changes {
				if line == "" {
					delete(want, id)
				} else {
					want[id] = line
				}
			}
			if d := diffStates(want, got); d != "" {
				t.Fatalf("state differs:%s", d)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestApplyMissingPointMessage(t *testing.T) {
	s := applyBase(t)
	err := apply(s, 2, &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(42)}, Payload: point.Payload{"a": "b"}})
	if got, want := point.DescriptionOf(err), "No point with id 42 found"; got != want {
		t.Fatalf("error %q, want %q", got, want)
	}
	if err.Error() != "No point with id 42 found" || point.KindOf(err) != point.KindNotFound || !errors.Is(err, ErrRefused) {
		t.Fatalf("refusal %q: kind %v, refused %v", err, point.KindOf(err), errors.Is(err, ErrRefused))
	}
}

// TestApplyDoesNotAlias checks that the store keeps no reference into the
// operation (which a caller or the WAL encoder may still hold) and that an
// update never mutates a payload a reader may have been handed.
func TestApplyDoesNotAlias(t *testing.T) {
	s := applyBase(t)
	op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(5), Vectors: point.Vectors{"": {1, 2}}, Payload: pl(t, `{"a":{"b":1}}`)}}}
	if err := apply(s, 2, op); err != nil {
		t.Fatal(err)
	}
	s.PrepareRead()
	op.Points[0].Payload["a"].(map[string]any)["b"] = "mutated"
	op.Points[0].Vectors[""][0] = 100
	if got := dump(s)["5"]; got != `v2 {"a":{"b":1}} map[:[1 2]]` {
		t.Fatalf("store follows the operation: %s", got)
	}

	held, _ := s.Payload(point.NumID(1))
	heldJSON, _ := json.Marshal(held)
	for _, op := range []*ops.Operation{
		{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(1)}, Payload: point.Payload{"color": "green"}},
		{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(1)}, Key: "nested", Payload: point.Payload{"x": 2}},
		{Kind: ops.DeletePayload, IDs: []point.ID{point.NumID(1)}, Keys: []string{"nested.x", "n"}},
	} {
		if err := apply(s, 3, op); err != nil {
			t.Fatal(err)
		}
	}
	if now, _ := json.Marshal(held); string(now) != string(heldJSON) {
		t.Fatalf("a payload handed out earlier changed from %s to %s", heldJSON, now)
	}

	setOp := &ops.Operation{Kind: ops.OverwritePayload, IDs: []point.ID{point.NumID(2)}, Payload: pl(t, `{"deep":{"k":1}}`)}
	if err := apply(s, 4, setOp); err != nil {
		t.Fatal(err)
	}
	setOp.Payload["deep"].(map[string]any)["k"] = "mutated"
	if got, _ := s.Payload(point.NumID(2)); fmt.Sprint(got) != "map[deep:map[k:1]]" {
		t.Fatalf("overwrite_payload aliased the operation: %v", got)
	}
}
