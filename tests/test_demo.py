"""``realnet demo --quick``: the whole pipeline in a fresh process, against the regular install.

The demo trains a realnet from an unaligned random-init CORnet-S on the fixture EEG and scores both
with ``brainscore_vision.score``; the aligned model must score higher on the EEG benchmarks. This
is the slowest test of the suite (training a CORnet-S on CPU).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from PIL import Image

from installed import site_plugin_dir


def test_quick_demo_scores_aligned_model_above_baseline_and_writes_table_and_figure(tmp_path):
    site_plugin_dir("benchmarks", "realnet_things_eeg2")
    user_home = tmp_path / "user_home"
    out = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"REALNET_HOME": str(user_home), "OMP_NUM_THREADS": "2"})
    realnet = Path(sys.executable).with_name("realnet")
    res = subprocess.run([str(realnet), "demo", "--quick", "--quiet", "--no-report", "--out", str(out)],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=1500)
    assert res.returncode == 0, res.stderr[-4000:]
    assert str(out / "scores.csv") in res.stdout and str(out / "rsa_time_courses.png") in res.stdout
    assert not user_home.exists(), "the demo must not touch the user's $REALNET_HOME"
    assert (out / "home" / "checkpoints" / "realnet_s01.pt").is_file()
    assert (out / "home" / "checkpoints" / "realnet_base_cornet_s.pt").is_file()

    table = pd.read_csv(out / "scores.csv")
    assert len(table) == 6 and set(table["model"]) == {"realnet_s01", "realnet_base_cornet_s"}
    assert set(table["benchmark"]) == {"ThingsEEG2-temporal_rsa", "ThingsEEG2.sub-01-temporal_rsa",
                                       "Shen2019.natural-rsa"}
    scores = table.set_index(["benchmark", "model"])["raw_summary"]
    for benchmark in ("ThingsEEG2-temporal_rsa", "ThingsEEG2.sub-01-temporal_rsa"):
        assert scores[(benchmark, "realnet_s01")] > scores[(benchmark, "realnet_base_cornet_s")], table
    assert table["score"].between(0, 1).all()
    assert "| ThingsEEG2-temporal_rsa | realnet_s01 |" in (out / "scores.md").read_text()
    with Image.open(out / "rsa_time_courses.png") as figure:
        assert figure.format == "PNG" and figure.width > 1000 and figure.height > 600
