package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// The search workload: clients send exact searches (params.exact, limit =
// the number of keys, so that every point comes back) through every peer,
// and the checkers below hold each acknowledged answer to the register
// history of the same collection.

// Search checkers, as named in the table; each counts searches (one
// search that breaks a rule for several keys counts once).
const (
	// CheckSearchMissed: an acknowledged search lacks a key whose upsert
	// was acknowledged before the search was invoked, with no other
	// operation on the key that may have taken effect after that upsert
	// and before the search completed.
	CheckSearchMissed = "search missed acknowledged"
	// CheckSearchDeleted: an acknowledged search returns a key whose
	// delete was acknowledged before the search was invoked, with no
	// upsert of it that may have taken effect after that delete and before
	// the search completed.
	CheckSearchDeleted = "search returned deleted"
	// CheckSearchPhantom: a search that returns a point whose payload
	// write id no upsert of that key wrote.
	CheckSearchPhantom = "search phantom"
	// CheckSearchWrong: a search with a score that is not the exact score
	// of the query against the vector of the write the payload names (a
	// vector from another write, or a wrong distance), hits out of score
	// order, or one key returned twice.
	CheckSearchWrong = "search wrong scores"
	// CheckSearchStale: a search that returns a point whose write an
	// acknowledged update of the key had certainly replaced before the search was
	// invoked (the stale reads rule, staleReads, applied to each hit), when
	// CheckSearchDeleted did not already count the key.
	CheckSearchStale = "search stale values"
)

// searchCheckers are the checkers of this file, in table order.
var searchCheckers = []string{CheckSearchMissed, CheckSearchDeleted, CheckSearchStale, CheckSearchPhantom, CheckSearchWrong}

// scoreTolerance bounds the difference between a returned score and the
// score computed here (float32 arithmetic on both sides).
const scoreTolerance = 1e-4

// pointVector is the vector an upsert of write id writes (Run sets it as
// history.Client.Vector): dim floats derived from the write id, so a
// point's vector names the write it came from as its payload does.
func pointVector(id history.WriteID, dim int) []float32 {
	v := make([]float32, max(dim, 1))
	for i := range v {
		v[i] = float32((uint64(id)*2654435761+uint64(i)*40503)%1000)/1000 + 0.001
	}
	return v
}

// dotScore is the Dot score of query q against the vector of write id.
func dotScore(q []float32, id history.WriteID) float64 {
	var s float32
	for i, x := range pointVector(id, len(q)) {
		s += q[i] * x
	}
	return float64(s)
}

// Hit is one point of a search answer.
type Hit struct {
	Key   uint64
	Write history.WriteID // the payload's write id; 0: none
	Score float64
}

// Search is one recorded search.
type Search struct {
	Peer     string
	Invoke   time.Duration
	Complete time.Duration
	Outcome  history.Outcome // OK: Hits is the answer; else no information
	Query    []float32
	Hits     []Hit
	Detail   string
}

func (s Search) String() string {
	return fmt.Sprintf("search via %s [%.3fms, %.3fms] %s: %d hits %s", s.Peer,
		float64(s.Invoke)/1e6, float64(s.Complete)/1e6, s.Outcome, len(s.Hits), s.Detail)
}

// searches records the searches of one collection; safe for concurrent
// use.
type searches struct {
	mu  sync.Mutex
	all []Search
}

func (ss *searches) add(s Search) {
	ss.mu.Lock()
	ss.all = append(ss.all, s)
	ss.mu.Unlock()
}

func (ss *searches) list() []Search {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]Search(nil), ss.all...)
}

