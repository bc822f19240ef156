"""The installed benchmark and data plugins, exercised in fresh processes through Brain-Score itself.

Needs a regular ``pip install .`` (Brain-Score finds plugins by grepping site-packages).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from realnet_plugins.datasets import benchmark_descriptor, dataset_descriptor
from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
from realnet_plugins.datasets.shen2019.packaging import package_shen2019
from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.packaging import package_things_eeg2
from realnet_plugins.fixtures.weights import write_fixture_checkpoint

from installed import run_fresh

EEG_IDS = ["ThingsEEG2-temporal_rsa"] + [f"ThingsEEG2.sub-{s:02d}-temporal_rsa" for s in range(1, 11)]
SHEN_IDS = [f"Shen2019.{image_set}-rsa" for image_set in ("natural", "shape", "letter")]
BENCHMARK_PLUGINS = {"realnet_things_eeg2": EEG_IDS, "realnet_shen2019": SHEN_IDS,
                     "realnet_geirhos2021": ["Geirhos2021-error_consistency"]}


@pytest.fixture
def packaged(realnet_home, tmp_path):
    """Fixture THINGS-EEG2 (2 subjects, 8 images × 10 trials) and Shen 2019 data, packaged in $REALNET_HOME."""
    eeg = write_things_eeg2_release(tmp_path / "eeg", n_subjects=2, n_train_concepts=2, images_per_concept=1,
                                    n_test_images=8, n_test_reps=10, image_size=32, seed=1, snr=0.5)
    shen = write_shen2019_release(tmp_path / "shen", n_natural=8, n_shape=4, n_letter=3, reps=(3, 2, 2),
                                  voxels_per_roi=6, image_size=32)
    package_things_eeg2(eeg, progress=False)
    package_shen2019(shen, progress=False)
    return realnet_home


def installed_plugin(kind: str, name: str) -> Path:
    """The installed plugin folder (the site-packages copy, not the checkout)."""
    import brainscore_vision

    folder = Path(brainscore_vision.__file__).parent / kind / name
    assert (folder / "__init__.py").is_file(), f"{folder} is not installed: run `pip install .` first"
    return folder


def test_every_benchmark_and_data_id_has_one_literal_registration_line():
    for folder, ids in BENCHMARK_PLUGINS.items():
        text = (installed_plugin("benchmarks", folder) / "__init__.py").read_text()
        found = re.findall(r"^benchmark_registry\['([^']+)'\] = lambda: ", text, flags=re.M)
        assert set(ids) <= set(found)
        # the plugin lines are exactly the benchmarks the dataset descriptors declare, in their order
        dataset = benchmark_descriptor(ids[0]).dataset
        assert found == [b.identifier for b in dataset_descriptor(dataset).benchmarks]
    eeg = (installed_plugin("data", "realnet_things_eeg2") / "__init__.py").read_text()
    assert re.findall(r"^data_registry\['([^']+)'\]", eeg, flags=re.M) == [f"ThingsEEG2.sub-{s:02d}"
                                                                          for s in range(1, 11)]
    assert re.findall(r"^stimulus_set_registry\['([^']+)'\]", eeg, flags=re.M) == ["ThingsEEG2.test"]
    shen = (installed_plugin("data", "realnet_shen2019") / "__init__.py").read_text()
    sets = ["Shen2019.natural", "Shen2019.shape", "Shen2019.letter"]
    assert re.findall(r"^data_registry\['([^']+)'\]", shen, flags=re.M) == sets
    assert re.findall(r"^stimulus_set_registry\['([^']+)'\]", shen, flags=re.M) == sets
    for kind, folder in [("benchmarks", f) for f in BENCHMARK_PLUGINS] + [("data", "realnet_things_eeg2"),
                                                                          ("data", "realnet_shen2019")]:
        assert not (installed_plugin(kind, folder) / "requirements.txt").exists()


def test_registered_ids_resolve_offline_and_missing_data_says_what_to_run(realnet_home, tmp_path):
    res = run_fresh(f"""
        import json
        from brainscore_vision import load_benchmark, load_dataset, load_stimulus_set
        out = {{}}
        for identifier in {EEG_IDS + SHEN_IDS + ["Geirhos2021-error_consistency"]!r}:
            b = load_benchmark(identifier)
            out[identifier] = [b.identifier, b.version, type(b).__name__]
        errors = []
        for call in (lambda: load_dataset('ThingsEEG2.sub-01'), lambda: load_stimulus_set('Shen2019.letter'),
                     lambda: load_benchmark('ThingsEEG2-temporal_rsa').ceiling):
            try:
                call()
            except Exception as error:
                errors.append(f"{{type(error).__name__}}: {{error}}")
        print(json.dumps({{"benchmarks": out, "errors": errors}}))
    """, home=realnet_home, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads(res.stdout.strip().splitlines()[-1])
    for identifier, (name, version, kind) in result["benchmarks"].items():
        assert name == identifier and version == benchmark_descriptor(identifier).version == 2
    assert result["benchmarks"]["Geirhos2021-error_consistency"][2] == "Geirhos2021ErrorConsistencyMean"
    assert len(result["errors"]) == 3
    assert all(e.startswith("MissingFileError") and "realnet package" in e for e in result["errors"])


def test_data_plugins_load_packaged_assemblies_and_stimulus_sets(packaged, tmp_path):
    res = run_fresh("""
        import json
        from pathlib import Path
        from brainscore_vision import load_dataset, load_stimulus_set
        eeg = load_dataset('ThingsEEG2.sub-02')
        stimuli = load_stimulus_set('ThingsEEG2.test')
        shen = load_dataset('Shen2019.natural')
        print(json.dumps({
            "eeg_type": type(eeg).__name__, "eeg_dims": list(eeg.dims), "eeg_sizes": dict(eeg.sizes),
            "neuroid_ids": sorted(set(eeg["neuroid_id"].values.tolist())),
            "time_bin_start": eeg["time_bin_start"].values.tolist(),
            "stimuli": len(stimuli),
            "paths_exist": all(Path(stimuli.get_stimulus(s)).is_file() for s in stimuli["stimulus_id"]),
            "same_images": sorted(set(eeg["stimulus_id"].values.tolist())) == sorted(stimuli["stimulus_id"]),
            "shen_subjects": sorted(set(shen["subject"].values.tolist())),
            "shen_rois": sorted(set(shen["roi"].values.tolist())), "shen_presentations": shen.sizes["presentation"]}))
    """, home=packaged, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info["eeg_type"] == "NeuroidAssembly"
    assert info["eeg_dims"] == ["presentation", "neuroid", "time_bin"]
    assert info["eeg_sizes"] == {"presentation": 80, "neuroid": 17, "time_bin": 20}
    assert len(info["neuroid_ids"]) == 17 and all(n.startswith("sub-02.") for n in info["neuroid_ids"])
    assert info["time_bin_start"] == list(range(0, 200, 10))
    assert info["stimuli"] == 8 and info["paths_exist"] and info["same_images"]
    assert info["shen_subjects"] == ["sub-01", "sub-02", "sub-03"]
    assert {"V1", "V2", "V3", "V4", "LOC", "VC"} <= set(info["shen_rois"]) and info["shen_presentations"] == 8


def test_score_returns_documented_scores_for_a_realnet_on_fixture_eeg_and_fmri(packaged, tmp_path):
    write_fixture_checkpoint("realnet_s01", image_size=32, seed=2)
    res = run_fresh("""
        import json, pickle
        import numpy as np
        from brainscore_vision import score
        out = {}
        for benchmark in ('ThingsEEG2-temporal_rsa', 'Shen2019.natural-rsa'):
            s = score('realnet_s01', benchmark)
            pickle.loads(pickle.dumps(s))
            detail = s.attrs['detail']
            out[benchmark] = {
                "value": float(s), "unbounded": s.attrs['unbounded'], "raw_summary": float(s.attrs['raw']),
                "ceiling": float(s.attrs['ceiling']), "detail_dims": list(detail.dims),
                "detail_shape": list(detail.shape),
                "max_dims": list(s.attrs['max_over_regions'].dims), "presentation": s.attrs['presentation'],
                "model": s.attrs['model_identifier'], "benchmark": s.attrs['benchmark_identifier'],
                "detail_finite": bool(np.isfinite(detail.values).all())}
        print(json.dumps(out))
    """, home=packaged, cwd=tmp_path, extra_env={"REALNET_BS_BATCH_SIZE": "8"})
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads(res.stdout.strip().splitlines()[-1])
    eeg, fmri = result["ThingsEEG2-temporal_rsa"], result["Shen2019.natural-rsa"]
    assert eeg["detail_dims"] == ["subject", "region", "time_ms"] and eeg["detail_shape"] == [2, 4, 20]
    assert eeg["max_dims"] == ["subject", "time_ms"]
    assert fmri["detail_dims"] == ["subject", "roi", "region"] and fmri["detail_shape"] == [3, 5, 4]
    for entry, benchmark in ((eeg, "ThingsEEG2-temporal_rsa"), (fmri, "Shen2019.natural-rsa")):
        assert entry["model"] == "realnet_s01" and entry["benchmark"] == benchmark
        assert 0.0 <= entry["value"] <= 1.0 and entry["ceiling"] > 0
        assert entry["unbounded"] == pytest.approx(entry["raw_summary"] / entry["ceiling"])
        assert entry["value"] == pytest.approx(min(max(entry["unbounded"], 0.0), 1.0))
        assert entry["presentation"].startswith("full-field")


def test_realnet_score_command_scores_through_brainscore_once_then_reads_the_store(packaged, tmp_path):
    write_fixture_checkpoint("realnet_s01", image_size=32, seed=2)
    table = tmp_path / "scores.csv"
    res = run_fresh(f"""
        import json
        from brainscore_vision import score
        from realnet_plugins.cli import main
        from realnet_plugins.brainscore_bridge.scoring import registered_identifiers
        codes = [main(['score', '--models', 'realnet_s01', '--benchmarks', 'Shen2019.natural-rsa',
                       '--csv', {str(table)!r}, '--quiet']) for _ in range(2)]
        direct = float(score('realnet_s01', 'Shen2019.natural-rsa'))
        typos = [main(['score', '--models', 'realnet_s01', '--benchmarks', 'Shen2019.natrual-rsa', '--quiet']),
                 main(['score', '--models', 'realnet_s1', '--benchmarks', 'Shen2019.natural-rsa', '--quiet'])]
        print(json.dumps({{"codes": codes, "direct": direct, "typos": typos,
                          "benchmarks": registered_identifiers('benchmarks'),
                          "models": registered_identifiers('models')}}))
    """, home=packaged, cwd=tmp_path, extra_env={"REALNET_BS_BATCH_SIZE": "8"})
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads(res.stdout.strip().splitlines()[-1])
    assert result["codes"] == [0, 0]
    assert "1 computed, 0 from the store, 0 failed" in res.stdout
    assert "0 computed, 1 from the store, 0 failed" in res.stdout  # the second run read the stored score
    import pandas as pd

    written = pd.read_csv(table)
    assert written[["model", "benchmark", "source"]].values.tolist() == [
        ["realnet_s01", "Shen2019.natural-rsa", "stored"]]
    # the stored score is Brain-Score's own score of the same model and benchmark
    assert written["score"][0] == pytest.approx(result["direct"], rel=1e-9)
    assert len(list((packaged / "scores" / "Shen2019.natural-rsa").glob("realnet_s01--*.json"))) == 1
    # identifiers no installed plugin registers are refused with the closest ones, not Brain-Score's bare assertion
    assert result["typos"] == [2, 2]
    assert ("'Shen2019.natrual-rsa' is not a Brain-Score benchmark identifier of this installation" in res.stderr
            and "did you mean Shen2019.natural-rsa" in res.stderr)
    assert "'realnet_s1' is not a Brain-Score model identifier" in res.stderr and "realnet_s01" in res.stderr
    assert "AssertionError" not in res.stderr
    assert set(EEG_IDS + SHEN_IDS) <= set(result["benchmarks"])
    assert {"realnet_s01", "realnet_r_s10", "realnet_base_cornet_s", "realnet_acrosssub"} <= set(result["models"])
