"""``realnet report`` on synthetic score records: the store, the analyses' glue, figures, CSV and HTML.

The scorer here is a stand-in that returns Score-like records in Brain-Score's layout (``raw`` per
subject × region × time, or subject × roi × region) and counts its calls, so that the report's logic
is tested without Brain-Score; ``test_report_e2e.py`` runs the real path.
"""
from __future__ import annotations

import argparse
import base64
import html
import json
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
from scipy import stats as scipy_stats

from realnet_plugins.analysis.dimensions import dimension_rdms, partial_spearman
from realnet_plugins.checkpoints import CheckpointMeta
from realnet_plugins.errors import DataFormatError, MissingFileError, UsageError
from realnet_plugins.identifiers import parse_identifier
from realnet_plugins.paths import checkpoints_dir
from realnet_plugins.report import analyses as an
from realnet_plugins.report import figures as fg
from realnet_plugins.report import sections
from realnet_plugins.report.build import build_report
from realnet_plugins.report.imagenet import read_labelled_folder, top_k_accuracy
from realnet_plugins.report.rdms import RDM_LAYERS, LayerRDMs, RDMStore, StimulusImages
from realnet_plugins.report.scores import ScoreRecord, ScoreStore, array_from_record, array_record, score_table
from realnet_plugins.report.selection import group_models, resolve_models
from realnet_plugins.report.verify_paper import PAPER_VALUES, verify_paper, windows_text

TIMES_MS = np.arange(0, 200, 10)
REGIONS = ["V1", "V2", "V4", "IT"]
ROIS = ["V1", "V2", "V3", "V4", "LOC"]
SHEN_SUBJECTS = ["sub-01", "sub-02", "sub-03"]


class FakeScore:
    """What the store reads from a Brain-Score ``Score``: ``values`` and ``attrs``."""

    def __init__(self, value: float, attrs: dict) -> None:
        self.values = np.float64(value)
        self.attrs = attrs


def _model_effect(model: str) -> tuple[float, int | None]:
    """A family's improvement over the base model and the model's subject."""
    if "_s" not in model or model.startswith("realnet_base"):
        return 0.0, None
    family, subject = model.rsplit("_s", 1)
    return {"realnet": 0.03, "realnet_scrambled": 0.005, "realnet_beta0": 0.004}.get(family, 0.0), int(subject)


class FakeScorer:
    """Deterministic Score-like records; ``calls`` lists every (model, benchmark) scored."""

    def __init__(self, n_subjects: int = 4, behaviour_error: Exception | None = OSError("no network")) -> None:
        self.subjects = [f"sub-{s:02d}" for s in range(1, n_subjects + 1)]
        self.behaviour_error = behaviour_error
        self.calls: list[tuple[str, str]] = []

    def benchmark_version(self, benchmark: str) -> str:
        return "test-1"

    def __call__(self, model: str, benchmark: str) -> FakeScore:
        self.calls.append((model, benchmark))
        effect, own = _model_effect(model)
        rng = np.random.default_rng([zlib.crc32(model.encode()), zlib.crc32(benchmark.encode())])
        if benchmark == "ThingsEEG2-temporal_rsa":
            values = np.empty((len(self.subjects), 4, 20))
            for i in range(len(self.subjects)):
                for r in range(4):
                    evoked = 0.12 * np.exp(-((TIMES_MS - 100 - 15 * r) / 40.0) ** 2)
                    boost = effect * (1.5 if own == i + 1 else 1.0) * (TIMES_MS >= 50)
                    values[i, r] = (0.8 + 0.05 * i) * evoked + boost + rng.normal(0, 0.003, 20)
            detail = xr.DataArray(values, dims=("subject", "region", "time_ms"),
                                  coords={"subject": self.subjects, "region": REGIONS, "time_ms": TIMES_MS})
            raw = float(values[:, :, 5:].mean())
            return FakeScore(raw / 0.5, {"detail": detail, "ceiling": FakeScore(0.5, {}), "raw": FakeScore(raw, {}),
                                         "raw_summary": raw})
        if benchmark.startswith("Shen2019"):
            values = 0.2 + 2 * effect + rng.normal(0, 0.004, (3, 5, 4))
            detail = xr.DataArray(values, dims=("subject", "roi", "region"),
                                  coords={"subject": SHEN_SUBJECTS, "roi": ROIS, "region": REGIONS})
            return FakeScore(values.max(axis=2).mean(), {"detail": detail})
        if self.behaviour_error is not None:
            raise self.behaviour_error
        return FakeScore(0.3 + effect + rng.normal(0, 0.005), {})


def fidelity_of(identifier: str) -> dict[str, float]:
    """The training record's test metrics of a stand-in checkpoint."""
    subject = int(identifier.rsplit("_s", 1)[1])
    return {"spearman": 0.7 + 0.01 * subject, "pearson_mean_feature": 0.3 - 0.01 * subject, "n_images": 200}


def meta_only_checkpoint(path: Path, identifier: str, seed: int = 2023) -> Path:
    """A checkpoint file with the realnet record but no weights: enough to read its meta (verify=False)."""
    spec = parse_identifier(identifier)
    meta = CheckpointMeta(backbone=spec.backbone, variant=spec.variant, subject=spec.subject, beta=spec.beta,
                          seed=seed, identifier=identifier, has_eeg_head=spec.has_eeg_head, weights_sha256="none",
                          metrics={"test": fidelity_of(identifier)} if spec.has_eeg_head else {})
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": "realnet-checkpoint", "format_version": 1, "state_dict": {}, "meta": meta.to_dict()}, path)
    return path


def fake_checkpoints(identifiers: list[str]) -> None:
    """Weightless stand-in checkpoints under the identifiers' checkpoint paths."""
    for identifier in identifiers:
        meta_only_checkpoint(checkpoints_dir() / f"{identifier}.pt", identifier)


def stimulus_images(n: int = 14) -> StimulusImages:
    ids = tuple(f"img{i:02d}" for i in range(n))
    return StimulusImages(ids, tuple(f"/nowhere/{i}.jpg" for i in ids), "test-images",
                          tuple(f"{7 * k + 1:05d}_concept" for k in range(n)))


def _rdm_from_features(features: np.ndarray) -> np.ndarray:
    return 1.0 - np.corrcoef(features)


