package openapitest

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

// collectionInfo is a GET /collections/{name} answer as Qdrant writes it,
// with the optional fields Qdrant sets to null left null.
const collectionInfo = `{
  "result": {
    "status": "green",
    "optimizer_status": "ok",
    "indexed_vectors_count": 0,
    "points_count": null,
    "segments_count": 2,
    "config": {
      "params": {
        "vectors": {"size": 4, "distance": "Dot"},
        "shard_number": 1,
        "replication_factor": 1,
        "write_consistency_factor": 1,
        "on_disk_payload": true
      },
      "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0, "on_disk": false},
      "optimizer_config": {
        "deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0,
        "max_segment_size": null, "memmap_threshold": null, "indexing_threshold": 20000,
        "flush_interval_sec": 5, "max_optimization_threads": null
      },
      "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
      "quantization_config": null,
      "strict_mode_config": {"enabled": false}
    },
    "payload_schema": {"city": {"data_type": "keyword", "points": 3}},
    "update_queue": {"length": 0}
  },
  "status": "ok",
  "time": 0.000123
}`

// edit returns collectionInfo with one fragment replaced; it fails loudly
// when the fragment is not there, so a case cannot pass by accident.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(collectionInfo, old) {
		t.Fatalf("collectionInfo has no %q", old)
	}
	return strings.Replace(collectionInfo, old, new, 1)
}

const scoredPoints = `[
  {"id": 4, "version": 0, "score": 1.362, "payload": null},
  {"id": "550e8400-e29b-41d4-a716-446655440000", "version": 3, "score": 0.5, "payload": {"city": "London"}, "vector": [0.1, 0.2]}
]`

