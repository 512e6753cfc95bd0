package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
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

// bufs holds encoding buffers; one grown past maxPooledBuf by a large
// answer is dropped rather than kept.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuf = 64 << 10

// writeJSON encodes v completely before anything is sent, so that a value
// that cannot be encoded (a NaN or infinite float64, say) is answered with
// a 500 in Qdrant's envelope instead of a 200 with an empty or cut body.
// It returns the encoding error, which the caller logs.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	buf := bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuf {
			buf.Reset()
			bufs.Put(buf)
		}
	}()
	buf.Reset()
	err := json.NewEncoder(buf).Encode(v)
	if err != nil {
		buf.Reset()
		code = http.StatusInternalServerError
		msg := "Service internal error: failed to encode the response: " + err.Error()
		_ = json.NewEncoder(buf).Encode(errEnvelope{Status: errStatus{Error: msg}})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes()) // the client went away; nothing to do
	return err
}

func (s *Server) ok(w http.ResponseWriter, start time.Time, result any) {
	if err := writeJSON(w, http.StatusOK, okEnvelope{Result: result, Status: "ok", Time: time.Since(start).Seconds()}); err != nil {
		s.log.Error("response not encodable, answered 500", "result", fmt.Sprintf("%T", result), "err", err)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, start time.Time, err error) {
	code, msg := statusOf(err)
	if code >= 500 {
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

func queryOrdering(r *http.Request) error {
	switch r.URL.Query().Get("ordering") {
	case "", "weak", "medium", "strong":
		return nil
	default:
		return badRequest("Query deserialize error: ordering: unknown variant `%s`, expected one of `weak`, `medium`, `strong`", r.URL.Query().Get("ordering"))
	}
}
