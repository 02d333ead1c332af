#!/usr/bin/env python3
"""bench_llama.py - `ueajc bench` against llama.cpp on the same weights, in the same run.

Usually started by bench/bench_llama.sh, which makes the virtual environment
(gguf, numpy, llama-cpp-python built from source) and runs this file with it.

    bench_llama.py [--ueajc build/ueajc] [--models smollm2-135m,llama-3.2-1b]
                   [--rounds 5] [-r 1] [-t 2] [-p 512] [-n 128] [--no-llama] [--write]

For each model shape:
  1. a synthetic checkpoint with random bf16 weights of the real shape is
     written as a GGUF (llama.cpp reads it) and converted with
     `ueajc convert X.gguf -o DIR --dtype bf16` (so both read the same values;
     BF16 -> f32 -> bf16 is exact).  Both are cached under
     $UEAJ_BENCH_CACHE (~/.cache/ueajc/bench) and regenerated when absent.
     The vocabulary is Llama 3's (truncated, with its merges filtered, for
     the SmolLM2 shape); benchmarks use token ids, never text.
  2. rounds of: a read-bandwidth probe (numpy f32 GEMV on a 1 GiB matrix,
     OpenBLAS, 2 threads), then `ueajc bench` and llama.cpp in alternating
     order (AB, BA, AB, ...), each in its own process.  llama.cpp is driven
     through llama-cpp-python's low-level API exactly as llama-bench does:
     pp = one 512-token llama_decode into an empty cache, tg = 128
     single-token decodes into an empty cache, logits for the last token
     only, a warm-up of each first, n_threads = n_threads_batch = 2.
     Each process reports the mean of its -r repetitions (as llama-bench and
     ueajc bench do); the table shows the median over the rounds.  With
     other work on the machine single repetitions spoil a mean badly (a
     2-thread OpenMP decode loses 10-100x while a core is taken), so the
     default is -r 1 and 5 rounds: each number is then a median of 5
     separate processes.
  3. a short correctness cross-check: greedy logits of the same 24 token ids
     from both engines (ueajc run --logits vs llama.cpp with all logits).

Weight GB/s = tg tokens/s x the bytes each engine reads per token (ueajc's
own count from `ueajc bench`; llama_model_size for llama.cpp; both include
the tied embedding once, as the output matrix).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

_LOG_CB = None
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.environ.get("UEAJ_BENCH_CACHE", os.path.expanduser("~/.cache/ueajc/bench"))
LLAMA3_TOKENIZER = "/work/shared/fixtures/tokenizers/llama3/tokenizer.json"

SHAPES = {
    # name: hidden, layers, heads, kv heads, head dim, ffn, vocab, rope theta, context
    "smollm2-135m": dict(d=576, L=30, H=9, KV=3, hd=64, F=1536, V=49152, theta=100000.0, ctx=8192),
    "llama-3.2-1b": dict(d=2048, L=16, H=32, KV=8, hd=64, F=8192, V=128256, theta=500000.0, ctx=131072),
}
CHECK_IDS = [791, 6864, 315, 9822, 374, 12366, 13, 578, 6864, 315, 9635, 374, 20023, 13, 578,
             3363, 315, 279, 6460, 374, 264, 2697, 11]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# weights


def llama3_vocab(V):
    """Token strings, token types and merges of Llama 3, cut to V tokens."""
    import gguf
    with open(LLAMA3_TOKENIZER, encoding="utf-8") as f:
        tj = json.load(f)
    vocab = tj["model"]["vocab"]
    merges = tj["model"]["merges"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
    n_reg = len(vocab)
    tokens = [None] * n_reg
    for s, i in vocab.items():
        tokens[i] = s
    special = {t["id"]: t["content"] for t in tj["added_tokens"]}
    if V >= n_reg + len(special):
        toks = tokens + [special[n_reg + i] for i in range(V - n_reg)]
        types = [gguf.TokenType.NORMAL] * n_reg + [gguf.TokenType.CONTROL] * (V - n_reg)
        return toks, types, merges, n_reg, n_reg + 1
    # truncated: the first V-2 regular tokens, then BOS and EOS; merges whose
    # parts and result all survive (the converter and HF insist on that)
    keep = tokens[: V - 2]
    have = set(keep)
    ms = []
    for m in merges:
        a, b = m.split(" ", 1)
        if a in have and b in have and a + b in have:
            ms.append(m)
    toks = keep + ["<|begin_of_text|>", "<|end_of_text|>"]
    types = [gguf.TokenType.NORMAL] * (V - 2) + [gguf.TokenType.CONTROL] * 2
    return toks, types, ms, V - 2, V - 1


def random_bf16(rng, shape):
    """Random bf16 bit patterns: random sign and mantissa, |x| in [2^-8, 2^-4)
    (no zeros, denormals, infinities or NaNs)."""
    import numpy as np
    r = rng.integers(0, 1 << 16, size=shape, dtype=np.uint16)
    sign = r & np.uint16(0x8000)
    mant = r & np.uint16(0x007F)
    exp = (np.uint16(119) + ((r >> np.uint16(7)) & np.uint16(3))) << np.uint16(7)
    return sign | exp | mant


def write_gguf(name, path):
    import gguf
    import numpy as np
    s = SHAPES[name]
    d, L, H, KV, hd, F, V = s["d"], s["L"], s["H"], s["KV"], s["hd"], s["F"], s["V"]
    t0 = time.time()
    toks, types, merges, bos, eos = llama3_vocab(V)
    rng = np.random.default_rng(1234)
    tmp = path + ".tmp"
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_name(f"synthetic {name} (random bf16 weights)")
    w.add_context_length(s["ctx"])
    w.add_embedding_length(d)
    w.add_block_count(L)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    w.add_key_length(hd)
    w.add_value_length(hd)
    w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(s["theta"])
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(V)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_BF16)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(toks)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(bos)
    w.add_eos_token_id(eos)
    w.add_add_bos_token(True)
    BF = gguf.GGMLQuantizationType.BF16
    ones = np.ones(d, dtype=np.float32)
    w.add_tensor("token_embd.weight", random_bf16(rng, (V, d)), raw_dtype=BF)
    w.add_tensor("output_norm.weight", ones)
    for i in range(L):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", ones)
        w.add_tensor(p + "attn_q.weight", random_bf16(rng, (H * hd, d)), raw_dtype=BF)
        w.add_tensor(p + "attn_k.weight", random_bf16(rng, (KV * hd, d)), raw_dtype=BF)
        w.add_tensor(p + "attn_v.weight", random_bf16(rng, (KV * hd, d)), raw_dtype=BF)
        w.add_tensor(p + "attn_output.weight", random_bf16(rng, (d, H * hd)), raw_dtype=BF)
        w.add_tensor(p + "ffn_norm.weight", ones)
        w.add_tensor(p + "ffn_gate.weight", random_bf16(rng, (F, d)), raw_dtype=BF)
        w.add_tensor(p + "ffn_up.weight", random_bf16(rng, (F, d)), raw_dtype=BF)
        w.add_tensor(p + "ffn_down.weight", random_bf16(rng, (d, F)), raw_dtype=BF)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, path)
    log(f"bench: wrote {path} ({os.path.getsize(path) / 1e9:.2f} GB) in {time.time() - t0:.1f} s")


def ensure_weights(name, ueajc):
    os.makedirs(CACHE, exist_ok=True)
    g = os.path.join(CACHE, f"{name}-bf16.gguf")
    dr = os.path.join(CACHE, f"{name}-bf16")
    if not os.path.exists(g):
        if os.path.exists(dr):
            shutil.rmtree(dr)
        write_gguf(name, g)
    if not os.path.exists(os.path.join(dr, "config.json")):
        t0 = time.time()
        cmd = [ueajc, "convert", g, "-o", dr, "--dtype", "bf16", "--force"]
        log("bench: " + " ".join(cmd))
        subprocess.run(cmd, check=True)
        log(f"bench: converted in {time.time() - t0:.1f} s")
    return g, dr


# ---------------------------------------------------------------------------
# the engines, each in its own process


class Measured:
    """A finished child process: returncode, stdout, stderr, and its peak resident memory."""

    def __init__(self, returncode, stdout, stderr, maxrss_kb):
        self.returncode, self.stdout, self.stderr, self.maxrss_kb = returncode, stdout, stderr, maxrss_kb


def run_measured(cmd, timeout):
    """subprocess.run(capture_output, text) that also reports the child's own peak RSS (wait4's
    rusage, kB on Linux): the engine process's footprint, weights, caches and activations included."""
    import threading
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = [], []
    readers = [threading.Thread(target=lambda: out.append(p.stdout.read())),
               threading.Thread(target=lambda: err.append(p.stderr.read()))]
    for r in readers:
        r.start()
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    _, status, ru = os.wait4(p.pid, 0)
    timer.cancel()
    for r in readers:
        r.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    return Measured(p.returncode, out[0], err[0], ru.ru_maxrss)


