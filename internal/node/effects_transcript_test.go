package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/cluster/consensus"
)

// TestEffectTranscripts replays testdata/effects/*.txt against a node's
// cluster state machine on the test's goroutine: committed operations
// arrive as consensus would hand them over, and the transcript shows what
// happens to the local collections and the effects index. Commands:
//
//	apply <index>             input lines: `create <name> <config json>`,
//	                          `update <name> <config json>`, `delete <name>`,
//	                          one operation per index from <index> on
//	peer <index> <id> <uri>   a committed membership change adding a peer
//	block <name>              a file where the collection's directory goes
//	unblock <name>
//	retry                     one round of the effects retrier
//	effects                   the persisted index, what waits, the last error
//	collections               the local collections
//	snapshot <name>           keeps the metadata state under a name
//	restore <index> <name>    installs a kept state as a raft snapshot
//	restart                   the node reopens from its directory (its
//	                          metadata state is empty again, as before the
//	                          raft log is replayed)
func TestEffectTranscripts(t *testing.T) {
	datadriven.Walk(t, "testdata/effects", func(t *testing.T, path string) {
		h := &effectsHarness{dir: t.TempDir(), snaps: map[string][]byte{}}
		h.open(t)
		defer func() { h.n.Close() }()
		datadriven.RunTest(t, path, h.run)
	})
}

type effectsHarness struct {
	dir   string
	n     *Node
	snaps map[string][]byte
}

func (h *effectsHarness) open(t *testing.T) {
	n, err := Open(testOptions(h.dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.enableCluster(ClusterOptions{PeerID: 1, URI: "http://peer-1:6335"}); err != nil {
		t.Fatal(err)
	}
	h.n = n
}

var tempName = regexp.MustCompile(`\.(creating|deleting)-[0-9a-zA-Z]+`)

// clean makes an error text the same on every run: no temporary paths.
func (h *effectsHarness) clean(s string) string {
	return tempName.ReplaceAllString(strings.ReplaceAll(s, h.dir, "$DIR"), ".$1-*")
}

func (h *effectsHarness) run(t *testing.T, d *datadriven.TestData) string {
	cl := h.n.cl
	arg := func(i int) string {
		if len(d.CmdArgs) <= i {
			d.Fatalf(t, "%s: missing argument %d", d.Cmd, i+1)
		}
		return d.CmdArgs[i].Key
	}
	switch d.Cmd {
	case "apply":
		index, err := strconv.ParseUint(arg(0), 10, 64)
		if err != nil {
			d.Fatalf(t, "apply <index>")
		}
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			data := h.encode(t, d, line)
			v, err := cl.Apply(index, data)
			if err != nil {
				out = append(out, fmt.Sprintf("%d: error %s", index, h.clean(err.Error())))
			} else {
				out = append(out, fmt.Sprintf("%d: ok %v", index, v))
			}
			index++
		}
		return strings.Join(out, "\n")
	case "peer":
		index, err1 := strconv.ParseUint(arg(0), 10, 64)
		id, err2 := strconv.ParseUint(arg(1), 10, 64)
		if err1 != nil || err2 != nil {
			d.Fatalf(t, "peer <index> <id> <uri>")
		}
		if err := cl.ApplyMembership(index, consensus.Membership{Kind: consensus.AddLearner, Peer: id, Context: []byte(arg(2))}); err != nil {
			return "error " + err.Error()
		}
		return "ok"
	case "block", "unblock":
		p := filepath.Join(h.dir, "collections", arg(0))
		if d.Cmd == "unblock" {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			return "ok"
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("in the way"), 0o644); err != nil {
			t.Fatal(err)
		}
		return "ok"
	case "retry":
		cl.effMu.Lock()
		cl.runEffectsLocked()
		cl.effMu.Unlock()
		return h.effects()
	case "effects":
		return h.effects()
	case "collections":
		return fmt.Sprintf("%v", h.n.Collections())
	case "snapshot":
		b, err := cl.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		h.snaps[arg(0)] = b
		return "ok"
	case "restore":
		index, err := strconv.ParseUint(arg(0), 10, 64)
		if err != nil {
			d.Fatalf(t, "restore <index> <name>")
		}
		if err := cl.Restore(index, h.snaps[arg(1)]); err != nil {
			return "error " + h.clean(err.Error())
		}
		return h.effects()
	case "restart":
		if err := h.n.Close(); err != nil {
			t.Fatal(err)
		}
		h.open(t)
		return h.effects()
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

func (h *effectsHarness) effects() string {
	cl := h.n.cl
	cl.effMu.Lock()
	defer cl.effMu.Unlock()
	cl.mu.Lock()
	index := cl.effects
	cl.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "effects index: %d\n", index)
	for _, e := range cl.eff.queue {
		fmt.Fprintf(&b, "waiting: %d %s\n", e.index, e.what)
	}
	if cl.eff.lastErr != nil {
		fmt.Fprintf(&b, "last error: %s\n", h.clean(cl.eff.lastErr.Error()))
	}
	fmt.Fprintf(&b, "collections: %v", h.n.Collections())
	return b.String()
}

// encode turns a transcript line into an encoded cluster operation, the
// collection config built from a create request as the node builds it.
func (h *effectsHarness) encode(t *testing.T, d *datadriven.TestData, line string) []byte {
	f := strings.SplitN(strings.TrimSpace(line), " ", 3)
	config := func() json.RawMessage {
		if len(f) < 3 {
			d.Fatalf(t, "%q: missing config", line)
		}
		cfg, err := createReq(t, f[2]).Build(h.n.opts.Defaults)
		if err != nil {
			d.Fatalf(t, "%q: %v", line, err)
		}
		raw, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	var op cluster.Op
	switch f[0] {
	case "create":
		op = cluster.CreateCollection{Name: f[1], Config: config(), ShardNumber: 1, ReplicationFactor: 1, WriteConsistencyFactor: 1}
	case "update":
		op = cluster.UpdateCollection{Name: f[1], Config: config()}
	case "delete":
		op = cluster.DeleteCollection{Name: f[1]}
	default:
		d.Fatalf(t, "unknown operation %q", f[0])
	}
	data, err := cluster.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
