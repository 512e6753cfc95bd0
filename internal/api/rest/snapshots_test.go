package rest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/testkit"
)

type snapshotDescription struct {
	Name         string  `json:"name"`
	CreationTime *string `json:"creation_time"`
	Size         int64   `json:"size"`
	Checksum     *string `json:"checksum"`
}

func scrollAll(s *server, coll string) string {
	s.t.Helper()
	return string(s.ok(http.MethodPost, "/collections/"+coll+"/points/scroll", map[string]any{"limit": 1000, "with_payload": true, "with_vector": true}, nil))
}

func fillSnap(s *server, coll string, from, to int, tag string) {
	s.t.Helper()
	var pts []pointIn
	for i := from; i < to; i++ {
		pts = append(pts, pointIn{ID: i, Vector: []float32{float32(i), 1, 2, 3}, Payload: map[string]any{"tag": tag, "i": i}})
	}
	s.upsert(coll, pts...)
}

// download GETs path and returns the body (checked: 200, octet-stream).
func download(s *server, path string) []byte {
	s.t.Helper()
	r := s.do(http.MethodGet, path, nil)
	if r.code != http.StatusOK || r.header.Get("Content-Type") != "application/octet-stream" {
		s.t.Fatalf("GET %s: %d %s", path, r.code, r.header.Get("Content-Type"))
	}
	return r.body
}

// upload POSTs data as the multipart field "snapshot".
func upload(s *server, path string, data []byte) reply {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("snapshot", "s.snapshot")
	if err != nil {
		s.t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, s.base+path, &buf)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, header: resp.Header, body: body}
	json.Unmarshal(body, &r.env)
	return r
}

