//go:build race

package hnsw

// raceOn shrinks data sets: the race detector makes distance loops ~10x
// slower and the suite must stay well under 30 s.
const raceOn = true
