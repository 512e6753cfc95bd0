package collection

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/testkit"
)

// TestSparseConfig: sparse_vectors are built, echoed as given (empty params
// as {}), merged by an update as Qdrant merges them, and their enums
// refused with serde's texts.
func TestSparseConfig(t *testing.T) {
	cfg, err := build(t, `{"sparse_vectors":{"text":{},"idf":{"modifier":"idf","index":{"full_scan_threshold":100,"on_disk":true,"datatype":"float16","memory":"cached"}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"vectors":{},"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"on_disk_payload":true,` +
		`"sparse_vectors":{"idf":{"index":{"full_scan_threshold":100,"on_disk":true,"memory":"cached","datatype":"float16"},"modifier":"idf"},"text":{}}}`
	if got := jsonOf(t, cfg.Params); got != want {
		t.Fatalf("params\n got %s\nwant %s", got, want)
	}
	if sp := sparseSpecs(cfg); !sp["idf"].OnDisk || sp["idf"].Datatype != 1 || sp["text"].OnDisk {
		t.Fatalf("specs %+v", sp)
	}
	var up UpdateRequest
	decodeInto(t, `{"sparse_vectors":{"text":{"modifier":"idf","index":{"on_disk":true}},"idf":{"modifier":"none","index":{"memory":"pinned"}}}}`, &up)
	out, err := up.Apply(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want = `{"idf":{"index":{"full_scan_threshold":100,"on_disk":true,"memory":"pinned","datatype":"float16"},"modifier":"none"},"text":{"index":{"on_disk":true},"modifier":"idf"}}`
	if got := jsonOf(t, out.Params.SparseVectors); got != want {
		t.Fatalf("updated\n got %s\nwant %s", got, want)
	}
	if sp := sparseSpecs(out); sp["idf"].OnDisk || !sp["text"].OnDisk {
		t.Fatalf("memory pinned overrides on_disk, on_disk alone maps: %+v", sp)
	}
	if jsonOf(t, cfg.Params.SparseVectors["text"]) != `{}` {
		t.Fatal("the update changed the original config")
	}
	for body, msg := range map[string]string{
		`{"sparse_vectors":{"s":{"modifier":"bm25"}}}`:                  "unknown variant `bm25`, expected `none` or `idf`",
		`{"sparse_vectors":{"s":{"index":{"datatype":"int4"}}}}`:        "unknown variant `int4`, expected one of `float32`, `uint8`, `float16`, `turbo4`",
		`{"sparse_vectors":{"s":{"index":{"memory":"hot"}}}}`:           "unknown variant `hot`, expected one of `cold`, `cached`, `pinned`",
		`{"sparse_vectors":{"s":{"modifier":1}}}`:                       "invalid type",
		`{"sparse_vectors":{"s":{"index":{"full_scan_threshold":-1}}}}`: "cannot unmarshal",
	} {
		var req CreateRequest
		if err := point.DecodeJSON([]byte(body), &req); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", body, err, msg)
		}
	}
}

// sparseFixture opens a collection with a dense vector and two sparse ones
// (s with the idf modifier when idf), whose optimizer seals segments with
// inverted indexes at 1 KB of entries, and fills it with n points: random
// sparse vectors over dims dimensions (some points without one, some with
// an empty one), and payloads to filter on. It waits for the optimizer,
// then writes and deletes more points, so that sealed and appendable
// segments both hold points.
func sparseFixture(t *testing.T, r *rand.Rand, n, dims int, idf bool) *Collection {
	t.Helper()
	mod := ""
	if idf {
		mod = `"modifier":"idf",`
	}
	c, _ := openCollection(t, `{"vectors":{"d":{"size":2,"distance":"Dot"}},
		"sparse_vectors":{"s":{`+mod+`"index":{"full_scan_threshold":40}},"t":{"index":{"on_disk":true}}},
		"optimizers_config":{"indexing_threshold":1,"default_segment_number":2,"deleted_threshold":0.9}}`)
	mk := func(id int) ops.PointStruct {
		p := ops.PointStruct{ID: point.NumID(uint64(id)), Vectors: point.Vectors{"d": {1, 2}},
			Payload: point.Payload{"k": r.IntN(10), "tag": []string{"a", "b", "c"}[r.IntN(3)]}}
		p.Sparse = point.SparseVectors{}
		if r.IntN(10) != 0 {
			p.Sparse["s"] = randomSparse(r, dims, r.IntN(12))
		}
		if r.IntN(2) == 0 {
			p.Sparse["t"] = randomSparse(r, dims, 1+r.IntN(5))
		}
		if r.IntN(20) == 0 {
			p.Payload = nil
		}
		return p
	}
	var pts []ops.PointStruct
	for i := range n {
		pts = append(pts, mk(i))
		if len(pts) == 100 {
			upsert(t, c, pts...)
			pts = pts[:0]
		}
	}
	upsert(t, c, pts...)
	testkit.WaitFor(t, "the optimizer to seal the points", 30*time.Second, func() bool {
		info, err := c.Info()
		return err == nil && info.Status == "green"
	})
	// Then an appendable segment, and deletes from sealed ones.
	pts = pts[:0]
	for i := range n / 10 {
		pts = append(pts, mk(n+i))
	}
	upsert(t, c, pts...)
	var del []point.ID
	for range n / 10 {
		del = append(del, point.NumID(uint64(r.IntN(n))))
	}
	if _, err := c.Update(bg, &ops.Operation{Kind: ops.Delete, IDs: del}, true); err != nil {
		t.Fatal(err)
	}
	sealed, appendable := 0, 0
	c.firstShard().View(func(r *shard.Reader) {
		for _, s := range r.Segments() {
			if s.Points == 0 {
				continue
			}
			if s.Appendable {
				appendable++
			} else {
				sealed++
			}
		}
	})
	if sealed == 0 || appendable == 0 {
		t.Fatalf("%d sealed and %d appendable segments with points: the fixture needs both", sealed, appendable)
	}
	return c
}

// randomSparse draws nnz distinct dimensions below dims, unsorted, with
// coarse values (ties between scores are common).
func randomSparse(r *rand.Rand, dims, nnz int) point.SparseVector {
	v := point.SparseVector{Indices: []uint32{}, Values: []float32{}}
	for _, d := range r.Perm(dims)[:min(nnz, dims)] {
		v.Indices = append(v.Indices, uint32(d))
		v.Values = append(v.Values, float32(r.IntN(11)-3)/4)
	}
	return v
}

// sparseOracle answers a sparse search from the points themselves: every
// point (scrolled with its vectors) whose vector under name shares an index
// with the query, scored by the dot product summed in index order in
// float32, the query's weights first multiplied by Qdrant's idf
// ln((N-df+0.5)/(df+0.5)+1) over the points having a vector under name
// when idf; the filter's matches are those of a scroll with it.
func sparseOracle(t *testing.T, c *Collection, name string, q point.SparseVector, idf bool, f string, limit, offset int, threshold *float32) []ScoredPoint {
	t.Helper()
	all := scrollAll(t, c, ops.ScrollRequest{Limit: 1 << 30, WithVector: ops.VectorSelector{Enable: true}})
	allowed := map[point.ID]bool{}
	req := ops.ScrollRequest{Limit: 1 << 30}
	if f != "" {
		req.Filter = mustFilter(t, f)
	}
	for _, r := range scrollAll(t, c, req) {
		allowed[r.ID] = true
	}
	q = q.Sorted().Clone()
	if idf {
		n, df := 0, make([]int, len(q.Indices))
		for _, r := range all {
			v, ok := r.Sparse[name]
			if !ok {
				continue
			}
			n++
			for i, d := range q.Indices {
				if slices.Contains(v.Indices, d) {
					df[i]++
				}
			}
		}
		for i := range q.Values {
			x := (float32(n)-float32(df[i])+0.5)/(float32(df[i])+0.5) + 1
			q.Values[i] *= float32(math.Log(float64(x)))
		}
	}
	var out []ScoredPoint
	for _, r := range all {
		v, ok := r.Sparse[name]
		if !ok || !allowed[r.ID] {
			continue
		}
		var score float32
		shared := false
		for i, d := range q.Indices {
			if j := slices.Index(v.Indices, d); j >= 0 {
				score += float32(q.Values[i] * v.Values[j])
				shared = true
			}
		}
		if shared && (threshold == nil || score >= *threshold) {
			out = append(out, ScoredPoint{ID: r.ID, Score: score})
		}
	}
	slices.SortFunc(out, func(a, b ScoredPoint) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return a.ID.Compare(b.ID)
	})
	if offset >= len(out) {
		return nil
	}
	return out[offset:min(len(out), offset+limit)]
}

