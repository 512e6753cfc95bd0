package faults

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// TestCheckMetaLost holds the metadata loss checker to hand-made
// histories: an acknowledged create absent at the end, or delete present,
// is counted unless an operation that may undo it (any outcome, invoked
// after it or unknown) exists.
func TestCheckMetaLost(t *testing.T) {
	ms := time.Millisecond
	mop := func(kind, object, coll string, inv, comp time.Duration, o history.Outcome) MetaOp {
		c := comp * ms
		if o == history.Unknown {
			c = history.Forever
		}
		return MetaOp{Kind: kind, Object: object, Collection: coll, Peer: "peer-0", Invoke: inv * ms, Complete: c, Outcome: o}
	}
	rename := func(old, to string, inv, comp time.Duration, o history.Outcome) MetaOp {
		m := mop(MetaRenameAlias, to, "", inv, comp, o)
		m.Old = old
		return m
	}
	view := func(colls []string, aliases map[string]string, schema map[string][]string) metaView {
		if aliases == nil {
			aliases = map[string]string{}
		}
		return metaView{Collections: colls, Aliases: aliases, Schema: schema}
	}
	ok, unk, fail := history.OK, history.Unknown, history.Fail
	empty := view(nil, nil, nil)
	withM0 := view([]string{"meta-0"}, nil, nil)
	for _, tc := range []struct {
		name  string
		ops   []MetaOp
		views []metaView
		lost  int
	}{
		{"created and present", []MetaOp{mop(MetaCreateCollection, "meta-0", "", 0, 10, ok)}, []metaView{withM0}, 0},
		{"created and absent", []MetaOp{mop(MetaCreateCollection, "meta-0", "", 0, 10, ok)}, []metaView{empty}, 1},
		{"created, absent on one peer", []MetaOp{mop(MetaCreateCollection, "meta-0", "", 0, 10, ok)}, []metaView{withM0, empty}, 1},
		{"created, refused create absent", []MetaOp{mop(MetaCreateCollection, "meta-0", "", 0, 10, fail)}, []metaView{empty}, 0},
		{"created, then a failed delete", []MetaOp{mop(MetaCreateCollection, "meta-0", "", 0, 10, ok), mop(MetaDeleteCollection, "meta-0", "", 20, 30, fail)}, []metaView{empty}, 0},
		{"created, an unknown delete before", []MetaOp{mop(MetaDeleteCollection, "meta-0", "", 0, 0, unk), mop(MetaCreateCollection, "meta-0", "", 5, 10, ok)}, []metaView{empty}, 0},
		{"created, a refused delete before", []MetaOp{mop(MetaDeleteCollection, "meta-0", "", 0, 3, fail), mop(MetaCreateCollection, "meta-0", "", 5, 10, ok)}, []metaView{empty}, 1},
		{"created, another deleted", []MetaOp{mop(MetaCreateCollection, "meta-0", "", 0, 10, ok), mop(MetaDeleteCollection, "meta-1", "", 20, 30, ok)}, []metaView{empty}, 1},
		{"deleted and present", []MetaOp{mop(MetaCreateCollection, "meta-0", "", 0, 10, ok), mop(MetaDeleteCollection, "meta-0", "", 20, 30, ok)}, []metaView{withM0}, 1},
		{"deleted, created again", []MetaOp{mop(MetaDeleteCollection, "meta-0", "", 20, 30, ok), mop(MetaCreateCollection, "meta-0", "", 40, 50, unk)}, []metaView{withM0}, 0},
		{"alias created and absent", []MetaOp{mop(MetaCreateAlias, "a", "meta-0", 0, 10, ok)}, []metaView{withM0}, 1},
		{"alias created and present", []MetaOp{mop(MetaCreateAlias, "a", "meta-0", 0, 10, ok)}, []metaView{view([]string{"meta-0"}, map[string]string{"a": "meta-0"}, nil)}, 0},
		{"alias created, its collection deleted", []MetaOp{mop(MetaCreateAlias, "a", "meta-0", 0, 10, ok), mop(MetaDeleteCollection, "meta-0", "", 20, 30, ok)}, []metaView{empty}, 0},
		{"alias created, another collection deleted", []MetaOp{mop(MetaCreateAlias, "a", "meta-0", 0, 10, ok), mop(MetaDeleteCollection, "meta-1", "", 20, 30, ok)}, []metaView{withM0}, 1},
		{"alias created, renamed away", []MetaOp{mop(MetaCreateAlias, "a", "meta-0", 0, 10, ok), rename("a", "b", 20, 30, ok)}, []metaView{view([]string{"meta-0"}, map[string]string{"b": "meta-0"}, nil)}, 0},
		{"alias renamed, old name still there", []MetaOp{mop(MetaCreateAlias, "a", "meta-0", 0, 10, ok), rename("a", "b", 20, 30, ok)}, []metaView{view([]string{"meta-0"}, map[string]string{"a": "meta-0", "b": "meta-0"}, nil)}, 1},
		{"alias deleted and present", []MetaOp{mop(MetaDeleteAlias, "a", "", 20, 30, ok)}, []metaView{view([]string{"meta-0"}, map[string]string{"a": "meta-0"}, nil)}, 1},
		{"alias deleted, renamed into", []MetaOp{mop(MetaDeleteAlias, "a", "", 20, 30, ok), rename("b", "a", 25, 35, unk)}, []metaView{view([]string{"meta-0"}, map[string]string{"a": "meta-0"}, nil)}, 0},
		{"index created and absent", []MetaOp{mop(MetaCreateIndex, "f", "m", 0, 10, ok)}, []metaView{view([]string{"m"}, nil, map[string][]string{"m": {"g"}})}, 1},
		{"index created, present on one peer only", []MetaOp{mop(MetaCreateIndex, "f", "m", 0, 10, ok)}, []metaView{view([]string{"m"}, nil, map[string][]string{"m": {"f"}}), view([]string{"m"}, nil, nil)}, 0},
		{"index deleted, present on one peer", []MetaOp{mop(MetaDeleteIndex, "f", "m", 0, 10, ok)}, []metaView{view([]string{"m"}, nil, nil), view([]string{"m"}, nil, map[string][]string{"m": {"f"}})}, 1},
		{"index created and present", []MetaOp{mop(MetaCreateIndex, "f", "m", 0, 10, ok)}, []metaView{view([]string{"m"}, nil, map[string][]string{"m": {"f"}})}, 0},
		{"index created, its collection gone", []MetaOp{mop(MetaCreateIndex, "f", "m", 0, 10, ok)}, []metaView{empty}, 0},
		{"index created, then deleted", []MetaOp{mop(MetaCreateIndex, "f", "m", 0, 10, ok), mop(MetaDeleteIndex, "f", "m", 20, 30, unk)}, []metaView{view([]string{"m"}, nil, nil)}, 0},
		{"index deleted and present", []MetaOp{mop(MetaDeleteIndex, "f", "m", 0, 10, ok)}, []metaView{view([]string{"m"}, nil, map[string][]string{"m": {"f"}})}, 1},
		{"shard moves are not judged", []MetaOp{mop(MetaMoveShard, "meta-0", "meta-0", 0, 10, ok)}, []metaView{empty}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.ops {
				tc.ops[i].ID = i + 1
			}
			names := []string{"peer-0", "peer-1", "peer-2"}[:len(tc.views)]
			got := checkMetaLost(tc.ops, names, tc.views)
			if len(got) != tc.lost {
				t.Fatalf("%d findings, want %d: %+v", len(got), tc.lost, got)
			}
			for _, f := range got {
				want := CheckMetaLost
				if f.op.Kind == MetaCreateIndex || f.op.Kind == MetaDeleteIndex {
					want = CheckMetaIndexLost // counted apart
				}
				if f.checker != want || !strings.Contains(f.why, "acknowledged") {
					t.Fatalf("finding %+v", f)
				}
			}
		})
	}
}

