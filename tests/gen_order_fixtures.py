#!/usr/bin/env python3
"""Writes tests/fixtures/order/terms.txt, the reference for tests/test_order.c.

Needs opt_einsum (pip install opt_einsum; numpy is not needed: the paths are
computed from shapes only).  Run from the repository root:

    python3 tests/gen_order_fixtures.py

For every term the fixture holds, computed independently of compiler/order.c:

  exact    the minimum of opt_einsum's own opt_cost over *all* pairwise
           contraction sequences.  Every step is costed by opt_einsum's
           helpers.find_contraction + helpers.flop_count, exactly as
           opt_einsum.contract_path does for its reported opt_cost, and the
           minimum is taken by a memoised search over the set partitions of
           the operands (the state after some steps is the partition of the
           originals into current operands) - a different algorithm from the
           subset DP of order.c.  '-' for the terms too large for it.
  oe_cost  opt_cost of opt_einsum.contract_path(optimize='optimal') (the
           exhaustive pairwise search), and oe_big its largest intermediate.
           'optimal' is used for every n <= 8 (it takes < 1 s), not only for
           n <= 6.  It can exceed `exact`: opt_einsum's search decides whether
           a step sums a letter by the letters shared by both operands, while
           the reported cost also counts letters found in one operand only
           (a "lonely" letter, in no other operand nor the output); and its
           result cache is keyed by the two operands' letter sets alone.
  dp_cost  opt_cost of optimize='dp', or '-' where dp's path is not purely
           pairwise (dp first sums lonely letters in single-operand steps,
           which order.c does not model), so not comparable.
  gr_cost  opt_cost of optimize='greedy' (pairwise), for the large terms.

Line format (whitespace separated):
    term sizes n exact oe_cost oe_big dp_cost gr_cost
with term like ab,bc->ac and sizes like a=2,b=3,c=4 ('-': no letters).
"""
import functools
import os
import random
import sys

import opt_einsum as oe
from opt_einsum import helpers

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "order", "terms.txt")


def shapes_of(ins, sz):
    return [tuple(sz[c] for c in t) for t in ins]


def exact_cost(ins, out, sz):
    """Minimum contract_path opt_cost over all pairwise sequences."""
    sets = [frozenset(t) for t in ins]
    oset = frozenset(out)
    n = len(ins)

    @functools.lru_cache(maxsize=None)
    def best(state):
        # state: tuple of (group, letterset) sorted by group, group a
        # frozenset of original indices
        if len(state) == 1:
            return 0
        isets = [ls for _, ls in state]
        res = None
        for i in range(len(state)):
            for j in range(i + 1, len(state)):
                new_result, remaining, idx_removed, idx_contract = helpers.find_contraction(
                    (j, i), isets, oset)
                cost = helpers.flop_count(idx_contract, bool(idx_removed), 2, sz)
                g = state[i][0] | state[j][0]
                rest = [state[k] for k in range(len(state)) if k not in (i, j)]
                nstate = tuple(sorted(rest + [(g, new_result)], key=lambda x: sorted(x[0])))
                c = cost + best(nstate)
                if res is None or c < res:
                    res = c
        return res

    start = tuple((frozenset([i]), sets[i]) for i in range(n))
    if n == 1:
        removed = sets[0] - oset
        return helpers.flop_count(sets[0], bool(removed), 1, sz)
    return best(start)


def path_info(eq, shapes, opt):
    path, info = oe.contract_path(eq, *shapes, shapes=True, optimize=opt)
    pairwise = all(len(p) == 2 for p in path)
    return int(info.opt_cost), int(info.largest_intermediate), pairwise


def random_term(rng, n):
    alpha = "abcdefghijkl"[: rng.randint(3, 12)]
    ins = []
    for _ in range(n):
        k = rng.randint(0, 4)
        ins.append("".join(rng.choice(alpha) for _ in range(k)))
    used = sorted(set("".join(ins)))
    out = [c for c in used if rng.random() < 0.3]
    rng.shuffle(out)
    sz = {c: rng.randint(1, 9) for c in used}
    return ins, "".join(out), sz


def line(ins, out, sz, exact=True, large=False):
    eq = ",".join(ins) + "->" + out
    shapes = shapes_of(ins, sz)
    n = len(ins)
    ex = exact_cost(ins, out, sz) if exact else None
    if large:
        oc, ob = None, None
    else:
        oc, ob, _ = path_info(eq, shapes, "optimal")
    dc, _, dpw = path_info(eq, shapes, "dp")
    gc, _, gpw = path_info(eq, shapes, "greedy")
    if ex is not None and oc is not None:
        assert ex <= oc, (eq, ex, oc)
    sizes = ",".join(f"{c}={sz[c]}" for c in sorted(sz)) or "-"
    f = lambda v: "-" if v is None else str(v)
    return (f"{eq} {sizes} {n} {f(ex)} {f(oc)} {f(ob)} "
            f"{f(dc if dpw else None)} {f(gc if gpw else None)}"), ex, oc


def main():
    rng = random.Random(20240611)
    rows = []
    # the TransNormer term, realistic sizes
    tn = "bnd,dhik,bmz,zhk,bmy,yhv,nm"
    tsz = dict(b=2, n=512, m=512, d=768, z=768, y=768, h=6, i=2, k=64, v=64)
    rows.append(line(tn.split(","), "bnhiv", tsz))
    # a few hand-made ones: matrix chain, trace, outer product, Hadamard
    rows.append(line(["ab", "bc", "cd"], "ad", dict(a=2, b=3, c=4, d=5)))
    rows.append(line(["ii"], "", dict(i=7)))
    rows.append(line(["ab", "cd"], "abcd", dict(a=2, b=3, c=4, d=5)))
    rows.append(line(["ab", "ab", "ab"], "ab", dict(a=3, b=5)))
    rows.append(line(["", "a", ""], "a", dict(a=4)))
    # random terms, 2..8 operands (more of the larger ones)
    for t in range(100):
        n = 2 + t % 7
        ins, out, sz = random_term(rng, n)
        rows.append(line(ins, out, sz))
    # large terms, no exact reference: order.c searches n <= 16 exactly,
    # larger ones by greedy + subtree reconfiguration
    for n in (12, 15, 16, 17, 18, 18, 20, 20, 22, 24, 24, 28, 32):
        ins, out, sz = random_term(rng, n)
        rows.append(line(ins, out, sz, exact=False, large=True))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    nless = sum(1 for _, ex, oc in rows if ex is not None and oc is not None and ex < oc)
    with open(OUT, "w") as fh:
        fh.write("# generated by tests/gen_order_fixtures.py with opt_einsum "
                 f"{oe.__version__}; do not edit\n")
        fh.write("# term sizes n exact oe_cost oe_big dp_cost gr_cost "
                 "(see the script for the meaning)\n")
        for r, _, _ in rows:
            fh.write(r + "\n")
    print(f"wrote {len(rows)} terms to {OUT}; exact < optimal's cost in {nless}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
