#!/usr/bin/env python3
"""hnswlib side of bench/annbench: build, then recall inputs and QPS per ef.

Reads the base and query vectors that annbench wrote (raw little-endian
float32, row-major), builds an hnswlib index with the same M, ef_construction
and build threads, then for each ef runs the query set on one thread through
batched knn_query calls of 100 queries (the loop over queries is in C++, so
Python costs one call per 100 queries), each chunk keeping its fastest pass.
Writes the result ids of each ef as raw uint32 (annbench computes recall for
both engines with the same code) and a JSON summary. Uses Debian's
python3-hnswlib; run it with /usr/bin/python3.
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time

import hnswlib
import numpy as np


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


CHUNK = 100  # queries per timed chunk; each keeps its fastest pass (as annbench)


def process_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--dim", type=int, required=True)
    ap.add_argument("--space", choices=["l2", "ip", "cosine"], required=True)
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--efc", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--ef", default="16,32,64,128,256,512")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ids-prefix", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--index-cache", help="experiments: load the index from this file if present, else save it there after building")
    a = ap.parse_args()

    base = np.fromfile(a.base, dtype="<f4").reshape(-1, a.dim)
    queries = np.fromfile(a.queries, dtype="<f4").reshape(-1, a.dim)
    n, nq = base.shape[0], queries.shape[0]

    rss0 = rss_bytes()
    index = hnswlib.Index(space=a.space, dim=a.dim)
    c0, t0 = process_cpu(), time.perf_counter()
    if a.index_cache and os.path.exists(a.index_cache):
        index.load_index(a.index_cache, max_elements=n)
        build_sec = build_cpu = 0.0  # not timed: loaded
        print(f"hnswlib: index loaded from {a.index_cache}", file=sys.stderr, flush=True)
    else:
        index.init_index(max_elements=n, ef_construction=a.efc, M=a.m, random_seed=a.seed)
        index.set_num_threads(a.threads)
        index.add_items(base, np.arange(n, dtype=np.int64), num_threads=a.threads)
        build_sec = time.perf_counter() - t0
        build_cpu = process_cpu() - c0
        print(f"hnswlib: built {n} x {a.dim} in {build_sec:.1f}s ({build_cpu:.1f} CPU-s)", file=sys.stderr, flush=True)
        if a.index_cache:
            index.save_index(a.index_cache)
    rss_delta = rss_bytes() - rss0

    # The saved index is hnswlib's in-memory layout: level-0 blocks (links,
    # vector, label) plus the upper-level link lists.
    with tempfile.NamedTemporaryFile(dir=os.path.dirname(a.json) or ".", suffix=".hnsw") as tf:
        index.save_index(tf.name)
        index_bytes = os.path.getsize(tf.name)

    index.set_num_threads(1)
    chunks = [(lo, min(lo + CHUNK, nq)) for lo in range(0, nq, CHUNK)]
    labels = np.zeros((nq, a.k), dtype="<u4")
    curve = []
    for ef in [int(x) for x in a.ef.split(",") if x]:
        index.set_ef(ef)
        index.knn_query(queries[: min(nq, 1000)], k=a.k, num_threads=1)  # warm-up
        best = [float("inf")] * len(chunks)
        best_cpu = [float("inf")] * len(chunks)
        cpu = wall = 0.0
        for _ in range(max(a.runs, 1)):
            c0, w0 = time.thread_time(), time.perf_counter()
            for ci, (lo, hi) in enumerate(chunks):
                tc, t = time.thread_time(), time.perf_counter()
                lab, _ = index.knn_query(queries[lo:hi], k=a.k, num_threads=1)
                best[ci] = min(best[ci], time.perf_counter() - t)
                best_cpu[ci] = min(best_cpu[ci], time.thread_time() - tc)
                labels[lo:hi] = lab
            cpu += time.thread_time() - c0
            wall += time.perf_counter() - w0
        path = f"{a.ids_prefix}-ef{ef}.u32"
        labels.tofile(path)
        qps = nq / sum(best)
        curve.append({"ef": ef, "qps": qps, "cpu_qps": nq / sum(best_cpu), "cpu_share": cpu / wall, "ids": path})
        print(f"hnswlib: ef={ef:<4d} {qps:8.0f} qps  cpu share {cpu / wall:.2f}", file=sys.stderr, flush=True)

    out = {
        "name": "hnswlib",
        "detail": f"python3-hnswlib (Debian build), space={a.space}, numpy {np.__version__}, Python {sys.version.split()[0]}",
        "build_sec": build_sec,
        "build_cpu_sec": build_cpu,
        "index_bytes": index_bytes,
        "rss_delta_bytes": rss_delta,
        "curve": curve,
    }
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
