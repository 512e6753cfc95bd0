package collection

import "github.com/shoaldb/shoal/internal/shard"

// firstShard is the local replica of shard 0, for tests that look at the
// shard under a one-shard collection.
func (c *Collection) firstShard() *shard.Shard {
	l, _ := c.shards[0].Local()
	return l
}
