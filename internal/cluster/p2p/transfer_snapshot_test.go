package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// snapshotReplicas are fake replicas that keep the archives they receive.
type snapshotReplicas struct {
	*fakeReplicas
	mu     sync.Mutex
	coll   string
	shard  collection.ShardID
	from   uint64
	size   int64
	got    []byte
	refuse error
	early  error // refused before reading anything
}

func (s *snapshotReplicas) ReceiveShardSnapshot(_ context.Context, coll string, shard collection.ShardID, from uint64, size int64, r io.Reader) error {
	if s.early != nil {
		return s.early
	}
	b, err := io.ReadAll(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.coll, s.shard, s.from, s.size, s.got = coll, shard, from, size, b
	if err != nil {
		return err
	}
	return s.refuse
}

// TestShardSnapshotStream: an archive of several chunks reaches the
// target's replicas byte for byte with its collection, shard and size;
// progress is reported per chunk up to the size; the replicas' refusal
// comes back with its kind; a source shorter than announced is an error.
func TestShardSnapshotStream(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	data := make([]byte, 2*snapshotChunk+12345)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	fake := &snapshotReplicas{fakeReplicas: &fakeReplicas{}}
	remote, _, _ := pointsPeer(t, fake, RemoteConfig{})
	ctx := context.Background()
	var sent []int64
	if err := remote.SendShardSnapshot(ctx, "c1", 7, 5, int64(len(data)), bytes.NewReader(data), func(n int64) { sent = append(sent, n) }); err != nil {
		t.Fatal(err)
	}
	if fake.coll != "c1" || fake.shard != 7 || fake.from != 5 || fake.size != int64(len(data)) || !bytes.Equal(fake.got, data) {
		t.Fatalf("received %q shard %d from %d size %d, %d bytes (equal %v)", fake.coll, fake.shard, fake.from, fake.size, len(fake.got), bytes.Equal(fake.got, data))
	}
	if len(sent) != 3 || sent[len(sent)-1] != int64(len(data)) {
		t.Fatalf("progress %v, want 3 chunks up to %d", sent, len(data))
	}
	// An empty archive is one chunk with the header.
	if err := remote.SendShardSnapshot(ctx, "c1", 0, 5, 0, bytes.NewReader(nil), nil); err != nil || len(fake.got) != 0 {
		t.Fatalf("empty archive: %v, %d bytes", err, len(fake.got))
	}
	fake.refuse = point.Errorf(point.KindBadRequest, "Invalid snapshot: nope")
	err := remote.SendShardSnapshot(ctx, "c1", 7, 5, int64(len(data)), bytes.NewReader(data), nil)
	if point.KindOf(err) != point.KindBadRequest || !strings.Contains(point.DescriptionOf(err), "Invalid snapshot: nope") {
		t.Fatalf("refusal arrived as %v (kind %v)", err, point.KindOf(err))
	}
	fake.refuse = nil
	// A refusal before the archive is read (too large, no such
	// transfer) ends the stream at once with its kind.
	fake.early = point.Errorf(point.KindUnavailable, "There is no snapshot transfer")
	err = remote.SendShardSnapshot(ctx, "c1", 7, 5, int64(len(data)), bytes.NewReader(data), nil)
	if point.KindOf(err) != point.KindUnavailable {
		t.Fatalf("early refusal arrived as %v (kind %v)", err, point.KindOf(err))
	}
	fake.early = nil
	if err := remote.SendShardSnapshot(ctx, "c1", 7, 5, int64(len(data))+1, bytes.NewReader(data), nil); err == nil {
		t.Fatal("a source shorter than announced was sent")
	}
	if err := remote.SendShardSnapshot(ctx, "c1", 7, 5, -1, bytes.NewReader(data), nil); point.KindOf(err) != point.KindBadInput {
		t.Fatalf("unknown size: %v, want bad input", err)
	}
}

// TestShardSnapshotStreamPeerWithout: a peer whose replicas take no
// snapshot stream answers with a transport-level refusal, no engine kind.
func TestShardSnapshotStreamPeerWithout(t *testing.T) {
	remote, _, _ := pointsPeer(t, &fakeReplicas{}, RemoteConfig{})
	err := remote.SendShardSnapshot(context.Background(), "c1", 0, 5, 3, bytes.NewReader([]byte("abc")), nil)
	var pe *point.Error
	if err == nil || errors.As(err, &pe) {
		t.Fatalf("a peer without the service answered %v", err)
	}
}

// scripted returns the chunks in order, then io.EOF (or err).
func scripted(chunks []*p2pv1.SnapshotChunk, err error) func() (*p2pv1.SnapshotChunk, error) {
	return func() (*p2pv1.SnapshotChunk, error) {
		if len(chunks) == 0 {
			if err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		c := chunks[0]
		chunks = chunks[1:]
		return c, nil
	}
}

func hdr(size uint64) *p2pv1.SnapshotHeader {
	return &p2pv1.SnapshotHeader{Collection: "c", ShardId: 1, Size: size}
}

// TestChunkReader: the rules of a snapshot stream, each broken once.
func TestChunkReader(t *testing.T) {
	big := make([]byte, MaxSnapshotChunk+1)
	for _, tc := range []struct {
		name   string
		first  *p2pv1.SnapshotChunk
		rest   []*p2pv1.SnapshotChunk
		recv   error
		want   string // "" for a clean read
		badIn  bool   // the refusal is bad input
		wanted string // the data read when clean
	}{
		{name: "sound", first: &p2pv1.SnapshotChunk{Header: hdr(6), Data: []byte("ab")}, rest: []*p2pv1.SnapshotChunk{{Data: []byte("cd")}, {Data: []byte("ef")}}, wanted: "abcdef"},
		{name: "header only", first: &p2pv1.SnapshotChunk{Header: hdr(3)}, rest: []*p2pv1.SnapshotChunk{{Data: []byte("abc")}}, wanted: "abc"},
		{name: "shorter than announced reads clean", first: &p2pv1.SnapshotChunk{Header: hdr(9), Data: []byte("ab")}, wanted: "ab"},
		{name: "no header", first: &p2pv1.SnapshotChunk{Data: []byte("ab")}, want: "no header"},
		{name: "no collection", first: &p2pv1.SnapshotChunk{Header: &p2pv1.SnapshotHeader{Size: 2}}, want: "no collection"},
		{name: "size out of range", first: &p2pv1.SnapshotChunk{Header: hdr(math.MaxInt64 + 1)}, want: "out of range"},
		{name: "first chunk beyond size", first: &p2pv1.SnapshotChunk{Header: hdr(1), Data: []byte("ab")}, want: "beyond"},
		{name: "first chunk too big", first: &p2pv1.SnapshotChunk{Header: hdr(math.MaxInt32), Data: big}, want: "over the limit"},
		{name: "later header", first: &p2pv1.SnapshotChunk{Header: hdr(4)}, rest: []*p2pv1.SnapshotChunk{{Header: hdr(4), Data: []byte("ab")}}, want: "has a header", badIn: true},
		{name: "empty chunk", first: &p2pv1.SnapshotChunk{Header: hdr(4)}, rest: []*p2pv1.SnapshotChunk{{}}, want: "empty chunk", badIn: true},
		{name: "later chunk too big", first: &p2pv1.SnapshotChunk{Header: hdr(math.MaxInt32)}, rest: []*p2pv1.SnapshotChunk{{Data: big}}, want: "over the limit", badIn: true},
		{name: "later chunk beyond size", first: &p2pv1.SnapshotChunk{Header: hdr(3), Data: []byte("ab")}, rest: []*p2pv1.SnapshotChunk{{Data: []byte("cd")}}, want: "beyond", badIn: true},
		{name: "stream breaks", first: &p2pv1.SnapshotChunk{Header: hdr(3), Data: []byte("ab")}, recv: errors.New("reset"), want: "reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr, err := newChunkReader(tc.first, scripted(tc.rest, tc.recv))
			var got []byte
			if err == nil {
				got, err = io.ReadAll(cr)
			}
			if tc.want == "" {
				if err != nil || string(got) != tc.wanted {
					t.Fatalf("read %q, %v; want %q", got, err, tc.wanted)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("read %q, %v; want an error with %q", got, err, tc.want)
			}
			if tc.badIn && point.KindOf(err) != point.KindBadInput {
				t.Fatalf("%v is of kind %v, want bad input", err, point.KindOf(err))
			}
			if tc.recv != nil && !errors.Is(err, ErrTransport) {
				t.Fatalf("a broken stream gave %v, want ErrTransport", err)
			}
		})
	}
}

// FuzzChunkReader: any sequence of chunks that decode as protobuf (the
// input is length-prefixed messages) is read or refused, never a panic,
// and what is read never goes beyond the announced size nor differs from
// the chunks' data.
func FuzzChunkReader(f *testing.F) {
	enc := func(chunks ...*p2pv1.SnapshotChunk) []byte {
		var out []byte
		for _, c := range chunks {
			b, _ := proto.Marshal(c)
			out = binary.AppendUvarint(out, uint64(len(b)))
			out = append(out, b...)
		}
		return out
	}
	f.Add(enc(&p2pv1.SnapshotChunk{Header: hdr(4), Data: []byte("ab")}, &p2pv1.SnapshotChunk{Data: []byte("cd")}))
	f.Add(enc(&p2pv1.SnapshotChunk{Header: hdr(1), Data: []byte("ab")}))
	f.Add(enc(&p2pv1.SnapshotChunk{Header: hdr(9)}, &p2pv1.SnapshotChunk{Header: hdr(9), Data: []byte("x")}))
	f.Add([]byte{0x05, 0x0a, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		var chunks []*p2pv1.SnapshotChunk
		var all []byte
		for len(in) > 0 && len(chunks) < 64 {
			n, k := binary.Uvarint(in)
			if k <= 0 || n > uint64(len(in)-k) {
				break
			}
			var c p2pv1.SnapshotChunk
			if proto.Unmarshal(in[k:k+int(n)], &c) != nil {
				break
			}
			in = in[k+int(n):]
			chunks = append(chunks, &c)
			all = append(all, c.GetData()...)
		}
		if len(chunks) == 0 {
			return
		}
		cr, err := newChunkReader(chunks[0], scripted(chunks[1:], nil))
		if err != nil {
			return
		}
		got, err := io.ReadAll(cr)
		if int64(len(got)) > cr.size {
			t.Fatalf("read %d bytes, announced %d", len(got), cr.size)
		}
		if !bytes.HasPrefix(all, got) {
			t.Fatal("read bytes the chunks do not hold")
		}
		if err == nil && !bytes.Equal(got, all) {
			t.Fatalf("clean read of %d bytes, the chunks hold %d", len(got), len(all))
		}
	})
}
