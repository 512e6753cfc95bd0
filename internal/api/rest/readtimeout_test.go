package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// slowPoints is the size of the collection of the slow reads below.
const slowPoints = 20000

// slowFilter is 500 match conditions on a key that no point has: every
// point of an exact search evaluates all of them before it is scored.
func slowFilter() map[string]any {
	should := make([]any, 500)
	for i := range should {
		should[i] = map[string]any{"key": "g", "match": map[string]any{"value": i}}
	}
	return map[string]any{"should": should}
}

// slowBatch is a query batch of n exact, slow-filtered searches by vector.
func slowBatch(n int) map[string]any {
	searches := make([]any, n)
	for i := range searches {
		searches[i] = map[string]any{
			"query": []float32{1, float32(i), 0, -1}, "filter": slowFilter(), "limit": 1,
			"params": map[string]any{"exact": true},
		}
	}
	return map[string]any{"searches": searches}
}

// slowCollection fills collection "slow" with slowPoints points and
// returns the size of a slowBatch that takes about a minute without a
// timeout (the machine's speed decides; a search takes a few hundred
// milliseconds on the test machines), so that a 1s timeout falls well
// inside it.
func slowCollection(s *server) int {
	s.t.Helper()
	s.createCollection("slow", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	const batch = 2500
	for start := 0; start < slowPoints; start += batch {
		pts := make([]pointIn, batch)
		for i := range pts {
			id := start + i
			pts[i] = pointIn{ID: id, Vector: []float32{float32(id % 7), 1, float32(id % 3), 0}, Payload: map[string]any{"h": id}}
		}
		s.upsert("slow", pts...)
	}
	start := time.Now() // (an explicit timeout overrides a configured one)
	s.ok(http.MethodPost, "/collections/slow/points/query/batch?timeout=3600", slowBatch(1), nil)
	one := time.Since(start)
	n := min(max(int(time.Minute/max(one, time.Millisecond)), 20), 1000) // 1000: 20 MB of body
	s.t.Logf("one slow search took %v: batches of %d", one, n)
	return n
}

// TestReadTimeout: a read that outlasts ?timeout= answers what Qdrant
// answers when its shard search times out: 408 and "Timeout: Timeout
// error: Operation 'Search' timed out after 1s" (CollectionError::Timeout
// wrapped in StorageError::Timeout). The batch below takes many seconds
// without a timeout; the answer must come well before, as the search stops
// once its deadline passes. Without ?timeout=, Options.SearchTimeout
// (storage.performance.search_timeout_sec) bounds it the same way.
func TestReadTimeout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  rest.Options
		query string
	}{
		{"query param", rest.Options{}, "?timeout=1"},
		{"configured default", rest.Options{SearchTimeout: time.Second}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.opts)
			n := slowCollection(s)
			start := time.Now()
			s.fail(http.MethodPost, "/collections/slow/points/query/batch"+tc.query, slowBatch(n),
				http.StatusRequestTimeout, "Timeout: Timeout error: Operation 'Search' timed out after 1s")
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("the timed-out batch answered after %v", took) // liveness only
			}
			// The same server answers a read that fits in its timeout.
			var hits struct {
				Points []record `json:"points"`
			}
			s.ok(http.MethodPost, "/collections/slow/points/query"+tc.query, map[string]any{"query": []float32{1, 0, 0, 0}, "limit": 3}, &hits)
			if len(hits.Points) != 3 {
				t.Fatalf("%d hits, want 3", len(hits.Points))
			}
		})
	}
}

// TestReadTimeoutParam: every read route takes ?timeout= as Qdrant's
// ReadParams does (a positive number of seconds) and refuses anything
// else before reading.
func TestReadTimeoutParam(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.createIndex("c", "kw", "keyword")
	s.upsert("c", pointIn{ID: 1, Vector: []float32{1, 0}, Payload: map[string]any{"kw": "a"}})
	routes := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/collections/c/points/query", map[string]any{"query": []float32{1, 0}}},
		{http.MethodPost, "/collections/c/points/query/batch", map[string]any{"searches": []any{map[string]any{"query": []float32{1, 0}}}}},
		{http.MethodPost, "/collections/c/points/search", map[string]any{"vector": []float32{1, 0}, "limit": 1}},
		{http.MethodPost, "/collections/c/points/search/batch", map[string]any{"searches": []any{map[string]any{"vector": []float32{1, 0}, "limit": 1}}}},
		{http.MethodPost, "/collections/c/points/scroll", map[string]any{}},
		{http.MethodPost, "/collections/c/points/count", map[string]any{}},
		{http.MethodPost, "/collections/c/facet", map[string]any{"key": "kw"}},
		{http.MethodPost, "/collections/c/points", map[string]any{"ids": []int{1}}},
		{http.MethodGet, "/collections/c/points/1", nil},
	}
	for _, rt := range routes {
		s.ok(rt.method, rt.path+"?timeout=5", rt.body, nil)
		for _, bad := range []string{"0", "-1", "soon"} {
			s.fail(rt.method, rt.path+"?timeout="+bad, rt.body, http.StatusBadRequest,
				`Query deserialize error: timeout: invalid value "`+bad+`", expected an integer of at least 1`)
		}
	}
}

// TestReadStopsWhenClientLeaves: the handlers run under the request's
// context, so a client that gives up on a long batch stops the work: the
// handler returns long before the batch could have finished. The client
// leaves once the server has read the whole body (from then on the server
// notices a closed connection and cancels the request's context).
func TestReadStopsWhenClientLeaves(t *testing.T) {
	s := newServer(t, rest.Options{})
	n := slowCollection(s)
	const path = "/collections/slow/points/query/batch"
	bodyRead, handled := make(chan struct{}), make(chan struct{})
	inner := s.http.Config.Handler
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			defer close(handled)
			r.Body = &eofSignal{ReadCloser: r.Body, eof: bodyRead}
		}
		inner.ServeHTTP(w, r)
	}))
	defer hs.Close()

	body, err := json.Marshal(slowBatch(n))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	answered := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			err = errors.New("the batch answered " + resp.Status + " before the client left")
		}
		answered <- err
	}()
	select {
	case <-bodyRead:
	case err := <-answered:
		t.Fatalf("before the body was read: %v", err)
	}
	cancel()
	if err := <-answered; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want context.Canceled", err)
	}
	select {
	case <-handled:
	case <-time.After(20 * time.Second): // liveness only: the batch takes far longer
		t.Fatal("the handler still runs 20s after its client left")
	}
}

// eofSignal closes eof once its body has been read to the end.
type eofSignal struct {
	io.ReadCloser
	eof  chan struct{}
	once sync.Once
}

func (b *eofSignal) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(func() { close(b.eof) })
	}
	return n, err
}
