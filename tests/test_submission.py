"""`realnet submission`: the zip's model plugin works through Brain-Score without realnet-plugins.

The zip is built from fixture checkpoints (one CORnet-S, one ResNet18, 32 px), unpacked, and its
plugin folder placed in a scratch ``brainscore_vision`` tree: every entry of the installed package
symlinked, except ``models/``, which links every installed model plugin except this package's own
``realnet`` and holds the unpacked plugin. A fresh interpreter with that tree first on its path and
``realnet_plugins`` blocked from import (``sys.modules['realnet_plugins'] = None``) then runs
Brain-Score's own discovery, metadata validation, the plugin's test.py and ``brainscore_vision.score``,
downloading the weights from a local HTTP server on 127.0.0.1 that stops by itself.

CI runs the discovery / score / tampered-file test (about a minute); Brain-Score's generic plugin
tests on the unpacked plugin are marked slow.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from realnet_plugins.cli import main
from realnet_plugins.fixtures.weights import write_fixture_checkpoint
from realnet_plugins.submission import DEFAULT_PLUGIN_NAME
from realnet_plugins.submission.archive import DEFAULT_TOP_FOLDER
from realnet_plugins.submission.weights import file_digests

from installed import run_fresh, site_plugin_dir

CORNET, RESNET = "realnet_s01", "realnet_r_s01"
PLUGIN = DEFAULT_PLUGIN_NAME
#: Prelude of every fresh process here: realnet-plugins cannot be imported, and the scratch tree is the
#: brainscore_vision that gets imported.
BLOCKED = """
import sys
sys.modules['realnet_plugins'] = None
try:
    import realnet_plugins
    raise SystemExit('realnet_plugins is importable')
except ImportError:
    pass
import brainscore_vision
assert brainscore_vision.__file__.startswith({tree!r}), brainscore_vision.__file__
"""


class _WeightsServer:
    """Serve ``files`` (URL path → bytes) on 127.0.0.1 from a thread; it shuts down after ``lifetime`` s at most."""

    def __init__(self, files: dict[str, bytes], lifetime: float = 600) -> None:
        served = files
        self.requests: list[str] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                requests.append(self.path)
                body = served.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.stopper = threading.Timer(lifetime, self.server.shutdown)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "_WeightsServer":
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self.stopper.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopper.cancel()
        self.server.shutdown()
        self.server.server_close()


def _build_zip(tmp_path: Path, weights_url: str, capsys) -> Path:
    out = tmp_path / "submission.zip"
    assert main(["submission", "--models", "realnet_s0[1]", RESNET, "--weights-url", weights_url,
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{weights_url}/{CORNET}.pt" in printed and f"{weights_url}/{RESNET}.pt" in printed
    return out


def _unpack(archive: Path, into: Path) -> Path:
    with zipfile.ZipFile(archive) as z:
        z.extractall(into)
    (top,) = [p for p in into.iterdir() if not p.name.startswith((".", "_"))]
    assert top.name == DEFAULT_TOP_FOLDER
    return top / "models" / PLUGIN


def _scratch_tree(root: Path, plugin: Path) -> Path:
    """A brainscore_vision package whose models/ holds ``plugin`` instead of this package's ``realnet``."""
    installed = Path(importlib.util.find_spec("brainscore_vision").origin).parent
    tree = root / "brainscore_vision"
    (tree / "models").mkdir(parents=True)
    for entry in installed.iterdir():
        if entry.name not in ("models", "__pycache__"):
            (tree / entry.name).symlink_to(entry)
    for entry in (installed / "models").iterdir():
        if entry.name not in ("realnet", "__pycache__"):
            (tree / "models" / entry.name).symlink_to(entry)
    shutil.copytree(plugin, tree / "models" / plugin.name)
    return tree


