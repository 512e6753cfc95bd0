//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawReply is an answer read byte for byte.
type rawReply struct {
	status int
	header http.Header
	body   []byte
}

// raw sends body as it is (no JSON encoding, so that invalid text reaches
// the server) and reads the whole answer.
func (s *server) raw(t testing.TB, method, path string, body []byte) rawReply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.baseURL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s with %.200s: %v (server running: %v)", method, path, body, err, s.running())
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return rawReply{status: resp.StatusCode, header: resp.Header, body: data}
}

// errorText is the status.error of an error envelope, or "".
func (r rawReply) errorText() string {
	var env struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
	}
	_ = json.Unmarshal(r.body, &env)
	return env.Status.Error
}

// vmHWM is the peak resident set size of the server process, in bytes.
func (s *server) vmHWM(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read the server's /proc status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// badInputServer starts a server with two collections: "plain" (small,
// scanned exactly) and "indexed" (HNSW graph and scalar quantization), each
// with keyword and integer indexes, and returns their stored state.
func badInputServer(t *testing.T) (*server, map[string]map[uint64]*pointState) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 0xbad1))
	s := newServer(t)
	s.start()
	want := map[string]map[uint64]*pointState{}
	for _, c := range []struct {
		name string
		n    int
		body map[string]any
	}{
		{"plain", 40, map[string]any{"vectors": map[string]any{"size": 8, "distance": "Dot"}}},
		{"indexed", 300, map[string]any{
			"vectors":             map[string]any{"size": 8, "distance": "Cosine"},
			"hnsw_config":         map[string]any{"m": 8, "ef_construct": 32},
			"optimizers_config":   map[string]any{"indexing_threshold": 1, "default_segment_number": 1},
			"quantization_config": map[string]any{"scalar": map[string]any{"type": "int8", "always_ram": true}},
		}},
	} {
		s.must("PUT", "/collections/"+c.name, c.body, nil)
		for _, idx := range []map[string]any{
			{"field_name": "k", "field_schema": "keyword"},
			{"field_name": "n", "field_schema": "integer"},
		} {
			s.must("PUT", "/collections/"+c.name+"/index?wait=true", idx, nil)
		}
		state := map[uint64]*pointState{}
		pts := make([]map[string]any, c.n)
		for i := range pts {
			v := make([]float32, 8)
			for j := range v {
				v[j] = float32(r.NormFloat64())
			}
			p := map[string]any{"k": string(rune('a' + i%5)), "n": i}
			pts[i] = map[string]any{"id": i, "vector": v, "payload": p}
			state[uint64(i)] = &pointState{Payload: canonical(p)}
		}
		s.must("PUT", "/collections/"+c.name+"/points?wait=true", map[string]any{"points": pts}, nil)
		// Stored vectors are what the server keeps (normalised for Cosine).
		for id, p := range scrollAll(t, s, c.name) {
			state[id].Vector = p.Vector
		}
		want[c.name] = state
	}
	// The huge sizes must also reach the graph and the quantized codes.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var info struct {
			Status  string `json:"status"`
			Indexed int    `json:"indexed_vectors_count"`
		}
		s.must("GET", "/collections/indexed", nil, &info)
		if info.Status == "green" && info.Indexed == 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("collection never indexed: %+v", info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s, want
}

// hugeCounts are sizes that are valid usize values in Qdrant: each must be
// answered with what exists.
var hugeCounts = []string{
	"4611686018427387904",  // 2^62
	"2147483648",           // 2^31
	"4294967296",           // 2^32
	"1000000000000",        // 10^12
	"9223372036854775807",  // 2^63-1
	"18446744073709551615", // 2^64-1
}

