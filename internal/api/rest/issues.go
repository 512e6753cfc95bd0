package rest

import (
	"net/http"
	"time"

	"github.com/shoaldb/shoal/internal/issues"
)

// getIssues answers GET /issues: {"issues": [...]}, the active performance
// issues with their solutions (Qdrant's IssueRecord).
func (s *Server) getIssues(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	all := s.node.Issues().All()
	if all == nil {
		all = []issues.Issue{}
	}
	s.ok(w, start, map[string]any{"issues": all})
}

// clearIssues answers DELETE /issues: every issue is dropped; those still
// true come back when next found.
func (s *Server) clearIssues(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.node.Issues().Clear()
	s.ok(w, start, true)
}
