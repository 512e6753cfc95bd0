#!/usr/bin/env bash
# Compare Shoal's HNSW with hnswlib on Fashion-MNIST and a synthetic set.
# Usage: bench/run.sh [-quick] [-1m] [extra annbench flags...]
#   -quick  smoke run: synthetic 20k x 128, 200 queries
#   -1m     also synthetic 1M x 128 (1000 queries; long: the builds alone
#           take tens of minutes on 2 cores)
# Results: bench/out/ (markdown and JSON per run, logs, caches).
# Environment: WAIT_IDLE (default 60s) bounds the wait for a quiet machine
# before each engine; ROUNDS (default 3) is annbench -rounds, the engines
# taking turns that many times; ANNBENCH=path runs a prebuilt annbench.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"

quick=0 big=0 extra=()
for a in "$@"; do
	case "$a" in
	-quick | --quick) quick=1 ;;
	-1m | --1m) big=1 ;;
	*) extra+=("$a") ;;
	esac
done

# Debian's python3-hnswlib installs into /usr/lib/python3/dist-packages, so
# use Debian's interpreter even when another python3 comes first on PATH.
py=/usr/bin/python3
need=()
"$py" -c 'import hnswlib, numpy' 2>/dev/null || need+=(python3-hnswlib python3-numpy)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
[ -f /usr/include/hnswlib/hnswlib.h ] || need+=(libhnswlib-dev)
command -v g++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install -y ${need[*]})" >&2
		exit 1
	fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi

# ANNBENCH=path uses a prebuilt annbench (e.g. one built from a clean
# export of a commit) instead of building the working tree.
bin=${ANNBENCH:-$out/annbench}
if [ -z "${ANNBENCH:-}" ]; then
	go build -o "$bin" ./bench/annbench
	built="$(git rev-parse --short HEAD 2>/dev/null || echo "?") + working tree"
else
	built="prebuilt $bin"
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
summary="$out/summary-$stamp.md"
{
	echo "# annbench $stamp"
	echo
	echo "nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); annbench: $built"
	echo
} >"$summary"

bench() { # name, annbench flags...
	local name=$1
	shift
	echo "== $name: annbench $*" >&2
	"$bin" -out "$out" -python "$py" -wait-idle "${WAIT_IDLE:-60s}" -rounds "${ROUNDS:-3}" -peer hnswlib,hnswlib-native "$@" "${extra[@]}" \
		2> >(tee "$out/log-$stamp-$name.txt" >&2) | tee -a "$summary"
}

if [ "$quick" = 1 ]; then
	bench quick -dataset synthetic -n 20000 -dim 128 -queries 200 -runs 2 -bw-mib 256
else
	bench fashion-mnist -dataset fashion-mnist
	bench synthetic-100k -dataset synthetic -n 100000 -dim 128 -quant scalar
	if [ "$big" = 1 ]; then
		bench synthetic-1m -dataset synthetic -n 1000000 -dim 128 -queries 1000 -bw-mib 0 -quant scalar -ef 64,128,256,512,1024
	fi
fi
echo "summary: $summary" >&2
