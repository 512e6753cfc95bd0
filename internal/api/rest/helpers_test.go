package rest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/node"
	"github.com/shoaldb/shoal/internal/openapitest"
)

// testVersion is the Shoal version the test servers report.
const testVersion = "0.0.0-test"

// testDefaults mirror Qdrant's storage.* defaults (config/config.yaml).
func testDefaults() collection.Defaults {
	indexing := uint64(10000)
	return collection.Defaults{
		Hnsw:       collection.HnswConfig{M: 16, EfConstruct: 100, FullScanThreshold: 10000},
		Optimizers: collection.OptimizersConfig{DeletedThreshold: 0.2, VacuumMinVectorNumber: 1000, IndexingThreshold: &indexing, FlushIntervalSec: 5},
		Wal:        collection.WalConfig{WalCapacityMB: 32, WalSegmentsAhead: 0, WalRetainClosed: 1},
	}
}

// server is one node behind the REST handler on a loopback port, with a
// client that checks every response against Qdrant's OpenAPI contract.
type server struct {
	t      *testing.T
	dir    string
	base   string
	client *http.Client
	node   *node.Node
	http   *httptest.Server
	closed bool
}

// newServer starts a server on a fresh temporary directory.
func newServer(t *testing.T, opts rest.Options) *server {
	t.Helper()
	return openServer(t, t.TempDir(), opts)
}

// openServer starts a server on dir; t.Cleanup stops it unless the test
// already did with stop.
func openServer(t *testing.T, dir string, opts rest.Options) *server {
	t.Helper()
	return openServerNode(t, dir, nil, opts)
}

// newServerNode starts a server on a fresh directory whose node options
// tune changes first.
func newServerNode(t *testing.T, tune func(*node.Options), opts rest.Options) *server {
	t.Helper()
	return openServerNode(t, t.TempDir(), tune, opts)
}

