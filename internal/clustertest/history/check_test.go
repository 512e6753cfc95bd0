package history

import (
	"strings"
	"testing"
	"time"
)

// w and d build an upsert and a delete of key 1 from invoke to complete
// (in ms; complete < 0: still in flight).
func w(id WriteID, inv, comp int, o Outcome) Op { return mk(id, Upsert, 1, inv, comp, o) }
func d(id WriteID, inv, comp int, o Outcome) Op { return mk(id, Delete, 1, inv, comp, o) }

func mk(id WriteID, k Kind, key uint64, inv, comp int, o Outcome) Op {
	c := Forever
	if comp >= 0 {
		c = time.Duration(comp) * time.Millisecond
	}
	return Op{ID: id, Kind: k, Key: key, Peer: "p", Invoke: time.Duration(inv) * time.Millisecond, Complete: c, Outcome: o}
}

const absent = WriteID(0)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		h     History
		final WriteID // absent: the point is missing
		want  AnomalyKind
	}{
		// Sequential writes: only the last is a valid final value.
		{"sequential last", History{w(1, 0, 10, OK), w(2, 20, 30, OK)}, 2, 0},
		{"sequential first is lost", History{w(1, 0, 10, OK), w(2, 20, 30, OK)}, 1, Lost},
		// Overlapping acknowledged writes may end in either order.
		{"concurrent a", History{w(1, 0, 30, OK), w(2, 10, 40, OK)}, 1, 0},
		{"concurrent b", History{w(1, 0, 30, OK), w(2, 10, 40, OK)}, 2, 0},
		// Touching intervals (complete == invoke) are not ordered.
		{"touching", History{w(1, 0, 10, OK), w(2, 10, 20, OK)}, 1, 0},
		// An unknown write may take effect any time after its invoke,
		// even after later acknowledged writes, or never.
		{"unknown late apply", History{w(1, 0, 10, Unknown), w(2, 20, 30, OK)}, 1, 0},
		{"unknown never applied", History{w(1, 0, 10, OK), w(2, 20, 30, Unknown)}, 1, 0},
		{"unknown applied", History{w(1, 0, 10, OK), w(2, 20, 30, Unknown)}, 2, 0},
		{"in flight applied", History{w(1, 0, 10, OK), w(2, 20, -1, Unknown)}, 2, 0},
		{"unknown cannot precede its invoke", History{w(1, 0, 10, Unknown), w(2, 20, 30, OK), w(3, 40, 50, OK)}, 2, Lost},
		// A refused write must never be visible.
		{"failed visible", History{w(1, 0, 10, OK), w(2, 20, 30, Fail)}, 2, FailedVisible},
		{"failed invisible", History{w(1, 0, 10, OK), w(2, 20, 30, Fail)}, 1, 0},
		{"failed only, absent", History{w(1, 0, 10, Fail)}, absent, 0},
		// Values nobody wrote.
		{"never written", History{w(1, 0, 10, OK)}, 7, Lost},
		{"delete's id as value", History{w(1, 0, 10, OK), d(2, 20, 30, Unknown)}, 2, Lost},
		// Deletes.
		{"deleted", History{w(1, 0, 10, OK), d(2, 20, 30, OK)}, absent, 0},
		{"resurrected", History{w(1, 0, 10, OK), d(2, 20, 30, OK)}, 1, Resurrected},
		{"delete concurrent with write: present", History{w(1, 0, 30, OK), d(2, 10, 40, OK)}, 1, 0},
		{"delete concurrent with write: absent", History{w(1, 0, 30, OK), d(2, 10, 40, OK)}, absent, 0},
		{"unknown delete may apply", History{w(1, 0, 10, OK), d(2, 20, 30, Unknown)}, absent, 0},
		{"unknown delete may not apply", History{w(1, 0, 10, OK), d(2, 20, 30, Unknown)}, 1, 0},
		{"unknown delete then acked write", History{d(1, 0, 10, Unknown), w(2, 20, 30, OK)}, absent, 0},
		{"acked delete then acked write: absent is lost", History{d(1, 0, 10, OK), w(2, 20, 30, OK)}, absent, Lost},
		{"write lost to absence", History{w(1, 0, 10, OK)}, absent, Lost},
		{"failed delete explains absence", History{w(1, 0, 10, OK), d(2, 20, 30, Fail)}, absent, FailedVisible},
		{"write after delete, old value back", History{w(1, 0, 10, OK), d(2, 20, 30, OK), w(3, 40, 50, OK)}, 1, Lost},
		{"initially absent, only deletes", History{d(1, 0, 10, OK), d(2, 5, 20, Fail)}, absent, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			final := map[uint64]WriteID{}
			if tc.final != absent {
				final[1] = tc.final
			}
			r := Check(tc.h, final)
			if tc.want == 0 {
				if !r.OK() {
					t.Fatalf("valid history rejected:\n%s", r)
				}
				return
			}
			if len(r.Anomalies) != 1 || r.Anomalies[0].Kind != tc.want || r.Anomalies[0].Key != 1 {
				t.Fatalf("want one %v anomaly on key 1, got:\n%s", tc.want, r)
			}
		})
	}
}

// TestCheckKeys: keys are independent, a point nobody wrote is lost, a
// point with no write id in its payload too, and the counts add up.
func TestCheckKeys(t *testing.T) {
	h := History{
		mk(1, Upsert, 1, 0, 10, OK),
		mk(2, Upsert, 2, 0, 10, OK),
		mk(3, Upsert, 1, 20, 30, OK),
		mk(4, Delete, 2, 20, 30, OK),
		mk(5, Upsert, 3, 0, 10, Fail),
		mk(6, Upsert, 4, 0, -1, Unknown),
	}
	final := map[uint64]WriteID{
		1: 1, // lost: 3 came after 1
		2: 2, // resurrected: 4 deleted it
		3: 5, // failed visible
		9: 0, // nobody wrote key 9, and it has no write id
		4: 6, // in flight, applied: fine
		5: 2, // key 2's write on key 5
	}
	r := Check(h, final)
	if r.Keys != 6 || r.Upserts != 5 || r.Deletes != 1 || r.Acknowledged != 4 || r.Failed != 1 || r.Unknown != 1 {
		t.Fatalf("counts: %s", r)
	}
	if r.Lost != 3 || r.Resurrected != 1 || r.FailedVisible != 1 {
		t.Fatalf("anomalies: %s", r)
	}
	var keys []uint64
	for _, a := range r.Anomalies {
		keys = append(keys, a.Key)
	}
	if want := []uint64{1, 2, 3, 5, 9}; !equal(keys, want) {
		t.Fatalf("anomalous keys %v, want %v\n%s", keys, want, r)
	}
	s := r.String()
	for _, part := range []string{"key 1: lost acknowledged write", "should have been superseded by #3 upsert key 1",
		"key 2: resurrected delete", "#4 delete key 2", "key 3: failed write visible", "key 9: lost acknowledged write: the point holds no write id",
		"key 5: lost acknowledged write: final value names write 2"} {
		if !strings.Contains(s, part) {
			t.Errorf("report lacks %q:\n%s", part, s)
		}
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
