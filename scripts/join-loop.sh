#!/usr/bin/env bash
# The long form of the join tests in tests/cluster: starts clusters of 3, 5
# and 7 peers N times each (default 20), every joining peer at the same
# moment as Qdrant's own test harness starts them, once plainly and once
# while the network drops, loses and delays raft snapshots and join
# requests; prints how many starts formed a cluster and how long they took.
# The suite runs each scenario once.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
log=$(mktemp -t shoal-join-loop.XXXXXX)
echo "--- $n starts of each scenario; full log in $log"
status=0
SHOAL_JOIN_STARTS=$n go test -count=1 -timeout 0 -run 'TestJoinTogether' -v ./tests/cluster/ >"$log" 2>&1 || status=$?
grep -E 'JOIN SUMMARY|^\s*--- FAIL' "$log" | sed -E 's/^\s*join_test.go:[0-9]+: //'
exit $status
