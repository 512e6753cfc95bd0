package rest

import (
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"
)

// Request statistics in Qdrant's shape (WebApiTelemetry): per route
// ("GET /collections/{name}") and response status, the count of
// responses, their durations (the average of the latest 128 as Qdrant
// weighs it, the minimum, the maximum, the total) and the time of the
// last. They feed /telemetry's requests section and the rest_responses_*
// families of /metrics.

const (
	avgDatasetLen    = 128 // Qdrant's AVG_DATASET_LEN
	slidingWindowLen = 8   // Qdrant's SLIDING_WINDOW_LEN
)

// bucketBoundsMicros are Qdrant's DEFAULT_BUCKET_BOUNDARIES_MICROS.
var bucketBoundsMicros = [...]float64{1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000, 10_000_000, 50_000_000}

// durations is Qdrant's OperationDurationsAggregator for successes (a REST
// response always counts as one: its status tells failures apart).
type durations struct {
	count     int
	timings   [avgDatasetLen]float32
	next      int
	looped    bool
	min, max  float32
	total     uint64 // microseconds
	last      time.Time
	buckets   [len(bucketBoundsMicros)]int
	hasMinMax bool
}

func (d *durations) add(dur time.Duration, now time.Time) {
	us := dur.Microseconds()
	if us < 0 {
		us = 0
	}
	d.total += uint64(us)
	f := float32(us)
	if !d.hasMinMax {
		d.min, d.max, d.hasMinMax = f, f, true
	} else {
		d.min, d.max = min(d.min, f), max(d.max, f)
	}
	for i, b := range bucketBoundsMicros {
		if float64(f) <= b {
			d.buckets[i]++
			break
		}
	}
	d.count++
	d.timings[d.next] = f
	d.next++
	if d.next == avgDatasetLen {
		d.next, d.looped = 0, true
	}
	// Qdrant rounds the time to hundredths of a second.
	d.last = now.UTC().Round(10 * time.Millisecond)
}

// avg is Qdrant's calculate_avg: the mean of the sliding-window means of
// the latest timings, oldest first.
func (d *durations) avg() float32 {
	var data []float32
	if d.looped {
		data = append(append(data, d.timings[d.next:]...), d.timings[:d.next]...)
	} else {
		data = d.timings[:d.next]
	}
	if len(data) == 0 {
		return 0
	}
	var sum float32
	for i := range data {
		from := max(0, i-slidingWindowLen)
		var w float32
		for _, v := range data[from : i+1] {
			w += v
		}
		sum += w / float32(i+1-from)
	}
	return sum / float32(len(data))
}

// opStats is Qdrant's OperationDurationStatistics.
type opStats struct {
	Count       int       `json:"count"`
	FailCount   int       `json:"fail_count,omitempty"`
	AvgMicros   *float32  `json:"avg_duration_micros,omitempty"`
	MinMicros   *float32  `json:"min_duration_micros,omitempty"`
	MaxMicros   *float32  `json:"max_duration_micros,omitempty"`
	TotalMicros uint64    `json:"total_duration_micros"`
	Last        time.Time `json:"last_responded"`
	// histogram is the sparse cumulative histogram (Qdrant's
	// duration_micros_histogram): (upper bound, count) pairs, the +Inf
	// bucket being Count. Not serialized, as in Qdrant.
	histogram [][2]float64
}

func (d *durations) stats() opStats {
	s := opStats{Count: d.count, TotalMicros: d.total, Last: d.last}
	if d.count > 0 {
		a := d.avg()
		s.AvgMicros = &a
	}
	if d.hasMinMax {
		mn, mx := d.min, d.max
		s.MinMicros, s.MaxMicros = &mn, &mx
	}
	s.histogram = sparseHistogram(bucketBoundsMicros[:], d.buckets[:], d.count)
	return s
}

// sparseHistogram is Qdrant's convert_histogram: a cumulative histogram
// that omits repeated counts, keeping the bound before a change.
func sparseHistogram(bounds []float64, counts []int, total int) [][2]float64 {
	var out [][2]float64
	cum := 0
	prev, hasPrev := 0.0, false
	for i, le := range bounds {
		c := counts[i]
		if c == 0 {
			prev, hasPrev = le, true
			continue
		}
		if hasPrev {
			out = append(out, [2]float64{prev, float64(cum)})
		}
		cum += c
		out = append(out, [2]float64{le, float64(cum)})
		hasPrev = false
	}
	if hasPrev && cum != total {
		out = append(out, [2]float64{prev, float64(cum)})
	}
	return out
}

// statusKey is a response status as a JSON object key.
type statusKey int

func (k statusKey) MarshalText() ([]byte, error) { return json.Marshal(int(k)) }

// requestStats collects the statistics of every route, globally and per
// collection. Safe for concurrent use.
type requestStats struct {
	mu           sync.Mutex
	byRoute      map[string]map[statusKey]*durations
	byCollection map[string]map[string]map[statusKey]*durations
}

func newRequestStats() *requestStats {
	return &requestStats{byRoute: map[string]map[statusKey]*durations{}, byCollection: map[string]map[string]map[statusKey]*durations{}}
}

// record counts one response of route (a "METHOD pattern" key) on
// collection ("" when none).
func (rs *requestStats) record(route, collection string, status int, dur time.Duration, now time.Time) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	at := func(m map[string]map[statusKey]*durations) {
		byStatus, ok := m[route]
		if !ok {
			byStatus = map[statusKey]*durations{}
			m[route] = byStatus
		}
		d, ok := byStatus[statusKey(status)]
		if !ok {
			d = &durations{}
			byStatus[statusKey(status)] = d
		}
		d.add(dur, now)
	}
	at(rs.byRoute)
	if collection != "" {
		m, ok := rs.byCollection[collection]
		if !ok {
			m = map[string]map[statusKey]*durations{}
			rs.byCollection[collection] = m
		}
		at(m)
	}
}

// routeStats is route -> status -> statistics.
type routeStats map[string]map[statusKey]opStats

func snapshotRoutes(m map[string]map[statusKey]*durations) routeStats {
	out := routeStats{}
	for route, byStatus := range m {
		o := map[statusKey]opStats{}
		for st, d := range byStatus {
			o[st] = d.stats()
		}
		out[route] = o
	}
	return out
}

// snapshot returns the statistics so far: per route, and per collection.
func (rs *requestStats) snapshot() (routeStats, map[string]routeStats) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	per := map[string]routeStats{}
	for c, m := range rs.byCollection {
		per[c] = snapshotRoutes(m)
	}
	return snapshotRoutes(rs.byRoute), per
}

// qdrantRoute names a route as Qdrant's telemetry does: "METHOD path" with
// Qdrant's parameter names ("/" for the root).
func qdrantRoute(pattern string) string {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return pattern
	}
	path = strings.TrimSuffix(path, "{$}")
	if path == "" {
		path = "/"
	}
	path = strings.ReplaceAll(path, "{field}", "{field_name}")
	if strings.HasSuffix(path, "/vectors/{vector}") {
		// Qdrant's vector_name_api names both of its path parameters so.
		path = strings.Replace(path, "{name}", "{collection_name}", 1)
		path = strings.ReplaceAll(path, "{vector}", "{vector_name}")
	}
	return method + " " + path
}

// sortedRoutes lists the keys of a routeStats in order.
func sortedRoutes(m routeStats) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