def run_ueajc(ueajc, d, a):
    cmd = [ueajc, "bench", "-m", d, "-p", str(a.p), "-n", str(a.n), "-r", str(a.r), "-t", str(a.t)]
    t0 = time.time()
    pr = run_measured(cmd, 1800)
    if pr.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({pr.returncode}):\n{pr.stdout}\n{pr.stderr}")
    res = {"wall_s": time.time() - t0, "stdout": pr.stdout, "rss_gb": pr.maxrss_kb * 1024 / 1e9}
    rx = re.compile(r"^\|\s*(.*?)\s*\|\s*([\d.]+) GB\s*\|\s*\w+\s*\|\s*(\d+|-)\s*\|\s*(pp|tg)(\d+)\s*\|\s*([\d.]+) ± ([\d.]+)\s*\|\s*([\d.]*)\s*\|")
    for line in pr.stdout.splitlines():
        m = rx.match(line)
        if m:
            res["gb"] = float(m.group(2))
            res[m.group(4)] = float(m.group(6))
            res[m.group(4) + "_sd"] = float(m.group(7))
    if "pp" not in res or "tg" not in res:
        raise RuntimeError(f"cannot parse ueajc bench output:\n{pr.stdout}\n{pr.stderr}")
    return res


def run_llama(gguf_path, a):
    cmd = [sys.executable, os.path.abspath(__file__), "llama-worker", gguf_path,
           "-p", str(a.p), "-n", str(a.n), "-r", str(a.r), "-t", str(a.t)]
    t0 = time.time()
    pr = run_measured(cmd, 1800)
    if pr.returncode != 0:
        raise RuntimeError(f"llama.cpp worker failed ({pr.returncode}):\n{pr.stdout[-2000:]}\n{pr.stderr[-4000:]}")
    res = json.loads(pr.stdout.strip().splitlines()[-1])
    res["wall_s"] = time.time() - t0
    res["rss_gb"] = pr.maxrss_kb * 1024 / 1e9
    res["gb"] = res["size_bytes"] / 1e9
    res["pp_sd"] = statistics.stdev(res["pp_all"]) if len(res["pp_all"]) > 1 else 0.0
    res["tg_sd"] = statistics.stdev(res["tg_all"]) if len(res["tg_all"]) > 1 else 0.0
    return res


