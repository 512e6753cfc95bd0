package collection

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/snapshot"
)

func allPoints(t *testing.T, c *Collection) string {
	t.Helper()
	recs, _, err := c.Scroll(bg, ops.ScrollRequest{Limit: 10000, WithPayload: ops.PayloadSelector{Enable: true}, WithVector: ops.VectorSelector{Enable: true}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCollectionSnapshotRoundTrip: a collection of three shards with named
// dense and sparse vectors, payloads and a payload index, snapshotted and
// extracted elsewhere, opens with identical points, vectors, payloads and
// payload schema.
func TestCollectionSnapshotRoundTrip(t *testing.T) {
	c, _ := openCollection(t, `{"shard_number":3,"vectors":{"a":{"size":3,"distance":"Dot"},"b":{"size":2,"distance":"Euclid","on_disk":true}},"sparse_vectors":{"s":{}}}`)
	if _, err := c.Update(bg, &ops.Operation{Kind: ops.CreateIndex, Key: "tag", Schema: &ops.FieldSchema{Type: ops.KeywordField}}, true); err != nil {
		t.Fatal(err)
	}
	var pts []ops.PointStruct
	for i := range 300 {
		f := float32(i)
		pts = append(pts, ops.PointStruct{
			ID:      point.NumID(uint64(i)),
			Vectors: point.Vectors{"a": {f, 1, -f}, "b": {f / 2, 3}},
			Sparse:  point.SparseVectors{"s": {Indices: []uint32{uint32(i % 11), 100}, Values: []float32{1, f}}},
			Payload: point.Payload{"tag": fmt.Sprint("t", i%5), "n": json.Number(fmt.Sprint(i)), "nested": map[string]any{"x": []any{"y", json.Number("1")}}},
		})
	}
	upsert(t, c, pts...)
	if _, err := c.Update(bg, &ops.Operation{Kind: ops.Delete, IDs: nums(3, 4, 5)}, true); err != nil {
		t.Fatal(err)
	}
	want := allPoints(t, c)
	wantInfo, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	w := snapshot.NewWriter(&buf, snapshot.KindCollection, nil)
	meta, err := c.Snapshot(bg, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(meta); err != nil {
		t.Fatal(err)
	}
	if len(meta.Shards) != 3 || meta.Points() != 297 {
		t.Fatalf("meta %+v", meta)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	cfg, got, err := ExtractSnapshot(bytes.NewReader(buf.Bytes()), dir, snapshot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Points() != 297 || got.Name != "c" {
		t.Fatalf("extracted meta %+v", got)
	}
	r, err := Open(nil, dir, "r", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if g := allPoints(t, r); g != want {
		t.Fatalf("restored points differ:\n got %.400s\nwant %.400s", g, want)
	}
	info, err := r.Info()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(wantInfo.PayloadSchema)
	b, _ := json.Marshal(info.PayloadSchema)
	if string(a) != string(b) || info.PointsCount != 297 {
		t.Fatalf("payload schema %s, want %s; points %d", b, a, info.PointsCount)
	}
	// The collection's config came back as given.
	c1, _ := json.Marshal(must(c.Config()))
	c2, _ := json.Marshal(cfg)
	if string(c1) != string(c2) {
		t.Fatalf("config %s, want %s", c2, c1)
	}
}

func TestExtractSnapshotRefusals(t *testing.T) {
	c, _ := openCollection(t, `{"vectors":{"size":2,"distance":"Dot"}}`)
	upsert(t, c, ops.PointStruct{ID: point.NumID(1), Vectors: point.Vectors{"": {1, 2}}})
	var good bytes.Buffer
	w := snapshot.NewWriter(&good, snapshot.KindCollection, nil)
	meta, err := c.Snapshot(bg, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(meta); err != nil {
		t.Fatal(err)
	}
	shardOnly := func(kind string, files map[string]string, meta any) []byte {
		var b bytes.Buffer
		w := snapshot.NewWriter(&b, kind, nil)
		for _, n := range []string{ConfigFile, shardsFile} {
			if v, ok := files[n]; ok {
				if err := w.AddBytes(n, []byte(v)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := w.Close(meta); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	cfgJSON, _ := json.Marshal(must(c.Config()))
	corrupt := bytes.Clone(good.Bytes())
	corrupt[len(corrupt)/3] ^= 0xff
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"truncated", good.Bytes()[:good.Len()/2]},
		{"corrupt byte", corrupt},
		{"shard archive", shardOnly(snapshot.KindShard, nil, nil)},
		{"no config", shardOnly(snapshot.KindCollection, map[string]string{shardsFile: `{"shards":[]}`}, SnapshotMeta{})},
		{"bad config", shardOnly(snapshot.KindCollection, map[string]string{ConfigFile: `{"params":7}`, shardsFile: `{"shards":[]}`}, SnapshotMeta{})},
		{"no shards.json", shardOnly(snapshot.KindCollection, map[string]string{ConfigFile: string(cfgJSON)}, SnapshotMeta{})},
		{"missing shard image", shardOnly(snapshot.KindCollection, map[string]string{ConfigFile: string(cfgJSON), shardsFile: `{"shards":[{"id":0,"local":true}]}`},
			SnapshotMeta{Shards: []ShardSnapshotMeta{{ID: 0}}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "r")
			_, _, err := ExtractSnapshot(bytes.NewReader(tc.data), dir, snapshot.Options{})
			if !errors.Is(err, snapshot.ErrInvalid) {
				t.Fatalf("err %v", err)
			}
		})
	}
}
