package main

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
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the client side, the same for both setups: seeded data,
// the collection, the load and the queries.

// apiError is a non-2xx answer.
type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }

// call sends a request with a JSON body (raw bytes, or any value to
// marshal; nil for none) and decodes the envelope's result into out.
func call(ctx context.Context, hc *http.Client, method, u string, body, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		if len(data) > 500 {
			data = data[:500]
		}
		return &apiError{status: resp.StatusCode, body: string(data)}
	}
	if out == nil {
		return nil
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("decode envelope: %w", err)
	}
	return json.Unmarshal(env.Result, out)
}

func getJSON(hc *http.Client, u string, out any) error {
	return call(context.Background(), hc, http.MethodGet, u, nil, out)
}

// vectors draws n seeded Gaussian vectors (stream picks the generator's
// stream: data and queries differ).
func vectors(seed uint64, stream uint64, n, dim int) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, stream))
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		out[i] = v
	}
	return out
}

// createCollection creates the collection through the first endpoint with
// the shard parameters (shards 0: none sent); a server that refuses them
// gets the plain request, and the note says so.
func createCollection(hc *http.Client, base, name string, dim int, distance string, shards, replication, indexKB int) (string, error) {
	req := map[string]any{"vectors": map[string]any{"size": dim, "distance": distance}}
	if indexKB > 0 {
		// The same threshold for both setups, so that a shard smaller than
		// the default threshold is indexed as the single node's collection is.
		req["optimizers_config"] = map[string]any{"indexing_threshold": indexKB}
	}
	if shards == 0 {
		return "no shard parameters", call(context.Background(), hc, http.MethodPut, base+"/collections/"+name, req, nil)
	}
	req["shard_number"], req["replication_factor"] = shards, replication
	note := fmt.Sprintf("shard_number %d, replication_factor %d", shards, replication)
	err := call(context.Background(), hc, http.MethodPut, base+"/collections/"+name, req, nil)
	var ae *apiError
	if err != nil && errors.As(err, &ae) && ae.status/100 == 4 {
		delete(req, "shard_number")
		delete(req, "replication_factor")
		return note + " refused (" + ae.body + "), created without them",
			call(context.Background(), hc, http.MethodPut, base+"/collections/"+name, req, nil)
	}
	return note, err
}

// waitCollection waits until every endpoint knows the collection and
// reports it green (optimizations done); it returns the last status seen.
func waitCollection(hc *http.Client, bases []string, name string, timeout time.Duration) (string, error) {
	var status string
	err := poll(timeout, func() error {
		for _, b := range bases {
			var info struct {
				Status string `json:"status"`
			}
			if err := getJSON(hc, b+"/collections/"+name, &info); err != nil {
				return err
			}
			if status = info.Status; status != "green" {
				return fmt.Errorf("%s: status %s", b, status)
			}
		}
		return nil
	})
	return status, err
}

