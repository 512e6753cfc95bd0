// Command specstatus finds (or downloads and caches) Qdrant's openapi.json
// exactly as the REST tests will, and prints one line saying what their
// responses are validated against, or that schema validation is skipped and
// why. scripts/test.sh runs it before the tests because `go test` shows no
// output of a package that passes. It exits 1 when the tests would fail to
// load the document (a local copy that does not parse, or
// $SHOAL_OPENAPI_REQUIRED=1 without one).
package main

import (
	"fmt"
	"os"

	"github.com/shoaldb/shoal/internal/openapitest"
)

func main() {
	line, err := openapitest.Status()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(line)
}
