package rest

import (
	"fmt"
	"testing"
	"time"
)

// TestSparseHistogram is Qdrant's test_convert_histogram.
func TestSparseHistogram(t *testing.T) {
	for _, tc := range []struct {
		bounds []float64
		counts []int
		total  int
		want   string
	}{
		{[]float64{0, 1, 2, 3, 4, 5}, []int{0, 0, 0, 0, 0, 0}, 0, "[]"},
		{[]float64{0, 1, 2, 3, 4, 5}, []int{0, 0, 0, 0, 0, 0}, 100, "[[5 0]]"},
		{[]float64{0, 1, 2, 3}, []int{1, 20, 300, 4000}, 5000, "[[0 1] [1 21] [2 321] [3 4321]]"},
		{[]float64{0, 1, 2, 3, 4, 5, 6}, []int{0, 0, 1, 0, 0, 1, 0}, 1, "[[1 0] [2 1] [4 1] [5 2] [6 2]]"},
	} {
		got := sparseHistogram(tc.bounds, tc.counts, tc.total)
		if s := fmt.Sprint(got); s != tc.want && !(len(got) == 0 && tc.want == "[]") {
			t.Errorf("%v %v %d: %s, want %s", tc.bounds, tc.counts, tc.total, s, tc.want)
		}
	}
}

// TestDurations: counts, min, max, total and the weighted average of the
// latest 128 timings (Qdrant's calculate_avg: the mean of the means of
// windows of up to nine).
func TestDurations(t *testing.T) {
	var d durations
	now := time.Date(2026, 1, 1, 0, 0, 0, 3_000_000, time.UTC)
	for i := 1; i <= 200; i++ {
		d.add(time.Duration(i)*time.Microsecond, now)
	}
	s := d.stats()
	if s.Count != 200 || *s.MinMicros != 1 || *s.MaxMicros != 200 || s.TotalMicros != 200*201/2 || !s.Last.Equal(now.Round(10*time.Millisecond)) {
		t.Fatalf("stats %+v", s)
	}
	// The latest 128 are 73..200, oldest first.
	var data []float64
	for v := 73; v <= 200; v++ {
		data = append(data, float64(v))
	}
	var want float64
	for i := range data {
		from := max(0, i-8)
		var w float64
		for _, v := range data[from : i+1] {
			w += v
		}
		want += w / float64(i+1-from)
	}
	want /= float64(len(data))
	if got := float64(*s.AvgMicros); got < want-0.01 || got > want+0.01 {
		t.Errorf("avg %v, want %v", got, want)
	}
	// 1..200 µs: 1 in le=1, 2..5 in le=5, 6..10, 11..50, 51..100, 101..200 in le=500.
	if fmt.Sprint(s.histogram) != "[[1 1] [5 5] [10 10] [50 50] [100 100] [500 200]]" {
		t.Errorf("histogram %v", s.histogram)
	}
	if got := qdrantRoute("GET /{$}"); got != "GET /" {
		t.Errorf("root route %q", got)
	}
	if got := qdrantRoute("DELETE /collections/{name}/index/{field}"); got != "DELETE /collections/{name}/index/{field_name}" {
		t.Errorf("index route %q", got)
	}
	if got := qdrantRoute("PUT /collections/{name}/vectors/{vector}"); got != "PUT /collections/{collection_name}/vectors/{vector_name}" {
		t.Errorf("vector name route %q", got)
	}
}
