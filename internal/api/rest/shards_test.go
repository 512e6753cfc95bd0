package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
)

// TestRESTFourShards reruns the important REST behaviours on collections
// of four shards (do adds shard_number: 4 to every create request that
// names none): points, payloads, vectors, filters, search, query, scroll,
// count, facet, order_by, indexes, strict mode, restart. Left out, as they
// describe one shard rather than the collection: operation ids (each
// shard numbers its own, as in Qdrant), the estimates of approximate
// counts and filtered write costs, per-segment telemetry and
// optimizations, deferred points, idf (per shard, as in Qdrant), and the
// error of an update some shards refused (TestShardedUpdateErrors).
func TestRESTFourShards(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Aliases", TestAliases},
		{"PointsBatchErrors", TestPointsBatchErrors},
		{"CreateCollectionDistances", TestCreateCollectionDistances},
		{"UpdateCollection", TestUpdateCollection},
		{"CollectionSurvivesRestart", TestCollectionSurvivesRestart},
		{"ConcurrentUpsertsAndSearches", TestConcurrentUpsertsAndSearches},
		{"ConditionalUpdate", TestConditionalUpdate},
		{"UpdateModes", TestUpdateModes},
		{"CollectionInfoWritesShapes", TestCollectionInfoWritesShapes},
		{"Facet", TestFacet},
		{"OrderBy", TestOrderBy},
		{"OrderByPaging", TestOrderByPaging},
		{"FilterConditions", TestFilterConditions},
		{"FullTextModes", TestFullTextModes},
		{"RandomFiltersCountMatchesScroll", TestRandomFiltersCountMatchesScroll},
		{"DatetimeFormatsWithAndWithoutIndex", TestDatetimeFormatsWithAndWithoutIndex},
		{"MultivectorRoundTrip", TestMultivectorRoundTrip},
		{"MultivectorQuery", TestMultivectorQuery},
		{"PayloadIndexSchemas", TestPayloadIndexSchemas},
		{"PayloadIndexPointCounts", TestPayloadIndexPointCounts},
		{"UpsertForms", TestUpsertForms},
		{"PointIDs", TestPointIDs},
		{"RetrieveSelectors", TestRetrieveSelectors},
		{"UpsertRejectsBadVectors", TestUpsertRejectsBadVectors},
		{"DeletePoints", TestDeletePoints},
		{"NamedVectorUpdates", TestNamedVectorUpdates},
		{"Count", TestCount},
		{"ScrollPaging", TestScrollPaging},
		{"PayloadRoundTrip", TestPayloadRoundTrip},
		{"VectorDatatypes", TestVectorDatatypes},
		{"QuantizedCollectionSearch", TestQuantizedCollectionSearch},
		{"Quotas", TestQuotas},
		{"QueryDistances", TestQueryDistances},
		{"QueryNamedVectors", TestQueryNamedVectors},
		{"QueryBatches", TestQueryBatches},
		{"QueryWithoutQueryListsPoints", TestQueryWithoutQueryListsPoints},
		{"QueryErrors", TestQueryErrors},
		{"SparsePointsRoundTrip", TestSparsePointsRoundTrip},
		{"SparseQuery", TestSparseQuery},
		{"StrictModeStatuses", TestStrictModeStatuses},
		{"Turbo4Collection", TestTurbo4Collection},
		{"NamedVectorCRUD", TestNamedVectorCRUD},
		{"Metrics", TestMetrics},
	}
	restShards = 4
	defer func() { restShards = 1 }()
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

