package openapitest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLocateSpec(t *testing.T) {
	// X/main is the repository, X/shared the shared material; a nested
	// module without shared/ beside it must not stop the walk.
	x := t.TempDir()
	want := filepath.Join(x, "shared", "qdrant", "openapi.json")
	for _, dir := range []string{"main/internal/api/rest", "main/bench", "shared/qdrant"} {
		if err := os.MkdirAll(filepath.Join(x, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"main/go.mod", "main/bench/go.mod", "shared/qdrant/openapi.json"} {
		if err := os.WriteFile(filepath.Join(x, f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(EnvSpecPath, "")

	for _, wd := range []string{"main", "main/internal/api/rest", "main/bench"} {
		t.Run(wd, func(t *testing.T) {
			t.Chdir(filepath.Join(x, wd))
			got, _, err := locateSpec()
			if err != nil {
				t.Fatal(err)
			}
			if !sameFile(t, got, want) {
				t.Errorf("locateSpec() = %s, want %s", got, want)
			}
		})
	}

	t.Run("missing", func(t *testing.T) {
		if err := os.Rename(filepath.Join(x, "shared"), filepath.Join(x, "elsewhere")); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(filepath.Join(x, "elsewhere"), filepath.Join(x, "shared"))
		t.Chdir(filepath.Join(x, "main", "internal"))
		got, tried, err := locateSpec()
		want := []string{filepath.Join(x, "shared", "qdrant", "openapi.json")}
		if got != "" || err != nil || !reflect.DeepEqual(tried, want) {
			t.Errorf("locateSpec() = %q, %q, %v; want \"\", %q, nil", got, tried, err, want)
		}
	})

	t.Run("env override", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "spec.json")
		if err := os.WriteFile(other, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv(EnvSpecPath, other)
		t.Chdir(filepath.Join(x, "main"))
		if got, _, err := locateSpec(); err != nil || got != other {
			t.Errorf("locateSpec() = %s, %v; want %s", got, err, other)
		}
		t.Setenv(EnvSpecPath, other+".missing")
		if _, _, err := locateSpec(); err == nil || !strings.Contains(err.Error(), EnvSpecPath) {
			t.Errorf("locateSpec() with a missing override: %v, want an error naming $%s", err, EnvSpecPath)
		}
	})

	t.Run("no module", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if got, tried, err := locateSpec(); got != "" || len(tried) != 0 || err != nil {
			t.Errorf("locateSpec() outside any module = %q, %q, %v; want nothing", got, tried, err)
		}
	})
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	sa, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := os.Stat(b)
	if err != nil {
		t.Fatal(err)
	}
	return os.SameFile(sa, sb)
}

func TestParseSpecRejectsNonOpenAPI(t *testing.T) {
	for _, data := range []string{``, `[]`, `{"openapi": "3.0.1"}`, `{"paths": `} {
		if _, err := parseSpec("test.json", []byte(data)); err == nil {
			t.Errorf("parseSpec(%q) succeeded", data)
		}
	}
}
