package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/shoaldb/shoal/internal/vector"
)

// distFunc is a lower-is-better distance: squared L2 for Euclid, -dot for
// Cosine (vectors are normalised) and Dot. The same SIMD kernels Shoal's
// graph uses, so ground truth and search agree on rounding.
func distFunc(d vector.Distance) func(a, b []float32) float32 {
	switch d {
	case vector.Euclid:
		return vector.SquaredL2
	case vector.Manhattan:
		return vector.L1
	}
	return func(a, b []float32) float32 { return -vector.DotProduct(a, b) }
}

// topK is a bounded max-heap of (distance, id): the k best seen so far.
type topK struct {
	k  int
	d  []float32
	id []uint32
}

func newTopK(k int) *topK { return &topK{k: k, d: make([]float32, 0, k), id: make([]uint32, 0, k)} }

func (t *topK) reset() { t.d, t.id = t.d[:0], t.id[:0] }

// worst is the admission bound once the heap is full.
func (t *topK) full() bool     { return len(t.d) == t.k }
func (t *topK) worst() float32 { return t.d[0] }

func (t *topK) push(d float32, id uint32) {
	if len(t.d) < t.k {
		t.d, t.id = append(t.d, d), append(t.id, id)
		for i := len(t.d) - 1; i > 0; {
			p := (i - 1) / 2
			if !t.less(p, i) {
				break
			}
			t.swap(i, p)
			i = p
		}
		return
	}
	if d >= t.d[0] {
		return
	}
	t.d[0], t.id[0] = d, id
	for i, n := 0, len(t.d); ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && t.less(c, c+1) {
			c++
		}
		if !t.less(i, c) {
			break
		}
		t.swap(i, c)
		i = c
	}
}

// less orders the max-heap: larger distance on top, ties by larger id so
// that the kept set is the smallest ids among equal distances.
func (t *topK) less(a, b int) bool {
	if t.d[a] != t.d[b] {
		return t.d[a] < t.d[b]
	}
	return t.id[a] < t.id[b]
}

func (t *topK) swap(a, b int) {
	t.d[a], t.d[b] = t.d[b], t.d[a]
	t.id[a], t.id[b] = t.id[b], t.id[a]
}

// sorted writes the ids best first into out (len k; missing slots noID).
func (t *topK) sorted(out []uint32) {
	for i := range out {
		out[i] = noID
	}
	for n := len(t.d); n > 0; n-- {
		out[n-1] = t.id[0]
		last := n - 1
		t.swap(0, last)
		t.d, t.id = t.d[:last], t.id[:last]
		for i := 0; ; {
			c := 2*i + 1
			if c >= last {
				break
			}
			if c+1 < last && t.less(c, c+1) {
				c++
			}
			if !t.less(i, c) {
				break
			}
			t.swap(i, c)
			i = c
		}
	}
}

const noID = ^uint32(0)

// bruteForce returns the exact top-k ids of every query, best first, as
// nq*k words; queries are spread over threads goroutines.
func bruteForce(ds *dataset, k, threads int, progress func(done, total int)) []uint32 {
	dist := distFunc(ds.distance)
	nq, n := ds.nq(), ds.n()
	out := make([]uint32, nq*k)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range max(threads, 1) {
		wg.Go(func() {
			h := newTopK(k)
			for {
				i := int(next.Add(1) - 1)
				if i >= nq {
					return
				}
				q := ds.query(i)
				h.reset()
				for j := range n {
					d := dist(q, ds.baseVec(j))
					if !h.full() || d < h.worst() {
						h.push(d, uint32(j))
					}
				}
				h.sorted(out[i*k : (i+1)*k])
				if d := int(done.Add(1)); progress != nil && (d%max(1, nq/10) == 0) {
					progress(d, nq)
				}
			}
		})
	}
	wg.Wait()
	return out
}

// groundTruth loads the cached exact answers for ds and k from dir, or
// computes and stores them. The file is "SGT1", nq, k (little-endian
// uint32) and the ids.
func groundTruth(dir string, ds *dataset, k, threads int, logf func(string, ...any)) ([]uint32, error) {
	path := filepath.Join(dir, fmt.Sprintf("gt-%s-k%d.bin", ds.key, k))
	if b, err := os.ReadFile(path); err == nil {
		if ids, ok := decodeGT(b, ds.nq(), k); ok {
			logf("ground truth: cached %s", path)
			return ids, nil
		}
		logf("ground truth: %s is stale or damaged, recomputing", path)
	}
	logf("ground truth: brute force %d queries x %d points on %d threads", ds.nq(), ds.n(), threads)
	ids := bruteForce(ds, k, threads, func(d, t int) { logf("  %d/%d", d, t) })
	b := make([]byte, 12+4*len(ids))
	copy(b, "SGT1")
	binary.LittleEndian.PutUint32(b[4:], uint32(ds.nq()))
	binary.LittleEndian.PutUint32(b[8:], uint32(k))
	for i, id := range ids {
		binary.LittleEndian.PutUint32(b[12+4*i:], id)
	}
	if err := writeFileAtomic(path, b); err != nil {
		return nil, err
	}
	return ids, nil
}

func decodeGT(b []byte, nq, k int) ([]uint32, bool) {
	if len(b) != 12+4*nq*k || string(b[:4]) != "SGT1" ||
		binary.LittleEndian.Uint32(b[4:]) != uint32(nq) || binary.LittleEndian.Uint32(b[8:]) != uint32(k) {
		return nil, false
	}
	ids := make([]uint32, nq*k)
	for i := range ids {
		ids[i] = binary.LittleEndian.Uint32(b[12+4*i:])
	}
	return ids, true
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// recall is the mean over queries of |found ∩ truth| / k, both given as
// nq*k ids (found may hold noID for missing results).
func recall(found, truth []uint32, k int) float64 {
	nq := len(truth) / k
	if nq == 0 {
		return 0
	}
	hits := 0
	for i := range nq {
		want := truth[i*k : (i+1)*k]
		for _, id := range found[i*k : (i+1)*k] {
			if id == noID {
				continue
			}
			for _, w := range want {
				if w == id {
					hits++
					break
				}
			}
		}
	}
	return float64(hits) / float64(nq*k)
}
