"""SGEMM through NumPy (OpenBLAS underneath) at the shapes GemmBenchmark takes, for side-by-side runs.

  python3 scripts/openblas_gemm.py 1024 128x784x256 784x128x256:TN 128x256x784:NT
  OPENBLAS_CORETYPE=SkylakeX python3 scripts/openblas_gemm.py ...     (force OpenBLAS's AVX-512 kernels)
  python3 scripts/openblas_gemm.py --fashion                          (GemmBenchmark.FASHION_SHAPES)

A size is n (n x n x n) or MxKxN with an optional :TN / :NT / :TT, as in GemmBenchmark: C (m x n) <-
op(A) (m x k) . op(B) (k x n), a transposed operand stored as the transpose (A as k x m, B as n x k), so
NumPy hands OpenBLAS the transpose flag rather than copying.

It times as `GemmBenchmark -i 10 -r 1` measures: after one warm-up call (there is no JIT), 10 rounds of about 1 s
(ROUNDS and ROUND_SECONDS in the environment change that). Per shape it prints one JSON line:
gflops_mean (2mkn over the mean time per op over all rounds, as JMH's score), gflops (the best
round, as the best JMH iteration), rounds (each round's GFLOP/s) and cpu_gflops_per_core (2mkn over
the process's CPU seconds per op in its best round, all threads together: what one core delivers,
robust to other load on the machine).
"""
import json, os, sys, time
import numpy as np

FASHION_WIDTHS = [784, 256, 128, 10]


def fashion_shapes():
    shapes = []
    for batch in (128, 256, 8192):
        for l in range(1, len(FASHION_WIDTHS)):
            i, o = FASHION_WIDTHS[l - 1], FASHION_WIDTHS[l]
            shapes += [f"{batch}x{i}x{o}", f"{i}x{batch}x{o}:TN"]
            if l > 1:
                shapes.append(f"{batch}x{o}x{i}:NT")
    return shapes


def parse(text):
    dims, _, trans = text.partition(":")
    parts = [int(d) for d in dims.split("x")]
    if len(parts) == 1:
        parts *= 3
    if len(parts) != 3 or trans not in ("", "NN", "TN", "NT", "TT"):
        raise SystemExit(f"size must be n or MxKxN[:TN|:NT|:TT], not '{text}'")
    trans = trans or "NN"
    return (*parts, trans[0] == "T", trans[1] == "T")


def measure(text, seconds=float(os.environ.get("ROUND_SECONDS", "1.0")), rounds=int(os.environ.get("ROUNDS", "10"))):
    m, k, n, ta, tb = parse(text)
    rng = np.random.default_rng(42)
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    a_op, b_op = (a.T if ta else a), (b.T if tb else b)
    c = np.empty((m, n), np.float32)
    flops = 2.0 * m * k * n
    np.matmul(a_op, b_op, out=c)
    t = time.perf_counter()
    np.matmul(a_op, b_op, out=c)
    reps = max(3, int(seconds / max(time.perf_counter() - t, 1e-7)))
    best_wall, best_cpu, total_wall, per_round = float("inf"), float("inf"), 0.0, []
    for _ in range(rounds):
        w, p = time.perf_counter(), time.process_time()
        for _ in range(reps):
            np.matmul(a_op, b_op, out=c)
        wall = time.perf_counter() - w
        total_wall += wall
        per_round.append(round(flops * reps / wall / 1e9, 1))
        best_wall = min(best_wall, wall / reps)
        best_cpu = min(best_cpu, (time.process_time() - p) / reps)
    return dict(size=text, gflops_mean=round(flops * reps * rounds / total_wall / 1e9, 1),
                gflops=round(flops / best_wall / 1e9, 1), rounds=per_round,
                cpu_gflops_per_core=round(flops / best_cpu / 1e9, 1),
                coretype=os.environ.get("OPENBLAS_CORETYPE", "default"),
                threads=os.environ.get("OPENBLAS_NUM_THREADS", "all"))


def main(args):
    if not args:
        raise SystemExit(__doc__)
    sizes = []
    for arg in args:
        sizes += fashion_shapes() if arg == "--fashion" else arg.split(",")
    for s in sizes:
        print(json.dumps(measure(s)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
