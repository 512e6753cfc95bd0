package rest

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoaldb/shoal/internal/node"
	"github.com/shoaldb/shoal/internal/point"
)

// APIVersion is the Qdrant REST API version Shoal matches.
const APIVersion = "1.19.0"

// Options configure the REST server.
type Options struct {
	MaxRequestSizeMB int
	EnableCORS       bool
	APIKey           string
	ReadOnlyAPIKey   string
	Version          string // Shoal's own version
	InstanceID       string // telemetry id
	Logger           *slog.Logger
	Registry         *prometheus.Registry // metrics; a new one when nil
	Ready            func() bool          // readiness; always ready when nil
}

// Server serves the REST API for a node.
type Server struct {
	node    *node.Node
	opts    Options
	log     *slog.Logger
	maxBody int64
	metrics *metrics
	started time.Time
	mux     *http.ServeMux
}

// New builds a server; it starts nothing. Serve it with net/http.
func New(n *node.Node, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxRequestSizeMB <= 0 {
		opts.MaxRequestSizeMB = 32
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s := &Server{node: n, opts: opts, log: opts.Logger, maxBody: int64(opts.MaxRequestSizeMB) << 20, started: time.Now()}
	s.metrics = newMetrics(opts.Registry, n, opts.Version)
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

func (s *Server) routes() {
	h := func(pattern string, fn func(http.ResponseWriter, *http.Request)) {
		s.mux.Handle(pattern, s.metrics.instrument(pattern, http.HandlerFunc(fn)))
	}
	h("GET /{$}", s.root)
	h("GET /healthz", s.healthz)
	h("GET /livez", s.healthz)
	h("GET /readyz", s.readyz)
	h("GET /telemetry", s.telemetry)
	h("GET /metrics", s.metricsHandler)
	h("GET /cluster", s.clusterStatus)
	h("DELETE /cluster/peer/{peer_id}", s.removePeer)
	h("POST /cluster/recover", s.recoverCluster)
	h("GET /cluster/metadata/keys", s.listMetadataKeys)
	h("GET /cluster/metadata/keys/{key}", s.getMetadataKey)
	h("PUT /cluster/metadata/keys/{key}", s.putMetadataKey)
	h("DELETE /cluster/metadata/keys/{key}", s.deleteMetadataKey)

	h("GET /collections", s.listCollections)
	h("POST /collections/aliases", s.updateAliases)
	h("GET /aliases", s.listAliases)
	h("GET /collections/{name}/aliases", s.collectionAliases)
	h("GET /collections/{name}", s.getCollection)
	h("PUT /collections/{name}", s.createCollection)
	h("PATCH /collections/{name}", s.updateCollection)
	h("DELETE /collections/{name}", s.deleteCollection)
	h("GET /collections/{name}/exists", s.collectionExists)
	h("PUT /collections/{name}/index", s.createIndex)
	h("DELETE /collections/{name}/index/{field}", s.deleteIndex)
	h("POST /collections/{name}/facet", read(s, s.runFacet))

	h("PUT /collections/{name}/points", s.write("upsert"))
	h("POST /collections/{name}/points", read(s, s.runRetrieve))
	h("GET /collections/{name}/points/{id}", s.getPoint)
	h("POST /collections/{name}/points/delete", s.write("delete"))
	h("PUT /collections/{name}/points/vectors", s.write("update_vectors"))
	h("POST /collections/{name}/points/vectors/delete", s.write("delete_vectors"))
	h("POST /collections/{name}/points/payload", s.write("set_payload"))
	h("PUT /collections/{name}/points/payload", s.write("overwrite_payload"))
	h("POST /collections/{name}/points/payload/delete", s.write("delete_payload"))
	h("POST /collections/{name}/points/payload/clear", s.write("clear_payload"))
	h("POST /collections/{name}/points/batch", s.updateBatch)
	h("POST /collections/{name}/points/count", read(s, s.runCount))
	h("POST /collections/{name}/points/scroll", read(s, s.runScroll))
	h("POST /collections/{name}/points/query", read(s, s.runQuery))
	h("POST /collections/{name}/points/query/batch", read(s, batch(s.runQuery)))
	h("POST /collections/{name}/points/search", read(s, s.runSearch))
	h("POST /collections/{name}/points/search/batch", read(s, batch(s.runSearch)))
}

// ServeHTTP applies CORS and API-key checks, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.EnableCORS {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "*")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, errEnvelope{Status: errStatus{Error: "Must provide an API key or an Authorization bearer token"}})
		return
	}
	if name, ok := dotCollectionName(r.URL.Path); ok {
		s.dotCollection(w, r, name)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// dotCollectionName reports a collection name of "." or "..", which
// ServeMux would clean away into a redirect to another route.
func dotCollectionName(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/collections/")
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, "/")
	return name, name == "." || name == ".."
}

// dotCollection answers for a "." or ".." collection: creating one is a
// validation error, and no such collection can exist.
func (s *Server) dotCollection(w http.ResponseWriter, r *http.Request, name string) {
	start := time.Now()
	switch p := r.URL.Path; {
	case r.Method == http.MethodPut && p == "/collections/"+name:
		err := node.ValidateCollectionName(name)
		s.fail(w, r, start, &requestError{http.StatusUnprocessableEntity, "Validation error in path parameters: [" + err.Error() + "]"})
	case r.Method == http.MethodDelete && p == "/collections/"+name:
		s.ok(w, start, false)
	case r.Method == http.MethodGet && p == "/collections/"+name+"/exists":
		s.ok(w, start, map[string]bool{"exists": false})
	default:
		s.fail(w, r, start, point.ErrCollectionNotFound(name))
	}
}

// authorized checks service.api_key (full access) and read_only_api_key
// (reads only); health endpoints and the root stay open as in Qdrant.
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.APIKey == "" && s.opts.ReadOnlyAPIKey == "" {
		return true
	}
	switch r.URL.Path {
	case "/", "/healthz", "/livez", "/readyz":
		return true
	}
	key := r.Header.Get("api-key")
	if key == "" {
		if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
			key = strings.TrimPrefix(auth, "Bearer ")
		}
	}
	if key == "" {
		return false
	}
	if s.opts.APIKey != "" && key == s.opts.APIKey {
		return true
	}
	return s.opts.ReadOnlyAPIKey != "" && key == s.opts.ReadOnlyAPIKey && isReadOnly(r)
}

func isReadOnly(r *http.Request) bool {
	if r.Method == http.MethodGet {
		return true
	}
	if r.Method != http.MethodPost {
		return false
	}
	for _, suffix := range []string{"/points", "/points/count", "/points/scroll", "/points/query", "/points/query/batch", "/points/search", "/points/search/batch"} {
		if strings.HasSuffix(r.URL.Path, suffix) {
			return true
		}
	}
	return false
}