// TestShardNumber: a standalone node creates shard_number shards (info
// and telemetry show them), points spread over them and every read sees
// them all; shard_number is validated as Qdrant does, with an upper bound.
func TestShardNumber(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}, "shard_number": 4})
	var pts []pointIn
	for i := range 200 {
		pts = append(pts, pointIn{ID: i, Vector: []float32{float32(i), 1}, Payload: map[string]any{"i": i}})
	}
	s.upsert("c", pts...)
	var info struct {
		PointsCount int `json:"points_count"`
		Config      struct {
			Params struct {
				ShardNumber int `json:"shard_number"`
			} `json:"params"`
		} `json:"config"`
	}
	s.ok(http.MethodGet, "/collections/c", nil, &info)
	if info.PointsCount != 200 || info.Config.Params.ShardNumber != 4 {
		t.Fatalf("info: %+v", info)
	}
	var tel struct {
		Collections struct {
			Collections []struct {
				Shards []struct {
					ID    int `json:"id"`
					Local struct {
						NumPoints int `json:"num_points"`
					} `json:"local"`
				} `json:"shards"`
			} `json:"collections"`
		} `json:"collections"`
	}
	s.ok(http.MethodGet, "/telemetry?details_level=3", nil, &tel)
	shards := tel.Collections.Collections[0].Shards
	total := 0
	for i, sh := range shards {
		if sh.ID != i || sh.Local.NumPoints == 0 {
			t.Fatalf("telemetry shard %d: %+v", i, sh)
		}
		total += sh.Local.NumPoints
	}
	if len(shards) != 4 || total != 200 {
		t.Fatalf("telemetry: %d shards, %d points", len(shards), total)
	}
	if n := s.count("c", nil); n != 200 {
		t.Fatalf("count %d", n)
	}
	var page struct {
		Points []struct {
			ID int `json:"id"`
		} `json:"points"`
		Next *int `json:"next_page_offset"`
	}
	s.ok(http.MethodPost, "/collections/c/points/scroll", map[string]any{"limit": 50, "offset": 75}, &page)
	if len(page.Points) != 50 || page.Points[0].ID != 75 || page.Points[49].ID != 124 || page.Next == nil || *page.Next != 125 {
		t.Fatalf("scroll page: %d points, next %v", len(page.Points), page.Next)
	}
	var hits []struct {
		ID    int     `json:"id"`
		Score float64 `json:"score"`
	}
	s.ok(http.MethodPost, "/collections/c/points/search", map[string]any{"vector": []float32{1, 0}, "limit": 3, "offset": 2}, &hits)
	if ids := []int{hits[0].ID, hits[1].ID, hits[2].ID}; !slices.Equal(ids, []int{197, 196, 195}) {
		t.Fatalf("search: %+v", hits)
	}
	for _, tc := range []struct {
		n   any
		msg string
	}{
		{0, "Validation error in JSON body: [shard_number: value 0 invalid, must be 1 or larger]"},
		{65537, "Validation error in JSON body: [shard_number: value 65537 invalid, must be 65536 or smaller]"},
	} {
		s.fail(http.MethodPut, "/collections/bad", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}, "shard_number": tc.n}, 422, tc.msg)
	}
}

// TestShardedUpdateErrors: an update that some shards apply and another
// refuses answers Qdrant's inconsistent shard failure, of the refusal's
// kind; the shards that applied it keep it.
func TestShardedUpdateErrors(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}, "shard_number": 4})
	var pts []pointIn
	for i := range 40 {
		pts = append(pts, pointIn{ID: i, Vector: []float32{1, 1}})
	}
	s.upsert("c", pts...)
	// 40..47 are missing; their shards refuse, the others set the payload.
	ids := []int{0, 1, 2, 3, 4, 5, 6, 7, 40}
	s.fail(http.MethodPost, "/collections/c/points/payload?wait=true", map[string]any{"points": ids, "payload": map[string]any{"x": 1}}, 404,
		"Not found: 1 out of "+fmt.Sprint(shardsOf(t, ids))+" shards failed to apply operation. First error captured: No point with id 40 found")
	var recs []struct {
		ID      int             `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	s.ok(http.MethodPost, "/collections/c/points", map[string]any{"ids": []int{0, 1, 2, 3, 4, 5, 6, 7}, "with_payload": true}, &recs)
	ring := fourShards()
	refused := ring.Shard(point.NumID(40))
	for _, r := range recs {
		applied := ring.Shard(point.NumID(uint64(r.ID))) != refused
		if got := string(r.Payload) == `{"x":1}`; got != applied {
			t.Fatalf("point %d (shard %d) has payload %s; its shard applied the update: %v", r.ID, ring.Shard(point.NumID(uint64(r.ID))), r.Payload, applied)
		}
	}
}

func fourShards() *collection.Ring {
	return collection.NewRing([]collection.ShardID{0, 1, 2, 3}, collection.RingScale)
}

// shardsOf is the number of the four shards that hold some of ids.
func shardsOf(t *testing.T, ids []int) int {
	ring := fourShards()
	seen := map[collection.ShardID]bool{}
	for _, id := range ids {
		seen[ring.Shard(point.NumID(uint64(id)))] = true
	}
	return len(seen)
}