func fmtScored(hits []ScoredPoint) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, " %s:%v", h.ID, h.Score)
	}
	return b.String()
}

// TestSparseSearchOracle: searches by sparse vector across sealed (indexed,
// one mapped) and appendable segments, with and without idf, under random
// filters (payload, has_id, is_empty, has_vector, must_not), offsets and
// thresholds, return exactly the oracle's points and score bits; exact
// searches too. After the modifier is switched by a config update, the
// same queries follow the new modifier.
func TestSparseSearchOracle(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 77))
	const dims = 60
	filters := []func() string{
		func() string { return "" },
		func() string { return fmt.Sprintf(`{"must":[{"key":"k","range":{"lt":%d}}]}`, r.IntN(11)) },
		func() string { return fmt.Sprintf(`{"must":[{"key":"k","match":{"value":%d}}]}`, r.IntN(10)) },
		func() string {
			return fmt.Sprintf(`{"must_not":[{"key":"tag","match":{"value":"%s"}}]}`, []string{"a", "b", "c"}[r.IntN(3)])
		},
		func() string {
			return fmt.Sprintf(`{"must":[{"has_id":[%d,%d,%d,%d]}]}`, r.IntN(700), r.IntN(700), r.IntN(700), r.IntN(700))
		},
		func() string { return `{"must":[{"is_empty":{"key":"k"}}]}` },
		func() string { return `{"must":[{"has_vector":"t"}]}` },
		func() string {
			return fmt.Sprintf(`{"should":[{"key":"k","range":{"gte":%d}},{"key":"tag","match":{"value":"a"}}]}`, r.IntN(10))
		},
	}
	for _, idf := range []bool{false, true} {
		c := sparseFixture(t, r, 600, dims, idf)
		check := func(idf bool, round int) {
			for q := range 40 {
				name := []string{"s", "t"}[r.IntN(2)]
				query := randomSparse(r, dims+4, r.IntN(9))
				f := filters[r.IntN(len(filters))]()
				limit, offset := 1+r.IntN(30), r.IntN(3)*r.IntN(5)
				var threshold *float32
				if r.IntN(4) == 0 {
					th := float32(r.IntN(5)-1) / 2
					threshold = &th
				}
				req := ops.SearchRequest{Using: name, Sparse: &query, Limit: limit, Offset: offset, ScoreThreshold: threshold,
					Params: ops.SearchParams{Exact: r.IntN(5) == 0}, WithPayload: ops.PayloadSelector{Enable: true}}
				if f != "" {
					req.Filter = mustFilter(t, f)
				}
				got, err := c.Search(bg, req)
				if err != nil {
					t.Fatal(err)
				}
				want := sparseOracle(t, c, name, query, idf && name == "s", f, limit, offset, threshold)
				if len(got) != len(want) {
					t.Fatalf("idf %v round %d query %d (%s %v %s limit %d offset %d): %d hits, want %d\n got%s\nwant%s",
						idf, round, q, name, query, f, limit, offset, len(got), len(want), fmtScored(got), fmtScored(want))
				}
				for i := range got {
					if got[i].ID != want[i].ID || math.Float32bits(got[i].Score) != math.Float32bits(want[i].Score) {
						t.Fatalf("idf %v round %d query %d (%s %v %s): hit %d\n got%s\nwant%s", idf, round, q, name, query, f, i, fmtScored(got), fmtScored(want))
					}
				}
			}
		}
		check(idf, 0)
		// Switch the modifier, as PATCH does.
		cfg, err := c.Config()
		if err != nil {
			t.Fatal(err)
		}
		var up UpdateRequest
		mod := map[bool]string{true: "none", false: "idf"}[idf]
		decodeInto(t, `{"sparse_vectors":{"s":{"modifier":"`+mod+`"}}}`, &up)
		next, err := up.Apply(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.SetConfig(next)
		check(!idf, 1)
	}
}

