#!/usr/bin/env bash
# Runs the advbias training-step benchmark and its PyTorch peer on this machine, interleaved in
# rounds (advbias, then every peer variant, then again), prints every table, and ends with one
# side-by-side table of medians over the rounds (docs/BENCHMARKS.md). Interleaving matters on a
# shared VM: the machine's speed drifts by tens of percent over minutes, and a comparison of two runs
# made minutes apart would measure the drift.
#
#   bench/run-all.sh [OUT_DIR]            results (JSON) go to OUT_DIR (default: a fresh temp dir)
#   bench/run-all.sh --fetch-openblas …   first unpack Debian's libopenblas0-serial (apt-get download +
#                                         dpkg -x, nothing installed) into $ADVBIAS_OPENBLAS_DIR
#
# Environment:
#   ROUNDS               rounds (default 3)
#   PYTHON               interpreter with torch (default /usr/bin/python3: Debian's python3-torch)
#   ADVBIAS_OPENBLAS_DIR where the unpacked OpenBLAS lives (default /tmp/advbias-openblas); when its
#                        libblas.so.3 is there, the peer also runs against it through LD_LIBRARY_PATH
#   BENCH_ARGS           arguments for both benchmarks (default "--repeats 3 --seconds 0.4")
# Everything runs sequentially and single-threaded (the machine has few cores).
set -euo pipefail
cd "$(dirname "$0")/.."

fetch=0
if [[ "${1:-}" == "--fetch-openblas" ]]; then
  fetch=1
  shift
fi
out="${1:-$(mktemp -d -t advbias-bench.XXXXXX)}"
mkdir -p "$out"
rounds="${ROUNDS:-3}"
python="${PYTHON:-/usr/bin/python3}"
openblas_root="${ADVBIAS_OPENBLAS_DIR:-/tmp/advbias-openblas}"
openblas_lib="$openblas_root/root/usr/lib/x86_64-linux-gnu/openblas-serial"
read -r -a extra <<<"${BENCH_ARGS:---repeats 3 --seconds 0.4}"

if [[ $fetch == 1 && ! -e "$openblas_lib/libblas.so.3" ]]; then
  mkdir -p "$openblas_root"
  (cd "$openblas_root" && apt-get download libopenblas0-serial && dpkg -x libopenblas0-serial_*.deb root)
fi

node --import tsx bench/train-step.bench.ts --peer-check "$out/cases.json"
peer=1
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "PyTorch peer skipped: $python cannot import torch (apt-get install -y python3-torch)."
  peer=0
else
  "$python" bench/peer_torch.py --check "$out/cases.json"
  if [[ ! -e "$openblas_lib/libblas.so.3" ]]; then
    echo "(no OpenBLAS at $openblas_lib: run with --fetch-openblas for the OpenBLAS peer)"
  fi
fi
# OpenMP thread count pinned to 1 as well: advbias is single-threaded.
export OMP_NUM_THREADS=1
results=()
for ((r = 1; r <= rounds; r++)); do
  echo
  echo "# Round $r of $rounds"
  echo
  node --import tsx bench/train-step.bench.ts --json "$out/advbias-r$r.json" "${extra[@]}"
  results+=("$out/advbias-r$r.json")
  [[ $peer == 1 ]] || continue
  echo
  "$python" bench/peer_torch.py --cases "$out/cases.json" --threads 1 --label "system BLAS" --json "$out/peer-system-r$r.json" "${extra[@]}"
  results+=("$out/peer-system-r$r.json")
  if [[ -e "$openblas_lib/libblas.so.3" ]]; then
    echo
    LD_LIBRARY_PATH="$openblas_lib" "$python" bench/peer_torch.py --cases "$out/cases.json" --threads 1 \
      --label "OpenBLAS CORETYPE=${OPENBLAS_CORETYPE:-auto}" --json "$out/peer-openblas-r$r.json" "${extra[@]}"
    results+=("$out/peer-openblas-r$r.json")
    if [[ -n "${OPENBLAS_CORETYPE:-}" ]]; then
      # The same library with its own CPU detection (OPENBLAS_CORETYPE forces a kernel family).
      echo
      env -u OPENBLAS_CORETYPE LD_LIBRARY_PATH="$openblas_lib" "$python" bench/peer_torch.py --cases "$out/cases.json" --threads 1 \
        --label "OpenBLAS CORETYPE=auto" --json "$out/peer-openblas-auto-r$r.json" "${extra[@]}"
      results+=("$out/peer-openblas-auto-r$r.json")
    fi
  fi
done

echo
echo "# Side by side"
echo
if [[ $peer == 1 ]]; then
  "$python" bench/peer_torch.py --combine "${results[@]}"
else
  echo "(advbias only: see the tables above)"
fi
echo
echo "results: $out"
