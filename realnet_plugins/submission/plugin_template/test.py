"""Tests of this plugin; Brain-Score runs them as ``pytest -m "not slow" test.py`` after its generic tests.

The fast tests need no network: the registration lines agree with ``weights.json``; the carried
architecture code builds networks whose tensors have exactly the names, dtypes and shapes recorded
from each checkpoint; a download that differs from the record is refused and deleted. The slow
test downloads the first model's weights and builds its model.

This file is a template of realnet-plugins (``realnet_plugins/submission/plugin_template``), copied
unchanged into each generated plugin.
"""
from __future__ import annotations

import importlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from brainscore_core.plugin_management.parse_plugin_changes import get_plugin_ids

PLUGIN_DIR = Path(__file__).resolve().parent
WEIGHTS = json.loads((PLUGIN_DIR / "weights.json").read_text(encoding="utf-8"))
LIBRARY = f"brainscore_vision.models.{PLUGIN_DIR.name}.realnet_lib"


def _library(module: str):
    return importlib.import_module(f"{LIBRARY}.{module}")


def test_every_registration_has_a_weights_record():
    registered = get_plugin_ids("models", [PLUGIN_DIR.name], str(PLUGIN_DIR.parent.parent))
    assert registered == list(WEIGHTS["files"])
    assert all(record["file"] == f"{identifier}.pt" for identifier, record in WEIGHTS["files"].items())


def test_carried_architecture_builds_the_recorded_tensors():
    architectures = _library("architectures")
    weights = _library("submission.weights")
    built = {}
    for identifier, record in WEIGHTS["files"].items():
        key = (record["backbone"], record["image_size"], record["has_eeg_head"])
        if key not in built:
            net = architectures.ReAlnet(record["backbone"], image_size=record["image_size"],
                                        eeg_head=record["has_eeg_head"])
            built[key] = weights.structure_digest(net.state_dict())
        assert built[key] == record["structure_sha256"], identifier


class _WrongFile(BaseHTTPRequestHandler):
    body = b"these bytes are not the recorded checkpoint"

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_a_download_that_differs_from_the_record_is_refused_and_deleted(tmp_path):
    weights = _library("submission.weights")
    errors = _library("errors")
    identifier, record = next(iter(WEIGHTS["files"].items()))
    expected = weights.FileDigests(size=record["size"], sha256=record["sha256"], sha1=record["sha1"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WrongFile)
    stopper = threading.Timer(60, server.shutdown)  # the server stops by itself
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    stopper.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{record['file']}"
    try:
        with pytest.raises(errors.CheckpointError, match="refused") as refused:
            weights.fetch_verified(url, tmp_path / record["file"], expected)
    finally:
        stopper.cancel()
        server.shutdown()
        server.server_close()
    assert url in str(refused.value) and record["sha256"] in str(refused.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_first_model_downloads_and_builds():
    from brainscore_vision import load_model

    identifier, record = next(iter(WEIGHTS["files"].items()))
    model = load_model(identifier)
    assert model.identifier == identifier
    assert model.activations_model.identifier == f"{identifier}-{record['sha256'][:12]}"
    assert set(model.layer_model.region_layer_map) == {"V1", "V2", "V4", "IT"}