def seeded_rdms(checkpoint: Path, images: StimulusImages) -> LayerRDMs:
    """RDMs shared by every model plus a model-specific part growing with depth."""
    n = len(images.stimulus_ids)
    shared = np.random.default_rng(0).normal(size=(len(RDM_LAYERS), n, 6))
    own = np.random.default_rng(zlib.crc32(checkpoint.stem.encode())).normal(size=(len(RDM_LAYERS), n, 6))
    rdms = np.stack([_rdm_from_features(shared[k] + 0.2 * (k + 1) * own[k]) for k in range(len(RDM_LAYERS))])
    return LayerRDMs(RDM_LAYERS, rdms, images.stimulus_ids)


def identical_rdms(checkpoint: Path, images: StimulusImages) -> LayerRDMs:
    n = len(images.stimulus_ids)
    shared = np.random.default_rng(0).normal(size=(len(RDM_LAYERS), n, 6))
    return LayerRDMs(RDM_LAYERS, np.stack([_rdm_from_features(f) for f in shared]), images.stimulus_ids)


def fmri_rdms() -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    return {s: {roi: _rdm_from_features(rng.normal(size=(8, 5))) for roi in ("V1", "V2", "V4", "LOC")}
            for s in SHEN_SUBJECTS}


def ids(family: str, n: int) -> list[str]:
    return [f"{family}_s{s:02d}" for s in range(1, n + 1)]


def report(out: Path, scorer: FakeScorer, *, models=("realnet_s*",), controls=(), rdms=seeded_rdms, **kwargs):
    store = ScoreStore(scorer=scorer, data_fingerprint=lambda benchmark: "package-1")
    return build_report(list(models), out, controls=list(controls), score_store=store,
                        rdm_store=RDMStore(compute=rdms), test_images=stimulus_images, fmri_rdms=fmri_rdms,
                        n_permutations=200, progress=False, **kwargs)


WORLD = ids("realnet", 4) + ids("realnet_scrambled", 4) + ["realnet_base_cornet_s"]


@pytest.fixture
def world() -> list[str]:
    """Four ReAlnets, four Scrambled controls and the base model (checkpoint stand-ins)."""
    fake_checkpoints(WORLD)
    return WORLD


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """One report of :data:`WORLD` with the Scrambled controls, then a second run in the same home."""
    root = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REALNET_HOME", str(root / "home"))
        fake_checkpoints(WORLD)
        scorer = FakeScorer()
        first = report(root / "first", scorer, controls=["realnet_scrambled_s*"])
        calls_after_first = len(scorer.calls)
        second = report(root / "second", scorer, controls=["realnet_scrambled_s*"])
    return {"first": first, "second": second, "out": root / "first", "second_out": root / "second",
            "scorer": scorer, "calls_after_first": calls_after_first}


# ---------------------------------------------------------------- the score store


