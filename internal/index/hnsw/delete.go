package hnsw

import "sync/atomic"

// Delete marks off deleted: no search returns it again, but it keeps its
// links and still routes searches (removing it would need its neighbours
// repaired). Deleting an absent or deleted offset does nothing. Re-inserting
// the offset undeletes it.
func (g *Graph) Delete(off uint32) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	l := g.lay.Load()
	if !l.has(off) || l.isDeleted(off) {
		return
	}
	atomic.OrUint32(&l.deleted[off>>5], 1<<(off&31))
	g.dead.Add(1)
}
