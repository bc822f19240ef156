"""GPU smoke check of the training fast path on a fixture release: train, concurrent train, checkpoints load.

    PYTHONPATH=. python bench/gpu_smoke_train.py OUT_DIR [DEVICE] [IMAGE_SIZE]

Runs ``train`` with bf16 autocast, channels_last and the image cache on the device (compile off
and reduce-overhead), then ``train_many`` with two subjects in lock-step; prints one JSON line per
run with wall time, final losses and the test-set EEG fidelity. Not a test: CI has no GPU.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from realnet_plugins.checkpoints import load_checkpoint  # noqa: E402
from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release  # noqa: E402
from realnet_plugins.training.loop import TrainConfig, train, train_many  # noqa: E402


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "gpu_smoke")
    device = sys.argv[2] if len(sys.argv) > 2 else "cuda"
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 96
    modes = ("off", "reduce-overhead") if device == "cuda" else ("off",)
    os.environ["REALNET_HOME"] = str(out / "home")
    release = write_things_eeg2_release(out / "release", n_subjects=2, n_train_concepts=40, images_per_concept=4,
                                        n_test_images=24, n_test_reps=8, image_size=max(size, 64), seed=0)
    for mode in modes:
        cfg = TrainConfig(release=release, subject=1, epochs=3, image_size=size, device=device, compile=mode,
                          lr=1e-3, run_name=f"smoke_{mode}")
        t0 = time.perf_counter()
        path = train(cfg, out=out / f"smoke_{mode}.pt", overwrite=True, progress=False)
        loaded = load_checkpoint(path)
        print(json.dumps({"run": f"train compile={mode}", "s": round(time.perf_counter() - t0, 1),
                          "metrics": loaded.meta.metrics, "amp": loaded.meta.training.get("amp")}), flush=True)
    t0 = time.perf_counter()
    cfgs = [TrainConfig(release=release, subject=s, epochs=3, image_size=size, device=device, lr=1e-3,
                        run_name=f"smoke_many_{s}") for s in (1, 2)]
    paths = train_many(cfgs, outs=[out / f"many_{s}.pt" for s in (1, 2)], overwrite=True, progress=False)
    print(json.dumps({"run": "train_many K=2", "s": round(time.perf_counter() - t0, 1),
                      "metrics": [load_checkpoint(p).meta.metrics for p in paths]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
