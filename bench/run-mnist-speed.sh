#!/usr/bin/env bash
# Issue 12: claim C2's MNIST step (relu-mlp 784 → 1024 → 64 → 10, batch 80, FGSM and ℓ∞ PGD-5) in
# advbias with its OpenBLAS kernels against the PyTorch peer (float64, the same OpenBLAS library), with
# 1 and 2 threads on both sides, interleaved in rounds in one invocation; plus the ceiling: the step's
# GEMM work (0.567 GFLOP FGSM, 1.679 GFLOP PGD-5) at OpenBLAS's own dgemm peak for that thread count
# (bench/dgemm-peak.bench.ts, n = 1536). Prints one Markdown table (docs/BENCHMARKS.md, "MNIST step
# against PyTorch, 1 and 2 threads").
#
#   bench/run-mnist-speed.sh [OUT_DIR]
#
# Environment: ROUNDS (default 3), STEPS timed steps per workload (default 100), MAX_SECONDS per
# workload (default 20), PYTHON (default /usr/bin/python3, Debian's python3-torch), OPENBLAS_DIR (the
# OpenBLAS both sides load; default Debian's openblas-pthread build). The peer runs with glibc
# keeping freed memory (see run-c2.sh: otherwise page faults, not arithmetic, set its speed).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d -t advbias-mnist-speed.XXXXXX)}"
mkdir -p "$out"
rounds="${ROUNDS:-3}"
steps="${STEPS:-100}"
max_s="${MAX_SECONDS:-20}"
python="${PYTHON:-/usr/bin/python3}"
blas_dir="${OPENBLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-pthread}"
tunables='glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824'
export ADVBIAS_OPENBLAS="$blas_dir/libopenblas.so.0"
[[ -e "$ADVBIAS_OPENBLAS" ]] || { echo "no OpenBLAS at $ADVBIAS_OPENBLAS (apt-get install libopenblas0-pthread, or set OPENBLAS_DIR)"; exit 2; }

echo "loadavg at start: $(cat /proc/loadavg)"
node --import tsx bench/c2.bench.ts --export "$out/data" > /dev/null
"$python" bench/peer_torch_c2.py --check "$out/data" | tail -2
for t in 1 2; do
  OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t node --import tsx bench/dgemm-peak.bench.ts --threads "$t" --json "$out/peak-t$t.json"
done
for r in $(seq 1 "$rounds"); do
  for t in 1 2; do
    echo "round $r, $t thread(s): $(cat /proc/loadavg)"
    OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t ADVBIAS_THREADS=$t node --import tsx bench/c2.bench.ts --kernels openblas --threads "$t" \
      --only mnist-fgsm,mnist-pgd --steps "$steps" --max-seconds "$max_s" --json "$out/advbias-t$t-r$r.json" > /dev/null
    OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t GLIBC_TUNABLES="$tunables" LD_LIBRARY_PATH="$blas_dir" "$python" bench/peer_torch_c2.py --data "$out/data" \
      --threads "$t" --only mnist-fgsm,mnist-pgd --dtypes float64 --steps "$steps" --max-seconds "$max_s" --json "$out/torch-t$t-r$r.json" > /dev/null
    if [[ $t -gt 1 ]]; then
      # PyTorch's own intra-op pool (OpenMP) on top of OpenBLAS's threads oversubscribes the cores
      # (measured 2× slower here); its best 2-thread setting is OpenBLAS's threads alone.
      OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t GLIBC_TUNABLES="$tunables" LD_LIBRARY_PATH="$blas_dir" "$python" bench/peer_torch_c2.py --data "$out/data" \
        --threads 1 --only mnist-fgsm,mnist-pgd --dtypes float64 --steps "$steps" --max-seconds "$max_s" --json "$out/torchblas-t$t-r$r.json" > /dev/null
    fi
  done
done
echo "loadavg at end: $(cat /proc/loadavg)"
node bench/mnist-speed-table.mjs "$out"
