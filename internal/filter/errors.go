package filter

import "errors"

// Error kinds; every error from Parse and Validate wraps exactly one. The
// API layer maps ErrFormat and ErrUnsupported to 400 ("Format error in JSON
// body") and ErrValidation to 422 ("Validation error in JSON body"), as
// Qdrant does.
var (
	// ErrFormat is JSON that is not a filter: wrong types, unknown fields,
	// a missing required field, a bad key path.
	ErrFormat = errors.New("malformed filter")
	// ErrValidation is a well-formed filter that breaks a rule, such as a
	// field condition without any condition.
	ErrValidation = errors.New("invalid filter")
	// ErrUnsupported is a Qdrant condition that Shoal does not evaluate.
	// Every condition of Qdrant's filter language is evaluated now, so
	// Parse no longer returns it; it stays for callers that map it.
	ErrUnsupported = errors.New("unsupported filter condition")
)

// Error locates a problem in a filter.
type Error struct {
	Kind error  // ErrFormat, ErrValidation or ErrUnsupported
	Loc  string // where, e.g. "must[0].match.value"; empty for the root
	Msg  string
}

func (e *Error) Error() string {
	if e.Loc == "" {
		return e.Msg
	}
	return e.Loc + ": " + e.Msg
}

// Unwrap returns the kind, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

func formatErr(loc, msg string) error     { return &Error{Kind: ErrFormat, Loc: loc, Msg: msg} }
func validationErr(loc, msg string) error { return &Error{Kind: ErrValidation, Loc: loc, Msg: msg} }

// join builds a child location: join("must[0]", "match") = "must[0].match".
func join(loc, field string) string {
	if loc == "" {
		return field
	}
	return loc + "." + field
}
