package strict

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Error is a request strict mode forbids: Qdrant's CollectionError::
// StrictMode, whose APIs answer 403 "Forbidden: " + Description.
type Error struct{ Description string }

func (e *Error) Error() string { return e.Description }

// forbidden builds Qdrant's CollectionError::strict_mode(error, solution).
func forbidden(problem, solution string) error {
	return &Error{Description: problem + ". Help: " + solution}
}

// RateLimitError is a request a rate limit refuses: Qdrant's
// CollectionError::RateLimitExceeded, answered 429 "Rate limiting exceeded:
// " + Description.
type RateLimitError struct {
	Description string
	// RetryAfter is how long until the bucket holds the tokens; 0 when the
	// request can never pass (it costs more than the bucket holds).
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string { return e.Description }

// RetryAfterSeconds is the Retry-After header's value: whole seconds,
// rounded up so that a client does not retry too early; 0 for none.
func (e *RateLimitError) RetryAfterSeconds() int64 {
	if e.RetryAfter <= 0 {
		return 0
	}
	return int64((e.RetryAfter + time.Second - 1) / time.Second)
}

// FormatError is a strict_mode_config value of the wrong type (HTTP 400,
// "Format error in JSON body").
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return e.Msg }

// ValidationError is a strict_mode_config that decodes but breaks a rule
// (HTTP 422); Fields are "field: message" texts.
type ValidationError struct{ Fields []string }

func (e *ValidationError) Error() string { return strings.Join(e.Fields, ", ") }

// limit is Qdrant's check_limit_opt: value above max is refused, naming
// the parameter.
func limit(name string, value, max uint64) error {
	if value <= max {
		return nil
	}
	return limitError(name, strconv.FormatUint(value, 10), strconv.FormatUint(max, 10))
}

func limitError(name, value, max string) error {
	return forbidden(fmt.Sprintf("Limit exceeded %s > %s for \"%s\"", value, max, name),
		fmt.Sprintf("Reduce the \"%s\" parameter to or below %s.", name, max))
}

// rustFloat formats f as Rust's Display for f64 does: the shortest text
// that reads back the same, never an exponent (2.0 is "2").
func rustFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// rustFloat32 formats f as Rust's Display for f32.
func rustFloat32(f float32) string { return strconv.FormatFloat(float64(f), 'f', -1, 32) }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
