package collection

import (
	"context"

	"github.com/shoaldb/shoal/internal/ops"
)

// SearchBatch runs searches as one request, as Qdrant's search/batch does:
// strict mode checks the batch as a whole (search_max_batchsize, each
// search) and charges its read cost at once, then the searches run in
// order. each receives every search's hits in turn and may stop the batch
// with an error, which SearchBatch returns.
func (c *Collection) SearchBatch(ctx context.Context, reqs []ops.SearchRequest, each func(i int, hits []ScoredPoint) error) error {
	ctx, err := c.guard.SearchBatch(ctx, c.facts(), reqs)
	if err != nil {
		return err
	}
	for i, req := range reqs {
		hits, err := c.Search(ctx, req)
		if err != nil {
			return err
		}
		if err := each(i, hits); err != nil {
			return err
		}
	}
	return nil
}

// QueryBatch is SearchBatch for universal queries (query/batch).
func (c *Collection) QueryBatch(ctx context.Context, reqs []ops.QueryRequest, each func(i int, hits []ScoredPoint) error) error {
	ctx, err := c.guard.QueryBatch(ctx, c.facts(), reqs)
	if err != nil {
		return err
	}
	for i, req := range reqs {
		hits, err := c.Query(ctx, req)
		if err != nil {
			return err
		}
		if err := each(i, hits); err != nil {
			return err
		}
	}
	return nil
}
