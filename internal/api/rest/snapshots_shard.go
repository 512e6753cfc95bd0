package rest

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/node"
)

// Shard snapshot routes (Qdrant's /collections/{c}/shards/{id}/snapshots
// and the streamed /collections/{c}/shards/{id}/snapshot).

func shardIDParam(r *http.Request) (collection.ShardID, error) {
	v := r.PathValue("shard")
	id, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, badRequest("Path deserialize error: shard_id: invalid digit found in string %q", v)
	}
	return collection.ShardID(id), nil
}

// withShard parses the shard id and runs fn, or answers the error.
func (s *Server) withShard(fn func(w http.ResponseWriter, r *http.Request, start time.Time, name string, id collection.ShardID)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id, err := shardIDParam(r)
		if err != nil {
			s.fail(w, r, start, err)
			return
		}
		fn(w, r, start, r.PathValue("name"), id)
	}
}

func (s *Server) createShardSnapshot(w http.ResponseWriter, r *http.Request, start time.Time, name string, id collection.ShardID) {
	if _, err := s.node.ListShardSnapshots(name, id); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.waitOrNot(w, r, start, true, "shard snapshot creation", func(ctx context.Context) (any, error) {
		return s.node.CreateShardSnapshot(ctx, name, id)
	})
}

func (s *Server) listShardSnapshots(w http.ResponseWriter, r *http.Request, start time.Time, name string, id collection.ShardID) {
	list, err := s.node.ListShardSnapshots(name, id)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, list)
}

func (s *Server) getShardSnapshot(w http.ResponseWriter, r *http.Request, start time.Time, name string, id collection.ShardID) {
	path, err := s.node.ShardSnapshotFile(name, id, r.PathValue("snapshot"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.serveSnapshot(w, r, start, path)
}

func (s *Server) deleteShardSnapshot(w http.ResponseWriter, r *http.Request, start time.Time, name string, id collection.ShardID) {
	file := r.PathValue("snapshot")
	if _, err := s.node.ShardSnapshotFile(name, id, file); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.waitOrNot(w, r, start, true, "shard snapshot deletion", func(context.Context) (any, error) {
		return true, s.node.DeleteShardSnapshot(name, id, file)
	})
}

// streamShardSnapshot writes a fresh snapshot of the shard as the body.
// Errors before the first byte are answered as usual; once the archive
// streams, a failure cuts the body short (the reader then refuses the
// truncated archive).
func (s *Server) streamShardSnapshot(w http.ResponseWriter, r *http.Request, start time.Time, name string, id collection.ShardID) {
	if _, err := s.node.ListShardSnapshots(name, id); err != nil {
		s.fail(w, r, start, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if err := s.node.StreamShardSnapshot(r.Context(), name, id, w); err != nil {
		s.log.Error("streaming a shard snapshot failed", "collection", name, "shard", id, "err", err)
		panic(http.ErrAbortHandler) // cut the response short: the client sees a broken body
	}
}

func (s *Server) recoverShardSnapshot(w http.ResponseWriter, r *http.Request, start time.Time, name string, id collection.ShardID) {
	var body snapshotRecover
	if err := s.decodeBody(w, r, &body); err != nil {
		s.fail(w, r, start, err)
		return
	}
	if body.Location == "" {
		s.fail(w, r, start, badRequest("Format error in JSON body: missing field `location`"))
		return
	}
	if err := checkChecksum(body.Checksum); err != nil {
		s.fail(w, r, start, err)
		return
	}
	req := node.RecoverRequest{Location: body.Location, Priority: deref(body.Priority), Checksum: deref(body.Checksum), APIKey: deref(body.APIKey)}
	s.waitOrNot(w, r, start, true, "shard snapshot recovery", func(ctx context.Context) (any, error) {
		return true, s.node.RecoverShardSnapshot(ctx, name, id, req)
	})
}

func (s *Server) uploadShardSnapshot(w http.ResponseWriter, r *http.Request, start time.Time, name string, id collection.ShardID) {
	up, err := parseUpload(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	checksum, priority, wait := up.checksum, up.priority, up.wait
	path, err := s.node.SaveUpload(r.Context(), up.part)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	if !wait {
		go func() {
			defer os.Remove(path)
			if err := s.node.RecoverShardSnapshotFile(name, id, path, checksum, priority); err != nil {
				s.log.Error("shard snapshot recovery failed", "collection", name, "shard", id, "err", err)
			}
		}()
		s.accepted(w, start)
		return
	}
	defer os.Remove(path)
	if err := s.node.RecoverShardSnapshotFile(name, id, path, checksum, priority); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}
