package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/snapshot"
)

func upsertN(t *testing.T, n *Node, name string, from, to int, tag string) {
	t.Helper()
	c, err := n.Collection(name)
	if err != nil {
		t.Fatal(err)
	}
	var pts []ops.PointStruct
	for i := from; i < to; i++ {
		f := float32(i)
		pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": {f, 1, 2, 3}}, Payload: point.Payload{"tag": tag}})
	}
	if _, err := c.Update(context.Background(), &ops.Operation{Kind: ops.Upsert, Points: pts}, true); err != nil {
		t.Fatal(err)
	}
}

func pointsOf(t *testing.T, n *Node, name string) string {
	t.Helper()
	c, err := n.Collection(name)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := c.Scroll(context.Background(), ops.ScrollRequest{Limit: 100000, WithPayload: ops.PayloadSelector{Enable: true}, WithVector: ops.VectorSelector{Enable: true}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(recs)
	return string(b)
}

// TestSnapshotCreateListRecover: a snapshot lists with its size and
// checksum (the .checksum beside it), recovers the collection to its data
// after later writes, recovers into a new name, and is deleted with its
// checksum file.
func TestSnapshotCreateListRecover(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir)
	ctx := context.Background()
	if err := n.CreateCollection(ctx, "c", createReq(t, vec4)); err != nil {
		t.Fatal(err)
	}
	upsertN(t, n, "c", 0, 100, "before")
	want := pointsOf(t, n, "c")
	d, err := n.CreateSnapshot(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.Name, fmt.Sprintf("c-%d-", n.peerID())) || !strings.HasSuffix(d.Name, ".snapshot") || d.Size == 0 || d.Checksum == nil || d.CreationTime == nil {
		t.Fatalf("description %+v", d)
	}
	path := filepath.Join(dir, "snapshots", "c", d.Name)
	sum, err := snapshot.FileSHA256(path)
	if err != nil || sum != *d.Checksum {
		t.Fatalf("checksum %s, file %s (%v)", *d.Checksum, sum, err)
	}
	list, err := n.ListSnapshots("c")
	if err != nil || len(list) != 1 || list[0].Name != d.Name || *list[0].Checksum != sum {
		t.Fatalf("list %+v, %v", list, err)
	}

	upsertN(t, n, "c", 50, 200, "after")
	if pointsOf(t, n, "c") == want {
		t.Fatal("the writes after the snapshot changed nothing")
	}
	if err := n.RecoverSnapshot(ctx, "c", RecoverRequest{Location: "file://" + path, Checksum: sum}); err != nil {
		t.Fatal(err)
	}
	if got := pointsOf(t, n, "c"); got != want {
		t.Fatalf("recovered collection differs")
	}
	if err := n.RecoverSnapshot(ctx, "copy", RecoverRequest{Location: "file://" + path, Priority: "snapshot"}); err != nil {
		t.Fatal(err)
	}
	if got := pointsOf(t, n, "copy"); got != want {
		t.Fatal("the collection recovered into a new name differs")
	}
	// Both survive a restart.
	n.Close()
	n = openNode(t, dir)
	for _, name := range []string{"c", "copy"} {
		if got := pointsOf(t, n, name); got != want {
			t.Fatalf("%s differs after a restart", name)
		}
	}
	if err := n.DeleteSnapshot("c", d.Name); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + snapshot.ChecksumExt} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s after delete: %v", p, err)
		}
	}
	if err := n.DeleteSnapshot("c", d.Name); point.KindOf(err) != point.KindNotFound {
		t.Fatalf("second delete: %v", err)
	}
}

// TestSnapshotRecoverRefusals: a checksum mismatch, a corrupt or
// truncated archive, a file outside the snapshots directory, a bad scheme
// or priority are refused and leave the collection as it was.
func TestSnapshotRecoverRefusals(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir)
	ctx := context.Background()
	if err := n.CreateCollection(ctx, "c", createReq(t, vec4)); err != nil {
		t.Fatal(err)
	}
	upsertN(t, n, "c", 0, 50, "snap")
	d, err := n.CreateSnapshot(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	upsertN(t, n, "c", 0, 80, "now")
	want := pointsOf(t, n, "c")
	path := filepath.Join(dir, "snapshots", "c", d.Name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, "snapshots", "c", name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := append([]byte(nil), data...)
	corrupt[len(corrupt)/2] ^= 0x55
	outside := filepath.Join(t.TempDir(), "x.snapshot")
	if err := os.WriteFile(outside, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  RecoverRequest
		kind point.Kind
	}{
		{"checksum mismatch", RecoverRequest{Location: "file://" + path, Checksum: strings.Repeat("ab", 32)}, point.KindBadRequest},
		{"corrupt", RecoverRequest{Location: "file://" + write("corrupt.snapshot", corrupt)}, point.KindBadRequest},
		{"truncated", RecoverRequest{Location: "file://" + write("short.snapshot", data[:len(data)*2/3])}, point.KindBadRequest},
		{"garbage", RecoverRequest{Location: "file://" + write("junk.snapshot", []byte("not a snapshot at all"))}, point.KindBadRequest},
		{"outside the snapshots directory", RecoverRequest{Location: "file://" + outside}, point.KindBadRequest},
		{"missing file", RecoverRequest{Location: "file://" + path + ".nope"}, point.KindNotFound},
		{"scheme", RecoverRequest{Location: "ftp://x/y"}, point.KindBadRequest},
		{"priority", RecoverRequest{Location: "file://" + path, Priority: "both"}, point.KindBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := n.RecoverSnapshot(ctx, "c", tc.req)
			if err == nil || point.KindOf(err) != tc.kind {
				t.Fatalf("err %v (kind %v), want kind %v", err, point.KindOf(err), tc.kind)
			}
			if got := pointsOf(t, n, "c"); got != want {
				t.Fatal("a refused recovery changed the collection")
			}
		})
	}
	// No staging directory is left behind.
	entries, _ := os.ReadDir(collectionsDir(dir))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Fatalf("leftover %s", e.Name())
		}
	}
}

