package strict

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// facts is a collection made up for the checks.
type facts struct {
	indexes map[string]Index
	points  uint64
}

func (f facts) Indexes() map[string]Index                    { return f.indexes }
func (f facts) VectorIndexing(string) (uint64, uint64, bool) { return 16, 16, false }
func (f facts) Points() uint64                               { return f.points }
func (f facts) VectorBytes() uint64                          { return 0 }
func (f facts) PayloadBytes() uint64                         { return 0 }
func (f facts) Estimate(*filter.Filter) uint64               { return f.points / 2 }
func (f facts) MultivectorDim(name string) (int, bool)       { return 2, name == "multi" }
func configured(t *testing.T, g *Guard, raw string) *Guard {
	t.Helper()
	if err := g.Configure(json.RawMessage(raw)); err != nil {
		t.Fatal(err)
	}
	return g
}

func upsertOf(n int) *ops.Operation {
	op := &ops.Operation{Kind: ops.Upsert}
	for i := range n {
		op.Points = append(op.Points, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": {1}}})
	}
	return op
}

// TestConfigureBuckets: a new configuration starts full buckets (Qdrant
// recreates its rate limiters on every strict mode update), the same one
// keeps them, and with strict mode off nothing is limited.
func TestConfigureBuckets(t *testing.T) {
	clk := newFakeClock()
	g := configured(t, NewGuard(clk.now, nil), `{"enabled":true,"write_rate_limit":1}`)
	write := func() error { return g.Update(context.Background(), facts{}, []*ops.Operation{upsertOf(1)}) }
	if err := write(); err != nil {
		t.Fatal(err)
	}
	if err := write(); err == nil {
		t.Fatal("second write within the minute passed")
	}
	configured(t, g, `{"write_rate_limit":1,"enabled":true}`) // the same, written otherwise
	if err := write(); err == nil {
		t.Fatal("the same configuration refilled the bucket")
	}
	configured(t, g, `{"enabled":true,"write_rate_limit":1,"max_query_limit":5}`)
	if err := write(); err != nil {
		t.Fatalf("a new configuration kept the empty bucket: %v", err)
	}
	configured(t, g, `{"enabled":false,"write_rate_limit":1}`)
	for range 3 {
		if err := write(); err != nil {
			t.Fatalf("strict mode off: %v", err)
		}
	}
	if err := g.Configure(json.RawMessage(`{"enabled":"yes"}`)); err == nil {
		t.Fatal("a config that does not parse was taken")
	}
	if g.active() != nil {
		t.Fatal("strict mode on after a config that does not parse")
	}
}

// TestTimeout holds the client's timeout, in whole seconds, against
// max_timeout; a request without one is not checked.
func TestTimeout(t *testing.T) {
	g := configured(t, NewGuard(nil, nil), `{"enabled":true,"max_timeout":2}`)
	for _, tc := range []struct {
		timeout time.Duration
		err     string
	}{
		{0, ""},
		{time.Second, ""},
		{2 * time.Second, ""},
		{1500 * time.Millisecond, ""},
		{3 * time.Second, `Limit exceeded 3 > 2 for "timeout". Help: Reduce the "timeout" parameter to or below 2.`},
	} {
		ctx := ops.WithTimeout(context.Background(), tc.timeout)
		_, err := g.Count(ctx, facts{}, ops.CountRequest{})
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || err.Error() != tc.err) {
			t.Errorf("timeout %v: %v, want %q", tc.timeout, err, tc.err)
		}
		if err := g.Update(ctx, facts{}, []*ops.Operation{upsertOf(1)}); (err != nil) != (tc.err != "") {
			t.Errorf("update with timeout %v: %v", tc.timeout, err)
		}
	}
}

