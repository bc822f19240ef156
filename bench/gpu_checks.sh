#!/usr/bin/env bash
# Every GPU measurement the open speed goals need, in one run that fits the 15-minute device budget.
#
#   bash bench/gpu_checks.sh [OUT_DIR]        (on the GPU box: Python 3.12, no package index)
#
# 1. Training step (issue 3): the reference-shaped loop and the project's compiled batch-16 step in
#    the same run, then K = 1, 2, 4 worker processes each training one model, with NVIDIA MPS when
#    the box allows starting it (kernels of different processes overlap only under MPS).
# 2. Decoding RDMs (issue 4): one full synthetic THINGS-EEG2 subject on the torch back end, timed
#    against scikit-learn SVC on a sample of pairs, and the agreement of the two.
# The reference loop is ../shared/bench/reference_step.py, or .gpu/reference_step.py when the shared
# folder is not carried (copy it there and pass that folder in the device tool's `carry`).
# Each step's output goes to OUT_DIR/*.txt; every step runs even if an earlier one fails.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-${OUT:-$root/gpu_out}}"
mkdir -p "$out"
export PYTHONPATH="$root"
reference="$root/../shared/bench/reference_step.py"
[ -f "$reference" ] || reference="$root/.gpu/reference_step.py"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1

mps=no
if command -v nvidia-cuda-mps-control > /dev/null && nvidia-cuda-mps-control -d 2> /dev/null; then
  mps=yes
fi
echo "MPS daemon started: $mps" | tee "$out/mps.txt"
timeout 330 python "$root/bench/bench_training_step.py" --reference "$reference" --compile reduce-overhead \
  --models none --steps 150 --warmup 15 --reference-steps 30 --processes 1 2 4 > "$out/training_step.txt" 2>&1
echo "training bench exit status $?" >> "$out/training_step.txt"
if [ "$mps" = yes ]; then
  echo quit | nvidia-cuda-mps-control
fi

timeout 200 python "$root/bench/bench_decoding_rdm.py" --backend torch --device cuda --pairs-sample 40 \
  > "$out/decoding_rdm.txt" 2>&1
echo "decoding bench exit status $?" >> "$out/decoding_rdm.txt"
tail -n 5 "$out"/*.txt
