//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
)

const idxCollection = "indexed"

// idxSchemas are the payload indexes of TestIndexesSurviveRestart, one of
// every type, some with params.
var idxSchemas = []struct {
	field  string
	schema any
}{
	{"city", "keyword"},
	{"tenant", map[string]any{"type": "keyword", "is_tenant": true}},
	{"n", "integer"},
	{"n_lookup", map[string]any{"type": "integer", "lookup": true, "range": false}},
	{"price", "float"},
	{"flag", "bool"},
	{"loc", "geo"},
	{"ts", "datetime"},
	{"uid", "uuid"},
	{"desc", map[string]any{"type": "text", "tokenizer": "word", "lowercase": true, "min_token_len": 2, "stopwords": "english", "phrase_matching": true}},
	{"meta.tier", "keyword"},
}

var idxUUIDs = []string{"a64a8051-3ee7-4881-8bc6-691d25c70d54", "7cb46fb3-e348-4762-93ad-7fb983d2b85e", "2b016c50-282c-4d80-b784-cefead291180"}

func idxPayload(r *rand.Rand, pad int) map[string]any {
	cities := []string{"Berlin", "London", "Moscow", "Paris"}
	words := []string{"quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"}
	desc := make([]string, 2+r.IntN(4))
	for i := range desc {
		desc[i] = words[r.IntN(len(words))]
	}
	p := map[string]any{
		"city":     cities[r.IntN(len(cities))],
		"tenant":   fmt.Sprintf("t%d", r.IntN(3)),
		"n":        r.IntN(50),
		"n_lookup": r.IntN(5),
		"price":    float64(r.IntN(10000)) / 100,
		"flag":     r.IntN(2) == 0,
		"loc":      map[string]any{"lon": float64(r.IntN(360)) - 180, "lat": float64(r.IntN(180)) - 90},
		"ts":       fmt.Sprintf("2024-%02d-%02dT%02d:00:00+02:00", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24)),
		"uid":      idxUUIDs[r.IntN(len(idxUUIDs))],
		"desc":     strings.Join(desc, " "),
		"meta":     map[string]any{"tier": []string{"gold", "silver"}[r.IntN(2)]},
	}
	if r.IntN(5) == 0 {
		p["city"] = []any{cities[r.IntN(len(cities))], cities[r.IntN(len(cities))]}
	}
	if r.IntN(7) == 0 {
		delete(p, "n")
	}
	if pad > 0 {
		p["pad"] = strings.Repeat("x", pad)
	}
	return p
}

// idxQueries are the reads whose answers must survive a restart.
func idxQueries() []struct {
	name, path string
	body       any
} {
	f := func(conds ...any) map[string]any { return map[string]any{"must": conds} }
	m := func(key string, v any) map[string]any {
		return map[string]any{"key": key, "match": map[string]any{"value": v}}
	}
	r := func(key string, rg map[string]any) map[string]any { return map[string]any{"key": key, "range": rg} }
	filters := []map[string]any{
		f(m("city", "Berlin")),
		f(map[string]any{"key": "city", "match": map[string]any{"any": []string{"London", "Paris"}}}),
		f(m("tenant", "t1"), m("flag", true)),
		f(m("n", 7)),
		f(m("n_lookup", 3)),
		f(r("n", map[string]any{"gte": 10, "lt": 20})),
		f(r("price", map[string]any{"gt": 50})),
		f(r("ts", map[string]any{"gte": "2024-06-01T00:00:00Z", "lt": "2024-09-01T00:00:00+02:00"})),
		f(map[string]any{"key": "loc", "geo_radius": map[string]any{"center": map[string]any{"lon": 0, "lat": 0}, "radius": 5000000}}),
		f(map[string]any{"key": "loc", "geo_bounding_box": map[string]any{"top_left": map[string]any{"lon": -50, "lat": 50}, "bottom_right": map[string]any{"lon": 50, "lat": -50}}}),
		f(m("uid", idxUUIDs[1])),
		f(map[string]any{"key": "desc", "match": map[string]any{"text": "Quick FOX"}}),
		f(map[string]any{"key": "desc", "match": map[string]any{"phrase": "lazy dog"}}),
		f(m("meta.tier", "gold")),
		{"must_not": []any{m("city", "Moscow")}, "should": []any{m("flag", false), r("n", map[string]any{"lt": 5})}},
	}
	var out []struct {
		name, path string
		body       any
	}
	add := func(name, path string, body any) {
		out = append(out, struct {
			name, path string
			body       any
		}{name, path, body})
	}
	for i, flt := range filters {
		add(fmt.Sprintf("count %d", i), "/points/count", map[string]any{"filter": flt, "exact": true})
		add(fmt.Sprintf("scroll %d", i), "/points/scroll", map[string]any{"filter": flt, "limit": 1000, "with_payload": false})
	}
	add("facet city", "/facet", map[string]any{"key": "city", "limit": 10})
	add("facet uid", "/facet", map[string]any{"key": "uid", "filter": f(m("flag", true))})
	add("order_by n", "/points/scroll", map[string]any{"order_by": map[string]any{"key": "n", "direction": "desc"}, "limit": 1000, "with_payload": false})
	add("order_by ts", "/points/scroll", map[string]any{"order_by": map[string]any{"key": "ts", "start_from": "2024-03-01"}, "limit": 1000, "with_payload": false})
	add("order_by price", "/points/scroll", map[string]any{"order_by": "price", "limit": 1000, "with_payload": false})
	return out
}

