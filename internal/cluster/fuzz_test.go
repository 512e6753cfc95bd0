package cluster

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedOps adds to f the encodings of the ops in the transcripts and of a
// random walk, so that the fuzzer starts from every op shape.
func seedOps(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.txt")
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			name, body, ok := strings.Cut(line, " ")
			if ok && strings.HasPrefix(body, "{") {
				f.Add([]byte(fmt.Sprintf(`{"v":1,%q:%s}`, name, body)))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		enc, err := Encode(randomOp(rng))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"add_peer":null}`))
	f.Add([]byte{0xff, 0x00})
}

// FuzzDecode: Decode never panics; what it accepts re-encodes stably and
// applies without breaking an invariant or, on error, changing the state.
func FuzzDecode(f *testing.F) {
	seedOps(f)
	base := richState(f)
	baseSnap := mustSnapshot(f, base)
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := Decode(data)
		if err != nil {
			return
		}
		enc, err := Encode(op)
		if err != nil {
			t.Fatalf("decoded op does not encode: %v", err)
		}
		op2, err := Decode(enc)
		if err != nil {
			t.Fatalf("own encoding does not decode: %v\n%s", err, enc)
		}
		if enc2, _ := Encode(op2); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
		s, err := Restore(baseSnap)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Apply(op); err != nil {
			if !bytes.Equal(baseSnap, mustSnapshot(t, s)) {
				t.Fatalf("failed op %s changed the state", enc)
			}
			return
		}
		if err := s.Check(); err != nil {
			t.Fatalf("op %s broke an invariant: %v", enc, err)
		}
		if _, err := Restore(mustSnapshot(t, s)); err != nil {
			t.Fatalf("state after %s does not restore: %v", enc, err)
		}
	})
}

// FuzzRestore: Restore never panics, and what it accepts passes Check and
// snapshots to bytes that restore to the same bytes.
func FuzzRestore(f *testing.F) {
	f.Add(mustSnapshot(f, richState(f)))
	f.Add(mustSnapshot(f, New()))
	f.Add([]byte(`{"v":1,"peers":{"1":"u"},"collections":{"c":{"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"shards":{"0":{"1":"Active"}}}}}`))
	f.Add([]byte(`{"v":1,"collections":{"c":null}}`))
	f.Add([]byte(`garbage`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Restore(data)
		if err != nil {
			return
		}
		if err := s.Check(); err != nil {
			t.Fatalf("restored state breaks an invariant: %v", err)
		}
		snap := mustSnapshot(t, s)
		s2, err := Restore(snap)
		if err != nil {
			t.Fatalf("own snapshot does not restore: %v\n%s", err, snap)
		}
		if snap2 := mustSnapshot(t, s2); !bytes.Equal(snap, snap2) {
			t.Fatalf("snapshot not stable:\n%s\n%s", snap, snap2)
		}
	})
}
