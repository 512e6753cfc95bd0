package rest_test

import (
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/testkit"
)

// The turbo tests follow Qdrant's tests/openapi/test_turbo4.py: vectors
// come back decoded, so checks against what was written are by cosine
// similarity and length ratio, while re-reads of the same stored codes
// must match exactly.

const turboDim = 64

func uniform(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.Float64()*2 - 1)
	}
	return v
}

func cosineSim(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

func l2(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func namedOf(t *testing.T, r record) map[string][]float32 {
	t.Helper()
	var named map[string][]float32
	decode(t, r.Vector, &named)
	return named
}

// TestTurbo4Collection: a collection of turbo4 vectors (Cosine, Dot and
// Euclid) echoes its datatype, returns every vector decoded near what was
// written and the same on every read (point GET and scroll alike), keeps
// an untouched named vector bit for bit across an update of another,
// hides a deleted named vector from its searches only, and searches in
// the metric's order.
func TestTurbo4Collection(t *testing.T) {
	s := newServer(t, rest.Options{})
	names := map[string]string{"image": "Cosine", "audio": "Dot", "text": "Euclid"}
	vectors := map[string]any{}
	for name, dist := range names {
		vectors[name] = map[string]any{"size": turboDim, "distance": dist, "datatype": "turbo4"}
	}
	s.createCollection("t4", map[string]any{"vectors": vectors})
	info, _ := s.info("t4")
	for name := range names {
		if dt := configPart(t, info, "params", "vectors", name, "datatype"); dt != "turbo4" {
			t.Fatalf("%s datatype echoed as %v", name, dt)
		}
	}

	r := rand.New(rand.NewPCG(42, 1))
	orig := map[int]map[string][]float32{}
	var pts []pointIn
	for id := 1; id <= 50; id++ {
		v := map[string][]float32{}
		for name := range names {
			v[name] = uniform(r, turboDim)
		}
		orig[id] = v
		pts = append(pts, pointIn{ID: id, Vector: v})
	}
	s.upsert("t4", pts...)

	got := namedOf(t, s.get("t4", 10))
	for name := range names {
		v := got[name]
		if len(v) != turboDim || !slices.ContainsFunc(v, func(x float32) bool { return x != float32(int(x)) }) {
			t.Fatalf("%s: %v", name, v)
		}
		if c := cosineSim(v, orig[10][name]); c < 0.9 {
			t.Fatalf("%s: cosine %v to what was written", name, c)
		}
	}
	if again := namedOf(t, s.get("t4", 10)); !slices.Equal(again["audio"], got["audio"]) {
		t.Fatal("two reads of one vector differ")
	}
	var scrolled struct {
		Points []record `json:"points"`
	}
	s.ok(http.MethodPost, collPath("t4", "/points/scroll"), map[string]any{"limit": 50, "with_vector": true}, &scrolled)
	for _, p := range scrolled.Points {
		var id int
		decode(t, p.ID, &id)
		if id == 10 && !slices.Equal(namedOf(t, p)["text"], got["text"]) {
			t.Fatal("scroll and GET read different vectors")
		}
		for name, v := range namedOf(t, p) {
			if c := cosineSim(v, orig[id][name]); c < 0.9 {
				t.Fatalf("scroll %d %s: cosine %v", id, name, c)
			}
		}
	}

	// Partial update: only audio changes, the others stay bit for bit.
	before := namedOf(t, s.get("t4", 2))
	newAudio := uniform(r, turboDim)
	s.write(http.MethodPut, collPath("t4", "/points/vectors"), map[string]any{"points": []any{map[string]any{"id": 2, "vector": map[string]any{"audio": newAudio}}}})
	after := namedOf(t, s.get("t4", 2))
	if c := cosineSim(after["audio"], newAudio); c < 0.9 {
		t.Fatalf("updated audio: cosine %v", c)
	}
	if ratio := l2(after["audio"]) / l2(newAudio); ratio < 0.8 || ratio > 1.25 {
		t.Fatalf("updated audio: length ratio %v", ratio)
	}
	for _, name := range []string{"image", "text"} {
		if !slices.Equal(after[name], before[name]) {
			t.Fatalf("%s changed by an update of audio", name)
		}
	}

	// Searches order by the metric: descending for similarities, ascending
	// for Euclid.
	q := uniform(rand.New(rand.NewPCG(123, 1)), turboDim)
	for name, dist := range names {
		hits := s.query("t4", map[string]any{"query": q, "using": name, "limit": 10})
		if len(hits) != 10 {
			t.Fatalf("%s: %d hits", name, len(hits))
		}
		for i := 1; i < len(hits); i++ {
			if (dist == "Euclid") != (*hits[i].Score >= *hits[i-1].Score) && *hits[i].Score != *hits[i-1].Score {
				t.Fatalf("%s: scores out of order: %v then %v", name, *hits[i-1].Score, *hits[i].Score)
			}
		}
	}

	// Deleting one named vector hides the point from that vector's
	// searches only.
	s.write(http.MethodPost, collPath("t4", "/points/vectors/delete"), map[string]any{"points": []int{3}, "vector": []string{"audio"}})
	if _, ok := namedOf(t, s.get("t4", 3))["audio"]; ok {
		t.Fatal("deleted vector still read")
	}
	for name, want := range map[string]bool{"audio": false, "image": true} {
		hits := s.query("t4", map[string]any{"query": orig[3][name], "using": name, "limit": 50})
		found := slices.ContainsFunc(hits, func(h record) bool { return string(h.ID) == "3" })
		if found != want {
			t.Fatalf("%s search finds point 3: %v", name, found)
		}
	}
}

// TestTurbo4EdgeVectors: a zero vector comes back as exact zeros, huge,
// tiny and outlier-dominated vectors keep direction and length, and a
// dimension of 63 (rotation blocks 32+16+8+4+2+1, codes padded) reads back
// exactly 63 values.
func TestTurbo4EdgeVectors(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("edge", map[string]any{"vectors": map[string]any{"size": turboDim, "distance": "Dot", "datatype": "turbo4"}})
	r := rand.New(rand.NewPCG(52, 1))
	scale := func(v []float32, k float32) []float32 {
		for i := range v {
			v[i] *= k
		}
		return v
	}
	outlier := uniform(r, turboDim)
	outlier[0] = 1e6
	vecs := map[int][]float32{
		1: make([]float32, turboDim), 2: slices.Repeat([]float32{0.5}, turboDim),
		3: scale(uniform(r, turboDim), 1e30), 4: scale(uniform(r, turboDim), 1e-30), 5: outlier,
	}
	for id, v := range vecs {
		s.upsert("edge", pointIn{ID: id, Vector: v})
	}
	for id, v := range vecs {
		got := vectorOf(t, s.get("edge", id))
		if len(got) != turboDim {
			t.Fatalf("point %d: %d values", id, len(got))
		}
		if id == 1 {
			if !slices.Equal(got, v) {
				t.Fatalf("zero vector read back as %v", got)
			}
			continue
		}
		if c, ratio := cosineSim(got, v), l2(got)/l2(v); c < 0.9 || ratio < 0.8 || ratio > 1.25 {
			t.Fatalf("point %d: cosine %v, length ratio %v", id, c, ratio)
		}
	}
	for _, h := range s.query("edge", map[string]any{"query": uniform(r, turboDim), "limit": 5}) {
		if math.IsNaN(*h.Score) || math.IsInf(*h.Score, 0) {
			t.Fatalf("score %v", *h.Score)
		}
	}

	s.createCollection("odd", map[string]any{"vectors": map[string]any{"size": 63, "distance": "Cosine", "datatype": "turbo4"}})
	v := uniform(r, 63)
	s.upsert("odd", pointIn{ID: 3, Vector: v})
	if got := vectorOf(t, s.get("odd", 3)); len(got) != 63 || cosineSim(got, v) < 0.9 {
		t.Fatalf("dimension 63: %d values, cosine %v", len(got), cosineSim(got, v))
	}
}

// TestTurboQuantizationConfig: quantization_config.turbo at collection and
// vector level is stored and echoed as sent (bits, memory, the deprecated
// always_ram), PATCH sets it, and values outside TurboQuantBitSize and
// Memory are serde's untagged-enum format error.
func TestTurboQuantizationConfig(t *testing.T) {
	s := newServer(t, rest.Options{})
	vec := map[string]any{"size": 8, "distance": "Cosine"}
	for _, bad := range []map[string]any{{"bits": "bits3"}, {"bits": 4}, {"memory": "hot"}, {"always_ram": "yes"}} {
		s.fail(http.MethodPut, "/collections/tq", map[string]any{"vectors": vec, "quantization_config": map[string]any{"turbo": bad}},
			http.StatusBadRequest, "Format error in JSON body: quantization_config: data did not match any variant of untagged enum QuantizationConfig")
	}
	s.createCollection("tq", map[string]any{
		"vectors": map[string]any{
			"a": vec,
			"b": map[string]any{"size": 8, "distance": "Dot", "datatype": "turbo4", "quantization_config": map[string]any{"turbo": map[string]any{"bits": "bits2", "always_ram": true}}},
		},
		"quantization_config": map[string]any{"turbo": map[string]any{"bits": "bits1_5", "memory": "pinned"}},
	})
	info, _ := s.info("tq")
	assertJSON(t, "quantization_config", configPart(t, info, "quantization_config"), map[string]any{"turbo": map[string]any{"bits": "bits1_5", "memory": "pinned"}})
	assertJSON(t, "vector b", configPart(t, info, "params", "vectors", "b", "quantization_config"), map[string]any{"turbo": map[string]any{"bits": "bits2", "always_ram": true}})
	var ok bool
	s.ok(http.MethodPatch, "/collections/tq", map[string]any{"quantization_config": map[string]any{"turbo": map[string]any{}}}, &ok)
	info, _ = s.info("tq")
	assertJSON(t, "patched", configPart(t, info, "quantization_config"), map[string]any{"turbo": map[string]any{}})
	s.fail(http.MethodPatch, "/collections/tq", map[string]any{"vectors": map[string]any{"b": map[string]any{"quantization_config": map[string]any{"turbo": map[string]any{"bits": "bits8"}}}}},
		http.StatusBadRequest, "Format error in JSON body: vectors.b.quantization_config: data did not match any variant of untagged enum QuantizationConfig")
}

// TestTurboQuantizedSearch: once the optimizer has indexed a collection
// with turbo quantization, 4-bit codes score searches without rescoring
// (Qdrant's default), 2-bit ones are rescored by default, explicit
// rescoring gives exact scores, and the turbo4 datatype under turbo
// quantization rescores with its own codes.
func TestTurboQuantizedSearch(t *testing.T) {
	rng := seededRand(t)
	s := newServer(t, rest.Options{})
	const n, dim = 300, 32
	s.createCollection("tqs", map[string]any{
		"vectors": map[string]any{
			"four": map[string]any{"size": dim, "distance": "Cosine", "quantization_config": map[string]any{"turbo": map[string]any{}}},
			"two":  map[string]any{"size": dim, "distance": "Euclid", "quantization_config": map[string]any{"turbo": map[string]any{"bits": "bits2"}}},
			"t4":   map[string]any{"size": dim, "distance": "Dot", "datatype": "turbo4", "quantization_config": map[string]any{"turbo": map[string]any{"bits": "bits1"}}},
		},
		"optimizers_config": map[string]any{"indexing_threshold": 1, "default_segment_number": 1},
	})
	var pts []pointIn
	for i := range n {
		pts = append(pts, pointIn{ID: i, Vector: map[string]any{"four": randVector(rng, dim), "two": randVector(rng, dim), "t4": randVector(rng, dim)}})
	}
	s.upsert("tqs", pts...)
	q := randVector(rng, dim)
	search := func(using string, params map[string]any) []record {
		return s.query("tqs", map[string]any{"query": q, "using": using, "limit": 5, "params": params})
	}
	exact := map[string][]record{}
	for _, name := range []string{"four", "two", "t4"} {
		exact[name] = search(name, map[string]any{"exact": true})
	}
	same := func(a, b []record) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if string(a[i].ID) != string(b[i].ID) || *a[i].Score != *b[i].Score {
				return false
			}
		}
		return true
	}
	testkit.WaitFor(t, "searches use the turbo codes", 20*time.Second, func() bool {
		info, _ := s.info("tqs")
		return info.IndexedVectorsCount != nil && *info.IndexedVectorsCount == 3*n && !same(search("four", map[string]any{"hnsw_ef": 64}), exact["four"])
	})
	approx := search("four", map[string]any{"hnsw_ef": 64})
	for i, h := range approx {
		if math.Abs(*h.Score-*exact["four"][i].Score) > 0.1 {
			t.Fatalf("4-bit score %v far from exact %v", *h.Score, *exact["four"][i].Score)
		}
	}
	for name, params := range map[string]map[string]any{
		"four": {"hnsw_ef": 300, "quantization": map[string]any{"rescore": true, "oversampling": 4}},
		"two":  {"hnsw_ef": 300, "quantization": map[string]any{"oversampling": 10}}, // rescored by default
		"t4":   {"hnsw_ef": 300, "quantization": map[string]any{"oversampling": 30}}, // 1 bit over 32 dimensions is coarse
	} {
		if got := search(name, params); !same(got, exact[name]) {
			t.Fatalf("%s rescored: %v, exact %v", name, ids(got), ids(exact[name]))
		}
	}
}

