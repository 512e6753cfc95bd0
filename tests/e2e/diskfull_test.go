//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests of this file give the server a real full disk: its storage is
// a tmpfs of a few megabytes, filled by a file of the test's. Mounting
// needs root (or CAP_SYS_ADMIN); without it they skip.

// mountTmpfs mounts a tmpfs of size bytes at dir.
func mountTmpfs(t *testing.T, dir string, size int64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): %v", err)
	}
	// Lazily: the server may still hold files when the test fails.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// fillDisk writes a file in dir until the file system is full, then gives
// back leave bytes (rounded to pages by the file system), and returns the
// file's path.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	var size int64
	for {
		n, err := f.Write(chunk)
		size += int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if leave > 0 {
		if err := f.Truncate(max(size-leave, 0)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// failure sends body and returns the status code and the error text of
// Qdrant's envelope, or 200 and "" for a success.
func (s *server) failure(t *testing.T, method, path string, body any) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.call(ctx, method, path, body, nil)
	if err == nil {
		return 200, ""
	}
	var ae *apiError
	if !errors.As(err, &ae) {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	var env struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
		Time *float64 `json:"time"`
	}
	if err := json.Unmarshal([]byte(ae.Body), &env); err != nil || env.Time == nil {
		t.Fatalf("%s %s: answer %q is not Qdrant's error envelope (%v)", method, path, ae.Body, err)
	}
	return ae.Status, env.Status.Error
}

// TestDiskFullRefusesWritesAndStopsCleanly: on a full disk, writes are
// refused as Qdrant refuses them (500, "No space left on device: ...")
// with nothing stored; reads go on; SIGTERM exits 0 although the final
// flush cannot be written, because every acknowledged write is in the WAL;
// and once space is back a restart finds exactly the acknowledged writes.
func TestDiskFullRefusesWritesAndStopsCleanly(t *testing.T) {
	s := newServer(t)
	mountTmpfs(t, s.storage, 24<<20)
	s.env["QDRANT__STORAGE__WAL__WAL_CAPACITY_MB"] = "1"
	s.start()
	s.must("PUT", "/collections/c", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}}, nil)

	want := map[uint64]*pointState{}
	points := func(from, to int) []any {
		var out []any
		for i := from; i < to; i++ {
			p := &pointState{Vector: []float32{float32(i), 1, -2, 0.5}, Payload: map[string]any{"i": i, "name": fmt.Sprintf("p%d", i)}}
			out = append(out, map[string]any{"id": i, "vector": p.Vector, "payload": p.Payload})
			p.Payload = canonical(p.Payload)
			want[uint64(i)] = p
		}
		return out
	}
	s.must("PUT", "/collections/c/points?wait=true", map[string]any{"points": points(0, 40)}, nil)
	s.must("PUT", "/collections/c/points?wait=false", map[string]any{"points": points(40, 50)}, nil)
	s.must("POST", "/collections/c/points/batch?wait=true", map[string]any{"operations": []any{
		map[string]any{"upsert": map[string]any{"points": points(50, 55)}},
		map[string]any{"upsert": map[string]any{"points": points(55, 60)}},
	}}, nil)

	filler := fillDisk(t, s.storage, 0)
	const text = "Service internal error: No space left on device: WAL buffer size exceeds available disk space"
	refused := []struct {
		method, path string
		body         any
	}{
		{"PUT", "/collections/c/points?wait=true", map[string]any{"points": []any{map[string]any{"id": 1000, "vector": []float32{1, 1, 1, 1}}}}},
		{"PUT", "/collections/c/points?wait=false", map[string]any{"points": []any{map[string]any{"id": 1001, "vector": []float32{1, 1, 1, 1}}}}},
		{"POST", "/collections/c/points/delete?wait=true", map[string]any{"points": []int{1, 2}}},
		{"POST", "/collections/c/points/batch?wait=true", map[string]any{"operations": []any{
			map[string]any{"delete": map[string]any{"points": []int{3}}},
			map[string]any{"upsert": map[string]any{"points": []any{map[string]any{"id": 1002, "vector": []float32{1, 1, 1, 1}}}}},
		}}},
	}
	for _, r := range refused {
		code, msg := s.failure(t, r.method, r.path, r.body)
		if code != 500 || msg != text {
			t.Errorf("%s %s on a full disk: %d %q, want 500 %q", r.method, r.path, code, msg, text)
		}
	}
	checkState(t, s, "c", want) // reads go on, and nothing refused was stored

	if code := s.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM on a full disk: %d, want 0", code)
	}
	if len(s.logLines("final flush failed")) == 0 {
		t.Errorf("the final flush did not fail: the test did not fill the disk it meant to")
	}
	if len(s.logLines("shoal stopped")) == 0 {
		t.Errorf("no \"shoal stopped\" line after SIGTERM")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s.start()
	checkState(t, s, "c", want)
	if code := s.stop(); code != 0 {
		t.Fatalf("exit code of the second SIGTERM: %d, want 0", code)
	}
}