// encodeBatches pre-encodes the upsert bodies, so that encoding stays out
// of the timed load.
func encodeBatches(data [][]float32, batch int) ([][]byte, error) {
	var out [][]byte
	for lo := 0; lo < len(data); lo += batch {
		hi := min(lo+batch, len(data))
		pts := make([]map[string]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			pts = append(pts, map[string]any{"id": i, "vector": data[i]})
		}
		b, err := json.Marshal(map[string]any{"points": pts})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// load sends the batches with `clients` concurrent clients, client c
// talking to endpoint c mod len(bases); it returns the wall time.
func load(hc *http.Client, bases []string, name, ordering string, batches [][]byte, clients int) (time.Duration, error) {
	q := url.Values{"wait": {"true"}}
	if ordering != "" {
		q.Set("ordering", ordering)
	}
	var next atomic.Int64
	errs := make(chan error, clients)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		u := bases[c%len(bases)] + "/collections/" + name + "/points?" + q.Encode()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(batches) {
					return
				}
				if err := call(context.Background(), hc, http.MethodPut, u, batches[i], nil); err != nil {
					errs <- fmt.Errorf("batch %d via %s: %w", i, u, err)
					next.Store(int64(len(batches))) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	return elapsed, <-errs
}

// queryStats is the outcome of a query run.
type queryStats struct {
	queries  int
	elapsed  time.Duration
	p50, p99 time.Duration
}

func (s queryStats) qps() float64 { return float64(s.queries) / s.elapsed.Seconds() }

// query runs searches (limit 10) with `clients` concurrent clients, client
// c talking to endpoint c mod len(bases), for dur (count == 0) or until
// count searches are done; each client first runs warm searches that are
// not counted.
func query(hc *http.Client, bases []string, name string, bodies [][]byte, clients int, dur time.Duration, count, warm int) (queryStats, error) {
	var issued atomic.Int64
	lat := make([][]time.Duration, clients)
	errs := make(chan error, clients)
	var ready, wg sync.WaitGroup
	begin := make(chan struct{})
	var deadline time.Time
	for c := range clients {
		u := bases[c%len(bases)] + "/collections/" + name + "/points/search"
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range warm {
				if err := call(context.Background(), hc, http.MethodPost, u, bodies[(c*warm+i)%len(bodies)], nil); err != nil {
					errs <- fmt.Errorf("warm search via %s: %w", u, err)
					ready.Done()
					return
				}
			}
			ready.Done()
			<-begin
			for i := c; ; i += clients {
				if count > 0 && issued.Add(1) > int64(count) || count == 0 && time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				if err := call(context.Background(), hc, http.MethodPost, u, bodies[i%len(bodies)], nil); err != nil {
					errs <- fmt.Errorf("search via %s: %w", u, err)
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	ready.Wait()
	start := time.Now()
	deadline = start.Add(dur)
	close(begin)
	wg.Wait()
	st := queryStats{elapsed: time.Since(start)}
	close(errs)
	if err := <-errs; err != nil {
		return st, err
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	st.queries = len(all)
	if len(all) > 0 {
		st.p50 = all[len(all)/2]
		st.p99 = all[min(len(all)-1, int(math.Ceil(0.99*float64(len(all))))-1)]
	}
	return st, nil
}

// searchBodies pre-encodes the search requests.
func searchBodies(qs [][]float32) ([][]byte, error) {
	out := make([][]byte, len(qs))
	for i, q := range qs {
		b, err := json.Marshal(map[string]any{"vector": q, "limit": 10})
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// exactBodies returns the search requests with params.exact set.
func exactBodies(bodies [][]byte) ([][]byte, error) {
	out := make([][]byte, len(bodies))
	for i, b := range bodies {
		var req map[string]any
		if err := json.Unmarshal(b, &req); err != nil {
			return nil, err
		}
		req["params"] = map[string]any{"exact": true}
		var err error
		if out[i], err = json.Marshal(req); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// topIDs runs the first n searches through one endpoint and returns the
// ids each found, to compare the setups' answers.
func topIDs(hc *http.Client, base, name string, bodies [][]byte, n int) ([][]string, error) {
	out := make([][]string, 0, n)
	for _, b := range bodies[:min(n, len(bodies))] {
		var hits []struct {
			ID json.RawMessage `json:"id"`
		}
		if err := call(context.Background(), hc, http.MethodPost, base+"/collections/"+name+"/points/search", b, &hits); err != nil {
			return nil, err
		}
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = string(h.ID)
		}
		out = append(out, ids)
	}
	return out, nil
}

// overlap is the mean share of a's ids per query that b also returned.
func overlap(a, b [][]string) float64 {
	if len(a) == 0 || len(a) != len(b) {
		return math.NaN()
	}
	var sum float64
	for i := range a {
		n := 0
		for _, id := range a[i] {
			if slices.Contains(b[i], id) {
				n++
			}
		}
		if len(a[i]) > 0 {
			sum += float64(n) / float64(len(a[i]))
		}
	}
	return sum / float64(len(a))
}

// countVia counts the collection's points (exact) through one endpoint.
func countVia(hc *http.Client, base, name string) (int, error) {
	var res struct {
		Count int `json:"count"`
	}
	err := call(context.Background(), hc, http.MethodPost, base+"/collections/"+name+"/points/count", map[string]any{"exact": true}, &res)
	return res.Count, err
}

func itoa(n int) string { return strconv.Itoa(n) }