// TestSnapshotsREST: create (wait and 202 without), list, download (the
// checksum is the file's), recover from a file location with its
// checksum, upload into a new collection, refusals that change nothing,
// delete.
func TestSnapshotsREST(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	fillSnap(s, "c", 0, 60, "snap")
	want := scrollAll(s, "c")

	var d snapshotDescription
	s.ok(http.MethodPost, "/collections/c/snapshots?wait=true", nil, &d)
	if !strings.HasPrefix(d.Name, "c-") || !strings.HasSuffix(d.Name, ".snapshot") || d.Checksum == nil || d.Size <= 0 || d.CreationTime == nil {
		t.Fatalf("description %+v", d)
	}
	data := download(s, "/collections/c/snapshots/"+d.Name)
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != *d.Checksum || int64(len(data)) != d.Size {
		t.Fatalf("downloaded %d bytes with sha256 %x; described %+v", len(data), sum, d)
	}

	s.createCollection("c2", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	r := s.do(http.MethodPost, "/collections/c2/snapshots?wait=false", nil)
	if r.code != http.StatusAccepted || string(r.env.Status) != `"accepted"` {
		t.Fatalf("wait=false: %d %s", r.code, r.body)
	}
	testkit.WaitFor(t, "the snapshot created without wait", 20*time.Second, func() bool {
		var list []snapshotDescription
		s.ok(http.MethodGet, "/collections/c2/snapshots", nil, &list)
		return len(list) == 1
	})

	fillSnap(s, "c", 30, 90, "later")
	changed := scrollAll(s, "c")
	location := "file://" + filepath.Join(s.dir, "snapshots", "c", d.Name)

	// Refusals leave the collection as it is.
	s.failPrefix(http.MethodPut, "/collections/c/snapshots/recover", map[string]any{"location": location, "checksum": strings.Repeat("0", 64)}, http.StatusBadRequest, "Bad request: Checksum mismatch")
	s.failPrefix(http.MethodPut, "/collections/c/snapshots/recover", map[string]any{"location": location, "checksum": "xyz"}, http.StatusUnprocessableEntity, "Validation error")
	corrupt := bytes.Clone(data)
	corrupt[len(corrupt)/2] ^= 0x40
	if r := upload(s, "/collections/c/snapshots/upload", corrupt); r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "Invalid snapshot") {
		t.Fatalf("corrupt upload: %d %s", r.code, r.body)
	}
	if r := upload(s, "/collections/c/snapshots/upload?checksum="+strings.Repeat("1", 64), data); r.code != http.StatusBadRequest {
		t.Fatalf("upload with a wrong checksum: %d %s", r.code, r.body)
	}
	if got := scrollAll(s, "c"); got != changed {
		t.Fatal("a refused recovery changed the collection")
	}

	var ok bool
	s.ok(http.MethodPut, "/collections/c/snapshots/recover?wait=true", map[string]any{"location": location, "checksum": *d.Checksum, "priority": "snapshot"}, &ok)
	if got := scrollAll(s, "c"); !ok || got != want {
		t.Fatal("the recovered collection differs from the snapshot")
	}
	if r := upload(s, "/collections/u/snapshots/upload?priority=no_sync&checksum="+*d.Checksum, data); r.code != http.StatusOK {
		t.Fatalf("upload: %d %s", r.code, r.body)
	}
	if got := scrollAll(s, "u"); got != want {
		t.Fatal("the uploaded collection differs from the snapshot")
	}

	s.ok(http.MethodDelete, "/collections/c/snapshots/"+d.Name, nil, &ok)
	s.fail(http.MethodGet, "/collections/c/snapshots/"+d.Name, nil, http.StatusNotFound, fmt.Sprintf("Not found: Snapshot %s", d.Name))
	s.fail(http.MethodDelete, "/collections/c/snapshots/"+d.Name, nil, http.StatusNotFound, fmt.Sprintf("Not found: Snapshot %s", d.Name))
	s.fail(http.MethodGet, "/collections/nope/snapshots", nil, http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")
}

// TestFullSnapshotsREST: create (200 and 202), list, download, delete of
// full-storage snapshots, shapes checked against the OpenAPI schema.
func TestFullSnapshotsREST(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	fillSnap(s, "c", 0, 20, "x")
	var d snapshotDescription
	s.ok(http.MethodPost, "/snapshots", nil, &d)
	if !strings.HasPrefix(d.Name, "full-snapshot-") || d.Checksum == nil {
		t.Fatalf("description %+v", d)
	}
	data := download(s, "/snapshots/"+d.Name)
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != *d.Checksum {
		t.Fatal("downloaded full snapshot does not match its checksum")
	}
	var list []snapshotDescription
	s.ok(http.MethodGet, "/snapshots", nil, &list)
	if len(list) != 1 || list[0].Name != d.Name {
		t.Fatalf("list %+v", list)
	}
	var ok bool
	s.ok(http.MethodDelete, "/snapshots/"+d.Name, nil, &ok)
	s.fail(http.MethodGet, "/snapshots/"+d.Name, nil, http.StatusNotFound, "Not found: Snapshot "+d.Name)
	s.fail(http.MethodGet, "/snapshots/tmp", nil, http.StatusNotFound, "Not found: Snapshot tmp") // a directory
	if r := s.do(http.MethodPost, "/snapshots?wait=false", nil); r.code != http.StatusAccepted {
		t.Fatalf("wait=false: %d %s", r.code, r.body)
	}
	testkit.WaitFor(t, "the full snapshot created without wait", 20*time.Second, func() bool {
		s.ok(http.MethodGet, "/snapshots", nil, &list)
		return len(list) == 1
	})
}

// TestShardSnapshotsREST: shard snapshots are created, listed,
// downloaded, streamed and recovered (by location and by upload) on a
// one-shard collection; a missing shard is 404.
func TestShardSnapshotsREST(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}, "shard_number": 1})
	fillSnap(s, "c", 0, 40, "snap")
	want := scrollAll(s, "c")
	var d snapshotDescription
	s.ok(http.MethodPost, "/collections/c/shards/0/snapshots", nil, &d)
	if !strings.HasPrefix(d.Name, "c-shard-0-") || d.Checksum == nil {
		t.Fatalf("description %+v", d)
	}
	var list []snapshotDescription
	s.ok(http.MethodGet, "/collections/c/shards/0/snapshots", nil, &list)
	if len(list) != 1 || list[0].Name != d.Name {
		t.Fatalf("list %+v", list)
	}
	data := download(s, "/collections/c/shards/0/snapshots/"+d.Name)
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != *d.Checksum {
		t.Fatal("downloaded shard snapshot does not match its checksum")
	}
	streamed := download(s, "/collections/c/shards/0/snapshot")

	fillSnap(s, "c", 20, 60, "later")
	var ok bool
	s.ok(http.MethodPut, "/collections/c/shards/0/snapshots/recover", map[string]any{"location": "file://" + filepath.Join(s.dir, "snapshots", "c", "shards", "0", d.Name), "checksum": *d.Checksum}, &ok)
	if got := scrollAll(s, "c"); got != want {
		t.Fatal("the recovered shard differs from its snapshot")
	}
	fillSnap(s, "c", 20, 60, "later")
	if r := upload(s, "/collections/c/shards/0/snapshots/upload", streamed); r.code != http.StatusOK {
		t.Fatalf("upload: %d %s", r.code, r.body)
	}
	if got := scrollAll(s, "c"); got != want {
		t.Fatal("the shard recovered from the streamed snapshot differs")
	}
	corrupt := bytes.Clone(data)
	corrupt[len(corrupt)/2] ^= 1
	if r := upload(s, "/collections/c/shards/0/snapshots/upload", corrupt); r.code != http.StatusBadRequest {
		t.Fatalf("corrupt upload: %d %s", r.code, r.body)
	}
	if got := scrollAll(s, "c"); got != want {
		t.Fatal("a refused shard upload changed the collection")
	}
	s.fail(http.MethodGet, "/collections/c/shards/5/snapshots", nil, http.StatusNotFound, "Not found: Shard 5 of collection c not found on this peer")
	s.ok(http.MethodDelete, "/collections/c/shards/0/snapshots/"+d.Name, nil, &ok)
	s.ok(http.MethodGet, "/collections/c/shards/0/snapshots", nil, &list)
	if len(list) != 0 {
		t.Fatalf("after delete: %+v", list)
	}
}

// TestSnapshotRecoverAccepted: recover with wait=false answers 202 and
// the collection takes the snapshot's data shortly after.
func TestSnapshotRecoverAccepted(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	fillSnap(s, "c", 0, 30, "snap")
	want := scrollAll(s, "c")
	var d snapshotDescription
	s.ok(http.MethodPost, "/collections/c/snapshots", nil, &d)
	fillSnap(s, "c", 0, 50, "later")
	r := s.do(http.MethodPut, "/collections/c/snapshots/recover?wait=false", map[string]any{"location": "file://" + filepath.Join(s.dir, "snapshots", "c", d.Name)})
	if r.code != http.StatusAccepted {
		t.Fatalf("wait=false: %d %s", r.code, r.body)
	}
	testkit.WaitFor(t, "the recovery accepted without wait", 20*time.Second, func() bool {
		rr := s.do(http.MethodPost, "/collections/c/points/scroll", map[string]any{"limit": 1000, "with_payload": true, "with_vector": true})
		return rr.code == http.StatusOK && string(rr.env.Result) == want
	})
}
