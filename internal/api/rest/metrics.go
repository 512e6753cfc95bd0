package rest

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// GET /metrics serves, in Prometheus' text format, Qdrant's metric
// families with its names, labels and help texts (app_info, collections_*,
// collection_*, cluster_*, rest_responses_*, memory_*: its
// src/common/metrics), computed at each scrape from the same statistics as
// /telemetry, next to Shoal's own (shoal_*, and the Go runtime's and the
// process's collectors) from the server's registry.
//
// As in Qdrant, rest_responses_* cover the search, recommend, scroll and
// upsert routes of its whitelist only, with the method and the path
// pattern in separate labels, and the timings (avg, min, max, histogram)
// of 200 responses only; ?per_collection=true labels them by collection
// instead.

// restEndpointWhitelist is Qdrant's REST_ENDPOINT_WHITELIST.
var restEndpointWhitelist = []string{
	"/collections/{name}/index",
	"/collections/{name}/points",
	"/collections/{name}/points/batch",
	"/collections/{name}/points/count",
	"/collections/{name}/points/delete",
	"/collections/{name}/points/discover",
	"/collections/{name}/points/discover/batch",
	"/collections/{name}/points/facet",
	"/collections/{name}/points/payload",
	"/collections/{name}/points/payload/clear",
	"/collections/{name}/points/payload/delete",
	"/collections/{name}/points/query",
	"/collections/{name}/points/query/batch",
	"/collections/{name}/points/query/groups",
	"/collections/{name}/points/recommend",
	"/collections/{name}/points/recommend/batch",
	"/collections/{name}/points/recommend/groups",
	"/collections/{name}/points/scroll",
	"/collections/{name}/points/search",
	"/collections/{name}/points/search/batch",
	"/collections/{name}/points/search/groups",
	"/collections/{name}/points/search/matrix/offsets",
	"/collections/{name}/points/search/matrix/pairs",
	"/collections/{name}/points/vectors",
	"/collections/{name}/points/vectors/delete",
}

// restTimingsStatus is Qdrant's REST_TIMINGS_FOR_STATUS.
const restTimingsStatus = 200

// metrics holds Shoal's own request metrics and the statistics behind
// Qdrant's.
type metrics struct {
	stats    *requestStats
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry, version, commit string) *metrics {
	m := &metrics{
		stats: newRequestStats(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_http_requests_total", Help: "REST requests answered, by route and status",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shoal_http_request_duration_seconds", Help: "REST request duration, by route",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9),
		}, []string{"method", "route"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "shoal_build_info", Help: "Shoal's version, the commit it was built from and the Qdrant API it speaks"},
		[]string{"version", "commit", "qdrant_api"})
	build.WithLabelValues(version, commit, APIVersion).Set(1)
	for _, c := range []prometheus.Collector{m.requests, m.duration, build} {
		_ = reg.Register(c) // a shared registry may hold them already
	}
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// instrument counts the responses of a route: in Shoal's metrics by its
// ServeMux pattern, in Qdrant's statistics by Qdrant's name for it.
func (m *metrics) instrument(pattern string, h http.Handler) http.Handler {
	route := qdrantRoute(pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		d := time.Since(start)
		key := route
		if !strings.Contains(key, " ") { // no route matched: "GET unknown"
			key = r.Method + " " + key
		}
		m.stats.record(key, collectionOf(r), rec.status, d, time.Now())
		m.requests.WithLabelValues(r.Method, pattern, strconv.Itoa(rec.status)).Inc()
		m.duration.WithLabelValues(r.Method, pattern).Observe(d.Seconds())
	})
}

// collectionOf names the collection a request addresses, as Qdrant's
// telemetry takes it: the path segment after /collections/.
func collectionOf(r *http.Request) string {
	rest, ok := strings.CutPrefix(r.URL.Path, "/collections/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) {
	perCollection, err := queryBool(r, "per_collection", false)
	if err == nil {
		_, err = queryBool(r, "anonymize", false)
	}
	if err != nil {
		s.fail(w, r, time.Now(), err)
		return
	}
	qdrant := prometheus.NewRegistry()
	qdrant.MustRegister(qdrantMetrics{s: s, perCollection: perCollection})
	promhttp.HandlerFor(prometheus.Gatherers{qdrant, s.opts.Registry}, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// qdrantMetrics computes Qdrant's families at each scrape. It describes
// nothing up front (an unchecked collector): which families and labels it
// yields depends on the node's state.
type qdrantMetrics struct {
	s             *Server
	perCollection bool
}

func (qdrantMetrics) Describe(chan<- *prometheus.Desc) {}

func (q qdrantMetrics) Collect(ch chan<- prometheus.Metric) {
	s := q.s
	gauge := func(name, help string, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, help, pairKeys(labels), nil), prometheus.GaugeValue, v, pairValues(labels)...)
	}
	counter := func(name, help string, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, help, pairKeys(labels), nil), prometheus.CounterValue, v, pairValues(labels)...)
	}

	gauge("app_info", "information about qdrant server", 1, "name", "shoal", "version", APIVersion)
	gauge("app_status_recovery_mode", "features enabled in qdrant server", 0)

	names := s.node.Collections()
	gauge("collections_total", "number of collections", float64(len(names)))
	var vectors float64
	for _, name := range names {
		c, err := s.node.Collection(name)
		if err != nil {
			continue
		}
		t := c.Telemetry()
		points, running := 0, 0
		byName := map[string]int{}
		for _, sh := range t.Shards {
			if sh.Local == nil {
				continue
			}
			points += sh.Local.NumPoints
			if sh.Local.Progress != nil {
				running++
			}
			for k, v := range sh.Local.NumVectorsByName {
				byName[k] += v
			}
		}
		for _, k := range slices.Sorted(maps.Keys(byName)) {
			vectors += float64(byName[k])
			gauge("collection_vectors", "amount of vectors grouped by vector name", float64(byName[k]), "collection", name, "vector", k)
		}
		gauge("collection_points", "approximate amount of points per collection", float64(points), "id", name)
		gauge("collection_running_optimizations", "number of currently running optimization tasks per collection", float64(running), "id", name)
	}
	gauge("collections_vector_total", "total number of vectors in all collections", vectors)

	q.clusterMetrics(gauge, counter)
	q.restMetrics(ch)

	mem := readMemory()
	gauge("memory_active_bytes", "Total number of bytes in active pages allocated by the application", float64(mem.ActiveBytes))
	gauge("memory_allocated_bytes", "Total number of bytes allocated by the application", float64(mem.AllocatedBytes))
	gauge("memory_metadata_bytes", "Total number of bytes dedicated to metadata", float64(mem.MetadataBytes))
	gauge("memory_resident_bytes", "Maximum number of bytes in physically resident data pages mapped", float64(mem.ResidentBytes))
	gauge("memory_retained_bytes", "Total number of bytes in virtual memory mappings", float64(mem.RetainedBytes))
}

