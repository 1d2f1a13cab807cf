#!/usr/bin/python3
"""Whole-process peers of `advbias train` at paper scale (issue 12): PyTorch and hand-written numpy.

Workload: deep linear net f(x) = W3 W2 W1 x (L = 3, width 50) on synthetic:n=100,d=20,margin=0.1,seed=0,
exponential loss, full batch, PGD-10 ℓ∞ adversarial training, advbias's `loss-scaled` schedule in the
sphere form, 3000 steps. bench/paper-scale.sh times this script as a whole process (interpreter start,
imports, reading the inputs, training, writing one JSON line) against `node bin/advbias.mjs train`.

The algorithm is advbias's (src/train/step.ts, src/train/schedule.ts, bench/peer_torch.py case b):

  per step t (full batch, stop-gradient adversarial step):
    δ   = PGD-K ℓ∞ at θ̂ (held fixed), from δ = 0:
          δ ← clip_{[−ε, ε]}(δ + α sign(−∇_x m_i(x_i + δ))),  m_i = y_i f(θ̂; x),  K times
    q̂   = y ⊙ f(θ̂; X + δ)                               unit-scale margins
    S   = exp(L log ρ);  w = softmax(−S q̂)               (held fixed)
    G   = Σ_i w_i ∇_θ̂ q̂_i
    θ̂  ← θ̂ + η_t G,  η_t = η₀/√(t+1)
    r   = ‖θ̂‖₂;  θ̂ ← θ̂/r;  log ρ ← log ρ + log r

θ̂ is one flat float64 vector in advbias's row-major layout (W1: width×d, W2: width×width, W3: 1×width,
concatenated); the layers are views into it.

  --backend torch   the way one writes it in PyTorch: batched over the n examples, autograd for every
                    derivative (the input gradient of each PGD iteration and the parameter gradient).
  --backend numpy   no autograd: the derivatives written out by hand for the deep linear net.
                    Input gradient: ∇_x m_i = y_i β with β = (W_L ⋯ W_1)ᵀ, the same for every x, so it is
                    formed once per step and the K PGD iterations only add and clip (per row, as
                    written; np.minimum/np.maximum rather than np.clip, the same values, less overhead).
                    Parameter gradient: ordinary backprop through the layers with c = w ⊙ y:
                    ∂/∂W_k = gₖᵀ h_{k−1}, g_L = c, g_{k−1} = g_k W_k (h_0 = X + δ, h_k = h_{k−1} W_kᵀ).

Inputs (written by bench/paper-scale.sh before any timing): --data DATA.json {"X": n·d row-major, "y": ±1},
--init RESULT.json (an advbias `train --steps 0` result: params.thetaUnit, params.logNorm, params.layout),
optionally --reference RESULT.json (advbias after the same steps) to report max |θ̂_peer − θ̂_advbias|.

Run with Debian's interpreter, one thread:
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peer_paper_scale.py --backend numpy \
      --data DATA.json --init INIT.json [--reference REF.json] [--steps 3000] [--eps 0.04] [--alpha 0.01] …
Prints one JSON line: backend, steps, final_log_rho, max_abs_diff_vs_advbias (with --reference),
abs_diff_log_rho_vs_advbias (with --reference), seconds_in_steps, blas (the BLAS libraries mapped).
"""
import argparse
import json
import math
import os
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=("torch", "numpy"), required=True)
    ap.add_argument("--data", required=True, help='JSON {"n", "d", "X": n·d row-major, "y": ±1}')
    ap.add_argument("--init", required=True, help="advbias result.json of a --steps 0 run (θ₀)")
    ap.add_argument("--reference", help="advbias result.json after --steps steps, to compare with")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--eps", type=float, default=0.04)
    ap.add_argument("--alpha", type=float, default=0.01, help="PGD step size")
    ap.add_argument("--attack-steps", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.1, help="η₀ of η_t = η₀/√(t+1)")
    return ap.parse_args()


def check_same_problem(args, init):
    """The settings passed here must be those of the advbias run that produced θ₀."""
    cfg = init["config"]
    want = {
        "model": "deep-linear", "attack": "pgd", "p": "inf", "loss": "exp", "schedule": "loss-scaled",
        "lrDecay": "sqrt", "stepForm": "sphere", "batchSize": 0, "randomStart": False, "clip": None,
        "eps": args.eps, "attackStepSize": args.alpha, "attackSteps": args.attack_steps, "lr": args.lr,
    }
    bad = [f"{k}: advbias {cfg.get(k)!r}, here {v!r}" for k, v in want.items() if cfg.get(k) != v]
    if bad:
        sys.exit("peer_paper_scale: not the problem advbias ran: " + "; ".join(bad))


def loaded_blas():
    """Real paths of the BLAS libraries this process has mapped (call after a first matmul)."""
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted({os.path.realpath(p) for p in paths})) or "none mapped"


# ---------------------------------------------------------------------------------------------------
# PyTorch: autograd for every derivative.

