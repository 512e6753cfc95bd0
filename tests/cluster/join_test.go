package cluster_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
)

// TestJoinTogether: 3, 5 and 7 peers started at the same moment (as
// Qdrant's own test harness starts them) form one cluster in which every
// peer is a voter, knows every peer and agrees on the leader.
// SHOAL_JOIN_STARTS repeats each size (default 1).
func TestJoinTogether(t *testing.T) {
	starts := 1
	if v := os.Getenv("SHOAL_JOIN_STARTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SHOAL_JOIN_STARTS=%q: want a positive integer", v)
		}
		starts = n
	}
	for _, n := range []int{3, 5, 7} {
		for i := range starts {
			t.Run(fmt.Sprintf("peers=%d/start=%d", n, i), func(t *testing.T) {
				c := clustertest.New(t, n, clustertest.Options{})
				start := time.Now()
				if err := c.FormTogether(90 * time.Second); err != nil {
					t.Fatal(err)
				}
				t.Logf("%d peers formed a cluster in %v", n, time.Since(start).Round(time.Millisecond))
			})
		}
	}
}
