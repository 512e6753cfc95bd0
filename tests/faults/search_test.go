package faults

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// TestCheckSearches holds the search checkers to hand-made histories of
// one key: a search that lacks an acknowledged upsert, or returns an
// acknowledged delete, with nothing that may have undone it, is counted;
// one concurrent with another operation of the key, or after an unknown
// one, is not; phantoms, refused writes, wrong scores, disorder and
// duplicates are counted whatever the history.
func TestCheckSearches(t *testing.T) {
	ms := time.Millisecond
	op := func(id history.WriteID, kind history.Kind, inv, comp time.Duration, o history.Outcome) history.Op {
		c := comp * ms
		if o == history.Unknown {
			c = history.Forever
		}
		return history.Op{ID: id, Kind: kind, Key: 1, Invoke: inv * ms, Complete: c, Outcome: o}
	}
	q := []float32{0.5, -0.25, 1, 0.75}
	hit := func(key uint64, w history.WriteID) Hit { return Hit{Key: key, Write: w, Score: dotScore(q, w)} }
	search := func(inv, comp time.Duration, hits ...Hit) Search {
		return Search{Peer: "peer-0", Invoke: inv * ms, Complete: comp * ms, Outcome: history.OK, Query: q, Hits: hits}
	}
	up, del, ok, unk, fail := history.Upsert, history.Delete, history.OK, history.Unknown, history.Fail
	for _, tc := range []struct {
		name   string
		ops    history.History
		search Search
		want   []string
	}{
		{"sees the upsert", history.History{op(1, up, 0, 10, ok)}, search(20, 30, hit(1, 1)), nil},
		{"misses an acknowledged upsert", history.History{op(1, up, 0, 10, ok)}, search(20, 30), []string{CheckSearchMissed}},
		{"misses an upsert acknowledged after a refused delete", history.History{op(1, del, 0, 3, fail), op(2, up, 5, 10, ok)}, search(20, 30), []string{CheckSearchMissed}},
		{"upsert concurrent with the search", history.History{op(1, up, 0, 25, ok)}, search(20, 30), nil},
		{"delete concurrent with the search", history.History{op(1, up, 0, 10, ok), op(2, del, 25, 40, ok)}, search(20, 30), nil},
		{"refused delete concurrent with the search", history.History{op(1, up, 0, 10, ok), op(2, del, 25, 26, fail)}, search(20, 30), nil},
		{"unknown delete before the upsert", history.History{op(1, del, 0, 0, unk), op(2, up, 5, 10, ok)}, search(20, 30), nil},
		{"pending upsert before the search", history.History{op(1, up, 0, 10, ok), op(2, up, 12, 0, unk)}, search(20, 30), nil},
		{"operation after the search", history.History{op(1, up, 0, 10, ok), op(2, del, 35, 40, ok)}, search(20, 30), []string{CheckSearchMissed}},
		{"absent after a delete", history.History{op(1, up, 0, 10, ok), op(2, del, 12, 15, ok)}, search(20, 30), nil},
		{"returns an acknowledged delete", history.History{op(1, up, 0, 10, ok), op(2, del, 12, 15, ok)}, search(20, 30, hit(1, 1)), []string{CheckSearchDeleted}},
		{"delete, unknown upsert before it", history.History{op(1, up, 0, 0, unk), op(2, del, 12, 15, ok)}, search(20, 30, hit(1, 1)), nil},
		{"delete, upsert concurrent with the search", history.History{op(1, up, 0, 10, ok), op(2, del, 12, 15, ok), op(3, up, 25, 40, ok)}, search(20, 30, hit(1, 3)), nil},
		{"delete, unknown delete", history.History{op(1, up, 0, 10, ok), op(2, del, 12, 15, ok), op(3, del, 16, 0, unk)}, search(20, 30, hit(1, 1)), []string{CheckSearchDeleted}},
		{"phantom write id", history.History{op(1, up, 0, 10, ok)}, search(20, 30, Hit{Key: 1, Write: 99}), []string{CheckSearchPhantom}},
		{"no write id", history.History{op(1, up, 0, 10, ok)}, search(20, 30, Hit{Key: 1}), []string{CheckSearchPhantom}},
		{"another key's write", history.History{op(1, up, 0, 10, ok)}, search(20, 30, hit(1, 1), hit(2, 1)), []string{CheckSearchPhantom}},
		{"a delete's id", history.History{op(1, up, 0, 10, ok), op(2, del, 12, 15, ok)}, search(20, 30, hit(1, 2)), []string{CheckSearchPhantom, CheckSearchDeleted}},
		{"refused upsert visible", history.History{op(1, up, 0, 10, fail)}, search(20, 30, hit(1, 1)), []string{CheckFailedVisible}},
		{"wrong score", history.History{op(1, up, 0, 10, ok)}, search(20, 30, Hit{Key: 1, Write: 1, Score: dotScore(q, 1) + 0.01}), []string{CheckSearchWrong}},
		{"score of another write's vector", history.History{op(1, up, 0, 10, ok), op(2, up, 11, 12, ok)}, search(20, 30, Hit{Key: 1, Write: 2, Score: dotScore(q, 1)}), []string{CheckSearchWrong}},
		{"twice", history.History{op(1, up, 0, 10, ok)}, search(20, 30, hit(1, 1), hit(1, 1)), []string{CheckSearchWrong}},
		{"older value", history.History{op(1, up, 0, 10, ok), op(2, up, 12, 15, ok)}, search(20, 30, hit(1, 1)), []string{CheckSearchStale}},
		{"older value, the newer concurrent", history.History{op(1, up, 0, 10, ok), op(2, up, 12, 25, ok)}, search(20, 30, hit(1, 1)), nil},
		{"older value, overlapping writes", history.History{op(1, up, 0, 14, ok), op(2, up, 12, 15, ok)}, search(20, 30, hit(1, 1)), nil},
		{"value before a delete, another upsert concurrent", history.History{op(1, up, 0, 10, ok), op(2, del, 12, 15, ok), op(3, up, 25, 40, ok)}, search(20, 30, hit(1, 1)), []string{CheckSearchStale}},
		{"failed search", history.History{op(1, up, 0, 10, ok)}, Search{Invoke: 20 * ms, Complete: 30 * ms, Outcome: fail}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range checkSearches(tc.ops, []Search{tc.search}) {
				got = append(got, f.checker)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("findings %v, want %v", got, tc.want)
			}
		})
	}
	// Out of score order: two keys, the second scored higher.
	h := history.History{op(1, up, 0, 10, ok), op(2, up, 0, 10, ok)}
	h[1].Key = 2
	a, b := hit(1, 1), hit(2, 2)
	if a.Score < b.Score {
		a, b = b, a
	}
	if f := checkSearches(h, []Search{search(20, 30, a, b)}); len(f) != 0 {
		t.Fatalf("in order: %+v", f)
	}
	if f := checkSearches(h, []Search{search(20, 30, b, a)}); len(f) != 1 || f[0].checker != CheckSearchWrong {
		t.Fatalf("out of order: %+v", f)
	}
	// A search missing both keys is one finding, naming both.
	f := checkSearches(h, []Search{search(20, 30)})
	if len(f) != 1 || f[0].checker != CheckSearchMissed || f[0].key != 1 || f[0].more != 1 || !strings.Contains(f[0].why, "key 2 missing") {
		t.Fatalf("two keys missed: %+v", f)
	}
}