def _served_files(home: Path, tamper: str | None = None) -> dict[str, bytes]:
    files = {}
    for identifier in (CORNET, RESNET):
        data = bytearray((home / "checkpoints" / f"{identifier}.pt").read_bytes())
        if identifier == tamper:
            data[len(data) // 2] ^= 0xFF
        files[f"/weights/{identifier}.pt"] = bytes(data)
    return files


def _child_result(res) -> dict:
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_zip_plugin_is_discovered_scored_and_refuses_a_tampered_file_without_realnet_plugins(
        realnet_home, tmp_path, capsys):
    site_plugin_dir("benchmarks", "realnet_testbench")
    write_fixture_checkpoint(CORNET, image_size=32, seed=3)
    write_fixture_checkpoint(RESNET, image_size=32, seed=4)
    served = _served_files(realnet_home, tamper=RESNET)
    tampered_sha256 = hashlib.sha256(served[f"/weights/{RESNET}.pt"]).hexdigest()
    with _WeightsServer(served) as server:
        archive = _build_zip(tmp_path, server.url + "/weights", capsys)
        plugin = _unpack(archive, tmp_path / "unpacked")
        tree = _scratch_tree(tmp_path / "scratch", plugin)
        weights = json.loads((plugin / "weights.json").read_text())
        res = run_fresh(BLOCKED.format(tree=str(tree)) + f"""
import json, pytest
from brainscore_core.plugin_management.import_plugin import ImportPlugin
from brainscore_core.plugin_management.parse_plugin_changes import get_plugin_ids
from brainscore_core.plugin_management.handle_metadata import validate_metadata_file
from brainscore_vision.plugin_management.vision_domain_plugin import VisionDomainPlugin

plugin = {str(tree / "models" / PLUGIN)!r}
out = {{
    "located": [ImportPlugin('brainscore_vision', 'models', i).plugin_dirname for i in ({CORNET!r}, {RESNET!r})],
    "ids": get_plugin_ids('models', [{PLUGIN!r}], {str(tree)!r}),
    "found": VisionDomainPlugin().find_registered_models(plugin),
}}
errors, document = validate_metadata_file(plugin + '/metadata.yml')
out["metadata"] = [errors, document.get("schema_version"), list(document["models"])]
out["plugin_tests"] = int(pytest.main(['-q', '-p', 'no:cacheprovider', '-m', 'not slow', plugin + '/test.py']))
import brainscore_vision
score = brainscore_vision.score({CORNET!r}, 'RealnetTest.tiny-rsa')
out["score"] = [float(score), score.attrs['model_identifier'], float(score.attrs['raw'])]
try:
    brainscore_vision.load_model({RESNET!r})
    out["tampered"] = None
except Exception as e:
    out["tampered"] = [type(e).__name__, str(e)]
print(json.dumps(out))
""", home=tmp_path / "empty_home", cwd=tmp_path, extra_env={"PYTHONPATH": str(tree.parent)})
        requests = list(server.requests)
    out = _child_result(res)
    assert out["located"] == [PLUGIN, PLUGIN]  # exactly one registration each among all installed plugins
    assert out["ids"] == [CORNET, RESNET] and out["found"] == [CORNET, RESNET]
    assert out["metadata"] == [[], "2.0", [CORNET, RESNET]]
    assert out["plugin_tests"] == 0, res.stdout[-3000:]
    assert "3 passed, 1 deselected" in res.stdout
    value, model_id, raw = out["score"]
    assert model_id == CORNET and -1.0 <= value <= 1.0 and value == raw

    kind, message = out["tampered"]
    record = weights["files"][RESNET]
    assert kind == "CheckpointError"
    assert f"{server.url}/weights/{RESNET}.pt" in message and "refused" in message and "nothing was kept" in message
    assert record["sha256"] in message and tampered_sha256 in message
    cache = tmp_path / "brainscore" / "models" / PLUGIN
    assert sorted(p.name for p in cache.iterdir()) == [f"{CORNET}.pt"]  # the tampered download was not kept
    assert file_digests(cache / f"{CORNET}.pt").sha256 == weights["files"][CORNET]["sha256"]
    assert requests.count(f"/weights/{CORNET}.pt") == 1  # downloaded once, then served from the verified cache

    # The installed package scores the same checkpoint identically: the plugin builds the same model.
    (tmp_path / "package_run").mkdir()
    same = run_fresh(f"""
import brainscore_vision
print(float(brainscore_vision.score({CORNET!r}, 'RealnetTest.tiny-rsa')))
""", home=realnet_home, cwd=tmp_path / "package_run")
    assert same.returncode == 0, same.stderr[-3000:]
    assert float(same.stdout.split()[-1]) == value


GENERIC_IMAGES = ("rgb1.jpg", "rgb2.jpg", "rgb3.png")


def _supply_generic_test_images(resources: Path) -> None:
    """The 2.4.2 wheel lacks the generic tests' three images; supply public-domain photos at that path."""
    from skimage import data

    resources.mkdir(exist_ok=True)
    for name, photo in zip(GENERIC_IMAGES, (data.astronaut(), data.chelsea(), data.coffee())):
        if not (resources / name).is_file():
            Image.fromarray(photo).convert("RGB").save(resources / name)


@pytest.mark.slow
def test_brainscore_generic_plugin_tests_pass_on_the_unpacked_zip_plugin(realnet_home, tmp_path, capsys):
    pytest.importorskip("pytest_check", reason="Brain-Score's generic plugin tests need pytest-check")
    write_fixture_checkpoint(CORNET, image_size=32, seed=5)
    write_fixture_checkpoint(RESNET, image_size=32, seed=6)
    with _WeightsServer(_served_files(realnet_home)) as server:
        plugin = _unpack(_build_zip(tmp_path, server.url + "/weights", capsys), tmp_path / "unpacked")
        tree = _scratch_tree(tmp_path / "scratch", plugin)
        helpers = tree / "model_helpers"
        _supply_generic_test_images(helpers.resolve() / "generic_plugin_tests_resources")
        res = run_fresh(BLOCKED.format(tree=str(tree)) + f"""
import json, pytest
generic = pytest.main(['-q', '-p', 'no:cacheprovider', {str(helpers / 'generic_plugin_tests.py')!r},
                       '--plugin_directory', {str(tree / 'models' / PLUGIN)!r}])
own = pytest.main(['-q', '-p', 'no:cacheprovider', {str(tree / 'models' / PLUGIN / 'test.py')!r}])
print(json.dumps([int(generic), int(own)]))
""", home=tmp_path / "empty_home", cwd=tmp_path, extra_env={"PYTHONPATH": str(tree.parent)})
    assert _child_result(res) == [0, 0]
    n_generic = sum(1 for line in (helpers / "generic_plugin_tests.py").read_text().splitlines()
                    if line.startswith("def test_"))
    assert f"{2 * n_generic} passed" in res.stdout and "4 passed" in res.stdout and "failed" not in res.stdout
