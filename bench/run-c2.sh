#!/usr/bin/env bash
# Claim C2's workloads (MNIST epoch: clean, FGSM, PGD-5; toy step: FGSM) in advbias and the PyTorch
# peer, in the same invocation, interleaved in rounds (docs/BENCHMARKS.md, "Claim C2 workloads").
#
#   bench/run-c2.sh [OUT_DIR]             results (JSON) and the exported data go to OUT_DIR (default: a temp dir)
#   bench/run-c2.sh --fetch-openblas …    first unpack Debian's libopenblas0-serial (apt-get download +
#                                         dpkg -x, nothing installed) into $ADVBIAS_OPENBLAS_DIR
#
# Order: export the data, starting points and advbias's reference iterates (c2.bench.ts --export);
# check that `c2.bench.ts`'s MNIST step is `train`'s (--self-check, wasm and js kernels) and that the
# float64 peer reproduces advbias's iterates (peer_torch_c2.py --check); then ROUNDS rounds of
#   advbias wasm kernels, advbias js kernels, torch reference BLAS, torch OpenBLAS (CORETYPE as set),
#   torch OpenBLAS with its own CPU detection (when OPENBLAS_CORETYPE is set)
# and one table of medians over the rounds, with the 1-min load averages seen.
#
# The BLAS of each peer variant is chosen with LD_LIBRARY_PATH, never by changing the system's choice:
# reference BLAS/LAPACK from Debian's libblas3/liblapack3 (/usr/lib/x86_64-linux-gnu/{blas,lapack}),
# OpenBLAS from the unpacked serial build. Each peer prints the BLAS file it actually mapped.
#
# Environment:
#   ROUNDS               rounds (default 3)
#   STEPS                timed MNIST steps per workload (default 200) …
#   MAX_SECONDS          … for advbias wasm and torch+OpenBLAS, capped at this many seconds (default 60)
#   SLOW_MAX_SECONDS     cap for the slow variants, advbias js and torch + reference BLAS (default 20)
#   PYTHON               interpreter with torch (default /usr/bin/python3: Debian's python3-torch)
#   ADVBIAS_OPENBLAS_DIR where the unpacked OpenBLAS lives (default /tmp/advbias-openblas)
#   PEER_GLIBC_TUNABLES  GLIBC_TUNABLES for the peer (default: mmap threshold 32 MiB, trim threshold 1 GiB,
#                        so that glibc keeps freed memory instead of returning it to the OS every step;
#                        set it empty for glibc's defaults). With the defaults the float64 peer took
#                        5,000–8,500 minor page faults per MNIST step (~14 µs each in this VM): 3–8× slower
#                        steps. advbias preallocates its buffers and is unaffected (0 faults per step).
# Everything runs sequentially and single-threaded.
set -euo pipefail
cd "$(dirname "$0")/.."

fetch=0
if [[ "${1:-}" == "--fetch-openblas" ]]; then
  fetch=1
  shift
fi
out="${1:-$(mktemp -d -t advbias-c2.XXXXXX)}"
mkdir -p "$out"
rounds="${ROUNDS:-3}"
steps="${STEPS:-200}"
max_s="${MAX_SECONDS:-60}"
slow_s="${SLOW_MAX_SECONDS:-20}"
python="${PYTHON:-/usr/bin/python3}"
openblas_root="${ADVBIAS_OPENBLAS_DIR:-/tmp/advbias-openblas}"
openblas_lib="$openblas_root/root/usr/lib/x86_64-linux-gnu/openblas-serial"
ref_lib="/usr/lib/x86_64-linux-gnu/blas:/usr/lib/x86_64-linux-gnu/lapack"
peer_tunables="${PEER_GLIBC_TUNABLES-glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824}"

if [[ $fetch == 1 && ! -e "$openblas_lib/libblas.so.3" ]]; then
  mkdir -p "$openblas_root"
  (cd "$openblas_root" && apt-get download libopenblas0-serial && dpkg -x libopenblas0-serial_*.deb root)
fi

# One thread everywhere: advbias is single-threaded (OpenBLAS-pthread, if it is the system BLAS, reads these).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

echo "loadavg at start: $(cat /proc/loadavg)"
node --import tsx bench/c2.bench.ts --export "$out/data"
node --import tsx bench/c2.bench.ts --self-check --kernels wasm
node --import tsx bench/c2.bench.ts --self-check --kernels js
peer=1
if ! "$python" -c 'import torch, numpy' 2>/dev/null; then
  echo "PyTorch peer skipped: $python cannot import torch and numpy (apt-get install -y python3-torch)."
  peer=0
else
  "$python" bench/peer_torch_c2.py --check "$out/data"
  [[ -e "$openblas_lib/libblas.so.3" ]] || echo "(no OpenBLAS at $openblas_lib: run with --fetch-openblas for the OpenBLAS peer)"
  [[ -e /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 ]] || echo "(no reference BLAS at /usr/lib/x86_64-linux-gnu/blas: the 'reference BLAS' peer maps whatever libblas.so.3 resolves to; see its BLAS line)"
fi

results=()
peer_run() { # LABEL JSON_NAME MAX_SECONDS [env assignments…] — one peer variant, both dtypes
  local label="$1" name="$2" cap="$3"
  shift 3
  echo
  env "$@" GLIBC_TUNABLES="$peer_tunables" "$python" bench/peer_torch_c2.py --data "$out/data" --threads 1 --label "$label" \
    --steps "$steps" --max-seconds "$cap" --json "$out/$name"
  results+=("$out/$name")
}
for ((r = 1; r <= rounds; r++)); do
  echo
  echo "# Round $r of $rounds (loadavg $(cat /proc/loadavg))"
  echo
  node --import tsx bench/c2.bench.ts --kernels wasm --steps "$steps" --max-seconds "$max_s" --json "$out/advbias-wasm-r$r.json"
  results+=("$out/advbias-wasm-r$r.json")
  echo
  node --import tsx bench/c2.bench.ts --kernels js --steps "$steps" --max-seconds "$slow_s" --json "$out/advbias-js-r$r.json"
  results+=("$out/advbias-js-r$r.json")
  [[ $peer == 1 ]] || continue
  peer_run "reference BLAS" "peer-ref-r$r.json" "$slow_s" LD_LIBRARY_PATH="$ref_lib"
  if [[ -e "$openblas_lib/libblas.so.3" ]]; then
    peer_run "OpenBLAS CORETYPE=${OPENBLAS_CORETYPE:-auto}" "peer-openblas-r$r.json" "$max_s" LD_LIBRARY_PATH="$openblas_lib"
    if [[ -n "${OPENBLAS_CORETYPE:-}" ]]; then
      # The same library with its own CPU detection (OPENBLAS_CORETYPE forces a kernel family).
      peer_run "OpenBLAS CORETYPE=auto" "peer-openblas-auto-r$r.json" "$max_s" -u OPENBLAS_CORETYPE LD_LIBRARY_PATH="$openblas_lib"
    fi
  fi
done

echo
echo "# Side by side (loadavg at end: $(cat /proc/loadavg))"
echo
if [[ $peer == 1 ]]; then
  "$python" bench/peer_torch_c2.py --combine "${results[@]}"
else
  echo "(advbias only: see the tables above)"
fi
echo
echo "results: $out"
