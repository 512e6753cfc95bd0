package p2pv1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// versionLine matches the header lines that name the generator versions,
// which may differ between machines without the code differing.
var versionLine = regexp.MustCompile(`(?m)^//\s+(-\s+)?protoc(-gen-go(-grpc)?)?\s+v\S+\n`)

// TestGeneratedCodeIsFresh regenerates the code with ../../generate.sh and
// fails when the committed files differ: someone edited a .proto file
// without regenerating. It is skipped where the generators are missing,
// so that building and testing Shoal never needs protoc.
func TestGeneratedCodeIsFresh(t *testing.T) {
	gopathBin := ""
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gopathBin = filepath.Join(strings.TrimSpace(string(out)), "bin")
	}
	for _, tool := range []string{"protoc", "protoc-gen-go", "protoc-gen-go-grpc"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat(filepath.Join(gopathBin, tool)); err != nil {
				t.Skipf("%s is not installed; cannot check the generated code", tool)
			}
		}
	}
	out := t.TempDir()
	cmd := exec.Command("sh", "../../generate.sh", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generate.sh: %v\n%s", err, msg)
	}
	fresh, err := filepath.Glob(filepath.Join(out, "p2p", "v1", "*.go"))
	if err != nil || len(fresh) == 0 {
		t.Fatalf("generate.sh wrote no Go files: %v", err)
	}
	committed, _ := filepath.Glob("*.pb.go")
	if len(committed) != len(fresh) {
		t.Errorf("%d generated files committed, generate.sh writes %d", len(committed), len(fresh))
	}
	for _, path := range fresh {
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Base(path))
		if err != nil {
			t.Errorf("%s is not committed: %v", filepath.Base(path), err)
			continue
		}
		if !bytes.Equal(versionLine.ReplaceAll(got, nil), versionLine.ReplaceAll(want, nil)) {
			t.Errorf("%s is stale: run proto/generate.sh and commit the result", filepath.Base(path))
		}
	}
}