// TestDiskFullOptimizerResumes: an optimization that fails for lack of
// space is retried, with backoff, once space is back, without any change
// of the collection's settings; its failure shows in the collection's
// optimizer_status meanwhile.
func TestDiskFullOptimizerResumes(t *testing.T) {
	s := newServer(t)
	mountTmpfs(t, s.storage, 48<<20)
	s.env["QDRANT__STORAGE__WAL__WAL_CAPACITY_MB"] = "1"
	s.start()
	const n, dim = 3000, 64
	s.must("PUT", "/collections/c", map[string]any{
		"vectors":           map[string]any{"size": dim, "distance": "Dot"},
		"optimizers_config": map[string]any{"indexing_threshold": 0}, // no index until the PATCH below
	}, nil)
	for from := 0; from < n; from += 500 {
		var pts []any
		for i := from; i < from+500; i++ {
			v := make([]float32, dim)
			for j := range v {
				v[j] = float32((i*31+j*7)%97) / 97
			}
			pts = append(pts, map[string]any{"id": i, "vector": v})
		}
		s.must("PUT", "/collections/c/points?wait=true", map[string]any{"points": pts}, nil)
	}

	// Room for the PATCH (a small config file), not for the segment the
	// indexing optimizer writes (more than n*dim*4 bytes).
	filler := fillDisk(t, s.storage, 128<<10)
	s.must("PATCH", "/collections/c", map[string]any{"optimizers_config": map[string]any{"indexing_threshold": 10}}, nil)

	type info struct {
		Status              string          `json:"status"`
		OptimizerStatus     json.RawMessage `json:"optimizer_status"`
		IndexedVectorsCount int             `json:"indexed_vectors_count"`
		PointsCount         int             `json:"points_count"`
	}
	get := func() info {
		var in info
		s.must("GET", "/collections/c", nil, &in)
		return in
	}
	waitUntil := func(what string, timeout time.Duration, cond func(info) bool) info {
		t.Helper()
		deadline := time.Now().Add(timeout)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			in := get()
			if cond(in) {
				return in
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; status %s, optimizer_status %s, %d indexed vectors, %d points",
					what, in.Status, in.OptimizerStatus, in.IndexedVectorsCount, in.PointsCount)
			}
			<-tick.C
		}
	}
	failed := waitUntil("the optimization to fail", 30*time.Second, func(in info) bool {
		return strings.Contains(string(in.OptimizerStatus), "no space left on device")
	})
	if failed.IndexedVectorsCount != 0 {
		t.Fatalf("%d indexed vectors before the optimization succeeded", failed.IndexedVectorsCount)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	done := waitUntil("the optimization to be retried and succeed", 60*time.Second, func(in info) bool {
		return string(in.OptimizerStatus) == `"ok"` && in.Status == "green" && in.IndexedVectorsCount == n
	})
	if done.PointsCount != n {
		t.Fatalf("%d points after the optimization, want %d", done.PointsCount, n)
	}
	if len(s.logLines("optimization failed; retrying later")) == 0 {
		t.Errorf("no log line for the failed optimization")
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d, want 0", code)
	}
}
