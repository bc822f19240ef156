"""Tests of the ReAlnet model plugin; Brain-Score runs them as ``pytest -m "not slow" test.py``.

They run in the installed layout (``brainscore_vision/models/realnet``) without downloading: each
test that loads a model writes seeded random checkpoints in the real format, at 32 px, into a
temporary ``$REALNET_HOME``. Brain-Score's own generic plugin checks run on one CORnet-S and one
ResNet18 identifier; the two that record activations (``look_at``) are marked slow.
"""
from pathlib import Path

import pytest
from brainscore_core.plugin_management.handle_metadata import validate_metadata_file
from brainscore_core.plugin_management.parse_plugin_changes import get_plugin_ids
from brainscore_vision.model_helpers import generic_plugin_tests as generic

from realnet_plugins.fixtures.weights import write_fixture_checkpoint
from realnet_plugins.identifiers import all_identifiers

PLUGIN_DIR = Path(__file__).resolve().parent
#: One CORnet-S and one ResNet18 identifier.
IDENTIFIERS = ("realnet_s01", "realnet_r_s01")
GENERIC_IMAGES = Path(generic.__file__).parent / "generic_plugin_tests_resources"


@pytest.fixture(scope="module")
def checkpoint_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("realnet_home")
    for seed, identifier in enumerate(IDENTIFIERS):
        write_fixture_checkpoint(identifier, image_size=32, seed=seed, path=home / "checkpoints" / f"{identifier}.pt")
    return home


@pytest.fixture
def fixture_checkpoints(checkpoint_home, monkeypatch):
    monkeypatch.setenv("REALNET_HOME", str(checkpoint_home))


@pytest.fixture
def generic_images():
    """The generic look_at checks read three images that the brainscore-vision 2.4.2 wheel lacks."""
    names = ("rgb1.jpg", "rgb2.jpg", "rgb3.png")
    if all((GENERIC_IMAGES / name).is_file() for name in names):
        return
    skimage_data = pytest.importorskip("skimage.data", reason="supplying the generic test images needs scikit-image")
    from PIL import Image

    GENERIC_IMAGES.mkdir(exist_ok=True)
    for name, photo in zip(names, (skimage_data.astronaut(), skimage_data.chelsea(), skimage_data.coffee())):
        if not (GENERIC_IMAGES / name).is_file():
            Image.fromarray(photo).convert("RGB").save(GENERIC_IMAGES / name)


def test_every_paper_identifier_is_registered_once():
    registered = get_plugin_ids("models", [PLUGIN_DIR.name], str(PLUGIN_DIR.parent.parent))
    assert registered == all_identifiers()


def test_metadata_passes_brainscore_validation_and_lists_every_identifier():
    errors, document = validate_metadata_file(str(PLUGIN_DIR / "metadata.yml"))
    assert errors == []
    assert list(document["models"]) == all_identifiers()


@pytest.mark.parametrize("identifier", IDENTIFIERS)
@pytest.mark.parametrize("check", [generic.test_identifier, generic.test_visual_degrees,
                                   generic.test_start_task_or_recording], ids=lambda f: f.__name__)
def test_brainscore_generic_check(fixture_checkpoints, identifier, check):
    check(identifier)


@pytest.mark.slow
@pytest.mark.parametrize("identifier", IDENTIFIERS)
@pytest.mark.parametrize("check", [generic.test_look_at_neural_V1, generic.test_look_at_behavior_probabilities],
                         ids=lambda f: f.__name__)
def test_brainscore_generic_look_at_check(fixture_checkpoints, generic_images, identifier, check):
    check(identifier)
