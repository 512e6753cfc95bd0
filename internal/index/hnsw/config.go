package hnsw

import (
	"fmt"

	"github.com/shoaldb/shoal/internal/vector"
)

// Defaults as in Qdrant's hnsw_config.
const (
	DefaultM           = 16
	DefaultEfConstruct = 100
)

// Limits that keep a decoded or misconfigured graph's allocations sane.
const (
	maxM      = 512
	maxDim    = 65536
	maxLevels = 32 // a level is drawn as floor(-ln(u)/ln(M)); 32 is never reached
)

// Config describes a graph. Zero M and EfConstruct take Qdrant's defaults.
type Config struct {
	M           int // links per node above level 0; level 0 allows 2*M
	EfConstruct int // beam width while linking a new node
	// PayloadM is the number of links per node of the graphs that
	// BuildPayloadLinks builds over payload blocks (Qdrant's payload_m;
	// 2*PayloadM on level 0). 0 adds none. Build itself ignores it.
	PayloadM int
	Distance vector.Distance // Cosine vectors must arrive normalised
	Dim      int
	// Seed drives level generation: the same offsets, vectors and seed built
	// with one thread give the same graph.
	Seed uint64
	// FullScanThreshold: Search scans exactly when the graph holds at most
	// this many points (0 keeps only the rule "at most ef points").
	FullScanThreshold int
}

func (c Config) withDefaults() Config {
	if c.M == 0 {
		c.M = DefaultM
	}
	if c.EfConstruct == 0 {
		c.EfConstruct = DefaultEfConstruct
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.M < 2 || c.M > maxM:
		return fmt.Errorf("hnsw: m %d out of range [2, %d]", c.M, maxM)
	case c.EfConstruct < 1:
		return fmt.Errorf("hnsw: ef_construct %d must be positive", c.EfConstruct)
	case c.PayloadM < 0 || c.PayloadM > maxM:
		return fmt.Errorf("hnsw: payload_m %d out of range [0, %d]", c.PayloadM, maxM)
	case c.Dim < 1 || c.Dim > maxDim:
		return fmt.Errorf("hnsw: dimension %d out of range [1, %d]", c.Dim, maxDim)
	case c.FullScanThreshold < 0:
		return fmt.Errorf("hnsw: full_scan_threshold %d must not be negative", c.FullScanThreshold)
	}
	if _, err := metricOf(c.Distance); err != nil {
		return err
	}
	return nil
}

// metric is the internal lower-is-better form of a vector.Distance.
type metric uint8

const (
	negDot metric = iota // Cosine and Dot
	sqL2                 // Euclid
	l1                   // Manhattan
)

func metricOf(d vector.Distance) (metric, error) {
	switch d {
	case vector.Cosine, vector.Dot:
		return negDot, nil
	case vector.Euclid:
		return sqL2, nil
	case vector.Manhattan:
		return l1, nil
	}
	return 0, fmt.Errorf("hnsw: unknown distance %q", string(d))
}
