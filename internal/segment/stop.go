package segment

import (
	"context"
	"math"
)

// checkEvery is how many points a read considers between two looks at its
// context: a few microseconds of scoring or filtering, so a cancelled read
// stops soon after, while the look itself (context.Err takes a mutex) costs
// nothing measurable.
const checkEvery = 1024

// poll lets a loop over points notice that its context is done. The first
// tick looks at once, so a read under a context already done does no work.
type poll struct {
	ctx  context.Context // nil: never done
	left int             // ticks before the next look
	err  error           // the context's error, once seen
}

// newPoll watches ctx; a context that can never be done (Done is nil, as
// for context.Background) is not looked at.
func newPoll(ctx context.Context) poll {
	if ctx == nil || ctx.Done() == nil {
		return poll{left: math.MaxInt}
	}
	return poll{ctx: ctx}
}

// tick counts one point and reports whether the loop must stop; p.err is
// then the context's error.
func (p *poll) tick() bool {
	p.left--
	return p.left < 0 && p.look()
}

func (p *poll) look() bool {
	p.left = checkEvery - 1
	if p.ctx == nil {
		p.left = math.MaxInt
		return false
	}
	p.err = p.ctx.Err()
	return p.err != nil
}