// TestHugeSizesAnsweredWithWhatExists sends every size a read request
// carries, at values up to 2^64-1, to each read route of a real process:
// each is answered (200 with at most what exists, or Qdrant's 400/422), the
// process stays up with a modest peak RSS, and no stored point changes.
func TestHugeSizesAnsweredWithWhatExists(t *testing.T) {
	s, want := badInputServer(t)
	type tcase struct {
		path string
		body string
		code int
		hits int    // with 200: the number of results, -1 to skip the check
		text string // with an error: a prefix of status.error
	}
	var cases []tcase
	for _, coll := range []string{"plain", "indexed"} {
		n := len(want[coll])
		p := "/collections/" + coll + "/points"
		vec := "[1,2,3,4,5,6,7,8]"
		for _, v := range hugeCounts {
			cases = append(cases,
				tcase{p + "/search", `{"vector":` + vec + `,"limit":` + v + `}`, 200, n, ""},
				tcase{p + "/search", `{"vector":` + vec + `,"limit":3,"offset":` + v + `}`, 200, 0, ""},
				tcase{p + "/search", `{"vector":` + vec + `,"limit":` + v + `,"offset":` + v + `}`, 200, 0, ""},
				tcase{p + "/search", `{"vector":` + vec + `,"limit":3,"params":{"hnsw_ef":` + v + `}}`, 200, 3, ""},
				tcase{p + "/search", `{"vector":` + vec + `,"limit":` + v + `,"params":{"quantization":{"oversampling":1e300,"rescore":true}}}`, 200, n, ""},
				tcase{p + "/search/batch", `{"searches":[{"vector":` + vec + `,"limit":` + v + `},{"vector":` + vec + `,"limit":2,"offset":` + v + `}]}`, 200, -1, ""},
				tcase{p + "/query", `{"query":` + vec + `,"limit":` + v + `}`, 200, n, ""},
				tcase{p + "/query", `{"query":` + vec + `,"limit":3,"offset":` + v + `}`, 200, 0, ""},
				tcase{p + "/query", `{"query":7,"limit":` + v + `,"offset":` + v + `}`, 200, 0, ""},
				tcase{p + "/query", `{"query":7,"limit":` + v + `,"params":{"hnsw_ef":` + v + `,"quantization":{"oversampling":1e300}}}`, 200, n - 1, ""},
				tcase{p + "/query", `{"limit":` + v + `}`, 200, n, ""},
				tcase{p + "/query", `{"limit":` + v + `,"offset":` + v + `}`, 200, 0, ""},
				tcase{p + "/query/batch", `{"searches":[{"query":` + vec + `,"limit":` + v + `},{"limit":` + v + `,"offset":` + v + `}]}`, 200, -1, ""},
				tcase{p + "/scroll", `{"limit":` + v + `}`, 200, n, ""},
				tcase{p + "/scroll", `{"limit":` + v + `,"order_by":"n"}`, 200, n, ""},
				tcase{p + "/scroll", `{"limit":` + v + `,"filter":{"must":[{"key":"k","match":{"value":"a"}}]}}`, 200, n / 5, ""},
				tcase{"/collections/" + coll + "/facet", `{"key":"k","limit":` + v + `}`, 200, 5, ""},
			)
		}
		// Not a usize: refused as serde refuses them, before anything runs.
		for _, v := range []string{"18446744073709551616", "1e12", "-1", "1.5", `"10"`, "1e400"} {
			cases = append(cases,
				tcase{p + "/search", `{"vector":` + vec + `,"limit":` + v + `}`, 400, 0, "Format error in JSON body: "},
				tcase{p + "/search", `{"vector":` + vec + `,"limit":3,"offset":` + v + `}`, 400, 0, "Format error in JSON body: "},
				tcase{p + "/query", `{"query":` + vec + `,"limit":` + v + `}`, 400, 0, "Format error in JSON body: "},
				tcase{p + "/query", `{"limit":3,"params":{"hnsw_ef":` + v + `}}`, 400, 0, "Format error in JSON body: "},
				tcase{p + "/scroll", `{"limit":` + v + `}`, 400, 0, "Format error in JSON body: "},
				tcase{"/collections/" + coll + "/facet", `{"key":"k","limit":` + v + `}`, 400, 0, "Format error in JSON body: "},
			)
		}
		cases = append(cases,
			tcase{p + "/search", `{"vector":` + vec + `,"limit":1e12}`, 400, 0,
				"Format error in JSON body: invalid type: floating point `1000000000000.0`, expected usize"},
			tcase{p + "/query", `{"query":` + vec + `,"limit":18446744073709551616}`, 400, 0,
				"Format error in JSON body: invalid type: floating point `18446744073709552000.0`, expected usize"},
			tcase{p + "/scroll", `{"limit":-1}`, 400, 0, "Format error in JSON body: invalid value: integer `-1`, expected usize"},
			tcase{p + "/query", `{"limit":0}`, 422, 0, "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]"},
			tcase{p + "/scroll", `{"limit":0}`, 422, 0, "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]"},
			// A batch of many searches, each returning every point: its
			// results in all are bounded, within the bound it is answered.
			tcase{p + "/search/batch", `{"searches":[` + strings.Repeat(`{"vector":`+vec+`,"limit":1000000000000},`, 1<<18/n) + `{"vector":` + vec + `,"limit":1000000000000}]}`, 400, 0,
				"Bad request: the batch would return more than 262144 points in all"},
			tcase{p + "/query/batch", `{"searches":[` + strings.Repeat(`{"limit":1000000000000},`, 1<<18/n) + `{"limit":1000000000000}]}`, 400, 0,
				"Bad request: the batch would return more than 262144 points in all"},
			tcase{p + "/query/batch", `{"searches":[` + strings.Repeat(`{"limit":1000000000000},`, 1<<18/n-1) + `{"limit":1000000000000}]}`, 200, 1 << 18 / n, ""},
			// Retrieve: a long list of ids (most missing, many repeated).
			tcase{p, `{"ids":[` + strings.Repeat("1,18446744073709551615,", 50000) + `2]}`, 200, 2, ""},
			tcase{p, `{"ids":[1],"with_vector":[` + strings.Repeat(`"",`, 50000) + `""]}`, 200, 1, ""},
		)
	}
	for _, c := range cases {
		got := s.raw(t, "POST", c.path, []byte(c.body))
		if got.status != c.code {
			t.Errorf("POST %s %.300s: HTTP %d %.300s, want %d", c.path, c.body, got.status, got.body, c.code)
			continue
		}
		if c.code != 200 {
			if msg := got.errorText(); !strings.HasPrefix(msg, c.text) {
				t.Errorf("POST %s %.300s: error %q, want it to start with %q", c.path, c.body, msg, c.text)
			}
			continue
		}
		if c.hits >= 0 {
			if n := countHits(t, got.body); n != c.hits {
				t.Errorf("POST %s %.300s: %d results, want %d", c.path, c.body, n, c.hits)
			}
		}
	}
	if !s.running() || !s.answers() {
		t.Fatal("the server is gone after the huge sizes")
	}
	for coll, w := range want {
		checkState(t, s, coll, w)
	}
	limit := int64(500 << 20)
	if raceEnabled {
		limit = 2 << 30 // the race detector's shadow memory
	}
	if hwm := s.vmHWM(t); hwm > limit {
		t.Errorf("peak RSS of the server %d MiB, want below %d MiB", hwm>>20, limit>>20)
	} else {
		t.Logf("peak RSS of the server: %d MiB", hwm>>20)
	}
}

