package shard

import (
	"cmp"
	"maps"
	"slices"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/ops"
)

// clock is what a replica knows of one sender's clock: the newest tick it
// accepted, and the token of the first update it accepted at that tick.
type clock struct {
	tick  uint64
	token uint64
}

// clockMap is, per clock, the newest tick a replica has accepted: Qdrant's
// ClockMap. It is a plain map; its owner's lock guards it.
//
// The rule (Qdrant's advance_clock_and_correct_tag), for an update tagged
// with tick t and token k on a clock the map holds at tick c, token j:
//
//	t > c             accepted; the clock moves to (t, k)
//	t == c, k == j    accepted again (the same update sent twice, by a
//	                  forwarding proxy or a retry); the clock stays
//	otherwise         rejected, answered with c
//	no clock yet      accepted if t > 0 (the clock starts at (t, k)),
//	                  rejected with 0 if t == 0
//	force             accepted whatever the tick; the clock moves only if
//	                  t is newer, as above
//
// A tick of 0 is never held: a sender's first tick is 1.
type clockMap map[ops.ClockKey]clock

// check decides an update tagged tag without changing m: whether it is
// accepted, and the tag to answer with (tag itself when accepted; with the
// clock's newest tick, 0 for a clock m does not hold, when rejected).
// Once the accepted update is logged, advance(tag) moves the clock.
func (m clockMap) check(tag ops.ClockTag) (bool, ops.ClockTag) {
	c, ok := m[tag.Key()]
	var accepted bool
	switch {
	case !ok:
		accepted = tag.Tick > 0
	case tag.Tick > c.tick:
		accepted = true
	default:
		accepted = tag.Tick == c.tick && tag.Token == c.token
	}
	if accepted || tag.Force {
		return true, tag
	}
	tag.Tick = c.tick
	return false, tag
}

// advance moves the clock of tag to its tick if that is newer (Qdrant's
// advance_clock); it starts a clock the map does not hold at any tick but
// 0. Advancing is a max over ticks, so replaying the tags of the logged
// updates in log order rebuilds the map exactly, tokens included.
func (m clockMap) advance(tag ops.ClockTag) {
	k := tag.Key()
	c, ok := m[k]
	if tag.Tick == 0 || (ok && tag.Tick <= c.tick) {
		return
	}
	m[k] = clock{tick: tag.Tick, token: tag.Token}
}

// advanceTo advances every clock of rp (a recovery point's tick, token 0).
func (m clockMap) advanceTo(rp ops.RecoveryPoint) {
	for k, tick := range rp {
		m.advance(ops.ClockTag{PeerID: k.PeerID, ClockID: k.ClockID, Tick: tick})
	}
}

// point is m as a recovery point.
func (m clockMap) point() ops.RecoveryPoint {
	rp := make(ops.RecoveryPoint, len(m))
	for k, c := range m {
		rp[k] = c.tick
	}
	return rp
}

func (m clockMap) clone() clockMap {
	if m == nil {
		return clockMap{}
	}
	return maps.Clone(m)
}

// manifestClock is one clock in the manifest, in the shape of Qdrant's
// clock map file.
type manifestClock struct {
	PeerID  uint64 `json:"peer_id"`
	ClockID uint32 `json:"clock_id"`
	Tick    uint64 `json:"current_tick"`
	Token   uint64 `json:"token"`
}

// encodeClocks lists m in key order (nil when empty), so that the same
// clocks always write the same manifest.
func encodeClocks(m clockMap) []manifestClock {
	if len(m) == 0 {
		return nil
	}
	out := make([]manifestClock, 0, len(m))
	for k, c := range m {
		out = append(out, manifestClock{PeerID: k.PeerID, ClockID: k.ClockID, Tick: c.tick, Token: c.token})
	}
	slices.SortFunc(out, func(a, b manifestClock) int {
		return cmp.Or(cmp.Compare(a.PeerID, b.PeerID), cmp.Compare(a.ClockID, b.ClockID))
	})
	return out
}

// decodeClocks reads the clocks of a manifest; a clock named twice or
// held at tick 0 (which advance never makes) is corruption.
func decodeClocks(list []manifestClock, what string) (clockMap, error) {
	m := make(clockMap, len(list))
	for _, c := range list {
		k := ops.ClockKey{PeerID: c.PeerID, ClockID: c.ClockID}
		if _, dup := m[k]; dup {
			return nil, errkind.Corruptf("corrupt shard manifest: %s: clock %d/%d listed twice", what, c.PeerID, c.ClockID)
		}
		if c.Tick == 0 {
			return nil, errkind.Corruptf("corrupt shard manifest: %s: clock %d/%d at tick 0", what, c.PeerID, c.ClockID)
		}
		m[k] = clock{tick: c.Tick, token: c.Token}
	}
	return m, nil
}
