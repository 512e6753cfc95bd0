package shard

import (
	"errors"
	"fmt"

	"github.com/shoaldb/shoal/internal/vfs"
)

// ErrUnusable marks an update refused because an fsync of the shard's files
// failed earlier (the WAL's, a segment file's, the manifest's or its
// directory's): the durable state of those files is unknown, so the shard
// takes no write until it is reopened and recovery reads what is really on
// disk. Reads go on from memory. Check it with errors.Is; the error also
// carries the fsync failure.
var ErrUnusable = errors.New("shard storage failed an fsync; writes refused until restart")

// noteFailure breaks the shard if err is an fsync failure (or a WAL that
// poisoned itself): every later update is refused with ErrUnusable and no
// checkpoint is written any more. The first failure is kept.
func (s *Shard) noteFailure(err error) {
	if err == nil || !errors.Is(err, vfs.ErrSyncFailed) {
		return
	}
	if s.broken.CompareAndSwap(nil, &err) {
		s.log.Error("fsync failed: the shard refuses writes until it is restarted", "dir", s.dir, "err", err)
	}
}

// brokenErr returns the refusal of an update on a broken shard, or nil.
func (s *Shard) brokenErr() error {
	if p := s.broken.Load(); p != nil {
		return fmt.Errorf("%w: %w", ErrUnusable, *p)
	}
	return nil
}
