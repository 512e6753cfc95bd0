package rest_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/testkit"
)

// uploadTmpEmpty fails unless snapshots_path/tmp holds no file (or does
// not exist) within a short while: a handler that saw its client leave
// removes its file once its read fails.
func uploadTmpEmpty(t *testing.T, s *server, after string) {
	t.Helper()
	tmp := filepath.Join(s.dir, "snapshots", "tmp")
	testkit.Eventually(t, "no temporary upload left after "+after, 10*time.Second, func() error {
		es, err := os.ReadDir(tmp)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		if len(es) > 0 {
			names := make([]string, len(es))
			for i, e := range es {
				names[i] = e.Name()
			}
			return fmt.Errorf("snapshots/tmp holds %v", names)
		}
		return nil
	})
}

// cutUpload sends the head of a multipart upload of data (Content-Length
// says the whole), waits until the server saves it to a temporary file,
// and closes the connection half way, as a client that goes away.
func cutUpload(t *testing.T, s *server, path string, data []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("snapshot", "s.snapshot")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	u, err := url.Parse(s.base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, u.Host, mw.FormDataContentType(), body.Len())
	if _, err := conn.Write(body.Bytes()[:body.Len()/2]); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the upload saved to a temporary file", 10*time.Second, func() error {
		if es, _ := os.ReadDir(filepath.Join(s.dir, "snapshots", "tmp")); len(es) == 0 {
			return fmt.Errorf("no temporary file yet")
		}
		return nil
	})
}

// TestUploadTempFilesRemoved: the temporary file an upload is saved to
// (snapshots_path/tmp) is removed on every path: a recovery that
// succeeds, one that is refused (corrupt archive, wrong checksum, unknown
// priority), one answered 202 (wait=false) and a client that leaves
// mid-upload, for collection and shard snapshots.
func TestUploadTempFilesRemoved(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	fillSnap(s, "c", 0, 200, "snap")
	var d snapshotDescription
	s.ok(http.MethodPost, "/collections/c/snapshots", nil, &d)
	data := download(s, "/collections/c/snapshots/"+d.Name)
	var sd snapshotDescription
	s.ok(http.MethodPost, "/collections/c/shards/0/snapshots", nil, &sd)
	shardData := download(s, "/collections/c/shards/0/snapshots/"+sd.Name)
	corrupt := bytes.Clone(data)
	corrupt[len(corrupt)/2] ^= 0x40

	for _, tc := range []struct {
		name, path string
		data       []byte
		code       int
	}{
		{"a recovery", "/collections/u/snapshots/upload?priority=snapshot", data, http.StatusOK},
		{"a corrupt archive", "/collections/c/snapshots/upload", corrupt, http.StatusBadRequest},
		{"a wrong checksum", "/collections/c/snapshots/upload?checksum=" + strings.Repeat("1", 64), data, http.StatusBadRequest},
		{"an unknown priority", "/collections/c/snapshots/upload?priority=nope", data, http.StatusBadRequest},
		{"a recovery answered 202", "/collections/w/snapshots/upload?wait=false", data, http.StatusAccepted},
		{"a refusal answered 202", "/collections/c/snapshots/upload?wait=false", corrupt, http.StatusAccepted},
		{"a shard recovery", "/collections/c/shards/0/snapshots/upload", shardData, http.StatusOK},
		{"a corrupt shard archive", "/collections/c/shards/0/snapshots/upload", corrupt, http.StatusBadRequest},
		{"a shard recovery answered 202", "/collections/c/shards/0/snapshots/upload?wait=false", shardData, http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := upload(s.on(t), tc.path, tc.data); r.code != tc.code {
				t.Fatalf("%s: %d %s, want %d", tc.path, r.code, r.body, tc.code)
			}
			uploadTmpEmpty(t, s, tc.name)
		})
	}
	for _, path := range []string{"/collections/c/snapshots/upload", "/collections/c/shards/0/snapshots/upload", "/collections/c/snapshots/upload?wait=false"} {
		t.Run("a client that leaves: "+path, func(t *testing.T) {
			cutUpload(t, s, path, data)
			uploadTmpEmpty(t, s, "a client that left")
		})
	}
}
