"""``realnet demo --quick``: the whole pipeline in a fresh process, against the regular install.

The demo trains a realnet for each of the fixture's two subjects from an unaligned random-init
CORnet-S and scores the baseline and ``realnet_s01`` with ``brainscore_vision.score``; the aligned
model must score higher on the EEG benchmarks. Its report then has statistics over both subjects,
and every title says the data are synthetic. The demo runs once for the three tests (the slowest
part of the suite: training two CORnet-S on CPU).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from installed import site_plugin_dir

DATA_LABEL = "synthetic fixture data, random-init 32 px nets"


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path, Path]:
    """``realnet demo --quick`` with its output going to a pipe (not a terminal): (result, out, user home)."""
    site_plugin_dir("benchmarks", "realnet_things_eeg2")
    tmp_path = tmp_path_factory.mktemp("quick_demo")
    user_home = tmp_path / "user_home"
    out = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"REALNET_HOME": str(user_home), "OMP_NUM_THREADS": "2"})
    realnet = Path(sys.executable).with_name("realnet")
    res = subprocess.run([str(realnet), "demo", "--quick", "--out", str(out)],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=1500)
    return res, out, user_home


def test_quick_demo_scores_aligned_model_above_baseline_and_writes_table_and_figure(quick_demo):
    res, out, user_home = quick_demo
    assert res.returncode == 0, res.stderr[-4000:]
    assert str(out / "scores.csv") in res.stdout and str(out / "rsa_time_courses.png") in res.stdout
    assert not user_home.exists(), "the demo must not touch the user's $REALNET_HOME"
    assert (out / "home" / "checkpoints" / "realnet_s01.pt").is_file()
    assert (out / "home" / "checkpoints" / "realnet_base_cornet_s.pt").is_file()

    table = pd.read_csv(out / "scores.csv")
    assert len(table) == 8 and set(table["model"]) == {"realnet_s01", "realnet_base_cornet_s"}
    assert set(table["benchmark"]) == {"ThingsEEG2-temporal_rsa", "ThingsEEG2.sub-01-temporal_rsa",
                                       "ThingsEEG2-temporal_rsa_crossnobis", "Shen2019.natural-rsa"}
    scores = table.set_index(["benchmark", "model"])["raw_summary"]
    # the aligned model ranks above the unaligned baseline on the decoding RDMs and on the crossnobis RDMs
    for benchmark in ("ThingsEEG2-temporal_rsa", "ThingsEEG2.sub-01-temporal_rsa",
                      "ThingsEEG2-temporal_rsa_crossnobis"):
        assert scores[(benchmark, "realnet_s01")] > scores[(benchmark, "realnet_base_cornet_s")], table
    assert table["score"].between(0, 1).all()
    assert "| ThingsEEG2-temporal_rsa | realnet_s01 |" in (out / "scores.md").read_text()
    with Image.open(out / "rsa_time_courses.png") as figure:
        assert figure.format == "PNG" and figure.width > 1000 and figure.height > 600


def test_quick_demo_trains_every_subject_logs_progress_and_says_how_to_use_its_models(quick_demo):
    res, out, _ = quick_demo
    assert res.returncode == 0, res.stderr[-4000:]
    assert (out / "home" / "checkpoints" / "realnet_s02.pt").is_file()
    assert f"export REALNET_HOME={out / 'home'}" in res.stdout
    assert "realnet_base_cornet_s, realnet_s01, realnet_s02" in res.stdout
    assert DATA_LABEL in (out / "scores.md").read_text() and "flags" in pd.read_csv(out / "scores.csv").columns
    # not a terminal: progress lines (a start and an end line per phase), no bars of our own
    for subject in (1, 2):
        assert f"demo: training realnet_s0{subject} ({subject}/2): started (10 steps)" in res.stderr
        assert re.search(rf"demo: training realnet_s0{subject} \({subject}/2\): done, 10 steps in ", res.stderr)
    assert "report: figures: done, 15 figures in" in res.stderr
    assert "epoch 1:" not in res.stderr  # the training loop's own tqdm bars stay off


def test_quick_demo_report_has_statistics_over_both_subjects_and_says_the_data_are_synthetic(quick_demo):
    res, out, _ = quick_demo
    assert res.returncode == 0, res.stderr[-4000:]
    report = out / "report"
    curves = pd.read_csv(report / "fig2a_layer_time_courses__curves.csv")
    assert set(curves.loc[curves["group"] == "ReAlnet", "n"]) == {2}
    marks = pd.read_csv(report / "fig2a_layer_time_courses__marks.csv")
    assert set(marks["comparison"]) == {"CORnet-S"} and set(marks["n_pairs"]) == {2}
    assert np.isfinite(marks["t"]).all()  # paired t-tests across the two subjects
    cells = pd.read_csv(report / "fig2efg_cross_subject__cells.csv")
    assert sorted(zip(cells["model"], cells["subject"])) == [
        (f"realnet_s0{m}", f"sub-0{s}") for m in (1, 2) for s in (1, 2)]
    stats = pd.read_csv(report / "fig5_controls__stats.csv").set_index(["group", "measure"])
    assert stats.loc[("ReAlnet", "eeg_improvement"), "n"] == 2
    assert np.isfinite(stats.loc[("ReAlnet", "eeg_improvement"), "t"])
    pairs = pd.read_csv(report / "fig2d_individual_variability__pairs.csv")
    assert len(pairs[pairs["set"] == "ReAlnet"].drop_duplicates(["model_a", "model_b"])) == 1

    page = (report / "report.html").read_text(encoding="utf-8")
    assert f"<h1>ReAlnet: the paper's analyses — {DATA_LABEL}</h1>" in page
    assert "With n = 2 subjects the t-tests have 1 degree of freedom" in page
    headings = re.findall(r"<h2 id='[^']+'>([^<]+)</h2>", page)
    figures = sorted(report.glob("*.png"))
    assert len(figures) >= 8 and len([h for h in headings if h.endswith(f"({DATA_LABEL})")]) == len(figures)
    for png in figures:
        with Image.open(png) as image:
            assert image.text["Title"].split("\n")[-1] == DATA_LABEL, png.name
