package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
)

// requestError is an error produced while decoding a request; it already
// carries its final status and text.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func formatError(err error) error {
	return &requestError{http.StatusBadRequest, "Format error in JSON body: " + err.Error()}
}

func badRequest(format string, args ...any) error {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func validationError(fields ...string) error {
	return &collection.ValidationError{Fields: fields}
}

// retryAfter is the Retry-After header of an error, in seconds, when it
// has one: a rate limit's refusal that can pass later.
func retryAfter(err error) (string, bool) {
	var rl *collection.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfterSeconds() == 0 {
		return "", false
	}
	return strconv.FormatInt(rl.RetryAfterSeconds(), 10), true
}

// statusOf maps an error to Qdrant's status code and message. It is the
// only place where error kinds meet HTTP.
func statusOf(err error) (int, string) {
	var re *requestError
	if errors.As(err, &re) {
		return re.status, re.msg
	}
	var fe *collection.FormatError
	if errors.As(err, &fe) {
		return http.StatusBadRequest, "Format error in JSON body: " + fe.Msg
	}
	var ve *collection.ValidationError
	if errors.As(err, &ve) {
		return http.StatusUnprocessableEntity, "Validation error in JSON body: [" + ve.Error() + "]"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusRequestTimeout, "Timeout: " + err.Error()
	}
	if errors.Is(err, collection.ErrClosed) {
		return http.StatusServiceUnavailable, "Service internal error: " + err.Error()
	}
	// A write refused for lack of disk space. Qdrant checks the free space
	// before it writes to the WAL and answers 500 "Service internal error:
	// No space left on device: WAL buffer size exceeds available disk
	// space" (its low-disk tests look for 500 and "No space left on
	// device"); the text is the refusal's own, whatever wraps it.
	var od *collection.OutOfDiskError
	if errors.As(err, &od) {
		return http.StatusInternalServerError, "Service internal error: " + od.Error()
	}
	// Strict mode: a forbidden request is Qdrant's StorageError::Forbidden,
	// a rate limit's refusal its RateLimitExceeded (with Retry-After, see
	// retryAfter).
	var sm *collection.StrictModeError
	if errors.As(err, &sm) {
		return http.StatusForbidden, "Forbidden: " + sm.Description
	}
	var rl *collection.RateLimitError
	if errors.As(err, &rl) {
		return http.StatusTooManyRequests, "Rate limiting exceeded: " + rl.Description
	}
	desc := point.DescriptionOf(err)
	switch point.KindOf(err) {
	case point.KindBadInput, point.KindAlreadyExists:
		code := http.StatusBadRequest
		if point.KindOf(err) == point.KindAlreadyExists {
			code = http.StatusConflict
		}
		return code, "Wrong input: " + desc
	case point.KindBadRequest:
		return http.StatusBadRequest, "Bad request: " + desc
	case point.KindNotFound:
		return http.StatusNotFound, "Not found: " + desc
	case point.KindValidation:
		return http.StatusUnprocessableEntity, "Validation error in JSON body: [" + desc + "]"
	case point.KindTimeout:
		return http.StatusRequestTimeout, "Timeout: " + desc
	case point.KindUnavailable:
		return http.StatusServiceUnavailable, "Service unavailable: " + desc
	default:
		return http.StatusInternalServerError, "Service internal error: " + err.Error()
	}
}
