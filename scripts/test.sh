#!/usr/bin/env bash
# The one command that runs every test of Shoal; CI runs it too (.ci/run).
# It installs what the tests need first, so it works on a fresh clone:
#   1. the Qdrant JS client for tests/e2e/js (npm ci, from package-lock.json)
#   2. go vet ./...
#   3. go test -race ./... : unit tests, and tests/e2e, which builds the shoal
#      binary (with -race too) and runs it as a separate process.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "--- npm ci --prefix tests/e2e/js"
npm ci --prefix tests/e2e/js --no-audit --no-fund

echo "--- go vet ./..."
go vet ./...

echo "--- go test -race -count=1 -timeout 20m ./..."
go test -race -count=1 -timeout 20m ./...