type emit func(name, help string, v float64, labels ...string)

func (q qdrantMetrics) clusterMetrics(gauge, counter emit) {
	n := q.s.node
	if !n.Clustered() {
		gauge("cluster_enabled", "is cluster support enabled", 0)
		return
	}
	gauge("cluster_enabled", "is cluster support enabled", 1)
	st := n.ClusterStatus()
	gauge("cluster_peers_total", "total number of cluster peers", float64(len(st.Peers)))
	counter("cluster_term", "current cluster term", float64(st.Raft.Term))
	counter("cluster_commit", "index of last committed (finalized) operation cluster peer is aware of", float64(st.Raft.Commit),
		"peer_id", strconv.FormatUint(st.PeerID, 10))
	gauge("cluster_pending_operations_total", "total number of pending operations for cluster peer", float64(st.Raft.PendingOperations))
	voter := 0.0
	if st.Raft.IsVoter {
		voter = 1
	}
	gauge("cluster_voter", "is cluster peer a voter or learner", voter)
	counter("cluster_last_update_timestamp_seconds", "unix timestamp of last update", float64(time.Now().Unix()))
	gauge("cluster_working_state", "working state of the cluster", 1, "state", "working")
	gauge("cluster_working_state", "working state of the cluster", 0, "state", "stopped")
}

// restMetrics are Qdrant's rest_responses_* families (its
// OperationDurationMetricsBuilder).
func (q qdrantMetrics) restMetrics(ch chan<- prometheus.Metric) {
	global, per := q.s.metrics.stats.snapshot()
	type source struct {
		collection string
		stats      routeStats
	}
	sources := []source{{"", global}}
	if q.perCollection {
		sources = nil
		for _, c := range slices.Sorted(maps.Keys(per)) {
			sources = append(sources, source{c, per[c]})
		}
	}
	labels := []string{"method", "endpoint", "status"}
	if q.perCollection {
		labels = append(labels, "collection")
	}
	desc := func(name, help string) *prometheus.Desc { return prometheus.NewDesc("rest_"+name, help, labels, nil) }
	total := desc("responses_total", "total number of responses")
	fail := desc("responses_fail_total", "total number of failed responses")
	avg := desc("responses_avg_duration_seconds", "average response duration")
	mn := desc("responses_min_duration_seconds", "minimum response duration")
	mx := desc("responses_max_duration_seconds", "maximum response duration")
	hist := desc("responses_duration_seconds", "response duration histogram")
	for _, src := range sources {
		for _, route := range sortedRoutes(src.stats) {
			method, endpoint, _ := strings.Cut(route, " ")
			if _, found := slices.BinarySearch(restEndpointWhitelist, endpoint); !found {
				continue
			}
			byStatus := src.stats[route]
			statuses := slices.Sorted(maps.Keys(byStatus))
			for _, st := range statuses {
				o := byStatus[st]
				lv := []string{method, endpoint, strconv.Itoa(int(st))}
				if q.perCollection {
					lv = append(lv, src.collection)
				}
				ch <- prometheus.MustNewConstMetric(total, prometheus.CounterValue, float64(o.Count), lv...)
				ch <- prometheus.MustNewConstMetric(fail, prometheus.CounterValue, float64(o.FailCount), lv...)
				if st != restTimingsStatus {
					continue
				}
				secs := func(p *float32) float64 {
					if p == nil {
						return 0
					}
					return float64(*p) / 1e6
				}
				ch <- prometheus.MustNewConstMetric(avg, prometheus.GaugeValue, secs(o.AvgMicros), lv...)
				ch <- prometheus.MustNewConstMetric(mn, prometheus.GaugeValue, secs(o.MinMicros), lv...)
				ch <- prometheus.MustNewConstMetric(mx, prometheus.GaugeValue, secs(o.MaxMicros), lv...)
				buckets := map[float64]uint64{}
				for _, b := range o.histogram {
					buckets[b[0]/1e6] = uint64(b[1])
				}
				ch <- prometheus.MustNewConstHistogram(hist, uint64(o.Count), float64(o.TotalMicros)/1e6, buckets, lv...)
			}
		}
	}
}

func pairKeys(kv []string) []string {
	var out []string
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, kv[i])
	}
	return out
}

func pairValues(kv []string) []string {
	var out []string
	for i := 1; i < len(kv); i += 2 {
		out = append(out, kv[i])
	}
	return out
}