def llama_open(path, n_ctx, n_batch, threads, all_logits=False):
    import llama_cpp as L
    global _LOG_CB
    _LOG_CB = L.llama_log_callback(lambda lvl, txt, ud: None)  # quiet; kept alive for the callback
    L.llama_log_set(_LOG_CB, None)
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    model = L.llama_model_load_from_file(path.encode(), mp)
    if not model:
        raise RuntimeError(f"llama.cpp cannot load {path}")
    cp = L.llama_context_default_params()
    cp.n_ctx = n_ctx
    cp.n_batch = n_batch
    cp.n_ubatch = n_batch
    cp.n_threads = threads
    cp.n_threads_batch = threads
    cp.no_perf = True
    ctx = L.llama_init_from_model(model, cp)
    if not ctx:
        raise RuntimeError("llama.cpp cannot make a context")
    return L, model, ctx, cp


def llama_worker(argv):
    ap = argparse.ArgumentParser(prog="bench_llama.py llama-worker")
    ap.add_argument("model")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-r", type=int, default=3)
    ap.add_argument("-t", type=int, default=2)
    a = ap.parse_args(argv)
    t0 = time.time()
    L, model, ctx, cp = llama_open(a.model, max(a.p, a.n) + 16, a.p, a.t)
    load_s = time.time() - t0
    vocab = L.llama_model_get_vocab(model)
    V = L.llama_vocab_n_tokens(vocab)
    n = max(a.p, a.n)
    ids = (L.llama_token * n)(*[(i * 7919 + 13) % V for i in range(n)])
    mem = L.llama_get_memory(ctx)

    def decode(off, cnt):
        b = L.llama_batch_get_one(L.ctypes.cast(L.ctypes.byref(ids, off * 4), L.ctypes.POINTER(L.llama_token)), cnt)
        rc = L.llama_decode(ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")

    def pp():
        L.llama_memory_clear(mem, False)
        t = time.perf_counter()
        decode(0, a.p)
        L.llama_synchronize(ctx)
        return a.p / (time.perf_counter() - t)

    def tg():
        L.llama_memory_clear(mem, False)
        t = time.perf_counter()
        for i in range(a.n):
            decode(i, 1)
            L.llama_synchronize(ctx)
        return a.n / (time.perf_counter() - t)

    pp()  # warm-up of each, as llama-bench
    L.llama_memory_clear(mem, False)
    decode(0, 1)
    L.llama_synchronize(ctx)
    pps, tgs = [], []
    for _ in range(a.r):
        pps.append(pp())
        tgs.append(tg())
    out = {
        "pp": statistics.mean(pps), "tg": statistics.mean(tgs), "pp_all": pps, "tg_all": tgs,
        "size_bytes": L.llama_model_size(model), "n_params": L.llama_model_n_params(model),
        "load_s": load_s, "system_info": L.llama_print_system_info().decode(),
        "flash_attn": L.llama_flash_attn_type_name(cp.flash_attn_type).decode(),
        "type_k": int(cp.type_k), "version": getattr(sys.modules["llama_cpp"], "__version__", "?"),
    }
    L.llama_free(ctx)
    L.llama_model_free(model)
    print(json.dumps(out))


# ---------------------------------------------------------------------------
# correctness cross-check: logits of the same ids


def llama_logits_worker(argv):
    import numpy as np
    path, ids_s, out = argv
    ids = [int(x) for x in ids_s.split(",")]
    L, model, ctx, cp = llama_open(path, 64, 64, 2)
    n = len(ids)
    b = L.llama_batch_init(n, 0, 1)
    for i, t in enumerate(ids):
        b.token[i] = t
        b.pos[i] = i
        b.n_seq_id[i] = 1
        b.seq_id[i][0] = 0
        b.logits[i] = 1
    b.n_tokens = n
    if L.llama_decode(ctx, b) != 0:
        raise RuntimeError("llama_decode failed")
    V = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    lg = np.ctypeslib.as_array(L.llama_get_logits(ctx), shape=(n * V,)).reshape(n, V).copy()
    np.save(out, lg)


def cross_check(ueajc, g, d, V):
    """Returns a one-line summary, or raises."""
    import numpy as np
    ids = [i % V for i in CHECK_IDS]
    with tempfile.TemporaryDirectory() as td:
        # ueajc takes text: decode the ids, re-tokenize, check the round trip
        txt = subprocess.run([ueajc, "tokenize", "-m", d, "--decode"] + [str(i) for i in ids],
                             capture_output=True, text=True, check=True).stdout
        txt = txt[:-1] if txt.endswith("\n") else txt
        back = subprocess.run([ueajc, "tokenize", "-m", d, "--bos", txt], capture_output=True, text=True,
                              check=True).stdout.split()
        ids = [int(x) for x in back]
        uf = os.path.join(td, "u.npy")
        lf = os.path.join(td, "l.npy")
        pf = os.path.join(td, "p.txt")
        with open(pf, "w", encoding="utf-8") as f:
            f.write(txt)
        subprocess.run([ueajc, "run", "-m", d, "-f", pf, "-n", "1", "--temp", "0", "-t", "2", "--logits", uf],
                       capture_output=True, text=True, check=True)
        subprocess.run([sys.executable, os.path.abspath(__file__), "logits-worker", g, ",".join(map(str, ids)), lf],
                       capture_output=True, text=True, check=True)
        u = np.load(uf).astype(np.float64)
        l = np.load(lf).astype(np.float64)
    u = u.reshape(-1, u.shape[-1])
    if u.shape != l.shape:
        return f"shape mismatch: ueajc {u.shape} vs llama.cpp {l.shape} (ids {ids})"
    rel = np.abs(u - l).max() / np.abs(l).max()
    agree = float((u.argmax(1) == l.argmax(1)).mean())
    corr = min(np.corrcoef(u[i], l[i])[0, 1] for i in range(len(l)))
    return f"{len(ids)} positions: max |diff| / max |logit| = {rel:.2e}, min row correlation {corr:.5f}, argmax agree {agree:.0%}"


# ---------------------------------------------------------------------------
# bandwidth probe


PROBE = r"""
import os, time, statistics, numpy as np
n = 16384                      # 16384 x 16384 f32 = 1.07 GB
A = np.full((n, n), 0.5, dtype=np.float32); x = np.ones(n, dtype=np.float32)
A[::7, ::13] = 0.25            # written pages, not the shared zero page
y = A @ x
ts = []
for _ in range(7):
    t = time.perf_counter(); y = A @ x; ts.append(time.perf_counter() - t)
print(A.nbytes / statistics.median(ts) / 1e9)
"""

# a pure streaming read: sum of 1 GiB of floats, OpenMP, vectorised by gcc
PROBE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
int main(void)
{
    size_t n = (size_t)1 << 28;
    float *a = aligned_alloc(64, n * sizeof(float));
    if (!a) return 1;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = (float)(i & 255);
    double ts[9], sink = 0;
    for (int r = 0; r < 9; r++) {
        double t0 = now();
        float s = 0;
#pragma omp parallel for schedule(static) reduction(+ : s)
        for (size_t i = 0; i < n; i++) s += a[i];
        ts[r] = now() - t0;
        sink += s;
    }
    qsort(ts, 9, sizeof ts[0], cmp);
    printf("%f %g\n", n * sizeof(float) / ts[4] / 1e9, sink);
    free(a);
    return 0;
}
"""


def build_probe_c():
    exe = os.path.join(CACHE, "read_probe")
    src = exe + ".c"
    if not os.path.exists(exe):
        with open(src, "w") as f:
            f.write(PROBE_C)
        try:
            subprocess.run(["gcc", "-O3", "-march=native", "-ffast-math", "-fopenmp", src, "-o", exe], check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            log(f"bench: cannot build the C read probe ({e}); using the GEMV probe alone")
            return None
    return exe


def run_probe(t, exe):
    """(C streaming read GB/s or None, numpy GEMV GB/s)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t))
    c = None
    if exe:
        c = float(subprocess.run([exe], capture_output=True, text=True, env=env, check=True).stdout.split()[0])
    pr = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    return c, float(pr.stdout.split()[-1])


