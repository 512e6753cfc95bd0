package node

import "testing"

// TestTransferLimits: storage.performance.*_shard_transfers_limit as
// recovery reads them: unset is Qdrant's 1, a negative value unlimited,
// and under says whether one more transfer fits.
func TestTransferLimits(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		v       *int
		limit   int
		running int
		fits    bool
	}{
		{nil, 1, 0, true},
		{nil, 1, 1, false},
		{n(3), 3, 2, true},
		{n(3), 3, 3, false},
		{n(-1), 0, 100, true},
	} {
		l := limitOf(tc.v)
		if l != tc.limit || under(tc.running, l) != tc.fits {
			t.Errorf("limit %v: got %d (fits %d more: %v), want %d, %v", tc.v, l, tc.running, under(tc.running, l), tc.limit, tc.fits)
		}
	}
}
