package history

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// register is a fake Qdrant collection "c" behind net/http: upsert,
// delete and scroll (pages of 7, to exercise next_page_offset). Its
// updates are atomic under a lock, so it is a correct register per key;
// fault, when set, decides per update what the server does instead.
type register struct {
	mu       sync.Mutex
	points   map[uint64]json.RawMessage // id -> record
	fault    func(op string, id uint64) (applied bool, status int, msg string)
	seen     []string // the query strings of updates
	scrolled string   // the query string of the last scroll
}

func newRegister() *register { return &register{points: map[uint64]json.RawMessage{}} }

func (s *register) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/collections/c/points":
		s.seen = append(s.seen, r.URL.RawQuery)
		var req struct {
			Points []struct {
				ID      uint64          `json:"id"`
				Vector  json.RawMessage `json:"vector"`
				Payload json.RawMessage `json:"payload"`
			} `json:"points"`
		}
		if err := json.Unmarshal(body, &req); err != nil || len(req.Points) != 1 {
			reply(400, map[string]any{"status": map[string]string{"error": "Format error"}})
			return
		}
		p := req.Points[0]
		rec, _ := json.Marshal(map[string]any{"id": p.ID, "vector": p.Vector, "payload": p.Payload})
		s.update("upsert", p.ID, func() { s.points[p.ID] = rec }, reply)
	case r.Method == http.MethodPost && r.URL.Path == "/collections/c/points/delete":
		s.seen = append(s.seen, r.URL.RawQuery)
		var req struct {
			Points []uint64 `json:"points"`
		}
		if err := json.Unmarshal(body, &req); err != nil || len(req.Points) != 1 {
			reply(400, map[string]any{"status": map[string]string{"error": "Format error"}})
			return
		}
		id := req.Points[0]
		s.update("delete", id, func() { delete(s.points, id) }, reply)
	case r.Method == http.MethodPost && r.URL.Path == "/collections/c/points/scroll":
		s.scrolled = r.URL.RawQuery
		var req struct {
			Offset *uint64 `json:"offset"`
		}
		json.Unmarshal(body, &req)
		ids := make([]uint64, 0, len(s.points))
		for id := range s.points {
			if req.Offset == nil || id >= *req.Offset {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		var next any
		if len(ids) > 7 {
			next, ids = ids[7], ids[:7]
		}
		pts := make([]json.RawMessage, 0, len(ids))
		for _, id := range ids {
			pts = append(pts, s.points[id])
		}
		reply(200, map[string]any{"result": map[string]any{"points": pts, "next_page_offset": next}, "status": "ok"})
	default:
		reply(404, map[string]any{"status": map[string]string{"error": "Not found"}})
	}
}

func (s *register) update(op string, id uint64, apply func(), reply func(int, any)) {
	applied, status, msg := true, 200, ""
	if s.fault != nil {
		applied, status, msg = s.fault(op, id)
	}
	if applied {
		apply()
	}
	if status == 200 {
		reply(200, map[string]any{"result": map[string]any{"operation_id": 1, "status": "completed"}, "status": "ok"})
		return
	}
	reply(status, map[string]any{"status": map[string]string{"error": msg}})
}