func TestValidate(t *testing.T) {
	s := loadOrSkip(t)
	cases := []struct {
		name         string
		method, path string
		status       int
		body         string
		// want lists substrings of the error ("" for none); each names an
		// instance location and keyword the way ResponseError prints them.
		want []string
		is   error
	}{
		{name: "collection info", method: "GET", path: "/collections/test", status: 200, body: collectionInfo},
		{name: "collection info by template", method: "get", path: "/collections/{collection_name}", status: 200, body: collectionInfo},
		{
			name: "unknown collection status", method: "GET", path: "/collections/test", status: 200,
			body: edit(t, `"status": "green"`, `"status": "purple"`),
			want: []string{`at "/result/status": enum (#/components/schemas/CollectionStatus/enum)`, "'green'"},
		},
		{
			name: "missing config", method: "GET", path: "/collections/test", status: 200,
			body: edit(t, `"config": {`, `"konfig": {`),
			want: []string{`at "/result": required (#/components/schemas/CollectionInfo/required)`, "'config'"},
		},
		{
			name: "minimum still applies", method: "GET", path: "/collections/test", status: 200,
			body: edit(t, `"ef_construct": 100`, `"ef_construct": 3`),
			want: []string{`at "/result/config/hnsw_config/ef_construct": minimum`},
		},
		{
			name: "integer format range", method: "GET", path: "/collections/test", status: 200,
			body: edit(t, `"shard_number": 1`, `"shard_number": 4294967296`),
			want: []string{`at "/result/config/params/shard_number": format`, "uint32"},
		},
		{
			name: "nullable field with wrong type", method: "GET", path: "/collections/test", status: 200,
			body: edit(t, `"points_count": null`, `"points_count": "many"`),
			want: []string{`at "/result/points_count": type`},
		},
		{
			name: "optional object set to null", method: "GET", path: "/collections/test", status: 200,
			body: edit(t, `"update_queue": {"length": 0}`, `"update_queue": null`),
		},
		{
			name: "oneOf closed object", method: "GET", path: "/collections/test", status: 200,
			body: edit(t, `"optimizer_status": "ok"`, `"optimizer_status": {"error": "disk full", "code": 7}`),
			want: []string{`at "/result/optimizer_status": additionalProperties`},
		},
		{
			name: "usage null", method: "GET", path: "/collections/test", status: 200,
			body: `{"result": {"status":"green","optimizer_status":"ok","segments_count":0,"payload_schema":{},` +
				`"config":{"params":{},"hnsw_config":{"m":16,"ef_construct":100,"full_scan_threshold":10},` +
				`"optimizer_config":{"default_segment_number":0,"flush_interval_sec":5}}},"status":"ok","time":0,"usage":null}`,
		},
		{
			name: "not found", method: "GET", path: "/collections/x", status: 404,
			body: "{\"status\":{\"error\":\"Not found: Collection `x` doesn't exist!\"},\"time\":0.1}",
		},
		{
			name: "error with null result", method: "DELETE", path: "/collections/x", status: 500,
			body: `{"status":{"error":"Service internal error"},"result":null,"time":0.1}`,
		},
		{
			name: "error status as string", method: "GET", path: "/collections/x", status: 404,
			body: `{"status":"error","time":0.1}`,
			want: []string{`at "/status": type (#/components/schemas/ErrorResponse/properties/status/type)`},
		},
		{name: "create collection", method: "PUT", path: "/collections/test", status: 200, body: `{"result": true, "status":"ok","time":0.001}`},
		{
			name: "create collection non-bool", method: "PUT", path: "/collections/test", status: 200,
			body: `{"result": "yes", "status":"ok","time":0.001}`,
			want: []string{`at "/result": type`},
		},
		{name: "aliases", method: "POST", path: "/collections/aliases", status: 200, body: `{"result": true, "status":"ok","time":0.001}`},
		{name: "list collections", method: "GET", path: "/collections", status: 200, body: `{"result":{"collections":[{"name":"a"}]},"status":"ok","time":0}`},
		{
			name: "upsert with query string", method: "PUT", path: "/collections/x/points?wait=true", status: 200,
			body: `{"result":{"operation_id":0,"status":"completed"},"status":"ok","time":0.0002}`,
		},
		{
			name: "upsert unknown update status", method: "PUT", path: "/collections/x/points?wait=true", status: 200,
			body: `{"result":{"operation_id":0,"status":"done"},"status":"ok","time":0.0002}`,
			want: []string{`at "/result/status": enum`},
		},
		{name: "point by int id", method: "GET", path: "/collections/x/points/7", status: 200, body: `{"result":{"id":7,"payload":{"a":1},"vector":null},"status":"ok","time":0}`},
		{
			name: "point by uuid", method: "GET", path: "/collections/x/points/550e8400-e29b-41d4-a716-446655440000", status: 200,
			body: `{"result":{"id":"550e8400-e29b-41d4-a716-446655440000","payload":{},"vector":{"": [1,2], "sparse": {"indices":[1],"values":[0.5]}}},"status":"ok","time":0}`,
		},
		{
			name: "point id not a uuid", method: "GET", path: "/collections/x/points/7", status: 200,
			body: `{"result":{"id":"seven"},"status":"ok","time":0}`,
			want: []string{`at "/result/id": format`, `at "/result/id": type`},
		},
		{
			name: "point id negative", method: "GET", path: "/collections/x/points/7", status: 200,
			body: `{"result":{"id":-7},"status":"ok","time":0}`,
			want: []string{`at "/result/id"`},
		},
		{
			name: "scroll", method: "POST", path: "/collections/x/points/scroll", status: 200,
			body: `{"result":{"points":[{"id":1,"payload":{"city":"Berlin"}}],"next_page_offset":"550e8400-e29b-41d4-a716-446655440000"},"status":"ok","time":0}`,
		},
		{
			name: "scroll last page", method: "POST", path: "/collections/x/points/scroll", status: 200,
			body: `{"result":{"points":[],"next_page_offset":null},"status":"ok","time":0}`,
		},
		{name: "count", method: "POST", path: "/collections/x/points/count", status: 200, body: `{"result":{"count":3},"status":"ok","time":0}`},
		{name: "query", method: "POST", path: "/collections/x/points/query", status: 200, body: `{"result":{"points":` + scoredPoints + `},"status":"ok","time":0}`},
		{name: "legacy search", method: "POST", path: "/collections/x/points/search", status: 200, body: `{"result":` + scoredPoints + `,"status":"ok","time":0}`},
		{
			name: "legacy search missing score", method: "POST", path: "/collections/x/points/search", status: 200,
			body: `{"result":[{"id":1,"version":0}],"status":"ok","time":0}`,
			want: []string{`at "/result/0": required (#/components/schemas/ScoredPoint/required)`, "legacy route"},
		},
		{name: "legacy search batch", method: "POST", path: "/collections/x/points/search/batch", status: 200, body: `{"result":[` + scoredPoints + `,[]],"status":"ok","time":0}`},
		{
			name: "legacy search batch flat", method: "POST", path: "/collections/x/points/search/batch", status: 200,
			body: `{"result":` + scoredPoints + `,"status":"ok","time":0}`,
			want: []string{`at "/result/0": type`},
		},
		{name: "legacy recommend", method: "POST", path: "/collections/x/points/recommend", status: 200, body: `{"result":` + scoredPoints + `,"status":"ok","time":0}`},
		{name: "legacy search groups", method: "POST", path: "/collections/x/points/search/groups", status: 200, body: `{"result":{"groups":[{"id":"a","hits":` + scoredPoints + `}]},"status":"ok","time":0}`},
		{name: "legacy error", method: "POST", path: "/collections/x/points/search", status: 400, body: `{"status":{"error":"Wrong input: Vector dimension error"},"time":0}`},
		{name: "metrics is text", method: "GET", path: "/metrics", status: 200, body: "# HELP app_info information\n"},
		{name: "readyz 503 is text", method: "GET", path: "/readyz", status: 503, body: "some shards are not ready"},
		{name: "healthz 4XX without content", method: "GET", path: "/healthz", status: 403, body: ""},
		{name: "healthz 500 undeclared", method: "GET", path: "/healthz", status: 500, body: "", is: ErrUndeclaredStatus},
		{name: "snapshot download is binary", method: "GET", path: "/collections/x/snapshots/x-1.snapshot", status: 200, body: "\x00\x01"},
		{
			name: "snapshot accepted", method: "POST", path: "/collections/x/snapshots?wait=false", status: 202,
			body: `{"status":"accepted","time":0}`,
		},
		{
			name: "snapshot list", method: "GET", path: "/collections/x/snapshots", status: 200,
			body: `{"result":[{"name":"x-1.snapshot","creation_time":"2024-05-06T12:34:56","size":1024,"checksum":null}],"status":"ok","time":0}`,
		},
		{
			name: "snapshot time with zone is not partial", method: "GET", path: "/collections/x/snapshots", status: 200,
			body: `{"result":[{"name":"x-1.snapshot","creation_time":"yesterday","size":1024}],"status":"ok","time":0}`,
			want: []string{`at "/result/0/creation_time": format`},
		},
		{
			name: "empty body for json response", method: "GET", path: "/collections", status: 200, body: "",
			want: []string{`at "": json`, "empty body"},
		},
		{
			name: "text body for json response", method: "GET", path: "/collections/x", status: 404, body: "Not Found",
			want: []string{`json`, "not JSON"},
		},
		{name: "unknown path", method: "GET", path: "/nope", status: 200, body: `{}`, is: ErrUnknownRoute},
		{name: "unknown method", method: "POST", path: "/collections/x", status: 200, body: `{}`, is: ErrUnknownRoute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(tc.method, tc.path, tc.status, []byte(tc.body))
			switch {
			case tc.is != nil:
				if !errors.Is(err, tc.is) {
					t.Fatalf("Validate = %v, want %v", err, tc.is)
				}
			case len(tc.want) == 0:
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
			default:
				var re *ResponseError
				if !errors.As(err, &re) {
					t.Fatalf("Validate = %v, want a *ResponseError", err)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not mention %q:\n%v", w, err)
					}
				}
			}
		})
	}
}

