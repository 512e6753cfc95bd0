package history

import (
	"encoding/json"
	"strings"
	"testing"
)

func dump(t *testing.T, js string) Dump {
	t.Helper()
	var recs []Record
	if err := json.Unmarshal([]byte(js), &recs); err != nil {
		t.Fatal(err)
	}
	d, err := DumpOf(recs)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCompareReplicas(t *testing.T) {
	a := dump(t, `[{"id":1,"vector":[0.5,1],"payload":{"x":1,"y":"a"}},{"id":10,"vector":[1,2],"payload":{}},{"id":"b0000000-0000-0000-0000-000000000000","vector":[1,1],"payload":null}]`)
	// Same content, keys in another order and other spacing: identical.
	same := dump(t, `[{"id":10,"vector":[1, 2],"payload":{}},{"payload":{"y":"a","x":1},"id":1,"vector":[0.5,1]},{"id":"b0000000-0000-0000-0000-000000000000","vector":[1,1]}]`)
	if diffs := CompareReplicas([]Replica{{"a", a}, {"b", same}}); diffs != nil {
		t.Fatalf("identical replicas differ: %v", diffs)
	}
	other := dump(t, `[{"id":1,"vector":[0.5,1],"payload":{"x":2,"y":"a"}},{"id":2,"vector":[0,0],"payload":{}},{"id":10,"vector":[1,2.5],"payload":{}}]`)
	diffs := CompareReplicas([]Replica{{"a", a}, {"b", same}, {"c", other}})
	var ids []string
	for _, d := range diffs {
		ids = append(ids, d.ID)
	}
	if got := strings.Join(ids, " "); got != `1 2 10 "b0000000-0000-0000-0000-000000000000"` {
		t.Fatalf("differing ids %s", got)
	}
	d1 := diffs[0]
	if len(d1.Absent) != 0 || len(d1.Values) != 2 || strings.Join(d1.Values[0].Replicas, ",") != "a,b" || d1.Values[1].Replicas[0] != "c" {
		t.Fatalf("point 1: %v", d1)
	}
	if d2 := diffs[1]; strings.Join(d2.Absent, ",") != "a,b" || len(d2.Values) != 1 {
		t.Fatalf("point 2: %v", d2)
	}
	if s := diffs[2].String(); !strings.Contains(s, "on a, b: vector [1,2]") || !strings.Contains(s, "on c: vector [1,2.5]") {
		t.Fatalf("point 10: %s", s)
	}
}

func TestDumpOfGarbage(t *testing.T) {
	for _, rec := range []Record{
		{ID: json.RawMessage(`{`)},
		{ID: json.RawMessage(`1`), Vector: json.RawMessage(`[1,`)},
		{ID: json.RawMessage(`1`), Payload: json.RawMessage(`{} {}`)},
	} {
		if _, err := DumpOf([]Record{rec}); err == nil {
			t.Errorf("DumpOf(%+v) accepted garbage", rec)
		}
	}
	if _, err := DumpOf([]Record{{ID: json.RawMessage(`1`)}, {ID: json.RawMessage(` 1`)}}); err == nil {
		t.Error("duplicate id accepted")
	}
}