// TestSparseWrites: vectors are stored sorted and returned by name by
// retrieve and scroll; update_vectors and delete_vectors address sparse
// names; a sparse value for a dense name (and the reverse) is Qdrant's
// conversion error, an unknown name its name error, a broken vector a
// validation error.
func TestSparseWrites(t *testing.T) {
	c, _ := openCollection(t, `{"vectors":{"d":{"size":2,"distance":"Dot"}},"sparse_vectors":{"s":{}}}`)
	upsert(t, c, ops.PointStruct{ID: point.NumID(1), Vectors: point.Vectors{"d": {1, 2}},
		Sparse: point.SparseVectors{"s": {Indices: []uint32{9, 3, 5}, Values: []float32{0.9, 0.3, 0.5}}}})
	all := ops.VectorSelector{Enable: true}
	recs := must(c.Retrieve(bg, nums(1), ops.PayloadSelector{}, all))
	if got := jsonOf(t, recs[0].Sparse); got != `{"s":{"Indices":[3,5,9],"Values":[0.3,0.5,0.9]}}` {
		t.Fatalf("stored %s", got)
	}
	if recs := must(c.Retrieve(bg, nums(1), ops.PayloadSelector{}, ops.VectorSelector{Enable: true, Names: []string{"d"}})); recs[0].Sparse != nil {
		t.Fatalf("with_vector [d] returned %v", recs[0].Sparse)
	}
	if _, err := c.Retrieve(bg, nums(1), ops.PayloadSelector{}, ops.VectorSelector{Enable: true, Names: []string{"s"}}); err != nil {
		t.Fatalf("with_vector [s]: %v", err)
	}
	ok := func(op *ops.Operation) {
		t.Helper()
		if _, err := c.Update(bg, op, true); err != nil {
			t.Fatal(err)
		}
	}
	ok(&ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(1), Sparse: point.SparseVectors{"s": {Indices: []uint32{1}, Values: []float32{1}}}}}})
	recs = must(c.Retrieve(bg, nums(1), ops.PayloadSelector{}, all))
	if len(recs[0].Vectors["d"]) != 2 || !slices.Equal(recs[0].Sparse["s"].Indices, []uint32{1}) {
		t.Fatalf("after update_vectors: %+v", recs[0])
	}
	ok(&ops.Operation{Kind: ops.DeleteVectors, IDs: nums(1), Keys: []string{"s"}})
	if recs = must(c.Retrieve(bg, nums(1), ops.PayloadSelector{}, all)); recs[0].Sparse != nil {
		t.Fatalf("after delete_vectors: %+v", recs[0].Sparse)
	}
	sv := point.SparseVector{Indices: []uint32{1}, Values: []float32{1}}
	cases := []struct {
		name string
		op   *ops.Operation
		want string
	}{
		{"sparse for a dense name", &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Sparse: point.SparseVectors{"d": sv}}}}, "Conversion between sparse and regular vectors failed"},
		{"dense for a sparse name", &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"s": {1, 2}}}}}, "Conversion between sparse and regular vectors failed"},
		{"unknown sparse name", &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Sparse: point.SparseVectors{"x": sv}}}}, "Not existing vector name error: x"},
		{"duplicate indices", &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(1), Sparse: point.SparseVectors{"s": {Indices: []uint32{2, 2}, Values: []float32{1, 2}}}}}}, "indices: must be unique"},
		{"delete an unknown vector", &ops.Operation{Kind: ops.DeleteVectors, IDs: nums(1), Keys: []string{"x"}}, "Not existing vector name error: x"},
	}
	for _, tc := range cases {
		if _, err := c.Update(bg, tc.op, true); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	q := point.SparseVector{Indices: []uint32{1}, Values: []float32{1}}
	for _, req := range []ops.SearchRequest{
		{Using: "s", Vector: []float32{1, 2}, Limit: 1},
		{Using: "d", Sparse: &q, Limit: 1},
	} {
		if _, err := c.Search(bg, req); err == nil || !strings.Contains(err.Error(), "Conversion between sparse and regular vectors failed") {
			t.Errorf("search %+v: %v", req, err)
		}
	}
	// By point id: the stored vector is the query, the point excluded.
	upsert(t, c, ops.PointStruct{ID: point.NumID(2), Sparse: point.SparseVectors{"s": {Indices: []uint32{4, 7}, Values: []float32{1, 1}}}},
		ops.PointStruct{ID: point.NumID(3), Sparse: point.SparseVectors{"s": {Indices: []uint32{7}, Values: []float32{2}}}})
	hits := must(c.Search(bg, ops.SearchRequest{Using: "s", QueryID: ptr(point.NumID(2)), Limit: 5}))
	if b, _ := json.Marshal(hitIDs(hits)); string(b) != `[3]` || hits[0].Score != 2 {
		t.Fatalf("search by id: %s", fmtScored(hits))
	}
	if _, err := c.Search(bg, ops.SearchRequest{Using: "s", QueryID: ptr(point.NumID(1)), Limit: 5}); point.KindOf(err) != point.KindNotFound {
		t.Fatalf("search by a point without the vector: %v", err)
	}
}

func scrollAll(t *testing.T, c *Collection, req ops.ScrollRequest) []Record {
	t.Helper()
	recs, _, err := c.Scroll(bg, req)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
