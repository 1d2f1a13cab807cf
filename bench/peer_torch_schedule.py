#!/usr/bin/python3
"""PyTorch peer of bench/default-schedule.bench.ts (issue 11): time to 1 − cos(β, u*) < 1e-6.

What a PyTorch user would write after Lyu & Li (2020): deep linear network f(θ; x) = W_L ⋯ W_1 x in
float64, original parameters (no sphere), the exact worst-case perturbation of a linear predictor
recomputed every step (p = ∞: δ_i = −ε y_i sign(β); p = 2: δ_i = −ε y_i β/‖β‖), the exponential loss in
the log domain (log L = logsumexp(−q)), and Lyu & Li's loss-based step:

    θ ← θ − α_t ∇_θ log L(θ)          (= GD with step α_t/L(θ))
    α ×2^(1/5) after a step that did not raise the loss; otherwise roll back to the last accepted θ
    and α ÷2^(1/10).

Starts from advbias's θ₀ on advbias's data (exported by `default-schedule.bench.ts --export FILE`) and
checks 1 − cos against the same reference u* after every step (check time excluded, as in the TS bench).

  /usr/bin/python3 bench/peer_torch_schedule.py CASES.json [--steps N] [--max-seconds S] [--alpha0 A] [--threads 1]
"""
import argparse
import json
import math
import time

import torch

GROW = 2 ** (1 / 5)
SHRINK = 2 ** (1 / 10)
THRESHOLDS = (1e-4, 1e-6)


def run(case, steps, max_seconds, alpha0):
    dt = torch.float64
    n, d, L, width = case["n"], case["d"], case["depth"], case["width"]
    X = torch.tensor(case["X"], dtype=dt).reshape(n, d)
    y = torch.tensor(case["y"], dtype=dt)
    u = torch.tensor(case["reference"], dtype=dt)
    eps, p = float(case["eps"]), case["p"]
    dims = [d] + [width] * (L - 1) + [1]
    flat = torch.tensor(case["theta0"], dtype=dt)
    Ws, off = [], 0
    for k in range(1, L + 1):
        r, c = dims[k], dims[k - 1]
        Ws.append(flat[off : off + r * c].reshape(r, c).clone().requires_grad_(True))
        off += r * c

    def beta_of(ws):
        b = ws[-1]
        for W in reversed(ws[:-1]):
            b = b @ W
        return b.reshape(-1)

    def log_loss(ws):
        with torch.no_grad():
            b = beta_of(ws)
            s = torch.sign(b) if p == "inf" else b / torch.linalg.vector_norm(b)
            delta = -eps * y.unsqueeze(1) * s.unsqueeze(0)
        h = X + delta
        for W in ws:
            h = h @ W.t()
        q = y * h.reshape(-1)
        return torch.logsumexp(-q, 0)

    alpha = alpha0
    best = [W.detach().clone() for W in Ws]
    best_log, best_grad = math.inf, None
    hits = [None] * len(THRESHOLDS)
    secs = [None] * len(THRESHOLDS)
    rollbacks = 0
    elapsed = 0.0
    t = 0
    e = math.nan
    while t < steps and elapsed < max_seconds and hits[-1] is None:
        t0 = time.perf_counter()
        ll = log_loss(Ws)
        llv = ll.item()
        if t > 0 and not (llv <= best_log):
            rollbacks += 1
            alpha /= SHRINK
            grads = best_grad
            with torch.no_grad():
                for W, B in zip(Ws, best):
                    W.copy_(B)
        else:
            if t > 0:
                alpha *= GROW
            grads = torch.autograd.grad(ll, Ws)
            best_log, best_grad = llv, grads
            with torch.no_grad():
                for W, B in zip(Ws, best):
                    B.copy_(W)
        with torch.no_grad():
            for W, g in zip(Ws, grads):
                W.sub_(alpha * g)
        t += 1
        elapsed += time.perf_counter() - t0
        with torch.no_grad():
            b = beta_of(Ws)
            e = 1 - (b @ u).item() / torch.linalg.vector_norm(b).item()
        for k, th in enumerate(THRESHOLDS):
            if hits[k] is None and e < th:
                hits[k], secs[k] = t, elapsed
    return {"hits": hits, "seconds": secs, "steps": t, "elapsed": elapsed, "final": e, "rollbacks": rollbacks, "alpha": alpha}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases")
    ap.add_argument("--steps", type=int, default=10**7)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--alpha0", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cases = json.load(open(a.cases))["cases"]
    out = []
    print(f"torch {torch.__version__}, {a.threads} thread(s), α₀ = {a.alpha0}")
    for c in cases:
        r = run(c, a.steps, a.max_seconds, a.alpha0)
        r.update({k: c[k] for k in ("n", "d", "margin", "seed", "scale", "attack", "p", "eps")})
        out.append(r)
        fmt = lambda h, s: f"> {r['steps']} steps" if h is None else f"{h} ({s:.2f} s)"
        print(f"n={c['n']} d={c['d']} margin={c['margin']} {c['attack']}-{c['p']} ×{c['scale']}: 1e-4 at {fmt(r['hits'][0], r['seconds'][0])}, 1e-6 at {fmt(r['hits'][1], r['seconds'][1])}; 1−cos {r['final']:.2e} after {r['steps']} steps, {r['elapsed']:.1f} s; {r['rollbacks']} rollbacks")
    if a.json:
        json.dump(out, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
