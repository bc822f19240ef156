#!/usr/bin/env bash
# The GPU measurements the open speed goal needs, in one run that fits the 15-minute device budget.
#
#   bash bench/gpu_checks.sh [OUT_DIR]        (on the GPU box: Python 3.12, no package index)
#
# Open goal (issue 3): the single-model training step at batch 16 at >= 25x the reference loop in the
# same run (measured so far: 21.7-23.1x on an H100 with compile=reduce-overhead). In order of value:
# 1. the reference loop, the project's step with compile=reduce-overhead, and a profile of the step
#    (device time by kernel kind and the top kernels: is it bound by convolutions, by BatchNorm's
#    memory traffic, or by launches?);
# 2. the same step with cuDNN's autotuner trying every algorithm (--cudnn-benchmark-limit 0; cuDNN
#    keeps its choice per shape for the process, hence a second process with its own reference);
# 3. compile=max-autotune (CUDA graphs + Triton templates benchmarked against the library kernels;
#    its first step takes minutes), with whatever time is left.
# Optional, for goals already met (third session): DECODING=1 times the decoding-RDM back ends (issue 4),
# PROCESSES=1 adds 2 and 4 training processes under NVIDIA MPS (ten subjects of one variant).
# The reference loop is ../shared/bench/reference_step.py, or .gpu/reference_step.py when the shared
# folder is not carried (copy it there and pass that folder in the device tool's `carry`).
# Each step's output goes to OUT_DIR/*.txt; every step runs even if an earlier one fails; the whole
# script stops itself after BUDGET_S seconds (default 540, under the device tool's 600 s per call).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-${OUT:-$root/gpu_out}}"
mkdir -p "$out"
export PYTHONPATH="$root"
reference="$root/../shared/bench/reference_step.py"
[ -f "$reference" ] || reference="$root/.gpu/reference_step.py"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1
deadline=$(( $(date +%s) + ${BUDGET_S:-540} ))

# timeout for the next step: at most $1 seconds, and never past the deadline
cap() {
  local left=$(( deadline - $(date +%s) ))
  (( left < $1 )) && echo $(( left > 1 ? left : 1 )) || echo "$1"
}

train_bench() {  # name, cap seconds, extra arguments
  local name="$1" limit
  limit=$(cap "$2")
  shift 2
  timeout "$limit" python "$root/bench/bench_training_step.py" --reference "$reference" --models none \
    --warmup 15 --reference-steps 30 "$@" > "$out/$name.txt" 2>&1
  echo "$name exit status $? (limit ${limit} s)" >> "$out/$name.txt"
}

# 1. reference, reduce-overhead, profile
train_bench training_step 240 --compile reduce-overhead --steps 150 --profile 20 --profile-compile reduce-overhead
# 2. cuDNN trying every algorithm
train_bench training_step_cudnn_all 120 --compile reduce-overhead --steps 150 --cudnn-benchmark-limit 0
# 3. max-autotune
train_bench training_step_max_autotune 300 --compile max-autotune --steps 150 --reference-steps 20

if [ "${PROCESSES:-0}" = 1 ]; then
  mps=no
  if command -v nvidia-cuda-mps-control > /dev/null && nvidia-cuda-mps-control -d 2> /dev/null; then
    mps=yes
  fi
  echo "MPS daemon started: $mps" | tee "$out/mps.txt"
  train_bench training_processes 270 --compile reduce-overhead --steps 150 --processes 2 4
  [ "$mps" = yes ] && echo quit | nvidia-cuda-mps-control
fi

if [ "${DECODING:-0}" = 1 ]; then
  # the Triton kernel with 4 and 8 warps on 60 images, whole subjects (ten if they fit), scikit-learn SVC
  # on a sample of pairs, and the batched torch back end on 40 images
  timeout "$(cap 330)" python "$root/bench/bench_decoding_rdm.py" --backend triton --device cuda --pairs-sample 20 \
    --triton-warps 4 8 --subjects 10 --max-seconds 100 \
    --compare-backend torch --compare-images 40 > "$out/decoding_rdm.txt" 2>&1
  echo "decoding bench exit status $?" >> "$out/decoding_rdm.txt"
fi
tail -n 4 "$out"/*.txt | cut -c1-2000
