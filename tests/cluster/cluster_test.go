// Package cluster_test runs real multi-process clusters (internal/clustertest)
// and checks consensus as an operator sees it through the REST API.
package cluster_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/clustertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	clustertest.Cleanup()
	os.Exit(code)
}

func collections(t *testing.T, p *clustertest.Peer) []string {
	t.Helper()
	var res struct {
		Collections []struct {
			Name string `json:"name"`
		} `json:"collections"`
	}
	if err := p.Do(http.MethodGet, "/collections", nil, &res); err != nil {
		t.Fatalf("peer %d: list collections: %v", p.Index, err)
	}
	var out []string
	for _, c := range res.Collections {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return out
}

func sameCollections(t *testing.T, peers []*clustertest.Peer, want ...string) {
	t.Helper()
	sort.Strings(want)
	testkit.Eventually(t, fmt.Sprintf("every peer lists %v", want), 20*time.Second, func() error {
		for _, p := range peers {
			if got := collections(t, p); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				return fmt.Errorf("peer %d lists %v", p.Index, got)
			}
		}
		return nil
	})
}

var vectors = map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}}

func leaderPeer(t *testing.T, c *clustertest.Cluster, peers []*clustertest.Peer) *clustertest.Peer {
	t.Helper()
	id, err := c.WaitLeader(peers, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if st, err := p.Cluster(); err == nil && st.PeerID == id {
			return p
		}
	}
	t.Fatalf("leader %d not found", id)
	return nil
}

func follower(c *clustertest.Cluster, leader *clustertest.Peer) *clustertest.Peer {
	for _, p := range c.Peers {
		if p != leader && p.Running() {
			return p
		}
	}
	return nil
}

// TestThreePeers: three peers form a cluster; a collection created through
// a follower appears on every peer; metadata keys replicate; a peer with
// shards is only removed with force. It logs the metadata op latency.
func TestThreePeers(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	leader := leaderPeer(t, c, c.Peers)
	f := follower(c, leader)

	var lat []time.Duration
	for i := range 10 {
		start := time.Now()
		if err := f.Do(http.MethodPut, "/collections/c"+strconv.Itoa(i), vectors, nil); err != nil {
			t.Fatalf("create through follower %d: %v", f.Index, err)
		}
		lat = append(lat, time.Since(start))
		// Answered after it applied on the peer that received it.
		if got := collections(t, f); !slices.Contains(got, "c"+strconv.Itoa(i)) {
			t.Fatalf("follower lists %v right after creating c%d", got, i)
		}
	}
	slices.Sort(lat)
	t.Logf("create collection through a follower, 3 peers: median %v, max %v", lat[len(lat)/2], lat[len(lat)-1])
	want := []string{}
	for i := range 10 {
		want = append(want, "c"+strconv.Itoa(i))
	}
	sameCollections(t, c.Peers, want...)

	// Aliases go through consensus too.
	alias := map[string]any{"actions": []any{map[string]any{"create_alias": map[string]any{"alias_name": "latest", "collection_name": "c3"}}}}
	if err := f.Do(http.MethodPost, "/collections/aliases", alias, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "alias everywhere", 10*time.Second, func() error {
		for _, p := range c.Peers {
			var info map[string]any
			if err := p.Do(http.MethodGet, "/collections/latest", nil, &info); err != nil {
				return fmt.Errorf("peer %d: %v", p.Index, err)
			}
		}
		return nil
	})
	if err := leader.Do(http.MethodPut, "/cluster/metadata/keys/owner", map[string]any{"team": "search"}, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "metadata key everywhere", 10*time.Second, func() error {
		for _, p := range c.Peers {
			var v map[string]string
			if err := p.Do(http.MethodGet, "/cluster/metadata/keys/owner", nil, &v); err != nil || v["team"] != "search" {
				return fmt.Errorf("peer %d: %v %v", p.Index, v, err)
			}
		}
		return nil
	})

	// Removing a peer that holds shards needs force.
	st, err := f.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	var apiErr *clustertest.APIError
	err = leader.Do(http.MethodDelete, "/cluster/peer/"+strconv.FormatUint(st.PeerID, 10), nil, nil)
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Fatalf("removing a peer with shards without force: %v", err)
	}
	if err := leader.Do(http.MethodDelete, "/cluster/peer/"+strconv.FormatUint(st.PeerID, 10)+"?force=true", nil, nil); err != nil {
		t.Fatalf("forced removal: %v", err)
	}
	testkit.Eventually(t, "peer removed everywhere", 10*time.Second, func() error {
		for _, p := range c.Peers {
			if p == f {
				continue
			}
			s, err := p.Cluster()
			if err != nil {
				return err
			}
			if _, ok := s.Peers[strconv.FormatUint(st.PeerID, 10)]; ok || len(s.Peers) != 2 {
				return fmt.Errorf("peer %d still lists %d peers", p.Index, len(s.Peers))
			}
		}
		return nil
	})
}

// TestLeaderFailover: SIGKILL of the leader; a new leader is elected and
// metadata operations succeed again; the killed peer comes back and
// catches up. It logs the failover time.
func TestLeaderFailover(t *testing.T) {
	// The harness's fast tick, and Qdrant's default (100 ms).
	for _, tick := range []int{20, 100} {
		t.Run(fmt.Sprintf("tick_%dms", tick), func(t *testing.T) { leaderFailover(t, tick) })
	}
}

