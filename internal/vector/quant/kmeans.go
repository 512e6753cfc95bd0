package quant

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// kmeansIterations bounds Lloyd's iterations: PQ codebooks gain little
// after a handful, and training runs in the optimizer's time.
const kmeansIterations = 10

// kmeans clusters n points of dimension l (data is n*l, row-major) into k
// centroids (k <= n) by Lloyd's algorithm from k-means++ seeds, with
// Hamerly's bounds: each point keeps an upper bound on the distance
// to its centroid and a lower bound on the distance to any other, moved by
// how far the centroids move, and is only rescanned when the bounds no
// longer prove its assignment. An emptied cluster takes the point with the
// largest upper bound. It stops once at most one point in 200 changes
// cluster. The result is k*l, row-major.
func kmeans(data []float32, n, l, k int, rng *rand.Rand) []float32 {
	cent := make([]float32, k*l)
	if n == k {
		copy(cent, data)
		return cent
	}
	seedPlusPlus(cent, data, n, l, k, rng)
	assign := make([]int32, n)
	upper := make([]float32, n) // >= distance to own centroid
	lower := make([]float32, n) // <= distance to every other centroid
	for i := range n {
		a, d1, d2 := nearest2(data[i*l:(i+1)*l], cent, l, k)
		assign[i], upper[i], lower[i] = int32(a), sqrt32(d1), sqrt32(d2)
	}
	old := make([]float32, k*l)
	moved := make([]float32, k)
	half := make([]float32, k) // half the distance to the closest other centroid
	sums := make([]float64, k*l)
	counts := make([]int, k)
	for range kmeansIterations {
		copy(old, cent)
		clear(sums)
		clear(counts)
		for i, c := range assign {
			counts[c]++
			s := sums[int(c)*l : (int(c)+1)*l]
			for j, x := range data[i*l : (i+1)*l] {
				s[j] += float64(x)
			}
		}
		var reseeded map[int]bool
		for c := range k {
			if counts[c] == 0 {
				// Reseed with the worst-served point not taken yet. A
				// centroid now sits on it: its lower bound drops to 0.
				far := -1
				for i := range upper {
					if !reseeded[i] && (far < 0 || upper[i] > upper[far]) {
						far = i
					}
				}
				if reseeded == nil {
					reseeded = map[int]bool{}
				}
				reseeded[far] = true
				copy(cent[c*l:(c+1)*l], data[far*l:(far+1)*l])
				lower[far] = 0
				continue
			}
			inv := 1 / float64(counts[c])
			for j := range l {
				cent[c*l+j] = float32(sums[c*l+j] * inv)
			}
		}
		// Move the bounds by how far the centroids moved.
		r1, r2 := -1, -1 // the two centroids that moved most
		for c := range k {
			moved[c] = sqrt32(sqDist(old[c*l:(c+1)*l], cent[c*l:(c+1)*l]))
			switch {
			case r1 < 0 || moved[c] > moved[r1]:
				r1, r2 = c, r1
			case r2 < 0 || moved[c] > moved[r2]:
				r2 = c
			}
		}
		if moved[r1] == 0 {
			break
		}
		second := float32(0) // k >= 2 here, but stay safe
		if r2 >= 0 {
			second = moved[r2]
		}
		for i, a := range assign {
			upper[i] += moved[a]
			if int(a) == r1 {
				lower[i] -= second
			} else {
				lower[i] -= moved[r1]
			}
		}
		halfGaps(half, cent, l, k)
		changed := 0
		for i, a := range assign {
			bound := max(half[a], lower[i])
			if upper[i] <= bound {
				continue
			}
			x := data[i*l : (i+1)*l]
			upper[i] = sqrt32(sqDist(x, cent[int(a)*l:(int(a)+1)*l]))
			if upper[i] <= bound {
				continue
			}
			b, d1, d2 := nearest2(x, cent, l, k)
			if int32(b) != a {
				changed++
				assign[i] = int32(b)
			}
			upper[i], lower[i] = sqrt32(d1), sqrt32(d2)
		}
		if changed <= n/200 {
			break
		}
	}
	return cent
}

