#!/usr/bin/env bash
# Issue 12, paper scale per WHOLE PROCESS: wall-clock seconds from start to exit (interpreter start-up,
# imports, data, training, writing the result) of the same 3000-step training run in
#   advbias  node bin/advbias.mjs train --data synthetic:n=100,d=20,margin=0.1,seed=0 --model deep-linear
#            --depth 3 --width 50 --attack pgd --p inf --eps 0.04 --attack-steps 10 --attack-step-size 0.01
#            --schedule loss-scaled --lr 0.1 --steps 3000 --out DIR --no-store   (as-is: it picks its kernels)
#   torch    /usr/bin/python3 bench/peer_paper_scale.py --backend torch   (PyTorch, autograd, float64)
#   numpy    /usr/bin/python3 bench/peer_paper_scale.py --backend numpy   (numpy, gradients by hand, float64)
# Target: torch/advbias ≥ 5 and numpy/advbias ≥ 3.
#
#   bench/paper-scale.sh [OUT_DIR]     inputs, results and logs go to OUT_DIR (default: a temp dir)
#
# Untimed preparation: the data set as JSON (X, y, through the TypeScript sources), advbias's starting
# point θ₀ (`train … --steps 0`) and its θ̂ after STEPS steps (the reference). Then ROUNDS rounds of the
# three processes, interleaved and in a rotating order, each timed with $EPOCHREALTIME around the
# command alone. The peers read θ₀ and the reference and print max |θ̂_peer − θ̂_advbias| (reading the
# reference costs them ~3 ms), so every timed peer run is also checked against advbias (float64: ~1e-15).
# Prints a Markdown table: median [min–max] wall seconds per process, ratios of the medians to advbias,
# the seconds the peers spent in their step loops, the agreement, /proc/loadavg at start and end, the
# BLAS each Python peer mapped and the `kernels` advbias reports.
#
# Environment:
#   ROUNDS   rounds (default 3)
#   STEPS    training steps (default 3000)
#   PYTHON   interpreter with python3-torch and python3-numpy (default /usr/bin/python3, Debian's)
#   PEERS    the peers to run, comma-separated (default torch,numpy); e.g. PEERS=numpy STEPS=30000
#            for the longer runs of docs/BENCHMARKS.md (PyTorch takes ~110 s per 30000-step run)
# Every process runs with OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1. bin/advbias.mjs runs the compiled
# dist/ when it is up to date with src/, else the sources through tsx (~2 s more start-up): the table
# says which one was timed.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-$(mktemp -d -t advbias-paper-scale.XXXXXX)}"
mkdir -p "$out"
rounds="${ROUNDS:-3}"
steps="${STEPS:-3000}"
python="${PYTHON:-/usr/bin/python3}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

data_spec='synthetic:n=100,d=20,margin=0.1,seed=0'
eps=0.04
alpha=0.01
attack_steps=10
lr=0.1
train_args=(train --data "$data_spec" --model deep-linear --depth 3 --width 50 --attack pgd --p inf
  --eps "$eps" --attack-steps "$attack_steps" --attack-step-size "$alpha" --schedule loss-scaled --lr "$lr" --no-store)
peer_args=(--data "$out/data.json" --init "$out/init/result.json" --reference "$out/reference/result.json"
  --steps "$steps" --eps "$eps" --alpha "$alpha" --attack-steps "$attack_steps" --lr "$lr")

load_start="$(cat /proc/loadavg)"

# Which entry bin/advbias.mjs takes (its own rule: dist/ when the build stamp is not older than src/).
if [[ "${ADVBIAS_FROM_SOURCE:-}" != 1 && -e dist/.build-stamp && -z "$(find src -newer dist/.build-stamp -print -quit)" ]]; then
  entry='compiled dist/'
else
  entry='src/ through tsx (dist/ missing or older than src/)'
fi

echo "preparing in $out (untimed) …" >&2
node --import tsx --input-type=module -e "
import { writeFileSync } from 'node:fs';
import { loadData } from './src/node/load-data.ts';
const d = loadData('$data_spec');
writeFileSync('$out/data.json', JSON.stringify({ name: d.name, n: d.n, d: d.d, X: Array.from(d.X), y: Array.from(d.y) }));
"
node bin/advbias.mjs "${train_args[@]}" --steps 0 --out "$out/init" >/dev/null
node bin/advbias.mjs "${train_args[@]}" --steps "$steps" --out "$out/reference" >/dev/null

