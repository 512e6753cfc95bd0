package main

import (
	"runtime"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/vector"
)

// scanResult is the exact brute-force scan rate: every base vector scored
// against a query with the SIMD kernel on one thread.
type scanResult struct {
	GBps       float64 `json:"gb_per_s"`
	NsPerVec   float64 `json:"ns_per_vector"`
	BaseBytes  int64   `json:"base_bytes"`
	QueriesRun int     `json:"queries"`
}

// bandwidth is a streaming read of a large buffer, one thread and all.
type bandwidth struct {
	BufferBytes int64   `json:"buffer_bytes"`
	OneGBps     float64 `json:"one_thread_gb_per_s"`
	AllGBps     float64 `json:"all_threads_gb_per_s"`
	Threads     int     `json:"threads"`
}

var sink float32

// measureScan times full scans of the base for up to `queries` queries on
// one locked thread and keeps the best (the base is read from memory or
// cache alike by every scan; the best is the least disturbed).
func measureScan(ds *dataset, queries int) scanResult {
	dist := distFunc(ds.distance)
	n := ds.n()
	best := time.Duration(1<<63 - 1)
	queries = max(1, min(queries, ds.nq()))
	runOnLockedThread(func() {
		for i := range queries {
			q := ds.query(i)
			t := time.Now()
			m := float32(0)
			for j := range n {
				m = min(m, dist(q, ds.baseVec(j)))
			}
			best = min(best, time.Since(t))
			sink += m
		}
	})
	bytes := int64(4 * len(ds.base))
	return scanResult{
		GBps:       float64(bytes) / best.Seconds() / 1e9,
		NsPerVec:   float64(best.Nanoseconds()) / float64(n),
		BaseBytes:  bytes,
		QueriesRun: queries,
	}
}

// measureBandwidth reads a buffer of `bytes` (float32) with the SIMD dot
// kernel applied to each 64 KiB chunk and itself: one load stream, far
// below the kernel's compute rate, so the figure is the memory read rate.
// Best of three passes, on one thread, then split over all threads.
func measureBandwidth(bytes int64) bandwidth {
	threads := runtime.GOMAXPROCS(0)
	buf := make([]float32, bytes/4)
	parallel(threads, len(buf), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			buf[i] = 1
		}
	})
	const chunk = 16 << 10
	read := func(lo, hi int) {
		s := float32(0)
		for i := lo; i < hi; i += chunk {
			c := buf[i:min(i+chunk, hi)]
			s += vector.DotProduct(c, c)
		}
		sink += s
	}
	bw := bandwidth{BufferBytes: int64(4 * len(buf)), Threads: threads}
	for _, th := range []int{1, threads} {
		best := time.Duration(1<<63 - 1)
		for range 3 {
			t := time.Now()
			if th == 1 {
				runOnLockedThread(func() { read(0, len(buf)) })
			} else {
				parallel(th, len(buf), read)
			}
			best = min(best, time.Since(t))
		}
		gbps := float64(bw.BufferBytes) / best.Seconds() / 1e9
		if th == 1 {
			bw.OneGBps = gbps
		} else {
			bw.AllGBps = gbps
		}
	}
	if threads == 1 {
		bw.AllGBps = bw.OneGBps
	}
	return bw
}

// parallel runs f over [0, n) cut into one contiguous range per thread.
func parallel(threads, n int, f func(lo, hi int)) {
	var wg sync.WaitGroup
	per := (n + threads - 1) / threads
	for t := range threads {
		lo, hi := t*per, min((t+1)*per, n)
		if lo >= hi {
			break
		}
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			f(lo, hi)
		})
	}
	wg.Wait()
}

func runOnLockedThread(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		f()
	}()
	<-done
}
