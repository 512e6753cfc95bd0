package p2p

import (
	"context"
	"fmt"
	"time"

	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// Joined is what a bootstrap peer answers a joining one.
type Joined struct {
	// Peers are every peer of the cluster by id, this one included.
	Peers map[uint64]string
	// FirstPeer is the peer that bootstrapped the cluster.
	FirstPeer uint64
}

// Join asks the peer at bootstrapURI to add this peer (id, reachable at
// ownURI) to the cluster, Qdrant's AddPeerToKnown, and returns the peers it
// knows once that is committed. Failures that may pass (the bootstrap peer
// is not up yet, has no leader, times out) are retried until ctx ends
// (consensus.bootstrap_timeout_sec); a refusal is returned at once.
func (t *Transport) Join(ctx context.Context, bootstrapURI string, id uint64, ownURI string) (Joined, error) {
	return t.join(ctx, bootstrapURI, &p2pv1.AddPeerToKnownRequest{Id: id, Uri: ownURI})
}

// JoinWithPort is Join for a peer that knows only its P2P port: the
// bootstrap peer builds the URI from the address the request comes from.
func (t *Transport) JoinWithPort(ctx context.Context, bootstrapURI string, id uint64, port uint32) (Joined, error) {
	return t.join(ctx, bootstrapURI, &p2pv1.AddPeerToKnownRequest{Id: id, Port: &port})
}

func (t *Transport) join(ctx context.Context, bootstrapURI string, req *p2pv1.AddPeerToKnownRequest) (Joined, error) {
	cc, err := t.dialURI(bootstrapURI)
	if err != nil {
		return Joined{}, fmt.Errorf("join through %s: %w", bootstrapURI, err)
	}
	defer cc.Close()
	client := p2pv1.NewRaftClient(cc)
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
		resp, err := client.AddPeerToKnown(actx, req)
		cancel()
		if err == nil {
			j := Joined{Peers: map[uint64]string{}, FirstPeer: resp.GetFirstPeerId()}
			for _, p := range resp.GetAllPeers() {
				j.Peers[p.GetId()] = p.GetUri()
			}
			return j, nil
		}
		again := retryable(err)
		err = fmt.Errorf("join through %s (attempt %d): %w", bootstrapURI, attempt, fromStatus(err))
		if !again || ctx.Err() != nil {
			return Joined{}, err
		}
		t.log.Info("cannot join the cluster yet; retrying", "bootstrap", bootstrapURI, "in", wait, "err", err)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return Joined{}, fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-timer.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}
