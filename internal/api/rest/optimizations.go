package rest

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
)

// defaultCompletedLimit is Qdrant's DEFAULT_OPTIMIZATIONS_COMPLETED_LIMIT.
const defaultCompletedLimit = 16

// getOptimizations answers GET /collections/{name}/optimizations with
// Qdrant's OptimizationsResponse; ?with= (comma separated: queued,
// completed, idle_segments) adds the optional parts, ?completed_limit=
// bounds the completed ones.
func (s *Server) getOptimizations(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, err := optimizationsRequest(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	c, err := s.node.Collection(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, c.Optimizations(req))
}

// optimizationsRequest reads the query as Qdrant's OptimizationsParam: an
// unknown member of `with` is bad input.
func optimizationsRequest(r *http.Request) (collection.OptimizationsRequest, error) {
	req := collection.OptimizationsRequest{CompletedLimit: defaultCompletedLimit}
	q := r.URL.Query()
	if v := q.Get("completed_limit"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return req, badRequest("Query deserialize error: completed_limit: invalid value %q, expected an unsigned integer", v)
		}
		req.CompletedLimit = int(min(n, uint64(1<<31)))
	}
	for _, field := range strings.Split(q.Get("with"), ",") {
		switch field = strings.TrimSpace(field); field {
		case "":
		case "queued":
			req.Queued = true
		case "completed":
			req.Completed = true
		case "idle_segments":
			req.IdleSegments = true
		default:
			return req, point.Errorf(point.KindBadInput, "Unknown field in 'with' parameter: %s", field)
		}
	}
	return req, nil
}
