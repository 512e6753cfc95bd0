// Command clusterbench measures a 3-peer Shoal cluster against a single
// node on loopback, with the same seeded data and the same client: write
// throughput (points/s, batches of upserts with wait=true from concurrent
// clients spread over the peers) and query QPS (searches, limit 10, from
// the same number of concurrent clients), and prints a markdown table with
// the ratios cluster/single. See bench/README.md.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bin                  string
	n, dim, batch        int
	clients              int
	peers                int
	shards, replication  int
	ordering, distance   string
	seed                 uint64
	queryDur             time.Duration
	queryCount, nQueries int
	warm                 int
	greenTimeout         time.Duration
	keep                 bool
	indexKB              int
	out                  string
}

func main() {
	var o options
	quick := flag.Bool("quick", false, "smoke run: 5000 points, 3 s of queries")
	flag.StringVar(&o.bin, "bin", "", "shoal binary (default: go build ./cmd/shoal of this repository)")
	flag.IntVar(&o.n, "n", 50000, "points")
	flag.IntVar(&o.dim, "dim", 128, "dimensions")
	flag.IntVar(&o.batch, "batch", 256, "points per upsert")
	flag.IntVar(&o.clients, "clients", 4, "concurrent clients (spread over the peers)")
	flag.IntVar(&o.peers, "peers", 3, "peers of the cluster")
	flag.IntVar(&o.shards, "shards", 3, "shard_number of the cluster's collection (0: none sent)")
	flag.IntVar(&o.replication, "replication", 2, "replication_factor of the cluster's collection")
	flag.StringVar(&o.ordering, "ordering", "", "ordering of the upserts: weak, medium, strong (default: none sent)")
	flag.StringVar(&o.distance, "distance", "Cosine", "distance")
	flag.Uint64Var(&o.seed, "seed", 42, "seed of data and queries")
	flag.DurationVar(&o.queryDur, "query-duration", 15*time.Second, "how long to run queries (when -query-count is 0)")
	flag.IntVar(&o.queryCount, "query-count", 0, "run this many queries instead of -query-duration")
	flag.IntVar(&o.nQueries, "queries", 1000, "distinct query vectors")
	flag.IntVar(&o.warm, "warm", 20, "uncounted warm-up searches per client")
	flag.DurationVar(&o.greenTimeout, "green-timeout", 5*time.Minute, "how long to wait for the optimizer before querying")
	flag.BoolVar(&o.keep, "keep", false, "keep the servers' directories")
	flag.IntVar(&o.indexKB, "indexing-threshold-kb", 1000, "optimizers_config.indexing_threshold of both collections (0: the server's default), so that both are HNSW-indexed")
	flag.StringVar(&o.out, "out", "", "also write the table to this file")
	flag.Parse()
	if *quick {
		o.n, o.queryDur = 5000, 3*time.Second
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "clusterbench:", err)
		os.Exit(1)
	}
}

// result is one setup's figures.
type result struct {
	name   string
	peers  int
	note   string // what the collection was created with
	load   time.Duration
	q      queryStats
	status string
	counts []int
	top    [][]string
	exact  [][]string // the same searches with params.exact: the true top-10
}

func (r result) writeRate(n int) float64 { return float64(n) / r.load.Seconds() }

func run(o options) error {
	if o.clients < 1 || o.peers < 1 || o.n < 1 || o.dim < 1 || o.batch < 1 || o.nQueries < 1 {
		return fmt.Errorf("-clients, -peers, -n, -dim, -batch and -queries must be positive")
	}
	root, err := os.MkdirTemp("", "clusterbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "servers' directories under", root)
	} else {
		defer os.RemoveAll(root)
	}
	bin, version := o.bin, "given binary "+o.bin
	if bin == "" {
		fmt.Fprintln(os.Stderr, "building ./cmd/shoal ...")
		if bin, err = buildBinary(root); err != nil {
			return err
		}
		version = "shoal built from " + gitDescribe()
	}
	fmt.Fprintf(os.Stderr, "data: %d x %d (seed %d), %d queries\n", o.n, o.dim, o.seed, o.nQueries)
	batches, err := encodeBatches(vectors(o.seed, 1, o.n, o.dim), o.batch)
	if err != nil {
		return err
	}
	bodies, err := searchBodies(vectors(o.seed, 2, o.nQueries, o.dim))
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4 * o.clients}}

	// Interrupted: the servers die with us (Pdeathsig), the temp dirs go.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		if !o.keep {
			os.RemoveAll(root)
		}
		os.Exit(130)
	}()

	ports := &portPicker{}
	single, err := measure(o, hc, bin, filepath.Join(root, "single"), ports, 1, false, batches, bodies)
	if err != nil {
		return fmt.Errorf("single node: %w", err)
	}
	cluster, err := measure(o, hc, bin, filepath.Join(root, "cluster"), ports, o.peers, true, batches, bodies)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	var out io.Writer = os.Stdout
	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			return err
		}
		defer f.Close()
		out = io.MultiWriter(os.Stdout, f)
	}
	report(out, o, version, single, cluster)
	return nil
}

