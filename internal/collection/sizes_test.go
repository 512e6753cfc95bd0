package collection

import (
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
)

// TestHugeReadSizes: limits, offsets and id lists from requests may be
// anything up to math.MaxInt; reads answer with what exists. Before,
// Limit+Offset wrapped to a negative number (and answered nothing) and the
// heap was sized by the limit.
func TestHugeReadSizes(t *testing.T) {
	c := readFixture(t)
	all := []point.ID{point.NumID(9), point.NumID(8), point.NumID(7)} // nearest to (9, 0, 0) first
	for _, tc := range []struct {
		name string
		req  ops.SearchRequest
		want int
	}{
		{"max limit", ops.SearchRequest{Using: "img", Vector: []float32{9, 0, 0}, Limit: math.MaxInt}, 10},
		{"max limit and offset", ops.SearchRequest{Using: "img", Vector: []float32{9, 0, 0}, Limit: math.MaxInt, Offset: math.MaxInt}, 0},
		{"2^62 twice", ops.SearchRequest{Using: "img", Vector: []float32{9, 0, 0}, Limit: 1 << 62, Offset: 1 << 62}, 0},
		{"offset within", ops.SearchRequest{Using: "img", Vector: []float32{9, 0, 0}, Limit: math.MaxInt, Offset: 7}, 3},
		{"max ef", ops.SearchRequest{Using: "img", Vector: []float32{9, 0, 0}, Limit: 3, Params: ops.SearchParams{HnswEf: math.MaxInt}}, 3},
	} {
		hits, err := c.Search(bg, tc.req)
		if err != nil || len(hits) != tc.want {
			t.Errorf("%s: %d hits, %v; want %d", tc.name, len(hits), err, tc.want)
		}
		if tc.name == "max limit" && !slices.Equal(hitIDs(hits)[:3], all) {
			t.Errorf("%s: %v", tc.name, hitIDs(hits))
		}
	}
	recs, _, err := c.Scroll(bg, ops.ScrollRequest{Limit: math.MaxInt})
	if err != nil || len(recs) != 10 {
		t.Errorf("scroll of max limit: %d records, %v", len(recs), err)
	}
	ids := make([]point.ID, 0, 100000)
	for i := range 100000 {
		ids = append(ids, point.NumID(uint64(i%3+1)))
	}
	names := make([]string, 100000)
	for i := range names {
		names[i] = "text"
	}
	recs, err = c.Retrieve(bg, ids, ops.PayloadSelector{}, ops.VectorSelector{Enable: true, Names: names})
	if err != nil || !slices.Equal(recIDs(recs), nums(1, 2, 3)) || recs[1].Vectors["text"] == nil || recs[1].Vectors["img"] != nil {
		t.Errorf("retrieve of 100000 repeated ids: %v, %v", recs, err)
	}
}

// TestConfigSizesSaturate: config values are Qdrant's usize/u64 and may be
// up to 2^64-1. Before, wal_capacity_mb of 2^43 and more wrapped to a
// negative segment size and the shard failed to open; flush_interval_sec
// wrapped to a negative duration; max_indexing_threads could start
// billions of goroutines.
func TestConfigSizesSaturate(t *testing.T) {
	huge := "18446744073709551615"
	body := `{"vectors":{"size":4,"distance":"Dot"},
		"wal_config":{"wal_capacity_mb":` + huge + `,"wal_segments_ahead":` + huge + `},
		"hnsw_config":{"m":` + huge + `,"ef_construct":` + huge + `,"full_scan_threshold":` + huge + `,"max_indexing_threads":` + huge + `,"payload_m":` + huge + `},
		"optimizers_config":{"flush_interval_sec":` + huge + `,"vacuum_min_vector_number":` + huge + `,"default_segment_number":` + huge + `,"max_segment_size":` + huge + `,"indexing_threshold":` + huge + `}}`
	for _, wal := range []string{huge, "8796093022208", "9223372036854775807"} {
		c, _ := openCollection(t, strings.Replace(body, `"wal_capacity_mb":`+huge, `"wal_capacity_mb":`+wal, 1))
		cfg, err := c.Config()
		if err != nil {
			t.Fatal(err)
		}
		// The shard opened. A write needs wal_capacity_mb free on the disk
		// (Qdrant's check), so with these sizes it is refused as out of
		// disk, cleanly.
		_, err = c.Update(context.Background(), &ops.Operation{Kind: ops.Upsert,
			Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{"": {1, 2, 3, 4}}}}}, true)
		if !errors.Is(err, shard.ErrOutOfDisk) {
			t.Errorf("wal %s: upsert answered %v, want out of disk", wal, err)
		}
		ip := indexParams(cfg, cfg.Params.Vectors.Named[point.DefaultVector])
		if ip.M < 0 || ip.PayloadM < 0 || ip.EfConstruct < 0 || ip.IndexingThreshold < 1 || ip.FullScanThreshold < 0 {
			t.Errorf("wal %s: index params went negative: %+v", wal, ip)
		}
		op := optimizerParams(cfg)
		if op.VacuumMinVectorNumber < 0 || op.DefaultSegmentNumber < 0 || op.MaxSegmentBytes < 0 {
			t.Errorf("wal %s: optimizer params went negative: %+v", wal, op)
		}
		if n := indexThreads(cfg); n < 1 || n > runtime.GOMAXPROCS(0) {
			t.Errorf("wal %s: %d index threads", wal, n)
		}
	}
}