# run NAME ROUND: one timed whole process; its wall seconds go to $out/times.tsv.
run() {
  local name="$1" r="$2" t0 t1
  case "$name" in
    advbias)
      t0=$EPOCHREALTIME
      node bin/advbias.mjs "${train_args[@]}" --steps "$steps" --out "$out/advbias-$r" >"$out/advbias-$r.log"
      t1=$EPOCHREALTIME
      ;;
    torch | numpy)
      t0=$EPOCHREALTIME
      "$python" bench/peer_paper_scale.py --backend "$name" "${peer_args[@]}" >"$out/$name-$r.json"
      t1=$EPOCHREALTIME
      ;;
  esac
  printf '%s\t%s\t%s\n' "$name" "$r" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" >>"$out/times.tsv"
  echo "round $r $name $(tail -n 1 "$out/times.tsv" | cut -f 3) s" >&2
}

: >"$out/times.tsv"
IFS=, read -r -a peer_names <<<"${PEERS:-torch,numpy}"
for p in "${peer_names[@]}"; do
  [[ $p == torch || $p == numpy ]] || { echo "PEERS: unknown peer '$p' (torch, numpy)" >&2; exit 2; }
done
names=(advbias "${peer_names[@]}")
for ((r = 1; r <= rounds; r++)); do
  for ((k = 0; k < ${#names[@]}; k++)); do
    run "${names[$(((r - 1 + k) % ${#names[@]}))]}" "$r"
  done
done

load_end="$(cat /proc/loadavg)"

"$python" - "$out" "$rounds" "$steps" "$entry" "$load_start" "$load_end" <<'EOF'
import json, statistics, sys

out, rounds, steps, entry, load_start, load_end = sys.argv[1:]
times = {}
for line in open(f"{out}/times.tsv"):
    name, _, s = line.split("\t")
    times.setdefault(name, []).append(float(s))
peers = {b: [json.loads(open(f"{out}/{b}-{r}.json").read().strip().splitlines()[-1]) for r in range(1, int(rounds) + 1)] for b in ("torch", "numpy") if b in times}
adv = json.load(open(f"{out}/advbias-1/result.json"))
ref = json.load(open(f"{out}/reference/result.json"))
same = max(abs(a - b) for a, b in zip(adv["params"]["thetaUnit"], ref["params"]["thetaUnit"]))

def spread(xs):
    return f"{statistics.median(xs):.2f} [{min(xs):.2f}–{max(xs):.2f}]"

base = statistics.median(times["advbias"])
print(f"Paper scale, whole processes: deep-linear L = 3 width 50, PGD-10 ℓ∞ ε = 0.04, {steps} steps, "
      f"{rounds} round(s), OMP/OPENBLAS_NUM_THREADS=1\n")
print("| process | wall s, median [min–max] | ÷ advbias (medians) | s in step loop (median) | max abs θ̂ diff vs advbias |")
print("|---|---|---|---|---|")
print(f"| advbias | {spread(times['advbias'])} | 1 | — | {same:.1e} (round 1 vs reference run) |")
for b, label in (("torch", "PyTorch"), ("numpy", "numpy (by hand)")):
    if b not in peers:
        continue
    rows = peers[b]
    inner = statistics.median(p["seconds_in_steps"] for p in rows)
    diff = max(p["max_abs_diff_vs_advbias"] for p in rows)
    ratio = statistics.median(times[b]) / base
    print(f"| {label} | {spread(times[b])} | {ratio:.2f}× | {inner:.2f} | {diff:.1e} |")
print()
print(f"- advbias entry: {entry}; kernels: {adv['run']['kernels']}")
for b in peers:
    print(f"- {b} peer BLAS mapped: {peers[b][0]['blas']}")
print(f"- final log‖θ‖: advbias {ref['params']['logNorm']:.15g}" + "".join(f", {b} {peers[b][0]['final_log_rho']:.15g}" for b in peers))
print(f"- /proc/loadavg at start: {load_start}")
print(f"- /proc/loadavg at end:   {load_end}")
EOF