def cpu_snapshot():
    """(busy CPU seconds of the whole machine, CPU seconds of this process and its children, wall)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")  # user nice system irq softirq
    t = os.times()
    return busy, t.user + t.system + t.children_user + t.children_system, time.time()


# ---------------------------------------------------------------------------


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return "?"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine():
    model = sh("lscpu | sed -n 's/^Model name: *//p'")
    cores = sh("lscpu | sed -n 's/^Core(s) per socket: *//p'")
    cpus = sh("nproc")
    flags = sh("grep -m1 -o -w -E 'avx512f|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\\n' ' '")
    mem = sh("free -g | awk '/^Mem/{print $2}'")
    return f"{model}, {cpus} CPUs ({cores} cores/socket), {flags.strip()}, {mem} GiB RAM, {sh('uname -r')}"


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "llama-worker":
        return llama_worker(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "logits-worker":
        return llama_logits_worker(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ueajc", default=os.path.join(ROOT, "build", "ueajc"))
    ap.add_argument("--models", default="smollm2-135m,llama-3.2-1b")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (AB, BA, ...)")
    ap.add_argument("-r", type=int, default=1, help="repetitions inside each process (after a warm-up)")
    ap.add_argument("-t", type=int, default=2)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("--no-llama", action="store_true")
    ap.add_argument("--no-check", action="store_true", help="skip the logits cross-check")
    ap.add_argument("--write", action="store_true", help="put the section at the top of bench/RESULTS.md")
    ap.add_argument("--note", default="", help="a line for the section (e.g. what else ran)")
    a = ap.parse_args()
    ueajc = os.path.abspath(a.ueajc)
    names = [m for m in a.models.split(",") if m]
    for m in names:
        if m not in SHAPES:
            sys.exit(f"bench: unknown model shape {m} (known: {', '.join(SHAPES)})")

    have_llama = False
    llama_ver = "not available"
    if not a.no_llama:
        try:
            import llama_cpp
            have_llama = True
            llama_ver = f"llama-cpp-python {llama_cpp.__version__}"
            info = os.path.join(CACHE, "llama_cpp_build.txt")
            if os.path.exists(info):
                with open(info) as f:
                    llama_ver += ", " + f.read().strip()
        except Exception as e:  # noqa: BLE001
            log(f"bench: llama.cpp is not available ({e}); benching ueajc alone")
    t_start = datetime.datetime.now()
    la = [loadavg()]
    rows, checks, probes, gemv, notes, busy_others = [], [], [], [], [], []
    probe_exe = build_probe_c()
    cpu0 = cpu_snapshot()
    for name in names:
        g, d = ensure_weights(name, ueajc)
        if have_llama and not a.no_check:
            try:
                checks.append((name, cross_check(ueajc, g, d, SHAPES[name]["V"])))
            except subprocess.CalledProcessError as e:
                checks.append((name, f"FAILED: {' '.join(e.cmd)}: {e.stderr[-500:] if e.stderr else ''}"))
            log(f"bench: {name} cross-check: {checks[-1][1]}")
        U, Lr, P, PG = [], [], [], []
        m0 = cpu_snapshot()
        for rnd in range(a.rounds):
            order = ["u", "l"] if rnd % 2 == 0 else ["l", "u"]
            for e in order:
                if e == "l" and not have_llama:
                    continue
                pc, pg = run_probe(a.t, probe_exe)
                PG.append(pg)
                P.append(pc if pc is not None else pg)
                if e == "u":
                    U.append(run_ueajc(ueajc, d, a))
                    log(f"bench: {name} round {rnd + 1} ueajc     pp {U[-1]['pp']:8.2f} tg {U[-1]['tg']:7.2f}"
                        f"  (probe {P[-1]:.1f} GB/s, load {loadavg()})")
                elif have_llama:
                    Lr.append(run_llama(g, a))
                    log(f"bench: {name} round {rnd + 1} llama.cpp pp {Lr[-1]['pp']:8.2f} tg {Lr[-1]['tg']:7.2f}"
                        f"  (probe {P[-1]:.1f} GB/s, load {loadavg()})")
            la.append(loadavg())
        m1 = cpu_snapshot()
        busy_others.append((name, max(0.0, (m1[0] - m0[0]) - (m1[1] - m0[1])) / (m1[2] - m0[2])))
        probes += P
        gemv += PG
        pb = med(P)
        res = {}
        for eng, R in (("ueajc", U), ("llama.cpp", Lr)):
            if not R:
                continue
            pp, tg, gb = med([x["pp"] for x in R]), med([x["tg"] for x in R]), R[0]["gb"]
            res[eng] = dict(pp=pp, tg=tg, gb=gb, bw=tg * gb, pct=100 * tg * gb / pb,
                            pp_r=[x["pp"] for x in R], tg_r=[x["tg"] for x in R], rss=max(x["rss_gb"] for x in R))
        rows.append((name, res, P))
        if Lr:
            notes.append(f"llama.cpp {name}: flash_attn={Lr[0]['flash_attn']}, kv type {Lr[0]['type_k']} (1 = f16), "
                         f"load {Lr[0]['load_s']:.1f} s; {Lr[0]['system_info'].strip()}")
    t_end = datetime.datetime.now()
    cpu1 = cpu_snapshot()
    others = max(0.0, (cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1])) / (cpu1[2] - cpu0[2])

    # ---- the section
    out = []
    W = out.append
    W(f"## {t_start:%Y-%m-%d} — `ueajc bench` vs llama.cpp, synthetic bf16 LLaMA shapes (bench/bench_llama.sh)")
    W("")
    W(f"Machine: {machine()}. gcc: {sh('gcc --version | head -1')}. ueajc: `{sh(f'git -C {ROOT} rev-parse --short HEAD')}`"
      f"{' (+ local changes)' if sh(f'git -C {ROOT} status --porcelain --untracked-files=no') else ''}. "
      f"llama.cpp: {llama_ver}. NumPy {__import__('numpy').__version__} (probe).")
    W("")
    W(f"Run {t_start:%H:%M}–{t_end:%H:%M}. Load average (1/5/15 min; it counts this bench's own 2 threads) "
      f"at the start and after each round: " + "; ".join(la) + f". Other processes used {others:.2f} of the "
      f"{os.cpu_count()} CPUs on average during the run (/proc/stat busy time less this bench's; "
      + ", ".join(f"{n}: {x:.2f}" for n, x in busy_others) + " during each model's rounds). " + (a.note or ""))
    W("")
    W(f"Weights: random bf16 (|x| in [2^-8, 2^-4)), Llama 3 vocabulary, tied embeddings, no rope scaling, "
      f"written as GGUF and converted with `ueajc convert X.gguf -o DIR --dtype bf16`: the same values in both. "
      f"{a.t} threads. pp{a.p} = one {a.p}-token batch into an empty cache, tg{a.n} = {a.n} single-token "
      f"decodes; each engine process times {'1 repetition' if a.r == 1 else f'{a.r} repetitions (mean)'} after "
      f"a warm-up; the table gives the median of {a.rounds} interleaved rounds (ueajc and llama.cpp alternately, "
      f"AB/BA, a bandwidth probe before each), per-round values in brackets. Read bandwidth, probed before every engine run: a C streaming read (sum of 1 GiB of f32, "
      f"gcc -O3 -march=native, OpenMP, {a.t} threads, median of 9): {', '.join(f'{x:.1f}' for x in probes)} GB/s "
      f"(\"% of probe\" is against the median of these for the model); a numpy f32 GEMV on a 1.07 GB matrix "
      f"(OpenBLAS, {a.t} threads, median of 7): {', '.join(f'{x:.1f}' for x in gemv)} GB/s. "
      f"This machine's bandwidth drifts between states (~45 and ~65-78 GB/s) within minutes. "
      f"Peak RSS: the largest resident set of the engine's process over its rounds (wait4's ru_maxrss; "
      f"llama.cpp's process is a Python worker, so its figure includes the interpreter).")
    W("")
    W(f"| model | engine | pp{a.p} t/s | tg{a.n} t/s | weights GB | peak RSS GB | weight GB/s (tg) | % of probe | ueajc/llama.cpp pp | ueajc/llama.cpp tg |")
    W("|---|---|---|---|---|---|---|---|---|---|")
    for name, res, P in rows:
        for eng in ("ueajc", "llama.cpp"):
            if eng not in res:
                continue
            x = res[eng]
            rp = rt = ""
            if eng == "ueajc" and "llama.cpp" in res:
                rp = f"{x['pp'] / res['llama.cpp']['pp']:.2f}"
                rt = f"{x['tg'] / res['llama.cpp']['tg']:.2f}"
            W(f"| {name} | {eng} | {x['pp']:.1f} [{', '.join(f'{v:.0f}' for v in x['pp_r'])}] "
              f"| {x['tg']:.2f} [{', '.join(f'{v:.1f}' for v in x['tg_r'])}] | {x['gb']:.2f} | {x['rss']:.2f} | {x['bw']:.1f} "
              f"| {x['pct']:.0f}% of {med(P):.1f} | {rp} | {rt} |")
    W("")
    for name, res, P in rows:
        if name == "llama-3.2-1b" and "ueajc" in res:
            u = res["ueajc"]
            s = f"Targets (1B shape): tg{a.n} ≥ 80% of the probe: {u['pct']:.0f}% — {'met' if u['pct'] >= 80 else 'not met'}"
            if "llama.cpp" in res:
                r = u["pp"] / res["llama.cpp"]["pp"]
                s += f"; pp{a.p} ≥ 0.5 × llama.cpp: {r:.2f} — {'met' if r >= 0.5 else 'not met'}"
            W(s + ".")
            W("")
    for name, c in checks:
        W(f"Cross-check {name} (greedy logits of the same ids, ueajc `run --logits` vs llama.cpp): {c}.")
    if checks:
        W("")
    for nline in notes:
        W(f"- {nline}")
    if notes:
        W("")
    argv, skip = [], False
    for x in sys.argv[1:]:
        if skip or x == "--write":
            skip = False
            continue
        if x == "--note":
            skip = True
            continue
        if not x.startswith("--note="):
            argv.append(x)
    cmd = "bench/bench_llama.sh" + "".join(f" {x}" for x in argv)
    W(f"Command: `{cmd}`")
    W("")
    text = "\n".join(out)
    print(text)
    if a.write:
        rpath = os.path.join(HERE, "RESULTS.md")
        with open(rpath, encoding="utf-8") as f:
            old = f.read()
        i = old.find("\n## ")
        new = old[: i + 1] + text + "\n" + old[i + 1:] if i >= 0 else old.rstrip("\n") + "\n\n" + text
        with open(rpath, "w", encoding="utf-8") as f:
            f.write(new)
        log(f"bench: wrote the section into {rpath}")


if __name__ == "__main__":
    main()
