"""`realnet submission`: what the zip holds, and one-line errors (exit 2) for a user's mistakes."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from realnet_plugins.cli import main
from realnet_plugins.fixtures.weights import write_fixture_checkpoint
from realnet_plugins.submission import DEFAULT_PLUGIN_NAME
from realnet_plugins.submission.archive import DEFAULT_TOP_FOLDER
from realnet_plugins.submission.weights import file_digests

URL = "https://example.org/realnet-weights"
TOP = f"{DEFAULT_TOP_FOLDER}/models/{DEFAULT_PLUGIN_NAME}/"


def _submission(*args: str) -> list[str]:
    return ["submission", *args]


def test_zip_holds_one_plugin_folder_with_literal_registrations_and_recorded_digests(realnet_home, tmp_path, capsys):
    paths = {i: write_fixture_checkpoint(i, image_size=32, seed=n) for n, i in   # ResNet18s: small files
             enumerate(["realnet_r_s02", "realnet_r_s01", "realnet_base_resnet18"])}
    out = tmp_path / "sub.zip"
    assert main(_submission("--models", "realnet_r_s*", "realnet_base_*", "--weights-url", URL + "/",
                            "--out", str(out))) == 0
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        read = {n[len(TOP):]: z.read(n).decode() for n in names if n.startswith(TOP) and not n.endswith("/")}
    assert {n.split("/")[0] for n in names} == {DEFAULT_TOP_FOLDER}
    # brain-score.org's check: a <top>/models/ entry, a <top>/models/<plugin>/ entry holding __init__.py and test.py
    assert f"{DEFAULT_TOP_FOLDER}/models/" in names and TOP in names
    assert {"__init__.py", "test.py", "model.py", "weights.json", "requirements.txt", "metadata.yml",
            "README.md"} <= set(read)
    assert not any(n.endswith(".pt") for n in names)  # the checkpoints are uploaded, not zipped
    order = ["realnet_r_s01", "realnet_r_s02", "realnet_base_resnet18"]
    registrations = [line for line in read["__init__.py"].splitlines() if "model_registry[" in line]
    assert registrations == [f"model_registry['{i}'] = lambda: get_model('{i}')" for i in order]
    weights = json.loads(read["weights.json"])
    assert weights["base_url"] == URL and list(weights["files"]) == order
    for identifier, record in weights["files"].items():
        digests = file_digests(paths[identifier])
        assert (record["file"], record["size"], record["sha256"], record["sha1"]) == \
               (f"{identifier}.pt", digests.size, digests.sha256, digests.sha1)
        assert paths[identifier].with_name(f"{identifier}.pt.sha256").read_text().split()[0] == record["sha256"]
        assert f"{URL}/{identifier}.pt" in read["README.md"] and record["sha256"] in read["README.md"]
    assert "realnet" not in read["requirements.txt"] and "torch" in read["requirements.txt"]
    assert not any("realnet_plugins" in line for text in read.values() for line in text.splitlines()
                   if line.lstrip().startswith(("import ", "from ")))
    printed = capsys.readouterr().out
    assert str(paths["realnet_r_s01"]) in printed and f"{URL}/realnet_r_s01.pt" in printed

    before = out.read_bytes()
    assert main(_submission("--models", "realnet_r_s*", "realnet_base_*", "--weights-url", URL,
                            "--out", str(out), "--overwrite")) == 0
    assert out.read_bytes() == before  # the same checkpoints give the same zip, byte for byte


@pytest.mark.parametrize("args, expected", [
    (["--models", "realnet_r_s01", "--weights-url", "ftp://example.org/w"], "http(s) address of the folder"),
    (["--models", "realnet_r_s01", "--weights-url", "example.org/w"], "http(s) address of the folder"),
    (["--models", "realnet_r_s01", "--weights-url", URL, "--out-name"], None),
    (["--models", "nosuch*", "--weights-url", URL], "'nosuch*' matches no ReAlnet identifier"),
    (["--models", "realnet_r_s03", "--weights-url", URL], "no checkpoint for 'realnet_r_s03'"),
    (["--models", "realnet_nomse_s*", "--weights-url", URL], "none has a checkpoint under"),
    (["--models", "realnet_r_s01", "--weights-url", URL, "--plugin-name", "realnet"], "exists already in Brain-Score"),
    (["--models", "realnet_r_s01", "--weights-url", URL, "--plugin-name", "ReAlnet"], "lower-case letters"),
    (["--models", "realnet_r_s01", "--weights-url", URL, "--plugin-name", "realnet_cornet"], "exists already"),
])
def test_user_mistakes_are_one_line_and_exit_2(realnet_home, tmp_path, capsys, args, expected):
    write_fixture_checkpoint("realnet_r_s01", image_size=32, seed=1)
    out = tmp_path / "sub.zip"
    if "--out-name" in args:
        args = [a for a in args if a != "--out-name"] + ["--out", str(tmp_path / "sub.tar")]
        expected = "must end in .zip"
    else:
        args = args + ["--out", str(out)]
    code = main(_submission(*args))
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err
    assert not out.exists()


def test_existing_output_is_kept_without_overwrite(realnet_home, tmp_path, capsys):
    write_fixture_checkpoint("realnet_r_s01", image_size=32, seed=1)
    out = tmp_path / "sub.zip"
    out.write_bytes(b"earlier work")
    code = main(_submission("--models", "realnet_r_s01", "--weights-url", URL, "--out", str(out)))
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--overwrite" in err
    assert out.read_bytes() == b"earlier work"


def test_a_damaged_checkpoint_is_refused_before_anything_is_written(realnet_home, tmp_path, capsys):
    path = write_fixture_checkpoint("realnet_r_s01", image_size=32, seed=1)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    out = tmp_path / "sub.zip"
    code = main(_submission("--models", "realnet_r_s01", "--weights-url", URL, "--out", str(out)))
    err = capsys.readouterr().err
    assert code == 2 and "sha256" in err and "Traceback" not in err
    assert not out.exists()


def test_configure_imports_nothing_heavy():
    code = """
import argparse, sys
from realnet_plugins.commands import submission
submission.configure(argparse.ArgumentParser(), 'submission')
heavy = [m for m in ('torch', 'numpy', 'xarray', 'brainscore_vision', 'PIL') if m in sys.modules]
print(heavy)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "[]", res.stderr[-2000:]