// countHits counts the results of a read answer: a list, or an object
// with points or hits.
func countHits(t *testing.T, body []byte) int {
	t.Helper()
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("answer %.300s: %v", body, err)
	}
	var list []json.RawMessage
	if json.Unmarshal(env.Result, &list) == nil {
		return len(list)
	}
	var obj struct {
		Points []json.RawMessage `json:"points"`
		Hits   []json.RawMessage `json:"hits"`
	}
	if err := json.Unmarshal(env.Result, &obj); err != nil {
		t.Fatalf("result %.300s: %v", env.Result, err)
	}
	return len(obj.Points) + len(obj.Hits)
}

// TestBadTextRefused: text that Go's decoder would silently replace by
// U+FFFD (invalid UTF-8, lone surrogate escapes) and numbers beyond float64
// are refused with serde_json's text and position, on every kind of route,
// and nothing stored changes; valid surrogate pairs and a literal U+FFFD
// are stored exactly.
func TestBadTextRefused(t *testing.T) {
	s := newServer(t)
	s.start()
	s.must("PUT", "/collections/txt", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}}, nil)
	want := map[uint64]*pointState{
		1: {Vector: []float32{1, 2}, Payload: map[string]any{"s": "kept"}},
	}
	s.must("PUT", "/collections/txt/points?wait=true", map[string]any{"points": []any{
		map[string]any{"id": 1, "vector": []float32{1, 2}, "payload": map[string]any{"s": "kept"}},
	}}, nil)

	// at returns serde_json's " at line L column C" for the byte offset
	// just after the first occurrence of mark in body: lines counted from
	// 1, columns in bytes since the last newline.
	at := func(body, mark string) string {
		i := strings.Index(body, mark)
		if i < 0 {
			t.Fatalf("no %q in %q", mark, body)
		}
		end := i + len(mark)
		lineStart := strings.LastIndexByte(body[:end], '\n') + 1
		return fmt.Sprintf(" at line %d column %d", 1+strings.Count(body[:lineStart], "\n"), end-lineStart)
	}
	upsert := func(payload string) string {
		return `{"points":[{"id":1,"vector":[5,6],"payload":` + payload + `}]}`
	}
	type tcase struct {
		name, method, path, body, msg string
	}
	var cases []tcase
	add := func(name, method, path, body, msg, mark string) {
		cases = append(cases, tcase{name, method, path, body, "Format error in JSON body: " + msg + at(body, mark)})
	}
	b := upsert(`{"s":"a` + "\xff" + `b"}`)
	add("invalid UTF-8 in a value", "PUT", "/collections/txt/points?wait=true", b, "invalid unicode code point", "b\"")
	b = upsert(`{"s` + "\xc3\x28" + `":1}`)
	add("invalid UTF-8 in a key", "PUT", "/collections/txt/points?wait=true", b, "invalid unicode code point", "(\"")
	b = upsert(`{"s":"x\ud800"}`)
	add("lone high surrogate", "PUT", "/collections/txt/points?wait=true", b, "unexpected end of hex escape", `\ud800"`)
	b = upsert(`{"s":"x\udc00y"}`)
	add("lone low surrogate", "PUT", "/collections/txt/points?wait=true", b, "lone leading surrogate in hex escape", `\udc00`)
	b = upsert(`{"s":"\ud800\u0041"}`)
	add("high surrogate then a letter", "PUT", "/collections/txt/points?wait=true", b, "lone leading surrogate in hex escape", `\u0041`)
	b = upsert(`{"s":"\uD800\n"}`)
	add("high surrogate then another escape", "PUT", "/collections/txt/points?wait=true", b, "unexpected end of hex escape", `\uD800\n`)
	b = upsert(`{"n":1e400}`)
	add("number beyond float64", "PUT", "/collections/txt/points?wait=true", b, "number out of range", "1e400")
	b = upsert(`{"n":-` + strings.Repeat("9", 400) + `}`)
	add("integer beyond float64", "PUT", "/collections/txt/points?wait=true", b, "number out of range", strings.Repeat("9", 400))
	b = `{"payload":{"s":"\udfff"},"points":[1]}`
	add("set_payload", "POST", "/collections/txt/points/payload?wait=true", b, "lone leading surrogate in hex escape", `\udfff`)
	b = `{"payload":{"s":"` + "\xed\xa0\x80" + `"},"points":[1]}`
	add("overwrite_payload with an encoded surrogate", "PUT", "/collections/txt/points/payload?wait=true", b, "invalid unicode code point", "\x80\"")
	b = `{"operations":[{"set_payload":{"payload":{"s":"\ud800"},"points":[1]}}]}`
	add("batch", "POST", "/collections/txt/points/batch?wait=true", b, "unexpected end of hex escape", `\ud800"`)
	b = `{"vector":[1,1],"limit":3,"filter":{"must":[{"key":"s","match":{"value":"` + "\xff" + `"}}]}}`
	add("search filter", "POST", "/collections/txt/points/search", b, "invalid unicode code point", "\xff\"")
	b = `{"filter":{"must":[{"key":"s\udc01","match":{"value":"kept"}}]}}`
	add("count filter key", "POST", "/collections/txt/points/count", b, "lone leading surrogate in hex escape", `\udc01`)
	b = `{"vectors":{"size":2,"distance":"Dot"},"metadata":{"m":"\ud800"}}`
	add("collection metadata", "PUT", "/collections/txt2", b, "unexpected end of hex escape", `\ud800"`)
	b = "{\n  \"points\": [{\"id\": 1, \"vector\": [5, 6],\n  \"payload\": {\"s\": \"\\udc00\"}}]}"
	add("position on a later line", "PUT", "/collections/txt/points?wait=true", b, "lone leading surrogate in hex escape", `\udc00`)
	if m := at(b, `\udc00`); m != " at line 3 column 26" {
		t.Fatalf("at: %q", m)
	}

	for _, c := range cases {
		got := s.raw(t, c.method, c.path, []byte(c.body))
		if got.status != http.StatusBadRequest || got.errorText() != c.msg {
			t.Errorf("%s: HTTP %d %q, want 400 %q", c.name, got.status, got.errorText(), c.msg)
		}
	}
	if got := s.raw(t, "GET", "/collections/txt2", nil); got.status != http.StatusNotFound {
		t.Errorf("collection with bad metadata: GET answers %d, want 404", got.status)
	}
	checkState(t, s, "txt", want)

	// What is valid is stored exactly.
	got := s.raw(t, "PUT", "/collections/txt/points?wait=true",
		[]byte(upsert(`{"s":"\ud83d\ude00 `+"\xef\xbf\xbd"+` \uFFFD é"}`)))
	if got.status != http.StatusOK {
		t.Fatalf("valid text refused: %d %s", got.status, got.body)
	}
	want[1] = &pointState{Vector: []float32{5, 6}, Payload: map[string]any{"s": "\U0001F600 \uFFFD \uFFFD é"}}
	checkState(t, s, "txt", want)
}

