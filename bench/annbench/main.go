// Command annbench compares Shoal's HNSW index (internal/index/hnsw) with
// hnswlib on the same machine, data and parameters: recall@k and
// single-thread QPS per ef, QPS ratios at fixed recall levels, build time
// and memory, plus the exact-scan rate next to the machine's measured
// memory bandwidth. See bench/README.md.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/shoaldb/shoal/internal/vector"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "annbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("annbench", flag.ContinueOnError)
	var (
		dsName   = fs.String("dataset", "synthetic", "fashion-mnist | synthetic")
		dataDir  = fs.String("data-dir", "", "directory of the Fashion-MNIST idx files (default: where Debian's dataset-fashion-mnist puts them)")
		n        = fs.Int("n", 100_000, "synthetic: base vectors")
		dim      = fs.Int("dim", 128, "synthetic: dimensions")
		clusters = fs.Int("clusters", 256, "synthetic: Gaussian centres")
		spread   = fs.Float64("spread", 1.0, "synthetic: per-coordinate sigma around a centre (centres are N(0,1))")
		queries  = fs.Int("queries", 10_000, "queries (Fashion-MNIST: the first of its 10k test images)")
		k        = fs.Int("k", 10, "neighbours per query (recall@k)")
		m        = fs.Int("m", 16, "HNSW M")
		efc      = fs.Int("efc", 100, "HNSW ef_construction")
		efList   = fs.String("ef", "16,32,64,128,256,512", "search ef values")
		threads  = fs.Int("threads", runtime.NumCPU(), "build threads (both engines)")
		seed     = fs.Uint64("seed", 42, "synthetic data and level-generator seed")
		outDir   = fs.String("out", "bench/out", "directory for results and caches")
		peers    = fs.String("peer", "", "comma list of peers to run: hnswlib (Debian's Python module), hnswlib-native (the same headers built with -march=native)")
		distName = fs.String("distance", "", "Euclid | Cosine | Dot (default: Euclid for fashion-mnist, as ann-benchmarks; Cosine for synthetic)")
		runs     = fs.Int("runs", 3, "timed passes over the queries per ef; the fastest counts")
		scanQ    = fs.Int("scan-queries", 5, "queries for the exact-scan rate (0 skips it)")
		bwMiB    = fs.Int("bw-mib", 1024, "buffer for the memory bandwidth test in MiB (0 skips it)")
		cpuProf  = fs.String("cpuprofile", "", "write a CPU profile of Shoal's search phase")
		python   = fs.String("python", defaultPython(), "Python interpreter with Debian's hnswlib module")
		script   = fs.String("peer-script", "bench/hnswlib_peer.py", "the hnswlib peer script")
		cppSrc   = fs.String("peer-cpp", "bench/hnswlib_peer.cpp", "the native hnswlib peer source")
		cxx      = fs.String("cxx", "g++", "C++ compiler for hnswlib-native")
		quantCfg = fs.String("quant", "", "also measure Shoal's graph walk over quantized codes with rescoring: scalar | binary | product (x16) | a QuantizationConfig JSON")
		oversamp = fs.Float64("oversampling", 2, "with -quant: candidates per result taken by quantized score and rescored")
		waitIdle = fs.Duration("wait-idle", 0, "before each engine, wait up to this long for other load on the machine to drop below half a core")
		rounds   = fs.Int("rounds", 1, "measure every engine this many times, engines taking turns, each keeping its best QPS per ef: on a machine whose speed drifts, interleaving keeps the ratios fair. Builds happen once (peers save their index to -out for the later rounds)")
		gCache   = fs.Bool("graph-cache", false, "experiments: save the built graphs of Shoal and of the hnswlib peer to -out, and load them from there when present (build times then read 0)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	efs, err := parseInts(*efList)
	if err != nil {
		return fmt.Errorf("-ef: %w", err)
	}
	if *rounds < 1 {
		return fmt.Errorf("-rounds must be positive")
	}
	if *k < 1 || *m < 2 || *efc < 1 || *threads < 1 || *runs < 1 || *queries < 1 {
		return fmt.Errorf("-k, -m, -efc, -threads, -runs and -queries must be positive (-m at least 2)")
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	start := time.Now()
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}

	var ds *dataset
	switch *dsName {
	case "fashion-mnist":
		d, err := distanceOr(*distName, vector.Euclid)
		if err != nil {
			return err
		}
		if ds, err = loadFashion(*dataDir, *queries, d); err != nil {
			return err
		}
	case "synthetic":
		d, err := distanceOr(*distName, vector.Cosine)
		if err != nil {
			return err
		}
		if *n < 1 || *dim < 1 || *clusters < 1 {
			return fmt.Errorf("-n, -dim and -clusters must be positive")
		}
		ds = synthetic(synthParams{n: *n, nq: *queries, dim: *dim, clusters: *clusters, spread: *spread, seed: *seed, distance: d})
	default:
		return fmt.Errorf("-dataset %q: want fashion-mnist or synthetic", *dsName)
	}
	logf("dataset %s: %d x %d base, %d queries, %s; Shoal kernels %s", ds.key, ds.n(), ds.dim, ds.nq(), ds.distance, kernelName())

	truth, err := groundTruth(*outDir, ds, *k, runtime.NumCPU(), logf)
	if err != nil {
		return err
	}
	p := runParams{k: *k, m: *m, efc: *efc, threads: *threads, runs: *runs, seed: *seed, efs: efs, cpuProfile: *cpuProf}
	if *gCache {
		p.peerCacheDir = *outDir
		p.graphCache = filepath.Join(*outDir, fmt.Sprintf("graph-%s-m%d-efc%d.hnsw", ds.key, *m, *efc))
	}
	mach := describeMachine()
	mach.BusyBefore = busyCores(time.Second)
	logf("other load: %.2f busy cores", mach.BusyBefore)
	rep := &report{
		Machine: mach,
		Dataset: fmt.Sprintf("%s: %d x %d, %d queries, %s", ds.name, ds.n(), ds.dim, ds.nq(), ds.distance),
		Params: map[string]any{
			"k": *k, "m": *m, "efc": *efc, "threads": *threads, "runs": *runs, "seed": *seed, "ef": efs,
			"n": ds.n(), "dim": ds.dim, "queries": ds.nq(), "distance": ds.distance, "key": ds.key,
		},
	}
	if ds.name == "synthetic" {
		rep.Dataset += fmt.Sprintf(", %d clusters, spread %g, seed %d", *clusters, *spread, *seed)
	}
	idle := func() { waitForIdle(*waitIdle, logf) }
	idle()
	// remeasure[i] measures rep.Engines[i] again for -rounds.
	var remeasure []func() ([]curvePoint, error)
	shoal, graph, measure, err := runShoal(ds, truth, p, logf)
	if err != nil {
		return err
	}
	rep.Engines = append(rep.Engines, shoal)
	remeasure = append(remeasure, func() ([]curvePoint, error) { return measure(), nil })
	if *quantCfg != "" {
		idle()
		qres, qmeasure, err := runShoalQuantized(ds, truth, p, graph, *quantCfg, *oversamp, logf)
		if err != nil {
			return err
		}
		rep.Engines = append(rep.Engines, qres)
		remeasure = append(remeasure, func() ([]curvePoint, error) { return qmeasure(), nil })
		rep.Params["quant"], rep.Params["oversampling"] = *quantCfg, *oversamp
	}
	runtime.GC()

	pc := peerConfig{python: *python, script: *script, cppSource: *cppSrc, cxx: *cxx}
	if *rounds > 1 && p.peerCacheDir == "" {
		// The later rounds load the peers' indexes instead of rebuilding them.
		dir, err := os.MkdirTemp(*outDir, "rounds-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		p.peerCacheDir = dir
	}
	for _, name := range strings.Split(*peers, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		idle()
		res, err := runPeer(name, pc, *outDir, ds, truth, p, logf)
		if err != nil {
			return err
		}
		for _, c := range res.Curve {
			logf("%s: ef=%-4d recall %.4f  %8.0f qps (%8.0f by CPU time)", res.Name, c.Ef, c.Recall, c.QPS, c.CPUQPS)
		}
		rep.Engines = append(rep.Engines, res)
		remeasure = append(remeasure, func() ([]curvePoint, error) {
			r, err := runPeer(name, pc, *outDir, ds, truth, p, logf)
			if err != nil {
				return nil, err
			}
			return r.Curve, nil
		})
	}
	for round := 2; round <= *rounds; round++ {
		for i, e := range rep.Engines {
			idle()
			logf("round %d of %d: %s", round, *rounds, e.Name)
			c, err := remeasure[i]()
			if err != nil {
				return err
			}
			mergeCurve(e.Curve, c)
		}
	}
	rep.Params["rounds"] = *rounds
	rep.computeRatios()

	if *scanQ > 0 {
		logf("exact scan rate (%d queries)", *scanQ)
		s := measureScan(ds, *scanQ)
		rep.Scan = &s
	}
	if *bwMiB > 0 {
		logf("memory bandwidth (%d MiB buffer)", *bwMiB)
		b := measureBandwidth(int64(*bwMiB) << 20)
		rep.Bandwidth = &b
	}

	rep.Machine.BusyAfter = busyCores(time.Second)
	var md bytes.Buffer
	rep.writeMarkdown(&md)
	os.Stdout.Write(md.Bytes())
	base := filepath.Join(*outDir, fmt.Sprintf("result-%s-m%d-efc%d", ds.key, *m, *efc))
	js, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".md", md.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", append(js, '\n'), 0o644); err != nil {
		return err
	}
	logf("wrote %s.md and .json", base)
	return nil
}

// waitForIdle polls the machine's load (1 s samples) until other work keeps
// less than half a core busy or max has passed. On a shared machine it
// spares a measurement the worst of another job's bursts; the CPU share in
// the report says how well that worked.
func waitForIdle(max time.Duration, logf func(string, ...any)) {
	if max <= 0 {
		return
	}
	deadline := time.Now().Add(max)
	for {
		b := busyCores(time.Second)
		if b < 0.5 {
			return
		}
		if time.Now().After(deadline) {
			logf("other load still %.2f busy cores after waiting %s; measuring anyway", b, max)
			return
		}
		logf("waiting for the machine to settle: %.2f busy cores", b)
		time.Sleep(4 * time.Second)
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no values")
	}
	return out, nil
}

func distanceOr(s string, def vector.Distance) (vector.Distance, error) {
	if s == "" {
		return def, nil
	}
	return vector.ParseDistance(s)
}

// defaultPython prefers Debian's interpreter: python3-hnswlib installs into
// its dist-packages, which a python3 earlier on PATH (pyenv, venv) lacks.
func defaultPython() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}
