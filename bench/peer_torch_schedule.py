#!/usr/bin/python3
"""PyTorch peer of bench/default-schedule.bench.ts (issue 11): time to 1 − cos(β, u*) < 1e-4 and < 1e-6.

What a PyTorch user would write after Lyu & Li (2020), in float64 and original parameters (no sphere),
for the three linear-in-x networks of the issue-11 grid, each written as its forward pass:

  deep-linear  f(x) = W_L ⋯ W_1 x,  W_k of shape [dims[k], dims[k−1]], dims = [d, width, …, width, 1];
               θ layout W_1, …, W_L, each row-major (advbias's "deep-linear").
  diagonal     f(x) = ⟨u_1 ⊙ ⋯ ⊙ u_L, x⟩, u_l ∈ R^d; θ layout u_1, …, u_L (advbias's "diagonal").
  conv         h_0 = x, h_l[k] = (1/√d) Σ_j u_l[j] h_{l−1}[(k + j) mod d] (full-width circular
               cross-correlation, l = 1..L−1), f = ⟨h_{L−1}, u_L⟩; θ layout u_1, …, u_L (advbias's
               "conv"). Each layer is h_{l−1} @ C_lᵀ with the circulant C_l[k, i] = u_l[(i − k) mod d]/√d.

All three are linear in x, f(x) = ⟨β(θ), x⟩, so the exact worst-case perturbation is recomputed from β
every step (p = ∞: δ_i = −ε y_i sign(β); p = 2: δ_i = −ε y_i β/‖β‖), with β = W_L ⋯ W_1 (deep-linear),
u_1 ⊙ ⋯ ⊙ u_L (diagonal), or the network applied to the identity (conv, β_j = f(e_j)). The exponential
loss in the log domain (log L = logsumexp(−q)), and Lyu & Li's loss-based step:

    θ ← θ − α_t ∇_θ log L(θ)          (= GD with step α_t/L(θ))
    α ×2^(1/5) after a step that did not raise the loss; otherwise roll back to the last accepted θ
    and α ÷2^(1/10).

Starts from advbias's θ₀ on advbias's data, against the same reference u* (all exported by
`default-schedule.bench.ts --export FILE`, exact-attack cases of every model), and first prints the
parametrization checks max_j |β_peer(θ₀)_j − β_advbias(θ₀)_j| / ‖β_advbias(θ₀)‖_∞ and the same for
the forward pass f_peer(θ₀; x_i) against ⟨β_advbias(θ₀), x_i⟩ on the data (both should be ~1e-15;
--check-only prints them and stops).
1 − cos is checked after every step, check time excluded (as in the TS bench).

  /usr/bin/python3 bench/peer_torch_schedule.py CASES.json [--only deep-linear,diagonal,conv]
      [--steps N] [--max-seconds S] [--alpha0 A] [--threads 1] [--json OUT] [--check-only]
"""
import argparse
import json
import math
import time

import torch

GROW = 2 ** (1 / 5)
SHRINK = 2 ** (1 / 10)
THRESHOLDS = (1e-4, 1e-6)


def build(case):
    """The case's network from θ₀: (parameter tensors, β(θ), f(X) for a batch X of rows)."""
    dt = torch.float64
    n, d, L, kind = case["n"], case["d"], case["depth"], case.get("model", "deep-linear")
    flat = torch.tensor(case["theta0"], dtype=dt)
    if kind == "deep-linear":
        width = case["width"]
        dims = [d] + [width] * (L - 1) + [1]
        Ws, off = [], 0
        for k in range(1, L + 1):
            r, c = dims[k], dims[k - 1]
            Ws.append(flat[off : off + r * c].reshape(r, c).clone().requires_grad_(True))
            off += r * c
        assert off == flat.numel()

        def beta_of(ws):
            b = ws[-1]
            for W in reversed(ws[:-1]):
                b = b @ W
            return b.reshape(-1)

        def forward(ws, h):
            for W in ws:
                h = h @ W.t()
            return h.reshape(-1)

        return Ws, beta_of, forward
    assert flat.numel() == L * d, f"{kind}: θ₀ has {flat.numel()} entries, expected L·d = {L * d}"
    us = [flat[l * d : (l + 1) * d].clone().requires_grad_(True) for l in range(L)]
    if kind == "diagonal":

        def beta_of(ws):
            b = ws[0]
            for w in ws[1:]:
                b = b * w
            return b

        def forward(ws, h):
            for w in ws:
                h = h * w
            return h.sum(1)

        return us, beta_of, forward
    if kind == "conv":
        ar = torch.arange(d)
        circ = (ar.unsqueeze(0) - ar.unsqueeze(1)) % d  # circ[k, i] = (i − k) mod d
        c = 1 / math.sqrt(d)
        eye = torch.eye(d, dtype=dt)

        def forward(ws, h):
            for w in ws[:-1]:
                h = h @ (c * w[circ]).t()
            return h @ ws[-1]

        def beta_of(ws):
            return forward(ws, eye)

        return us, beta_of, forward
    raise ValueError(f"unknown model {kind!r}")


