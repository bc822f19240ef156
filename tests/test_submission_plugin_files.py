"""The plugin files upstream expects: models/realnet's metadata.yml (computed, validated) and test.py."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from realnet_plugins.architectures import ReAlnet
from realnet_plugins.identifiers import all_identifiers
from realnet_plugins.submission import metadata
from realnet_plugins.submission.metadata import ModelFacts, metadata_document, network_counts, to_yaml

from installed import run_fresh, site_plugin_dir

CHECKOUT_METADATA = Path(__file__).resolve().parents[1] / "models" / "realnet" / "metadata.yml"
REGENERATE = ("python -c \"from realnet_plugins.submission.metadata import write_intree_metadata; "
              "write_intree_metadata('models/realnet/metadata.yml')\"")


def test_committed_metadata_is_what_the_networks_give_and_is_installed():
    regenerated = to_yaml(metadata.intree_metadata_document())
    assert CHECKOUT_METADATA.read_text() == regenerated, f"models/realnet/metadata.yml is stale; run {REGENERATE}"
    installed = site_plugin_dir("models", "realnet") / "metadata.yml"
    assert installed.read_text() == regenerated


def test_metadata_files_pass_brainscore_validation(tmp_path):
    from brainscore_core.metadata import load
    from brainscore_core.plugin_management.handle_metadata import validate_metadata_file

    errors, document = validate_metadata_file(str(CHECKOUT_METADATA))
    assert errors == [] and list(document["models"]) == all_identifiers()  # 103 > 100: the flat schema
    assert "schema_version" not in document
    facts = [ModelFacts("realnet_s01", 32, True, "realnet_s01.pt (sha256 0123)"), ModelFacts("realnet_beta0_s02"),
             ModelFacts("realnet_acrosssub"), ModelFacts("realnet_base_resnet18")]
    submitted = tmp_path / "metadata.yml"
    submitted.write_text(to_yaml(metadata_document(facts, plugin_name="realnet_eeg_aligned")))
    errors, document = validate_metadata_file(str(submitted))
    assert errors == [] and document["schema_version"] == "2.0"
    assert document == load(submitted.read_text())
    entry = document["models"]["realnet_s01"]
    assert entry["model"]["input_resolution"] == {"channels": 3, "height": 32, "width": 32}
    assert entry["legacy"]["brainscore_link"].endswith("/brainscore_vision/models/realnet_eeg_aligned")
    assert "lineage" not in document["models"]["realnet_base_resnet18"]


def test_schema_follows_the_number_of_models():
    facts = [ModelFacts(i) for i in all_identifiers()]
    assert metadata_document(facts[:metadata.V2_MAX_MODELS])["schema_version"] == "2.0"
    flat = metadata_document(facts[:metadata.V2_MAX_MODELS + 1])
    assert "schema_version" not in flat and len(flat["models"]) == metadata.V2_MAX_MODELS + 1


@pytest.mark.parametrize("backbone", ["cornet_s", "resnet18"])
def test_counts_equal_brainscores_own_metadata_generator(monkeypatch, backbone):
    from brainscore_vision.plugin_management.vision_domain_plugin import VisionDomainPlugin

    monkeypatch.setattr(VisionDomainPlugin, "get_huggingface_link", lambda self, name: None)  # no network
    net = ReAlnet(backbone, image_size=32, eeg_head=True)
    upstream = VisionDomainPlugin().create_model_metadata(net.backbone, "any", "realnet")
    counts = network_counts(backbone)
    assert (counts.total_parameters, counts.trainable_parameters, counts.total_layers, counts.trainable_layers,
            counts.size_mb) == (upstream["total_parameter_count"], upstream["trainable_parameter_count"],
                                upstream["total_layers"], upstream["trainable_layers"], upstream["model_size_mb"])
    assert network_counts(backbone, 32).eeg_head_parameters == sum(p.numel() for p in net.eeg_head.parameters())


def test_cornet_counts_match_the_upstream_realnet_plugin_metadata():
    upstream = site_plugin_dir("models", "ReAlnet") / "metadata.yaml"
    legacy = yaml.safe_load(upstream.read_text())["models"]["ReAlnet01"]["legacy"]
    ours = yaml.safe_load(CHECKOUT_METADATA.read_text())["models"]["realnet_s01"]
    keys = ("total_parameter_count", "trainable_parameter_count", "total_layers", "trainable_layers", "model_size_mb")
    assert {k: ours[k] for k in keys} == {k: legacy[k] for k in keys}
    assert "48343892 parameters" in ours["extra_notes"]  # the EEG head at 224 px, outside the counts


def test_yaml_writer_keeps_every_value_and_type():
    document = {"models": {"yes": {"text": "a: b # c\n'd' \"e\" β", "none": None, "flag": False, "n": 12,
                                   "x": 0.5, "empty": [], "nested": [{"k": "v", "l": [1, "2"]}, "on"], "m": {}}}}
    assert yaml.safe_load(to_yaml(document)) == document


def test_installed_plugin_test_py_passes_with_its_slow_tests(realnet_home, tmp_path):
    """The plugin's test.py, in the installed layout, slow tests included: this is where the project's CI runs
    Brain-Score's generic checks (all five, on one CORnet-S and one ResNet18 identifier)."""
    pytest.importorskip("pytest_check", reason="Brain-Score's generic plugin tests need pytest-check")
    pytest.importorskip("skimage", reason="the generic look_at checks need scikit-image's photos")
    test_py = site_plugin_dir("models", "realnet") / "test.py"
    res = run_fresh(f"""
import sys, pytest
sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', {str(test_py)!r}]))
""", home=realnet_home, cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "12 passed" in res.stdout and "failed" not in res.stdout


@pytest.mark.parametrize("kind, name", [("benchmarks", "realnet_things_eeg2"), ("benchmarks", "realnet_shen2019"),
                                        ("benchmarks", "realnet_geirhos2021"), ("data", "realnet_things_eeg2"),
                                        ("data", "realnet_shen2019")])
def test_installed_benchmark_and_data_plugin_test_py_pass(realnet_home, tmp_path, kind, name):
    """Each benchmark and data plugin's own test.py (what Brain-Score runs on a plugin), in the installed layout."""
    test_py = site_plugin_dir(kind, name) / "test.py"
    res = run_fresh(f"""
import sys, pytest
sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', {str(test_py)!r}]))
""", home=realnet_home, cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " passed" in res.stdout and "failed" not in res.stdout and "error" not in res.stdout.lower()
