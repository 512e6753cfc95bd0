package rest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// TestTelemetrySegments: after the optimizer indexed a collection, the
// telemetry (validated against Qdrant's TelemetryData) shows its segments,
// indexed vectors, memory and the optimizations that ran.
func TestTelemetrySegments(t *testing.T) {
	s := newServer(t, rest.Options{})
	// 1 KB of 4-dimensional vectors: an appendable segment of 64 points
	// is sealed and indexed.
	s.createCollection("idx", map[string]any{
		"vectors":           map[string]any{"size": 4, "distance": "Euclid"},
		"hnsw_config":       map[string]any{"m": 8, "ef_construct": 32},
		"optimizers_config": map[string]any{"indexing_threshold": 1, "default_segment_number": 1},
	})
	var pts []pointIn
	for i := range 200 {
		pts = append(pts, pointIn{ID: i, Vector: []float32{float32(i), float32(i % 7), 1, 2}})
	}
	s.upsert("idx", pts...)

	type segment struct {
		Info struct {
			SegmentType       string `json:"segment_type"`
			NumPoints         int    `json:"num_points"`
			NumIndexedVectors int    `json:"num_indexed_vectors"`
			IsAppendable      bool   `json:"is_appendable"`
			RAMUsageBytes     int64  `json:"ram_usage_bytes"`
			DiskUsageBytes    int64  `json:"disk_usage_bytes"`
			Memory            map[string]struct {
				VectorsBytes int64 `json:"vectors_bytes"`
				GraphBytes   int64 `json:"graph_bytes"`
			} `json:"shoal_memory"`
		} `json:"info"`
	}
	var tel struct {
		Collections struct {
			Collections []struct {
				ID     string `json:"id"`
				Shards []struct {
					Local struct {
						Status        string    `json:"status"`
						NumPoints     int       `json:"num_points"`
						Segments      []segment `json:"segments"`
						Optimizations struct {
							Status        any `json:"status"`
							Optimizations struct {
								Count int `json:"count"`
							} `json:"optimizations"`
							Log []struct {
								Name   string `json:"name"`
								Status any    `json:"status"`
							} `json:"log"`
						} `json:"optimizations"`
					} `json:"local"`
				} `json:"shards"`
			} `json:"collections"`
		} `json:"collections"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.ok(http.MethodGet, "/telemetry?details_level=4", nil, &tel)
		local := tel.Collections.Collections[0].Shards[0].Local
		indexed := 0
		for _, sg := range local.Segments {
			indexed += sg.Info.NumIndexedVectors
		}
		if local.Status == "green" && indexed == 200 && local.Optimizations.Optimizations.Count > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not indexed: %+v", local)
		}
		time.Sleep(20 * time.Millisecond)
	}
	local := tel.Collections.Collections[0].Shards[0].Local
	if local.NumPoints != 200 || local.Optimizations.Status != "ok" {
		t.Fatalf("shard telemetry %+v", local)
	}
	var sealed *segment
	for i, sg := range local.Segments {
		if !sg.Info.IsAppendable {
			sealed = &local.Segments[i]
		}
	}
	if sealed == nil || sealed.Info.SegmentType != "indexed" || sealed.Info.NumPoints != 200 {
		t.Fatalf("no indexed segment of 200 points: %+v", local.Segments)
	}
	m := sealed.Info.Memory[""]
	if m.VectorsBytes != 200*4*4 || m.GraphBytes <= 0 || sealed.Info.RAMUsageBytes < m.VectorsBytes+m.GraphBytes || sealed.Info.DiskUsageBytes <= 0 {
		t.Fatalf("memory of the indexed segment: %+v", sealed.Info)
	}
	if last := local.Optimizations.Log[len(local.Optimizations.Log)-1]; last.Name != "indexing" || last.Status != "done" {
		t.Fatalf("optimizer log ends with %+v", last)
	}
}

// TestTelemetryOnDisk: a collection with on_disk vectors gets sealed
// segments whose vectors are mapped files (storage_type Mmap), not counted
// as RAM.
func TestTelemetryOnDisk(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("disk", map[string]any{
		"vectors":           map[string]any{"size": 4, "distance": "Cosine", "on_disk": true},
		"optimizers_config": map[string]any{"indexing_threshold": 1, "default_segment_number": 1},
	})
	var pts []pointIn
	for i := range 100 {
		pts = append(pts, pointIn{ID: i, Vector: []float32{float32(i + 1), 1, 2, 3}})
	}
	s.upsert("disk", pts...)
	var tel struct {
		Collections struct {
			Collections []struct {
				Shards []struct {
					Local struct {
						Segments []struct {
							Info struct {
								IsAppendable  bool  `json:"is_appendable"`
								RAMUsageBytes int64 `json:"ram_usage_bytes"`
								Memory        map[string]struct {
									OnDisk       bool  `json:"on_disk"`
									VectorsBytes int64 `json:"vectors_bytes"`
								} `json:"shoal_memory"`
							} `json:"info"`
							Config struct {
								VectorData map[string]struct {
									StorageType string `json:"storage_type"`
								} `json:"vector_data"`
							} `json:"config"`
						} `json:"segments"`
					} `json:"local"`
				} `json:"shards"`
			} `json:"collections"`
		} `json:"collections"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.ok(http.MethodGet, "/telemetry?details_level=4", nil, &tel)
		segs := tel.Collections.Collections[0].Shards[0].Local.Segments
		found := false
		for _, sg := range segs {
			if !sg.Info.IsAppendable && sg.Info.Memory[""].OnDisk {
				found = true
				if sg.Config.VectorData[""].StorageType != "Mmap" || sg.Info.Memory[""].VectorsBytes != 100*4*4 {
					t.Fatalf("on-disk segment telemetry: %+v", sg)
				}
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sealed on-disk segment: %+v", segs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var hits struct {
		Points []struct {
			ID int `json:"id"`
		} `json:"points"`
	}
	s.ok(http.MethodPost, "/collections/disk/points/query", map[string]any{"query": []float32{100, 1, 2, 3}, "limit": 1}, &hits)
	if len(hits.Points) != 1 || hits.Points[0].ID != 99 {
		t.Fatalf("search over mapped vectors: %+v", hits)
	}
}
