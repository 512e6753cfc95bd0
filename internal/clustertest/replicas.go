package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/shoaldb/shoal/internal/cluster/p2p"
	"github.com/shoaldb/shoal/internal/clustertest/history"
	"github.com/shoaldb/shoal/internal/ops"
)

// ReplicaReader dials the running peers' P2P ports directly (not through
// their proxies) to read single replicas, point by point.
type ReplicaReader struct {
	mu    sync.Mutex
	addrs map[uint64]string
	conns map[uint64]*grpc.ClientConn
}

// NewReplicaReader knows the running peers among peers by their ids.
func NewReplicaReader(peers []*Peer) (*ReplicaReader, error) {
	rr := &ReplicaReader{addrs: map[uint64]string{}, conns: map[uint64]*grpc.ClientConn{}}
	for _, p := range peers {
		if !p.Running() {
			continue
		}
		st, err := p.Cluster()
		if err != nil {
			return nil, fmt.Errorf("peer %d: %w", p.Index, err)
		}
		rr.addrs[st.PeerID] = "127.0.0.1:" + strconv.Itoa(p.P2PPort)
	}
	return rr, nil
}

// Close closes the connections.
func (rr *ReplicaReader) Close() {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	for _, cc := range rr.conns {
		cc.Close()
	}
	clear(rr.conns)
}

// Conn implements p2p's connection source.
func (rr *ReplicaReader) Conn(id uint64) (grpc.ClientConnInterface, string, error) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if cc, ok := rr.conns[id]; ok {
		return cc, rr.addrs[id], nil
	}
	addr, ok := rr.addrs[id]
	if !ok {
		return nil, "", fmt.Errorf("unknown peer %d", id)
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, "", err
	}
	rr.conns[id] = cc
	return cc, addr, nil
}

// Dump reads the replica of shard of coll on peer, over P2P.
func (rr *ReplicaReader) Dump(ctx context.Context, peer uint64, coll string, shard uint32) (history.Dump, error) {
	r := p2p.NewRemotePeer(rr, peer, p2p.RemoteConfig{Timeout: 20 * time.Second})
	var all []history.Record
	req := ops.ScrollRequest{Limit: 1000, WithPayload: ops.PayloadSelector{Enable: true}, WithVector: ops.VectorSelector{Enable: true}}
	for page := 0; ; page++ {
		if page > 10000 {
			return nil, fmt.Errorf("scroll shard %d on peer %d: over 10000 pages", shard, peer)
		}
		recs, next, err := r.Scroll(ctx, coll, shard, req)
		if err != nil {
			return nil, fmt.Errorf("scroll shard %d on peer %d: %w", shard, peer, err)
		}
		for _, rec := range recs {
			id, _ := json.Marshal(rec.ID)
			vec, _ := json.Marshal(rec.Vectors)
			pay, _ := json.Marshal(rec.Payload)
			all = append(all, history.Record{ID: id, Vector: vec, Payload: pay})
		}
		if next == nil {
			return history.DumpOf(all)
		}
		req.Offset = next
	}
}
