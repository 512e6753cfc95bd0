#!/usr/bin/env bash
# Starts a local cluster of N shoal peers (default 3) on 127.0.0.1, the way
# an operator starts Qdrant peers: the first with --uri only, the others
# with --bootstrap pointing at it. Peer i serves REST on 6333+10*i and P2P
# on 6335+10*i, and keeps its data in ./cluster-data/peer-i. Ctrl-C stops
# them all (gracefully); running it again restarts the same cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
go build -o ./cluster-data/shoal ./cmd/shoal
pids=()
stop() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait; }
trap stop INT TERM EXIT
for ((i = 0; i < n; i++)); do
  http=$((6333 + 10 * i)); grpc=$((6334 + 10 * i)); p2p=$((6335 + 10 * i))
  dir=./cluster-data/peer-$i; mkdir -p "$dir"
  args=(--uri "http://127.0.0.1:$p2p")
  ((i > 0)) && args+=(--bootstrap "http://127.0.0.1:6335")
  QDRANT__CLUSTER__ENABLED=true QDRANT__SERVICE__HOST=127.0.0.1 \
  QDRANT__SERVICE__HTTP_PORT=$http QDRANT__SERVICE__GRPC_PORT=$grpc QDRANT__CLUSTER__P2P__PORT=$p2p \
  QDRANT__STORAGE__STORAGE_PATH="$dir/storage" QDRANT__STORAGE__SNAPSHOTS_PATH="$dir/snapshots" \
    ./cluster-data/shoal "${args[@]}" >"$dir/shoal.log" 2>&1 &
  pids+=($!)
  # The next peer joins through the first, which must be up.
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$http/readyz" >/dev/null && break; sleep 0.1; done
  echo "peer $i: REST http://127.0.0.1:$http  P2P http://127.0.0.1:$p2p  log $dir/shoal.log"
done
curl -s http://127.0.0.1:6333/cluster; echo
echo "cluster of $n peers running; Ctrl-C stops it"
wait
