"""Images/s of the project's ReAlnet training step against the reference-shaped loop, in one run.

The reference is ``../shared/bench/reference_step.py`` (imported from its file, not copied): the
published loop's shape at batch 16 (fp32, backbone twice per step, a frozen teacher every step,
a host-side correlation term). The project's step is :mod:`realnet_plugins.training.step`, fed
exactly as in training: a uint8 image cache on the device, batches gathered by index, one backbone
pass, precomputed pseudo-labels, the vectorised objective with gradient, Adam - for one model, and
for K models trained in lock-step (``StackedModelsStep``). Random pixels, EEG and labels stand in
for data: this measures compute, not data loading (which training does once, before epoch 1).

    python bench/bench_training_step.py                      # CUDA if available, else CPU
    python bench/bench_training_step.py --device cpu --steps 2 --warmup 1

Each configuration prints one JSON line; the last line summarises: images/s ratios to the
reference and the extrapolated time of one subject (30 epochs × 16540 images) and of ten
subjects of one variant (at the best concurrent setting). The reference model is fixed at 224 px,
so the ratio rows use 224 px; ``--image-size`` changes only the extra rows.

``--processes P [P ...]`` adds rows (``"loop": "project-processes"``) for P spawned processes,
each timing the single-model step on the same device, started together after their warm-up:
the aggregate images/s over all processes, its ratio to the reference and the extrapolated time
of ten subjects (10 × 30 × 16540 images); the summary gains ``best_processes`` and
``processes_*`` keys. This is how ``realnet sweep --processes P`` trains. On CUDA the processes'
kernels overlap only under NVIDIA MPS (``nvidia-cuda-mps-control -d``); otherwise the GPU
time-slices between them.

    python bench/bench_training_step.py --compile reduce-overhead --processes 1 2 4
    python bench/bench_training_step.py --device cpu --steps 2 --warmup 1 --processes 1 2
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import queue
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from realnet_plugins.architectures import ReAlnet  # noqa: E402
from realnet_plugins.constants import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from realnet_plugins.training.objective import Objective  # noqa: E402
from realnet_plugins.training.step import DeviceData, make_step  # noqa: E402

IMAGES_PER_SUBJECT_RUN = 30 * 16540
N_CACHED_IMAGES = 512


def _sig(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant digits."""
    return float(f"{x:.{digits}g}")


