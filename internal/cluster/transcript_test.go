package cluster

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

// The transcripts in testdata/*.txt drive the state machine the way
// etcd-io/raft's datadriven tests do: a block is a command, its input
// lines, a "----" line and the expected output, ended by a blank line.
//
//	apply            each input line is `op_name {json}`; prints the result
//	state            prints the whole state
//
// Run with -rewrite to regenerate the expected outputs after a deliberate
// change, then read the diff.
var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata transcripts")

type block struct {
	comments []string // the # lines before the block, kept by -rewrite
	cmd      string
	input    []string
	output   []string
}

func readTranscript(t *testing.T, path string) []block {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		blocks  []block
		cur     *block
		inOut   bool
		pending []string
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		text := sc.Text()
		switch {
		case cur == nil && text == "":
		case cur == nil && strings.HasPrefix(text, "#"):
			pending = append(pending, text)
		case cur == nil:
			cur = &block{comments: pending, cmd: strings.TrimSpace(text)}
			pending = nil
		case !inOut && text == "----":
			inOut = true
		case !inOut:
			cur.input = append(cur.input, text)
		case text == "":
			blocks = append(blocks, *cur)
			cur, inOut = nil, false
		default:
			cur.output = append(cur.output, text)
		}
	}
	if cur != nil {
		if !inOut {
			t.Fatalf("%s: block %q has no ---- line", path, cur.cmd)
		}
		blocks = append(blocks, *cur)
	}
	return blocks
}

func writeTranscript(path string, blocks []block) error {
	var b strings.Builder
	for i, bl := range blocks {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, c := range bl.comments {
			b.WriteString(c + "\n")
		}
		b.WriteString(bl.cmd + "\n")
		for _, l := range bl.input {
			b.WriteString(l + "\n")
		}
		b.WriteString("----\n")
		for _, l := range bl.output {
			b.WriteString(l + "\n")
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func TestTranscripts(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			blocks := readTranscript(t, path)
			s := New()
			for i := range blocks {
				bl := &blocks[i]
				got := runBlock(t, s, bl)
				if *rewrite {
					bl.output = got
					continue
				}
				if strings.Join(got, "\n") != strings.Join(bl.output, "\n") {
					t.Errorf("%s: %s %q:\ngot:\n%s\nwant:\n%s", path, bl.cmd, bl.input,
						strings.Join(got, "\n"), strings.Join(bl.output, "\n"))
				}
			}
			if *rewrite {
				if err := writeTranscript(path, blocks); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func runBlock(t *testing.T, s *State, bl *block) []string {
	t.Helper()
	switch bl.cmd {
	case "apply":
		var out []string
		for _, line := range bl.input {
			out = append(out, applyLine(t, s, line))
		}
		return out
	case "state":
		return dumpState(s)
	}
	t.Fatalf("unknown command %q", bl.cmd)
	return nil
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
	if len(out) == 0 {
		out = append(out, "(empty)")
	}
	return out
}
