"""The code a generated plugin carries: copied from this package, same networks, same numbers, no way back."""
from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from realnet_plugins.checkpoints import load_checkpoint, weights_digest
from realnet_plugins.extraction import ImagePreprocessing
from realnet_plugins.fixtures.weights import random_realnet, write_fixture_checkpoint
from realnet_plugins.submission import codegen
from realnet_plugins.submission.weights import structure_digest

SETUP_PY = Path(__file__).resolve().parents[1] / "setup.py"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated ``realnet_lib`` package, written to a folder and imported from there."""
    files = codegen.generate_library()
    root = tmp_path_factory.mktemp("generated")
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(codegen.LIBRARY_NAME), files, root
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == codegen.LIBRARY_NAME or n.startswith(codegen.LIBRARY_NAME + ".")]:
            del sys.modules[name]


def _load(module: str):
    return importlib.import_module(f"{codegen.LIBRARY_NAME}.{module}")


def test_generated_code_imports_and_runs_with_realnet_plugins_blocked(generated, tmp_path):
    _, files, root = generated
    for text in files.values():
        for node in ast.walk(ast.parse(text)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "realnet_plugins" for n in names)
    checkpoint = write_fixture_checkpoint("realnet_r_s02", image_size=32, seed=2, path=tmp_path / "r.pt")
    code = f"""
import sys
sys.modules['realnet_plugins'] = None
from pathlib import Path
from realnet_lib.checkpoints import load_checkpoint
from realnet_lib.extraction import RealnetModel
from realnet_lib.submission.weights import file_digests
net = RealnetModel.from_checkpoint(load_checkpoint(Path({str(checkpoint)!r})))
print(net.model.backbone_name, net.sha256 == file_digests({str(checkpoint)!r}).sha256)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "2"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.split() == ["resnet18", "True"]


@pytest.mark.parametrize("backbone, eeg_head", [("cornet_s", True), ("cornet_s", False), ("resnet18", True)])
def test_generated_networks_have_the_same_tensors_and_give_bit_identical_outputs(generated, backbone, eeg_head):
    package_net = random_realnet(backbone, image_size=32, eeg_head=eeg_head, seed=7)
    carried_net = _load("architectures").ReAlnet(backbone, image_size=32, eeg_head=eeg_head).eval()
    package_state, carried_state = package_net.state_dict(), carried_net.state_dict()
    assert {k: (v.dtype, v.shape) for k, v in carried_state.items()} == \
           {k: (v.dtype, v.shape) for k, v in package_state.items()}
    assert _load("submission.weights").structure_digest(carried_state) == structure_digest(package_state)
    carried_net.load_state_dict(package_state)
    assert _load("checkpoints").weights_digest(carried_net.state_dict()) == weights_digest(package_state)
    images = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected, found = package_net(images), carried_net(images)
    assert torch.equal(expected.logits, found.logits)
    assert all(torch.equal(a, b) for a, b in zip(expected.taps, found.taps))
    assert (expected.eeg is None and found.eeg is None) or torch.equal(expected.eeg, found.eeg)


def test_generated_checkpoint_reader_and_preprocessing_match_the_package(generated, tmp_path):
    path = write_fixture_checkpoint("realnet_r_s03", image_size=32, seed=3, path=tmp_path / "r_s03.pt")
    package, carried = load_checkpoint(path), _load("checkpoints").load_checkpoint(path)
    assert carried.meta.to_dict() == package.meta.to_dict() and carried.sha256 == package.sha256
    assert all(torch.equal(a, b) for a, b in zip(carried.model.state_dict().values(),
                                                 package.model.state_dict().values()))
    pixels = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "image.png")
    expected = ImagePreprocessing.from_meta(package.meta)([tmp_path / "image.png"])
    found = _load("extraction").ImagePreprocessing.from_meta(carried.meta)([tmp_path / "image.png"])
    assert found.shape == (1, 3, 32, 32) and torch.equal(found, expected)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(_load("errors").CheckpointError, match="sha256"):
        _load("checkpoints").load_checkpoint(path)


class _DropOwnImports(ast.NodeTransformer):
    def visit_ImportFrom(self, node):  # noqa: N802 - ast's name
        return None if node.level or (node.module or "").startswith("realnet_plugins") else node


def test_whole_modules_are_copied_exactly_except_their_own_imports(generated):
    _, files, _ = generated
    for module, names in codegen.CARRIED.items():
        if names is not None:
            continue
        source, is_package = codegen.module_file(module)
        relative = "/".join(module.split(".")[1:] + (["__init__.py"] if is_package else []))
        relative = relative if is_package else relative + ".py"
        carried = files[f"{codegen.LIBRARY_NAME}/{relative}"]
        assert carried.startswith("# Generated by realnet-plugins")
        original = ast.dump(_DropOwnImports().visit(ast.parse(source.read_text())))
        assert ast.dump(_DropOwnImports().visit(ast.parse(carried))) == original, module
    assert "from ..constants import N_EEG_OUTPUTS" in files[f"{codegen.LIBRARY_NAME}/architectures/realnet.py"]


def test_requirements_are_the_declared_floors_of_what_the_carried_code_imports(generated):
    _, files, _ = generated
    lines = codegen.requirements(files)
    names = {re.match(r"[A-Za-z0-9_.-]+", line)[0].lower() for line in lines}
    assert names == {"numpy", "pillow", "torch", "torchvision", "tqdm"}
    setup = SETUP_PY.read_text()
    assert all(f'"{line}"' in setup for line in lines)  # the floors realnet-plugins itself declares


@pytest.mark.parametrize("change, message", [
    (("realnet_plugins.extraction", ("load_realnet",)), "use RealnetModel; carry them too"),
    (("realnet_plugins.extraction", ("NoSuchThing",)), "defines no top-level NoSuchThing"),
    (("realnet_plugins.extraction", None), "imports realnet_plugins.datasets.things_eeg2.reader"),
    (("realnet_plugins.constants", "drop"), "imports realnet_plugins.constants"),
    (("realnet_plugins.architectures", "drop"), "its package realnet_plugins.architectures is not"),
])
def test_an_inconsistent_carried_list_stops_generation(monkeypatch, change, message):
    module, names = change
    if names == "drop":
        monkeypatch.delitem(codegen.CARRIED, module)
    else:
        monkeypatch.setitem(codegen.CARRIED, module, names)
    with pytest.raises(codegen.CarriedCodeError, match=re.escape(message)):
        codegen.generate_library()
