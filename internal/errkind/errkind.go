package errkind

import (
	"errors"
	"fmt"
)

// ErrCorrupt marks data read back from storage that fails its checks: not
// what any run of the writer, crashed or not, can leave behind. Match it
// with errors.Is; the error's text says which layer and what.
var ErrCorrupt = errors.New("corrupt data")

// Corruptf formats an error, as fmt.Errorf does (%w wraps), that matches
// ErrCorrupt. The text is the format's alone, so each layer keeps its
// wording ("wal: corrupt: ...", "corrupt checkpoint: ...").
func Corruptf(format string, args ...any) error {
	return &corruptError{err: fmt.Errorf(format, args...)}
}

// MarkCorrupt returns err marked as corruption (nil stays nil), keeping its
// text and its chain.
func MarkCorrupt(err error) error {
	if err == nil {
		return nil
	}
	return &corruptError{err: err}
}

type corruptError struct{ err error }

func (e *corruptError) Error() string { return e.err.Error() }

// Unwrap keeps what the format wrapped (a read error, another layer's
// corruption) reachable to errors.Is and errors.As.
func (e *corruptError) Unwrap() error { return e.err }

// Is makes every such error match ErrCorrupt.
func (e *corruptError) Is(target error) bool { return target == ErrCorrupt }
