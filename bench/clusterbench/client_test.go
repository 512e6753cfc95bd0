package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fake is a server that counts upserted points and searches per endpoint
// and refuses shard parameters when strict.
type fake struct {
	strict bool
	mu     sync.Mutex
	points int
	search int
	create []string
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/collections/bench":
		f.create = append(f.create, string(body))
		if f.strict && strings.Contains(string(body), "shard_number") {
			w.WriteHeader(400)
			io.WriteString(w, `{"status":{"error":"unknown field shard_number"}}`)
			return
		}
	case r.Method == http.MethodPut && r.URL.Path == "/collections/bench/points":
		if r.URL.Query().Get("wait") != "true" {
			w.WriteHeader(400)
			return
		}
		var req struct{ Points []json.RawMessage }
		json.Unmarshal(body, &req)
		f.points += len(req.Points)
	case r.URL.Path == "/collections/bench/points/search":
		f.search++
		io.WriteString(w, `{"result":[{"id":1,"score":1},{"id":2,"score":0.5}],"status":"ok"}`)
		return
	}
	io.WriteString(w, `{"result":true,"status":"ok"}`)
}

func TestCreateCollectionFallback(t *testing.T) {
	for _, strict := range []bool{false, true} {
		f := &fake{strict: strict}
		srv := httptest.NewServer(f)
		note, err := createCollection(srv.Client(), srv.URL, "bench", 4, "Cosine", 3, 2, 0)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 + map[bool]int{true: 1}[strict]; len(f.create) != want {
			t.Fatalf("strict %v: %d creates, want %d", strict, len(f.create), want)
		}
		if strict != strings.Contains(note, "refused") || !strings.Contains(f.create[0], `"shard_number":3`) {
			t.Fatalf("strict %v: note %q, first request %s", strict, note, f.create[0])
		}
		if strict && strings.Contains(f.create[1], "shard_number") {
			t.Fatalf("fallback still sends shard parameters: %s", f.create[1])
		}
	}
}

// TestLoadAndQuery: every batch is sent once, spread over the endpoints;
// a counted query run does exactly that many searches after the warm-up.
func TestLoadAndQuery(t *testing.T) {
	fakes := []*fake{{}, {}, {}}
	var bases []string
	for _, f := range fakes {
		srv := httptest.NewServer(f)
		defer srv.Close()
		bases = append(bases, srv.URL)
	}
	batches, err := encodeBatches(vectors(1, 1, 1000, 8), 64)
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 16 {
		t.Fatalf("%d batches", len(batches))
	}
	hc := &http.Client{}
	if _, err := load(hc, bases, "bench", "medium", batches, 3); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, f := range fakes {
		if f.points == 0 {
			t.Errorf("endpoint %d got no points", i)
		}
		total += f.points
	}
	if total != 1000 {
		t.Fatalf("%d points arrived, want 1000", total)
	}
	bodies, err := searchBodies(vectors(1, 2, 10, 8))
	if err != nil {
		t.Fatal(err)
	}
	st, err := query(hc, bases, "bench", bodies, 3, time.Hour, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	searches := 0
	for _, f := range fakes {
		searches += f.search
	}
	if st.queries != 100 || searches != 106 || st.p50 <= 0 || st.p99 < st.p50 {
		t.Fatalf("stats %+v, %d searches arrived (want 100 + 3x2 warm-up)", st, searches)
	}
	// A timed run stops at its deadline.
	st, err = query(hc, bases, "bench", bodies, 2, 50*time.Millisecond, 0, 0)
	if err != nil || st.queries == 0 || st.elapsed > 10*time.Second {
		t.Fatalf("timed run: %+v %v", st, err)
	}
}

func TestLoadReportsRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, `{"status":{"error":"boom"}}`)
	}))
	defer srv.Close()
	batches, _ := encodeBatches(vectors(1, 1, 10, 2), 5)
	if _, err := load(srv.Client(), []string{srv.URL}, "bench", "", batches, 2); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("load error %v", err)
	}
}

func TestOverlap(t *testing.T) {
	a := [][]string{{"1", "2"}, {"3", "4"}}
	if got := overlap(a, [][]string{{"2", "9"}, {"3", "4"}}); got != 0.75 {
		t.Fatalf("overlap %v", got)
	}
	if got := overlap(a, a[:1]); got == got { // NaN: different lengths
		t.Fatalf("overlap of unequal runs %v", got)
	}
}

func TestVectorsSeeded(t *testing.T) {
	a, b, c := vectors(7, 1, 3, 4), vectors(7, 1, 3, 4), vectors(7, 2, 3, 4)
	if a[2][3] != b[2][3] || a[2][3] == c[2][3] {
		t.Fatal("data must depend on seed and stream only")
	}
}
