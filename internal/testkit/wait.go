package testkit

import (
	"fmt"
	"testing"
	"time"
)

// Poll calls cond until it returns nil, backing off from 1 ms to 50 ms
// between calls, and returns cond's last error once timeout has passed. It
// does not fail a test: harness code uses it to return errors.
func Poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not after %v: %w", timeout, err)
		}
		time.Sleep(wait)
	}
}

// Eventually fails the test unless cond returns nil before timeout; the
// failure names what was awaited and cond's last error.
func Eventually(t testing.TB, what string, timeout time.Duration, cond func() error) {
	t.Helper()
	if err := Poll(timeout, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// errFalse is the error of a condition that is still false.
var errFalse = fmt.Errorf("still false")

// WaitFor fails the test unless cond holds before timeout.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	Eventually(t, what, timeout, func() error {
		if cond() {
			return nil
		}
		return errFalse
	})
}