// TestVectorLimits holds sparse_config and multivector_config (their
// checks are wired to updates once points carry such vectors).
func TestVectorLimits(t *testing.T) {
	c, err := Parse(json.RawMessage(`{"enabled":true,"sparse_config":{"sparse-vector":{"max_length":4}},"multivector_config":{"dense-multi":{"max_vectors":5}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"sparse under", c.sparseLength("sparse-vector", 4, 4), ""},
		{"sparse other name", c.sparseLength("other", 100, 100), ""},
		{"sparse over", c.sparseLength("sparse-vector", 6, 6), "Sparse vector 'sparse-vector' has a limit of 4 indices, but 6 were provided!"},
		{"sparse values over", c.sparseLength("sparse-vector", 4, 5), "Sparse vector 'sparse-vector' has a limit of 4 indices, but 4 were provided!"},
		{"multi under", c.multivectorCount("dense-multi", 5), ""},
		{"multi over", c.multivectorCount("dense-multi", 6), "Multivector 'dense-multi' has a limit of 5 vectors, but 6 were provided!"},
	} {
		if tc.want == "" {
			if tc.err != nil {
				t.Errorf("%s: %v", tc.name, tc.err)
			}
			continue
		}
		if tc.err == nil || tc.err.Error() != tc.want || point.KindOf(tc.err) != point.KindBadRequest {
			t.Errorf("%s: %v, want bad request %q", tc.name, tc.err, tc.want)
		}
	}
}

// TestResidentMemory holds the deprecated max_resident_memory_percent: the
// memory-consuming updates are refused once resident memory reaches it,
// deletes pass, and a memory that cannot be read lets updates through.
func TestResidentMemory(t *testing.T) {
	var used uint64
	readable := true
	g := configured(t, NewGuard(nil, func() (uint64, bool) { return used, readable }), `{"enabled":true,"max_resident_memory_percent":90}`)
	del := &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(1)}}
	setPayload := &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(1)}, Payload: point.Payload{"a": 1}}
	for _, tc := range []struct {
		used     uint64
		readable bool
		op       *ops.Operation
		refused  bool
	}{
		{89, true, upsertOf(1), false},
		{90, true, upsertOf(1), true},
		{95, true, setPayload, true},
		{95, true, del, false},
		{95, false, upsertOf(1), false},
	} {
		used, readable = tc.used, tc.readable
		err := g.Update(context.Background(), facts{}, []*ops.Operation{tc.op})
		var se *Error
		if tc.refused != errors.As(err, &se) {
			t.Fatalf("%s at %d%%: %v", tc.op.Kind, tc.used, err)
		}
		if tc.refused {
			want := "Resident memory usage is at " + itoa(tc.used) + "% of total memory, exceeding the configured limit of 90%. Help: Reduce memory usage"
			if !contains(se.Description, want) {
				t.Fatalf("%q, want %q", se.Description, want)
			}
		}
	}
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }

func TestProcFields(t *testing.T) {
	status := []byte("Name:\tshoal\nVmPeak:\t  100 kB\nVmRSS:\t   2048 kB\n")
	if n, ok := parseProcField(status, "VmRSS:"); !ok || n != 2048*1024 {
		t.Fatalf("VmRSS = %d, %v", n, ok)
	}
	if _, ok := parseProcField(status, "MemTotal:"); ok {
		t.Fatal("found a field that is not there")
	}
	if _, ok := parseProcField([]byte("VmRSS: lots\n"), "VmRSS:"); ok {
		t.Fatal("read a field that is not a number")
	}
	if p := percentOf(512, 1024); p != 50 {
		t.Fatalf("percent = %d", p)
	}
	if p, ok := ResidentMemoryPercent(); ok && p > 100 {
		t.Fatalf("this process uses %d%% of its memory", p)
	}
}

// sizedFacts is a collection whose sizes the test sets.
type sizedFacts struct {
	facts
	vectors, payloads uint64
	reads             int
}

func (f *sizedFacts) VectorBytes() uint64  { f.reads++; return f.vectors }
func (f *sizedFacts) PayloadBytes() uint64 { f.reads++; return f.payloads }

// TestSizeCache: the vector and payload bytes cost a pass over the points,
// so, as in Qdrant, one reading serves 32 checks; a new configuration reads
// them again at once.
func TestSizeCache(t *testing.T) {
	f := &sizedFacts{payloads: 50}
	g := configured(t, NewGuard(nil, nil), `{"enabled":true,"max_collection_payload_size_bytes":100}`)
	write := func() error { return g.Update(context.Background(), f, []*ops.Operation{upsertOf(1)}) }
	if err := write(); err != nil {
		t.Fatal(err)
	}
	f.payloads = 150
	for i := 1; i < sizeRefresh; i++ {
		if err := write(); err != nil {
			t.Fatalf("check %d, before the next reading: %v", i, err)
		}
	}
	err := write()
	if kind := point.KindOf(err); kind != point.KindBadRequest || err.Error() != "Max payload storage size limit of 0.00009536743MB reached!" {
		t.Fatalf("check %d: %v", sizeRefresh, err)
	}
	if f.reads != 2 {
		t.Fatalf("%d readings of the sizes in %d checks, want 2 (payloads only)", f.reads, sizeRefresh+1)
	}
	f.payloads = 50
	configured(t, g, `{"enabled":true,"max_collection_payload_size_bytes":100,"max_collection_vector_size_bytes":10}`)
	f.vectors = 10
	if err := write(); err == nil || !contains(err.Error(), "Max vector storage size limit of 0.000009536743MB reached!") {
		t.Fatalf("after a new configuration: %v", err)
	}
}
