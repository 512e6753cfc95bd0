package openapitest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

// EnvRequireSpec, set to 1, turns an unavailable document into a failure of
// every test that loads it, for machines that are meant to validate (a CI
// runner with network) and must not pass by skipping.
const EnvRequireSpec = "SHOAL_OPENAPI_REQUIRED"

// shared is the process-wide outcome of finding and parsing the document.
var shared struct {
	once     sync.Once
	spec     *Spec
	data     []byte // the document as read, for the conversion tests
	err      error  // fails every Load
	announce sync.Once
}

// Load returns the process-wide Spec, finding, reading and converting the
// document on first use: $SHOAL_OPENAPI, else ../shared/qdrant/openapi.json
// beside the repository, else Qdrant's released file, downloaded once,
// checked against the pinned sha256 and cached.
//
// When none of them is available (no network, or a download whose sha256 is
// not the pinned one) the returned Spec validates nothing, so the caller's
// own assertions still run, and one line on stderr per process says that
// schema validation was skipped and why. A local document that cannot be
// read or parsed fails the test: a broken contract check must not look like
// a missing one.
func Load(t testing.TB) *Spec {
	t.Helper()
	shared.once.Do(loadShared)
	if shared.err != nil {
		t.Fatalf("openapitest: %v", shared.err)
	}
	if shared.spec.skip != "" {
		shared.announce.Do(func() { fmt.Fprintln(os.Stderr, shared.spec.skipLine()) })
	}
	return shared.spec
}

// Status finds and parses the document as Load does and returns one line
// saying what responses will be validated against, or that validation will
// be skipped and why; the error is what would fail Load. scripts/test.sh
// prints the line, since `go test` hides a passing package's output.
func Status() (string, error) {
	shared.once.Do(loadShared)
	if shared.err != nil {
		return "", fmt.Errorf("openapitest: %w", shared.err)
	}
	if shared.spec.skip != "" {
		return shared.spec.skipLine(), nil
	}
	return "openapitest: REST responses are validated against Qdrant " + QdrantVersion +
		" openapi.json from " + shared.spec.source, nil
}

func loadShared() {
	data, source, skip, err := obtain(context.Background(), defaultFetcher())
	switch {
	case err != nil:
		shared.err = err
	case skip != "" && os.Getenv(EnvRequireSpec) == "1":
		shared.err = fmt.Errorf("$%s=1 but Qdrant's openapi.json is unavailable: %s", EnvRequireSpec, skip)
	case skip != "":
		shared.spec = &Spec{skip: skip}
	default:
		shared.spec, shared.err = parseSpec(source, data)
		shared.data = data
	}
}

// obtain returns the document and where it came from, or why there is none
// (skip). err is set only for a local document that is named or present but
// cannot be read; a failed download is a reason to skip.
func obtain(ctx context.Context, f fetcher) (data []byte, source, skip string, err error) {
	path, tried, err := locateSpec()
	if err != nil {
		return nil, "", "", err
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, "", "", fmt.Errorf("read openapi.json: %w", err)
		}
		return data, path, "", nil
	}
	data, source, err = f.get(ctx)
	if err != nil {
		local := "no $" + EnvSpecPath
		for _, p := range tried {
			local += ", no " + p
		}
		return nil, "", local + ", " + err.Error(), nil
	}
	return data, source, "", nil
}

// skipLine is the one line printed when validation is skipped.
func (s *Spec) skipLine() string {
	return "openapitest: SKIPPING schema validation of REST responses (the tests' own assertions still run): " +
		"Qdrant " + QdrantVersion + " openapi.json unavailable: " + s.skip +
		"; set $" + EnvSpecPath + " to a copy to validate"
}
