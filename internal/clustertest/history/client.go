package history

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// PayloadField is the payload key under which an upsert stores its write
// id.
const PayloadField = "history_write"

// Client sends recorded updates to one peer's REST API. The zero HTTP
// uses http.DefaultClient's transport with Timeout per request.
type Client struct {
	Rec        *Recorder
	BaseURL    string // e.g. http://127.0.0.1:6333
	Peer       string // the name recorded with each operation (default BaseURL)
	Collection string
	// Ordering is the ordering query parameter: weak, medium, strong, or
	// "" to send none.
	Ordering string
	// Timeout bounds each request; an update that times out is Unknown.
	// 0 means 10 s.
	Timeout time.Duration
	HTTP    *http.Client
	// Vector builds the vector of an upsert (any JSON: a list, a map of
	// named vectors); nil writes Dim floats derived from the write id, so
	// that replicas that applied different writes differ in vectors too.
	Vector func(WriteID) any
	Dim    int
	// NoWait sends ?wait=false: an acknowledgement then means accepted
	// (written to the WAL of enough replicas), not applied.
	NoWait bool
}

// Upsert writes a point whose payload names a new write id, with
// ?wait=true (an acknowledgement then means applied, which the checker
// assumes), and records it. It returns the recorded operation.
func (c *Client) Upsert(ctx context.Context, key uint64) Op {
	id := c.Rec.Invoke(Upsert, key, c.peer())
	body := map[string]any{"points": []any{map[string]any{
		"id": key, "vector": c.vector(id), "payload": map[string]any{PayloadField: uint64(id)},
	}}}
	return c.send(ctx, id, http.MethodPut, "/points", body)
}

// Delete deletes a point by id, with ?wait=true, and records it.
func (c *Client) Delete(ctx context.Context, key uint64) Op {
	id := c.Rec.Invoke(Delete, key, c.peer())
	return c.send(ctx, id, http.MethodPost, "/points/delete", map[string]any{"points": []uint64{key}})
}

func (c *Client) peer() string {
	if c.Peer != "" {
		return c.Peer
	}
	return c.BaseURL
}

func (c *Client) vector(id WriteID) any {
	if c.Vector != nil {
		return c.Vector(id)
	}
	v := make([]float32, max(c.Dim, 1))
	for i := range v {
		v[i] = float32((uint64(id)*2654435761+uint64(i)*40503)%1000)/1000 + 0.001
	}
	return v
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// send performs one update and completes its record.
func (c *Client) send(ctx context.Context, id WriteID, method, path string, body any) Op {
	status, data, err := c.do(ctx, method, path, body)
	outcome, detail := Classify(status, data, err)
	op, err := c.Rec.Complete(id, outcome, detail)
	if err != nil {
		// Cannot happen: id came from Invoke and only send completes it.
		panic(err)
	}
	return op
}

func (c *Client) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	q := url.Values{"wait": {strconv.FormatBool(!c.NoWait)}}
	if c.Ordering != "" {
		q.Set("ordering", c.Ordering)
	}
	u := c.BaseURL + "/collections/" + url.PathEscape(c.Collection) + path + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		// The status came back but the body did not: a 2xx is still an
		// acknowledgement, anything else is judged on its status alone.
		if resp.StatusCode/100 == 2 {
			return resp.StatusCode, nil, nil
		}
		return 0, nil, err
	}
	return resp.StatusCode, data, nil
}

// Record is a point as scroll returns it.
type Record struct {
	ID      json.RawMessage `json:"id"`
	Vector  json.RawMessage `json:"vector"`
	Payload json.RawMessage `json:"payload"`
}

// ScrollOptions add to every scroll request.
type ScrollOptions struct {
	// Body is merged into the request body (shard_key, filter).
	Body map[string]any
	// Query is the query string (consistency=all).
	Query url.Values
}

// Scroll reads every point of a collection through one peer, page by page
// (1000 a page, with payload and vectors), following next_page_offset; a
// nil hc is http.DefaultClient.
func Scroll(ctx context.Context, hc *http.Client, baseURL, collection string, opts ScrollOptions) ([]Record, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	var all []Record
	var offset json.RawMessage
	for page := 0; ; page++ {
		body := map[string]any{"limit": 1000, "with_payload": true, "with_vector": true}
		for k, v := range opts.Body {
			body[k] = v
		}
		if offset != nil {
			body["offset"] = offset
		}
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		u := baseURL + "/collections/" + url.PathEscape(collection) + "/points/scroll"
		if len(opts.Query) > 0 {
			u += "?" + opts.Query.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("scroll page %d: %w", page, err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("scroll page %d: %w", page, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("scroll page %d: status %d: %s", page, resp.StatusCode, ErrorText(data))
		}
		var env struct {
			Result struct {
				Points []Record         `json:"points"`
				Next   *json.RawMessage `json:"next_page_offset"`
			} `json:"result"`
		}
		if err := json.Unmarshal(data, &env); err != nil {
			return nil, fmt.Errorf("scroll page %d: decode: %w", page, err)
		}
		all = append(all, env.Result.Points...)
		if env.Result.Next == nil || string(*env.Result.Next) == "null" {
			return all, nil
		}
		if string(*env.Result.Next) == string(offset) {
			return nil, fmt.Errorf("scroll page %d: next_page_offset %s repeats", page, offset)
		}
		offset = *env.Result.Next
	}
}

// FinalState turns scrolled records into Check's final state: point id ->
// the write id in its payload (0 when the payload has none). Ids that are
// not unsigned integers are an error: histories use numeric ids.
func FinalState(records []Record) (map[uint64]WriteID, error) {
	final := make(map[uint64]WriteID, len(records))
	for _, rec := range records {
		id, err := strconv.ParseUint(string(rec.ID), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("point id %s: not an unsigned integer", rec.ID)
		}
		if _, dup := final[id]; dup {
			return nil, fmt.Errorf("point %d returned twice", id)
		}
		var payload map[string]json.RawMessage
		if len(rec.Payload) > 0 && string(rec.Payload) != "null" {
			if err := json.Unmarshal(rec.Payload, &payload); err != nil {
				return nil, fmt.Errorf("point %d: payload: %w", id, err)
			}
		}
		var w uint64
		if raw, ok := payload[PayloadField]; ok {
			if err := json.Unmarshal(raw, &w); err != nil {
				return nil, fmt.Errorf("point %d: %s is %s, not a write id", id, PayloadField, raw)
			}
		}
		final[id] = WriteID(w)
	}
	return final, nil
}

// ReadFinal scrolls a collection through one peer and returns Check's
// final state. Read it after the cluster healed and every acknowledged
// update completed; a cluster whose replicas may disagree should be read
// through every peer (or with consistency=all) and its replicas compared
// with CompareReplicas.
func ReadFinal(ctx context.Context, hc *http.Client, baseURL, collection string, opts ScrollOptions) (map[uint64]WriteID, error) {
	records, err := Scroll(ctx, hc, baseURL, collection, opts)
	if err != nil {
		return nil, err
	}
	return FinalState(records)
}