def load_reference(path: Path):
    """The shared reference module, imported from its file."""
    if not path.is_file():
        raise SystemExit(f"reference loop not found at {path}; pass --reference PATH/reference_step.py")
    spec = importlib.util.spec_from_file_location("reference_step", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _timed_steps(k: int, batch: int, image_size: int, compile_mode: str, steps: int, warmup: int,
                 device: torch.device, before_timing: Callable[[], None] | None = None) -> tuple[float, float, bool]:
    """Build the step of K CORnet-S ReAlnets trained together (K = 1: one model), warm it up, time ``steps`` steps.

    Args:
        before_timing: called after the warm-up, just before the clock starts (a barrier in
            ``--processes`` rows).

    Returns:
        ``(started, ended, amp)``: :func:`time.perf_counter` seconds around the timed steps (one
        system-wide monotonic clock on Linux, so comparable across processes) and whether bf16
        autocast was on.
    """
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    cuda = device.type == "cuda"
    models = [ReAlnet("cornet_s", image_size=image_size).to(device) for _ in range(k)]
    images = rng.integers(0, 256, size=(N_CACHED_IMAGES, image_size, image_size, 3), dtype=np.uint8)
    pairs = [np.arange(N_CACHED_IMAGES)] * k
    eeg = [rng.normal(size=(N_CACHED_IMAGES, 340)).astype(np.float32) for _ in range(k)]
    labels = [rng.integers(0, 1000, size=N_CACHED_IMAGES) for _ in range(k)]
    data = DeviceData.from_arrays(images, pairs, eeg, labels, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                                  device=device, dtype=torch.float32)
    # Eager K > 1 runs in float32: bf16 autocast does not compose with eager vmap BatchNorm (see training.loop).
    amp = cuda and (k == 1 or compile_mode != "off")
    step = make_step(models, [Objective.for_variant("realnet", 100.0)] * k, data, batch_size=batch, lr=2e-5,
                     amp=amp, channels_last=cuda, compile_mode=compile_mode)
    order = torch.stack([torch.randperm(N_CACHED_IMAGES, device=device) for _ in range(k)])
    n_batches = N_CACHED_IMAGES // batch
    losses = torch.zeros(k, 4, dtype=torch.float64, device=device)

    def run(n: int, offset: int) -> None:
        for i in range(n):
            lo = ((offset + i) % n_batches) * batch
            losses.add_(step(order[:, lo:lo + batch]))

    run(warmup, 0)
    if cuda:
        torch.cuda.synchronize(device)
    if before_timing is not None:
        before_timing()
    started = time.perf_counter()
    run(steps, warmup)
    if cuda:
        torch.cuda.synchronize(device)
    ended = time.perf_counter()
    assert torch.isfinite(losses).all(), "non-finite loss"
    return started, ended, amp


def project_step(k: int, batch: int, image_size: int, compile_mode: str, steps: int, warmup: int,
                 device: torch.device) -> dict:
    """Time ``steps`` training steps of K CORnet-S ReAlnets trained together (K = 1: one model)."""
    started, ended, amp = _timed_steps(k, batch, image_size, compile_mode, steps, warmup, device)
    elapsed = ended - started
    images_per_s = k * batch * steps / elapsed
    return {"loop": "project", "models": k, "batch": batch, "image_size": image_size, "compile": compile_mode,
            "amp": amp,
            "steps": steps, "img_per_s": _sig(images_per_s), "img_per_s_per_model": _sig(images_per_s / k),
            "s_per_step": round(elapsed / steps, 4)}


def _set_up_device(device: torch.device) -> None:
    """cuDNN autotuning on, TF32 off (the rows compare float32 and bf16 work, never TF32)."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def _timing_process(index: int, barrier: Any, results: Any, batch: int, image_size: int, compile_mode: str,
                    steps: int, warmup: int, device: str, threads: int) -> None:
    """One process of a ``--processes`` row: time the single-model step.

    Puts ``(index, (started, ended, amp))`` on ``results``, or ``(index, error text)``.
    """
    try:
        torch.set_num_threads(threads)
        _set_up_device(torch.device(device))
        results.put((index, _timed_steps(1, batch, image_size, compile_mode, steps, warmup, torch.device(device),
                                         before_timing=barrier.wait)))
    except Exception as e:  # noqa: BLE001 - reported by the parent, which goes on
        barrier.abort()
        results.put((index, repr(e)[:300]))


def processes_step(processes: int, batch: int, image_size: int, compile_mode: str, steps: int, warmup: int,
                   device: torch.device, threads: int, reference_img_per_s: float) -> dict:
    """Time the single-model step in ``processes`` spawned processes on one device, started together.

    Each process builds and warms up its own step (its own CUDA graph), waits at a barrier, then
    times ``steps`` steps. The aggregate rate is every process's images over the span from the
    first start to the last end.

    Args:
        threads: torch CPU threads of each process.
        reference_img_per_s: the reference loop's rate in this run, for the ratio.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [context.Process(target=_timing_process, args=(i, barrier, results, batch, image_size, compile_mode,
                                                             steps, warmup, str(device), threads))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    outcomes: dict[int, Any] = {}
    while len(outcomes) < processes:
        try:
            index, outcome = results.get(timeout=5)
            outcomes[index] = outcome
        except queue.Empty:
            for i, worker in enumerate(workers):
                if i not in outcomes and worker.exitcode not in (None, 0):  # died without a word (e.g. killed)
                    outcomes[i] = f"timing process {i} exited with code {worker.exitcode}"
                    barrier.abort()  # release the others from the barrier
    for worker in workers:
        worker.join()
    row = {"loop": "project-processes", "processes": processes, "batch": batch, "image_size": image_size,
           "compile": compile_mode, "steps": steps, "threads_per_process": threads}
    # The root cause first: the other processes of a failed row only report the broken barrier.
    errors = sorted((o for o in outcomes.values() if isinstance(o, str)), key=lambda text: "BrokenBarrier" in text)
    if errors:
        return {**row, "error": errors[0]}
    span = max(ended for _, ended, _ in outcomes.values()) - min(started for started, _, _ in outcomes.values())
    images_per_s = processes * batch * steps / span
    row.update({"amp": outcomes[0][2], "img_per_s": _sig(images_per_s),
                "img_per_s_per_process": _sig(images_per_s / processes)})
    if image_size == 224:
        row.update({"over_reference": _sig(images_per_s / reference_img_per_s),
                    "ten_subjects_30ep_min": _sig(10 * IMAGES_PER_SUBJECT_RUN / images_per_s / 60)})
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, help="timed steps per row (default: 200 on CUDA, 2 on CPU)")
    parser.add_argument("--warmup", type=int, help="untimed steps first (default: 20 on CUDA, 1 on CPU)")
    parser.add_argument("--reference-steps", type=int, help="timed steps of the reference loop (default: 40 / 1)")
    parser.add_argument("--models", default=None,
                        help="K values for the lock-step rows, e.g. 2,4,8, or none (default: 2,4,8 on CUDA, 2 on CPU)")
    parser.add_argument("--compile", default=None, help="compile modes for the rows, e.g. off,reduce-overhead")
    parser.add_argument("--image-size", type=int, default=None, help="extra rows at this size (e.g. 112 on a CPU)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's)")
    parser.add_argument("--processes", type=int, nargs="+", default=[],
                        help="also time the single-model step in P processes at once on the device, for each P "
                             "given (e.g. 1 2 4; on CUDA start NVIDIA MPS first: nvidia-cuda-mps-control -d); "
                             "each process gets threads // P CPU threads")
    parser.add_argument("--reference", type=Path, default=REPO.parent / "shared" / "bench" / "reference_step.py")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = args.steps or (200 if cuda else 2)
    warmup = args.warmup if args.warmup is not None else (20 if cuda else 1)
    ref_steps = args.reference_steps or (40 if cuda else 1)
    modes = args.compile.split(",") if args.compile else (["off", "default", "reduce-overhead"] if cuda else ["off"])
    if args.models == "none":
        ks = []
    else:
        ks = [int(k) for k in args.models.split(",")] if args.models else ([2, 4, 8] if cuda else [2])
    if any(p < 1 for p in args.processes):
        parser.error(f"--processes values must be at least 1, got {args.processes}")
    _set_up_device(device)

    reference = load_reference(args.reference)
    rows = []

    def record(row: dict) -> None:
        rows.append(row)
        print(json.dumps(row), flush=True)

    ref = reference.run("ref", 16, ref_steps, min(warmup, 5) or 1, device.type)
    ref["img_per_s"] = _sig(16 / ref["s_per_step"])  # the reference rounds to 0.1 img/s
    record({"loop": "reference", **ref})
    plans = [(1, 16, 224, mode) for mode in modes] + [(k, 16, 224, mode) for k in ks for mode in modes]
    if args.image_size:
        plans += [(1, 16, args.image_size, modes[0])] + [(max(ks), 16, args.image_size, modes[0])] * bool(ks)
    for k, batch, size, mode in plans:
        try:
            record(project_step(k, batch, size, mode, steps, warmup, device))
        except Exception as e:  # report and go on, as the reference script does
            record({"loop": "project", "models": k, "batch": batch, "image_size": size, "compile": mode,
                    "error": repr(e)[:300]})
        if cuda:
            torch.cuda.empty_cache()
    sizes = [224] + ([args.image_size] if args.image_size else [])
    for size in sizes:
        for mode in modes:
            for processes in args.processes:
                threads = max(1, torch.get_num_threads() // processes)
                record(processes_step(processes, 16, size, mode, steps, warmup, device, threads, ref["img_per_s"]))
    ok = [r for r in rows if r["loop"] == "project" and "img_per_s" in r and r["image_size"] == 224]
    single = max((r for r in ok if r["models"] == 1), key=lambda r: r["img_per_s"], default=None)
    together = max((r for r in ok if r["models"] > 1), key=lambda r: r["img_per_s"], default=None)
    best = max(ok, key=lambda r: r["img_per_s"], default=None)
    summary = {"device": torch.cuda.get_device_name(device) if cuda else "cpu", "torch": torch.__version__,
               "threads": torch.get_num_threads(), "reference_img_per_s": ref["img_per_s"],
               "reference_subject_30ep_min": _sig(IMAGES_PER_SUBJECT_RUN / ref["img_per_s"] / 60)}
    if single:
        summary.update({
            "best_single_batch16": f"{single['compile']}", "single_img_per_s": single["img_per_s"],
            "single_over_reference": _sig(single["img_per_s"] / ref["img_per_s"]),
            "single_subject_30ep_min": _sig(IMAGES_PER_SUBJECT_RUN / single["img_per_s"] / 60),
        })
    if together:
        summary.update({
            "best_concurrent": f"K={together['models']} compile={together['compile']}",
            "concurrent_img_per_s": together["img_per_s"],
            "concurrent_over_reference": _sig(together["img_per_s"] / ref["img_per_s"]),
        })
    if best:
        summary.update({
            "best_overall": f"K={best['models']} compile={best['compile']}",
            "ten_subjects_30ep_min": _sig(10 * IMAGES_PER_SUBJECT_RUN / best["img_per_s"] / 60),
        })
    in_processes = max((r for r in rows if r["loop"] == "project-processes" and "img_per_s" in r
                        and r["image_size"] == 224), key=lambda r: r["img_per_s"], default=None)
    if in_processes:
        summary.update({
            "best_processes": f"P={in_processes['processes']} compile={in_processes['compile']}",
            "processes_img_per_s": in_processes["img_per_s"],
            "processes_over_reference": in_processes["over_reference"],
            "processes_ten_subjects_30ep_min": in_processes["ten_subjects_30ep_min"],
        })
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
