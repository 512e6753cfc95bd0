package rest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/shoaldb/shoal/internal/node"
)

// metrics uses Qdrant's metric names where Qdrant has one.
type metrics struct {
	responses *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry, n *node.Node, version string) *metrics {
	m := &metrics{
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rest_responses_total", Help: "total number of responses",
		}, []string{"method", "endpoint", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rest_responses_duration_seconds", Help: "response duration histogram",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9),
		}, []string{"method", "endpoint"}),
	}
	appInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "app_info", Help: "information about the running server"}, []string{"name", "version"})
	appInfo.WithLabelValues("shoal", version).Set(1)
	collectionsTotal := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "collections_total", Help: "number of collections"},
		func() float64 { return float64(len(n.Collections())) })
	pointsTotal := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "collections_vector_total", Help: "total number of points in all collections"},
		func() float64 {
			total := 0
			for _, name := range n.Collections() {
				if c, err := n.Collection(name); err == nil {
					total += c.Len()
				}
			}
			return float64(total)
		})
	for _, c := range []prometheus.Collector{m.responses, m.duration, appInfo, collectionsTotal, pointsTotal} {
		_ = reg.Register(c) // a shared registry may already hold the process collectors
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

// instrument counts responses per route pattern.
func (m *metrics) instrument(pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		m.responses.WithLabelValues(r.Method, pattern, strconv.Itoa(rec.status)).Inc()
		m.duration.WithLabelValues(r.Method, pattern).Observe(time.Since(start).Seconds())
	})
}
