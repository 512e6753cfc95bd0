package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// Snapshot recovery on a cluster (Qdrant's recover_from_snapshot on a
// distributed deployment): a snapshot uploaded to one peer of a fresh
// cluster creates the collection through consensus and, with priority
// snapshot, brings every replica of every shard to the snapshot's data;
// a corrupt snapshot uploaded to the cluster is refused and changes
// nothing.

// uploadSnapshot posts data as the multipart field "snapshot" to path on
// p and returns the status and body.
func uploadSnapshot(t *testing.T, p *clustertest.Peer, path string, data []byte) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("snapshot", "upload.snapshot")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, p.BaseURL()+path, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// snapshotPoints upserts n points with vectors and payloads of every
// kind into coll through p.
func snapshotPoints(t *testing.T, p *clustertest.Peer, coll string, n int) {
	t.Helper()
	for from := 0; from < n; from += 250 {
		var pts []any
		for i := from; i < min(from+250, n); i++ {
			f := float64(i)
			pts = append(pts, map[string]any{"id": i + 1, "vector": []float64{f + 1, f * 0.5, 3 - f, 0.25},
				"payload": map[string]any{"n": i, "s": fmt.Sprintf("point %d", i), "f": f / 3, "even": i%2 == 0,
					"tags": []string{"a", fmt.Sprint(i % 7)}, "nested": map[string]any{"k": i * 3, "geo": map[string]any{"lat": 10.5, "lon": f / 100}}}})
		}
		if err := p.Do(http.MethodPut, "/collections/"+coll+"/points?wait=true", map[string]any{"points": pts}, nil); err != nil {
			t.Fatalf("upsert: %v", err)
		}
	}
}

// dumpAll reads every shard of coll on peer (over P2P).
func dumpAll(t *testing.T, pc *p2pConns, peer uint64, coll string, shards int) map[uint32]history.Dump {
	t.Helper()
	out := map[uint32]history.Dump{}
	for s := range shards {
		d, err := replicaDump(context.Background(), pc, peer, coll, uint32(s))
		if err != nil {
			t.Fatal(err)
		}
		out[uint32(s)] = d
	}
	return out
}

// TestUploadedSnapshotFreshCluster: a snapshot of a collection of 2
// shards (replication_factor 3) taken on a one-peer cluster and
// downloaded over REST is uploaded with priority snapshot to one peer of
// a fresh 3-peer cluster: the collection is created there through
// consensus, every replica of every shard ends Active (the two other
// peers' replicas are filled by automatic recovery from the uploading
// peer) and each holds exactly the snapshot's points, vectors and
// payloads. A corrupt copy of the snapshot uploaded to another peer is
// refused with Qdrant's 400 and leaves every replica as it was.
func TestUploadedSnapshotFreshCluster(t *testing.T) {
	const coll, shards, points = "restored", 2, 1200
	src := clustertest.Start(t, 1, clustertest.Options{})
	if err := src.Peers[0].Do(http.MethodPut, "/collections/"+coll, map[string]any{
		"vectors": map[string]any{"size": 4, "distance": "Dot"}, "shard_number": shards, "replication_factor": 3}, nil); err != nil {
		t.Fatal(err)
	}
	snapshotPoints(t, src.Peers[0], coll, points)
	var d struct {
		Name string `json:"name"`
	}
	if err := src.Peers[0].Do(http.MethodPost, "/collections/"+coll+"/snapshots?wait=true", nil, &d); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(src.Peers[0].BaseURL() + "/collections/" + coll + "/snapshots/" + d.Name)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %d %v", resp.StatusCode, err)
	}
	srcID := peerIDs(t, src.Peers)[0]
	want := dumpAll(t, newP2PConns(t, src), srcID, coll, shards)
	if err := src.Peers[0].Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot %s: %d bytes, %d points", d.Name, len(archive), len(want[0])+len(want[1]))

	c := clustertest.Start(t, 3, clustertest.Options{})
	start := time.Now()
	code, body := uploadSnapshot(t, c.Peers[0], "/collections/"+coll+"/snapshots/upload?priority=snapshot", archive)
	if code != http.StatusOK || !strings.Contains(string(body), `"result":true`) {
		t.Fatalf("upload: %d %s", code, body)
	}
	placement := waitReplicas(t, c.Peers, coll, shards, 3, "Active")
	t.Logf("every replica Active %.1fs after the upload started", time.Since(start).Seconds())
	pc := newP2PConns(t, c)
	check := func(when string) {
		t.Helper()
		if n := compareAllReplicas(t, pc, coll, placement); n != points {
			t.Fatalf("%s: %d points in the cluster, want %d", when, n, points)
		}
		for s := range uint32(shards) {
			for _, peer := range slices.Sorted(mapsKeys(placement[s])) {
				got, err := replicaDump(context.Background(), pc, peer, coll, s)
				if err != nil {
					t.Fatal(err)
				}
				if diffs := history.CompareReplicas([]history.Replica{{Name: "snapshot", Points: want[s]}, {Name: fmt.Sprintf("shard %d on peer %d", s, peer), Points: got}}); len(diffs) > 0 {
					t.Fatalf("%s: shard %d on peer %d differs from the snapshot: %v", when, s, peer, diffs[:min(len(diffs), 5)])
				}
			}
		}
	}
	check("after the upload")

	corrupt := bytes.Clone(archive)
	corrupt[len(corrupt)/2] ^= 0x40
	code, body = uploadSnapshot(t, c.Peers[1], "/collections/"+coll+"/snapshots/upload?priority=snapshot", corrupt)
	var env struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
	}
	json.Unmarshal(body, &env)
	if code != http.StatusBadRequest || !strings.HasPrefix(env.Status.Error, "Bad request: Invalid snapshot") {
		t.Fatalf("corrupt upload: %d %s, want 400 Bad request: Invalid snapshot", code, body)
	}
	if again := waitReplicas(t, c.Peers, coll, shards, 3, "Active"); fmt.Sprint(again) != fmt.Sprint(placement) {
		t.Fatalf("the refused upload changed the replicas: %v -> %v", placement, again)
	}
	check("after the refused upload")
}

