#!/usr/bin/env bash
# Every GPU measurement the open speed goals need, in one run that fits the 15-minute device budget.
#
#   bash bench/gpu_checks.sh [OUT_DIR]        (on the GPU box: Python 3.12, no package index)
#
# 1. Decoding RDMs (issue 4): the fused Triton kernel (4 and 8 warps per program first, on 60 images), then
#    synthetic THINGS-EEG2 subjects back to back, against scikit-learn SVC on a sample of pairs (with
#    the agreement of the two) and the batched torch back end; falls back to torch alone on failure.
# 2. Training step (issue 3): the reference-shaped loop and the project's compiled batch-16 step in
#    the same run, then K = 2 and 4 worker processes each training one model, with NVIDIA MPS when
#    the box allows starting it (kernels of different processes overlap only under MPS).
# The reference loop is ../shared/bench/reference_step.py, or .gpu/reference_step.py when the shared
# folder is not carried (copy it there and pass that folder in the device tool's `carry`).
# Each step's output goes to OUT_DIR/*.txt; every step runs even if an earlier one fails.
# SKIP_TRAINING=1 runs the decoding checks only.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-${OUT:-$root/gpu_out}}"
mkdir -p "$out"
export PYTHONPATH="$root"
reference="$root/../shared/bench/reference_step.py"
[ -f "$reference" ] || reference="$root/.gpu/reference_step.py"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1

# 1. decoding RDMs: the Triton kernel with 4 and 8 warps on 60 images, then whole subjects (ten if they fit),
#    scikit-learn SVC on a sample of pairs, and the batched torch back end on 40 images
timeout 330 python "$root/bench/bench_decoding_rdm.py" --backend triton --device cuda --pairs-sample 20 \
  --triton-warps 4 8 --subjects 10 --max-seconds 100 \
  --compare-backend torch --compare-images 40 > "$out/decoding_rdm.txt" 2>&1
status=$?
echo "decoding bench exit status $status" >> "$out/decoding_rdm.txt"
if [ "$status" != 0 ]; then
  timeout 90 python "$root/bench/bench_decoding_rdm.py" --backend torch --device cuda --pairs-sample 20 \
    > "$out/decoding_rdm_torch.txt" 2>&1
  echo "decoding bench (torch) exit status $?" >> "$out/decoding_rdm_torch.txt"
fi

# 2. training step (SKIP_TRAINING=1 leaves it out)
if [ "${SKIP_TRAINING:-0}" = 1 ]; then
  tail -n 12 "$out"/*.txt
  exit 0
fi
mps=no
if command -v nvidia-cuda-mps-control > /dev/null && nvidia-cuda-mps-control -d 2> /dev/null; then
  mps=yes
fi
echo "MPS daemon started: $mps" | tee "$out/mps.txt"
timeout 270 python "$root/bench/bench_training_step.py" --reference "$reference" --compile reduce-overhead \
  --models none --steps 150 --warmup 15 --reference-steps 30 --processes 2 4 > "$out/training_step.txt" 2>&1
echo "training bench exit status $?" >> "$out/training_step.txt"
if [ "$mps" = yes ]; then
  echo quit | nvidia-cuda-mps-control
fi
tail -n 12 "$out"/*.txt
