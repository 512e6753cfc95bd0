package collection

import "sync"

// clockSet is the pool of logical clocks a replica set tags the updates
// it leads with (Qdrant's ClockSet): each clock serves one update at a
// time, so that the ticks of one clock reach every replica in order; an
// update takes a free clock (a new one when all are busy) and gives it
// back when done. Clock ids are indexes into the pool.
//
// A clockSet is safe for concurrent use.
type clockSet struct {
	mu     sync.Mutex
	clocks []*clock
}

// clock is one logical clock: the last tick it handed out.
type clock struct {
	id   uint32
	tick uint64
	busy bool
	// fresh: made by get and not used yet; its first user seeds its tick
	// (seedClock).
	fresh bool
}

// get takes a free clock, creating one when every clock is busy.
func (s *clockSet) get() *clock {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clocks {
		if !c.busy {
			c.busy = true
			return c
		}
	}
	c := &clock{id: uint32(len(s.clocks)), busy: true, fresh: true}
	s.clocks = append(s.clocks, c)
	return c
}

// put gives a clock back to the pool.
func (s *clockSet) put(c *clock) {
	s.mu.Lock()
	c.busy = false
	s.mu.Unlock()
}

// tickOnce advances the clock by one and returns the new tick. Only the
// update holding the clock calls it.
func (c *clock) tickOnce() uint64 {
	c.tick++
	return c.tick
}

// advanceTo moves the clock to tick if that is newer (a replica echoed a
// newer tick than the clock's).
func (c *clock) advanceTo(tick uint64) {
	c.tick = max(c.tick, tick)
}