func leaderFailover(t *testing.T, tick int) {
	c := clustertest.Start(t, 3, clustertest.Options{TickMS: tick})
	leader := leaderPeer(t, c, c.Peers)
	if err := leader.Do(http.MethodPut, "/collections/before", vectors, nil); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := leader.Kill(); err != nil {
		t.Fatal(err)
	}
	var rest []*clustertest.Peer
	for _, p := range c.Peers {
		if p != leader {
			rest = append(rest, p)
		}
	}
	// With tick 20 ms and 10 ticks per election timeout, a few election
	// timeouts is about a second; allow generous slack on a busy machine.
	newLeader := leaderPeer(t, c, rest)
	elected := time.Since(killed)
	var created time.Duration
	testkit.Eventually(t, "a metadata operation after failover", 20*time.Second, func() error {
		err := rest[0].Do(http.MethodPut, "/collections/after?timeout=2", vectors, nil)
		created = time.Since(killed)
		return err
	})
	t.Logf("leader failover, 3 peers, tick %d ms: new leader peer %d agreed after %v, first metadata op committed %v after the kill", tick, newLeader.Index, elected, created)
	sameCollections(t, rest, "before", "after")

	if err := leader.Start(""); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(leader, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	sameCollections(t, c.Peers, "before", "after")
}

// TestPartition: the side without a majority cannot commit; the majority
// can; after healing every peer agrees.
func TestPartition(t *testing.T) {
	c := clustertest.Start(t, 5, clustertest.Options{})
	leader := leaderPeer(t, c, c.Peers)
	// The leader and one follower on the minority side, three peers on
	// the majority side.
	minority := []*clustertest.Peer{leader}
	var majority []*clustertest.Peer
	for _, p := range c.Peers {
		switch {
		case p == leader:
		case len(minority) < 2:
			minority = append(minority, p)
		default:
			majority = append(majority, p)
		}
	}
	idx := func(ps []*clustertest.Peer) []int {
		var out []int
		for _, p := range ps {
			out = append(out, p.Index)
		}
		return out
	}
	c.Partition(idx(minority), idx(majority))
	var apiErr *clustertest.APIError
	err := minority[0].Do(http.MethodPut, "/collections/minority?timeout=2", vectors, nil)
	if !errors.As(err, &apiErr) {
		t.Fatalf("minority commit: %v, want an error answer", err)
	}
	testkit.Eventually(t, "majority commits", 30*time.Second, func() error {
		return majority[0].Do(http.MethodPut, "/collections/majority?timeout=2", vectors, nil)
	})
	c.Heal()
	if _, err := c.WaitLeader(c.Peers, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	sameCollections(t, c.Peers, "majority")
}

// TestRestartAndLateJoin: all peers restarted keep the state; a peer
// joining after log compaction starts from the consensus snapshot.
func TestRestartAndLateJoin(t *testing.T) {
	c := clustertest.New(t, 4, clustertest.Options{Env: map[string]string{"QDRANT__CLUSTER__CONSENSUS__COMPACT_WAL_ENTRIES": "5"}})
	for i, p := range c.Peers[:3] {
		boot := ""
		if i > 0 {
			boot = c.Peers[0].URI()
		}
		if err := p.Start(boot); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitReady(p, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	three := c.Peers[:3]
	leader := leaderPeer(t, c, three)
	var want []string
	for i := range 12 {
		name := "k" + strconv.Itoa(i)
		if err := leader.Do(http.MethodPut, "/collections/"+name, vectors, nil); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	sameCollections(t, three, want...)

	for _, p := range three {
		if err := p.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range three {
		boot := ""
		if i > 0 {
			boot = c.Peers[0].URI()
		}
		if err := p.Start(boot); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range three {
		if err := c.WaitReady(p, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	leaderPeer(t, c, three)
	sameCollections(t, three, want...)

	late := c.Peers[3]
	if err := late.Start(c.Peers[1].URI()); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(late, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	sameCollections(t, c.Peers, want...)
}

// TestPausedLeader: a leader frozen with SIGSTOP is replaced; thawed, it
// follows the new leader and catches up with what was committed meanwhile.
func TestPausedLeader(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	leader := leaderPeer(t, c, c.Peers)
	if err := leader.Pause(); err != nil {
		t.Fatal(err)
	}
	var rest []*clustertest.Peer
	for _, p := range c.Peers {
		if p != leader {
			rest = append(rest, p)
		}
	}
	paused := time.Now()
	newLeader := leaderPeer(t, c, rest)
	t.Logf("new leader after %v", time.Since(paused))
	testkit.Eventually(t, "commit while the old leader is frozen", 20*time.Second, func() error {
		return newLeader.Do(http.MethodPut, "/collections/while-paused?timeout=2", vectors, nil)
	})
	t.Logf("committed after %v", time.Since(paused))
	if err := leader.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	if _, err := c.WaitLeader(c.Peers, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("all agree %v after the resume", time.Since(resumed))
	sameCollections(t, c.Peers, "while-paused")
}

// TestURIClash: a new peer that claims the URI of a member is refused and
// does not start.
func TestURIClash(t *testing.T) {
	c := clustertest.New(t, 3, clustertest.Options{})
	for i, p := range c.Peers[:2] {
		boot := ""
		if i > 0 {
			boot = c.Peers[0].URI()
		}
		if err := p.Start(boot); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitReady(p, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// Peer 2 announces peer 1's URI.
	clash := c.Peers[2]
	clash.Env["QDRANT__CLUSTER__CONSENSUS__BOOTSTRAP_TIMEOUT_SEC"] = "5"
	if err := clash.StartWithURI(c.Peers[0].URI(), c.Peers[1].URI()); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(clash, 20*time.Second); err == nil {
		t.Fatal("a peer with a member's URI joined")
	}
	logText, _ := os.ReadFile(clash.LogPath)
	if !strings.Contains(string(logText), "already exists") {
		t.Fatalf("the refused peer does not say why:\n%s", logText)
	}
	st, err := c.Peers[0].Cluster()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Peers) != 2 {
		t.Fatalf("the cluster lists %d peers after a refused join", len(st.Peers))
	}
}
