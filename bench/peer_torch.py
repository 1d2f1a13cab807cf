#!/usr/bin/python3
"""PyTorch peer of bench/train-step.bench.ts: the same training step, timed the same way.

The algorithm is advbias's (src/train/trainer.ts, docs/THEORY.md §3 and §7), written the way one would write
it in PyTorch: batched over the n examples, autograd for every derivative.

  per step t (full batch, stop-gradient adversarial step):
    δ   = attack(θ̂) with θ̂ detached
          exact ℓ∞ (linear-in-x): δ_i = −ε y_i sign(β),  β = (W_L ⋯ W_1)ᵀ
          FGSM:   δ_i = ε sign(−∇_x m_i)                               (m_i = y_i f(θ̂; x))
          PGD-K:  δ ← clip_{[−ε, ε]}(δ + α sign(−∇_x m_i(x_i + δ))), K times from δ = 0
    q̂   = y ⊙ f(θ̂; X + δ)                               unit-scale margins
    S   = exp(L log ρ);  log L = logsumexp(−S q̂);  w = softmax(−S q̂)  (held fixed)
    G   = ∇_θ̂ Σ_i w_i q̂_i                               one backward pass
    θ̂  ← θ̂ + η_t G,  η_t = η₀/√(t+1)                    loss-scaled schedule, sphere form
    r   = ‖θ̂‖₂;  θ̂ ← θ̂/r;  log ρ ← log ρ + log r

θ̂ is one flat tensor (advbias's row-major layout W1, W2, …) so that the norm, the update and the
gradient are single ops; the layers are views into it. Non-finite log L or r stops the run, as in advbias.

Run with Debian's interpreter (python3-torch lives there, not in a pyenv Python):
  /usr/bin/python3 bench/peer_torch.py --cases CASES.json [--threads 1] [--dtypes float64,float32] [--label L] [--json OUT]
  /usr/bin/python3 bench/peer_torch.py --combine ADVBIAS.json PEER.json …   (one side-by-side table)
  /usr/bin/python3 bench/peer_torch.py --check CASES.json      (same algorithm? compares with advbias)
CASES.json comes from `node --import tsx bench/train-step.bench.ts --peer-check CASES.json` and holds
the data sets and advbias's starting point, so that both run the same problem. bench/run-all.sh does it all.
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import torch

LR = 0.1  # η₀, advbias's default for loss-scaled
TARGET_SECONDS = 0.6  # wall time aimed at per timed run (matches the TS bench)
WARMUP_SECONDS = 0.4
REPEATS = 5
MIN_STEPS = 20
CASE_IDS = ("a", "b", "c", "d", "e")


class Problem:
    """One configuration: data, model structure, attack; tensors in one dtype."""

    def __init__(self, case, dtype):
        self.dtype = dtype
        spec = case["model"]
        self.kind = spec["kind"]
        self.depth = spec["depth"]
        self.relu = self.kind == "relu-mlp"
        self.leak = float(spec.get("leak", 0.0))
        n, d = case["n"], case["d"]
        self.X = torch.tensor(case["X"], dtype=dtype).reshape(n, d)
        self.y = torch.tensor(case["y"], dtype=dtype)
        self.blocks = [(b["offset"], b["shape"][0], b["shape"][1]) for b in case["layout"]]
        a = case["attack"]
        self.attack = a["kind"]
        self.eps = float(a["eps"])
        self.attack_steps = int(a["steps"])
        self.alpha = float(a["stepSize"])
        if a["p"] not in ("inf", float("inf")):
            raise ValueError(f"only ℓ∞ attacks are implemented here, got p = {a['p']}")
        self.theta0 = torch.tensor(case["thetaUnit0"], dtype=dtype)
        self.log_rho0 = float(case["logNorm0"])

    def layers(self, theta):
        return [theta[o : o + r * c].view(r, c) for (o, r, c) in self.blocks]

    def f(self, theta, X):
        """f(θ; x) for every row of X (n,) — W_L σ(⋯ σ(W_1 x)), σ = identity for deep-linear."""
        Ws = self.layers(theta)
        h = X
        for k, W in enumerate(Ws):
            h = h @ W.t()
            if self.relu and k < len(Ws) - 1:
                h = torch.nn.functional.leaky_relu(h, self.leak) if self.leak > 0 else torch.relu(h)
        return h.squeeze(1)

    def input_grad(self, theta_d, x):
        """∇_x m_i for every row (m_i = y_i f(θ; x_i)); θ is held fixed (stop-gradient)."""
        x = x.detach().requires_grad_(True)
        m = (self.y * self.f(theta_d, x)).sum()
        (g,) = torch.autograd.grad(m, x)
        return g

    def perturb(self, theta):
        theta_d = theta.detach()
        if self.attack == "exact":
            with torch.no_grad():
                Ws = self.layers(theta_d)
                beta = Ws[-1]
                for W in reversed(Ws[:-1]):
                    beta = beta @ W
                # δ_i = −ε y_i sign(β)
                return (-self.eps) * self.y.unsqueeze(1) * torch.sign(beta)
        if self.attack == "fgsm":
            g = self.input_grad(theta_d, self.X)
            return self.eps * torch.sign(-g)
        if self.attack == "pgd":
            delta = torch.zeros_like(self.X)
            for _ in range(self.attack_steps):
                g = self.input_grad(theta_d, self.X + delta)
                delta = torch.clamp(delta + self.alpha * torch.sign(-g), -self.eps, self.eps)
            return delta
        raise ValueError(f"attack {self.attack} not implemented in the peer")

    def run(self, steps):
        """`steps` training steps from advbias's starting point; returns (θ̂, log ρ)."""
        theta = self.theta0.clone().requires_grad_(True)
        log_rho = self.log_rho0
        L = self.depth
        for t in range(steps):
            delta = self.perturb(theta)
            q = self.y * self.f(theta, self.X + delta)
            S = math.exp(L * log_rho)
            z = -S * q
            log_loss = torch.logsumexp(z.detach(), 0).item()
            if not math.isfinite(log_loss):
                raise FloatingPointError(f"non-finite loss at step {t}")
            w = torch.softmax(z.detach(), 0)
            (G,) = torch.autograd.grad((w * q).sum(), theta)
            with torch.no_grad():
                theta.add_(G, alpha=LR / math.sqrt(t + 1))
                r = torch.linalg.vector_norm(theta).item()
                if not (math.isfinite(r) and r > 0):
                    raise FloatingPointError(f"parameter norm {r} at step {t + 1}")
                theta.div_(r)
            log_rho += math.log(r)
        return theta.detach(), log_rho


