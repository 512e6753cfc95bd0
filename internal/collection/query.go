package collection

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// Query runs Qdrant's universal query: a nearest-neighbour search when
// req.Nearest is set, else the points in id order from req.Offset on, each
// with score 0.
func (c *Collection) Query(ctx context.Context, req ops.QueryRequest) ([]ScoredPoint, error) {
	ctx, err := c.guard.Query(ctx, c.facts(), req)
	if err != nil {
		return nil, err
	}
	if q := req.Nearest; q != nil {
		return c.Search(ctx, ops.SearchRequest{
			Using: req.Using, Vector: q.Vector, Sparse: q.Sparse, QueryID: q.ID, Filter: req.Filter,
			Limit: req.Limit, Offset: req.Offset, ScoreThreshold: req.ScoreThreshold,
			WithPayload: req.WithPayload, WithVector: req.WithVector, Params: req.Params,
		})
	}
	defer c.observeRead(time.Now(), req.Filter)
	// The scroll collects at most the points that exist, whatever the
	// (saturated) sum of limit and offset.
	want := req.Limit
	if req.Offset > 0 {
		want = min(req.Limit, math.MaxInt-req.Offset) + req.Offset
	}
	recs, _, err := c.Scroll(ctx, ops.ScrollRequest{Filter: req.Filter, Limit: want, WithPayload: req.WithPayload, WithVector: req.WithVector})
	if err != nil || req.Offset >= len(recs) {
		return nil, err
	}
	recs = recs[req.Offset:]
	out := make([]ScoredPoint, len(recs))
	for i, r := range recs {
		out[i] = ScoredPoint{ID: r.ID, Version: r.Version, Payload: r.Payload, Vectors: r.Vectors, Sparse: r.Sparse}
	}
	return out, nil
}

// startFrom converts start_from to the index's number line (datetimes as
// unix microseconds).
func startFrom(o *ops.OrderBy) (*float64, error) {
	switch sf := o.StartFrom; {
	case sf == nil:
		return nil, nil
	case sf.Number != nil:
		n := *sf.Number
		return &n, nil
	case sf.Datetime != nil:
		if t, err := filter.ParseDateTime(*sf.Datetime); err == nil {
			v := float64(t.UnixMicro())
			return &v, nil
		}
		text, _ := json.Marshal(*sf.Datetime)
		return nil, point.Errorf(point.KindBadInput, "order_by.start_from: expected a number or a datetime, got %s", text)
	}
	return nil, point.Errorf(point.KindBadInput, "order_by.start_from: expected a number or a datetime")
}
