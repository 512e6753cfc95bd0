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
	// APIKey and AltAPIKey grant full access, ReadOnlyAPIKey reads only;
	// an empty key is disabled, and with all three empty every request is
	// allowed. AltAPIKey is Qdrant's second full-access key, for rotation.
	APIKey         string
	AltAPIKey      string
	ReadOnlyAPIKey string
	Version        string // Shoal's own version
	// Commit is the git commit Shoal was built from, reported by GET /;
	// "" or "unknown" reports null.
	Commit     string
	InstanceID string // telemetry id
	Logger     *slog.Logger
	Registry   *prometheus.Registry // metrics; a new one when nil
	Ready      func() bool          // readiness; always ready when nil
	// SearchTimeout bounds the reads that give no ?timeout=, as Qdrant's
	// storage.performance.search_timeout_sec does; 0 leaves them unbounded.
	SearchTimeout time.Duration
	// Cluster is the cluster.* configuration a peer runs with, reported
	// by /telemetry at details_level 2; nil standalone.
	Cluster *ClusterConfig
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
	keys    keys
	access  map[string]access // by ServeMux pattern, from routeTable
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
	s.metrics = newMetrics(opts.Registry, opts.Version, opts.Commit)
	s.keys = newKeys(opts.APIKey, opts.AltAPIKey, opts.ReadOnlyAPIKey)
	s.mux = http.NewServeMux()
	s.access = map[string]access{}
	for _, rt := range s.routeTable() {
		s.mux.Handle(rt.pattern, s.metrics.instrument(rt.pattern, http.HandlerFunc(rt.handle)))
		s.access[rt.pattern] = rt.access
	}
	return s
}

// route is one entry of the route table: a ServeMux pattern, what it demands
// of the caller's key, and its handler. The table is the one source of truth
// for routing and for access: the access check looks up the pattern that
// ServeMux matches for the request, never the path's text.
type route struct {
	pattern string
	access  access
	handle  func(http.ResponseWriter, *http.Request)
}

// routeTable lists every route. The access of each follows Qdrant 1.19: the
// read-only key may call GET routes and the POST routes that only read
// (retrieve, count, scroll, query, search, facet); everything else needs a
// full-access key; the root and the health probes need none.
func (s *Server) routeTable() []route {
	return []route{
		{"GET /{$}", accessOpen, s.root},
		{"GET /healthz", accessOpen, s.healthz},
		{"GET /livez", accessOpen, s.healthz},
		{"GET /readyz", accessOpen, s.readyz},
		{"GET /telemetry", accessRead, s.telemetry},
		{"GET /metrics", accessRead, s.metricsHandler},
		{"GET /issues", accessRead, s.getIssues},
		{"DELETE /issues", accessWrite, s.clearIssues},
		{"GET /quotas", accessRead, s.getQuotas},
		{"PUT /quotas", accessWrite, s.putQuotas},
		{"GET /cluster", accessRead, s.clusterStatus},
		{"DELETE /cluster/peer/{peer_id}", accessWrite, s.removePeer},
		{"POST /cluster/recover", accessWrite, s.recoverCluster},
		{"GET /cluster/metadata/keys", accessRead, s.listMetadataKeys},
		{"GET /cluster/metadata/keys/{key}", accessRead, s.getMetadataKey},
		{"PUT /cluster/metadata/keys/{key}", accessWrite, s.putMetadataKey},
		{"DELETE /cluster/metadata/keys/{key}", accessWrite, s.deleteMetadataKey},

		{"POST /snapshots", accessWrite, s.createFullSnapshot},
		{"GET /snapshots", accessRead, s.listFullSnapshots},
		{"GET /snapshots/{snapshot}", accessRead, s.getFullSnapshot},
		{"DELETE /snapshots/{snapshot}", accessWrite, s.deleteFullSnapshot},

		{"GET /collections", accessRead, s.listCollections},
		{"POST /collections/aliases", accessWrite, s.updateAliases},
		{"GET /aliases", accessRead, s.listAliases},
		{"GET /collections/{name}/aliases", accessRead, s.collectionAliases},
		{"GET /collections/{name}", accessRead, s.getCollection},
		{"PUT /collections/{name}", accessWrite, s.createCollection},
		{"PATCH /collections/{name}", accessWrite, s.updateCollection},
		{"DELETE /collections/{name}", accessWrite, s.deleteCollection},
		{"GET /collections/{name}/exists", accessRead, s.collectionExists},
		{"GET /collections/{name}/optimizations", accessRead, s.getOptimizations},
		{"PUT /collections/{name}/index", accessWrite, s.createIndex},
		{"DELETE /collections/{name}/index/{field}", accessWrite, s.deleteIndex},
		{"PUT /collections/{name}/vectors/{vector}", accessWrite, s.createVectorName},
		{"DELETE /collections/{name}/vectors/{vector}", accessWrite, s.deleteVectorName},
		{"POST /collections/{name}/facet", accessRead, read(s, s.runFacet)},
		{"GET /collections/{name}/cluster", accessRead, s.collectionCluster},
		{"POST /collections/{name}/snapshots", accessWrite, s.createSnapshot},
		{"GET /collections/{name}/snapshots", accessRead, s.listSnapshots},
		{"PUT /collections/{name}/snapshots/recover", accessWrite, s.recoverSnapshot},
		{"POST /collections/{name}/snapshots/upload", accessWrite, s.uploadSnapshot},
		{"GET /collections/{name}/snapshots/{snapshot}", accessRead, s.getSnapshot},
		{"DELETE /collections/{name}/snapshots/{snapshot}", accessWrite, s.deleteSnapshot},
		{"POST /collections/{name}/shards/{shard}/snapshots", accessWrite, s.withShard(s.createShardSnapshot)},
		{"GET /collections/{name}/shards/{shard}/snapshots", accessRead, s.withShard(s.listShardSnapshots)},
		{"PUT /collections/{name}/shards/{shard}/snapshots/recover", accessWrite, s.withShard(s.recoverShardSnapshot)},
		{"POST /collections/{name}/shards/{shard}/snapshots/upload", accessWrite, s.withShard(s.uploadShardSnapshot)},
		{"GET /collections/{name}/shards/{shard}/snapshots/{snapshot}", accessRead, s.withShard(s.getShardSnapshot)},
		{"DELETE /collections/{name}/shards/{shard}/snapshots/{snapshot}", accessWrite, s.withShard(s.deleteShardSnapshot)},
		{"GET /collections/{name}/shards/{shard}/snapshot", accessRead, s.withShard(s.streamShardSnapshot)},
		{"POST /collections/{name}/cluster", accessWrite, s.updateCollectionCluster},
		{"GET /collections/{name}/shards", accessRead, s.listShardKeys},
		{"PUT /collections/{name}/shards", accessWrite, s.createShardKey},
		{"POST /collections/{name}/shards/delete", accessWrite, s.dropShardKey},

		{"PUT /collections/{name}/points", accessWrite, s.write("upsert")},
		{"POST /collections/{name}/points", accessRead, read(s, s.runRetrieve)},
		{"GET /collections/{name}/points/{id}", accessRead, s.getPoint},
		{"POST /collections/{name}/points/delete", accessWrite, s.write("delete")},
		{"PUT /collections/{name}/points/vectors", accessWrite, s.write("update_vectors")},
		{"POST /collections/{name}/points/vectors/delete", accessWrite, s.write("delete_vectors")},
		{"POST /collections/{name}/points/payload", accessWrite, s.write("set_payload")},
		{"PUT /collections/{name}/points/payload", accessWrite, s.write("overwrite_payload")},
		{"POST /collections/{name}/points/payload/delete", accessWrite, s.write("delete_payload")},
		{"POST /collections/{name}/points/payload/clear", accessWrite, s.write("clear_payload")},
		{"POST /collections/{name}/points/batch", accessWrite, s.updateBatch},
		{"POST /collections/{name}/points/count", accessRead, read(s, s.runCount)},
		{"POST /collections/{name}/points/scroll", accessRead, read(s, s.runScroll)},
		{"POST /collections/{name}/points/query", accessRead, read(s, s.runQuery)},
		{"POST /collections/{name}/points/query/batch", accessRead, read(s, s.runQueryBatch)},
		{"POST /collections/{name}/points/search", accessRead, read(s, s.runSearch)},
		{"POST /collections/{name}/points/search/batch", accessRead, read(s, s.runSearchBatch)},
	}
}

