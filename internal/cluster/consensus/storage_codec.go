package consensus

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/shoaldb/shoal/internal/errkind"
	"go.etcd.io/raft/v3/raftpb"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A snapshot file: magic, the raftpb.Snapshot, CRC-32C (little endian) of
// both.
func decodeSnapshot(data []byte) (raftpb.Snapshot, error) {
	var snap raftpb.Snapshot
	if len(data) < len(snapMagic)+4 || string(data[:len(snapMagic)]) != snapMagic {
		return snap, errkind.Corruptf("corrupt raft state: snapshot header")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return snap, errkind.Corruptf("corrupt raft state: snapshot checksum")
	}
	if err := snap.Unmarshal(body[len(snapMagic):]); err != nil {
		return snap, errkind.Corruptf("corrupt raft state: snapshot: %v", err)
	}
	return snap, nil
}

// encodeEntries frames each entry with its length.
func encodeEntries(ents []raftpb.Entry) []byte {
	var out []byte
	for i := range ents {
		b, _ := ents[i].Marshal() // plain protobuf of plain fields: cannot fail
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out
}

func decodeEntries(b []byte) ([]raftpb.Entry, error) {
	var out []raftpb.Entry
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errkind.Corruptf("corrupt raft state: entry frame")
		}
		var e raftpb.Entry
		if err := e.Unmarshal(b[k : k+int(n)]); err != nil {
			return nil, errkind.Corruptf("corrupt raft state: entry: %v", err)
		}
		if len(out) > 0 && e.Index != out[len(out)-1].Index+1 {
			return nil, errkind.Corruptf("corrupt raft state: entries out of order")
		}
		out = append(out, e)
		b = b[k+int(n):]
	}
	if len(out) == 0 {
		return nil, errkind.Corruptf("corrupt raft state: empty entries record")
	}
	return out, nil
}

// A checkpoint record: 'C', uvarint snapshot index and term, uvarint length
// and the hard state, then the entries after the snapshot (encodeEntries,
// possibly none).
func encodeCheckpoint(index, term uint64, hs raftpb.HardState, ents []raftpb.Entry) ([]byte, error) {
	h, err := hs.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode hard state: %w", err)
	}
	out := []byte{recCheckpoint}
	out = binary.AppendUvarint(out, index)
	out = binary.AppendUvarint(out, term)
	out = binary.AppendUvarint(out, uint64(len(h)))
	out = append(out, h...)
	return append(out, encodeEntries(ents)...), nil
}

// decodeCheckpoint decodes a checkpoint record without its kind byte.
func decodeCheckpoint(b []byte) (index, term uint64, hs raftpb.HardState, ents []raftpb.Entry, err error) {
	var vals [3]uint64
	for i := range vals {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, 0, hs, nil, errkind.Corruptf("corrupt raft state: checkpoint header")
		}
		vals[i], b = v, b[k:]
	}
	index, term, n := vals[0], vals[1], vals[2]
	if n > uint64(len(b)) {
		return 0, 0, hs, nil, errkind.Corruptf("corrupt raft state: checkpoint hard state of %d bytes", n)
	}
	if err := hs.Unmarshal(b[:n]); err != nil {
		return 0, 0, hs, nil, errkind.Corruptf("corrupt raft state: checkpoint hard state: %v", err)
	}
	if rest := b[n:]; len(rest) > 0 {
		if ents, err = decodeEntries(rest); err != nil {
			return 0, 0, hs, nil, err
		}
		if ents[0].Index != index+1 {
			return 0, 0, hs, nil, errkind.Corruptf("corrupt raft state: checkpoint at %d holds entries from %d", index, ents[0].Index)
		}
	}
	return index, term, hs, ents, nil
}
