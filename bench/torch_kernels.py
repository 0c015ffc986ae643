"""PyTorch side of bench/kernels.ts: times Y = X W^T (torch.nn.functional.linear, f32) for the given
shapes and thread counts and prints one JSON object. Run with Debian's /usr/bin/python3.

usage: torch_kernels.py '{"shapes": [[M, N, K], ...], "threads": [1, 2], "min_seconds": 0.5, "min_reps": 3}'
"""
import json
import sys
import time


def blas_library():
    """The BLAS shared library actually mapped into this process (reference BLAS, OpenBLAS, MKL...)."""
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
        return ", ".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def best_time(fn, min_seconds, min_reps):
    fn()  # warm-up
    best = float("inf")
    total = 0.0
    reps = 0
    # stop after min_reps runs and min_seconds, or after one run once 3 s are spent (slow BLAS)
    while (reps < min_reps or total < min_seconds) and not (reps >= 1 and total >= 3.0):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        total += elapsed
        reps += 1
    return best


def main():
    config = json.loads(sys.argv[1])
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    results = []
    for threads in config["threads"]:
        torch.set_num_threads(threads)
        for m, n, k in config["shapes"]:
            x = torch.randn(m, k, dtype=torch.float32)
            w = torch.randn(n, k, dtype=torch.float32)
            with torch.no_grad():
                seconds = best_time(lambda: F.linear(x, w), config["min_seconds"], config["min_reps"])
            results.append({"M": m, "N": n, "K": k, "threads": threads, "seconds": seconds,
                            "gflops": 2.0 * m * n * k / seconds / 1e9})
    print(json.dumps({"torch": torch.__version__, "blas": blas_library(), "results": results}))


if __name__ == "__main__":
    main()