// measure starts a setup, creates the collection, loads, waits for the
// optimizer, queries, and stops the servers.
func measure(o options, hc *http.Client, bin, dir string, ports *portPicker, n int, cluster bool, batches, bodies [][]byte) (result, error) {
	res := result{name: "single node", peers: n}
	if cluster {
		res.name = fmt.Sprintf("%d-peer cluster", n)
	}
	servers := make([]*server, n)
	for i := range servers {
		hp, err := ports.pick()
		if err != nil {
			return res, err
		}
		pp, err := ports.pick()
		if err != nil {
			return res, err
		}
		d := filepath.Join(dir, fmt.Sprintf("peer-%d", i))
		servers[i] = &server{index: i, dir: d, log: filepath.Join(d, "shoal.log"), httpPort: hp, p2pPort: pp}
	}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	probe := &http.Client{Timeout: 2 * time.Second}
	fmt.Fprintf(os.Stderr, "%s: starting\n", res.name)
	for i, s := range servers {
		bootstrap := ""
		if i > 0 {
			bootstrap = servers[0].uri()
		}
		if err := s.start(bin, cluster, bootstrap, ports); err != nil {
			return res, err
		}
		if err := s.waitReady(probe, time.Minute); err != nil {
			return res, err
		}
	}
	if cluster {
		if err := waitCluster(probe, servers, time.Minute); err != nil {
			return res, err
		}
	}
	bases := make([]string, n)
	for i, s := range servers {
		bases[i] = s.baseURL()
	}
	const name = "bench"
	shards := 0
	if cluster {
		shards = o.shards
	}
	note, err := createCollection(hc, bases[0], name, o.dim, o.distance, shards, o.replication, o.indexKB)
	if err != nil {
		return res, fmt.Errorf("create collection: %w", err)
	}
	res.note = note
	if err := poll(time.Minute, func() error { // known everywhere
		for _, b := range bases {
			if err := getJSON(probe, b+"/collections/"+name, nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return res, err
	}
	fmt.Fprintf(os.Stderr, "%s: loading %d batches with %d clients\n", res.name, len(batches), o.clients)
	if res.load, err = load(hc, bases, name, o.ordering, batches, o.clients); err != nil {
		return res, err
	}
	fmt.Fprintf(os.Stderr, "%s: loaded in %v; waiting for green\n", res.name, res.load.Round(time.Millisecond))
	res.status, err = waitCollection(probe, bases, name, o.greenTimeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: not green, querying anyway: %v\n", res.name, err)
	}
	for _, b := range bases {
		c, err := countVia(hc, b, name)
		if err != nil {
			return res, fmt.Errorf("count via %s: %w", b, err)
		}
		res.counts = append(res.counts, c)
	}
	if res.top, err = topIDs(hc, bases[0], name, bodies, 50); err != nil {
		return res, err
	}
	exact, err := exactBodies(bodies[:min(50, len(bodies))])
	if err != nil {
		return res, err
	}
	if res.exact, err = topIDs(hc, bases[0], name, exact, 50); err != nil {
		return res, err
	}
	fmt.Fprintf(os.Stderr, "%s: querying\n", res.name)
	if res.q, err = query(hc, bases, name, bodies, o.clients, o.queryDur, o.queryCount, o.warm); err != nil {
		return res, err
	}
	return res, nil
}

func report(w io.Writer, o options, version string, single, cluster result) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "### clusterbench: %s vs single node (%s UTC)\n\n", cluster.name, time.Now().UTC().Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "%s; %d CPUs (%s); %s. Data %d x %d %s (seed %d), upserts of %d with wait=true%s; "+
		"%d concurrent clients over the peers; searches limit 10 over %d query vectors, %s, after %d warm-up searches per client.\n\n",
		version, runtime.NumCPU(), host, runtime.Version(), o.n, o.dim, o.distance, o.seed, o.batch, orderingNote(o.ordering),
		o.clients, o.nQueries, queryNote(o), o.warm)
	fmt.Fprintf(w, "| setup | collection | load s | write points/s | searches | query QPS | p50 ms | p99 ms | count via each peer |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range []result{single, cluster} {
		fmt.Fprintf(w, "| %s | %s | %.2f | %.0f | %d | %.0f | %.2f | %.2f | %s |\n", r.name, r.note, r.load.Seconds(), r.writeRate(o.n),
			r.q.queries, r.q.qps(), ms(r.q.p50), ms(r.q.p99), joinInts(r.counts))
	}
	fmt.Fprintf(w, "| **cluster / single** | | | **%.2f** | | **%.2f** | %.2f | %.2f | |\n\n",
		cluster.writeRate(o.n)/single.writeRate(o.n), cluster.q.qps()/single.q.qps(), ms(cluster.q.p50)/ms(single.q.p50), ms(cluster.q.p99)/ms(single.q.p99))
	fmt.Fprintf(w, "Top-10 of the first %d searches through the first peer of the cluster: %.1f%% the same ids as the single node's. ", len(cluster.top), 100*overlap(single.top, cluster.top))
	fmt.Fprintf(w, "Exact searches (params.exact) of both setups agree on %.1f%% of their ids; recall@10 of the (HNSW) searches against them: single node %.1f%%, cluster %.1f%%.",
		100*overlap(single.exact, cluster.exact), 100*overlap(single.exact, single.top), 100*overlap(cluster.exact, cluster.top))
	for _, r := range []result{single, cluster} {
		if r.status != "green" {
			fmt.Fprintf(w, " %s was %q (not green) when the queries began.", r.name, r.status)
		}
	}
	fmt.Fprintln(w)
}

func orderingNote(o string) string {
	if o == "" {
		return ""
	}
	return ", ordering=" + o
}

func queryNote(o options) string {
	if o.queryCount > 0 {
		return fmt.Sprintf("%d searches", o.queryCount)
	}
	return fmt.Sprintf("for %v", o.queryDur)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = itoa(n)
	}
	return strings.Join(s, " / ")
}

// gitDescribe names the commit of the repository the binary was built
// from ("unknown" outside git).
func gitDescribe() string {
	root, err := repoRoot()
	if err != nil {
		return "unknown"
	}
	out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return "commit " + strings.TrimSpace(string(out))
}
