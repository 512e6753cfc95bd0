package consensus

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"
	"github.com/shoaldb/shoal/internal/vfs"
	"github.com/shoaldb/shoal/internal/vfs/vfstest"
)

// TestFsyncFailureStopsConsensus: a failed fsync of the raft storage (its
// log, once or for good) stops the peer's consensus: the proposal in
// flight fails, Run returns an error that matches vfs.ErrSyncFailed, every
// later proposal is refused with ErrStopped (cluster operations stop
// rather than go on over a log nobody can trust), and a restart on what
// was fsynced (a power loss) holds every acknowledged proposal and none
// that was refused.
func TestFsyncFailureStopsConsensus(t *testing.T) {
	for name, mode := range map[string]vfstest.Mode{"once": vfstest.Once, "sticky": vfstest.Sticky} {
		t.Run(name, func(t *testing.T) {
			const dir = "/raft"
			mem := vfstest.NewMem()
			fsys := vfstest.Wrap(mem)
			open := func(f vfs.FS) (*Node, *listSM, func() error) {
				sm := &listSM{}
				n, err := Open(Config{ID: 1, Dir: dir, FS: f, Bootstrap: true, Logger: quiet()}, sm, memTransport{&memNet{nodes: map[uint64]*Node{}, cut: map[[2]uint64]bool{}}, 1})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() {
					tick := time.NewTicker(5 * time.Millisecond)
					defer tick.Stop()
					done <- n.Run(ctx, tick.C)
				}()
				var runErr error
				stopped := false
				stop := func() error {
					if !stopped {
						cancel()
						runErr, stopped = <-done, true
					}
					return runErr
				}
				t.Cleanup(func() { stop() })
				return n, sm, stop
			}
			n, _, stop := open(fsys)
			testkit.WaitFor(t, "a leader", 10*time.Second, func() bool { return n.Status().Role == "Leader" })
			acked := []string{"a", "b"}
			for _, op := range acked {
				propose(t, n, op)
			}
			fsys.FailSync(vfstest.RaftFiles, syscall.EIO, mode)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := n.Propose(ctx, []byte("c")); err == nil {
				t.Fatal("the proposal whose fsync failed was acknowledged")
			}
			for _, op := range []string{"d", "e"} {
				if _, err := n.Propose(ctx, []byte(op)); !errors.Is(err, ErrStopped) {
					t.Fatalf("a proposal after the fsync failure: %v, want ErrStopped", err)
				}
			}
			if err := stop(); !errors.Is(err, vfs.ErrSyncFailed) || !errors.Is(err, syscall.EIO) {
				t.Fatalf("Run returned %v, want the fsync failure", err)
			}

			re, sm, _ := open(mem.CrashClone())
			testkit.WaitFor(t, "the reopened peer applies its log", 10*time.Second, func() bool {
				return re.Status().Role == "Leader" && len(sm.list()) >= len(acked)
			})
			got := sm.list()
			for _, op := range acked {
				if !slices.Contains(got, op) {
					t.Fatalf("after the power loss: %v, lost acknowledged %q", got, op)
				}
			}
			for _, op := range []string{"d", "e"} {
				if slices.Contains(got, op) {
					t.Fatalf("after the power loss: %v holds refused %q", got, op)
				}
			}
		})
	}
}