def test_second_report_run_scores_nothing_and_reads_every_score_from_the_store(built):
    # 9 models × (EEG + 3 fMRI) + the first behavioural failure per benchmark (then that benchmark is given up)
    assert built["calls_after_first"] == 9 * 4 + 2
    assert built["first"].scores_computed == 9 * 4
    assert len(built["scorer"].calls) == built["calls_after_first"]  # failures are stored too
    assert (built["second"].scores_computed, built["second"].scores_cached) == (0, 9 * 4)
    assert (built["second"].rdms_computed, built["second"].rdms_cached) == (0, 9)
    for name in ("fig2a_layer_time_courses__curves.csv", "fig3_fmri__stats.csv",
                 "fig2d_individual_variability__pairs.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(built["out"] / name), pd.read_csv(built["second_out"] / name))


def test_stored_failures_are_reported_without_scoring_until_retried(world, tmp_path):
    scorer = FakeScorer()
    store = ScoreStore(root=tmp_path / "scores", scorer=scorer, data_fingerprint=lambda b: "package-1")
    models = resolve_models(ids("realnet", 2))[0]
    requests = [(m, "Geirhos2021-error_consistency") for m in models]
    _, failures = store.get_many(requests, on_error=lambda benchmark, error: "benchmark")
    assert len(scorer.calls) == 1 and [f.model_identifier for f in failures] == ids("realnet", 2)
    _, again = store.get_many(requests, on_error=lambda benchmark, error: "benchmark")
    assert len(scorer.calls) == 1 and "--retry-failed" in again[0].reason and "no network" in again[0].reason
    scorer.behaviour_error = None
    records, failures = store.get_many(requests, on_error=lambda benchmark, error: "benchmark", retry_failed=True)
    assert len(scorer.calls) == 3 and not failures and len(records) == 2
    assert not list((tmp_path / "scores").rglob("*.failed.json"))
    with pytest.raises(OSError):
        ScoreStore(root=tmp_path / "other", scorer=FakeScorer(), data_fingerprint=lambda b: "p").get_many(requests)


def test_a_changed_checkpoint_or_package_is_scored_again(world, tmp_path):
    scorer = FakeScorer()
    store = ScoreStore(root=tmp_path / "scores", scorer=scorer, data_fingerprint=lambda b: "package-1")
    model = resolve_models(["realnet_s01"])[0][0]
    first = store.get(model, "ThingsEEG2-temporal_rsa")
    assert store.get(model, "ThingsEEG2-temporal_rsa").key == first.key and len(scorer.calls) == 1
    meta_only_checkpoint(model.checkpoint, "realnet_s01", seed=7)  # retrained
    retrained = store.get(model, "ThingsEEG2-temporal_rsa")
    assert retrained.key != first.key and len(scorer.calls) == 2
    repackaged = ScoreStore(root=tmp_path / "scores", scorer=scorer, data_fingerprint=lambda b: "package-2")
    assert repackaged.get(model, "ThingsEEG2-temporal_rsa").key_parts["data_fingerprint"] == "package-2"
    assert len(scorer.calls) == 3


def test_score_record_round_trips_through_json_with_detail_values_and_nan(world):
    raw = xr.DataArray(np.array([[0.1, np.nan], [0.3, 0.4]]), dims=("subject", "time_ms"),
                       coords={"subject": ["sub-01", "sub-02"], "time_ms": [0, 10]})
    record = ScoreRecord("realnet_s01", "ThingsEEG2-temporal_rsa", float("nan"), raw,
                         {"ceiling": 0.5, "subjects": ["sub-01", "sub-02"]}, "k", {"a": "b"})
    text = json.dumps(record.to_json())
    assert "NaN" not in text  # strict JSON: NaN is written as null
    back = ScoreRecord.from_json(json.loads(text))
    assert np.isnan(back.value) and back.attrs == record.attrs
    xr.testing.assert_identical(back.detail, raw.astype(float))
    xr.testing.assert_identical(array_from_record(array_record(raw)), raw)


# ---------------------------------------------------------------- realnet score (the score table)

EEG, NATURAL, GEIRHOS = "ThingsEEG2-temporal_rsa", "Shen2019.natural-rsa", "Geirhos2021-error_consistency"


def _fake_store(scorer: FakeScorer, root: Path | None = None) -> ScoreStore:
    return ScoreStore(root=root, scorer=scorer, data_fingerprint=lambda benchmark: "package-1")


def test_score_table_scores_each_pair_once_and_reads_it_back_from_the_store(world):
    scorer = FakeScorer()
    table = score_table(["realnet_s*", "realnet_base_cornet_s"], [EEG, NATURAL, EEG], store=_fake_store(scorer))
    expected_models = ids("realnet", 4) + ["realnet_base_cornet_s"]
    assert table.table["model"].tolist() == [m for m in expected_models for _ in (EEG, NATURAL)]
    assert table.table["benchmark"].tolist() == [EEG, NATURAL] * 5  # the repeated benchmark is scored once
    assert (table.computed, table.stored, table.failed) == (10, 0, 0) and len(scorer.calls) == 10
    assert set(table.table["source"]) == {"computed"} and set(table.table["error"]) == {""}
    # the values are the scorer's: the (ceiled) score, the ceiling and the raw summary where reported
    reference = FakeScorer()
    for row in table.table.itertuples():
        score = reference(row.model, row.benchmark)
        assert row.score == pytest.approx(float(score.values), rel=1e-12)
        if row.benchmark == EEG:
            assert row.ceiling == 0.5 and row.raw == pytest.approx(score.attrs["raw_summary"], rel=1e-12)
        else:
            assert np.isnan(row.ceiling) and np.isnan(row.raw)
    again = score_table(["realnet_s*", "realnet_base_cornet_s"], [EEG, NATURAL], store=_fake_store(scorer))
    assert len(scorer.calls) == 10 and (again.computed, again.stored) == (0, 10)
    assert set(again.table["source"]) == {"stored"}
    pd.testing.assert_frame_equal(again.table.drop(columns="source"), table.table.drop(columns="source"))
    text = again.format()
    assert text.splitlines()[0].split() == ["model", "benchmark", "score", "ceiling", "raw", "source", "error"]
    assert f"{table.table['score'][0]:.4f}" in text and "—" in text


def test_score_table_records_failures_with_keep_going_and_raises_without(world, tmp_path):
    scorer = FakeScorer()
    table = score_table(ids("realnet", 2), [NATURAL, GEIRHOS], store=_fake_store(scorer), keep_going=True)
    failed = table.table[table.table["source"] == "failed"]
    assert failed["benchmark"].tolist() == [GEIRHOS, GEIRHOS] and table.failed == 2 and table.computed == 2
    assert all("OSError: no network" in reason for reason in failed["error"]) and failed["score"].isna().all()
    calls = len(scorer.calls)
    again = score_table(ids("realnet", 2), [NATURAL, GEIRHOS], store=_fake_store(scorer), keep_going=True)
    assert len(scorer.calls) == calls and again.failed == 2 and "--retry-failed" in again.table["error"].iloc[1]
    with pytest.raises(OSError, match="no network"):
        score_table(["realnet_s03"], [GEIRHOS], store=_fake_store(FakeScorer(), tmp_path / "fresh"))


def test_score_table_with_nothing_to_score_says_why(world):
    with pytest.raises(UsageError, match="no model to score: 'realnet_nomse_s\\*' matches no checkpoint"):
        score_table(["realnet_nomse_s*"], [EEG], store=_fake_store(FakeScorer()))
    with pytest.raises(UsageError, match="no benchmark to score"):
        score_table(["realnet_s01"], [], store=_fake_store(FakeScorer()))


def test_score_command_prints_the_table_writes_csv_and_fails_on_a_failed_score(world, tmp_path, monkeypatch, capsys):
    from realnet_plugins.cli import main
    from realnet_plugins.report import scores

    scorer = FakeScorer()
    monkeypatch.setattr(scores, "ScoreStore", lambda: _fake_store(scorer))
    out = tmp_path / "scores.csv"
    assert main(["score", "--models", "realnet_s01", "realnet_s02", "--benchmarks", EEG, "--csv", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "2 computed, 0 from the store, 0 failed" in printed and f"wrote {out}" in printed
    written = pd.read_csv(out, keep_default_na=False)
    assert written["model"].tolist() == ["realnet_s01", "realnet_s02"] and list(written.columns) == [
        "model", "benchmark", "score", "ceiling", "raw", "source", "error"]
    assert written["score"].tolist() == pytest.approx([float(FakeScorer()(m, EEG).values) for m in ids("realnet", 2)])
    assert main(["score", "--models", "realnet_s01", "--benchmarks", EEG, GEIRHOS, "--keep-going", "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "0 computed, 1 from the store, 1 failed" in printed and "no network" in printed
    assert main(["score", "--models", "realnet_nomse_s*", "--quiet"]) == 2
    assert "realnet score: error: no model to score" in capsys.readouterr().err


def test_a_record_of_another_format_is_refused_with_advice():
    with pytest.raises(DataFormatError, match="delete the file"):
        ScoreRecord.from_json({"format": "something-else"}, "x.json")


# ---------------------------------------------------------------- model selection


def test_group_pattern_takes_one_family_and_only_present_checkpoints():
    fake_checkpoints(["realnet_s01", "realnet_s03", "realnet_scrambled_s01", "realnet_r_s01"])
    models, notes = resolve_models(["realnet_s*", "realnet_r_s0?", "realnet_nomse_s*", "realnet_s05"])
    assert [m.name for m in models] == ["realnet_s01", "realnet_s03", "realnet_r_s01"]
    assert any("realnet_nomse_s*" in n for n in notes) and any("realnet_s05" in n for n in notes)
    groups = group_models(models)
    assert [(g.label, g.personalised, g.subjects) for g in groups] == [("ReAlnet", True, [1, 3]),
                                                                       ("ReAlnet-R", True, [1])]


def test_other_names_are_brainscore_models_without_checkpoint():
    models, _ = resolve_models(["resnet101"])
    assert (models[0].brainscore_id, models[0].checkpoint, models[0].subject) == ("resnet101", None, None)


# ---------------------------------------------------------------- analyses on hand-checkable records


def _raw(values_by_subject: dict[str, float]) -> xr.DataArray:
    subjects = list(values_by_subject)
    values = np.stack([np.full((4, 20), v) for v in values_by_subject.values()])
    return xr.DataArray(values, dims=("subject", "region", "time_ms"),
                        coords={"subject": subjects, "region": REGIONS, "time_ms": TIMES_MS})


def _hand_data(matrix: np.ndarray, base: np.ndarray) -> an.ReportData:
    """ReAlnets whose RSA with subject j is matrix[i, j] everywhere; the base model's is base[j]."""
    fake_checkpoints(ids("realnet", len(base)) + ["realnet_base_cornet_s"])
    models, _ = resolve_models(["realnet_s*"])
    base_models, _ = resolve_models(["realnet_base_cornet_s"])
    subjects = [f"sub-{s:02d}" for s in range(1, len(base) + 1)]
    data = an.ReportData(main=group_models(models)[0], base=group_models(base_models)[0])
    for i, model in enumerate(models):
        data.eeg[model.name] = _raw(dict(zip(subjects, matrix[i])))
    data.eeg["realnet_base_cornet_s"] = _raw(dict(zip(subjects, base)))
    return data


def test_cross_subject_matrix_comes_from_the_all_subject_raw_values():
    matrix = np.array([[0.30, 0.10, 0.12], [0.11, 0.28, 0.10], [0.09, 0.12, 0.33]])
    base = np.array([0.05, 0.06, 0.04])
    result = an.cross_subject(_hand_data(matrix, base))
    cells = result.cells.pivot(index="model", columns="subject", values="similarity").to_numpy()
    np.testing.assert_allclose(cells, matrix, atol=1e-12)
    subtracted = result.cells.pivot(index="model", columns="subject", values="baseline_subtracted").to_numpy()
    np.testing.assert_allclose(subtracted, matrix - base, atol=1e-12)
    normalised = (matrix - base) / (matrix - base).max(axis=0)
    np.testing.assert_allclose(result.cells.pivot(index="model", columns="subject", values="normalised").to_numpy(),
                               normalised, atol=1e-12)
    matched = np.diag(normalised)
    unmatched = np.array([np.delete(normalised[i], i).mean() for i in range(3)])
    expected = scipy_stats.ttest_rel(matched, unmatched)
    assert result.test["t"].iloc[0] == pytest.approx(expected.statistic)
    assert result.test["p"].iloc[0] == pytest.approx(expected.pvalue)


def test_personalised_models_meet_their_own_subject_and_single_models_every_subject():
    matrix = np.array([[0.30, 0.10, 0.12], [0.11, 0.28, 0.10], [0.09, 0.12, 0.33]])
    data = _hand_data(matrix, np.array([0.05, 0.06, 0.04]))
    realnets = an.eeg_rows(data.main, data)
    assert realnets.subjects == ("sub-01", "sub-02", "sub-03")
    np.testing.assert_allclose(realnets.values[:, 0, 0], np.diag(matrix))
    base = an.eeg_rows(data.base, data)
    assert base.models == ("realnet_base_cornet_s",) * 3
    np.testing.assert_allclose(base.values[:, 0, 0], [0.05, 0.06, 0.04])


def test_peak_improvement_and_ratio_are_taken_at_the_peak_of_the_mean_realnet_curve():
    data = _hand_data(np.full((3, 3), 0.2), np.array([0.1, 0.1, 0.1]))
    for i, name in enumerate(ids("realnet", 3)):
        values = data.eeg[name].values.copy()
        values[:, :, 12] = 0.5 + 0.01 * i  # every layer peaks at 120 ms
        data.eeg[name] = data.eeg[name].copy(data=values)
    result = an.peak_improvements(data)
    assert set(result.values["peak_time_ms"]) == {120.0}
    np.testing.assert_allclose(result.values.groupby("model")["improvement"].first(), [0.4, 0.41, 0.42])
    np.testing.assert_allclose(result.values.groupby("model")["ratio"].first(), [4.0, 4.1, 4.2])
    expected = scipy_stats.ttest_1samp([0.4, 0.41, 0.42], 0.0)
    row = result.stats[(result.stats["layer"] == "V1") & (result.stats["measure"] == "improvement")]
    assert row["t"].iloc[0] == pytest.approx(expected.statistic)


def test_variability_of_identical_models_is_all_zeros():
    fake_checkpoints(ids("realnet", 3))
    models, _ = resolve_models(["realnet_s*"])
    data = an.ReportData(main=group_models(models)[0], base=None)
    for model in models:
        data.rdms[model.name] = identical_rdms(model.checkpoint, stimulus_images())
    result = an.model_variability("ReAlnet", models, data)
    assert len(result.pairs) == 3 * len(RDM_LAYERS)
    np.testing.assert_array_equal(result.pairs["variability"], 0.0)
    np.testing.assert_array_equal(result.summary["mean"], 0.0)


def test_variability_csv_holds_one_minus_spearman_of_every_pair(built):
    pairs = pd.read_csv(built["out"] / "fig2d_individual_variability__pairs.csv")
    row = pairs[(pairs["set"] == "ReAlnet") & (pairs["layer"] == "V4") & (pairs["model_a"] == "realnet_s01")
                & (pairs["model_b"] == "realnet_s03")].iloc[0]
    a = seeded_rdms(Path("realnet_s01.pt"), stimulus_images()).layer("V4")
    b = seeded_rdms(Path("realnet_s03.pt"), stimulus_images()).layer("V4")
    upper = np.triu_indices(a.shape[0], 1)
    assert row["variability"] == pytest.approx(1 - scipy_stats.spearmanr(a[upper], b[upper])[0])
    human = pairs[pairs["set"].str.startswith("human")]
    assert set(human["layer"]) == {"V1", "V2", "V4", "LOC"} and len(human) == 3 * 4


def test_fmri_tests_are_bonferroni_corrected_within_each_image_set(built):
    values = pd.read_csv(built["out"] / "fig3_fmri__values.csv")
    stats = pd.read_csv(built["out"] / "fig3_fmri__stats.csv")
    row = stats[(stats["image_set"] == "shape") & (stats["roi"] == "V4") & (stats["comparison"] == "Scrambled")].iloc[0]
    main = values[(values["group"] == "ReAlnet") & (values["image_set"] == "shape") & (values["roi"] == "V4")]
    other = values[(values["group"] == "Scrambled") & (values["image_set"] == "shape") & (values["roi"] == "V4")]
    expected = scipy_stats.ttest_rel(main.sort_values("training_subject")["similarity"],
                                     other.sort_values("training_subject")["similarity"])
    assert row["t"] == pytest.approx(expected.statistic)
    family = (stats["image_set"] == "shape").sum()
    assert family == 5 * 2  # ROIs × (base model, Scrambled)
    assert row["p_bonferroni"] == pytest.approx(min(expected.pvalue * family, 1.0))
    base_row = stats[(stats["image_set"] == "shape") & (stats["roi"] == "V4") & (stats["comparison"] == "CORnet-S")]
    base_value = values[(values["group"] == "CORnet-S") & (values["image_set"] == "shape") & (values["roi"] == "V4")]
    one_sample = scipy_stats.ttest_1samp(main["similarity"], float(base_value["similarity"].iloc[0]))
    assert base_row["t"].iloc[0] == pytest.approx(one_sample.statistic)
    np.testing.assert_allclose(main["similarity"], main[SHEN_SUBJECTS].mean(axis=1))


def test_improvement_over_base_is_per_subject_and_tested_against_zero(built):
    values = pd.read_csv(built["out"] / "fig5_controls__values.csv")
    curves_stats = pd.read_csv(built["out"] / "fig5_controls__stats.csv")
    realnet = values[values["group"] == "ReAlnet"]
    assert list(realnet["subject"]) == ["sub-01", "sub-02", "sub-03", "sub-04"]
    expected = scipy_stats.ttest_1samp(realnet["eeg_improvement"], 0.0)
    row = curves_stats[(curves_stats["group"] == "ReAlnet") & (curves_stats["measure"] == "eeg_improvement")].iloc[0]
    assert (row["t"], row["p"]) == (pytest.approx(expected.statistic), pytest.approx(expected.pvalue))
    assert row["cohens_d"] == pytest.approx(realnet["eeg_improvement"].mean() / realnet["eeg_improvement"].std(ddof=1))
    scrambled = values[values["group"] == "Scrambled"]
    paired = curves_stats[curves_stats["measure"] == "eeg_improvement vs ReAlnet"].iloc[0]
    assert paired["t"] == pytest.approx(scipy_stats.ttest_rel(scrambled["eeg_improvement"],
                                                              realnet["eeg_improvement"]).statistic)


def test_things_dimensions_skip_constant_dimensions_and_rank_by_mean_improvement():
    fake_checkpoints(ids("realnet", 3) + ["realnet_base_cornet_s"])
    models, _ = resolve_models(["realnet_s*"])
    base_models, _ = resolve_models(["realnet_base_cornet_s"])
    data = an.ReportData(main=group_models(models)[0], base=group_models(base_models)[0])
    images = stimulus_images(14)
    for model in [*models, *base_models]:
        data.rdms[model.name] = seeded_rdms(model.checkpoint, images)
    embedding = np.random.default_rng(3).random((14, 6))
    embedding[:, 2] = 1.0  # constant over the images: explains nothing
    labels = [f"d{k}" for k in range(6)]
    result = an.dimension_scores(data, embedding, labels, n_top=3)
    keep = [0, 1, 3, 4, 5]
    direct = partial_spearman(data.rdms["realnet_s02"].layer("IT"), dimension_rdms(embedding[:, keep]))
    row = result.values[result.values["model"] == "realnet_s02"].set_index("dimension")
    np.testing.assert_allclose(row.loc[keep, "r_squared"], direct.r_squared, rtol=1e-12)
    assert np.isnan(row.loc[2, "r_squared"])
    improvement = np.stack([result.values[result.values["model"] == m.name]["r_squared"].to_numpy()
                            - result.values[result.values["model"] == "realnet_base_cornet_s"]["r_squared"].to_numpy()
                            for m in models]).mean(axis=0)
    order = [d for d in np.argsort(-np.nan_to_num(improvement, nan=-np.inf), kind="stable")][:3]
    assert list(result.top["dimension"]) == order
    assert 2 not in set(result.enhanced["dimension"])


def test_windows_are_written_as_the_paper_writes_them():
    significant = [t in (70, 80, 90, 100, 110, 120, 160, 170, 180, 190) for t in TIMES_MS]
    assert windows_text(TIMES_MS, significant) == "70–130 and 160–200 ms"
    assert windows_text(TIMES_MS, [False] * 20) == "none"


# ---------------------------------------------------------------- figures, tables, page


def test_time_course_figure_draws_exactly_the_csv_numbers(built):
    curves = pd.read_csv(built["out"] / "fig2a_layer_time_courses__curves.csv")
    marks = pd.read_csv(built["out"] / "fig2a_layer_time_courses__marks.csv")
    figure = fg.plot_time_courses(curves, marks, main_label="ReAlnet", title="t")
    lines = {line.get_gid(): line for ax in figure.axes for line in ax.get_lines() if line.get_gid()}
    for (group, layer), part in curves.groupby(["group", "layer"]):
        line = lines[f"{group}|{layer}"]
        np.testing.assert_allclose(line.get_xdata(), part.sort_values("time_ms")["time_ms"])
        np.testing.assert_allclose(line.get_ydata(), part.sort_values("time_ms")["mean"])
    for (comparison, layer), part in marks.groupby(["comparison", "layer"]):
        drawn = lines[f"marks|{comparison}|{layer}"].get_xdata()
        np.testing.assert_array_equal(drawn, part.loc[part["uncorrected_significant"], "time_ms"])


def test_time_course_csv_holds_mean_and_sem_over_subjects(built):
    scorer = FakeScorer()
    curves = pd.read_csv(built["out"] / "fig2a_layer_time_courses__curves.csv")
    own = np.stack([scorer(f"realnet_s{s:02d}", "ThingsEEG2-temporal_rsa").attrs["detail"].values[s - 1, 2]
                    for s in range(1, 5)])  # layer V4, each model against its own subject
    part = curves[(curves["group"] == "ReAlnet") & (curves["layer"] == "V4")].sort_values("time_ms")
    np.testing.assert_allclose(part["mean"], own.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(part["sem"], scipy_stats.sem(own, axis=0), rtol=1e-9)
    assert set(part["n"]) == {4}


def test_bar_figures_draw_the_csv_means(built):
    values = pd.read_csv(built["out"] / "fig5_controls__values.csv")
    long = values.melt(id_vars=["group", "model", "training_subject", "subject"],
                       value_vars=["eeg_improvement", "fmri_improvement"], var_name="measure",
                       value_name="improvement").assign(x="improvement")
    figure = fg.plot_grouped_bars(long, panel_column="measure", x_column="x", value_column="improvement",
                                  group_order=["ReAlnet", "Scrambled"], ylabel="y", title="t")
    bars = {patch.get_gid(): patch for ax in figure.axes for patch in ax.patches if patch.get_gid()}
    for (group, measure), part in long.groupby(["group", "measure"]):
        assert bars[f"{group}|{measure}|improvement"].get_height() == pytest.approx(part["improvement"].mean())


def test_html_page_embeds_every_png_and_names_every_csv(built):
    result = built["first"]
    page = result.html.read_text(encoding="utf-8")
    embedded = [base64.b64decode(b) for b in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)]
    assert sorted(embedded) == sorted(f.png.read_bytes() for f in result.figures)
    assert len(result.figures) >= 8
    for figure in result.figures:
        assert figure.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        for table in figure.tables:
            assert table.name in page and table.is_file()
    assert "src='http" not in page and "href='http" not in page
    for skipped in result.skipped:
        assert html.escape(skipped.title) in page


class FlaggingScorer(FakeScorer):
    """A scorer whose benchmark flags one model's EEG score (as this project's benchmarks do in attrs['flags'])."""

    FLAGS = ["raw above ceiling", "too few images for a stable RSA"]

    def __call__(self, model: str, benchmark: str) -> FakeScore:
        score = super().__call__(model, benchmark)
        if model == "realnet_s02" and benchmark == "ThingsEEG2-temporal_rsa":
            score.attrs["flags"] = list(self.FLAGS)
        return score


def _models_figure(context: sections.ReportContext) -> sections.Section:
    """A figure added for the test: one bar per ReAlnet with layer RDMs."""
    from matplotlib.figure import Figure

    table = pd.DataFrame({"model": [m.name for m in context.main.models if m.name in context.data.rdms]})
    figure = Figure()
    figure.subplots().bar(range(len(table)), np.ones(len(table)))
    figure.suptitle("ReAlnets with layer RDMs")
    return sections.Section(f"{len(table)} models.", figure, {"values": table, "empty": pd.DataFrame()})


def test_a_figure_added_to_the_table_is_written_listed_and_skipped_by_its_requirements(world, tmp_path):
    added = sections.FigureSpec("extra_models", "Extra — ReAlnets with RDMs", _models_figure, ("layer_rdms",))
    needs_imagenet = sections.FigureSpec("extra_imagenet", "Extra — needs ImageNet", _models_figure, ("imagenet_val",))
    result = report(tmp_path, FakeScorer(), figures=(added, needs_imagenet))
    assert [f.name for f in result.figures] == ["extra_models"]
    assert [(s.name, s.title) for s in result.skipped] == [("extra_imagenet", "Extra — needs ImageNet")]
    assert "--imagenet-val" in result.skipped[0].reason
    [figure] = result.figures
    assert figure.png == tmp_path / "extra_models.png" and figure.png.read_bytes()[:4] == b"\x89PNG"
    assert figure.tables == (tmp_path / "extra_models__values.csv",)  # the empty table is not written
    assert pd.read_csv(figure.tables[0])["model"].tolist() == ids("realnet", 4)
    page = result.html.read_text(encoding="utf-8")
    assert "<h2 id='extra_models'>Extra — ReAlnets with RDMs</h2>" in page and "4 models." in page
    assert "extra_models__values.csv" in page and "Extra — needs ImageNet</b>: ImageNet accuracy needs" in page
    assert [spec.name for spec in sections.FIGURES] == [
        "fig1b_early_late", "fig2a_layer_time_courses", "fig2b_peak_improvement", "fig2c_max_over_layers",
        "fig2d_individual_variability", "fig2efg_cross_subject", "fig3_fmri", "fig4a_behaviour",
        "fig4b_things_dimensions", "fig5_controls", "supp3_eeg_fmri_correlation", "beta_sweep", "seed_variability",
        "fidelity", "imagenet"]
    # a requirement that fails without layer RDMs skips the figure with the RDM reason
    def no_images() -> StimulusImages:
        raise MissingFileError("no THINGS-EEG2 package under the test home")

    without_rdms = build_report(["realnet_s*"], tmp_path / "no_rdms", score_store=_fake_store(FakeScorer()),
                                test_images=no_images, figures=(added,), progress=False)
    assert without_rdms.skipped[0].reason == ("layer RDMs need the packaged THINGS-EEG2 test images and the "
                                              "checkpoints: no THINGS-EEG2 package under the test home")


def test_score_flags_are_in_the_score_table_and_on_the_page(world, tmp_path):
    result = report(tmp_path / "flagged", FlaggingScorer(), figures=())
    table = pd.read_csv(result.score_table, keep_default_na=False)
    assert list(table.columns) == ["model", "benchmark", "score", "ceiling", "raw_summary", "flags"]
    flagged = table[table["flags"] != ""]
    assert flagged[["model", "benchmark"]].values.tolist() == [["realnet_s02", "ThingsEEG2-temporal_rsa"]]
    assert flagged["flags"].iloc[0] == "raw above ceiling; too few images for a stable RSA"
    assert len(table) == 5 * 4 and table["score"].tolist() == pytest.approx(
        [float(FakeScorer()(m, b).values) for m, b in table[["model", "benchmark"]].values])
    page = result.html.read_text(encoding="utf-8")
    assert ("<li><b>realnet_s02</b> on ThingsEEG2-temporal_rsa: raw above ceiling; too few images for a stable "
            "RSA</li>") in page
    plain = build_report(["realnet_s*"], tmp_path / "plain", score_store=_fake_store(FakeScorer(), tmp_path / "scores"),
                         rdm_store=RDMStore(compute=seeded_rdms), test_images=stimulus_images, figures=(),
                         progress=False)
    assert "Score flags" not in plain.html.read_text(encoding="utf-8")
    assert set(pd.read_csv(plain.score_table, keep_default_na=False)["flags"]) == {""}


def test_flags_are_read_from_score_attrs_as_a_list_of_strings():
    from realnet_plugins.report.build import flags_of

    assert flags_of({"flags": ["raw above ceiling"], "ceiling": 0.5}) == ["raw above ceiling"]
    assert flags_of({"flags": "too few images for a stable RSA"}) == ["too few images for a stable RSA"]
    assert flags_of({"ceiling": 0.5}) == [] and flags_of({"flags": None}) == []


LABEL = "synthetic fixture data, random-init 32 px nets"


def test_the_data_label_is_in_every_figure_title_and_the_header_when_set_and_never_otherwise(tmp_path, built):
    from PIL import Image

    fake_checkpoints(ids("realnet", 3) + ["realnet_base_cornet_s"])
    labelled = report(tmp_path, FakeScorer(n_subjects=3), data_label=LABEL)
    assert len(labelled.figures) >= 8
    page = labelled.html.read_text(encoding="utf-8")
    assert re.search(r"<h1>[^<]*" + re.escape(LABEL) + "</h1>", page)
    for figure in labelled.figures:
        assert figure.title.endswith(f"({LABEL})")
        assert f"<h2 id='{figure.name}'>{html.escape(figure.title)}</h2>" in page
        with Image.open(figure.png) as png:
            assert png.text["Title"].split("\n")[-1] == LABEL  # the drawn title's last line (or the whole title)
    unlabelled = built["first"]
    assert LABEL not in unlabelled.html.read_text(encoding="utf-8")
    for figure in unlabelled.figures:
        assert LABEL not in figure.title
        with Image.open(figure.png) as png:
            assert LABEL not in png.text.get("Title", "")


def test_the_data_label_becomes_the_last_title_line_in_the_titles_font_size():
    from matplotlib.figure import Figure

    titled = Figure()
    titled.suptitle("RSA over time", fontsize=10)
    fg.add_data_label(titled, LABEL)
    assert titled.get_suptitle() == f"RSA over time\n{LABEL}"
    assert [t.get_fontsize() for t in titled.texts if t.get_text() == titled.get_suptitle()] == [10]
    untitled = Figure()
    fg.add_data_label(untitled, LABEL)
    assert untitled.get_suptitle() == LABEL


def test_time_course_captions_say_what_the_number_of_subjects_allows(built, tmp_path):
    captions = {f.name: f.caption for f in built["first"].figures}
    assert "With n = 4 subjects the t-tests have 3 degrees of freedom" in captions["fig2a_layer_time_courses"]
    assert "cannot give p below 0.125" in captions["fig2a_layer_time_courses"]
    fake_checkpoints(ids("realnet", 6) + ["realnet_base_cornet_s"])
    six = report(tmp_path, FakeScorer(n_subjects=6), figures=sections.FIGURES[1:2])
    assert "With n =" not in six.figures[0].caption
    assert pd.read_csv(tmp_path / "fig2a_layer_time_courses__marks.csv")["n_pairs"].max() == 6


def test_with_one_realnet_the_figures_promise_no_tests(tmp_path):
    from PIL import Image

    fake_checkpoints(["realnet_s01", "realnet_base_cornet_s"])
    result = report(tmp_path, FakeScorer(n_subjects=2), figures=sections.FIGURES[1:3])
    captions = {f.name: f.caption for f in result.figures}
    assert captions["fig2a_layer_time_courses"].endswith(
        "No squares or bars: the paired tests need ≥ 2 subjects with a ReAlnet; found 1 (the t-tests need ≥ 2, "
        "the cluster test ≥ 6 for p < .05).")
    assert not (tmp_path / "fig2a_layer_time_courses__marks.csv").exists()  # no comparison, no marks
    with Image.open(tmp_path / "fig2b_peak_improvement.png") as png:
        assert png.text["Title"].endswith("no t-test: it needs ≥ 2 ReAlnets, found 1")


def test_skipped_figures_say_why(tmp_path):
    fake_checkpoints(["realnet_s01", "realnet_base_cornet_s"])
    result = report(tmp_path, FakeScorer(n_subjects=2))
    reasons = {s.name: s.reason for s in result.skipped}
    assert "needs ≥ 2 personalised models with layer RDMs; found 1" in reasons["fig2d_individual_variability"]
    assert "≥ 2 personalised models" in reasons["fig2efg_cross_subject"]
    assert "Brain-Score's data" in reasons["fig4a_behaviour"] and "no network" in reasons["fig4a_behaviour"]
    assert "--spose" in reasons["fig4b_things_dimensions"]
    assert "--imagenet-val" in reasons["imagenet"]
    assert "--seed-models" in reasons["seed_variability"]
    assert "β values" in reasons["beta_sweep"]
    assert {"fig2a_layer_time_courses", "fig2c_max_over_layers", "fig1b_early_late"} <= {f.name for f in result.figures}


def test_behaviour_is_plotted_with_the_mean_of_both_benchmarks_when_scored(world, tmp_path):
    result = report(tmp_path, FakeScorer(behaviour_error=None), controls=["realnet_scrambled_s*"])
    assert "fig4a_behaviour" in [f.name for f in result.figures]
    values = pd.read_csv(tmp_path / "fig4a_behaviour__values.csv")
    per_model = values.pivot(index="model", columns="benchmark", values="score")
    np.testing.assert_allclose(per_model["mean"], per_model[["Rajalingham2018public-i2n",
                                                             "Geirhos2021-error_consistency"]].mean(axis=1))


def test_seed_variability_compares_training_noise_with_across_subject_variability(world, tmp_path):
    seeds = [str(meta_only_checkpoint(tmp_path / f"s01_seed{seed}.pt", "realnet_s01", seed=seed)) for seed in (1, 2, 3)]
    result = report(tmp_path / "out", FakeScorer(), seed_models=seeds)
    assert "seed_variability" in [f.name for f in result.figures]
    summary = pd.read_csv(tmp_path / "out" / "seed_variability__summary.csv")
    assert (summary.groupby("set")["n_pairs"].first().to_dict()
            == {"ReAlnet: across subjects": 6, "one subject, 3 seeds (sub-01)": 3})
    pairs = pd.read_csv(tmp_path / "out" / "seed_variability__pairs.csv")
    assert set(pairs.loc[pairs["set"].str.contains("seeds"), "model_a"]) == {"s01_seed1", "s01_seed2"}


def test_fidelity_comes_from_each_checkpoints_training_record(built):
    table = pd.read_csv(built["out"] / "fidelity__values.csv")
    assert list(table["model"]) == ids("realnet", 4) + ids("realnet_scrambled", 4)  # the base model has no head
    expected = pd.DataFrame([fidelity_of(m) for m in table["model"]])
    np.testing.assert_allclose(table["spearman"], expected["spearman"])
    np.testing.assert_allclose(table["pearson_mean_feature"], expected["pearson_mean_feature"])
    assert set(table["source"]) == {"training record (meta.metrics.test)"}


# ---------------------------------------------------------------- ImageNet, verify-paper, CLI


def test_imagenet_folder_layouts_and_top_k():
    logits = np.array([[0.1, 0.9, 0.0, 0.2], [0.5, 0.1, 0.3, 0.2], [0.0, 0.1, 0.2, 0.3]])
    labels = np.array([1, 2, 0])
    assert top_k_accuracy(logits, labels, 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(logits, labels, 2) == pytest.approx(2 / 3)
    assert top_k_accuracy(logits, labels, 4) == 1.0


def test_imagenet_folder_reads_class_index_folders_and_labels_file(tmp_path):
    from PIL import Image

    for index, name in ((3, "a.png"), (417, "b.png")):
        (tmp_path / "folders" / f"{index:04d}").mkdir(parents=True)
        Image.new("RGB", (4, 4)).save(tmp_path / "folders" / f"{index:04d}" / name)
    labelled = read_labelled_folder(tmp_path / "folders")
    assert (labelled.layout, list(labelled.labels)) == ("class-index folders", [3, 417])
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "flat" / "x.png")
    (tmp_path / "flat" / "labels.txt").write_text("# path index\nx.png 999\n")
    assert list(read_labelled_folder(tmp_path / "flat").labels) == [999]
    (tmp_path / "flat" / "labels.txt").write_text("x.png 1000\n")
    with pytest.raises(DataFormatError, match="0..999"):
        read_labelled_folder(tmp_path / "flat")


def test_imagenet_accuracy_of_a_checkpoint_is_computed_once(tmp_path, monkeypatch):
    from PIL import Image

    from realnet_plugins import extraction
    from realnet_plugins.fixtures.weights import write_fixture_checkpoint
    from realnet_plugins.report.imagenet import imagenet_accuracy

    write_fixture_checkpoint("realnet_base_resnet18", image_size=32, seed=4)
    model = resolve_models(["realnet_base_resnet18"])[0][0]
    rng = np.random.default_rng(0)
    paths = []
    for i in range(6):
        paths.append(tmp_path / "val" / f"im{i}.png")
        paths[-1].parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(paths[-1])
    logits = extraction.extract(extraction.load_realnet(model.checkpoint), paths, progress=False).logits
    labels = [int(np.argmax(row)) if i < 3 else int(np.argmin(row)) for i, row in enumerate(logits)]
    (tmp_path / "val" / "labels.txt").write_text("".join(f"im{i}.png {label}\n" for i, label in enumerate(labels)))
    images = read_labelled_folder(tmp_path / "val")
    [row] = imagenet_accuracy([model], images, progress=False)
    assert (row["top1"], row["top5"], row["n_images"]) == (50.0, 50.0, 6)
    monkeypatch.setattr(extraction, "load_realnet", lambda *a, **k: pytest.fail("recomputed a cached accuracy"))
    assert imagenet_accuracy([model], images, progress=False) == [row]


def test_verify_paper_lists_every_paper_value_beside_ours_with_a_fixture_banner(world):
    verification = verify_paper(score_store=ScoreStore(scorer=FakeScorer(behaviour_error=None),
                                                       data_fingerprint=lambda b: "package-1"),
                                controls=["realnet_scrambled_s*"], package_shape=lambda: (4, 14), progress=False)
    table = verification.table
    assert list(table["key"]) == [v.key for v in PAPER_VALUES]
    assert len(set(table["key"])) == len(table)
    assert table["source"].str.len().min() > 10
    assert "not comparable" in verification.banner and "4 subjects and 14 test images" in verification.banner
    by_key = table.set_index("key")
    assert isinstance(by_key.loc["windows_V1", "ours"], str)
    assert np.isfinite(by_key.loc["matched_t", "ours"]) and np.isfinite(by_key.loc["eeg_scrambled_t", "ours"])
    assert "not computed" in by_key.loc["eeg_no_mse_t", "note"]  # no W/o MSELoss models here
    assert "garbled" in by_key.loc["eeg_unpaired_d", "note"] and np.isnan(by_key.loc["eeg_unpaired_d", "paper_value"])
    text = verification.format()
    assert text.splitlines()[0] == verification.banner and "t = 5.6068" in text


def test_paper_d_values_used_as_numbers_equal_t_over_root_ten():
    values = {v.key: v for v in PAPER_VALUES}
    for key, value in values.items():
        if key.endswith("_d") and np.isfinite(value.value) and "formula unknown" not in value.note:
            t = values[key[:-2] + "_t"].value
            assert value.value == pytest.approx(t / np.sqrt(10), abs=6e-4), key


def test_cli_verbs_parse_their_options():
    from realnet_plugins.commands import report as command

    parser = argparse.ArgumentParser()
    command.configure(parser, "report")
    args = parser.parse_args(["--models", "realnet_s*", "--out", "o", "--controls", "realnet_scrambled_s*",
                              "--extra-baselines", "resnet101", "--no-behaviour", "--permutations", "100"])
    assert (args.models, args.out, args.base, args.no_behaviour, args.permutations) == (
        ["realnet_s*"], Path("o"), "realnet_base_cornet_s", True, 100)
    parser = argparse.ArgumentParser()
    command.configure(parser, "verify-paper")
    assert parser.parse_args([]).models == ["realnet_s*"]
