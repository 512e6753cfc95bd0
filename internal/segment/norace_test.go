//go:build !race

package segment

const raceOn = false