// TestDoSearch: an exact search's request and answer as Shoal's REST API
// speaks them, and the outcomes of errors.
func TestDoSearch(t *testing.T) {
	var got map[string]any
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/collections/c/points/search" || r.Method != http.MethodPost {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Error(err)
		}
		w.WriteHeader(status)
		if status == http.StatusOK {
			_, _ = w.Write([]byte(`{"result":[{"id":3,"version":1,"score":0.5,"payload":{"history_write":7}},{"id":4,"version":1,"score":0.25,"payload":{}}],"status":"ok","time":0}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":{"error":"Service unavailable"},"time":0}`))
	}))
	defer srv.Close()
	ss := &searches{}
	now := func() time.Duration { return time.Millisecond }
	s := doSearch(t.Context(), srv.Client(), now, ss, srv.URL, "peer-0", "c", []float32{1, 2, 3, 4}, 64)
	if s.Outcome != history.OK || !slices.Equal(s.Hits, []Hit{{Key: 3, Write: 7, Score: 0.5}, {Key: 4, Score: 0.25}}) {
		t.Fatalf("search %+v", s)
	}
	if got["limit"] != float64(64) || got["with_payload"] != true || got["params"].(map[string]any)["exact"] != true {
		t.Fatalf("request %v", got)
	}
	status = http.StatusServiceUnavailable
	if s := doSearch(t.Context(), srv.Client(), now, ss, srv.URL, "peer-0", "c", []float32{1, 2, 3, 4}, 64); s.Outcome != history.Fail {
		t.Fatalf("503: %+v", s)
	}
	srv.Close()
	if s := doSearch(t.Context(), srv.Client(), now, ss, srv.URL, "peer-0", "c", []float32{1, 2, 3, 4}, 64); s.Outcome != history.Fail {
		t.Fatalf("refused connection: %+v", s)
	}
	if n := len(ss.list()); n != 3 {
		t.Fatalf("%d searches recorded", n)
	}
}