// The hot loops of training and encoding below (halfGaps, seedPlusPlus,
// sqDist, nearest2) read only memory that no other goroutine writes while
// they run: the training sample, the codebooks, and buffers owned by the
// one goroutine that trains a chunk. //go:norace keeps the race detector,
// which slows them down sevenfold, out of them and in everything else.

// halfGaps sets half[c] to half the distance from centroid c to the
// closest other one: a point nearer than that to c has c as its nearest.
//
//go:norace
func halfGaps(half, cent []float32, l, k int) {
	for c := range k {
		best := float32(math.Inf(1))
		for o := range k {
			if o != c {
				best = min(best, sqDist(cent[c*l:(c+1)*l], cent[o*l:(o+1)*l]))
			}
		}
		half[c] = sqrt32(best) / 2
	}
}

// seedPlusPlus picks k starting centroids by k-means++: each next one is a
// point drawn with probability proportional to its squared distance to the
// centroids so far, which spreads them over the clusters. O(n*k*l), the
// cost of one Lloyd iteration.
//
//go:norace
func seedPlusPlus(cent, data []float32, n, l, k int, rng *rand.Rand) {
	first := rng.IntN(n)
	copy(cent[:l], data[first*l:(first+1)*l])
	d := make([]float64, n)
	total := 0.0
	for i := range n {
		d[i] = float64(sqDist(data[i*l:(i+1)*l], cent[:l]))
		total += d[i]
	}
	for c := 1; c < k; c++ {
		pick := n - 1
		if r := rng.Float64() * total; total > 0 && !math.IsInf(total, 0) {
			for i, x := range d {
				if r -= x; r < 0 {
					pick = i
					break
				}
			}
		} else {
			pick = rng.IntN(n) // duplicates or overflow: any point
		}
		y := cent[c*l : (c+1)*l]
		copy(y, data[pick*l:(pick+1)*l])
		total = 0
		for i := range n {
			if nd := float64(sqDist(data[i*l:(i+1)*l], y)); nd < d[i] {
				d[i] = nd
			}
			total += d[i]
		}
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

//go:norace
func sqDist(a, b []float32) float32 {
	b = b[:len(a)]
	var d float32
	for j, x := range a {
		t := x - b[j]
		d += t * t
	}
	return d
}

// nearest2 returns the centroid closest to x (k rows of length l in cent)
// and the squared distances to it and to the second closest. The common
// chunk lengths get unrolled loops.
//
//go:norace
func nearest2(x, cent []float32, l, k int) (int, float32, float32) {
	best, d1, d2 := 0, float32(math.Inf(1)), float32(math.Inf(1))
	keep := func(c int, d float32) {
		if d < d1 {
			best, d1, d2 = c, d, d1
		} else if d < d2 {
			d2 = d
		}
	}
	switch l {
	case 1:
		x0 := x[0]
		for c, y := range cent[:k] {
			if d := (x0 - y) * (x0 - y); d < d2 {
				keep(c, d)
			}
		}
	case 2:
		x0, x1 := x[0], x[1]
		for c := range k {
			y := cent[2*c : 2*c+2 : 2*c+2]
			t0, t1 := x0-y[0], x1-y[1]
			if d := t0*t0 + t1*t1; d < d2 {
				keep(c, d)
			}
		}
	case 4:
		x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
		for c := range k {
			y := cent[4*c : 4*c+4 : 4*c+4]
			t0, t1, t2, t3 := x0-y[0], x1-y[1], x2-y[2], x3-y[3]
			if d := (t0*t0 + t1*t1) + (t2*t2 + t3*t3); d < d2 {
				keep(c, d)
			}
		}
	default:
		for c := range k {
			if d := sqDist(x[:l], cent[c*l:(c+1)*l]); d < d2 {
				keep(c, d)
			}
		}
	}
	return best, d1, d2
}

// parallel runs f(i) for i in [0, n) on up to GOMAXPROCS goroutines and
// waits for all of them.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next int
	)
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
