package openapitest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvSpecPath names the environment variable that overrides where the
// OpenAPI document is read from.
const EnvSpecPath = "SHOAL_OPENAPI"

// specRelPath is where the document sits relative to a module root: the
// repository is checked out at X/main (or any other name in CI) and the
// shared material at X/shared.
var specRelPath = filepath.Join("..", "shared", "qdrant", "openapi.json")

// locateSpec returns the path of openapi.json. $SHOAL_OPENAPI wins when set;
// otherwise every directory from the working directory up that holds a go.mod
// is tried in turn, so a nested module (bench/) still finds the repository's
// copy.
func locateSpec() (string, error) {
	if p := os.Getenv(EnvSpecPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$%s=%q: %w", EnvSpecPath, p, err)
		}
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("locate openapi.json: %w", err)
	}
	var tried []string
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, specRelPath)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			tried = append(tried, filepath.Clean(p))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("locate openapi.json: no go.mod above %s; set $%s", wd, EnvSpecPath)
	}
	return "", errors.New("locate openapi.json: not found at " + strings.Join(tried, ", ") +
		"; place the shared/ folder beside the repository or set $" + EnvSpecPath)
}
