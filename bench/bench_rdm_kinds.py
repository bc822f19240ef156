"""Time packaging both EEG RDM kinds (decoding accuracy, crossnobis) for one full-size synthetic subject.

A seeded synthetic subject shaped like THINGS-EEG2 test data (200 images x 80 trials x 17 channels x 20
time points, the generator of bench_decoding_rdm.py) is packaged the way ``realnet package things-eeg2``
packages a subject: the RDM of all trials plus the two split-half RDMs of the single-subject ceiling.
Timed in one run, on ``--threads`` CPU threads (default 2):

* ``decoding_rdm`` (default back end) + ``split_half_decoding_rdms``;
* ``crossnobis_rdm`` with epoch-pooled Ledoit-Wolf noise normalisation (the default settings), numpy back
  end (the default) and rsatoolbox back end, + ``split_half_crossnobis_rdms``; also per-time-point noise
  normalisation and no normalisation (cross-validated Euclidean), numpy back end.

Prints seconds and ratios, the largest difference between the two crossnobis back ends, and each kind's
split-half reliability (Spearman-Brown) in the evoked window (60-140 ms of the 0-190 ms synthetic epoch).
The goal is a crossnobis RDM in <= 5 s with noise normalisation. Ratios are of wall times; each line also
gives the process's CPU seconds. On a shared machine the wall times are noisy: rerun before trusting a ratio.

    python bench/bench_rdm_kinds.py [--threads 2] [--seed 0] [--skip-rsatoolbox] [--skip-decoding]
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from bench_decoding_rdm import synthetic_subject  # noqa: E402

from realnet_plugins.rsa import (  # noqa: E402
    CrossnobisSettings,
    DecodingSettings,
    crossnobis_rdm,
    decoding_rdm,
    resolve_backend,
    split_half_ceiling,
    split_half_crossnobis_rdms,
    split_half_decoding_rdms,
)

SPLIT_SEED = 0
WINDOW = slice(6, 15)  # 60-140 ms: where the synthetic evoked pattern is strong


def _timed(label: str, call, *args, **kwargs):
    """Run ``call``; print wall seconds and this process's CPU seconds (all threads: on a busy shared
    machine the wall time is inflated while the CPU time is not)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = call(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"{label}: {seconds:.2f} s (CPU {time.process_time() - cpu_start:.2f} s)", flush=True)
    return result, seconds


def _reliability(halves: tuple[np.ndarray, np.ndarray]) -> float:
    return float(np.nanmean(split_half_ceiling(*halves).ceiling[WINDOW]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for every engine (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-rsatoolbox", action="store_true", help="do not time the rsatoolbox back end")
    parser.add_argument("--skip-decoding", action="store_true", help="do not time the decoding RDMs")
    args = parser.parse_args()

    trials = synthetic_subject(args.seed).astype(np.float32)
    print(f"synthetic subject {trials.shape}, {args.threads} threads", flush=True)
    settings = CrossnobisSettings(seed=args.seed)
    times: dict[str, float] = {}
    with threadpool_limits(limits=args.threads):
        if not args.skip_decoding:
            decoding = dict(settings=DecodingSettings.paper(seed=args.seed), n_threads=args.threads,
                            progress=False)
            backend = resolve_backend("auto")
            _timed(f"decoding warm-up ({backend}: compile / cache load)", decoding_rdm, trials[:3, :, :, :2],
                   **decoding)
            _, times["decoding"] = _timed(f"decoding_rdm ({backend})", decoding_rdm, trials, **decoding)
            decoding_halves, times["decoding halves"] = _timed(
                "split_half_decoding_rdms", split_half_decoding_rdms, trials, seed=SPLIT_SEED, **decoding)
        numpy_rdm, times["crossnobis"] = _timed(
            "crossnobis_rdm (numpy, noise='epoch', shrinkage_eye)", crossnobis_rdm, trials, settings=settings,
            progress=False)
        crossnobis_halves, times["crossnobis halves"] = _timed(
            "split_half_crossnobis_rdms (numpy)", split_half_crossnobis_rdms, trials, settings, seed=SPLIT_SEED,
            progress=False)
        for noise in ("time", "none"):
            _timed(f"crossnobis_rdm (numpy, noise={noise!r})", crossnobis_rdm, trials,
                   settings=CrossnobisSettings(seed=args.seed, noise=noise), progress=False)
        if not args.skip_rsatoolbox:
            reference, times["rsatoolbox"] = _timed(
                "crossnobis_rdm (rsatoolbox, noise='epoch', shrinkage_eye)", crossnobis_rdm, trials,
                settings=settings, backend="rsatoolbox", progress=False)
            print(f"numpy vs rsatoolbox back end: largest difference {np.abs(numpy_rdm - reference).max():.2e} "
                  f"(largest distance {np.abs(reference).max():.3g})")
            print(f"rsatoolbox / numpy: {times['rsatoolbox'] / times['crossnobis']:.1f}x")

    packaging_crossnobis = times["crossnobis"] + times["crossnobis halves"]
    print(f"packaging crossnobis (RDM + split halves): {packaging_crossnobis:.2f} s")
    print(f"crossnobis reliability (split-half, Spearman-Brown, {WINDOW.start * 10}-{(WINDOW.stop - 1) * 10} ms): "
          f"{_reliability(crossnobis_halves):.3f}")
    if not args.skip_decoding:
        packaging_decoding = times["decoding"] + times["decoding halves"]
        print(f"packaging decoding (RDM + split halves): {packaging_decoding:.2f} s")
        print(f"decoding / crossnobis: {times['decoding'] / times['crossnobis']:.1f}x (RDM), "
              f"{packaging_decoding / packaging_crossnobis:.1f}x (packaging)")
        print(f"decoding reliability (same window): {_reliability(decoding_halves):.3f}")
    print(f"goal: crossnobis RDM with noise normalisation <= 5 s: {times['crossnobis']:.2f} s "
          f"({'met' if times['crossnobis'] <= 5.0 else 'NOT met'})")


if __name__ == "__main__":
    main()