// TestTurbo4RebuildKeepsVectors is Qdrant's test_turbo4_optimizer_rebuild_
// preserves_vectors: the optimizer's rebuild of a segment (here turned on
// by a PATCH of the indexing threshold) moves turbo4 vectors as their
// codes, so they read back bit for bit, and the indexed segment still
// finds a point by its original vector.
func TestTurbo4RebuildKeepsVectors(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("rb", map[string]any{"vectors": map[string]any{"size": turboDim, "distance": "Dot", "datatype": "turbo4"}})
	r := rand.New(rand.NewPCG(61, 1))
	var pts []pointIn
	orig := map[int][]float32{}
	for id := 1; id <= 100; id++ {
		orig[id] = uniform(r, turboDim)
		pts = append(pts, pointIn{ID: id, Vector: orig[id]})
	}
	s.upsert("rb", pts...)
	before := map[int][]float32{}
	for id := range orig {
		before[id] = vectorOf(t, s.get("rb", id))
	}
	var ok bool
	s.ok(http.MethodPatch, "/collections/rb", map[string]any{"optimizers_config": map[string]any{"indexing_threshold": 1, "default_segment_number": 1}}, &ok)
	testkit.WaitFor(t, "the segment to be rebuilt with an index", 20*time.Second, func() bool {
		info, _ := s.info("rb")
		return info.IndexedVectorsCount != nil && *info.IndexedVectorsCount == 100
	})
	for id, v := range before {
		if got := vectorOf(t, s.get("rb", id)); !slices.Equal(got, v) {
			t.Fatalf("point %d changed by the rebuild", id)
		}
	}
	if hits := s.query("rb", map[string]any{"query": orig[42], "limit": 1}); len(hits) != 1 || string(hits[0].ID) != "42" {
		t.Fatalf("search by point 42's vector: %+v", hits)
	}
}

