package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/shoaldb/shoal/internal/index/hnsw"
)

// curvePoint is one ef setting of a recall/QPS curve.
type curvePoint struct {
	Ef     int     `json:"ef"`
	Recall float64 `json:"recall"`
	QPS    float64 `json:"qps"`
	// CPUQPS counts the searching thread's CPU time instead of wall time
	// (per chunk, fastest pass): the same figure with preemption by other
	// load taken out. Equal to QPS on a quiet machine.
	CPUQPS float64 `json:"cpu_qps"`
	// CPUShare is the searching thread's CPU time over wall time across
	// the timed passes: below 1 when the machine's other load preempted it.
	CPUShare float64 `json:"cpu_share"`
}

// chunkQueries is the unit of best-of timing: each chunk of the query set
// keeps its fastest pass, so a burst of other load on a shared machine
// spoils one chunk of one pass, not the whole measurement. The peers use
// the same rule.
const chunkQueries = 100

// engineResult is what one engine (Shoal or a peer) measured.
type engineResult struct {
	Name       string       `json:"name"`
	Detail     string       `json:"detail"`
	BuildSec   float64      `json:"build_sec"`
	BuildCPU   float64      `json:"build_cpu_sec"`
	IndexBytes int64        `json:"index_bytes"` // graph + vectors as the engine holds them
	GraphBytes int64        `json:"graph_bytes"` // links only, where known
	RSSDelta   int64        `json:"rss_delta_bytes,omitempty"`
	Curve      []curvePoint `json:"curve"`
}

type runParams struct {
	k, m, efc, threads, runs int
	seed                     uint64
	efs                      []int
	cpuProfile               string
	graphCache               string // file to load the graph from, or save it to
	peerCacheDir             string // where peers load or save their index ("": they build)
}

