#!/usr/bin/python3
"""bench/bench_eval.py UEAJC - ueajc eval against NumPy einsum, same machine, same run.

For each expression: the median wall time of `ueajc eval` (warm compile
cache, so this is process start + file I/O + the generated kernel) and of
np.einsum (in-process, kernel only), interleaved over repeats.  Prints a
markdown table for bench/RESULTS.md.  This measures the *naive loop nests*
the C backend emits today; the GEMM path of the LLaMA runner is future work.
"""
import os, subprocess, sys, tempfile, time
import numpy as np

U = sys.argv[1] if len(sys.argv) > 1 else "build/ueajc"
REPS = 5
CASES = [
    ("ij,jk->ik", {"i": 256, "j": 256, "k": 256}),
    ("ij,jk->ik", {"i": 512, "j": 512, "k": 512}),
    ("bnd,dhk->bnhk", {"b": 2, "n": 128, "d": 256, "h": 4, "k": 64}),
    ("ij,ij->i", {"i": 2048, "j": 1024}),
]

def main():
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, UEAJ_CACHE=os.path.join(d, "cache"))
        for expr, sz in CASES:
            ins = expr.split("->")[0].split(",")
            arrs, files = [], []
            for k, lt in enumerate(ins):
                a = rng.standard_normal([sz[c] for c in lt]).astype(np.float32)
                p = os.path.join(d, "a%d.npy" % k)
                np.save(p, a)
                arrs.append(a)
                files.append(p)
            out = os.path.join(d, "o.npy")
            cmd = [U, "eval", expr] + files + ["-o", out]
            subprocess.run(cmd, check=True, env=env)  # compile once (cache)
            tu, tn = [], []
            for _ in range(REPS):
                t0 = time.perf_counter(); subprocess.run(cmd, check=True, env=env); tu.append(time.perf_counter() - t0)
                t0 = time.perf_counter(); ref = np.einsum(expr, *arrs); tn.append(time.perf_counter() - t0)
            got = np.load(out)
            err = float(np.max(np.abs(got - ref)) / (np.max(np.abs(ref)) + 1e-30))
            flops = 2.0
            for c in set("".join(ins)):
                flops *= sz[c]
            mu, mn = sorted(tu)[REPS // 2], sorted(tn)[REPS // 2]
            rows.append((expr, " ".join("%s=%d" % kv for kv in sz.items()), mu * 1e3, flops / mu / 1e9,
                         mn * 1e3, flops / mn / 1e9, err))
    print("| expression | sizes | ueajc eval ms | GFLOP/s | numpy einsum ms | GFLOP/s | max rel err |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| `%s` | %s | %.1f | %.2f | %.2f | %.2f | %.1e |" % r)

if __name__ == "__main__":
    main()
