package cluster_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/testkit"
)

// BenchmarkShardTransfer replicates a shard of 20k points of 128
// dimensions (with a small payload) from one peer to another over
// loopback, once per iteration, with each method, and reports points/s
// and MB/s of vectors (the figures of the closing note). The replica is
// dropped between iterations (untimed), so each transfer fills a fresh
// replica: wal_delta then replays the source's whole WAL.
//
//	go test ./tests/cluster -run '^$' -bench ShardTransfer -benchtime 3x
func BenchmarkShardTransfer(b *testing.B) {
	const points, dim = 20000, 128
	c := clustertest.Start(b, 2, clustertest.Options{})
	peers := c.Peers
	ids := map[int]uint64{}
	for _, p := range peers {
		st, err := p.Cluster()
		if err != nil {
			b.Fatal(err)
		}
		ids[p.Index] = st.PeerID
	}
	created := map[string]bool{}
	for _, method := range []string{"stream_records", "wal_delta", "snapshot"} {
		b.Run(method, func(b *testing.B) {
			coll := "bench_" + method
			if !created[coll] {
				created[coll] = true
				preloadBench(b, peers[0], coll, points, dim)
			}
			var src, dst uint64
			testkit.Eventually(b, "the shard placed", 10*time.Second, func() error {
				ci, err := getClusterInfo(peers[0], coll)
				if err != nil {
					return err
				}
				for p, st := range ci.replicaStates()[0] {
					if st != "Active" {
						return fmt.Errorf("%d is %s", p, st)
					}
					src = p
				}
				return nil
			})
			for _, id := range ids {
				if id != src {
					dst = id
				}
			}
			shardIs := func(want map[uint64]string) error {
				ci, err := getClusterInfo(peers[0], coll)
				if err != nil {
					return err
				}
				if len(ci.ShardTransfers) > 0 || fmt.Sprint(ci.replicaStates()[0]) != fmt.Sprint(want) {
					return fmt.Errorf("%v, %d transfers", ci.replicaStates()[0], len(ci.ShardTransfers))
				}
				return nil
			}
			b.ResetTimer()
			for range b.N {
				if err := clusterOp(peers[0], coll, map[string]any{"replicate_shard": map[string]any{
					"shard_id": 0, "from_peer_id": src, "to_peer_id": dst, "method": method}}); err != nil {
					b.Fatal(err)
				}
				if err := testkit.Poll(120*time.Second, func() error { return shardIs(map[uint64]string{src: "Active", dst: "Active"}) }); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := clusterOp(peers[0], coll, map[string]any{"drop_replica": map[string]any{"shard_id": 0, "peer_id": dst}}); err != nil {
					b.Fatal(err)
				}
				if err := testkit.Poll(30*time.Second, func() error { return shardIs(map[uint64]string{src: "Active"}) }); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(points*b.N)/secs, "points/s")
			b.ReportMetric(float64(points*dim*4*b.N)/1e6/secs, "MB/s")
		})
	}
}

// preloadBench creates coll (one shard, one replica) with points random
// vectors of dim dimensions.
func preloadBench(b *testing.B, p *clustertest.Peer, coll string, points, dim int) {
	body := map[string]any{"vectors": map[string]any{"size": dim, "distance": "Cosine"}, "shard_number": 1, "replication_factor": 1}
	if err := p.Do(http.MethodPut, "/collections/"+coll, body, nil); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for from := 0; from < points; from += 1000 {
		var pts []any
		for i := from; i < from+1000; i++ {
			v := make([]float32, dim)
			for j := range v {
				v[j] = r.Float32()
			}
			pts = append(pts, map[string]any{"id": i, "vector": v, "payload": map[string]any{"n": i, "tag": "t" + fmt.Sprint(i%10)}})
		}
		if err := p.Do(http.MethodPut, "/collections/"+coll+"/points?wait=true", map[string]any{"points": pts}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
