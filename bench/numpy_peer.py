#!/usr/bin/env python3
"""Times numpy (its BLAS, usually OpenBLAS) for the being-ts benchmarks and prints JSON on stdout.

Usage: python3 bench/numpy_peer.py '<spec>' where the spec is JSON:
  {"threads": 1, "budget": 0.3,
   "matmul": [{"n": 256, "layout": "A·B"}, ...],        # layouts: "A·B", "A·Bᵀ", "Aᵀ·B"
   "elementwise": [{"op": "a + b", "n": 1048576}, ...]}  # ops: "a + b", "a · b", "a + 2", "sum(a)"
Output: {"numpy": version, "blas": name, "threads": n, "results": {"matmul A·B n=256": seconds, ...}}
with the median seconds per operation over samples of at least 1 ms each. "threads" sets
OPENBLAS_NUM_THREADS (and OMP/MKL) before numpy is imported; numpy's elementwise ops are single-threaded.
Transposed operands are views (`b.T`), which numpy hands to BLAS as a transpose flag, without a copy.
"""
import json
import os
import sys
import time

spec = json.loads(sys.argv[1])
threads = spec.get("threads")
if threads:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)

import numpy as np  # noqa: E402  (after the thread variables)


def blas_name():
    try:
        cfg = np.show_config(mode="dicts")
        return cfg["Build Dependencies"]["blas"]["name"]
    except Exception:  # older numpy: no dict mode
        return "unknown"


def seconds_per_op(f, budget):
    f()
    reps = 1
    while True:  # grow the repetitions until one sample lasts at least 1 ms
        t0 = time.perf_counter()
        for _ in range(reps):
            f()
        if time.perf_counter() - t0 >= 1e-3:
            break
        reps *= 2
    samples = []
    start = time.perf_counter()
    while time.perf_counter() - start < budget or len(samples) < 5:
        t0 = time.perf_counter()
        for _ in range(reps):
            f()
        samples.append((time.perf_counter() - t0) / reps)
    samples.sort()
    return samples[len(samples) // 2]


rng = np.random.default_rng(0)
budget = float(spec.get("budget", 0.3))
results = {}
for case in spec.get("matmul", []):
    n, layout = case["n"], case["layout"]
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    if layout == "A·B":
        f = lambda: np.matmul(a, b)
    elif layout == "A·Bᵀ":
        f = lambda: np.matmul(a, b.T)
    elif layout == "Aᵀ·B":
        f = lambda: np.matmul(a.T, b)
    else:
        raise SystemExit(f"numpy_peer: unknown layout {layout!r}")
    results[f"matmul {layout} n={n}"] = seconds_per_op(f, budget)
for case in spec.get("elementwise", []):
    op, n = case["op"], case["n"]
    a = rng.standard_normal(n, dtype=np.float32)
    b = rng.standard_normal(n, dtype=np.float32)
    fs = {"a + b": lambda: np.add(a, b), "a · b": lambda: np.multiply(a, b), "a + 2": lambda: np.add(a, np.float32(2)), "sum(a)": lambda: np.sum(a)}
    if op not in fs:
        raise SystemExit(f"numpy_peer: unknown op {op!r}")
    results[f"{op} n={n}"] = seconds_per_op(fs[op], budget)
print(json.dumps({"numpy": np.__version__, "blas": blas_name(), "threads": threads, "results": results}))
