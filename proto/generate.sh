#!/bin/sh
# Regenerates the Go code of the P2P protocol. Needs protoc, protoc-gen-go
# (google.golang.org/protobuf/cmd/protoc-gen-go at go.mod's version) and
# protoc-gen-go-grpc (google.golang.org/grpc/cmd/protoc-gen-go-grpc) on PATH
# or in $(go env GOPATH)/bin. The generated files are committed, so building
# Shoal needs none of these.
#
# Usage: proto/generate.sh [output-dir]   (default: proto/, in place)
set -eu
cd "$(dirname "$0")"
out="${1:-.}"
PATH="$PATH:$(go env GOPATH)/bin"
export PATH
protoc -I . \
	--go_out="$out" --go_opt=paths=source_relative \
	--go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
	p2p/v1/common.proto p2p/v1/points.proto p2p/v1/raft.proto p2p/v1/transfer.proto