// idxSnapshot reads payload_schema and the answers of idxQueries, as
// canonical JSON texts.
func idxSnapshot(t *testing.T, s *server) map[string]string {
	t.Helper()
	out := map[string]string{}
	var info struct {
		PayloadSchema json.RawMessage `json:"payload_schema"`
	}
	s.must("GET", "/collections/"+idxCollection, nil, &info)
	out["payload_schema"] = canonicalJSON(t, info.PayloadSchema)
	for _, q := range idxQueries() {
		var res json.RawMessage
		s.must("POST", "/collections/"+idxCollection+q.path, q.body, &res)
		out[q.name] = canonicalJSON(t, res)
	}
	return out
}

func canonicalJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	b, err := json.Marshal(v) // maps come out with sorted keys
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func compareSnapshots(t *testing.T, when string, got, want map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s: %s changed\n got: %.600s\nwant: %.600s", when, k, got[k], want[k])
		}
	}
}

// checkIndexLoadLog checks the log of the latest start: the shard loaded
// its persisted indexes (want of them) and rebuilt none.
func checkIndexLoadLog(t *testing.T, s *server, when string, want int) {
	t.Helper()
	if lines := s.logLines("rebuilt from the points"); len(lines) > 0 {
		t.Errorf("%s: persisted indexes were rebuilt:\n%s", when, strings.Join(lines, "\n"))
	}
	lines := s.logLines(`msg="payload indexes loaded"`)
	if len(lines) != 1 {
		t.Errorf("%s: %d \"payload indexes loaded\" lines, want 1:\n%s", when, len(lines), strings.Join(lines, "\n"))
		return
	}
	if !strings.Contains(lines[0], fmt.Sprintf("indexes=%d ", want)) || !strings.Contains(lines[0], "rebuilt=0") {
		t.Errorf("%s: %s, want indexes=%d rebuilt=0", when, lines[0], want)
	}
	t.Logf("%s: %s", when, lines[0])
}