func TestResponseErrorFields(t *testing.T) {
	s := loadOrSkip(t)
	err := s.Validate("GET", "/collections/test?x=1", 200, []byte(edit(t, `"status": "green"`, `"status": "purple"`)))
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("Validate = %v, want a *ResponseError", err)
	}
	if re.Template != "/collections/{collection_name}" || re.Response != "200" || re.Method != "GET" || re.Legacy {
		t.Errorf("error describes %+v", re)
	}
	want := Problem{
		InstanceLocation: "/result/status",
		Keyword:          "enum",
		SchemaLocation:   "#/components/schemas/CollectionStatus/enum",
	}
	if len(re.Problems) != 1 {
		t.Fatalf("problems = %+v, want one", re.Problems)
	}
	got := re.Problems[0]
	got.Message = ""
	if got != want {
		t.Errorf("problem = %+v, want %+v", got, want)
	}
}

// TestEveryResponseCompiles guards the conversion: every declared response
// schema and every component schema must compile.
func TestEveryResponseCompiles(t *testing.T) {
	s := loadOrSkip(t)
	n := 0
	for _, r := range s.routes {
		for _, op := range r.ops {
			for _, resp := range op.responses {
				if resp.schema == "" {
					continue
				}
				n++
				if _, err := s.schema(resp.schema); err != nil {
					t.Errorf("%s %s %s: %v", op.method, op.template, resp.key, err)
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d JSON responses found; is the document complete?", n)
	}
}

func TestCheck(t *testing.T) {
	s := loadOrSkip(t)
	rec := &recorder{TB: t}
	s.Check(rec, "PUT", "/collections/x", 200, []byte(`{"result":true,"status":"ok","time":0}`))
	if len(rec.errs) != 0 {
		t.Fatalf("valid body reported: %q", rec.errs)
	}
	s.Check(rec, "PUT", "/collections/x", 200, []byte(`{"result":1,"status":"ok","time":0}`))
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], `at "/result": type`) {
		t.Fatalf("reports %q, want one type error at /result", rec.errs)
	}
}

// TestConcurrentValidate runs first compiles and validations from many
// goroutines; run it with -race.
func TestConcurrentValidate(t *testing.T) {
	s := loadOrSkip(t)
	paths := []string{"/collections/a/points/count", "/collections/a/facet", "/collections/a/points/query/groups", "/cluster"}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := paths[i%len(paths)]
			method := "POST"
			if p == "/cluster" {
				method = "GET"
			}
			if err := s.Validate(method, p, 404, []byte(`{"status":{"error":"x"},"time":0}`)); err != nil {
				t.Error(err)
			}
			if err := s.Validate(method, p, 200, []byte(`{"result":[],"status":"ok","time":0}`)); err == nil {
				t.Errorf("%s: an array result validated", p)
			}
		}()
	}
	wg.Wait()
}
