package faults

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// Checkers, as named in the table.
const (
	CheckLost          = "lost acknowledged writes"
	CheckResurrected   = "resurrected deletes"
	CheckPhantom       = "phantom points"
	CheckFailedVisible = "refused writes visible"
	CheckReplicas      = "replicas disagree"
	CheckPeers         = "peers read different states"
	CheckNotConverged  = "not converged in time"
	CheckStale         = "stale reads"
	CheckLinearizable  = "non-linearizable keys"
	CheckLinUndecided  = "linearizability undecided"
)

// Checkers lists every checker in table order.
var Checkers = []string{CheckLost, CheckResurrected, CheckPhantom, CheckFailedVisible, CheckReplicas,
	CheckPeers, CheckNotConverged, CheckStale, CheckLinearizable, CheckLinUndecided,
	CheckSearchMissed, CheckSearchDeleted, CheckSearchStale, CheckSearchPhantom, CheckSearchWrong}

// Violation is one finding, with what is needed to reproduce it.
type Violation struct {
	Seed     uint64
	Mode     string
	Checker  string
	Promised bool   // the mode promises what the checker checks
	Open     bool   // a known open bug (docs/faults.md), not failing a run
	Text     string // the finding, the requests around it, the nemesis events
}

func (v Violation) String() string {
	p := "promised"
	switch {
	case !v.Promised:
		p = "not promised (observation)"
	case v.Open:
		p = "promised, known open bug"
	}
	return fmt.Sprintf("seed %d, %s, %s [%s]:\n%s", v.Seed, v.Mode, v.Checker, p, v.Text)
}

// Report is the figures of one or more runs.
type Report struct {
	Runs   int
	Faults map[string]int // by fault kind
	// Ops counts operations by kind (upsert, delete, read) and outcome.
	Ops map[string]map[history.Outcome]int
	// Counts is checker -> mode -> findings.
	Counts   map[string]map[string]int
	Modes    []Mode
	Converge []time.Duration // per run: heal to every replica Active and equal
	// NotConverged counts the runs whose replicas were not all Active and
	// equal within Config.Converge.
	NotConverged int
	// MetaAgree is per run the time from healing until every peer read
	// the same metadata; MetaNotAgreed counts the runs where they did not
	// within the bound (metadata.go).
	MetaAgree     []time.Duration
	MetaNotAgreed int
	Violations    []Violation
}

func (r *Report) init() {
	if r.Faults == nil {
		r.Faults = map[string]int{}
	}
	if r.Ops == nil {
		r.Ops = map[string]map[history.Outcome]int{}
	}
	if r.Counts == nil {
		r.Counts = map[string]map[string]int{}
	}
}

func (r *Report) op(kind string, o history.Outcome) {
	r.init()
	if r.Ops[kind] == nil {
		r.Ops[kind] = map[history.Outcome]int{}
	}
	r.Ops[kind][o]++
}

func (r *Report) count(checker, mode string, n int) {
	r.init()
	if r.Counts[checker] == nil {
		r.Counts[checker] = map[string]int{}
	}
	r.Counts[checker][mode] += n
}

// Merge adds o's figures to r.
func (r *Report) Merge(o Report) {
	r.init()
	r.Runs += o.Runs
	for k, v := range o.Faults {
		r.Faults[k] += v
	}
	for k, m := range o.Ops {
		for oc, v := range m {
			if r.Ops[k] == nil {
				r.Ops[k] = map[history.Outcome]int{}
			}
			r.Ops[k][oc] += v
		}
	}
	for c, m := range o.Counts {
		for mode, v := range m {
			r.count(c, mode, v)
		}
	}
	if len(r.Modes) == 0 {
		r.Modes = o.Modes
	}
	r.Converge = append(r.Converge, o.Converge...)
	r.NotConverged += o.NotConverged
	r.MetaAgree = append(r.MetaAgree, o.MetaAgree...)
	r.MetaNotAgreed += o.MetaNotAgreed
	r.Violations = append(r.Violations, o.Violations...)
}