// TestScoreOverflow: vectors of finite float32 components whose scores
// overflow. Qdrant accepts them and answers 200 with "score": null (its
// JSON writer turns non-finite floats into null); the answer must never be
// an empty 200. A Cosine collection normalises them without overflowing.
func TestScoreOverflow(t *testing.T) {
	s := newServer(t)
	s.start()
	type hit struct {
		ID    uint64   `json:"id"`
		Score *float64 `json:"score"`
	}
	for _, c := range []struct {
		distance string
		scores   map[uint64]*float64 // nil: null
		stored   []float32           // the vector of point 1 as stored
	}{
		{"Dot", map[uint64]*float64{1: nil, 2: ptr(2)}, []float32{3e38, 3e38}},
		{"Euclid", map[uint64]*float64{1: nil, 2: ptr(0)}, []float32{3e38, 3e38}},
		{"Manhattan", map[uint64]*float64{1: nil, 2: ptr(0)}, []float32{3e38, 3e38}},
		{"Cosine", map[uint64]*float64{1: ptr(1), 2: ptr(1)}, []float32{0.70710677, 0.70710677}},
	} {
		coll := strings.ToLower(c.distance)
		s.must("PUT", "/collections/"+coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": c.distance}}, nil)
		got := s.raw(t, "PUT", "/collections/"+coll+"/points?wait=true",
			[]byte(`{"points":[{"id":1,"vector":[3e38,3e38]},{"id":2,"vector":[1,1]}]}`))
		if got.status != http.StatusOK {
			t.Fatalf("%s: upsert: %d %s", c.distance, got.status, got.body)
		}
		for _, path := range []string{"/points/search", "/points/query"} {
			body := `{"vector":[1,1],"limit":5}`
			if path == "/points/query" {
				body = `{"query":[1,1],"limit":5}`
			}
			got := s.raw(t, "POST", "/collections/"+coll+path, []byte(body))
			if got.status != http.StatusOK || len(got.body) == 0 || got.header.Get("Content-Length") == "0" {
				t.Fatalf("%s %s: HTTP %d with %d bytes (Content-Length %q): %s", c.distance, path, got.status, len(got.body), got.header.Get("Content-Length"), got.body)
			}
			var env struct {
				Result json.RawMessage `json:"result"`
			}
			if err := json.Unmarshal(got.body, &env); err != nil {
				t.Fatalf("%s %s: %v in %s", c.distance, path, err, got.body)
			}
			var hits []hit
			if path == "/points/query" {
				var q struct {
					Points []hit `json:"points"`
				}
				err := json.Unmarshal(env.Result, &q)
				hits = q.Points
				if err != nil {
					t.Fatalf("%s %s: %v", c.distance, path, err)
				}
			} else if err := json.Unmarshal(env.Result, &hits); err != nil {
				t.Fatalf("%s %s: %v", c.distance, path, err)
			}
			if len(hits) != 2 {
				t.Fatalf("%s %s: %s, want 2 hits", c.distance, path, env.Result)
			}
			for _, h := range hits {
				w := c.scores[h.ID]
				switch {
				case w == nil && h.Score != nil:
					t.Errorf("%s %s: point %d score %v, want null", c.distance, path, h.ID, *h.Score)
				case w != nil && (h.Score == nil || *h.Score < *w-1e-5 || *h.Score > *w+1e-5):
					t.Errorf("%s %s: point %d score %s, want %v", c.distance, path, h.ID, env.Result, *w)
				}
			}
		}
		var rec struct {
			Vector []float32 `json:"vector"`
		}
		s.must("GET", "/collections/"+coll+"/points/1", nil, &rec)
		if fmt.Sprint(rec.Vector) != fmt.Sprint(c.stored) {
			t.Errorf("%s: point 1 stored as %v, want %v", c.distance, rec.Vector, c.stored)
		}
	}
}

func ptr(f float64) *float64 { return &f }

// TestMultivectorConfigInput: a multivector_config with Qdrant's one
// comparator creates the collection (null: a plain vector); an unknown
// comparator or none is serde's error, and nothing is created.
func TestMultivectorConfigInput(t *testing.T) {
	s := newServer(t)
	s.start()
	for _, c := range []struct {
		name, body string
		code       int
		prefix     string
	}{
		{"mv1", `{"vectors":{"size":2,"distance":"Dot","multivector_config":{"comparator":"max_sim"}}}`, 200, ""},
		{"mv2", `{"vectors":{"a":{"size":2,"distance":"Dot"},"b":{"size":2,"distance":"Dot","multivector_config":{"comparator":"max_sim"}}}}`, 200, ""},
		{"mv3", `{"vectors":{"size":2,"distance":"Dot","multivector_config":null}}`, 200, ""},
		{"mv4", `{"vectors":{"size":2,"distance":"Dot","multivector_config":{"comparator":"min_sim"}}}`, 400, "Format error in JSON body: "},
		{"mv5", `{"vectors":{"size":2,"distance":"Dot","multivector_config":{}}}`, 400, "Format error in JSON body: "},
	} {
		got := s.raw(t, "PUT", "/collections/"+c.name, []byte(c.body))
		if got.status != c.code || (c.code != 200 && !strings.HasPrefix(got.errorText(), c.prefix)) {
			t.Errorf("%s: HTTP %d %s, want %d %q", c.name, got.status, got.body, c.code, c.prefix)
		}
		exists := s.raw(t, "GET", "/collections/"+c.name, nil).status == http.StatusOK
		if exists != (c.code == 200) {
			t.Errorf("%s: collection exists %v after HTTP %d", c.name, exists, got.status)
		}
	}
}