// TestSnapshotRecoverHTTPAndUpload: an http:// location (a loopback
// server) and an upload recover the collection.
func TestSnapshotRecoverHTTPAndUpload(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir)
	ctx := context.Background()
	if err := n.CreateCollection(ctx, "c", createReq(t, vec4)); err != nil {
		t.Fatal(err)
	}
	upsertN(t, n, "c", 0, 30, "snap")
	want := pointsOf(t, n, "c")
	d, err := n.CreateSnapshot(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	path, err := n.SnapshotFile("c", d.Name)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("api-key") != "secret" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		http.ServeFile(w, r, path)
	}))
	defer srv.Close()
	if err := n.RecoverSnapshot(ctx, "h", RecoverRequest{Location: srv.URL + "/s.snapshot"}); point.KindOf(err) != point.KindBadRequest || !strings.Contains(err.Error(), "403") {
		t.Fatalf("a location that answers 403: %v", err)
	}
	if err := n.RecoverSnapshot(ctx, "h", RecoverRequest{Location: srv.URL + "/s.snapshot", Checksum: *d.Checksum, APIKey: "secret"}); err != nil {
		t.Fatal(err)
	}
	if pointsOf(t, n, "h") != want {
		t.Fatal("recovered over http differs")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := n.RecoverUploadedSnapshot(ctx, "u", f, "", ""); err != nil {
		t.Fatal(err)
	}
	if pointsOf(t, n, "u") != want {
		t.Fatal("recovered from an upload differs")
	}
	if _, err := os.Stat(filepath.Join(dir, "snapshots", "tmp")); err == nil {
		if es, _ := os.ReadDir(filepath.Join(dir, "snapshots", "tmp")); len(es) > 0 {
			t.Fatalf("temporary files left: %v", es)
		}
	}
}

// TestRecoverReplacedAfterCrash: a swap cut short after the old
// collection was moved aside gets it back on the next Open.
func TestRecoverReplacedAfterCrash(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir)
	if err := n.CreateCollection(context.Background(), "c", createReq(t, vec4)); err != nil {
		t.Fatal(err)
	}
	upsertN(t, n, "c", 0, 10, "x")
	want := pointsOf(t, n, "c")
	n.Close()
	aside := filepath.Join(collectionsDir(dir), ".replaced-123")
	if err := os.MkdirAll(aside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(aside, "name"), []byte("c"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(collectionsDir(dir), "c"), filepath.Join(aside, "c")); err != nil {
		t.Fatal(err)
	}
	n = openNode(t, dir)
	if got := pointsOf(t, n, "c"); got != want {
		t.Fatal("the collection moved aside did not come back")
	}
}

