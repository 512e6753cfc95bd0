package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// Read is one recorded read by id.
type Read struct {
	Key      uint64
	Peer     string
	Invoke   time.Duration
	Complete time.Duration
	Outcome  history.Outcome // OK: Value is what the point held; else no information
	Value    history.WriteID // 0: the point was absent
	Detail   string
}

func (r Read) String() string {
	return fmt.Sprintf("read key %d via %s [%.3fms, %.3fms] %s -> %d %s", r.Key, r.Peer,
		float64(r.Invoke)/1e6, float64(r.Complete)/1e6, r.Outcome, r.Value, r.Detail)
}

// reads records the reads of one collection; safe for concurrent use.
type reads struct {
	mu  sync.Mutex
	all []Read
}

func (rs *reads) add(r Read) {
	rs.mu.Lock()
	rs.all = append(rs.all, r)
	rs.mu.Unlock()
}

func (rs *reads) list() []Read {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]Read(nil), rs.all...)
}

// readByID reads one point with GET /collections/{c}/points/{id} and
// records it. 200 is the point's write id, 404 is absent; anything else
// says nothing of the point's value.
func readByID(ctx context.Context, hc *http.Client, rec *history.Recorder, rs *reads, base, peer, coll string, key uint64) Read {
	r := Read{Key: key, Peer: peer, Invoke: rec.Now()}
	status, body, err := get(ctx, hc, base+"/collections/"+coll+"/points/"+strconv.FormatUint(key, 10))
	r.Complete = rec.Now()
	switch {
	case err != nil:
		r.Outcome, r.Detail = history.Unknown, err.Error()
		if errors.Is(err, syscall.ECONNREFUSED) {
			r.Outcome = history.Fail
		}
	case status == http.StatusOK:
		var env struct {
			Result struct {
				Payload map[string]json.RawMessage `json:"payload"`
			} `json:"result"`
		}
		var w uint64
		if jerr := json.Unmarshal(body, &env); jerr != nil {
			r.Outcome, r.Detail = history.Fail, "decode: "+jerr.Error()
			break
		}
		if raw, ok := env.Result.Payload[history.PayloadField]; ok {
			if jerr := json.Unmarshal(raw, &w); jerr != nil {
				r.Outcome, r.Detail = history.Fail, "payload: "+jerr.Error()
				break
			}
		}
		r.Outcome, r.Value = history.OK, history.WriteID(w)
	case status == http.StatusNotFound && isPointNotFound(body):
		r.Outcome = history.OK
	default:
		r.Outcome, r.Detail = history.Fail, fmt.Sprintf("%d %s", status, history.ErrorText(body))
	}
	rs.add(r)
	return r
}

// isPointNotFound tells a missing point from a missing collection.
func isPointNotFound(body []byte) bool {
	return !containsFold(history.ErrorText(body), "collection")
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func get(ctx context.Context, hc *http.Client, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// worker sends one client's operations to one peer until ctx ends: 55%
// upserts, 15% deletes, 30% reads by id, over keys 1..keys.
func worker(ctx context.Context, rng *rand.Rand, cl *history.Client, hc *http.Client, rs *reads, keys int) {
	for ctx.Err() == nil {
		key := uint64(rng.IntN(keys) + 1)
		var refused bool
		switch n := rng.IntN(100); {
		case n < 55:
			refused = strings.HasPrefix(cl.Upsert(context.Background(), key).Detail, "connection refused")
		case n < 70:
			refused = strings.HasPrefix(cl.Delete(context.Background(), key).Detail, "connection refused")
		default:
			rctx, cancel := context.WithTimeout(context.Background(), cl.Timeout)
			r := readByID(rctx, hc, cl.Rec, rs, cl.BaseURL, cl.Peer, cl.Collection, key)
			cancel()
			refused = r.Outcome == history.Fail && containsFold(r.Detail, "refused")
		}
		if refused {
			// The peer is down: back off instead of spinning.
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}
