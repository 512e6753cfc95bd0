package snapshot

import "errors"

// ErrInvalid matches every refusal of an archive the reader makes (each
// marker below matches it too): the archive is not a sound snapshot.
var ErrInvalid = errors.New("invalid snapshot")

// Markers of why an archive was refused; each matches ErrInvalid.
var (
	ErrUnsafePath       = marker("unsafe path")
	ErrUnsupportedEntry = marker("unsupported entry type")
	ErrDuplicate        = marker("duplicate entry")
	ErrTooLarge         = marker("snapshot too large")
	ErrTruncated        = marker("truncated snapshot")
	ErrChecksum         = marker("checksum mismatch")
	ErrManifest         = marker("bad snapshot manifest")
)

type markerErr struct{ msg string }

func marker(msg string) error { return &markerErr{msg: msg} }

func (e *markerErr) Error() string { return e.msg }

// Is makes every marker match ErrInvalid.
func (e *markerErr) Is(target error) bool { return target == ErrInvalid }
