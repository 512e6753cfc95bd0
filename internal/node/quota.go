package node

import (
	"context"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/quota"
	"github.com/shoaldb/shoal/internal/sysinfo"
)

// QuotaStatus is what GET /quotas and the telemetry report about the
// resource quota on this node.
type QuotaStatus struct {
	Config   quota.Config
	Usage    quota.Usage
	Exceeded quota.Exceeded
	// PeerID is this peer's id in cluster mode, 0 standalone.
	PeerID uint64
}

// newQuotaGuard reads this node's memory and the file system of its
// storage.
func newQuotaGuard(storage string) *quota.Guard {
	return quota.NewGuard(quota.Readers{
		Memory: func() (uint64, uint64, bool) {
			rss, ok := sysinfo.ResidentBytes()
			total, tok := sysinfo.MemoryBytes()
			return rss, total, ok && tok
		},
		Disk: func() (uint64, uint64, bool) { return sysinfo.Disk(storage) },
	})
}

// Quota returns the cluster-wide quota as this node enforces it, and its
// utilization here.
func (n *Node) Quota() QuotaStatus {
	st := QuotaStatus{Config: n.quota.Config(), Usage: n.quota.Usage(), Exceeded: n.quota.Exceeded()}
	if n.cl != nil {
		st.PeerID = n.cl.opts.PeerID
	}
	return st
}

// SetQuota replaces the cluster-wide quota: through consensus in cluster
// mode (answered once applied here), else in the local metadata, saved
// before it applies.
func (n *Node) SetQuota(ctx context.Context, cfg quota.Config) error {
	if err := cfg.Validate(); err != nil {
		return point.Errorf(point.KindValidation, "%v", err)
	}
	op := cluster.SetQuota{Config: cfg}
	if n.cl != nil {
		_, err := n.cl.propose(ctx, op)
		return err
	}
	n.local.mu.Lock()
	defer n.local.mu.Unlock()
	if _, err := n.local.apply(op); err != nil {
		return err
	}
	n.quota.SetConfig(cfg)
	return nil
}

// applyQuota puts the quota of a metadata state in force.
func (n *Node) applyQuota(st *cluster.State) {
	cfg, _ := st.Quota()
	if !cfg.Equal(n.quota.Config()) {
		n.quota.SetConfig(cfg)
	}
}

// guardUpdate refuses, while the quota is exceeded, the updates that
// consume memory or disk: deleting points, payloads, vectors or indexes
// frees room and always passes.
func (n *Node) guardUpdate(op *ops.Operation) error {
	switch op.Kind {
	case ops.Delete, ops.DeletePayload, ops.ClearPayload, ops.DeleteVectors, ops.DeleteIndex:
		return nil
	}
	if err := n.quota.Check(); err != nil {
		return point.Errorf(point.KindBadRequest, "%s", err.Error())
	}
	return nil
}

// announceMetadata proposes what this peer says about itself (its Qdrant
// version, peer_metadata in telemetry) until it is committed, trying again
// every wait, for at most a minute; nothing when the state already says
// so.
func (n *Node) announceMetadata(ctx context.Context, id uint64, version string, wait time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			n.log.Warn("the metadata of this peer was not committed in time", "version", version, "err", ctx.Err())
			return
		case <-t.C:
		}
		n.cl.mu.Lock()
		m, ok := n.cl.state.PeerMetadata()[cluster.PeerID(id)]
		n.cl.mu.Unlock()
		if ok && m.Version == version {
			return
		}
		if _, err := n.cl.propose(ctx, cluster.SetPeerMetadata{ID: cluster.PeerID(id), Version: version}); err == nil {
			return
		} else {
			n.log.Debug("announcing the metadata of this peer failed; retrying", "err", err)
		}
		t.Reset(wait)
	}
}

// PeerMetadata returns what each peer of the cluster said about itself.
func (n *Node) PeerMetadata() map[uint64]cluster.PeerMetadata {
	out := map[uint64]cluster.PeerMetadata{}
	if n.cl == nil {
		return out
	}
	n.cl.mu.Lock()
	defer n.cl.mu.Unlock()
	for id, m := range n.cl.state.PeerMetadata() {
		out[uint64(id)] = m
	}
	return out
}