// TestClientOutcomes: each kind of answer is recorded with its outcome;
// the query carries wait and ordering; the payload names the write id.
func TestClientOutcomes(t *testing.T) {
	reg := newRegister()
	srv := httptest.NewServer(reg)
	defer srv.Close()
	rec := NewRecorder()
	c := &Client{Rec: rec, BaseURL: srv.URL, Peer: "peer-1", Collection: "c", Ordering: "medium", Dim: 4, Timeout: 2 * time.Second}
	ctx := context.Background()

	if op := c.Upsert(ctx, 5); op.Outcome != OK || op.Kind != Upsert || op.Key != 5 || op.Peer != "peer-1" || op.Complete < op.Invoke {
		t.Fatalf("upsert: %v", op)
	}
	if q := reg.seen[0]; q != "ordering=medium&wait=true" {
		t.Fatalf("query %q", q)
	}
	reg.fault = func(string, uint64) (bool, int, string) { return false, 400, "Wrong input: bad" }
	if op := c.Upsert(ctx, 5); op.Outcome != Fail || !strings.Contains(op.Detail, "Wrong input") {
		t.Fatalf("refused upsert: %v", op)
	}
	reg.fault = func(string, uint64) (bool, int, string) { return true, 500, "the update's outcome is unknown" }
	if op := c.Delete(ctx, 5); op.Outcome != Unknown || op.Kind != Delete {
		t.Fatalf("unknown delete: %v", op)
	}
	reg.fault = nil
	if op := c.Upsert(ctx, 6); op.Outcome != OK {
		t.Fatalf("upsert: %v", op)
	}

	// A server that does not answer in time: Unknown.
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(block)
	sc := &Client{Rec: rec, BaseURL: slow.URL, Collection: "c", Timeout: 50 * time.Millisecond}
	if op := sc.Upsert(ctx, 7); op.Outcome != Unknown || op.Peer != slow.URL {
		t.Fatalf("timed out upsert: %v", op)
	}
	// A closed port: nothing was sent, Fail.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	dc := &Client{Rec: rec, BaseURL: dead.URL, Collection: "c"}
	if op := dc.Delete(ctx, 7); op.Outcome != Fail {
		t.Fatalf("refused connection: %v", op)
	}

	final, err := ReadFinal(ctx, nil, srv.URL, "c", ScrollOptions{Query: url.Values{"consistency": {"all"}}})
	if err != nil {
		t.Fatal(err)
	}
	if q := reg.scrolled; q != "consistency=all" {
		t.Fatalf("scroll query %q", q)
	}
	// Point 5 was deleted by the unknown delete (applied), 6 holds write 4.
	if len(final) != 1 || final[6] != 4 {
		t.Fatalf("final state %v", final)
	}
	h := rec.History()
	if r := Check(h, final); !r.OK() || r.Acknowledged != 2 || r.Failed != 2 || r.Unknown != 2 {
		t.Fatalf("%s\n%v", r, h)
	}
	nowait := Client{Rec: rec, BaseURL: srv.URL, Peer: "peer-1", Collection: "c", Ordering: "medium", Dim: 4, Timeout: 2 * time.Second}
	nowait.NoWait = true
	if op := nowait.Upsert(ctx, 6); op.Outcome != OK {
		t.Fatalf("upsert without wait: %v", op)
	}
	if q := reg.seen[len(reg.seen)-1]; q != "ordering=medium&wait=false" {
		t.Fatalf("query without wait %q", q)
	}
}

// TestClientsAgainstRegister runs concurrent clients overwriting and
// deleting a few keys through the REST client, reads the final state by
// scroll and checks it: a correct register passes, one that acknowledges
// some updates without applying them is caught.
func TestClientsAgainstRegister(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	for _, tc := range []struct {
		name  string
		lossy bool
	}{{"correct", false}, {"drops acknowledged updates", true}} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newRegister()
			if tc.lossy {
				// Upserts of odd keys are acknowledged and dropped: each
				// odd key ends absent, which only a delete after its last
				// acknowledged upsert explains (a chance of about 4^-10).
				reg.fault = func(op string, id uint64) (bool, int, string) { return op == "delete" || id%2 == 0, 200, "" }
			}
			srv := httptest.NewServer(reg)
			defer srv.Close()
			rec := NewRecorder()
			var wg sync.WaitGroup
			for cl := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(seed, uint64(cl+2)))
					c := &Client{Rec: rec, BaseURL: srv.URL, Peer: "client-" + strconv.Itoa(cl), Collection: "c", Dim: 2}
					for range 60 {
						key := uint64(rng.IntN(20))
						if rng.IntN(4) == 0 {
							c.Delete(context.Background(), key)
						} else {
							c.Upsert(context.Background(), key)
						}
					}
				}()
			}
			wg.Wait()
			final, err := ReadFinal(context.Background(), srv.Client(), srv.URL, "c", ScrollOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := Check(rec.History(), final)
			t.Logf("%s", strings.SplitN(r.String(), "\n", 2)[0])
			if r.Acknowledged != 240 {
				t.Fatalf("acknowledged %d of 240", r.Acknowledged)
			}
			if tc.lossy == r.OK() || tc.lossy && r.Lost == 0 {
				t.Fatalf("lossy=%v but report:\n%s", tc.lossy, r)
			}
		})
	}
}

func TestFinalStateGarbage(t *testing.T) {
	for _, body := range []string{
		`[{"id":"a8098c1a-f86e-11da-bd1a-00112444be1e","payload":{}}]`,
		`[{"id":1,"payload":{"history_write":"x"}}]`,
		`[{"id":1,"payload":[1]}]`,
		`[{"id":1},{"id":1}]`,
		`[{"id":-1}]`,
	} {
		var recs []Record
		if err := json.Unmarshal([]byte(body), &recs); err != nil {
			t.Fatal(err)
		}
		if _, err := FinalState(recs); err == nil {
			t.Errorf("FinalState(%s) accepted garbage", body)
		}
	}
	var recs []Record
	json.Unmarshal([]byte(`[{"id":3,"payload":null},{"id":4,"payload":{"history_write":9}}]`), &recs)
	final, err := FinalState(recs)
	if err != nil || fmt.Sprint(final) != "map[3:0 4:9]" {
		t.Fatalf("%v %v", final, err)
	}
}