// TestTurbo4Multivector is Qdrant's test_turbo4_multivector: a turbo4
// multivector echoes its datatype and comparator, a multivector query over
// it answers in max_sim order, and a point reads back its sub-vectors,
// each near what was written.
func TestTurbo4Multivector(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("mv", map[string]any{"vectors": map[string]any{"multi": map[string]any{
		"size": turboDim, "distance": "Cosine", "datatype": "turbo4", "multivector_config": map[string]any{"comparator": "max_sim"}}}})
	info, _ := s.info("mv")
	if dt := configPart(t, info, "params", "vectors", "multi", "datatype"); dt != "turbo4" {
		t.Fatalf("datatype echoed as %v", dt)
	}
	if cmp := configPart(t, info, "params", "vectors", "multi", "multivector_config", "comparator"); cmp != "max_sim" {
		t.Fatalf("comparator echoed as %v", cmp)
	}
	r := rand.New(rand.NewPCG(7, 1))
	orig := map[int][][]float32{}
	var pts []pointIn
	for id := 1; id <= 20; id++ {
		orig[id] = [][]float32{uniform(r, turboDim), uniform(r, turboDim), uniform(r, turboDim)}
		pts = append(pts, pointIn{ID: id, Vector: map[string]any{"multi": orig[id]}})
	}
	s.upsert("mv", pts...)
	hits := s.query("mv", map[string]any{"query": [][]float32{uniform(r, turboDim), uniform(r, turboDim)}, "using": "multi", "limit": 10})
	if len(hits) != 10 {
		t.Fatalf("%d hits", len(hits))
	}
	for i := 1; i < len(hits); i++ {
		if *hits[i].Score > *hits[i-1].Score {
			t.Fatalf("scores out of order: %v then %v", *hits[i-1].Score, *hits[i].Score)
		}
	}
	var got map[string][][]float32
	decode(t, s.get("mv", 1).Vector, &got)
	if len(got["multi"]) != 3 {
		t.Fatalf("read back %d sub-vectors", len(got["multi"]))
	}
	for j, sub := range got["multi"] {
		if len(sub) != turboDim || cosineSim(sub, orig[1][j]) < 0.9 {
			t.Fatalf("sub-vector %d: %d values, cosine %v", j, len(sub), cosineSim(sub, orig[1][j]))
		}
	}
}
