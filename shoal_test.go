package shoal_test

import (
	"context"
	"testing"

	"github.com/shoaldb/shoal"
)

func TestEmbeddedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := shoal.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection("docs", shoal.VectorParams{Size: 2, Distance: shoal.Euclid}); err != nil {
		t.Fatal(err)
	}
	c, err := db.Collection("docs")
	if err != nil {
		t.Fatal(err)
	}
	u, err := shoal.UUIDID("5C56C79369F34FBF87E6C4BF54C28C26")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Upsert(ctx,
		shoal.Point{ID: shoal.NumID(1), Vector: []float32{0, 0}, Payload: shoal.Payload{"tag": "a"}},
		shoal.Point{ID: shoal.NumID(2), Vector: []float32{3, 4}, Payload: shoal.Payload{"tag": "b"}},
		shoal.Point{ID: u, Vector: []float32{1, 0}, Payload: shoal.Payload{"tag": "b"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	f, err := shoal.ParseFilter(`{"must":[{"key":"tag","match":{"value":"b"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := c.Query(ctx, shoal.Query{Vector: []float32{0, 0}, Filter: f, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].ID != u || hits[0].Score != 1 || hits[1].Score != 5 {
		t.Fatalf("hits %+v", hits)
	}
	if err := c.Delete(ctx, shoal.NumID(1)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = shoal.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err = db.Collection("docs")
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Count(nil); n != 2 {
		t.Fatalf("count after reopen %d, want 2", n)
	}
	recs, err := c.Get(shoal.NumID(2), shoal.NumID(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Payload["tag"] != "b" || recs[0].Vectors[""][1] != 4 {
		t.Fatalf("records %+v", recs)
	}
	if _, err := db.Collection("nope"); err == nil {
		t.Fatal("missing collection must be an error")
	}
}
