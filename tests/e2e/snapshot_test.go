//go:build linux

package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func snapScroll(s *server, coll string) string {
	s.t.Helper()
	var res json.RawMessage
	s.must("POST", "/collections/"+coll+"/points/scroll", map[string]any{"limit": 10000, "with_payload": true, "with_vector": true}, &res)
	return string(res)
}

func snapUpsert(s *server, coll string, from, to int, tag string) {
	s.t.Helper()
	var pts []map[string]any
	for i := from; i < to; i++ {
		pts = append(pts, map[string]any{"id": i, "vector": []float32{float32(i), 1, -1, 0.5}, "payload": map[string]any{"tag": tag, "i": i}})
	}
	s.must("PUT", "/collections/"+coll+"/points?wait=true", map[string]any{"points": pts}, nil)
}

// TestSnapshotAtStartup: a snapshot taken through the API is restored by
// --snapshot PATH:NAME into a fresh storage before the server serves;
// restarting with it again refuses (the collection exists) unless
// --force-snapshot, which puts the snapshot's data back.
func TestSnapshotAtStartup(t *testing.T) {
	a := newServer(t)
	a.start()
	a.must("PUT", "/collections/src", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Cosine"}}, nil)
	a.must("PUT", "/collections/src/index?wait=true", map[string]any{"field_name": "tag", "field_schema": "keyword"}, nil)
	snapUpsert(a, "src", 0, 500, "orig")
	want := snapScroll(a, "src")
	var d struct {
		Name string `json:"name"`
	}
	a.must("POST", "/collections/src/snapshots?wait=true", nil, &d)
	if code := a.stop(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	path := filepath.Join(a.snaps, "src", d.Name)

	b := newServer(t)
	b.args = []string{"--snapshot", path + ":restored"}
	b.start()
	if got := snapScroll(b, "restored"); got != want {
		t.Fatalf("restored collection differs:\n got %.300s\nwant %.300s", got, want)
	}
	var info struct {
		PayloadSchema map[string]any `json:"payload_schema"`
	}
	b.must("GET", "/collections/restored", nil, &info)
	if _, ok := info.PayloadSchema["tag"]; !ok {
		t.Fatalf("payload index lost: %v", info.PayloadSchema)
	}
	snapUpsert(b, "restored", 500, 520, "extra")
	b.stop()

	// Without --force-snapshot: refused, the collection kept.
	if err := b.tryStart(); err == nil {
		t.Fatal("a start that restores over an existing collection without --force-snapshot succeeded")
	}
	if !strings.Contains(b.lastStartLog(), "--force-snapshot") {
		t.Fatalf("the refusal does not say how to force it:\n%s", b.lastStartLog())
	}
	b.args = []string{"--snapshot", path + ":restored", "--force-snapshot"}
	b.start()
	if got := snapScroll(b, "restored"); got != want {
		t.Fatal("--force-snapshot did not bring the snapshot's data back")
	}
	if !strings.Contains(b.logText(), "collection recovered from snapshot") {
		t.Fatal("no recovery log line")
	}
	b.args = nil
	b.stop()
	b.start()
	if got := snapScroll(b, "restored"); got != want {
		t.Fatal("the restored collection differs after a restart")
	}
}

// TestStorageSnapshotAtStartup: a full-storage snapshot restores every
// collection and alias into a fresh storage with --storage-snapshot.
func TestStorageSnapshotAtStartup(t *testing.T) {
	a := newServer(t)
	a.start()
	want := map[string]string{}
	for _, name := range []string{"one", "two"} {
		a.must("PUT", "/collections/"+name, map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}}, nil)
		snapUpsert(a, name, 0, 100, name)
		want[name] = snapScroll(a, name)
	}
	a.must("POST", "/collections/aliases", map[string]any{"actions": []any{map[string]any{"create_alias": map[string]any{"collection_name": "two", "alias_name": "deux"}}}}, nil)
	var d struct {
		Name string `json:"name"`
	}
	a.must("POST", "/snapshots", nil, &d)
	a.stop()

	b := newServer(t)
	b.args = []string{"--storage-snapshot", filepath.Join(a.snaps, d.Name)}
	b.start()
	for name, w := range want {
		if got := snapScroll(b, name); got != w {
			t.Fatalf("%s differs after --storage-snapshot", name)
		}
	}
	if got := snapScroll(b, "deux"); got != want["two"] {
		t.Fatal("the alias was not restored")
	}
}
