// Package shoal embeds the Shoal engine in a Go program, without HTTP: open
// a storage directory, create collections, upsert points and query them.
// It wraps the same node the shoal server runs, so data written here is
// readable by the server and the other way round (not at the same time).
//
//	db, err := shoal.Open("./data")
//	defer db.Close()
//	err = db.CreateCollection("docs", shoal.VectorParams{Size: 4, Distance: shoal.Cosine})
//	c, _ := db.Collection("docs")
//	err = c.Upsert(ctx, shoal.Point{ID: shoal.NumID(1), Vector: []float32{...}})
//	hits, err := c.Query(ctx, shoal.Query{Vector: []float32{...}, Limit: 3})
//
// A DB is safe for concurrent use.
package shoal

import (
	"context"
	"log/slog"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/node"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// Shared vocabulary, re-exported.
type (
	// ID is a point id: an unsigned integer or a UUID.
	ID = point.ID
	// Payload is a point's JSON object.
	Payload = point.Payload
	// Distance is a vector metric.
	Distance = collection.Distance
	// Filter is a parsed Qdrant filter.
	Filter = filter.Filter
)

// Distances.
const (
	Cosine    = collection.Cosine
	Dot       = collection.Dot
	Euclid    = collection.Euclid
	Manhattan = collection.Manhattan
)

// NumID returns an integer id.
func NumID(n uint64) ID { return point.NumID(n) }

// UUIDID parses a UUID id in any textual form.
func UUIDID(s string) (ID, error) { return point.ParseUUID(s) }

// ParseFilter parses a filter in Qdrant's JSON form.
func ParseFilter(jsonText string) (*Filter, error) { return filter.Parse([]byte(jsonText)) }

// Options tune Open.
type Options struct {
	Logger *slog.Logger
}

// DB is an open storage directory.
type DB struct {
	node *node.Node
	uri  string // P2P URI of a peer (OpenPeer)
}

// Open opens (creating if needed) a storage directory with Qdrant's default
// collection settings.
func Open(dir string, opts ...Options) (*DB, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	n, err := node.Open(node.Options{StoragePath: dir, Defaults: collection.QdrantDefaults(), Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	return &DB{node: n}, nil
}

// Close stops the peer (OpenPeer), then flushes and closes every
// collection.
func (db *DB) Close() error { return db.node.Close() }

// VectorParams configures one dense vector.
type VectorParams struct {
	Size     uint64
	Distance Distance
	// Multivector makes the vector hold multivectors compared by max_sim
	// (Qdrant's multivector_config): a point's vector, and a query, is
	// then any positive number of sub-vectors of Size floats, flattened
	// (one after the other), and reads return them so.
	Multivector bool
}

func (v VectorParams) params() collection.VectorParams {
	p := collection.VectorParams{Size: v.Size, Distance: v.Distance}
	if v.Multivector {
		p.MultivectorConfig = &collection.MultiVecConfig{Comparator: collection.MaxSim}
	}
	return p
}

// CreateCollection creates a collection with one unnamed vector.
func (db *DB) CreateCollection(name string, v VectorParams) error {
	vc := collection.VectorsConfig{Named: map[string]collection.VectorParams{point.DefaultVector: v.params()}}
	return db.node.CreateCollection(context.Background(), name, &collection.CreateRequest{Vectors: &vc})
}

// CreateNamedCollection creates a collection with named vectors.
func (db *DB) CreateNamedCollection(name string, vectors map[string]VectorParams) error {
	vc := collection.VectorsConfig{Named: map[string]collection.VectorParams{}, Multi: true}
	for n, v := range vectors {
		vc.Named[n] = v.params()
	}
	return db.node.CreateCollection(context.Background(), name, &collection.CreateRequest{Vectors: &vc})
}

// DeleteCollection deletes a collection; false when it did not exist.
func (db *DB) DeleteCollection(name string) (bool, error) {
	return db.node.DeleteCollection(context.Background(), name)
}

// Collections lists collection names.
func (db *DB) Collections() []string { return db.node.Collections() }

// Collection is a handle on one collection.
type Collection struct{ c *collection.Collection }

// Collection returns a handle, or a not-found error.
func (db *DB) Collection(name string) (*Collection, error) {
	c, err := db.node.Collection(name)
	if err != nil {
		return nil, err
	}
	return &Collection{c: c}, nil
}

// Point is a point to write. Vector is the unnamed vector; Vectors holds
// named ones.
type Point struct {
	ID      ID
	Vector  []float32
	Vectors map[string][]float32
	Payload Payload
}

// Upsert writes points durably (fsynced) and returns once they are visible.
func (c *Collection) Upsert(ctx context.Context, points ...Point) error {
	op := &ops.Operation{Kind: ops.Upsert, Points: make([]ops.PointStruct, len(points))}
	for i, p := range points {
		vecs := point.Vectors{}
		for n, v := range p.Vectors {
			vecs[n] = v
		}
		if p.Vector != nil {
			vecs[point.DefaultVector] = p.Vector
		}
		op.Points[i] = ops.PointStruct{ID: p.ID, Vectors: vecs, Payload: p.Payload.Clone()}
	}
	_, err := c.c.Update(ctx, op, true)
	return err
}

// Delete removes points durably.
func (c *Collection) Delete(ctx context.Context, ids ...ID) error {
	_, err := c.c.Update(ctx, &ops.Operation{Kind: ops.Delete, IDs: ids}, true)
	return err
}

// Record is a stored point.
type Record struct {
	ID      ID
	Payload Payload
	Vectors map[string][]float32 // the unnamed vector is under ""
}

// Get returns the stored points among ids with payload and vectors. It
// stops, returning ctx's error, once ctx is done.
func (c *Collection) Get(ctx context.Context, ids ...ID) ([]Record, error) {
	recs, err := c.c.Retrieve(ctx, ids, ops.PayloadSelector{Enable: true}, ops.VectorSelector{Enable: true})
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(recs))
	for i, r := range recs {
		out[i] = Record{ID: r.ID, Payload: r.Payload.Clone(), Vectors: r.Vectors}
	}
	return out, nil
}

// Count returns the number of points matching f (all when nil). It stops,
// returning ctx's error, once ctx is done.
func (c *Collection) Count(ctx context.Context, f *Filter) (int, error) {
	return c.c.Count(ctx, ops.CountRequest{Filter: f, Exact: true})
}

// Query is a nearest-neighbour query (through the HNSW graphs, or exact).
type Query struct {
	Vector         []float32
	Using          string // vector name; "" for the unnamed vector
	Filter         *Filter
	Limit          int
	Offset         int
	ScoreThreshold *float32
	WithPayload    bool
}

// ScoredPoint is a query hit.
type ScoredPoint struct {
	ID      ID
	Score   float32
	Payload Payload
}

// Query returns the nearest points, best first. Once ctx is done it stops
// within a bounded amount of work (about a thousand points or distance
// evaluations) and returns ctx's error, wrapped:
// errors.Is(err, context.DeadlineExceeded) tells a timeout.
func (c *Collection) Query(ctx context.Context, q Query) ([]ScoredPoint, error) {
	if q.Limit == 0 {
		q.Limit = 10
	}
	hits, err := c.c.Search(ctx, ops.SearchRequest{
		Using: q.Using, Vector: q.Vector, Filter: q.Filter, Limit: q.Limit, Offset: q.Offset,
		ScoreThreshold: q.ScoreThreshold, WithPayload: ops.PayloadSelector{Enable: q.WithPayload},
	})
	if err != nil {
		return nil, err
	}
	out := make([]ScoredPoint, len(hits))
	for i, h := range hits {
		out[i] = ScoredPoint{ID: h.ID, Score: h.Score, Payload: h.Payload.Clone()}
	}
	return out, nil
}
