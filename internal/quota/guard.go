package quota

import (
	"fmt"
	"sync"
)

// Readers read the node's utilization; a reader that cannot tell answers
// ok false, and the resource is then neither enforced nor reported.
type Readers struct {
	// Memory returns the process's resident bytes and the memory
	// available to it (the cgroup limit, else the system's).
	Memory func() (resident, total uint64, ok bool)
	// Disk returns the used and total bytes of the file system holding
	// the storage directory.
	Disk func() (used, total uint64, ok bool)
}

// Usage is Qdrant's QuotaUsage: utilization in whole percents, nil when
// unknown.
type Usage struct {
	ResidentMemoryPercent *uint8 `json:"resident_memory_percent"`
	DiskUsagePercent      *uint8 `json:"disk_usage_percent"`
}

// Exceeded is Qdrant's QuotaExceeded: per resource, whether this node
// refuses work over it; nil when it does not enforce that resource (quota
// disabled, no limit, or not measurable here).
type Exceeded struct {
	ResidentMemory *bool `json:"resident_memory"`
	DiskUsage      *bool `json:"disk_usage"`
}

// Guard enforces a Config on this node.
type Guard struct {
	read Readers
	mu   struct {
		sync.Mutex
		cfg Config
		// tripped holds each resource's last verdict, which the release
		// margin needs.
		memTripped, diskTripped bool
	}
}

// NewGuard returns a guard enforcing nothing until SetConfig.
func NewGuard(r Readers) *Guard { return &Guard{read: r} }

// Config returns the config in force.
func (g *Guard) Config() Config {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.cfg
}

// SetConfig puts cfg in force; verdicts carried by the release margin are
// forgotten, so the next check starts from the limits alone.
func (g *Guard) SetConfig(cfg Config) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mu.cfg = cfg
	g.mu.memTripped, g.mu.diskTripped = false, false
}

// Usage reads the current utilization.
func (g *Guard) Usage() Usage {
	return Usage{ResidentMemoryPercent: g.memoryPercent(), DiskUsagePercent: g.diskPercent()}
}

// Exceeded judges both resources (updating the verdicts the margin holds)
// and reports them.
func (g *Guard) Exceeded() Exceeded {
	ex, _ := g.evaluate()
	return ex
}

// Check refuses an update that consumes memory or disk while a resource is
// at or over its limit, or tripped and not yet a margin below it. The error
// is Qdrant's text, to be answered as a bad request.
func (g *Guard) Check() error {
	_, err := g.evaluate()
	return err
}

func (g *Guard) evaluate() (Exceeded, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	memLimit, diskLimit, margin := g.mu.cfg.limits()
	mem, memErr := judge(memory, memLimit, &g.mu.memTripped, margin, g.memoryPercent)
	disk, diskErr := judge(disk, diskLimit, &g.mu.diskTripped, margin, g.diskPercent)
	ex := Exceeded{ResidentMemory: mem, DiskUsage: disk}
	if memErr != nil {
		return ex, memErr
	}
	return ex, diskErr
}

type resource struct {
	what, unit, remedy, param string
}

var (
	memory = resource{"Resident memory usage", "total memory", "Reduce memory usage (e.g. delete points or drop collections)", "max_resident_memory_percent"}
	disk   = resource{"Disk usage", "total capacity", "Reduce disk usage (e.g. delete points or drop collections)", "max_disk_usage_percent"}
)

// judge is Qdrant's evaluate for one resource: the limit trips it, falling
// the margin below the limit clears it.
func judge(r resource, limit *uint8, tripped *bool, margin uint8, measure func() *uint8) (*bool, error) {
	if limit == nil {
		*tripped = false
		return nil, nil
	}
	threshold := *limit
	if *tripped {
		threshold = max(satSub(*limit, margin), 1)
	}
	used := measure()
	if used == nil {
		*tripped = false
		return nil, nil
	}
	over := *used >= threshold
	*tripped = over
	if !over {
		f := false
		return &f, nil
	}
	t := true
	cond := fmt.Sprintf("%s is at %d%% of %s, exceeding the configured limit of %d%%", r.what, *used, r.unit, *limit)
	if threshold < *limit {
		cond = fmt.Sprintf("%s is at %d%% of %s and has to fall below %d%% after exceeding the configured limit of %d%%",
			r.what, *used, r.unit, threshold, *limit)
	}
	return &t, fmt.Errorf("%s. Help: %s, or raise `%s` in the global quota config.", cond, r.remedy, r.param)
}

func satSub(a, b uint8) uint8 {
	if b > a {
		return 0
	}
	return a - b
}

func (g *Guard) memoryPercent() *uint8 {
	if g.read.Memory == nil {
		return nil
	}
	used, total, ok := g.read.Memory()
	return percent(used, total, ok)
}

func (g *Guard) diskPercent() *uint8 {
	if g.read.Disk == nil {
		return nil
	}
	used, total, ok := g.read.Disk()
	return percent(used, total, ok)
}

// percent is used/total in whole percents rounded down, at most 100; nil
// when unknown or total is 0 (Qdrant's percent_of).
func percent(used, total uint64, ok bool) *uint8 {
	if !ok || total == 0 {
		return nil
	}
	var p uint64
	if used > ^uint64(0)/100 {
		p = 100
	} else {
		p = min(used*100/total, 100)
	}
	v := uint8(p)
	return &v
}
