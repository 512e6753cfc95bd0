package collection

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/testkit"
)

func buildConfig(t *testing.T, body string) *Config {
	t.Helper()
	var req CreateRequest
	if err := point.DecodeJSON([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	cfg, err := req.Build(testDefaults())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func mustVectorConfig(t *testing.T, body string) *VectorNameConfig {
	t.Helper()
	vc, err := ParseVectorNameConfig([]byte(body))
	if err != nil {
		t.Fatalf("parse %s: %v", body, err)
	}
	return vc
}

// TestWithVector: Qdrant's add_vector_to_config and
// remove_vector_from_config on the configuration: what is added and how
// it is echoed, what is a no-op, what is refused and with which text.
func TestWithVector(t *testing.T) {
	base := `{"vectors":{"a":{"size":4,"distance":"Cosine","on_disk":true}},"sparse_vectors":{"s":{"modifier":"idf"}}}`
	cases := []struct {
		name, base, vector, body string
		changed                  bool
		err                      string // the error's text; "" when none
		vectors, sparse          string // the result's params.vectors and params.sparse_vectors
	}{
		{"dense", base, "b", `{"dense":{"size":3,"distance":"Dot","datatype":"uint8"}}`, true, "",
			`{"a":{"size":4,"distance":"Cosine","on_disk":true},"b":{"size":3,"distance":"Dot","datatype":"uint8"}}`, `{"s":{"modifier":"idf"}}`},
		{"sparse", base, "t", `{"sparse":{"datatype":"uint8"}}`, true, "",
			`{"a":{"size":4,"distance":"Cosine","on_disk":true}}`, `{"s":{"modifier":"idf"},"t":{"index":{"datatype":"uint8"}}}`},
		{"to a collection of one unnamed vector", `{"vectors":{"size":2,"distance":"Dot"}}`, "b", `{"dense":{"size":3,"distance":"Dot"}}`, true, "",
			`{"":{"size":2,"distance":"Dot"},"b":{"size":3,"distance":"Dot"}}`, `null`},
		{"sparse to a collection of sparse vectors only", `{"sparse_vectors":{"s":{}}}`, "t", `{"sparse":{}}`, true, "", `{}`, `{"s":{},"t":{}}`},
		{"the same dense vector", base, "a", `{"dense":{"size":4,"distance":"Cosine"}}`, false, "", "", ""},
		{"the same sparse vector", base, "s", `{"sparse":{"modifier":"idf"}}`, false, "", "", ""},
		{"another size", base, "a", `{"dense":{"size":5,"distance":"Cosine"}}`, false, "Vector `a` already exists with a different configuration", "", ""},
		{"another datatype", base, "a", `{"dense":{"size":4,"distance":"Cosine","datatype":"float32"}}`, false, "Vector `a` already exists with a different configuration", "", ""},
		{"another modifier", base, "s", `{"sparse":{}}`, false, "Sparse vector `s` already exists with a different configuration", "", ""},
		{"dense over sparse", base, "s", `{"dense":{"size":4,"distance":"Dot"}}`, false, "Vector `s` already exists as a sparse vector", "", ""},
		{"sparse over dense", base, "a", `{"sparse":{}}`, false, "Vector `a` already exists as a dense vector", "", ""},
		{"size 0", base, "b", `{"dense":{"size":0,"distance":"Dot"}}`, false, "dense.size: value 0 invalid, must be 1 or larger", "", ""},
		{"size 65537", base, "b", `{"dense":{"size":65537,"distance":"Dot"}}`, false, "dense.size: value 65537 invalid, must be 65536 or smaller", "", ""},
		{"turbo4", base, "b", `{"dense":{"size":4,"distance":"Dot","datatype":"turbo4"}}`, true, "",
			`{"a":{"size":4,"distance":"Cosine","on_disk":true},"b":{"size":4,"distance":"Dot","datatype":"turbo4"}}`, `{"s":{"modifier":"idf"}}`},
		{"multivector", base, "b", `{"dense":{"size":4,"distance":"Dot","multivector_config":{"comparator":"max_sim"}}}`, true, "",
			`{"a":{"size":4,"distance":"Cosine","on_disk":true},"b":{"size":4,"distance":"Dot","multivector_config":{"comparator":"max_sim"}}}`, `{"s":{"modifier":"idf"}}`},
		{"multivector of another comparator", base, "b", `{"dense":{"size":4,"distance":"Dot","multivector_config":{"comparator":"min_sim"}}}`, false, "multivector_config", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := buildConfig(t, c.base)
			before, _ := json.Marshal(cfg)
			out, changed, err := cfg.WithVector(c.vector, mustVectorConfig(t, c.body))
			if after, _ := json.Marshal(cfg); string(after) != string(before) {
				t.Fatal("the configuration given changed")
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || changed != c.changed {
				t.Fatalf("changed %v err %v, want changed %v", changed, err, c.changed)
			}
			if !changed {
				return
			}
			got, _ := json.Marshal(out.Params.Vectors)
			sp, _ := json.Marshal(out.Params.SparseVectors)
			if string(got) != c.vectors || string(sp) != c.sparse {
				t.Fatalf("vectors %s sparse %s,\nwant %s %s", got, sp, c.vectors, c.sparse)
			}
		})
	}
	cfg := buildConfig(t, base)
	for _, name := range []string{"a", "s", "nope"} {
		out, changed, err := cfg.WithoutVector(name)
		if err != nil || changed != (name != "nope") {
			t.Fatalf("drop %s: changed %v err %v", name, changed, err)
		}
		if _, ok := out.Params.Vectors.Named[name]; ok {
			t.Fatalf("drop %s: still there", name)
		}
		if name == "s" && out.Params.SparseVectors != nil {
			t.Fatalf("drop the last sparse vector: %v left", out.Params.SparseVectors)
		}
	}
}

// TestParseVectorNameConfig: serde's untagged enum: dense first, then
// sparse, other keys ignored, anything else one text.
func TestParseVectorNameConfig(t *testing.T) {
	for _, c := range []struct {
		body, want string
	}{
		{`{"dense":{"size":4,"distance":"Dot"}}`, "dense 4 Dot"},
		{`{"dense":{"size":4,"distance":"Dot"},"sparse":{}}`, "dense 4 Dot"},
		{`{"dense":{"size":4,"distance":"Dott"},"sparse":{}}`, "sparse"},
		{`{"sparse":{"modifier":"idf"},"other":1}`, "sparse"},
		{`{"dense":{"size":4}}`, "error"},
		{`{"dense":{"size":-1,"distance":"Dot"}}`, "error"},
		{`{"dense":{"size":4,"distance":"Dot","datatype":"int8"}}`, "error"},
		{`{"sparse":{"datatype":"int8"}}`, "error"},
		{`{"sparse":null}`, "error"},
		{`{}`, "error"},
		{`[]`, "error"},
		{`null`, "error"},
		{``, "error"},
	} {
		vc, err := ParseVectorNameConfig([]byte(c.body))
		got := "error"
		var fe *FormatError
		switch {
		case err != nil && (!errors.As(err, &fe) || fe.Msg != errVectorNameConfig):
			got = "wrong error " + err.Error()
		case err != nil:
		case vc.Dense != nil:
			got = fmt.Sprintf("dense %d %s", vc.Dense.Size, vc.Dense.Distance)
		case vc.Sparse != nil:
			got = "sparse"
		}
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.body, got, c.want)
		}
	}
}

// TestVectorOps: the operations that bring a shard's vectors in line
// with a configuration: drops first (gone, other space or kind), then
// creations, in name order.
func TestVectorOps(t *testing.T) {
	cfg := buildConfig(t, `{"vectors":{"a":{"size":4,"distance":"Dot"},"b":{"size":3,"distance":"Cosine","datatype":"float16"},"k":{"size":2,"distance":"Dot"}},
		"sparse_vectors":{"s":{"modifier":"idf","index":{"datatype":"uint8"}},"d":{}}}`)
	dense := map[string]segment.VectorSpec{
		"a": {Dim: 4, Distance: Dot, Datatype: segment.Float32},
		"b": {Dim: 3, Distance: Cosine}, // float32: another space
		"d": {Dim: 2, Distance: Dot},    // sparse in the configuration
		"x": {Dim: 2, Distance: Dot},    // gone
	}
	sparse := map[string]segment.SparseSpec{"k": {}, "s": {}, "y": {}}
	var got []string
	for _, op := range vectorOps(cfg, dense, sparse) {
		s := string(op.Kind) + " " + op.Key
		if vc := op.VectorConfig; vc != nil && vc.Dense != nil {
			s += fmt.Sprintf(" dense %d %s %s", vc.Dense.Size, vc.Dense.Distance, vc.Dense.Datatype)
		} else if vc != nil {
			s += fmt.Sprintf(" sparse %q %q", vc.Sparse.Modifier, vc.Sparse.Datatype)
		}
		got = append(got, s)
	}
	want := []string{
		"delete_vector_name b", "delete_vector_name d", "delete_vector_name x", "delete_vector_name k", "delete_vector_name y",
		"create_vector_name b dense 3 Cosine float16", "create_vector_name k dense 2 Dot float32",
		`create_vector_name d sparse "" ""`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, op := range vectorOps(cfg, map[string]segment.VectorSpec{"a": {Dim: 4, Distance: Dot}, "b": {Dim: 3, Distance: Cosine, Datatype: segment.Float16},
		"k": {Dim: 2, Distance: Dot}}, map[string]segment.SparseSpec{"s": {}, "d": {}}) {
		t.Fatalf("in line already, yet %s %s", op.Kind, op.Key)
	}
}

// TestCollectionVectorsFollowConfig: SetConfig adds and drops the
// vectors of a collection with points, and they survive a restart; a
// collection opened with a configuration its shard is behind of (a crash
// after the configuration was saved, before the shard's operation)
// catches up at once.
func TestCollectionVectorsFollowConfig(t *testing.T) {
	cfg := buildConfig(t, `{"vectors":{"a":{"size":2,"distance":"Dot"}}}`)
	dir := filepath.Join(t.TempDir(), "c")
	c, err := Open(nil, dir, "c", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	upsert(t, c, ops.PointStruct{ID: point.NumID(1), Vectors: point.Vectors{"a": {1, 2}}})
	next, _, err := cfg.WithVector("b", mustVectorConfig(t, `{"dense":{"size":3,"distance":"Euclid"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetConfig(next); err != nil {
		t.Fatal(err)
	}
	upsert(t, c, ops.PointStruct{ID: point.NumID(2), Vectors: point.Vectors{"a": {3, 4}, "b": {1, 1, 1}}})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	vectorsOf := func(c *Collection, id uint64) string {
		recs := must(c.Retrieve(bg, []point.ID{point.NumID(id)}, ops.PayloadSelector{}, ops.VectorSelector{Enable: true}))
		if len(recs) != 1 {
			return "missing"
		}
		return fmt.Sprint(map[string][]float32(recs[0].Vectors))
	}
	reopen := func(cfg *Config) *Collection {
		t.Helper()
		c, err := Open(nil, dir, "c", cfg, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	c = reopen(next)
	if got := vectorsOf(c, 2); got != "map[a:[3 4] b:[1 1 1]]" {
		t.Fatalf("point 2 after a restart: %s", got)
	}
	c.Close()

	// Saved configurations the shard never heard of: b dropped, then c
	// added (as a crash before the shard's operation would leave them).
	dropped, _, _ := next.WithoutVector("b")
	withC, _, err := dropped.WithVector("c", mustVectorConfig(t, `{"sparse":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	c = reopen(withC)
	if got := vectorsOf(c, 2); got != "map[a:[3 4]]" {
		t.Fatalf("point 2 after b was dropped at open: %s", got)
	}
	res, err := c.Update(bg, &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(1),
		Sparse: point.SparseVectors{"c": {Indices: []uint32{1}, Values: []float32{2}}}}}}, true)
	if err != nil || res.Status != Completed {
		t.Fatalf("a vector added at open: %v", err)
	}
	c.Close()
	c = reopen(withC)
	if got := vectorsOf(c, 2); got != "map[a:[3 4]]" {
		t.Fatalf("point 2 after another restart: %s", got)
	}
	// b comes back empty when added again.
	withB, _, err := withC.WithVector("b", mustVectorConfig(t, `{"dense":{"size":3,"distance":"Euclid"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetConfig(withB); err != nil {
		t.Fatal(err)
	}
	if got := vectorsOf(c, 2); got != "map[a:[3 4]]" {
		t.Fatalf("point 2 after b was added again: %s", got)
	}
}

// TestVectorMemoryPlacement: memory: cold keeps a sealed segment's
// vectors in a mapped file, cached on the heap even with on_disk: true
// (memory wins, as Qdrant's Memory::resolve).
func TestVectorMemoryPlacement(t *testing.T) {
	c, _ := openCollection(t, `{"vectors":{"cold":{"size":4,"distance":"Dot","memory":"cold"},"cached":{"size":4,"distance":"Dot","on_disk":true,"memory":"cached"}},
		"optimizers_config":{"indexing_threshold":1,"default_segment_number":1}}`)
	var pts []ops.PointStruct
	for i := range 200 {
		f := float32(i)
		pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"cold": {f, 1, 2, 3}, "cached": {3, 2, 1, f}}})
	}
	upsert(t, c, pts...)
	onDisk := func() map[string]bool {
		out := map[string]bool{}
		for _, seg := range c.Telemetry().Shards[0].Local.Segments {
			if seg.Info.IsAppendable {
				continue
			}
			for name, m := range seg.Info.Memory {
				out[name] = m.OnDisk
			}
		}
		return out
	}
	testkit.WaitFor(t, "a sealed segment", 30*time.Second, func() bool { return len(onDisk()) == 2 })
	if got := onDisk(); !got["cold"] || got["cached"] {
		t.Fatalf("on disk: %v, want cold only", got)
	}
}

// TestVectorMemoryChange: a new placement of a dense vector (PATCH
// memory, or on_disk) makes the optimizer rebuild sealed segments that
// keep it otherwise: cold maps it from a file, cached brings it back to
// the heap; searches answer alike throughout.
func TestVectorMemoryChange(t *testing.T) {
	c, _ := openCollection(t, `{"vectors":{"v":{"size":4,"distance":"Dot"}},"optimizers_config":{"indexing_threshold":1,"default_segment_number":1}}`)
	var pts []ops.PointStruct
	for i := range 200 {
		f := float32(i)
		pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"v": {f, 1, 2, 3}}})
	}
	upsert(t, c, pts...)
	// sealed reports the placement of v in the sealed segments ("" while
	// the optimizer has work, or there is none).
	sealed := func() string {
		if c.firstShard().Optimizing() {
			return ""
		}
		out := ""
		for _, seg := range c.Telemetry().Shards[0].Local.Segments {
			if !seg.Info.IsAppendable {
				out += fmt.Sprintf("[%v]", seg.Info.Memory["v"].OnDisk)
			}
		}
		return out
	}
	testkit.WaitFor(t, "a sealed segment on the heap", 30*time.Second, func() bool { return sealed() == "[false]" })
	q := ops.SearchRequest{Using: "v", Vector: []float32{1, 0, 0, 0}, Limit: 5}
	before := fmt.Sprint(must(c.Search(bg, q)))
	for _, c2 := range []struct{ patch, want string }{
		{`{"vectors":{"v":{"memory":"cold"}}}`, "[true]"},
		{`{"vectors":{"v":{"memory":"cached","on_disk":true}}}`, "[false]"},
		{`{"vectors":{"v":{"memory":"cold","on_disk":false}}}`, "[true]"},
	} {
		var req UpdateRequest
		if err := point.DecodeJSON([]byte(c2.patch), &req); err != nil {
			t.Fatal(err)
		}
		cur, _ := c.Config()
		next, err := req.Apply(cur)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SetConfig(next); err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, c2.patch, 30*time.Second, func() bool { return sealed() == c2.want })
		if got := fmt.Sprint(must(c.Search(bg, q))); got != before {
			t.Fatalf("after %s: %s, want %s", c2.patch, got, before)
		}
	}
}
