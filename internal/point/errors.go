package point

import (
	"errors"
	"fmt"
)

// Kind classifies an error the way Qdrant's StorageError does, so that each
// API layer can map it to a status code and a message prefix in one place.
type Kind int

const (
	// KindInternal is an unexpected failure (500, "Service internal error: ").
	KindInternal Kind = iota
	// KindBadInput is wrong user input (400, "Wrong input: ").
	KindBadInput
	// KindBadRequest is a malformed request (400, "Bad request: ").
	KindBadRequest
	// KindNotFound is a missing collection or point (404, "Not found: ").
	KindNotFound
	// KindAlreadyExists is a name clash (409, "Wrong input: ").
	KindAlreadyExists
	// KindValidation is a request that parsed but failed validation (422).
	KindValidation
	// KindTimeout is an operation that did not finish in time (408).
	KindTimeout
	// KindUnavailable is a temporarily unavailable shard or service (503).
	KindUnavailable
)

// Error is an error with a Kind and Qdrant's description text (without the
// kind prefix, which the API layer adds).
type Error struct {
	Kind        Kind
	Description string
	Err         error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Description == "" {
		return e.Err.Error()
	}
	return e.Description
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error of kind k.
func Errorf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Description: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's chain, or
// KindInternal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// DescriptionOf returns the description of the first *Error in err's chain,
// or err's text.
func DescriptionOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return err.Error()
}

// CollectionNotFound returns Qdrant's not-found error for a missing
// collection (an error of KindNotFound, built per name: not a sentinel).
func CollectionNotFound(name string) error {
	return Errorf(KindNotFound, "Collection `%s` doesn't exist!", name)
}

// PointNotFound returns Qdrant's not-found error for a missing point (of
// KindNotFound, built per id).
func PointNotFound(id ID) error {
	return Errorf(KindNotFound, "No point with id %s found", id)
}