// TestIndexesSurviveRestart creates payload indexes of every type, writes
// points, and restarts the real binary after SIGTERM and after SIGKILL
// (once with the index operations still in the WAL, once after a
// checkpoint that holds them): payload_schema and filtered reads are
// unchanged, and persisted indexes are loaded, not rebuilt.
func TestIndexesSurviveRestart(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 0x1dc5))

	s := newServer(t)
	s.env["QDRANT__LOG_LEVEL"] = "debug" // checkpoints are logged at debug
	s.start()
	s.must("PUT", "/collections/"+idxCollection, map[string]any{
		"vectors":    map[string]any{"size": 4, "distance": "Dot"},
		"wal_config": map[string]any{"wal_capacity_mb": 1},
	}, nil)

	nextID := 1
	upsert := func(n, pad int) {
		t.Helper()
		pts := make([]map[string]any, n)
		for i := range pts {
			pts[i] = map[string]any{"id": nextID, "vector": []float32{r.Float32(), r.Float32(), r.Float32(), r.Float32()}, "payload": idxPayload(r, pad)}
			nextID++
		}
		s.must("PUT", "/collections/"+idxCollection+"/points?wait=true", map[string]any{"points": pts}, nil)
	}
	// Half of the indexes before the points, half after.
	for i, ix := range idxSchemas {
		if i%2 == 0 {
			s.must("PUT", "/collections/"+idxCollection+"/index?wait=true", map[string]any{"field_name": ix.field, "field_schema": ix.schema}, nil)
		}
	}
	for range 3 {
		upsert(100, 0)
	}
	for i, ix := range idxSchemas {
		if i%2 == 1 {
			s.must("PUT", "/collections/"+idxCollection+"/index?wait=true", map[string]any{"field_name": ix.field, "field_schema": ix.schema}, nil)
		}
	}
	s.must("POST", "/collections/"+idxCollection+"/points/payload?wait=true", map[string]any{"points": []int{1, 2, 3}, "payload": map[string]any{"city": "Rome", "n": 99}}, nil)
	s.must("POST", "/collections/"+idxCollection+"/points/delete?wait=true", map[string]any{"points": []int{4, 5}}, nil)
	nIndexes := len(idxSchemas)
	before := idxSnapshot(t, s)
	if !strings.Contains(before["payload_schema"], `"data_type":"geo"`) || strings.Count(before["payload_schema"], "data_type") != nIndexes {
		t.Fatalf("payload_schema before the restarts: %s", before["payload_schema"])
	}

	t.Run("SIGTERM", func(t *testing.T) {
		if code := s.stop(); code != 0 {
			t.Fatalf("exit code %d after SIGTERM", code)
		}
		s.start()
		checkIndexLoadLog(t, s, "after SIGTERM", nIndexes)
		compareSnapshots(t, "after SIGTERM", idxSnapshot(t, s), before)
	})

	t.Run("SIGKILL with index operations in the WAL", func(t *testing.T) {
		// After the graceful restart the checkpoint holds every index;
		// these operations, an index dropped and one created among them,
		// exist only in the WAL when the process is killed.
		upsert(50, 0)
		s.must("DELETE", "/collections/"+idxCollection+"/index/tenant?wait=true", nil, nil)
		s.must("PUT", "/collections/"+idxCollection+"/index?wait=true", map[string]any{"field_name": "extra", "field_schema": "keyword"}, nil)
		s.must("POST", "/collections/"+idxCollection+"/points/payload?wait=true", map[string]any{"filter": map[string]any{"must": []any{map[string]any{"key": "city", "match": map[string]any{"value": "Paris"}}}}, "payload": map[string]any{"extra": "x", "flag": true}}, nil)
		want := idxSnapshot(t, s)
		s.kill()
		s.start()
		checkIndexLoadLog(t, s, "after SIGKILL", nIndexes)
		compareSnapshots(t, "after SIGKILL", idxSnapshot(t, s), want)
		var info struct {
			PayloadSchema map[string]json.RawMessage `json:"payload_schema"`
		}
		s.must("GET", "/collections/"+idxCollection, nil, &info)
		if _, ok := info.PayloadSchema["tenant"]; ok {
			t.Errorf("the index dropped before the kill is back")
		}
		if _, ok := info.PayloadSchema["extra"]; !ok {
			t.Errorf("the index created before the kill is missing")
		}
		before = want
	})

	t.Run("SIGKILL after a checkpoint", func(t *testing.T) {
		// Write until the worker writes a checkpoint (1 MB of WAL), then a
		// little more, and kill.
		marker := len(s.logLines("checkpoint written"))
		deadline := time.Now().Add(30 * time.Second)
		for len(s.logLines("checkpoint written")) == marker {
			if time.Now().After(deadline) {
				t.Fatal("no checkpoint after 30s of writes")
			}
			upsert(100, 1000)
		}
		upsert(20, 0)
		s.must("POST", "/collections/"+idxCollection+"/points/delete?wait=true", map[string]any{"filter": map[string]any{"must": []any{map[string]any{"key": "n", "range": map[string]any{"lt": 3}}}}}, nil)
		want := idxSnapshot(t, s)
		s.kill()
		s.start()
		checkIndexLoadLog(t, s, "after SIGKILL past a checkpoint", nIndexes)
		compareSnapshots(t, "after SIGKILL past a checkpoint", idxSnapshot(t, s), want)
	})
}