// TestMetaDisagreements: views that differ in collections, aliases, a
// payload_schema or a placement are named; equal views are not.
func TestMetaDisagreements(t *testing.T) {
	base := func() metaView {
		return metaView{Collections: []string{"a", "b"}, Aliases: map[string]string{"x": "a"},
			Schema:    map[string][]string{"a": {"f"}, "b": nil},
			Placement: map[string]placement{"a": {0: {1: "Active", 2: "Active"}}, "b": {0: {1: "Active"}}}}
	}
	names := []string{"peer-0", "peer-1"}
	if d := metaDisagreements(names, []metaView{base(), base()}); d != nil {
		t.Fatalf("equal views: %v", d)
	}
	for _, tc := range []struct {
		name   string
		change func(*metaView)
		want   string
	}{
		{"collections", func(v *metaView) { v.Collections = []string{"a"} }, CheckMetaDisagree + " collections:"},
		{"aliases", func(v *metaView) { v.Aliases["y"] = "b" }, CheckMetaDisagree + " aliases:"},
		{"schema", func(v *metaView) { v.Schema["a"] = nil }, CheckMetaSchema + " payload_schema of a:"},
		{"placement", func(v *metaView) { v.Placement["a"][0][2] = "Partial" }, CheckMetaDisagree + " placement of a:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := base()
			tc.change(&other)
			d := metaDisagreements(names, []metaView{base(), other})
			if len(d) != 1 || !strings.HasPrefix(d[0].checker+" "+d[0].why, tc.want) {
				t.Fatalf("disagreements %v, want one %q", d, tc.want)
			}
		})
	}
}

// TestReportTableWorkloads: the search and metadata figures are in the
// table, and merge.
func TestReportTableWorkloads(t *testing.T) {
	modes := DefaultModes()
	var a, b Report
	a.Runs, a.Modes = 1, modes
	a.op("search", history.OK)
	a.op(MetaCreateAlias, history.Fail)
	a.count(CheckSearchMissed, modes[0].Name(), 2)
	a.count(CheckMetaLost, metaMode, 0)
	a.MetaAgree = []time.Duration{time.Second}
	b.Runs, b.Modes = 1, modes
	b.op("search", history.Unknown)
	b.count(CheckMetaDisagree, metaMode, 1)
	b.MetaNotAgreed = 1
	a.Merge(b)
	tab := a.Table()
	for _, want := range []string{"| search | 1 | 0 | 1 |", "| create-alias | 0 | 1 | 0 |",
		"| search missed acknowledged | 2 | 0 | 0* | 0* |", "| search phantom | 0 | 0 | 0 | 0 |",
		"| metadata peers disagree | 1 |", "| metadata payload_schema disagree | 0 |", "| metadata lost | 0 |", "1 runs not within the bound; the 1 others: median 1s"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	if slices.Contains(strings.Split(tab, "\n"), "| move-shard | 0 | 0 | 0 |") {
		t.Errorf("a kind that never ran has a row:\n%s", tab)
	}
	var none Report
	none.Runs, none.Modes = 1, modes
	none.op("upsert", history.OK)
	if tab := none.Table(); strings.Contains(tab, "search") || strings.Contains(tab, "metadata") {
		t.Errorf("a run without the search and metadata workloads shows them:\n%s", tab)
	}
}
