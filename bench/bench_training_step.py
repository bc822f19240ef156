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
subjects of one variant (at the best concurrent setting). Rows at 224 px also give ``tflop_per_s``: the
achieved rate of the step's counted convolution and matrix-product work (98.6 GFLOP per training image,
:func:`training_gflop_per_image`), to set against the device's peak. ``--profile STEPS`` adds where the
step's device time goes (see :func:`profile_step`). The reference model is fixed at 224 px,
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


class _Bench:
    """The step of K CORnet-S ReAlnets trained together (K = 1: one model), fed as in training, on random data."""

    def __init__(self, k: int, batch: int, image_size: int, compile_mode: str, device: torch.device) -> None:
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        self.device = device
        self.batch = batch
        cuda = device.type == "cuda"
        models = [ReAlnet("cornet_s", image_size=image_size).to(device) for _ in range(k)]
        images = rng.integers(0, 256, size=(N_CACHED_IMAGES, image_size, image_size, 3), dtype=np.uint8)
        pairs = [np.arange(N_CACHED_IMAGES)] * k
        eeg = [rng.normal(size=(N_CACHED_IMAGES, 340)).astype(np.float32) for _ in range(k)]
        labels = [rng.integers(0, 1000, size=N_CACHED_IMAGES) for _ in range(k)]
        data = DeviceData.from_arrays(images, pairs, eeg, labels, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                                      device=device, dtype=torch.float32)
        # Eager K > 1 runs in float32: bf16 autocast does not compose with eager vmap BatchNorm (see training.loop).
        self.amp = cuda and (k == 1 or compile_mode != "off")
        self.step = make_step(models, [Objective.for_variant("realnet", 100.0)] * k, data, batch_size=batch, lr=2e-5,
                              amp=self.amp, channels_last=cuda, compile_mode=compile_mode)
        self.order = torch.stack([torch.randperm(N_CACHED_IMAGES, device=device) for _ in range(k)])
        self.n_batches = N_CACHED_IMAGES // batch
        self.losses = torch.zeros(k, 4, dtype=torch.float64, device=device)
        self.done = 0

    def run(self, n: int) -> None:
        """``n`` more steps (no synchronisation)."""
        for _ in range(n):
            lo = (self.done % self.n_batches) * self.batch
            self.losses.add_(self.step(self.order[:, lo:lo + self.batch]))
            self.done += 1

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


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
    bench = _Bench(k, batch, image_size, compile_mode, device)
    bench.run(warmup)
    bench.synchronize()
    if before_timing is not None:
        before_timing()
    started = time.perf_counter()
    bench.run(steps)
    bench.synchronize()
    ended = time.perf_counter()
    assert torch.isfinite(bench.losses).all(), "non-finite loss"
    return started, ended, bench.amp


#: Kernel-name patterns → the part of the step they belong to (first match wins; names are lower-cased).
KERNEL_KINDS: tuple[tuple[str, str], ...] = (
    ("adam", "optimizer"),
    ("wgrad", "conv weight gradient"),
    ("dgrad", "conv input gradient"),
    ("triton_red_", "inductor reduction (BatchNorm statistics, sums)"),
    ("triton_per_", "inductor reduction (BatchNorm statistics, sums)"),
    ("triton_poi_", "inductor pointwise (BatchNorm apply, ReLU, casts)"),
    ("triton_", "inductor template (matrix product, convolution)"),
    ("fprop", "convolution forward"),
    ("conv", "convolution (library, direction not in the name)"),
    ("xmma", "convolution or matrix product (library)"),
    ("gemm", "convolution or matrix product (library)"),
    ("cutlass", "convolution or matrix product (library)"),
    ("nchwtonhwc", "layout conversion"),
    ("nhwctonchw", "layout conversion"),
    ("elementwise", "eager pointwise"),
    ("reduce", "eager reduction"),
    ("memcpy", "copies"),
    ("memset", "copies"),
)


def kernel_kind(name: str) -> str:
    """The part of the step a kernel (or, on a CPU, an operator) of this name belongs to."""
    lowered = name.lower()
    return next((kind for pattern, kind in KERNEL_KINDS if pattern in lowered), "other")


def profile_step(batch: int, image_size: int, compile_mode: str, steps: int, warmup: int, device: torch.device,
                 top: int = 25) -> dict:
    """Where one single-model step's time goes: ``torch.profiler`` over ``steps`` steps after ``warmup``.

    On CUDA the device kernels are summed by name and by :func:`kernel_kind`; on a CPU the
    operators' self time is. ``busy_ms_per_step`` against ``wall_ms_per_step`` tells whether the
    step is bound by the device's kernels (close to 1) or by launching them (far below 1).
    Under CUDA graphs ("reduce-overhead") the kernels are still traced, by name, but not which
    operator launched them; the kind is read from the kernel's name, so either mode works.

    Returns:
        one JSON-able row: ``"loop": "profile"``, per-step milliseconds by kind and the ``top``
        kernels (name cut to 120 characters, milliseconds per step, calls per step).
    """
    from torch.profiler import ProfilerActivity, profile

    bench = _Bench(1, batch, image_size, compile_mode, device)
    bench.run(warmup)
    bench.synchronize()
    cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        started = time.perf_counter()
        bench.run(steps)
        bench.synchronize()
        wall = time.perf_counter() - started
    totals: dict[str, list[float]] = {}
    for event in prof.events():
        on_device = cuda and event.device_type != torch.autograd.DeviceType.CPU
        if cuda != on_device:
            continue
        spent = event.self_device_time_total if cuda else event.self_cpu_time_total  # microseconds
        entry = totals.setdefault(event.name, [0.0, 0])
        entry[0] += spent
        entry[1] += 1
    busy = sum(t for t, _ in totals.values())
    by_kind: dict[str, float] = {}
    for name, (spent, _) in totals.items():
        by_kind[kernel_kind(name)] = by_kind.get(kernel_kind(name), 0.0) + spent
    per_step = 1e-3 / steps  # microseconds in all → milliseconds per step
    ranked = sorted(totals.items(), key=lambda item: -item[1][0])[:top]
    return {"loop": "profile", "compile": compile_mode, "batch": batch, "image_size": image_size, "steps": steps,
            "unit": "device kernels" if cuda else "CPU operators (self time)",
            "wall_ms_per_step": round(wall * 1e3 / steps, 3), "busy_ms_per_step": round(busy * per_step, 3),
            "by_kind_ms_per_step": {kind: round(t * per_step, 3) for kind, t in
                                    sorted(by_kind.items(), key=lambda item: -item[1])},
            "top": [{"name": name[:120], "ms_per_step": round(spent * per_step, 4), "calls_per_step": calls / steps}
                    for name, (spent, calls) in ranked]}


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


