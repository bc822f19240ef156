"""Tests of this data plugin; Brain-Score runs them as ``pytest -m "not slow" test.py``.

Fast: the registration lines are exactly the files and stimulus sets recorded in
``data_files.json``, and no value in ``__init__.py`` still waits to be filled in after the upload
(README.md lists them). Slow: every file loads with the recorded sha1, dims and shape.

This file is a template of realnet-plugins (``realnet_plugins/submission/plugin_template``), copied
unchanged into each generated data plugin.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from brainscore_core.plugin_management.parse_plugin_changes import get_plugin_ids

PLUGIN_DIR = Path(__file__).resolve().parent
RECORD = json.loads((PLUGIN_DIR / "data_files.json").read_text(encoding="utf-8"))
INIT = (PLUGIN_DIR / "__init__.py").read_text(encoding="utf-8")


def test_registrations_are_the_recorded_files_and_stimulus_sets():
    assert get_plugin_ids("data", [PLUGIN_DIR.name], str(PLUGIN_DIR.parent.parent)) == [
        record["registry_id"] for record in RECORD["files"]]
    stimulus_sets = re.findall(r"^stimulus_set_registry\['([^']+)'\] = lambda: ", INIT, flags=re.M)
    assert stimulus_sets == [record["registry_id"] for record in RECORD["stimulus_sets"]]
    for record in RECORD["files"]:
        assert f'sha1="{record["sha1"]}"' in INIT, record["registry_id"]


def test_every_value_is_filled_in_after_the_upload():
    unfilled = re.findall(r'"(FILL-IN: [^"]+)"', INIT)
    assert not unfilled, (f"{len(unfilled)} values in {PLUGIN_DIR / '__init__.py'} wait for the upload "
                          f"(README.md says how to fill them in): {unfilled[:3]}")


@pytest.mark.slow
@pytest.mark.parametrize("record", RECORD["files"], ids=lambda record: record["registry_id"])
def test_file_loads_with_the_recorded_layout(record):
    from brainscore_vision import load_dataset

    assembly = load_dataset(record["registry_id"])
    assert type(assembly).__name__ == record["class"]
    assert list(assembly.dims) == record["dims"]
    assert list(assembly.shape) == record["shape"]