// doSearch sends one exact search through one peer and records it: a
// transport error is unknown (a refused connection fails), 200 is the
// answer, anything else fails, as reads by id.
func doSearch(ctx context.Context, hc *http.Client, now func() time.Duration, ss *searches, base, peer, coll string, q []float32, limit int) Search {
	s := Search{Peer: peer, Query: q, Invoke: now()}
	status, body, err := post(ctx, hc, base+"/collections/"+url.PathEscape(coll)+"/points/search",
		map[string]any{"vector": q, "limit": limit, "with_payload": true, "params": map[string]any{"exact": true}})
	s.Complete = now()
	switch {
	case err != nil:
		s.Outcome, s.Detail = history.Unknown, err.Error()
		if errors.Is(err, syscall.ECONNREFUSED) {
			s.Outcome = history.Fail
		}
	case status == http.StatusOK:
		hits, derr := decodeHits(body)
		if derr != nil {
			s.Outcome, s.Detail = history.Fail, "decode: "+derr.Error()
			break
		}
		s.Outcome, s.Hits = history.OK, hits
	default:
		s.Outcome, s.Detail = history.Fail, fmt.Sprintf("%d %s", status, history.ErrorText(body))
	}
	ss.add(s)
	return s
}

func decodeHits(body []byte) ([]Hit, error) {
	var env struct {
		Result []struct {
			ID      json.RawMessage            `json:"id"`
			Score   float64                    `json:"score"`
			Payload map[string]json.RawMessage `json:"payload"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	hits := make([]Hit, 0, len(env.Result))
	for _, r := range env.Result {
		var h Hit
		if err := json.Unmarshal(r.ID, &h.Key); err != nil {
			return nil, fmt.Errorf("point id %s: %w", r.ID, err)
		}
		h.Score = r.Score
		if raw, ok := r.Payload[history.PayloadField]; ok {
			var w uint64
			if err := json.Unmarshal(raw, &w); err != nil {
				return nil, fmt.Errorf("point %d: %s is %s", h.Key, history.PayloadField, raw)
			}
			h.Write = history.WriteID(w)
		}
		hits = append(hits, h)
	}
	return hits, nil
}

func post(ctx context.Context, hc *http.Client, u string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	return send(ctx, hc, http.MethodPost, u, b)
}

// send performs one request with an optional JSON body and returns the
// status and at most 1 MiB of the answer.
func send(ctx context.Context, hc *http.Client, method, u string, b []byte) (int, []byte, error) {
	var rd io.Reader
	if b != nil {
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if b != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, data, nil
}

// searchWorker sends exact searches with a random query through one peer
// until ctx ends, one every 100-300 ms (the register workload dominates).
func searchWorker(ctx context.Context, rng *rand.Rand, hc *http.Client, now func() time.Duration, ss *searches, base, peer, coll string, keys, dim int, timeout time.Duration) {
	for ctx.Err() == nil {
		q := make([]float32, dim)
		for i := range q {
			q[i] = float32(rng.Float64()*2 - 1)
		}
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		s := doSearch(sctx, hc, now, ss, base, peer, coll, q, keys)
		cancel()
		pause := time.Duration(100+rng.IntN(200)) * time.Millisecond
		if s.Outcome == history.Fail && containsFold(s.Detail, "refused") {
			pause = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}

// searchFinding is one search checker's finding.
type searchFinding struct {
	checker string
	search  Search
	key     uint64 // the first key found
	why     string
	more    int // further keys found by the same checker in the search
}

// mayFollow reports whether x may take effect after o: x is another
// operation and did not certainly complete before o was invoked (an
// unknown operation may take effect at any later time).
func mayFollow(x, o history.Op) bool {
	return x.ID != o.ID && !(x.Outcome != history.Unknown && x.Complete < o.Invoke)
}

// checkSearches holds every acknowledged search to the register history
// h of its collection; it returns at most one finding per search and
// checker.
func checkSearches(h history.History, ss []Search) []searchFinding {
	byKey := map[uint64][]history.Op{}
	byID := map[history.WriteID]history.Op{}
	for _, op := range h {
		byKey[op.Key] = append(byKey[op.Key], op)
		byID[op.ID] = op
	}
	keys := slices.Sorted(mapKeys(byKey))
	var out []searchFinding
	for _, s := range ss {
		if s.Outcome != history.OK {
			continue
		}
		// One finding per search and checker (a search is counted once,
		// as a read is), naming its first keys.
		found := map[string]*searchFinding{}
		var order []string
		add := func(checker string, key uint64, format string, args ...any) {
			why := fmt.Sprintf(format, args...)
			f := found[checker]
			if f == nil {
				f = &searchFinding{checker: checker, search: s, key: key, why: why}
				found[checker] = f
				order = append(order, checker)
				return
			}
			if f.more++; f.more <= 4 {
				f.why += "\n    " + why
			}
		}
		returned := map[uint64]Hit{}
		for i, hit := range s.Hits {
			if _, dup := returned[hit.Key]; dup {
				add(CheckSearchWrong, hit.Key, "key %d returned twice", hit.Key)
			}
			returned[hit.Key] = hit
			if i > 0 && hit.Score > s.Hits[i-1].Score+scoreTolerance {
				add(CheckSearchWrong, hit.Key, "key %d (score %.6f) after key %d (score %.6f): not in score order",
					hit.Key, hit.Score, s.Hits[i-1].Key, s.Hits[i-1].Score)
			}
			w, ok := byID[hit.Write]
			switch {
			case hit.Write == 0 || !ok || w.Key != hit.Key || w.Kind != history.Upsert:
				add(CheckSearchPhantom, hit.Key, "key %d returned with write %d, which no upsert of key %d wrote", hit.Key, hit.Write, hit.Key)
				continue
			case w.Outcome == history.Fail:
				add(CheckFailedVisible, hit.Key, "key %d returned with write %d, refused: %s", hit.Key, hit.Write, w)
			}
			if want := dotScore(s.Query, hit.Write); math.Abs(want-hit.Score) > scoreTolerance {
				add(CheckSearchWrong, hit.Key, "key %d (write %d) scored %.6f, the query against its vector scores %.6f", hit.Key, hit.Write, hit.Score, want)
			}
		}
		deleted := map[uint64]bool{}
		for _, k := range keys {
			ops := byKey[k]
			_, present := returned[k]
			for _, u := range ops {
				// u: an acknowledged update before the search whose effect
				// (present or absent) nothing could have undone by then.
				if u.Outcome != history.OK || u.Complete >= s.Invoke || present == (u.Kind == history.Upsert) {
					continue
				}
				undone := false
				for _, x := range ops {
					if x.Invoke >= s.Complete || !mayFollow(x, u) {
						continue
					}
					// Any operation may undo an upsert (as the checker is
					// specified: a failed or unknown one too); only an
					// upsert may undo a delete.
					if u.Kind == history.Upsert || x.Kind == history.Upsert {
						undone = true
						break
					}
				}
				if undone {
					continue
				}
				if u.Kind == history.Upsert {
					add(CheckSearchMissed, k, "key %d missing, yet %s was acknowledged before the search and nothing else touched the key", k, u)
				} else {
					deleted[k] = true
					add(CheckSearchDeleted, k, "key %d returned (write %d), yet %s was acknowledged before the search and no upsert may follow it", k, returned[k].Write, u)
				}
				break
			}
		}
		// Each hit of a known write as a read by id.
		var rds []Read
		for _, k := range slices.Sorted(mapKeys(returned)) {
			hit := returned[k]
			if w, ok := byID[hit.Write]; ok && w.Key == k && w.Kind == history.Upsert && !deleted[k] {
				rds = append(rds, Read{Key: k, Peer: s.Peer, Invoke: s.Invoke, Complete: s.Complete, Outcome: history.OK, Value: hit.Write})
			}
		}
		for _, st := range staleReads(h, rds) {
			add(CheckSearchStale, st.read.Key, "search hit %s", st.why)
		}
		for _, c := range order {
			f := found[c]
			if f.more > 4 {
				f.why += fmt.Sprintf("\n    and %d more keys", f.more-4)
			}
			out = append(out, *f)
		}
	}
	return out
}

// searchContext prints a finding's search, its hit of the key, and the
// key's operations and nemesis events around it.
func searchContext(f searchFinding, h history.History, rds []Read, events []Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n    %s (query %v)\n", f.why, f.search, f.search.Query)
	for _, hit := range f.search.Hits {
		if hit.Key == f.key {
			fmt.Fprintf(&b, "    hit: key %d write %d score %.6f\n", hit.Key, hit.Write, hit.Score)
		}
	}
	b.WriteString(keyContext(h, rds, events, f.key, f.search.Invoke))
	return b.String()
}
