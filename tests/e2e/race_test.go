//go:build linux && race

package e2e

// raceEnabled: the tests run under -race, so the server is built with it too
// and a data race it reports fails the test.
const raceEnabled = true
