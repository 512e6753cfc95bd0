package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/shoaldb/shoal/internal/point"
)

type okEnvelope struct {
	Result any     `json:"result"`
	Status string  `json:"status"`
	Time   float64 `json:"time"`
}

type errStatus struct {
	Error string `json:"error"`
}

type errEnvelope struct {
	Status errStatus `json:"status"`
	Time   float64   `json:"time"`
}

// writeJSON writes v with code. The status line goes out with the first
// bytes of the body: encoding/json marshals the whole value before it
// writes, so a value that cannot be encoded (a NaN or infinite float64, a
// channel) is found before anything is sent, and is answered with a 500 in
// Qdrant's envelope instead of a 200 with an empty body. It returns that
// encoding error for the caller to log; a client gone away is not an error.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	hw := &headerOnWrite{w: w, code: code}
	enc := json.NewEncoder(hw)
	// Qdrant (serde_json) writes <, > and & as they are: "1 -> 2", not
	// "1 -\u003e 2".
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	if err == nil || hw.wrote {
		return nil
	}
	body, merr := json.Marshal(errEnvelope{Status: errStatus{Error: "Service internal error: failed to encode the response: " + err.Error()}})
	if merr != nil {
		body = []byte(`{"status":{"error":"Service internal error: failed to encode the response"},"time":0}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(body)
	return err
}

// headerOnWrite sends the status line and headers with the first write.
type headerOnWrite struct {
	w     http.ResponseWriter
	code  int
	wrote bool
}

func (h *headerOnWrite) Write(p []byte) (int, error) {
	if !h.wrote {
		h.wrote = true
		h.w.Header().Set("Content-Type", "application/json")
		h.w.WriteHeader(h.code)
	}
	return h.w.Write(p)
}

func (s *Server) ok(w http.ResponseWriter, start time.Time, result any) {
	if err := writeJSON(w, http.StatusOK, okEnvelope{Result: result, Status: "ok", Time: time.Since(start).Seconds()}); err != nil {
		s.log.Error("response not encodable, answered 500", "result", fmt.Sprintf("%T", result), "err", err)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, start time.Time, err error) {
	code, msg := statusOf(err)
	if secs, ok := retryAfter(err); ok {
		w.Header().Set("Retry-After", secs)
	}
	switch {
	case code >= 500 && r.Context().Err() != nil:
		// The client left (its read was cancelled): nobody reads this.
		s.log.Debug("request abandoned by its client", "method", r.Method, "path", r.URL.Path, "err", err)
	case code >= 500:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if werr := writeJSON(w, code, errEnvelope{Status: errStatus{Error: msg}, Time: time.Since(start).Seconds()}); werr != nil {
		s.log.Error("error response not encodable, answered 500", "method", r.Method, "path", r.URL.Path, "err", werr)
	}
}

// decodeBody reads a JSON body into v, keeping payload numbers exact.
// An empty body decodes as {} (Qdrant accepts a missing body where every
// field is optional).
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, s.maxBody)
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &requestError{http.StatusRequestEntityTooLarge,
				fmt.Sprintf("Format error in JSON body: JSON payload is larger than allowed (limit: %d bytes)", s.maxBody)}
		}
		return badRequest("Format error in JSON body: %v", err)
	}
	if len(data) == 0 {
		data = []byte("{}")
	}
	// Go's decoder would store invalid UTF-8 and lone surrogate escapes as
	// U+FFFD and keep numbers beyond float64 as text: Qdrant's parser
	// refuses them, and so does Shoal, with the same words.
	if err := point.CheckText(data); err != nil {
		return formatError(err)
	}
	if err := point.DecodeJSON(data, v); err != nil {
		return formatError(err)
	}
	return nil
}

// queryWait parses ?wait= (default false).
func queryWait(r *http.Request) (bool, error) {
	return queryBool(r, "wait", false)
}

func queryBool(r *http.Request, key string, def bool) (bool, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("Query deserialize error: %s: provided string was not `true` or `false`", key)
	}
	return b, nil
}

// queryTimeout parses ?timeout= seconds (optional, >= 1).
func queryTimeout(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("timeout")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n < 1 {
		return 0, badRequest("Query deserialize error: timeout: invalid value %q, expected an integer of at least 1", v)
	}
	return time.Duration(n) * time.Second, nil
}
