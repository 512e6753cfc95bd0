package rest

import (
	"github.com/shoaldb/shoal/internal/collection"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
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

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// telemetry answers Qdrant's TelemetryData: app build info and, per
// collection, its shard's segments and optimizer.
func (s *Server) telemetry(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	names := s.node.Collections()
	cols := make([]collection.Telemetry, 0, len(names))
	for _, n := range names {
		c, err := s.node.Collection(n)
		if err != nil {
			continue // deleted meanwhile
		}
		cols = append(cols, c.Telemetry())
	}
	s.ok(w, start, map[string]any{
		"id": s.opts.InstanceID,
		"app": map[string]any{
			"name":    "shoal",
			"version": APIVersion,
			"startup": s.started.UTC().Format(time.RFC3339Nano),
			"system": map[string]any{
				"distribution": runtime.GOOS,
				"is_docker":    false,
				"cores":        runtime.NumCPU(),
				"cpu_flags":    "",
			},
		},
		"collections": map[string]any{
			"number_of_collections": len(names),
			"collections":           cols,
		},
	})
}
