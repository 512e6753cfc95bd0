//go:build race

package segment

// raceOn shrinks data sets: the race detector makes distance loops ~10x
// slower.
const raceOn = true
