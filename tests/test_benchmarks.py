"""The RSA benchmarks and data loaders of the Brain-Score bridge, in-process, against stub models.

Every number is checked against scipy computed here from the packaged RDMs (Spearman of upper
triangles; 1 − Pearson model RDMs), so a wrong summary, ceiling or order of images fails.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from brainscore_core.metrics import Score
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
from scipy.stats import rankdata, spearmanr

from realnet_plugins.brainscore_bridge.assemblies import load_assembly, load_stimulus_set
from realnet_plugins.brainscore_bridge.benchmarks import ceiled_value, realnet_benchmark
from realnet_plugins.constants import REGIONS
from realnet_plugins.datasets.geirhos2021 import upstream_identifiers as geirhos2021_identifiers
from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
from realnet_plugins.datasets.shen2019.packaging import Shen2019Package, package_shen2019
from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.packaging import ThingsEEG2Package, package_things_eeg2
from realnet_plugins.errors import DataFormatError, RealnetError

WINDOW = slice(5, 20)  # samples at 50, 60, ..., 190 ms


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, object]:
    """THINGS-EEG2 (3 subjects, 7 images × 10 trials) and Shen (3 subjects) packages in one home."""
    root = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REALNET_HOME", str(root / "home"))
        eeg = write_things_eeg2_release(root / "eeg", n_subjects=3, n_train_concepts=2, images_per_concept=1,
                                        n_test_images=7, n_test_reps=10, image_size=32, seed=5, snr=0.3)
        shen = write_shen2019_release(root / "shen", n_natural=6, n_shape=4, n_letter=3, reps=(3, 2, 2),
                                      voxels_per_roi=5, image_size=32)
        one = package_things_eeg2(eeg, subjects=[2], progress=False)
        package_things_eeg2(eeg, progress=False)
        package_shen2019(shen, progress=False)
        return {"eeg": ThingsEEG2Package(), "eeg_one_subject": ThingsEEG2Package(one.folder),
                "shen": Shen2019Package(), "home": root / "home"}


class StubModel:
    """A Brain-Score-like candidate whose regions respond with fixed random features per image.

    It returns presentations in reverse order to check that benchmarks reorder by stimulus_id,
    and records every call.
    """

    def __init__(self, seed: int = 0, n_features: int = 12, ids_override: list[str] | None = None) -> None:
        self.seed = seed
        self.n_features = n_features
        self.ids_override = ids_override
        self.calls: list[tuple] = []
        self.region = None

    def features(self, region: str, stimulus_id: str) -> np.ndarray:
        key = [self.seed, REGIONS.index(region), sum(map(ord, stimulus_id))]
        return np.random.default_rng(key).normal(size=self.n_features)

    def start_recording(self, region, time_bins):
        self.calls.append(("start_recording", region, [tuple(b) for b in time_bins]))
        self.region = region

    def look_at(self, stimuli, number_of_trials=1):
        self.calls.append(("look_at", number_of_trials, dict(stimuli.stimulus_paths), stimuli.identifier))
        ids = list(stimuli["stimulus_id"])[::-1]
        if self.ids_override is not None:
            ids = self.ids_override
        values = np.stack([self.features(self.region, s) for s in ids])
        return NeuroidAssembly(values, dims=("presentation", "neuroid"), coords={
            "stimulus_id": ("presentation", ids), "stimulus_path": ("presentation", [f"/{s}.jpg" for s in ids]),
            "neuroid_id": ("neuroid", np.arange(self.n_features)),
            "region": ("neuroid", [self.region] * self.n_features)})


def upper(matrix: np.ndarray) -> np.ndarray:
    return matrix[np.triu_indices(matrix.shape[-1], 1)]


def stub_rdm(model: StubModel, region: str, ids: list[str]) -> np.ndarray:
    return 1 - np.corrcoef(np.stack([model.features(region, s) for s in ids]))


def test_temporal_rsa_equals_scipy_spearman_for_every_subject_region_and_time(packages):
    package = packages["eeg"]
    model = StubModel(seed=1)
    score = realnet_benchmark("ThingsEEG2-temporal_rsa", package=package)(model)
    ids = package.stimulus_table()["stimulus_id"].tolist()
    expected = np.array([[[spearmanr(upper(package.rdms(s)[0][t]), upper(stub_rdm(model, r, ids)))[0]
                           for t in range(20)] for r in REGIONS] for s in package.subjects])
    detail = score.attrs["detail"]
    assert detail.dims == ("subject", "region", "time_ms")
    assert detail["subject"].values.tolist() == ["sub-01", "sub-02", "sub-03"]
    assert detail["region"].values.tolist() == list(REGIONS)
    assert detail["time_ms"].values.tolist() == list(range(0, 200, 10))
    np.testing.assert_allclose(detail.values, expected, atol=1e-10)
    np.testing.assert_allclose(score.attrs["max_over_regions"].values, expected.max(axis=1), atol=1e-10)
    assert score.attrs["max_over_regions"].dims == ("subject", "time_ms")
    assert np.isfinite(expected[:, :, WINDOW]).all()
    assert score.attrs["raw_summary"] == pytest.approx(expected[:, :, WINDOW].mean())
    raw = score.attrs["raw"]
    assert isinstance(raw, Score) and raw.dims == () and float(raw) == pytest.approx(expected[:, :, WINDOW].mean())
    assert score.attrs["n_undefined"] == 0


def test_all_subject_ceiling_is_leave_one_subject_out_consistency(packages):
    package = packages["eeg"]
    benchmark = realnet_benchmark("ThingsEEG2-temporal_rsa", package=package)
    rdms = np.stack([package.rdms(s)[0] for s in package.subjects]).astype(np.float64)
    # subjects pooled as rsatoolbox pools them for Spearman: the mean of their rank-transformed RDMs
    ranks = np.stack([[rankdata(upper(rdms[s, t])) for t in range(20)] for s in range(3)])
    loso = np.array([[spearmanr(ranks[s, t], np.delete(ranks, s, axis=0)[:, t].mean(axis=0))[0]
                      for s in range(3)] for t in range(20)]).mean(axis=1)
    ceiling = benchmark.ceiling
    np.testing.assert_allclose(ceiling.attrs["per_time"].values, loso, atol=1e-10)
    assert float(ceiling) == pytest.approx(loso[WINDOW].mean())
    assert "leave one subject out" in ceiling.attrs["method"]
    assert ceiling.attrs["upper_bound_per_time"].sizes["time_ms"] == 20

    score = benchmark(StubModel(seed=2))
    unbounded = score.attrs["raw_summary"] / float(ceiling)
    assert score.attrs["unbounded"] == pytest.approx(unbounded)
    assert float(score) == pytest.approx(min(max(unbounded, 0.0), 1.0))


def test_single_subject_ceiling_is_spearman_brown_corrected_split_half(packages):
    package = packages["eeg"]
    benchmark = realnet_benchmark("ThingsEEG2.sub-03-temporal_rsa", package=package)
    assert benchmark.identifier == "ThingsEEG2.sub-03-temporal_rsa"
    halves = package.rdms("sub-03")[1]
    r = np.array([spearmanr(upper(halves[0, t]), upper(halves[1, t]))[0] for t in range(20)])
    # a negative half-correlation has no Spearman-Brown correction: NaN, left out of the summary, flagged
    expected = np.where(r >= 0, 2 * r / (1 + r), np.nan)
    np.testing.assert_allclose(benchmark.ceiling.attrs["per_time"].values, expected, atol=1e-10)
    assert float(benchmark.ceiling) == pytest.approx(np.nanmean(expected[WINDOW]))
    score = benchmark(StubModel(seed=3))
    assert score.attrs["subjects"] == ["sub-03"] and score.attrs["detail"].sizes["subject"] == 1
    negative_in_window = [t * 10 for t in range(5, 20) if r[t] < 0]
    assert (score.attrs["ceiling"].attrs.get("negative_half_correlation", []) == negative_in_window)
    assert any(f.startswith("negative split-half") for f in score.attrs["flags"]) == bool(negative_in_window)
    # one subject: the error is the image bootstrap's standard error of the raw summary, over the ceiling
    low, high, confidence = score.attrs["raw_interval"]
    assert "bootstrap over images" in score.attrs["error_method"] and confidence == 0.95
    assert low <= float(score.attrs["raw"]) <= high and 0 < score.attrs["error"] < 1


def test_crossnobis_benchmarks_compare_with_the_packaged_crossnobis_rdms(packages):
    package = packages["eeg"]
    model = StubModel(seed=8)
    score = realnet_benchmark("ThingsEEG2-temporal_rsa_crossnobis", package=package)(model)
    ids = package.stimulus_table()["stimulus_id"].tolist()
    expected = np.array([[[spearmanr(upper(package.rdms(s, "crossnobis")[0][t]), upper(stub_rdm(model, r, ids)))[0]
                           for t in range(20)] for r in REGIONS] for s in package.subjects])
    np.testing.assert_allclose(score.attrs["detail"].values, expected, atol=1e-10)
    assert score.attrs["rdm_kind"] == "crossnobis" and score.attrs["dissimilarity"].startswith("crossnobis distance")
    decoding = realnet_benchmark("ThingsEEG2-temporal_rsa", package=package)(model)
    assert decoding.attrs["rdm_kind"] == "decoding" and decoding.attrs["dissimilarity"].startswith("pairwise decoding")


def test_models_see_the_images_full_field_in_the_standard_regions_and_time_bin(packages):
    package = packages["eeg"]
    model = StubModel()
    realnet_benchmark("ThingsEEG2.sub-01-temporal_rsa", package=package)(model)
    recordings = [c for c in model.calls if c[0] == "start_recording"]
    assert [c[1] for c in recordings] == ["V1", "V2", "V4", "IT"]
    assert all(c[2] == [(70, 170)] for c in recordings)
    looks = [c for c in model.calls if c[0] == "look_at"]
    table = package.stimulus_table()
    assert all(c[1] == 1 for c in looks)
    assert all(c[2] == dict(zip(table["stimulus_id"], table["image_path"])) for c in looks), \
        "the user's image files, not rescaled copies (no place_on_screen)"


def test_model_answering_for_other_stimuli_is_refused(packages):
    package = packages["eeg"]
    ids = package.stimulus_table()["stimulus_id"].tolist()
    with pytest.raises(DataFormatError, match=r"missing \['" + ids[0]):
        benchmark = realnet_benchmark("ThingsEEG2.sub-01-temporal_rsa", package=package)
        benchmark(StubModel(ids_override=["not_an_image"] + ids[1:]))


def test_score_attrs_survive_pickling(packages):
    score = realnet_benchmark("ThingsEEG2-temporal_rsa", package=packages["eeg"])(StubModel(seed=4))
    restored = pickle.loads(pickle.dumps(score))
    np.testing.assert_array_equal(restored.attrs["detail"].values, score.attrs["detail"].values)
    assert float(restored.attrs["raw"]) == float(score.attrs["raw"])
    assert float(restored.attrs["ceiling"]) == float(score.attrs["ceiling"])
    assert restored.attrs["presentation"].startswith("full-field")
    assert restored.attrs["summary_window_ms"] == (50, 190)


def test_one_subject_package_gives_nan_all_subject_score_with_the_reason(packages):
    score = realnet_benchmark("ThingsEEG2-temporal_rsa", package=packages["eeg_one_subject"])(StubModel())
    assert np.isnan(float(score)) and np.isnan(score.attrs["unbounded"])
    assert "ceiling is undefined" in score.attrs["nan_reason"]
    assert "at least 2 subjects" in score.attrs["ceiling"].attrs["nan_reason"]


def test_single_subject_benchmark_for_an_unpackaged_subject_says_how_to_package_it(packages):
    with pytest.raises(RealnetError, match=r"needs sub-04.*realnet package things-eeg2"):
        realnet_benchmark("ThingsEEG2.sub-04-temporal_rsa", package=packages["eeg"])(StubModel())


@pytest.mark.parametrize("raw, ceiling, expected, unbounded", [
    (0.3, 0.6, 0.5, 0.5), (0.9, 0.6, 1.0, 1.5), (-0.06, 0.6, 0.0, -0.1)])
def test_ceiled_value_bounds_to_unit_interval_and_keeps_the_ratio(raw, ceiling, expected, unbounded):
    value, kept, reason = ceiled_value(raw, ceiling)
    assert value == pytest.approx(expected) and kept == pytest.approx(unbounded) and reason is None


@pytest.mark.parametrize("ceiling, words", [(0.0, "<= 0"), (-0.2, "<= 0"), (float("nan"), "undefined")])
def test_nonpositive_or_undefined_ceiling_gives_nan_with_reason(ceiling, words):
    value, kept, reason = ceiled_value(0.4, ceiling)
    assert np.isnan(value) and np.isnan(kept) and words in reason


def test_shen_rsa_is_max_over_regions_per_roi_averaged_over_rois_and_subjects(packages):
    package = packages["shen"]
    model = StubModel(seed=6)
    benchmark = realnet_benchmark("Shen2019.natural-rsa", package=package)
    score = benchmark(model)
    ids = package.stimulus_table("natural")["stimulus_id"].tolist()
    rois = ["V1", "V2", "V3", "V4", "LOC"]
    expected = np.array([[[spearmanr(upper(package.rdms(s, "natural")[roi]), upper(stub_rdm(model, r, ids)))[0]
                           for r in REGIONS] for roi in rois] for s in package.subjects])
    assert score.attrs["detail"].dims == ("subject", "roi", "region")
    np.testing.assert_allclose(score.attrs["detail"].values, expected, atol=1e-10)
    assert score.attrs["raw_summary"] == pytest.approx(expected.max(axis=2).mean())
    assert float(score.attrs["raw"]) == pytest.approx(expected.max(axis=2).mean())
    ranks = {s: {roi: rankdata(upper(rdm)) for roi, rdm in package.rdms(s, "natural").items()}
             for s in package.subjects}  # pooled as rsatoolbox pools for Spearman: mean rank-transformed RDM
    loso = [np.mean([spearmanr(ranks[s][roi], np.mean([ranks[o][roi] for o in ranks if o != s], axis=0))[0]
                     for s in ranks]) for roi in rois]
    np.testing.assert_allclose(score.attrs["ceiling"].attrs["per_roi"].values, loso, atol=1e-10)
    assert float(score.attrs["ceiling"]) == pytest.approx(np.mean(loso))
    assert benchmark.identifier == "Shen2019.natural-rsa" and benchmark.version == 2


def test_bridge_wraps_packages_in_brainio_classes(packages, monkeypatch):
    monkeypatch.setenv("REALNET_HOME", str(packages["home"]))
    eeg = load_assembly("things_eeg2", subject=2)
    assert isinstance(eeg, NeuroidAssembly)
    assert set(eeg.indexes["presentation"].names) == {"stimulus_id", "repetition"}
    first = eeg.attrs["stimulus_set"]["stimulus_id"].iloc[0]
    assert eeg.sel(stimulus_id=first)["repetition"].values.tolist() == list(range(10))
    assert eeg.attrs["stimulus_set_identifier"] == "ThingsEEG2.test"
    stimuli = load_stimulus_set("things_eeg2")
    assert stimuli.identifier == f"ThingsEEG2.test--{packages['eeg'].fingerprint}"
    assert all(Path(stimuli.get_stimulus(s)).is_file() for s in stimuli["stimulus_id"])
    assert {"stimulus_id", "image_file_name", "concept", "concept_things"} <= set(stimuli.columns)

    shen = load_assembly("shen2019", image_set="letter")
    package = packages["shen"]
    n_voxels = sum(package.assembly(s, "letter", roi).sizes["neuroid"]
                   for s in package.subjects for roi in package.rois(s, "letter"))
    assert shen.sizes == {"presentation": 3, "neuroid": n_voxels}
    v1 = shen.sel(roi="V1")
    assert v1.sizes["neuroid"] == 3 * 5
    assert len(set(shen["neuroid_id"].values)) == n_voxels
    assert list(load_stimulus_set("shen2019", image_set="letter")["stimulus_id"]) == list(shen["stimulus_id"].values)


# The Geirhos2021 mean benchmark runs upstream's real benchmarks on fixture data in
# tests/test_geirhos2021_upstream.py.


def test_geirhos_ids_are_the_upstream_registered_ones():
    import brainscore_vision

    init = Path(brainscore_vision.__file__).parent / "benchmarks" / "geirhos2021" / "__init__.py"
    text = init.read_text()
    for identifier in geirhos2021_identifiers():
        assert f"benchmark_registry['{identifier}']" in text


class TruthPackage:
    """An in-memory RDMSource: three subjects' RDMs = one true RDM + heavy noise, over 10 images."""

    fingerprint = "truth-1"

    def __init__(self, image_paths: list[str], n_subjects: int = 3, noise: float = 1.0) -> None:
        rng = np.random.default_rng(7)
        self.features = rng.normal(size=(len(image_paths), 6))
        truth = 1 - np.corrcoef(self.features)
        noisy = []
        for _ in range(n_subjects):
            e = rng.normal(0, noise * truth.std(), truth.shape)
            rdm = truth + (e + e.T) / 2
            np.fill_diagonal(rdm, 0)
            noisy.append(rdm)
        import pandas as pd

        from realnet_plugins.datasets.targets import Stimuli

        ids = [f"img{i}" for i in range(len(image_paths))]
        self.stimuli_ = Stimuli("Truth.images", pd.DataFrame({"stimulus_id": ids, "image_path": image_paths,
                                                              "sha256": ["0" * 64] * len(ids)}))
        self.rdms = np.stack(noisy)[:, None]

    def stimuli(self, **_):
        return self.stimuli_

    def rdm_targets(self, **_):
        from realnet_plugins.datasets.targets import RDMTargets

        return RDMTargets(rdms=self.rdms, subjects=["sub-01", "sub-02", "sub-03"], target_dim="roi",
                          targets=["all"], stimuli=self.stimuli_, kind="synthetic")


