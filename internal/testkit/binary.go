package testkit

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var build struct {
	mu   sync.Mutex
	dir  string
	bins map[bool]built // by race
}

type built struct {
	path string
	out  []byte
	err  error
}

// Binary builds ./cmd/shoal once per test process (with -race when race)
// and returns its path; a failed build fails every test that asks.
func Binary(t testing.TB, race bool) string {
	t.Helper()
	build.mu.Lock()
	defer build.mu.Unlock()
	if b, ok := build.bins[race]; ok {
		if b.err != nil {
			t.Fatalf("go build ./cmd/shoal: %v\n%s", b.err, b.out)
		}
		return b.path
	}
	if build.bins == nil {
		build.bins = map[bool]built{}
	}
	b := buildBinary(race)
	build.bins[race] = b
	if b.err != nil {
		t.Fatalf("go build ./cmd/shoal: %v\n%s", b.err, b.out)
	}
	return b.path
}

func buildBinary(race bool) built {
	root, err := RepoRoot()
	if err != nil {
		return built{err: err}
	}
	if build.dir == "" {
		if build.dir, err = os.MkdirTemp("", "shoal-test-bin-"); err != nil {
			return built{err: err}
		}
	}
	name := "shoal"
	args := []string{"build"}
	if race {
		name, args = "shoal-race", append(args, "-race")
	}
	path := filepath.Join(build.dir, name)
	cmd := exec.Command("go", append(args, "-o", path, "./cmd/shoal")...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	return built{path: path, out: out, err: err}
}

// Cleanup removes the built binaries; call it from TestMain after m.Run.
func Cleanup() {
	build.mu.Lock()
	defer build.mu.Unlock()
	if build.dir != "" {
		os.RemoveAll(build.dir)
		build.dir, build.bins = "", nil
	}
}

// RepoRoot is the nearest directory at or above the working directory
// that holds a go.mod: the module root, from any test package.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
