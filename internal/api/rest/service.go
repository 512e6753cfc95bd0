package rest

import (
	"net/http"
)

type versionInfo struct {
	Title        string `json:"title"`
	Version      string `json:"version"`
	ShoalVersion string `json:"shoal_version"`
	Commit       any    `json:"commit"`
}

// root answers GET / with the Qdrant API version we match, and our own
// version in a separate field.
func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	info := versionInfo{
		Title:        "shoal - vector search engine (Qdrant API compatible)",
		Version:      APIVersion,
		ShoalVersion: s.opts.Version,
	}
	if c := s.opts.Commit; c != "" && c != "unknown" {
		info.Commit = c
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("healthz check passed"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.opts.Ready != nil && !s.opts.Ready() || !s.node.ClusterReady() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("some shards are not ready"))
		return
	}
	_, _ = w.Write([]byte("all shards are ready"))
}