// runShoal builds the graph with p.threads workers, then measures each ef
// on one goroutine locked to its OS thread: a warm-up pass over (part of)
// the queries, then p.runs timed passes over all of them, best kept.
//
// It also returns a function that measures the curve again (annbench
// -rounds).
func runShoal(ds *dataset, truth []uint32, p runParams, logf func(string, ...any)) (*engineResult, *hnsw.Graph, func() []curvePoint, error) {
	vecs := &flatVecs{dim: ds.dim, data: ds.base}
	offs := make([]uint32, ds.n())
	for i := range offs {
		offs[i] = uint32(i)
	}
	cfg := hnsw.Config{M: p.m, EfConstruct: p.efc, Distance: ds.distance, Dim: ds.dim, Seed: p.seed}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	logf("shoal: building %d x %d, M=%d efC=%d, %d threads", ds.n(), ds.dim, p.m, p.efc, p.threads)
	cpu0 := processCPU()
	start := time.Now()
	last := time.Now()
	g, cached, err := loadGraph(p.graphCache, vecs)
	if err != nil {
		return nil, nil, nil, err
	}
	if g == nil {
		g, err = hnsw.Build(cfg, vecs, offs, p.threads, func(done, total int) {
			if time.Since(last) > 5*time.Second || done == total {
				last = time.Now()
				logf("  %d/%d (%.0fs)", done, total, time.Since(start).Seconds())
			}
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("shoal build: %w", err)
		}
	}
	buildSec := time.Since(start).Seconds()
	buildCPU := processCPU() - cpu0
	if cached {
		buildSec, buildCPU = 0, 0
		logf("shoal: graph loaded from %s", p.graphCache)
	} else if p.graphCache != "" {
		if err := saveGraph(p.graphCache, g); err != nil {
			return nil, nil, nil, err
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	graph := int64(g.MemoryBytes())
	res := &engineResult{
		Name:       "Shoal",
		Detail:     fmt.Sprintf("internal/index/hnsw, %s kernels, Go %s%s", kernelName(), runtime.Version(), map[bool]string{true: ", graph loaded from a cache (build not timed)"}[cached]),
		BuildSec:   buildSec,
		BuildCPU:   buildCPU,
		GraphBytes: graph,
		IndexBytes: graph + int64(4*len(ds.base)),
		RSSDelta:   int64(after.HeapInuse) - int64(before.HeapInuse),
	}
	logf("shoal: built in %.1fs (%.1f CPU-s), graph %s", buildSec, buildCPU, mib(graph))

	if p.cpuProfile != "" {
		f, err := os.Create(p.cpuProfile)
		if err != nil {
			return nil, nil, nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, nil, nil, err
		}
		defer pprof.StopCPUProfile()
	}

	nq := ds.nq()
	found := make([]uint32, nq*p.k)
	search := func(ef, lo, hi int) {
		for i := lo; i < hi; i++ {
			r, _ := g.Search(context.Background(), ds.query(i), p.k, ef, nil) // never done: no error
			row := found[i*p.k : (i+1)*p.k]
			for j := range row {
				if j < len(r) {
					row[j] = r[j].Off
				} else {
					row[j] = noID
				}
			}
		}
	}
	measure := func() []curvePoint { return measureCurve("shoal", nq, p, truth, found, search, logf) }
	res.Curve = measure()
	return res, g, measure, nil
}

// measureCurve times search(ef, lo, hi) over the nq queries for each ef on
// one locked OS thread: a warm-up pass over (part of) the queries, then
// p.runs timed passes, each chunk keeping its fastest. search writes its
// result ids to found, from which recall is computed.
func measureCurve(name string, nq int, p runParams, truth, found []uint32, search func(ef, lo, hi int), logf func(string, ...any)) []curvePoint {
	var curve []curvePoint
	runOnLockedThread(func() {
		for _, ef := range p.efs {
			search(ef, 0, min(nq, 1000)) // warm-up: caches, searcher pool
			best := newChunkTimer(nq)
			for range p.runs {
				best.pass(func(lo, hi int) { search(ef, lo, hi) })
			}
			pt := curvePoint{Ef: ef, Recall: recall(found, truth, p.k), QPS: best.qps(), CPUQPS: best.cpuQPS(), CPUShare: best.cpuShare()}
			curve = append(curve, pt)
			logf("%s: ef=%-4d recall %.4f  %8.0f qps (%8.0f by CPU time)  cpu share %.2f", name, ef, pt.Recall, pt.QPS, pt.CPUQPS, pt.CPUShare)
		}
	})
	return curve
}

// mergeCurve keeps, per ef, the faster of two measurements of the same
// engine (rounds): the higher QPS by wall and by CPU time, and the lower
// CPU share, so a disturbed round shows. Recall is the engine's own and
// does not change between rounds of a loaded index.
func mergeCurve(into, next []curvePoint) {
	for i := range into {
		for _, n := range next {
			if n.Ef != into[i].Ef {
				continue
			}
			into[i].QPS = max(into[i].QPS, n.QPS)
			into[i].CPUQPS = max(into[i].CPUQPS, n.CPUQPS)
			into[i].CPUShare = min(into[i].CPUShare, n.CPUShare)
		}
	}
}

// chunkTimer keeps the fastest wall and thread-CPU time of each chunk of
// queries over several passes, and the thread's CPU and wall time over all
// of them. Use it on a locked OS thread: thread CPU time means nothing
// otherwise.
type chunkTimer struct {
	n         int
	wall, cpu []float64 // per chunk, seconds
	cpuSum    float64
	wallSum   float64
}

func newChunkTimer(n int) *chunkTimer {
	chunks := (n + chunkQueries - 1) / chunkQueries
	c := &chunkTimer{n: n, wall: make([]float64, chunks), cpu: make([]float64, chunks)}
	for i := range chunks {
		c.wall[i], c.cpu[i] = math.Inf(1), math.Inf(1)
	}
	return c
}

func (c *chunkTimer) pass(f func(lo, hi int)) {
	c0, w0 := threadCPU(), time.Now()
	for i := range c.wall {
		lo := i * chunkQueries
		tc, tw := threadCPU(), time.Now()
		f(lo, min(lo+chunkQueries, c.n))
		c.wall[i] = min(c.wall[i], time.Since(tw).Seconds())
		c.cpu[i] = min(c.cpu[i], threadCPU()-tc)
	}
	c.cpuSum += threadCPU() - c0
	c.wallSum += time.Since(w0).Seconds()
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func (c *chunkTimer) qps() float64    { return float64(c.n) / sum(c.wall) }
func (c *chunkTimer) cpuQPS() float64 { return float64(c.n) / sum(c.cpu) }

func (c *chunkTimer) cpuShare() float64 {
	if c.wallSum == 0 {
		return 0
	}
	return c.cpuSum / c.wallSum
}

// loadGraph decodes the graph cached at path over vecs; a missing file (or
// no path) is no graph and no error.
func loadGraph(path string, vecs hnsw.Vectors) (*hnsw.Graph, bool, error) {
	if path == "" {
		return nil, false, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	defer f.Close()
	g, err := hnsw.Decode(bufio.NewReaderSize(f, 1<<20), vecs)
	if err != nil {
		return nil, false, fmt.Errorf("graph cache %s: %w", path, err)
	}
	return g, true, nil
}

func saveGraph(path string, g *hnsw.Graph) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := g.Encode(w); err != nil {
		f.Close()
		return fmt.Errorf("graph cache %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
