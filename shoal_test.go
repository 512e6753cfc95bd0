package shoal_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
	if n, err := c.Count(ctx, nil); err != nil || n != 2 {
		t.Fatalf("count after reopen %d, %v; want 2", n, err)
	}
	recs, err := c.Get(ctx, shoal.NumID(2), shoal.NumID(1))
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

// countdownCtx reports itself cancelled from its doneAt-th Err call on, and
// counts the calls: the engine looks at a read's context before any work
// and then every thousand or so points, so the calls count the work.
type countdownCtx struct {
	context.Context // never done, but its Done channel is not nil
	calls, doneAt   int
}

func (c *countdownCtx) Err() error {
	c.calls++
	if c.calls >= c.doneAt {
		return context.Canceled
	}
	return nil
}

// TestEmbeddedQueryHonoursContext: Query under a context already done
// returns its error without searching, and a context that ends mid-search
// stops it at the next look (the third here; a full search of these points
// looks nine times).
func TestEmbeddedQueryHonoursContext(t *testing.T) {
	db, err := shoal.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateCollection("docs", shoal.VectorParams{Size: 2, Distance: shoal.Euclid}); err != nil {
		t.Fatal(err)
	}
	c, err := db.Collection("docs")
	if err != nil {
		t.Fatal(err)
	}
	pts := make([]shoal.Point, 8000)
	for i := range pts {
		pts[i] = shoal.Point{ID: shoal.NumID(uint64(i)), Vector: []float32{float32(i % 97), float32(i % 89)}, Payload: shoal.Payload{"i": i}}
	}
	if err := c.Upsert(context.Background(), pts...); err != nil {
		t.Fatal(err)
	}
	f, err := shoal.ParseFilter(`{"must_not":[{"key":"i","match":{"value":7}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	query := shoal.Query{Vector: []float32{1, 1}, Filter: f, Limit: 3}

	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	if hits, err := c.Query(expired, query); !errors.Is(err, context.DeadlineExceeded) || hits != nil {
		t.Fatalf("expired context: %d hits, %v; want context.DeadlineExceeded", len(hits), err)
	}
	live, cancelLive := context.WithCancel(context.Background())
	defer cancelLive()
	for _, doneAt := range []int{int(^uint(0) >> 1), 3} {
		ctx := &countdownCtx{Context: live, doneAt: doneAt}
		hits, err := c.Query(ctx, query)
		switch {
		case doneAt == 3 && (!errors.Is(err, context.Canceled) || ctx.calls != 3):
			t.Fatalf("cancelled at look 3: %v after %d looks; want context.Canceled at once", err, ctx.calls)
		case doneAt != 3 && (err != nil || len(hits) != 3 || ctx.calls < 4):
			t.Fatalf("live context: %d hits, %v, %d looks; want 3 hits and several looks", len(hits), err, ctx.calls)
		}
		t.Logf("done at look %d: %d looks", doneAt, ctx.calls)
	}
}

// TestEmbeddedMultivector: a multivector collection takes flattened
// multivectors of any number of sub-vectors and scores by max_sim, also
// after a restart.
func TestEmbeddedMultivector(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := shoal.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection("colbert", shoal.VectorParams{Size: 2, Distance: shoal.Dot, Multivector: true}); err != nil {
		t.Fatal(err)
	}
	c, err := db.Collection("colbert")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Upsert(ctx,
		shoal.Point{ID: shoal.NumID(1), Vector: []float32{1, 0, 0, 1, 2, 2}}, // three sub-vectors
		shoal.Point{ID: shoal.NumID(2), Vector: []float32{3, 0}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, shoal.Point{ID: shoal.NumID(3), Vector: []float32{1, 2, 3}}); err == nil {
		t.Fatal("a vector of 1.5 sub-vectors was taken")
	}
	check := func(c *shoal.Collection) {
		t.Helper()
		// [1,0] and [0,1]: point 1 scores max(1,0,2)+max(0,1,2) = 4, point 2 3+0.
		hits, err := c.Query(ctx, shoal.Query{Vector: []float32{1, 0, 0, 1}, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 2 || hits[0].ID != shoal.NumID(1) || hits[0].Score != 4 || hits[1].Score != 3 {
			t.Fatalf("hits %+v", hits)
		}
	}
	check(c)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = shoal.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, err = db.Collection("colbert"); err != nil {
		t.Fatal(err)
	}
	check(c)
}