def run_torch(args, X_list, y_list, n, d, blocks, theta0, log_rho0, depth):
    import torch

    torch.set_num_threads(1)
    dt = torch.float64
    X = torch.tensor(X_list, dtype=dt).reshape(n, d)
    y = torch.tensor(y_list, dtype=dt)
    eps, alpha, K, lr = args.eps, args.alpha, args.attack_steps, args.lr

    def f(theta, Xin):
        h = Xin
        for (o, r, c) in blocks:
            h = h @ theta[o : o + r * c].view(r, c).t()
        return h.squeeze(1)

    def input_grad(theta_d, x):
        x = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad((y * f(theta_d, x)).sum(), x)
        return g

    def pgd(theta):
        theta_d = theta.detach()
        delta = torch.zeros_like(X)
        for _ in range(K):
            g = input_grad(theta_d, X + delta)
            delta = torch.clamp(delta + alpha * torch.sign(-g), -eps, eps)
        return delta

    theta = torch.tensor(theta0, dtype=dt).requires_grad_(True)
    log_rho = log_rho0
    start = time.perf_counter()
    for t in range(args.steps):
        delta = pgd(theta)
        q = y * f(theta, X + delta)
        z = (-math.exp(depth * log_rho)) * q.detach()
        if not math.isfinite(torch.logsumexp(z, 0).item()):
            raise FloatingPointError(f"non-finite loss at step {t}")
        w = torch.softmax(z, 0)
        (G,) = torch.autograd.grad((w * q).sum(), theta)
        with torch.no_grad():
            theta.add_(G, alpha=lr / math.sqrt(t + 1))
            r = torch.linalg.vector_norm(theta).item()
            if not (math.isfinite(r) and r > 0):
                raise FloatingPointError(f"parameter norm {r} at step {t + 1}")
            theta.div_(r)
        log_rho += math.log(r)
    seconds = time.perf_counter() - start
    return theta.detach().tolist(), log_rho, seconds, loaded_blas()


# ---------------------------------------------------------------------------------------------------
# numpy: derivatives by hand.

def run_numpy(args, X_list, y_list, n, d, blocks, theta0, log_rho0, depth):
    import numpy as np

    X = np.array(X_list, dtype=np.float64).reshape(n, d)
    y = np.array(y_list, dtype=np.float64)
    eps, alpha, K, lr = args.eps, args.alpha, args.attack_steps, args.lr
    theta = np.array(theta0, dtype=np.float64)
    Ws = [theta[o : o + r * c].reshape(r, c) for (o, r, c) in blocks]  # views into theta
    grad = np.zeros_like(theta)
    Gs = [grad[o : o + r * c].reshape(r, c) for (o, r, c) in blocks]  # views into grad
    log_rho = log_rho0

    start = time.perf_counter()
    for t in range(args.steps):
        # PGD: ∇_x m_i = y_i β, β = (W_L ⋯ W_1)ᵀ, whatever x is.
        beta = Ws[-1]
        for W in reversed(Ws[:-1]):
            beta = beta @ W
        step = alpha * np.sign(-(y[:, None] * beta))  # α sign(−∇_x m_i), one row per example
        delta = np.zeros_like(X)
        for _ in range(K):
            # clip to [−ε, ε]; np.minimum/np.maximum give np.clip's values at ~2.5× less overhead per
            # call in numpy 1.24 (np.clip's Python wrapper costs ~10 µs, more than the 2000 entries)
            delta = np.minimum(np.maximum(delta + step, -eps), eps)
        # Forward pass on X + δ, keeping the activations h_0 … h_{L−1}.
        hs = [X + delta]
        for W in Ws:
            hs.append(hs[-1] @ W.T)
        q = y * hs[-1][:, 0]
        # Exponential loss weights: softmax of −S q̂, formed from q̂ − min q̂ (as advbias).
        S = math.exp(depth * log_rho)
        qmin = q.min()
        a = np.exp(-S * (q - qmin))
        total = a.sum()
        if not math.isfinite(-S * qmin + math.log(total)):
            raise FloatingPointError(f"non-finite loss at step {t}")
        w = a / total
        # Backprop of Σ_i w_i q̂_i: g_L = w ⊙ y (n×1); ∂/∂W_k = g_kᵀ h_{k−1}; g_{k−1} = g_k W_k.
        g = (w * y)[:, None]
        for k in range(depth - 1, -1, -1):
            np.matmul(g.T, hs[k], out=Gs[k])
            if k > 0:
                g = g @ Ws[k]
        # Sphere update.
        theta += (lr / math.sqrt(t + 1)) * grad
        r = math.sqrt(theta @ theta)
        if not (math.isfinite(r) and r > 0):
            raise FloatingPointError(f"parameter norm {r} at step {t + 1}")
        theta /= r
        log_rho += math.log(r)
    seconds = time.perf_counter() - start
    return theta.tolist(), log_rho, seconds, loaded_blas()


def main():
    args = parse_args()
    with open(args.data) as fh:
        data = json.load(fh)
    with open(args.init) as fh:
        init = json.load(fh)
    check_same_problem(args, init)
    n, d = data["n"], data["d"]
    params = init["params"]
    blocks = [(b["offset"], b["shape"][0], b["shape"][1]) for b in params["layout"]]
    depth = params["model"]["order"]
    run = run_torch if args.backend == "torch" else run_numpy
    theta, log_rho, seconds, blas = run(args, data["X"], data["y"], n, d, blocks, params["thetaUnit"], params["logNorm"], depth)

    out = {"backend": args.backend, "steps": args.steps, "final_log_rho": log_rho}
    if args.reference:
        with open(args.reference) as fh:
            ref = json.load(fh)
        if ref["run"]["stepsDone"] != args.steps:
            sys.exit(f"peer_paper_scale: the reference ran {ref['run']['stepsDone']} steps, not {args.steps}")
        ref_theta = ref["params"]["thetaUnit"]
        out["max_abs_diff_vs_advbias"] = max(abs(a - b) for a, b in zip(theta, ref_theta))
        out["abs_diff_log_rho_vs_advbias"] = abs(log_rho - ref["params"]["logNorm"])
    out["seconds_in_steps"] = seconds
    out["blas"] = blas
    print(json.dumps(out))


if __name__ == "__main__":
    main()
