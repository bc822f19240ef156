"""Every benchmark of this package, scored through Brain-Score in a fresh process, satisfies the
leaderboard recorder's contract (``brainscore_core.submission.database``), and its scalars are the
documented summaries of its ``detail`` attribute.

Needs a regular ``pip install .`` (Brain-Score finds plugins by grepping site-packages).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from realnet_plugins.datasets import dataset_descriptor
from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
from realnet_plugins.datasets.shen2019.packaging import package_shen2019
from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.packaging import package_things_eeg2
from realnet_plugins.fixtures.weights import write_fixture_checkpoint

from installed import run_fresh

#: Every RSA benchmark id of the THINGS-EEG2 and Shen 2019 descriptors.
RSA_IDS = [b.identifier for name in ("things_eeg2", "shen2019") for b in dataset_descriptor(name).benchmarks]

CONTRACT = """
    import json, math
    import numpy as np
    from pybtex.database.input import bibtex
    from brainscore_vision import load_benchmark, score
    from brainscore_core.submission.database import _retrieve_score_center, _retrieve_score_error, update_score

    class Entry:
        score_raw = score_ceiled = error = comment = None
        saved = False
        def save(self):
            self.saved = True

    out = {}
    for identifier in IDS:
        benchmark = load_benchmark(identifier)
        s = score('realnet_s01', identifier)
        entry = Entry()
        update_score(s, entry)
        detail = s.attrs['detail']
        out[identifier] = {
            "center": _retrieve_score_center(s), "raw": _retrieve_score_center(s.raw),
            "error": _retrieve_score_error(s), "ceiling": float(s.attrs['ceiling'].item()),
            "benchmark_ceiling": float(benchmark.ceiling.item()),
            "entry": [entry.score_raw, entry.score_ceiled, entry.error, entry.saved],
            "types": [type(_retrieve_score_center(s)).__name__, type(_retrieve_score_center(s.raw)).__name__,
                      type(_retrieve_score_error(s)).__name__],
            "identifier": benchmark.identifier, "version": benchmark.version, "parent": benchmark.parent,
            "bibtex_entries": len(bibtex.Parser().parse_string(benchmark.bibtex).entries),
            "detail": {"dims": list(detail.dims), "coords": {d: detail[d].values.tolist() for d in detail.dims},
                       "values": np.where(np.isfinite(detail.values), detail.values, np.nan).tolist()},
            "flags": list(s.attrs['flags']),
        }
    print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """realnet_s01 (fixture checkpoint) on every RSA benchmark id, through Brain-Score in one fresh process."""
    root = tmp_path_factory.mktemp("contract")
    home = root / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REALNET_HOME", str(home))
        eeg = write_things_eeg2_release(root / "eeg", n_subjects=10, n_train_concepts=2, images_per_concept=1,
                                        n_test_images=10, n_test_reps=10, image_size=32, seed=3, snr=0.6)
        shen = write_shen2019_release(root / "shen", n_natural=10, n_shape=6, n_letter=4, reps=(3, 2, 2),
                                      voxels_per_roi=6, image_size=32)
        package_things_eeg2(eeg, progress=False)
        package_shen2019(shen, progress=False)
        write_fixture_checkpoint("realnet_s01", image_size=32, seed=2)
    # Brain-Score's activation cache on (in this test's folder): the benchmarks of one dataset show the same
    # stimulus set, so each region's activations are extracted once, not once per benchmark
    res = run_fresh(CONTRACT.replace("IDS", repr(RSA_IDS)), home=home, cwd=root,
                    extra_env={"REALNET_BS_BATCH_SIZE": "10", "RESULTCACHING_DISABLE": "0"})
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _documented_summary(identifier: str, detail: dict) -> tuple[float, np.ndarray]:
    """(raw, per-subject raw) from the detail values as the benchmark docstring documents them."""
    values = np.array(detail["values"], dtype=float)
    if identifier.startswith("ThingsEEG2"):
        assert detail["dims"] == ["subject", "region", "time_ms"]
        window = (np.array(detail["coords"]["time_ms"]) >= 50) & (np.array(detail["coords"]["time_ms"]) <= 190)
        kept = values[:, :, window]
        return float(np.nanmean(kept)), np.nanmean(kept, axis=(1, 2))
    assert detail["dims"] == ["subject", "roi", "region"]
    best = values.max(axis=2)
    return float(np.nanmean(best)), np.nanmean(best, axis=1)


@pytest.mark.parametrize("identifier", RSA_IDS)
def test_score_passes_the_leaderboard_recorder_and_equals_the_documented_summary(scored, identifier):
    result = scored[identifier]
    assert result["types"][:2] == ["float", "float"] and result["types"][2] == "float"
    assert result["entry"] == [result["raw"], result["center"], result["error"], True]
    assert result["identifier"] == identifier and result["version"] == 2 and result["parent"]
    assert result["bibtex_entries"] == 1
    assert result["ceiling"] == pytest.approx(result["benchmark_ceiling"])

    raw, per_subject = _documented_summary(identifier, result["detail"])
    assert result["raw"] == pytest.approx(raw, abs=1e-12)
    if not result["ceiling"] > 0:  # a ceiling <= 0 or NaN gives a NaN score (its reason is in the attrs)
        assert np.isnan(result["center"]) and np.isnan(result["error"])
        return
    assert result["center"] == pytest.approx(min(max(raw / result["ceiling"], 0.0), 1.0), abs=1e-12)
    if len(per_subject) > 1:
        ceiled = np.clip(per_subject / result["ceiling"], 0, 1)
        assert result["error"] == pytest.approx(ceiled.std(ddof=1) / np.sqrt(len(ceiled)), abs=1e-12)
    else:  # one subject: the image bootstrap's standard error over the ceiling
        assert np.isfinite(result["error"]) and result["error"] > 0


def test_small_image_sets_are_flagged(scored):
    assert any("too few images" in flag for flag in scored["Shen2019.letter-rsa"]["flags"])
    assert not any("too few images" in flag for flag in scored["Shen2019.natural-rsa"]["flags"])
