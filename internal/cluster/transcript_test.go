package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/shoaldb/shoal/internal/point"
)

// The transcripts in testdata/*.txt drive the state machine with
// cockroachdb/datadriven, as etcd-io/raft's tests do: a command line, its
// input lines, a "----" line and the expected output.
//
//	apply            each input line is `op_name {json}`; prints the result
//	state            prints the whole state
//
// Run with -rewrite to regenerate the expected outputs after a deliberate
// change, then read the diff.
func TestTranscripts(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s := New()
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				switch d.Cmd {
				case "apply":
					var out []string
					for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
						out = append(out, applyLine(t, s, line))
					}
					return strings.Join(out, "\n")
				case "state":
					return strings.Join(dumpState(s), "\n")
				}
				d.Fatalf(t, "unknown command %q", d.Cmd)
				return ""
			})
		})
	}
}

// applyLine decodes and applies one op and checks the properties every op
// keeps: the encoding round trips, a failed op changes nothing, the
// invariants hold, and a restored copy of the state reaches the same state.
func applyLine(t *testing.T, s *State, line string) string {
	t.Helper()
	name, body, _ := strings.Cut(line, " ")
	if body == "" {
		body = "{}"
	}
	op, err := Decode([]byte(fmt.Sprintf(`{"v":1,%q:%s}`, name, body)))
	if err != nil {
		return "decode error: " + err.Error()
	}
	enc, err := Encode(op)
	if err != nil {
		t.Fatalf("%s: encode: %v", line, err)
	}
	if again, err := Decode(enc); err != nil {
		t.Fatalf("%s: decode own encoding: %v", line, err)
	} else if enc2, _ := Encode(again); !bytes.Equal(enc, enc2) {
		t.Fatalf("%s: encoding is not stable:\n%s\n%s", line, enc, enc2)
	}
	before := mustSnapshot(t, s)
	replica, err := Restore(before)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	res, err := s.Apply(op)
	res2, err2 := replica.Apply(op)
	if (err == nil) != (err2 == nil) || res != res2 || !bytes.Equal(mustSnapshot(t, s), mustSnapshot(t, replica)) {
		t.Fatalf("%s: a restored replica diverged: %v/%v %v/%v", line, res, res2, err, err2)
	}
	if err := s.Check(); err != nil {
		t.Fatalf("%s: invariant broken: %v", line, err)
	}
	if err != nil {
		if !bytes.Equal(before, mustSnapshot(t, s)) {
			t.Fatalf("%s: failed op changed the state", line)
		}
		return fmt.Sprintf("error %s: %s", kindName(point.KindOf(err)), point.DescriptionOf(err))
	}
	if !res.Changed {
		return "ok (unchanged)"
	}
	return "ok"
}

func mustSnapshot(t testing.TB, s *State) []byte {
	t.Helper()
	b, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kindName(k point.Kind) string {
	switch k {
	case point.KindBadInput:
		return "bad_input"
	case point.KindBadRequest:
		return "bad_request"
	case point.KindNotFound:
		return "not_found"
	case point.KindAlreadyExists:
		return "already_exists"
	}
	return fmt.Sprintf("kind(%d)", k)
}

func dumpState(s *State) []string {
	var out []string
	for _, p := range s.PeerIDs() {
		out = append(out, fmt.Sprintf("peer %d %s", p, s.peers[p]))
	}
	for _, name := range s.CollectionNames() {
		c := s.collections[name]
		line := fmt.Sprintf("collection %s shards=%d rf=%d wcf=%d", name, c.ShardNumber, c.ReplicationFactor, c.WriteConsistencyFactor)
		if c.Config != nil {
			line += " config=" + string(c.Config)
		}
		out = append(out, line)
		for sh := range c.ShardNumber {
			r := c.Shards[ShardID(sh)]
			line := fmt.Sprintf("  shard %d:", sh)
			for _, p := range r.Peers() {
				line += fmt.Sprintf(" %d=%s", p, r[p])
			}
			out = append(out, line)
		}
		for _, k := range slices.Sorted(maps.Keys(c.PayloadSchema)) {
			out = append(out, fmt.Sprintf("  payload_index %s %s", k, c.PayloadSchema[k]))
		}
		for _, tr := range c.Transfers {
			out = append(out, fmt.Sprintf("  transfer shard=%d %d->%d sync=%t %s", tr.Shard, tr.From, tr.To, tr.Sync, tr.Method))
		}
	}
	for _, a := range slices.Sorted(maps.Keys(s.aliases)) {
		out = append(out, fmt.Sprintf("alias %s -> %s", a, s.aliases[a]))
	}
	for _, k := range s.MetadataKeys() {
		out = append(out, fmt.Sprintf("meta %s = %s", k, s.metadata[k]))
	}
	for _, p := range slices.Sorted(maps.Keys(s.peerMeta)) {
		out = append(out, fmt.Sprintf("peer_metadata %d version=%s", p, s.peerMeta[p].Version))
	}
	if q, ok := s.Quota(); ok {
		b, _ := json.Marshal(q)
		out = append(out, "quota "+string(b))
	}
	if len(out) == 0 {
		out = append(out, "(empty)")
	}
	return out
}