// TestFullSnapshotRoundTrip: a full-storage snapshot lists, and restores
// every collection and alias into a fresh storage; over existing
// collections only when forced.
func TestFullSnapshotRoundTrip(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir)
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		if err := n.CreateCollection(ctx, name, createReq(t, vec4)); err != nil {
			t.Fatal(err)
		}
		upsertN(t, n, name, 0, 40, name)
	}
	if err := n.ChangeAliases(ctx, []AliasAction{{Create: &cluster.CreateAlias{CollectionName: "a", AliasName: "al"}}}); err != nil {
		t.Fatal(err)
	}
	wantA, wantB := pointsOf(t, n, "a"), pointsOf(t, n, "b")
	d, err := n.CreateFullSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, err := n.ListFullSnapshots()
	if err != nil || len(list) != 1 || list[0].Name != d.Name || !strings.HasPrefix(d.Name, "full-snapshot-") {
		t.Fatalf("list %+v, %v", list, err)
	}
	path, err := n.FullSnapshotFile(d.Name)
	if err != nil {
		t.Fatal(err)
	}

	m := openNode(t, t.TempDir())
	if err := m.RestoreStorageSnapshotAtStart(path, false); err != nil {
		t.Fatal(err)
	}
	if pointsOf(t, m, "a") != wantA || pointsOf(t, m, "b") != wantB || m.Aliases()["al"] != "a" {
		t.Fatalf("restored storage differs; aliases %v", m.Aliases())
	}
	if err := m.RestoreStorageSnapshotAtStart(path, false); err == nil || !strings.Contains(err.Error(), "--force-snapshot") {
		t.Fatalf("restore over existing collections without force: %v", err)
	}
	upsertN(t, m, "a", 100, 110, "new")
	if err := m.RestoreStorageSnapshotAtStart(path, true); err != nil {
		t.Fatal(err)
	}
	if pointsOf(t, m, "a") != wantA {
		t.Fatal("forced restore did not bring the snapshot's data back")
	}
	if err := n.DeleteFullSnapshot(d.Name); err != nil {
		t.Fatal(err)
	}
	if list, _ := n.ListFullSnapshots(); len(list) != 0 {
		t.Fatalf("after delete: %+v", list)
	}
}

// TestShardSnapshotRecover: a snapshot of one shard of two, recovered
// after writes to both, brings that shard back to its snapshot and leaves
// the other as it is; refusals change nothing.
func TestShardSnapshotRecover(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir)
	ctx := context.Background()
	if err := n.CreateCollection(ctx, "c", createReq(t, `{"shard_number":2,"vectors":{"size":4,"distance":"Dot"}}`)); err != nil {
		t.Fatal(err)
	}
	upsertN(t, n, "c", 0, 100, "before")
	byID := func() map[string]string {
		var recs []map[string]any
		if err := json.Unmarshal([]byte(pointsOf(t, n, "c")), &recs); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range recs {
			b, _ := json.Marshal(r)
			out[fmt.Sprint(r["ID"])] = string(b)
		}
		return out
	}
	before := byID()
	d, err := n.CreateShardSnapshot(ctx, "c", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.Name, "c-shard-1-") {
		t.Fatalf("name %s", d.Name)
	}
	list, err := n.ListShardSnapshots("c", 1)
	if err != nil || len(list) != 1 {
		t.Fatalf("list %+v %v", list, err)
	}
	if _, err := n.CreateShardSnapshot(ctx, "c", 7); point.KindOf(err) != point.KindNotFound {
		t.Fatalf("snapshot of a missing shard: %v", err)
	}
	upsertN(t, n, "c", 50, 150, "after")
	after := byID()
	c, _ := n.Collection("c")
	inShard1 := map[string]bool{} // of the 150 points
	for _, rs := range c.Shards() {
		if rs.ID() != 1 {
			continue
		}
		sh, _ := rs.Local()
		sh.View(func(r *shard.Reader) {
			for i := range 150 {
				if r.Has(point.NumID(uint64(i))) {
					inShard1[fmt.Sprint(i)] = true
				}
			}
		})
	}
	if len(inShard1) == 0 || len(inShard1) == 150 {
		t.Fatalf("shard 1 holds %d of 150 points", len(inShard1))
	}
	path, err := n.ShardSnapshotFile("c", 1, d.Name)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.RecoverShardSnapshot(ctx, "c", 1, RecoverRequest{Location: "file://" + path, Checksum: strings.Repeat("0", 64)}); point.KindOf(err) != point.KindBadRequest {
		t.Fatalf("checksum mismatch: %v", err)
	}
	if got := byID(); fmt.Sprint(got) != fmt.Sprint(after) {
		t.Fatal("a refused shard recovery changed the collection")
	}
	// By name, as Qdrant's ShardSnapshotLocation path.
	if err := n.RecoverShardSnapshot(ctx, "c", 1, RecoverRequest{Location: d.Name, Checksum: *d.Checksum}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for id, rec := range after {
		if !inShard1[id] {
			want[id] = rec
		} else if b, ok := before[id]; ok {
			want[id] = b // shard 1 as its snapshot holds it; later points gone
		}
	}
	got := byID()
	for id, w := range want {
		if got[id] != w {
			t.Fatalf("point %s: %s, want %s", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d points, want %d", len(got), len(want))
	}
	// Writes reach the restored shard.
	upsertN(t, n, "c", 0, 150, "final")
	if got := byID(); len(got) != 150 {
		t.Fatalf("writes after the shard recovery lost: %d points", len(got))
	}
}

// TestUploadLeftoversRemoved: an uploaded archive a dead process left in
// snapshots_path/tmp is removed by the next Open; other files stay.
func TestUploadLeftoversRemoved(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "snapshots", "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"upload-123.snapshot", "keep.txt"} {
		if err := os.WriteFile(filepath.Join(tmp, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	openNode(t, dir)
	es, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Name() != "keep.txt" {
		t.Fatalf("snapshots/tmp holds %v, want only keep.txt", es)
	}
}