func openServerNode(t *testing.T, dir string, tune func(*node.Options), opts rest.Options) *server {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	nopts := node.Options{StoragePath: dir, Defaults: testDefaults(), Logger: quiet}
	if tune != nil {
		tune(&nopts)
	}
	n, err := node.Open(nopts)
	if err != nil {
		t.Fatalf("open node: %v", err)
	}
	if opts.Version == "" {
		opts.Version = testVersion
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	hs := httptest.NewServer(rest.New(n, opts))
	s := &server{t: t, dir: dir, base: hs.URL, node: n, http: hs}
	s.client = openapitest.Load(t).Client(t, &http.Client{Timeout: 30 * time.Second})
	t.Cleanup(s.stop)
	return s
}

// on returns a view of s that reports to t, for use inside subtests.
func (s *server) on(t *testing.T) *server {
	c := &server{t: t, dir: s.dir, base: s.base, node: s.node, http: s.http, closed: true}
	c.client = openapitest.Load(t).Client(t, &http.Client{Timeout: 30 * time.Second})
	return c
}

// unchecked returns a view of s whose client does not check responses
// against the spec: for routes Qdrant serves that its document does not
// list (cluster metadata keys), and for requests that no route serves.
func (s *server) unchecked() *server {
	c := *s
	c.closed = true
	c.client = &http.Client{Timeout: 30 * time.Second}
	return &c
}

// stop closes the HTTP server and then the node; it is idempotent.
func (s *server) stop() {
	if s.closed {
		return
	}
	s.closed = true
	s.http.Close()
	if err := s.node.Close(); err != nil {
		s.t.Errorf("close node: %v", err)
	}
}

// reply is a response with its envelope decoded.
type reply struct {
	code   int
	header http.Header
	body   []byte
	env    envelope
}

// envelope is Qdrant's response wrapper; Status is "ok" or {"error": ...}.
type envelope struct {
	Result json.RawMessage `json:"result"`
	Status json.RawMessage `json:"status"`
	Time   *float64        `json:"time"`
}

// do sends a request. body is nil (no body), a string or []byte (sent as
// is) or any other value (sent as its JSON).
func (s *server) do(method, path string, body any) reply {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.t.Fatalf("encode request body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	if restShards > 1 {
		rd = withShards(method, path, rd)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatalf("build %s %s: %v", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := reply{code: resp.StatusCode, header: resp.Header, body: data}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &r.env); err != nil {
			s.t.Fatalf("%s %s: decode envelope: %v\n%s", method, path, err, data)
		}
	}
	return r
}

// ok sends a request that must succeed and decodes its result into out
// (when out is not nil). It checks the whole envelope.
func (s *server) ok(method, path string, body, out any) json.RawMessage {
	s.t.Helper()
	r := s.do(method, path, body)
	if r.code != http.StatusOK {
		s.t.Fatalf("%s %s: status %d, want 200: %s", method, path, r.code, r.body)
	}
	if string(r.env.Status) != `"ok"` {
		s.t.Fatalf("%s %s: envelope status %s, want \"ok\": %s", method, path, r.env.Status, r.body)
	}
	if r.env.Time == nil || *r.env.Time < 0 || math.IsNaN(*r.env.Time) {
		s.t.Fatalf("%s %s: envelope time missing or negative: %s", method, path, r.body)
	}
	if r.env.Result == nil {
		s.t.Fatalf("%s %s: envelope has no result: %s", method, path, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.env.Result, out); err != nil {
			s.t.Fatalf("%s %s: decode result into %T: %v\n%s", method, path, out, err, r.env.Result)
		}
	}
	return r.env.Result
}

// errorText returns the error message of a failed reply, checking the
// error envelope's shape on the way.
func (s *server) errorText(method, path string, r reply) string {
	s.t.Helper()
	var st struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(r.env.Status, &st); err != nil || st.Error == nil {
		s.t.Fatalf("%s %s: status %d without an error envelope: %s", method, path, r.code, r.body)
	}
	if r.env.Time == nil || *r.env.Time < 0 {
		s.t.Errorf("%s %s: error envelope time missing or negative: %s", method, path, r.body)
	}
	if len(r.env.Result) > 0 && string(r.env.Result) != "null" {
		s.t.Errorf("%s %s: error envelope carries a result: %s", method, path, r.body)
	}
	return *st.Error
}

// fail sends a request that must fail with code and exactly msg.
func (s *server) fail(method, path string, body any, code int, msg string) {
	s.t.Helper()
	r := s.do(method, path, body)
	if r.code != code {
		s.t.Errorf("%s %s: status %d, want %d: %s", method, path, r.code, code, r.body)
		return
	}
	if got := s.errorText(method, path, r); got != msg {
		s.t.Errorf("%s %s: error\n got: %q\nwant: %q", method, path, got, msg)
	}
}

// failPrefix sends a request that must fail with code and a message that
// starts with prefix; it returns the message.
func (s *server) failPrefix(method, path string, body any, code int, prefix string) string {
	s.t.Helper()
	r := s.do(method, path, body)
	if r.code != code {
		s.t.Errorf("%s %s: status %d, want %d: %s", method, path, r.code, code, r.body)
		return ""
	}
	got := s.errorText(method, path, r)
	if !strings.HasPrefix(got, prefix) {
		s.t.Errorf("%s %s: error %q, want prefix %q", method, path, got, prefix)
	}
	return got
}

// createCollection creates a collection and checks the answer is true.
func (s *server) createCollection(name string, body any) {
	s.t.Helper()
	var created bool
	s.ok(http.MethodPut, "/collections/"+name, body, &created)
	if !created {
		s.t.Fatalf("create %s: result false", name)
	}
}

// updateResult is Qdrant's UpdateResult.
type updateResult struct {
	OperationID *uint64 `json:"operation_id"`
	Status      string  `json:"status"`
}

// write sends an update with ?wait=true and checks it completed.
func (s *server) write(method, path string, body any) updateResult {
	s.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var res updateResult
	s.ok(method, path+sep+"wait=true", body, &res)
	if res.Status != "completed" || res.OperationID == nil {
		s.t.Fatalf("%s %s: update result %+v, want completed with an operation_id", method, path, res)
	}
	return res
}

// upsert writes points (in the list form) and waits.
func (s *server) upsert(coll string, points ...pointIn) updateResult {
	s.t.Helper()
	return s.write(http.MethodPut, "/collections/"+coll+"/points", map[string]any{"points": points})
}

// count returns the exact number of points matching filter (nil: all).
func (s *server) count(coll string, filter any) int {
	s.t.Helper()
	body := map[string]any{"exact": true}
	if filter != nil {
		body["filter"] = filter
	}
	var res struct {
		Count *int `json:"count"`
	}
	s.ok(http.MethodPost, "/collections/"+coll+"/points/count", body, &res)
	if res.Count == nil {
		s.t.Fatalf("count %s: no count in result", coll)
	}
	return *res.Count
}

// pointIn is a PointStruct as a client sends it.
type pointIn struct {
	ID      any            `json:"id"`
	Vector  any            `json:"vector"`
	Payload map[string]any `json:"payload,omitempty"`
}

// record is a Record or ScoredPoint as the server writes it. Payload and
// Vector stay raw so tests can tell absent from null from empty.
type record struct {
	ID      json.RawMessage `json:"id"`
	Version *uint64         `json:"version"`
	Score   *float64        `json:"score"`
	Payload json.RawMessage `json:"payload"`
	Vector  json.RawMessage `json:"vector"`
}

// idText renders an id as its JSON text: 7 or "uuid".
func idText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ids returns the JSON texts of the records' ids.
func ids(recs []record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.ID)
	}
	return out
}

