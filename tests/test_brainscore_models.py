"""The installed Brain-Score model plugin, exercised in fresh processes as a user would."""
from __future__ import annotations

import json

import pytest

from realnet_plugins.fixtures.weights import write_fixture_checkpoint
from realnet_plugins.identifiers import all_identifiers
from realnet_plugins.storage import sha256_file

from installed import run_fresh, site_plugin_dir


def test_every_identifier_has_one_literal_registration_line():
    init = site_plugin_dir("models", "realnet") / "__init__.py"
    lines = [line for line in init.read_text().splitlines() if line.startswith("model_registry[")]
    expected = [f"model_registry['{i}'] = lambda: get_model('{i}')" for i in all_identifiers()]
    assert lines == expected
    assert len(lines) == 103


def test_load_model_builds_a_commitment_from_the_checkpoint(realnet_home, tmp_path):
    ckpt = write_fixture_checkpoint("realnet_s01", image_size=32, seed=1)
    res = run_fresh("""
        import json
        from brainscore_vision import load_model
        m = load_model('realnet_s01')
        from brainscore_vision import BrainModel
        print(json.dumps({"identifier": m.identifier, "activations": m.activations_model.identifier,
                          "map": dict(m.layer_model.region_layer_map), "layers": list(m.layers),
                          "readout": m.behavior_model.mapping[BrainModel.Task.probabilities].readout[0],
                          "degrees": m.visual_degrees()}))
    """, home=realnet_home, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info["identifier"] == "realnet_s01"
    assert info["activations"] == f"realnet_s01-{sha256_file(ckpt)[:12]}"
    assert info["map"] == {"V1": "V1", "V2": "V2", "V4": "V4", "IT": "IT"}
    assert info["layers"] == ["V1", "V2", "V4", "IT", "decoder.avgpool"]
    assert info["readout"] == "decoder.avgpool"
    assert info["degrees"] == 8


def test_missing_checkpoint_error_names_identifier_path_and_commands(realnet_home, tmp_path):
    res = run_fresh("""
        from brainscore_vision import load_model
        load_model('realnet_r_s02')
    """, home=realnet_home, cwd=tmp_path)
    assert res.returncode != 0
    assert "MissingFileError" in res.stderr
    assert str(realnet_home / "checkpoints" / "realnet_r_s02.pt") in res.stderr
    assert "realnet train" in res.stderr and "--backbone resnet18" in res.stderr


def test_two_subjects_in_one_process_are_two_models(realnet_home, tmp_path):
    write_fixture_checkpoint("realnet_s01", image_size=32, seed=1)
    write_fixture_checkpoint("realnet_s02", image_size=32, seed=2)
    res = run_fresh("""
        import torch
        from brainscore_vision import load_model
        a, b = load_model('realnet_s01'), load_model('realnet_s02')
        ma, mb = a.activations_model._model, b.activations_model._model
        assert ma is not mb
        print(float((ma.V1.conv1.weight - mb.V1.conv1.weight).abs().sum()) > 0,
              a.activations_model.identifier != b.activations_model.identifier)
    """, home=realnet_home, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.split()[-2:] == ["True", "True"]


@pytest.mark.parametrize("identifier", ["realnet_s01", "realnet_r_s01"])
def test_score_runs_through_brainscore_on_an_installed_test_benchmark(realnet_home, tmp_path, identifier):
    site_plugin_dir("benchmarks", "realnet_testbench")
    write_fixture_checkpoint(identifier, image_size=32, seed=3)
    res = run_fresh(f"""
        import brainscore_vision
        s = brainscore_vision.score('{identifier}', 'RealnetTest.tiny-rsa')
        print(float(s), s.attrs['model_identifier'], s.attrs['benchmark_identifier'], 'raw' in s.attrs)
    """, home=realnet_home, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    value, model_id, bench_id, has_raw = res.stdout.split()[-4:]
    assert -1.0 <= float(value) <= 1.0
    assert (model_id, bench_id, has_raw) == (identifier, "RealnetTest.tiny-rsa", "True")
