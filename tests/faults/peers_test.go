package faults

import (
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// TestCheckPeers holds the peer checker to hand-made histories and final
// views: an acknowledged join whose peer is absent (no removal may have
// followed) or an acknowledged removal whose peer is still listed is
// metadata lost; a replica on a peer outside the peer set is a peer set
// finding; refused and unknown operations promise nothing.
func TestCheckPeers(t *testing.T) {
	ms := time.Millisecond
	pop := func(kind string, id string, inv, comp time.Duration, o history.Outcome) MetaOp {
		c := comp * ms
		if o == history.Unknown {
			c = history.Forever
		}
		return MetaOp{Kind: kind, Object: "peer " + id, Peer: "peer-0", Invoke: inv * ms, Complete: c, Outcome: o}
	}
	view := func(peers ...uint64) metaView {
		return metaView{Peers: peers, Placement: map[string]placement{"meta-0": {0: {1: "Active", 2: "Active"}}}}
	}
	ok, unk, fail := history.OK, history.Unknown, history.Fail
	join, remove := MetaPeerJoin, MetaPeerRemove
	for _, tc := range []struct {
		name    string
		ops     []MetaOp
		views   []metaView
		lost    int
		peerSet int
	}{
		{"joined and listed", []MetaOp{pop(join, "4", 0, 10, ok)}, []metaView{view(1, 2, 3, 4)}, 0, 0},
		{"joined and absent", []MetaOp{pop(join, "4", 0, 10, ok)}, []metaView{view(1, 2, 3)}, 1, 0},
		{"joined, absent on one peer", []MetaOp{pop(join, "4", 0, 10, ok)}, []metaView{view(1, 2, 3, 4), view(1, 2, 3)}, 1, 0},
		{"joined, then removed", []MetaOp{pop(join, "4", 0, 10, ok), pop(remove, "4", 20, 30, ok)}, []metaView{view(1, 2, 3)}, 0, 0},
		{"joined, an unknown removal", []MetaOp{pop(join, "4", 0, 10, ok), pop(remove, "4", 20, 0, unk)}, []metaView{view(1, 2, 3)}, 0, 0},
		{"joined, a refused removal", []MetaOp{pop(join, "4", 0, 10, ok), pop(remove, "4", 20, 30, fail)}, []metaView{view(1, 2, 3)}, 0, 0},
		{"joined, a refused removal before", []MetaOp{pop(remove, "4", 0, 3, fail), pop(join, "4", 5, 10, ok)}, []metaView{view(1, 2, 3)}, 1, 0},
		{"joined, another removed", []MetaOp{pop(join, "4", 0, 10, ok), pop(remove, "5", 20, 30, ok)}, []metaView{view(1, 2, 3)}, 1, 0},
		{"unknown join absent", []MetaOp{pop(join, "4", 0, 0, unk)}, []metaView{view(1, 2, 3)}, 0, 0},
		{"removed and absent", []MetaOp{pop(remove, "4", 20, 30, ok)}, []metaView{view(1, 2, 3)}, 0, 0},
		{"removed and still listed", []MetaOp{pop(join, "4", 0, 10, ok), pop(remove, "4", 20, 30, ok)}, []metaView{view(1, 2, 3, 4)}, 1, 0},
		{"removed, listed on one peer", []MetaOp{pop(remove, "4", 20, 30, ok)}, []metaView{view(1, 2, 3), view(1, 2, 3, 4)}, 1, 0},
		{"removed, rejoined with a fresh id", []MetaOp{pop(join, "4", 0, 10, ok), pop(remove, "4", 20, 30, ok), pop(join, "5", 40, 50, ok)}, []metaView{view(1, 2, 3, 5)}, 0, 0},
		{"replica on a removed peer", []MetaOp{pop(remove, "2", 20, 30, ok)}, []metaView{view(1, 3)}, 0, 1},
		{"replica on an unlisted peer, no operation", nil, []metaView{view(1, 3), view(1, 2, 3)}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.ops {
				tc.ops[i].ID = i + 1
			}
			names := []string{"peer-0", "peer-1", "peer-2"}[:len(tc.views)]
			var lost, peerSet int
			for _, f := range checkPeers(tc.ops, names, tc.views) {
				switch f.checker {
				case CheckMetaLost:
					lost++
					if !strings.Contains(f.why, "acknowledged") || f.op.ID == 0 {
						t.Errorf("finding %+v", f)
					}
				case CheckPeerSet:
					peerSet++
				default:
					t.Errorf("finding of checker %q: %+v", f.checker, f)
				}
			}
			if lost != tc.lost || peerSet != tc.peerSet {
				t.Fatalf("%d lost and %d peer set findings, want %d and %d", lost, peerSet, tc.lost, tc.peerSet)
			}
		})
	}
}

// TestMetaDisagreementsPeers: peers that list different peer sets are a
// peer set finding (and the wait for agreement waits for them).
func TestMetaDisagreementsPeers(t *testing.T) {
	a := metaView{Peers: []uint64{1, 2, 3, 4}}
	b := metaView{Peers: []uint64{1, 2, 3}}
	d := metaDisagreements([]string{"peer-0", "peer-3"}, []metaView{a, b})
	if len(d) != 1 || d[0].checker != CheckPeerSet || !strings.Contains(d[0].why, "peer-3 reads [1 2 3]") {
		t.Fatalf("disagreements %v", d)
	}
	if metaOpen[CheckPeerSet] {
		t.Fatalf("%s is a promise of every mode, not a known open bug", CheckPeerSet)
	}
	if d := metaDisagreements([]string{"peer-0", "peer-1"}, []metaView{a, a}); d != nil {
		t.Fatalf("equal peer sets: %v", d)
	}
}

// TestReportTablePeers: peer operations and the peer set checker have
// their rows in the table.
func TestReportTablePeers(t *testing.T) {
	var r Report
	r.Runs, r.Modes = 1, DefaultModes()
	r.op(MetaPeerJoin, history.OK)
	r.op(MetaPeerRemove, history.Unknown)
	r.op(MetaDropReplica, history.Fail)
	for _, c := range MetaCheckers {
		r.count(c, metaMode, 0)
	}
	r.count(CheckPeerSet, metaMode, 1)
	tab := r.Table()
	for _, want := range []string{"| peer-join | 1 | 0 | 0 |", "| peer-remove | 0 | 0 | 1 |", "| drop-replica | 0 | 1 | 0 |", "| peer set disagree | 1 |"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	if len(r.Broken()) != 0 {
		t.Errorf("counts alone are not violations: %v", r.Broken())
	}
}