// payloadOf decodes a record's payload; nil when absent or null.
func payloadOf(t *testing.T, r record) map[string]any {
	t.Helper()
	if len(r.Payload) == 0 || string(r.Payload) == "null" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.Payload, &m); err != nil {
		t.Fatalf("payload of %s: %v", r.ID, err)
	}
	return m
}

// decode unmarshals JSON or fails the test.
func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, b)
	}
}

// jsonEqual reports whether two values have the same JSON meaning.
func jsonEqual(t *testing.T, got, want any) bool {
	t.Helper()
	norm := func(v any) any {
		var b []byte
		switch x := v.(type) {
		case json.RawMessage:
			b = x
		case []byte:
			b = x
		default:
			var err error
			if b, err = json.Marshal(v); err != nil {
				t.Fatalf("encode %v: %v", v, err)
			}
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		return out
	}
	g, w := norm(got), norm(want)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return bytes.Equal(gb, wb)
}

// assertJSON fails when got and want differ as JSON.
func assertJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	if !jsonEqual(t, got, want) {
		gb, _ := json.Marshal(got)
		if raw, ok := got.(json.RawMessage); ok {
			gb = raw
		}
		wb, _ := json.Marshal(want)
		t.Errorf("%s:\n got: %s\nwant: %s", what, gb, wb)
	}
}

// seededRand returns a generator with a fixed seed, logged; set
// SHOAL_TEST_SEED to try another one.
func seededRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(20261125)
	if v := os.Getenv("SHOAL_TEST_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SHOAL_TEST_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("random seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// randVector returns dim components in [-1, 1).
func randVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.Float64()*2 - 1)
	}
	return v
}

// collPath joins a collection name with a suffix.
func collPath(name, suffix string) string {
	return fmt.Sprintf("/collections/%s%s", name, suffix)
}

// restShards is the shard_number do adds to a collection's create request
// that names none: 1 (none added), or 4 while TestRESTFourShards reruns
// REST tests on collections of four shards.
var restShards = 1

// withShards adds shard_number to the body of PUT /collections/{name} when
// it is a JSON object without one; any other request goes as it is.
func withShards(method, path string, rd io.Reader) io.Reader {
	rest, ok := strings.CutPrefix(path, "/collections/")
	if method != http.MethodPut || !ok || strings.ContainsAny(rest, "/?") || rd == nil {
		return rd
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		panic(err)
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil || m == nil || m["shard_number"] != nil {
		return bytes.NewReader(data)
	}
	m["shard_number"] = json.RawMessage(strconv.Itoa(restShards))
	out, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return bytes.NewReader(out)
}
