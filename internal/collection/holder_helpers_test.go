package collection

import "github.com/shoaldb/shoal/internal/shard"

// firstShard is the local replica of shard 0, for tests that look at the
// shard under a one-shard collection.
func (c *Collection) firstShard() *shard.Shard {
	l, _ := c.layout().sets[0].Local()
	return l
}

// testShards is the shard_number openCollection gives a collection whose
// request names none: 1, or 4 while TestFourShards reruns the suite.
var testShards = 1
