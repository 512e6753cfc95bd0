package faults

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// runnerTB lets Run use internal/clustertest (which takes a testing.TB)
// outside a test, from tests/faults/cmd. It implements the methods the
// harness calls; Fatal panics with errFatal, which Run turns back into an
// error (the embedded nil TB is never reached for those methods).
type runnerTB struct {
	testing.TB
	logf func(string, ...any)

	mu       sync.Mutex
	cleanups []func()
	dirs     []string
	failed   bool
}

type errFatal struct{ msg string }

func (e errFatal) Error() string { return e.msg }

func (r *runnerTB) Helper()      {}
func (r *runnerTB) Name() string { return "faults" }
func (r *runnerTB) Logf(format string, args ...any) {
	if r.logf != nil {
		r.logf(format, args...)
	}
}
func (r *runnerTB) Log(args ...any) { r.Logf("%s", fmt.Sprint(args...)) }
func (r *runnerTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	r.Logf(format, args...)
}
func (r *runnerTB) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *runnerTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	panic(errFatal{fmt.Sprintf(format, args...)})
}
func (r *runnerTB) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *runnerTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
func (r *runnerTB) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}
func (r *runnerTB) TempDir() string {
	d, err := os.MkdirTemp("", "shoal-faults-")
	if err != nil {
		r.Fatalf("temp dir: %v", err)
	}
	r.mu.Lock()
	r.dirs = append(r.dirs, d)
	r.mu.Unlock()
	return d
}

// close runs the cleanups, last first, and removes the temp dirs.
func (r *runnerTB) close() {
	r.mu.Lock()
	cs, ds := r.cleanups, r.dirs
	r.cleanups, r.dirs = nil, nil
	r.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
	for _, d := range ds {
		if os.Getenv("SHOAL_FAULTS_KEEP") != "" {
			r.Logf("kept %s (SHOAL_FAULTS_KEEP)", d)
			continue
		}
		_ = os.RemoveAll(d)
	}
}

// recoverFatal turns a runnerTB's Fatal into *err.
func recoverFatal(err *error) {
	if v := recover(); v != nil {
		var f errFatal
		if e, ok := v.(error); ok && errors.As(e, &f) {
			*err = fmt.Errorf("faults: %w", f)
			return
		}
		panic(v)
	}
}
