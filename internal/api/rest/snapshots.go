package rest

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/shoaldb/shoal/internal/node"
)

// Snapshot routes (Qdrant's snapshot_api.rs). With wait=false (the
// default of create and recover is wait=true, as Qdrant's) the work runs
// on after the answer, 202 {"status":"accepted"}, and its outcome is
// logged. Downloads stream the file (http.ServeContent: ranges, no
// buffering). Uploads are multipart with the archive in the field
// "snapshot", streamed to a file of snapshots_path/tmp, at most
// node.MaxSnapshotDownload bytes, never held in memory. http(s)
// locations are fetched by the server itself: tests reach them on
// loopback only.

type acceptedEnvelope struct {
	Status string  `json:"status"`
	Time   float64 `json:"time"`
}

func (s *Server) accepted(w http.ResponseWriter, start time.Time) {
	if err := writeJSON(w, http.StatusAccepted, acceptedEnvelope{Status: "accepted", Time: time.Since(start).Seconds()}); err != nil {
		s.log.Error("response not encodable", "err", err)
	}
}

// waitOrNot runs fn: before answering with its result when the request
// waits (def: the route's default), else in the background after a 202.
func (s *Server) waitOrNot(w http.ResponseWriter, r *http.Request, start time.Time, def bool, what string, fn func(ctx context.Context) (any, error)) {
	wait, err := queryBool(r, "wait", def)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	if !wait {
		go func() {
			if _, err := fn(context.Background()); err != nil {
				s.log.Error(what+" failed", "path", r.URL.Path, "err", err)
			}
		}()
		s.accepted(w, start)
		return
	}
	res, err := fn(r.Context())
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, res)
}

func (s *Server) createSnapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := r.PathValue("name")
	if _, err := s.node.Collection(name); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.waitOrNot(w, r, start, true, "snapshot creation", func(ctx context.Context) (any, error) {
		return s.node.CreateSnapshot(ctx, name)
	})
}

func (s *Server) listSnapshots(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	list, err := s.node.ListSnapshots(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, list)
}

func (s *Server) getSnapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	path, err := s.node.SnapshotFile(r.PathValue("name"), r.PathValue("snapshot"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.serveSnapshot(w, r, start, path)
}

// serveSnapshot streams the file at path.
func (s *Server) serveSnapshot(w http.ResponseWriter, r *http.Request, start time.Time, path string) {
	f, err := os.Open(path)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filepath.Base(path)}))
	http.ServeContent(w, r, filepath.Base(path), fi.ModTime(), f)
}

func (s *Server) deleteSnapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name, file := r.PathValue("name"), r.PathValue("snapshot")
	if _, err := s.node.SnapshotFile(name, file); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.waitOrNot(w, r, start, true, "snapshot deletion", func(context.Context) (any, error) {
		return true, s.node.DeleteSnapshot(name, file)
	})
}

// snapshotRecover is Qdrant's SnapshotRecover body.
type snapshotRecover struct {
	Location string  `json:"location"`
	Priority *string `json:"priority"`
	Checksum *string `json:"checksum"`
	APIKey   *string `json:"api_key"`
}

func checkChecksum(c *string) error {
	if c == nil {
		return nil
	}
	if b, err := hex.DecodeString(*c); err != nil || len(b) != 32 {
		return validationError("checksum: invalid SHA256 hash")
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) recoverSnapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
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
	name := r.PathValue("name")
	req := node.RecoverRequest{Location: body.Location, Priority: deref(body.Priority), Checksum: deref(body.Checksum), APIKey: deref(body.APIKey)}
	s.waitOrNot(w, r, start, true, "snapshot recovery", func(ctx context.Context) (any, error) {
		return true, s.node.RecoverSnapshot(ctx, name, req)
	})
}

func (s *Server) uploadSnapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	up, err := parseUpload(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	checksum, priority, wait, part := up.checksum, up.priority, up.wait, up.part
	name := r.PathValue("name")
	if !wait {
		// The upload is read before answering, whatever wait says: the
		// body belongs to this request.
		path, err := s.node.SaveUpload(r.Context(), part)
		if err != nil {
			s.fail(w, r, start, err)
			return
		}
		go func() {
			defer os.Remove(path)
			if err := s.node.RecoverSnapshotFile(name, path, checksum, priority); err != nil {
				s.log.Error("snapshot recovery failed", "collection", name, "err", err)
			}
		}()
		s.accepted(w, start)
		return
	}
	if err := s.node.RecoverUploadedSnapshot(r.Context(), name, part, checksum, priority); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}

// upload is what a snapshot upload request says: its query (checksum,
// priority, wait) and the reader of its multipart field "snapshot".
type upload struct {
	checksum, priority string
	wait               bool
	part               io.Reader
}

// parseUpload checks a snapshot upload's query and finds its file part.
func parseUpload(r *http.Request) (upload, error) {
	q := r.URL.Query()
	up := upload{checksum: q.Get("checksum"), priority: q.Get("priority")}
	if up.checksum != "" {
		if err := checkChecksum(&up.checksum); err != nil {
			return upload{}, err
		}
	}
	var err error
	if up.wait, err = queryBool(r, "wait", true); err != nil {
		return upload{}, err
	}
	if up.part, err = snapshotPart(r); err != nil {
		return upload{}, err
	}
	return up, nil
}

// snapshotPart returns the reader of the multipart field "snapshot".
func snapshotPart(r *http.Request) (io.Reader, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("Invalid multipart body: %v", err)
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, badRequest("Invalid multipart body: no field `snapshot`")
		}
		if err != nil {
			return nil, badRequest("Invalid multipart body: %v", err)
		}
		if p.FormName() == "snapshot" {
			return p, nil
		}
		p.Close()
	}
}

func (s *Server) createFullSnapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.waitOrNot(w, r, start, true, "full snapshot creation", func(ctx context.Context) (any, error) {
		return s.node.CreateFullSnapshot(ctx)
	})
}

func (s *Server) listFullSnapshots(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	list, err := s.node.ListFullSnapshots()
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, list)
}

func (s *Server) getFullSnapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	path, err := s.node.FullSnapshotFile(r.PathValue("snapshot"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.serveSnapshot(w, r, start, path)
}

func (s *Server) deleteFullSnapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	file := r.PathValue("snapshot")
	if _, err := s.node.FullSnapshotFile(file); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.waitOrNot(w, r, start, true, "full snapshot deletion", func(context.Context) (any, error) {
		return true, s.node.DeleteFullSnapshot(file)
	})
}