class TruthModel(StubModel):
    """Responds with the true features of each image in every region."""

    def __init__(self, package: TruthPackage) -> None:
        super().__init__(n_features=package.features.shape[1])
        self.by_id = dict(zip(package.stimuli_.stimulus_ids, package.features))

    def features(self, region: str, stimulus_id: str) -> np.ndarray:
        return self.by_id[stimulus_id]


def test_raw_above_ceiling_and_too_few_images_are_flagged(tmp_path):
    from realnet_plugins.brainscore_bridge.benchmarks import MIN_STABLE_IMAGES, RDMBenchmark
    from realnet_plugins.datasets import BenchmarkDescriptor

    descriptor = BenchmarkDescriptor(
        identifier="Shen2019.natural-rsa", version=2, build="", dataset="shen2019",
        options={"region_reduction": "max", "summary_window_ms": None, "detail_dims": ("subject", "roi", "region")})
    paths = [str(tmp_path / f"{i}.png") for i in range(10)]
    package = TruthPackage(paths)
    score = RDMBenchmark(descriptor, package=package)(TruthModel(package))
    assert score.attrs["unbounded"] > 1 and float(score) == 1.0
    assert [flag for flag in score.attrs["flags"] if flag.startswith("raw above ceiling")]
    assert not [flag for flag in score.attrs["flags"] if flag.startswith("too few images")]

    small = TruthPackage(paths[:MIN_STABLE_IMAGES - 1], noise=0.01)
    score = RDMBenchmark(descriptor, package=small)(TruthModel(small))
    assert any(flag.startswith(f"too few images for a stable RSA: {MIN_STABLE_IMAGES - 1} images") for flag in
               score.attrs["flags"])


def test_runtime_stimulus_sets_follow_brainscores_cache_contract(packages, monkeypatch):
    from brainscore_vision.benchmark_helpers.cache_contract import assert_stimulus_identifier_is_cacheable

    monkeypatch.setenv("REALNET_HOME", str(packages["home"]))
    identifiers = [load_stimulus_set("things_eeg2").identifier]
    identifiers += [load_stimulus_set("shen2019", image_set=s).identifier for s in ("natural", "shape", "letter")]
    model = StubModel()
    realnet_benchmark("ThingsEEG2.sub-01-temporal_rsa", package=packages["eeg"])(model)
    identifiers += [call[3] for call in model.calls if call[0] == "look_at"]
    assert identifiers[0] == f"ThingsEEG2.test--{packages['eeg'].fingerprint}"
    for identifier in identifiers:
        assert_stimulus_identifier_is_cacheable(identifier)
