package rest_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// TestTelemetryDetailsLevels: what each ?details_level= shows, as Qdrant's
// telemetry collects it (every answer validated against TelemetryData).
func TestTelemetryDetailsLevels(t *testing.T) {
	s := newServer(t, rest.Options{InstanceID: "tel"})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("c", pointIn{ID: 1, Vector: vec2}, pointIn{ID: 2, Vector: vec2}, pointIn{ID: 3, Vector: vec2})
	type doc = map[string]json.RawMessage
	get := func(level int) doc {
		var d doc
		path := "/telemetry"
		if level >= 0 {
			path += "?details_level=" + strconv.Itoa(level)
		}
		s.ok(http.MethodGet, path, nil, &d)
		return d
	}
	sub := func(raw json.RawMessage) doc {
		var d doc
		if len(raw) > 0 && string(raw) != "null" {
			decode(t, raw, &d)
		}
		return d
	}
	for _, level := range []int{-1, 0, 1, 2, 3, 4, 9} {
		d := get(level)
		eff := max(level, 0)
		app, colls, cl := sub(d["app"]), sub(d["collections"]), sub(d["cluster"])
		if _, ok := app["features"]; ok != (eff >= 1) {
			t.Errorf("level %d: app.features present %v", level, ok)
		}
		if _, ok := app["system"]; ok != (eff >= 1) {
			t.Errorf("level %d: app.system present %v", level, ok)
		}
		if _, ok := d["memory"]; ok != (eff >= 1) {
			t.Errorf("level %d: memory present %v", level, ok)
		}
		if string(colls["number_of_collections"]) != "1" || string(cl["enabled"]) != "false" || d["requests"] == nil || d["quota"] == nil {
			t.Errorf("level %d: %s", level, mustJSON(t, d))
		}
		var list []doc
		if raw, ok := colls["collections"]; ok {
			decode(t, raw, &list)
		}
		switch {
		case eff == 0:
			if list != nil {
				t.Errorf("level 0 lists collections: %v", list)
			}
		case eff == 1:
			if len(list) != 1 || string(list[0]["vectors"]) != "3" || string(list[0]["optimizers_status"]) != `"ok"` || list[0]["params"] == nil {
				t.Errorf("level 1: %v", list)
			}
		default:
			if len(list) != 1 || string(list[0]["id"]) != `"c"` || list[0]["config"] == nil {
				t.Fatalf("level %d: %v", level, list)
			}
			var shards []struct {
				Local map[string]json.RawMessage `json:"local"`
			}
			if raw, ok := list[0]["shards"]; ok {
				decode(t, raw, &shards)
			}
			if (len(shards) == 1) != (eff >= 3) {
				t.Fatalf("level %d: shards %v", level, shards)
			}
			if eff >= 3 {
				segs := string(shards[0].Local["segments"])
				if (segs != "" && segs != "null") != (eff >= 4) {
					t.Errorf("level %d: segments %s", level, segs)
				}
				if string(shards[0].Local["num_points"]) != "3" {
					t.Errorf("level %d: num_points %s", level, shards[0].Local["num_points"])
				}
			}
		}
	}
	s.fail(http.MethodGet, "/telemetry?details_level=x", nil, http.StatusBadRequest,
		`Query deserialize error: details_level: invalid value "x", expected an unsigned integer`)
}

// TestTelemetryRequests: the requests section counts responses per route
// (Qdrant's names for them) and status, with durations; unknown routes
// count as "METHOD unknown"; ?per_collection=true splits them by
// collection.
func TestTelemetryRequests(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("r", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	for range 3 {
		s.ok(http.MethodGet, "/collections/r", nil, nil)
	}
	s.fail(http.MethodGet, "/collections/nope", nil, http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")
	s.unchecked().do(http.MethodGet, "/no/such/route", nil)
	s.do(http.MethodGet, "/", nil)
	type stats struct {
		Count       int      `json:"count"`
		AvgMicros   *float64 `json:"avg_duration_micros"`
		MinMicros   *float64 `json:"min_duration_micros"`
		MaxMicros   *float64 `json:"max_duration_micros"`
		TotalMicros *uint64  `json:"total_duration_micros"`
		Last        string   `json:"last_responded"`
	}
	var tel struct {
		Requests struct {
			REST struct {
				Responses     map[string]map[string]stats            `json:"responses"`
				PerCollection map[string]map[string]map[string]stats `json:"per_collection_responses"`
			} `json:"rest"`
			GRPC struct {
				Responses map[string]any `json:"responses"`
			} `json:"grpc"`
		} `json:"requests"`
	}
	s.ok(http.MethodGet, "/telemetry", nil, &tel)
	rest := tel.Requests.REST.Responses
	got := rest["GET /collections/{name}"]
	if got["200"].Count != 3 || got["404"].Count != 1 {
		t.Fatalf("GET /collections/{name}: %+v", got)
	}
	ok := got["200"]
	if ok.AvgMicros == nil || ok.MinMicros == nil || ok.MaxMicros == nil || *ok.MinMicros > *ok.MaxMicros || ok.TotalMicros == nil || ok.Last == "" {
		t.Errorf("durations %+v", ok)
	}
	if rest["GET unknown"]["404"].Count != 1 || rest["GET /"]["200"].Count != 1 || rest["PUT /collections/{name}"]["200"].Count != 1 {
		t.Errorf("routes %v", mustJSON(t, rest))
	}
	if tel.Requests.REST.PerCollection != nil || tel.Requests.GRPC.Responses == nil {
		t.Errorf("per collection without asking, or no grpc: %+v", tel.Requests)
	}
	s.ok(http.MethodGet, "/telemetry?per_collection=true", nil, &tel)
	if n := tel.Requests.REST.PerCollection["r"]["GET /collections/{name}"]["200"].Count; n != 3 {
		t.Errorf("per collection r: %d, want 3 (%v)", n, mustJSON(t, tel.Requests.REST.PerCollection))
	}
}

// TestTelemetryAnonymize: ?anonymize=true hides the collection's name as
// Qdrant does (its hash) and drops the peer id; counts under five digits
// stay as they are.
func TestTelemetryAnonymize(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("test_collection", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("test_collection", pointIn{ID: 1, Vector: vec2})
	var tel struct {
		Collections struct {
			Collections []struct {
				ID     string `json:"id"`
				Shards []struct {
					Local struct {
						NumPoints        int            `json:"num_points"`
						NumVectorsByName map[string]int `json:"num_vectors_by_name"`
					} `json:"local"`
				} `json:"shards"`
			} `json:"collections"`
		} `json:"collections"`
	}
	s.ok(http.MethodGet, "/telemetry?details_level=3&anonymize=true", nil, &tel)
	c := tel.Collections.Collections[0]
	// Rust: "test_collection".hash(&mut DefaultHasher::new()).finish()
	if c.ID != "3676065581918989249" {
		t.Errorf("anonymized id %q", c.ID)
	}
	if l := c.Shards[0].Local; l.NumPoints != 1 || l.NumVectorsByName["3476900567878811119"] != 1 {
		t.Errorf("local shard %+v", l)
	}
}