def run(case, steps, max_seconds, alpha0, check_only=False):
    dt = torch.float64
    n, d = case["n"], case["d"]
    X = torch.tensor(case["X"], dtype=dt).reshape(n, d)
    y = torch.tensor(case["y"], dtype=dt)
    u = torch.tensor(case["reference"], dtype=dt)
    eps, p = float(case["eps"]), case["p"]
    Ws, beta_of, forward = build(case)

    with torch.no_grad():
        b0 = beta_of(Ws)
        f0 = forward(Ws, X)
    check = fcheck = None
    if "beta0" in case:
        ref = torch.tensor(case["beta0"], dtype=dt)
        check = ((b0 - ref).abs().max() / ref.abs().max()).item()
        # the forward pass against ⟨β_advbias(θ₀), x_i⟩ on the data, relative to max |f|
        fref = X @ ref
        fcheck = ((f0 - fref).abs().max() / fref.abs().max()).item()
    if check_only:
        return {"beta0_check": check, "f0_check": fcheck}

    def log_loss(ws):
        with torch.no_grad():
            b = beta_of(ws)
            s = torch.sign(b) if p == "inf" else b / torch.linalg.vector_norm(b)
            delta = -eps * y.unsqueeze(1) * s.unsqueeze(0)
        q = y * forward(ws, X + delta)
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
    return {"hits": hits, "seconds": secs, "steps": t, "elapsed": elapsed, "final": e, "rollbacks": rollbacks, "alpha": alpha, "beta0_check": check, "f0_check": fcheck}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases")
    ap.add_argument("--steps", type=int, default=10**7)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--alpha0", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", help="comma-separated models to run (default: every exported case)")
    ap.add_argument("--check-only", action="store_true", help="print the θ₀ parametrization checks, do not train")
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cases = json.load(open(a.cases))["cases"]
    if a.only:
        keep = a.only.split(",")
        cases = [c for c in cases if c.get("model", "deep-linear") in keep]
    out = []
    print(f"torch {torch.__version__}, {a.threads} thread(s), α₀ = {a.alpha0}")
    for c in cases:
        r = run(c, a.steps, a.max_seconds, a.alpha0, a.check_only)
        chk = "β(θ₀) check n/a" if r["beta0_check"] is None else f"β(θ₀) rel. diff {r['beta0_check']:.1e}, f(θ₀; X) rel. diff {r['f0_check']:.1e}"
        if a.check_only:
            print(f"{c.get('model', 'deep-linear')} L={c['depth']} n={c['n']} d={c['d']} {c['attack']}-{c['p']} ×{c['scale']}: {chk}", flush=True)
            continue
        r.update({k: c[k] for k in ("n", "d", "margin", "seed", "scale", "attack", "p", "eps", "depth")})
        r["model"] = c.get("model", "deep-linear")
        out.append(r)
        fmt = lambda h, s: f"> {r['steps']} steps" if h is None else f"{h} ({s:.2f} s)"
        print(f"{r['model']} L={c['depth']} n={c['n']} d={c['d']} margin={c['margin']} {c['attack']}-{c['p']} ×{c['scale']}: 1e-4 at {fmt(r['hits'][0], r['seconds'][0])}, 1e-6 at {fmt(r['hits'][1], r['seconds'][1])}; 1−cos {r['final']:.2e} after {r['steps']} steps, {r['elapsed']:.1f} s; {r['rollbacks']} rollbacks; {chk}", flush=True)
    if a.json:
        json.dump(out, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