// TestSnapshotRecoverReplacesOnCluster: an older snapshot of a cluster
// collection recovered on one peer (PUT .../snapshots/recover, a file://
// location, priority snapshot) brings every replica of every shard back
// to the snapshot's data: the later writes are gone everywhere, the other
// peers' replicas refilled from the restored one.
func TestSnapshotRecoverReplacesOnCluster(t *testing.T) {
	const coll, shards, points = "replaced", 2, 600
	c := clustertest.Start(t, 3, clustertest.Options{})
	p := c.Peers[0]
	if err := p.Do(http.MethodPut, "/collections/"+coll, map[string]any{
		"vectors": map[string]any{"size": 4, "distance": "Dot"}, "shard_number": shards, "replication_factor": 3}, nil); err != nil {
		t.Fatal(err)
	}
	waitReplicas(t, c.Peers, coll, shards, 3, "Active")
	snapshotPoints(t, p, coll, points)
	var d struct {
		Name string `json:"name"`
	}
	if err := p.Do(http.MethodPost, "/collections/"+coll+"/snapshots?wait=true", nil, &d); err != nil {
		t.Fatal(err)
	}
	pc := newP2PConns(t, c)
	want := dumpAll(t, pc, peerIDs(t, c.Peers)[0], coll, shards)
	// Later writes through another peer: changed payloads, new points,
	// deletions.
	var later []any
	for i := 1; i <= points+300; i += 2 {
		later = append(later, map[string]any{"id": i, "vector": []float64{1, 2, 3, 4}, "payload": map[string]any{"later": true}})
	}
	if err := c.Peers[1].Do(http.MethodPut, "/collections/"+coll+"/points?wait=true", map[string]any{"points": later}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Peers[2].Do(http.MethodPost, "/collections/"+coll+"/points/delete?wait=true", map[string]any{"points": []int{2, 4, 6, 8}}, nil); err != nil {
		t.Fatal(err)
	}
	var ok bool
	location := "file://" + filepath.Join(p.Dir, "snapshots", coll, d.Name)
	if err := p.Do(http.MethodPut, "/collections/"+coll+"/snapshots/recover?wait=true", map[string]any{"location": location, "priority": "snapshot"}, &ok); err != nil || !ok {
		t.Fatalf("recover: %v %v", ok, err)
	}
	placement := waitReplicas(t, c.Peers, coll, shards, 3, "Active")
	if n := compareAllReplicas(t, pc, coll, placement); n != points {
		t.Fatalf("%d points in the cluster, want the snapshot's %d", n, points)
	}
	for s := range uint32(shards) {
		for _, peer := range slices.Sorted(mapsKeys(placement[s])) {
			got, err := replicaDump(context.Background(), pc, peer, coll, s)
			if err != nil {
				t.Fatal(err)
			}
			if diffs := history.CompareReplicas([]history.Replica{{Name: "snapshot", Points: want[s]}, {Name: fmt.Sprintf("shard %d on peer %d", s, peer), Points: got}}); len(diffs) > 0 {
				t.Fatalf("shard %d on peer %d differs from the snapshot: %v", s, peer, diffs[:min(len(diffs), 5)])
			}
		}
	}
}