// Broken returns the violations of a promise.
func (r Report) Broken() []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.Promised && !v.Open {
			out = append(out, v)
		}
	}
	return out
}

// Table prints the figures as Markdown tables.
func (r Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "runs: %d\n\n| fault | injected |\n| --- | ---: |\n", r.Runs)
	total := 0
	for _, k := range FaultKinds {
		fmt.Fprintf(&b, "| %s | %d |\n", k, r.Faults[k])
		total += r.Faults[k]
	}
	fmt.Fprintf(&b, "| total | %d |\n\n| operation | ok | failed | unknown |\n| --- | ---: | ---: | ---: |\n", total)
	for _, k := range append([]string{"upsert", "delete", "read", "search"}, MetaKinds...) {
		m, ok := r.Ops[k]
		if !ok && k != "upsert" && k != "delete" && k != "read" {
			continue // a workload that did not run
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", k, m[history.OK], m[history.Fail], m[history.Unknown])
	}
	b.WriteString("\n| checker |")
	for _, m := range r.Modes {
		fmt.Fprintf(&b, " %s |", m.Name())
	}
	b.WriteString("\n| --- |")
	for range r.Modes {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	_, searched := r.Ops["search"]
	for _, c := range Checkers {
		if !searched && slices.Contains(searchCheckers, c) {
			continue // the search workload did not run
		}
		fmt.Fprintf(&b, "| %s |", c)
		for _, m := range r.Modes {
			mark := ""
			switch {
			case !promises(m, c):
				mark = "*"
			case m.isOpen(c):
				mark = "†"
			}
			fmt.Fprintf(&b, " %d%s |", r.Counts[c][m.Name()], mark)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n(* the mode does not promise what this checker checks: an observation, not a violation; † a known open bug, see docs/faults.md)\n")
	fmt.Fprintf(&b, "\nconvergence after healing (every replica Active and equal): %d runs not within the bound", r.NotConverged)
	if len(r.Converge) > 0 {
		c := slices.Clone(r.Converge)
		slices.Sort(c)
		fmt.Fprintf(&b, "; the %d others: median %v, max %v", len(c), c[len(c)/2].Round(time.Millisecond), c[len(c)-1].Round(time.Millisecond))
	}
	b.WriteString("\n")
	// --- metadata (metadata.go): promised in every mode
	if _, ok := r.Counts[CheckMetaLost]; ok {
		b.WriteString("\n| metadata checker | every mode |\n| --- | ---: |\n")
		for _, c := range MetaCheckers {
			mark := ""
			if metaOpen[c] {
				mark = "†"
			}
			fmt.Fprintf(&b, "| %s | %d%s |\n", c, r.Counts[c][metaMode], mark)
		}
		fmt.Fprintf(&b, "\nmetadata agreement after healing (every peer reads the same collections, aliases, payload_schema keys, placements, peer sets): %d runs not within the bound", r.MetaNotAgreed)
		if len(r.MetaAgree) > 0 {
			c := slices.Clone(r.MetaAgree)
			slices.Sort(c)
			fmt.Fprintf(&b, "; the %d others: median %v, max %v", len(c), c[len(c)/2].Round(time.Millisecond), c[len(c)-1].Round(time.Millisecond))
		}
		b.WriteString("\n")
	}
	// ---
	return b.String()
}

// promises reports whether mode m promises what checker c checks.
func promises(m Mode, c string) bool {
	switch c {
	case CheckPhantom, CheckFailedVisible:
		return true
	case CheckStale, CheckSearchMissed, CheckSearchDeleted, CheckSearchStale:
		return m.FreshReads
	case CheckSearchPhantom, CheckSearchWrong:
		return true
	case CheckLinearizable, CheckLinUndecided:
		return false
	}
	return m.Durable
}