// ServeHTTP answers CORS preflights, checks the caller's key against the
// access of the matched route, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = explainBodyTimeout(w, r)
	if s.opts.EnableCORS {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "*")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if s.keys.enabled() {
		if code, msg := decide(s.accessOf(r), s.keys.grantOf(r.Header)); code != 0 {
			writeJSON(w, code, errEnvelope{Status: errStatus{Error: msg}})
			return
		}
	}
	if name, ok := dotCollectionName(r.URL.Path); ok {
		s.dotCollection(w, r, name)
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.metrics.instrument(unknownRoute, http.HandlerFunc(s.noRoute)).ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// unknownRoute is the route name under which requests that match no route
// are counted, as Qdrant's telemetry counts them ("GET unknown").
const unknownRoute = "unknown"

// noRoute answers a request that matches no route, or a known path with a
// method it does not serve. Qdrant (actix-web, whose routes are guarded by
// method) answers both with 404 and an empty body; Shoal keeps the status
// and writes its usual error envelope, which every client reads, instead of
// net/http's plain-text 404 or 405.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.fail(w, r, start, &requestError{http.StatusNotFound, "Not found: no route for " + r.Method + " " + r.URL.EscapedPath()})
}

// accessOf is the access of the route that will serve r. A request that
// matches no route (404, 405, or a redirect to a cleaned path) needs a
// valid key of either kind, as in Qdrant, and reaches no handler.
func (s *Server) accessOf(r *http.Request) access {
	probe := r
	if name, ok := dotCollectionName(r.URL.Path); ok {
		// ServeMux would clean "." and ".." away; dotCollection serves
		// them as any other name, so they get that name's route.
		u := *r.URL
		u.Path = "/collections/_" + strings.TrimPrefix(r.URL.Path, "/collections/"+name)
		u.RawPath = ""
		probe = r.Clone(r.Context())
		probe.URL = &u
	}
	_, pattern := s.mux.Handler(probe)
	if a, ok := s.access[pattern]; ok {
		return a
	}
	return accessRead
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
		s.fail(w, r, start, point.CollectionNotFound(name))
	}
}
