package p2p

import (
	"context"
	"fmt"
	"time"

	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// WaitApplied asks the peer to answer once it has applied the consensus
// log up to commit (in term or later), waiting at most timeout there: ok
// is false when the timeout passed first. The source of a shard transfer
// uses it to know that the target follows a change of its replica's
// state before it goes on (Qdrant's confirm_remote steps).
func (r *RemotePeer) WaitApplied(ctx context.Context, commit, term uint64, timeout time.Duration) (bool, error) {
	cc, uri, err := r.conns.Conn(r.peer)
	if err != nil {
		return false, fmt.Errorf("wait commit on peer %d: %w: %w", r.peer, ErrTransport, err)
	}
	// The call outlives the peer's own wait by a margin, so that a
	// timeout there answers ok=false rather than a deadline error here.
	ctx, cancel := context.WithTimeout(ctx, timeout+r.cfg.Timeout)
	defer cancel()
	ms := max(timeout.Milliseconds(), 1)
	resp, err := p2pv1.NewClusterClient(cc).WaitCommit(ctx, &p2pv1.WaitCommitRequest{Commit: commit, Term: term, TimeoutMs: uint64(ms)})
	if err != nil {
		return false, callError(ctx, r.peer, "wait commit at "+uri, err)
	}
	return resp.GetOk(), nil
}
