package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
)

// The phrases by which a server's error text marks an update's outcome,
// matched case-insensitively anywhere in the text. A server that cannot
// tell whether an update was applied (it reached fewer replicas than
// write_consistency_factor but may have been applied on some) says
// UnknownOutcomePhrase; a server error that guarantees nothing was applied
// says NotAppliedPhrase. The unknown phrase wins when both appear.
const (
	UnknownOutcomePhrase = "outcome is unknown"
	NotAppliedPhrase     = "not applied"
)

// Classify decides the outcome of an update from what the client saw: the
// HTTP status and body of the answer, or the transport error when there
// was none (then status and body are ignored). Every cluster test uses
// this one function, so that the rules are the same everywhere:
//
//  1. A transport error is Unknown (the request may have reached the
//     server: a timeout, a reset or closed connection), except a refused
//     connection (ECONNREFUSED), which is Fail: nothing was sent, and Go's
//     transport never replays a non-idempotent request that was partly
//     written.
//  2. 2xx is OK.
//  3. An error text that contains UnknownOutcomePhrase is Unknown, whatever
//     the status.
//  4. 408 (Qdrant's timeout: the update may still be applied) is Unknown.
//  5. Any other 4xx is Fail: a definite refusal (bad input, missing
//     collection, strict mode, rate limit).
//  6. 5xx is Fail when its error text contains NotAppliedPhrase, Unknown
//     otherwise (an internal error may come after a partial apply).
//  7. Anything else (1xx, 3xx) is Unknown.
//
// The detail names the status (or error) and the error text, for reports.
func Classify(status int, body []byte, err error) (Outcome, string) {
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return Fail, "connection refused: " + err.Error()
		}
		return Unknown, "transport: " + err.Error()
	}
	if status/100 == 2 {
		return OK, fmt.Sprintf("%d", status)
	}
	text := ErrorText(body)
	detail := fmt.Sprintf("%d %s", status, text)
	lower := strings.ToLower(text)
	switch {
	case strings.Contains(lower, UnknownOutcomePhrase):
		return Unknown, detail
	case status == http.StatusRequestTimeout:
		return Unknown, detail
	case status/100 == 4:
		return Fail, detail
	case status/100 == 5 && strings.Contains(lower, NotAppliedPhrase):
		return Fail, detail
	}
	return Unknown, detail
}

// ErrorText is the error message of a Qdrant error envelope
// ({"status":{"error":"..."}}), or the body itself (trimmed, at most 300
// bytes) when it is not one.
func ErrorText(body []byte) string {
	var env struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
	}
	if json.Unmarshal(body, &env) == nil && env.Status.Error != "" {
		return env.Status.Error
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
