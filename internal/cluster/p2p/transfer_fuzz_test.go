package p2p

import (
	"testing"

	"google.golang.org/protobuf/proto"

	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// FuzzInitiateTransferResponse: an answer of a target peer that decodes
// as protobuf gives a recovery point or an error (a clock listed twice,
// too many clocks), never a panic, and every clock it keeps is one the
// answer listed.
func FuzzInitiateTransferResponse(f *testing.F) {
	ok, _ := proto.Marshal(&p2pv1.InitiateTransferResponse{RecoveryPoint: []*p2pv1.RecoveryClock{{PeerId: 1, ClockId: 2, Tick: 3}, {PeerId: 1, ClockId: 3, Tick: 9}}, Incomplete: true})
	dup, _ := proto.Marshal(&p2pv1.InitiateTransferResponse{RecoveryPoint: []*p2pv1.RecoveryClock{{PeerId: 1, Tick: 3}, {PeerId: 1, Tick: 4}}})
	f.Add(ok)
	f.Add(dup)
	f.Add([]byte{0x0a, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var resp p2pv1.InitiateTransferResponse
		if proto.Unmarshal(data, &resp) != nil {
			return
		}
		rp, err := recoveryPointFromProto(resp.GetRecoveryPoint())
		if err != nil {
			return
		}
		if len(rp) != len(resp.GetRecoveryPoint()) {
			t.Fatalf("%d clocks kept of %d", len(rp), len(resp.GetRecoveryPoint()))
		}
	})
}