def timed(problem, steps):
    start = time.perf_counter()
    problem.run(steps)
    return time.perf_counter() - start


def bench(problem, repeats, seconds):
    T = MIN_STEPS
    while True:  # warm-up and calibration, as in the TS bench
        s = timed(problem, T)
        per = s / T
        if s >= WARMUP_SECONDS:
            break
        T = max(2 * T, math.ceil(WARMUP_SECONDS / max(per, 1e-9)))
    T = max(MIN_STEPS, round(seconds / per))
    us = [timed(problem, T) / T * 1e6 for _ in range(repeats)]
    med = statistics.median(us)
    return {"stepsPerRun": T, "repeats": repeats, "usPerStepMedian": med, "usPerStepMin": min(us), "usPerStepMax": max(us), "stepsPerSecond": 1e6 / med}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loaded_blas():
    """Path of the BLAS library this process has actually mapped (after one matmul)."""
    torch.ones(2, 2, dtype=torch.float64) @ torch.ones(2, 2, dtype=torch.float64)
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    paths = sorted(os.path.realpath(q) for q in paths)
    return ", ".join(dict.fromkeys(paths)) or "none mapped"


def fmt(x):
    return f"{round(x):,}" if x >= 1000 else f"{x:.3g}"


def check(cases_file):
    """Float64 peer vs advbias after the same number of steps from the same start."""
    spec = json.load(open(cases_file))
    steps = spec["steps"]
    worst = 0.0
    for cid, case in spec["cases"].items():
        p = Problem(case, torch.float64)
        theta, log_rho = p.run(steps)
        ref = torch.tensor(case["thetaUnit"], dtype=torch.float64)
        dtheta = (theta - ref).abs().max().item()
        dlog = abs(log_rho - case["logNorm"])
        worst = max(worst, dtheta, dlog)
        print(f"case {cid}: after {steps} steps max|θ̂_torch − θ̂_advbias| = {dtheta:.2e}, |Δ log ρ| = {dlog:.2e}")
    ok = worst < 1e-9
    print("peer check:", "same algorithm (float64 agreement < 1e-9)" if ok else f"MISMATCH (worst {worst:.2e})")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", help="CASES.json from train-step.bench.ts --peer-check")
    ap.add_argument("--check", metavar="CASES_JSON", help="compare the float64 peer with advbias and exit")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1: advbias is single-threaded)")
    ap.add_argument("--repeats", type=int, default=REPEATS)
    ap.add_argument("--seconds", type=float, default=TARGET_SECONDS)
    ap.add_argument("--only", default=",".join(CASE_IDS), help="comma-separated case ids")
    ap.add_argument("--dtypes", default="float64,float32", help="comma-separated: float64, float32")
    ap.add_argument("--label", default="", help="name of this peer variant in tables (e.g. the BLAS)")
    ap.add_argument("--json", help="write results here")
    ap.add_argument("--combine", nargs="+", metavar="JSON", help="print one side-by-side table from advbias and peer result files and exit")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    if args.check:
        return check(args.check)
    if args.combine:
        return combine(args.combine)
    if not args.cases:
        ap.error("--cases CASES.json is required (make it with train-step.bench.ts --peer-check)")
    spec = json.load(open(args.cases))
    only = [c for c in args.only.split(",") if c in spec["cases"]]
    machine = {
        "cpu": cpu_model(),
        "logicalCpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blasLoaded": loaded_blas(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "label": args.label,
    }
    print(f"## PyTorch peer{' (' + args.label + ')' if args.label else ''} — {machine['cpu']} ({machine['logicalCpus']} logical CPUs), Python {machine['python']}, torch {machine['torch']}, {machine['threads']} thread(s)")
    print(f"BLAS mapped: {machine['blasLoaded']}; OPENBLAS_CORETYPE={machine['OPENBLAS_CORETYPE']}\n")
    results = []
    dtypes = {"float64": torch.float64, "float32": torch.float32}
    for name in args.dtypes.split(","):
        dtype = dtypes[name]
        for cid in only:
            r = bench(Problem(spec["cases"][cid], dtype), args.repeats, args.seconds)
            r.update({"id": cid, "dtype": name})
            results.append(r)
    print("| case | dtype | steps × repeats | µs/step (median) | min–max | steps/s |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['id']} | {r['dtype']} | {r['stepsPerRun']} × {r['repeats']} | {fmt(r['usPerStepMedian'])} | {fmt(r['usPerStepMin'])}–{fmt(r['usPerStepMax'])} | {fmt(r['stepsPerSecond'])} |")
    print("\nsame algorithm and starting point as advbias; time of whole steps (the peer records nothing).")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"tool": "pytorch-peer", "machine": machine, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": results}, fh, indent=2)
            fh.write("\n")
        print(f"wrote {args.json}")
    return 0


def combine(files):
    """One table from advbias and peer result files, possibly several rounds of each.

    Cells are the median over rounds of each run's median µs/step, with the range over rounds when
    there is more than one; ratios are PyTorch time / advbias time, both medians over rounds.
    """
    runs = [json.load(open(f)) for f in files]
    cols = {}  # column name -> case id -> [µs/step per round]
    for run in runs:
        label = run["machine"].get("label") or ""
        for r in run["results"]:
            name = "advbias float64" if run["tool"] == "advbias" else f"torch {r['dtype']} {label}".strip()
            cols.setdefault(name, {}).setdefault(r["id"], []).append(r["usPerStepMedian"])
    if "advbias float64" not in cols:
        raise SystemExit("--combine needs at least one advbias result file")
    base = {cid: statistics.median(v) for cid, v in cols["advbias float64"].items()}
    rounds = max(len(v) for c in cols.values() for v in c.values())
    names = list(cols)
    print("| case | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for cid in sorted(base):
        cells = []
        for name in names:
            v = cols[name].get(cid)
            if not v:
                cells.append("–")
                continue
            med = statistics.median(v)
            cell = fmt(med) + (f" [{fmt(min(v))}–{fmt(max(v))}]" if len(v) > 1 else "")
            if name != "advbias float64":
                cell += f" ({med / base[cid]:.2f}×)"
            cells.append(cell)
        print(f"| {cid} | " + " | ".join(cells) + " |")
    print(f"\nµs per training step: median over {rounds} round(s) [range over rounds]; (r×) = PyTorch time / advbias time, above 1 advbias is faster.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
