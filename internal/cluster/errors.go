package cluster

import (
	"errors"

	"github.com/shoaldb/shoal/internal/point"
)

// ErrMalformed marks bytes that do not decode to an Op or a State: a
// truncated raft entry, a snapshot from an unknown version, garbage.
var ErrMalformed = errors.New("cluster: malformed encoding")

func notFound(format string, args ...any) error {
	return point.Errorf(point.KindNotFound, format, args...)
}

func alreadyExists(format string, args ...any) error {
	return point.Errorf(point.KindAlreadyExists, format, args...)
}

func badRequest(format string, args ...any) error {
	return point.Errorf(point.KindBadRequest, format, args...)
}

func badInput(format string, args ...any) error {
	return point.Errorf(point.KindBadInput, format, args...)
}

func collectionNotFound(name string) error {
	return point.CollectionNotFound(name)
}
