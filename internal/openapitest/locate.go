package openapitest

import (
	"fmt"
	"os"
	"path/filepath"
)

// EnvSpecPath names the environment variable that says where the OpenAPI
// document is read from. When it is set the file must exist and parse:
// nothing is downloaded and validation is never skipped.
const EnvSpecPath = "SHOAL_OPENAPI"

// specRelPath is where the document sits relative to a module root when the
// shared material is checked out beside the repository: the repository at
// X/main (or any other name) and the shared material at X/shared. A plain
// clone has no such folder; the document is then downloaded (fetch.go).
var specRelPath = filepath.Join("..", "shared", "qdrant", "openapi.json")

// locateSpec returns the path of a local openapi.json, or "" with the
// places it looked when there is none. $SHOAL_OPENAPI wins when set, and is
// an error when it names no file; otherwise every directory from the working
// directory up that holds a go.mod is tried in turn, so a nested module
// (bench/) still finds the repository's copy.
func locateSpec() (path string, tried []string, err error) {
	if p := os.Getenv(EnvSpecPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", nil, fmt.Errorf("$%s=%q: %w", EnvSpecPath, p, err)
		}
		return p, nil, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", nil, fmt.Errorf("locate openapi.json: %w", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, specRelPath)
			if _, err := os.Stat(p); err == nil {
				return p, nil, nil
			}
			tried = append(tried, filepath.Clean(p))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", tried, nil
		}
		dir = parent
	}
}
