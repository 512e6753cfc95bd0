package shard

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/wal"
)

// shardWithWAL writes records to the WAL of a new shard directory through a
// real log on disk, as a shard that crashed before its first flush leaves
// it, and returns the directory.
func shardWithWAL(t *testing.T, recs ...[]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shard")
	log, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.AppendBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(log.Sync(), log.Close()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func lone(t *testing.T, op *ops.Operation) []byte {
	t.Helper()
	b, err := record{op: op}.encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func batchOf(t *testing.T, stop bool, batch ...*ops.Operation) [][]byte {
	t.Helper()
	out := make([][]byte, len(batch))
	for i, op := range batch {
		b, err := record{op: op, pos: batchPos{i: i, n: len(batch), stop: stop}}.encode()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func upsertOp(id uint64, vec ...float32) *ops.Operation {
	return &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(id), Vectors: point.Vectors{"": vec}}}}
}

func setPayloadOp(id uint64) *ops.Operation {
	return &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(id)}, Payload: point.Payload{"set": true}}
}

func ids(sh *Shard) []string {
	var out []string
	for id := range state(sh) {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// TestReplayRefusals: an operation that apply refuses on replay was
// refused when it was first applied (apply is a function of the operation
// and the state), so the shard opens and goes on, as the worker did; a
// batch sent with wait stops at its refusal on replay as it did then.
func TestReplayRefusals(t *testing.T) {
	cases := []struct {
		name string
		recs [][]byte
		want []string // point ids after the replay
	}{
		{
			name: "missing point and misfit vector are refused, the rest applied",
			recs: [][]byte{
				lone(t, upsertOp(1, 1, 1)),
				lone(t, setPayloadOp(2)),      // no point 2
				lone(t, upsertOp(3, 1, 2, 3)), // a 3-d vector for a 2-d column
				lone(t, upsertOp(4, 4, 4)),
				lone(t, upsertOp(5, 5)), // a 1-d vector for a 2-d column
			},
			want: []string{"1", "4"},
		},
		{
			name: "a batch sent with wait stops at its first refusal",
			recs: append(batchOf(t, true, upsertOp(5, 5, 5), setPayloadOp(6), upsertOp(7, 7, 7)), lone(t, upsertOp(8, 8, 8))),
			want: []string{"5", "8"},
		},
		{
			name: "a batch sent without wait goes on after a refusal",
			recs: batchOf(t, false, upsertOp(5, 5, 5), setPayloadOp(6), upsertOp(7, 7, 7)),
			want: []string{"5", "7"},
		},
		{
			name: "a batch cut short by a crash, then more records",
			recs: append(batchOf(t, true, upsertOp(5, 5, 5), upsertOp(6, 6, 6), upsertOp(7, 7, 7))[:2],
				batchOf(t, true, upsertOp(9, 9, 9), upsertOp(10, 1, 0))...),
			want: []string{"10", "5", "6", "9"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := shardWithWAL(t, c.recs...)
			sh, err := Open(dir, testOptions())
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer sh.Close()
			if got := ids(sh); !slices.Equal(got, c.want) {
				t.Fatalf("points %v, want %v", got, c.want)
			}
			if got := sh.Applied(); got != uint64(len(c.recs)) {
				t.Fatalf("applied %d, want %d", got, len(c.recs))
			}
		})
	}
}

// TestReplayStopsOnOtherErrors: a record that cannot be replayed as it was
// first applied stops the open with an error naming it, and the shard's
// files stay as they were.
func TestReplayStopsOnOtherErrors(t *testing.T) {
	injected := errors.New("injected: read vector file: input/output error")
	failSecond := func(tg target, version uint64, op *ops.Operation) error {
		if version == 1 {
			return injected
		}
		return apply(tg, version, op)
	}
	cases := []struct {
		name  string
		recs  [][]byte
		apply func(target, uint64, *ops.Operation) error
		msg   string
		is    error
	}{
		{
			name:  "an error of apply that is not a refusal",
			recs:  [][]byte{lone(t, upsertOp(1, 1, 1)), lone(t, upsertOp(2, 2, 2)), lone(t, upsertOp(3, 3, 3))},
			apply: failSecond,
			msg:   "wal record 1: upsert operation failed on replay",
			is:    injected,
		},
		{
			name:  "the same inside a batch sent without wait",
			recs:  batchOf(t, false, upsertOp(1, 1, 1), setPayloadOp(7), upsertOp(3, 3, 3)),
			apply: failSecond,
			msg:   "wal record 1: set_payload operation failed on replay",
			is:    injected,
		},
		{
			name: "a batch whose start is not in the log",
			recs: batchOf(t, true, upsertOp(1, 1, 1), upsertOp(2, 2, 2))[1:],
			msg:  "wal record 0: operation 1 of a batch of 2 whose first operation",
		},
		{
			name: "a batch record of a later version",
			recs: [][]byte{[]byte(`{"k":"batch","v":2,"i":0,"n":1,"op":{"k":"delete","ids":[1]}}`)},
			msg:  "wal record 0: decode operation: batch record version 2",
		},
		{
			name: "a record of a later format",
			recs: [][]byte{lone(t, upsertOp(1, 1, 1)), {taggedFormat + 1, 0, ops.EncodingVersion, 2, 0, 0}},
			msg:  "wal record 1: decode operation: record format 4",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := shardWithWAL(t, c.recs...)
			before := walFiles(t, dir)
			sh, err := openWith(dir, testOptions(), seams{apply: c.apply})
			if err == nil {
				sh.Close()
				t.Fatal("opened a shard whose WAL cannot be replayed")
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q does not say %q", err, c.msg)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("error %q does not wrap %q", err, c.is)
			}
			if after := walFiles(t, dir); !slices.Equal(before, after) {
				t.Fatalf("wal files changed: %v, then %v", before, after)
			}
		})
	}
}