def training_gflop_per_image(image_size: int = 224) -> float:
    """Floating-point operations of one training image (forward + backward of CORnet-S and the EEG head), GFLOP.

    Counted by ``torch.utils.flop_counter`` on the meta device (matrix products and convolutions
    only: BatchNorm, activations and Adam are memory-bound and not counted). 224 px: 98.6 GFLOP.
    """
    from torch.utils.flop_counter import FlopCounterMode

    model = ReAlnet("cornet_s", image_size=image_size).to("meta")
    x = torch.zeros(2, 3, image_size, image_size, device="meta")
    with FlopCounterMode(display=False) as counter:
        out = model(x)
        (out.logits.sum() + out.eeg.sum()).backward()
    return counter.get_total_flops() / 2 / 1e9


def _set_up_device(device: torch.device, cudnn_limit: int | None = None) -> None:
    """cuDNN autotuning on, TF32 off (the rows compare float32 and bf16 work, never TF32).

    Args:
        cudnn_limit: how many convolution algorithms cuDNN's autotuner tries per shape (0: all);
            None leaves torch's default (10). cuDNN caches its choice per shape for the process, so
            compare limits in separate runs.
    """
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        if cudnn_limit is not None:
            torch.backends.cudnn.benchmark_limit = cudnn_limit


def _timing_process(index: int, barrier: Any, results: Any, batch: int, image_size: int, compile_mode: str,
                    steps: int, warmup: int, device: str, threads: int, cudnn_limit: int | None) -> None:
    """One process of a ``--processes`` row: time the single-model step.

    Puts ``(index, (started, ended, amp))`` on ``results``, or ``(index, error text)``.
    """
    try:
        torch.set_num_threads(threads)
        _set_up_device(torch.device(device), cudnn_limit)
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
                                                             steps, warmup, str(device), threads,
                                                             torch.backends.cudnn.benchmark_limit))
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
    parser.add_argument("--cudnn-benchmark-limit", type=int, default=None, metavar="N",
                        help="convolution algorithms cuDNN's autotuner tries per shape, 0 = all (default: torch's, 10)")
    parser.add_argument("--profile", type=int, default=0, metavar="STEPS",
                        help="also profile STEPS single-model steps at batch 16, 224 px: device time by kernel kind "
                             "and the top kernels (default: off)")
    parser.add_argument("--profile-compile", default="default",
                        help="compile mode of the profiled step (default: %(default)s)")
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
    if args.cudnn_benchmark_limit is not None and args.cudnn_benchmark_limit < 0:
        parser.error(f"--cudnn-benchmark-limit must be 0 (all) or more, got {args.cudnn_benchmark_limit}")
    _set_up_device(device, args.cudnn_benchmark_limit)

    reference = load_reference(args.reference)
    gflop = training_gflop_per_image(224)
    rows = []

    def record(row: dict) -> None:
        if row.get("image_size") == 224 and "img_per_s" in row:  # achieved rate of the counted FLOPs
            row["tflop_per_s"] = _sig(row["img_per_s"] * gflop / 1e3)
        rows.append(row)
        print(json.dumps(row), flush=True)

    ref = reference.run("ref", 16, ref_steps, min(warmup, 5) or 1, device.type)
    ref["img_per_s"] = _sig(16 / ref["s_per_step"])  # the reference rounds to 0.1 img/s
    record({"loop": "reference", **ref})
    plans = [(1, 16, 224, mode) for mode in modes] + [(k, 16, 224, mode) for k in ks for mode in modes]
    if args.image_size:
        plans += [(1, 16, args.image_size, modes[0])] + ([(max(ks), 16, args.image_size, modes[0])] if ks else [])
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
    if args.profile:
        try:
            record(profile_step(16, 224, args.profile_compile, args.profile, warmup, device))
        except Exception as e:  # report and go on
            record({"loop": "profile", "compile": args.profile_compile, "error": repr(e)[:300]})
    ok = [r for r in rows if r["loop"] == "project" and "img_per_s" in r and r["image_size"] == 224]
    single = max((r for r in ok if r["models"] == 1), key=lambda r: r["img_per_s"], default=None)
    together = max((r for r in ok if r["models"] > 1), key=lambda r: r["img_per_s"], default=None)
    best = max(ok, key=lambda r: r["img_per_s"], default=None)
    summary = {"device": torch.cuda.get_device_name(device) if cuda else "cpu", "torch": torch.__version__,
               "threads": torch.get_num_threads(), "reference_img_per_s": ref["img_per_s"],
               "cudnn_benchmark_limit": torch.backends.cudnn.benchmark_limit if cuda else None,
               "train_gflop_per_image_224px": _sig(gflop),
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
