"""`realnet submission --benchmarks`: benchmark and data plugins that score through Brain-Score without realnet-plugins.

Fixture THINGS-EEG2 (2 subjects, 8 images x 10 trials) and Shen 2019 releases are packaged into a
temporary $REALNET_HOME and submitted. What the zip and the upload folder hold is checked in this
process (no images, recorded sha1s, literal registrations, metadata Brain-Score accepts, the
package's own RDMs and assemblies, byte-identical rebuilds). The must-show test unpacks a zip with
the model plugin too into a scratch ``brainscore_vision`` tree (without this package's own plugins),
places the data files where upstream's loaders look (``$BRAINIO_HOME/<sha1>/``), packages the Shen
images with the data plugin's own script, serves a fixture ``Gifford2022_stim_test`` through
upstream's loader, and then, in a fresh interpreter where ``realnet_plugins`` cannot be imported,
runs Brain-Score's discovery, metadata validation, the plugins' test.py (slow tests included) and
``brainscore_vision.score`` on one EEG and one fMRI benchmark: the values equal those of the
installed package on the same model and data. CI runs all of it (about a minute on 2 cores).
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from test_submission import BLOCKED, _child_result, _WeightsServer

from realnet_plugins.cli import main
from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
from realnet_plugins.datasets.shen2019.packaging import Shen2019Package, package_shen2019
from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.packaging import ThingsEEG2Package, package_things_eeg2
from realnet_plugins.fixtures.weights import write_fixture_checkpoint
from realnet_plugins.submission.archive import DEFAULT_TOP_FOLDER
from realnet_plugins.submission.weights import file_digests

from installed import run_fresh

EEG, SHEN = "things_eeg2_rsa", "shen2019_rsa"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".webp")
EEG_IDS = [f"ThingsEEG2{who}-temporal_rsa{kind}" for kind in ("", "_crossnobis")
           for who in ("", ".sub-01", ".sub-02")]  # the packaged subjects' benchmarks, decoding and crossnobis
SHEN_IDS = ["Shen2019.natural-rsa", "Shen2019.shape-rsa", "Shen2019.letter-rsa"]


def _package(root: Path) -> tuple[Path, Path]:
    eeg = write_things_eeg2_release(root / "eeg", n_subjects=2, n_train_concepts=2, images_per_concept=1,
                                    n_test_images=8, n_test_reps=10, image_size=32, seed=1, snr=0.5)
    shen = write_shen2019_release(root / "shen", n_natural=8, n_shape=4, n_letter=3, reps=(3, 2, 2),
                                  voxels_per_roi=6, image_size=32)
    package_things_eeg2(eeg, progress=False)
    package_shen2019(shen, progress=False)
    return eeg, shen


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_zip(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as z:
        return {name: z.read(name) for name in z.namelist() if not name.endswith("/")}


def _plugin_text(files: dict[str, bytes], kind: str, name: str, path: str) -> str:
    return files[f"{DEFAULT_TOP_FOLDER}/{kind}/{name}/{path}"].decode()


def test_zip_holds_plugins_no_images_and_the_data_files_lie_beside_it_with_their_sha1(realnet_home, tmp_path, capsys):
    from brainscore_core.plugin_management.handle_metadata import validate_metadata_file

    from realnet_plugins.brainscore_bridge.benchmarks import realnet_benchmark

    eeg_release, shen_release = _package(tmp_path)
    out = tmp_path / "out" / "submission.zip"
    assert main(["submission", "--benchmarks", "ThingsEEG2*", "Shen2019.*", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "skipped 16 matched benchmark(s)" in printed and "ThingsEEG2.sub-03-temporal_rsa" in printed
    upload = tmp_path / "out" / "submission_upload"
    files = _read_zip(out)

    # one top folder; per dataset a benchmark and a data plugin
    plugins = {tuple(name.split("/")[1:3]) for name in files}
    assert plugins == {("benchmarks", EEG), ("benchmarks", SHEN), ("data", EEG), ("data", SHEN)}
    assert {name.split("/")[0] for name in files} == {DEFAULT_TOP_FOLDER}

    # no image in the zip or the upload folder, by name or by content
    images = [p for p in list(eeg_release.rglob("*")) + list(shen_release.rglob("*"))
              if p.suffix.lower() in IMAGE_SUFFIXES]
    assert len(images) >= 8 + 8 + 4 + 3
    image_digests = {_sha256(p.read_bytes()) for p in images}
    uploaded = [p for p in upload.rglob("*") if p.is_file()]
    assert not [n for n in files if Path(n).suffix.lower() in IMAGE_SUFFIXES]
    assert not [p for p in uploaded if p.suffix.lower() in IMAGE_SUFFIXES]
    assert not image_digests & {_sha256(data) for data in files.values()}
    assert not image_digests & {_sha256(p.read_bytes()) for p in uploaded}

    # literal registrations: exactly the benchmarks whose data the packages hold, and every data file
    eeg_init = _plugin_text(files, "benchmarks", EEG, "__init__.py")
    assert re.findall(r"^benchmark_registry\['(.+)'\] = lambda: load_benchmark\('(.+)'\)$", eeg_init, re.M) == [
        (i, i) for i in EEG_IDS]
    shen_init = _plugin_text(files, "benchmarks", SHEN, "__init__.py")
    assert re.findall(r"^benchmark_registry\['([^']+)'\]", shen_init, re.M) == SHEN_IDS
    manifest = json.loads((upload / "upload.json").read_text())
    for name in (EEG, SHEN):
        record = json.loads(_plugin_text(files, "data", name, "data_files.json"))
        init = _plugin_text(files, "data", name, "__init__.py")
        assert re.findall(r"^data_registry\['([^']+)'\] = lambda: assembly_from_s3\($", init, re.M) == [
            f["registry_id"] for f in record["files"]]
        for f in record["files"]:
            path = upload / record["bucket"].rsplit("/", 1)[1] / f["file"]
            digests = file_digests(path)
            assert (digests.sha1, digests.size) == (f["sha1"], f["size"])  # the recorded sha1 is the file's
            assert f'identifier="{f["registry_id"]}", version_id="FILL-IN: S3 version id of {f["file"]}",' in init
            assert f'sha1="{f["sha1"]}"' in init
        assert {f["sha1"] for f in record["files"]} <= {f["sha1"] for f in manifest["files"]}
    assert len(manifest["files"]) == len(uploaded) - 2  # + UPLOAD.md, upload.json
    assert "stimulus_set_registry" not in _plugin_text(files, "data", EEG, "__init__.py")  # upstream's set is used
    shen_data_init = _plugin_text(files, "data", SHEN, "__init__.py")
    assert re.findall(r"^stimulus_set_registry\['([^']+)'\]", shen_data_init, re.M) == [
        "Shen2019.natural", "Shen2019.shape", "Shen2019.letter"]

    # the Shen images are listed with their sha256, never included
    listing = pd.read_csv(io.StringIO(_plugin_text(files, "data", SHEN, "stimuli/Shen2019.natural.csv")),
                          dtype={"stimulus_id": str})
    natural = Shen2019Package().stimulus_table("natural")
    assert listing["stimulus_id"].tolist() == natural["stimulus_id"].tolist()
    assert listing["sha256"].tolist() == natural["sha256"].tolist()
    assert listing["source"].str.contains("ImageNet").all() and "image_path" not in listing.columns

    # metadata Brain-Score accepts, one entry per registered benchmark
    for name, ids in ((EEG, EEG_IDS), (SHEN, SHEN_IDS)):
        path = tmp_path / f"{name}.yml"
        path.write_text(_plugin_text(files, "benchmarks", name, "metadata.yml"))
        errors, document = validate_metadata_file(str(path))
        assert errors == [] and list(document["benchmarks"]) == ids

    # the files hold the package's own RDMs (float32 as packaged; split halves with them) and assemblies
    eeg_package = ThingsEEG2Package()
    with xr.open_dataset(upload / "ThingsEEG2" / "assy_ThingsEEG2_decoding_sub-02_rdms.nc") as stored:
        values = stored["data"].values
        assert values.dtype == np.float32 and stored.attrs["subject"] == "sub-02"
        assert stored["stimulus_id"].values.tolist() == eeg_package.stimulus_table()["stimulus_id"].tolist()
        assert stored["rdm_trials"].values.tolist() == ["all", "half_1", "half_2"]
    rdm, halves = eeg_package.rdms("sub-02")
    np.testing.assert_array_equal(values[0], rdm)
    np.testing.assert_array_equal(values[1:], halves)
    shen_package = Shen2019Package()
    with xr.open_dataset(upload / "Shen2019" / "assy_Shen2019_shape_sub-03_rdms.nc") as stored:
        assert stored["roi"].values.tolist() == ["V1", "V2", "V3", "V4", "LOC"]
        np.testing.assert_array_equal(stored["data"].values[0, 2], shen_package.rdms("sub-03", "shape")["V3"])
    with xr.open_dataset(upload / "Shen2019" / "assy_Shen2019_letter.nc") as stored:
        np.testing.assert_array_equal(stored["data"].values, shen_package.data_assembly(image_set="letter").values)

    # the recorded ceilings are the package's
    specs = json.loads(_plugin_text(files, "benchmarks", EEG, "benchmarks.json"))["benchmarks"]
    for identifier in ("ThingsEEG2-temporal_rsa", "ThingsEEG2.sub-01-temporal_rsa"):
        assert specs[identifier]["expected_ceiling"] == float(realnet_benchmark(identifier).ceiling)
    assert specs["ThingsEEG2.sub-01-temporal_rsa"]["data"] == ["ThingsEEG2.decoding.sub-01.rdms"]
    assert specs["ThingsEEG2-temporal_rsa"]["stimulus_set"] == "Gifford2022_stim_test"

    # the carried library is RDMBenchmark and what it uses: no registry, packaging or decoding engine
    library = sorted(n.split("/realnet_lib/")[1] for n in files if f"benchmarks/{EEG}/realnet_lib/" in n)
    assert {"brainscore_bridge/benchmarks.py", "rsa/ceiling.py", "rsa/rdm.py", "datasets/targets.py"} <= set(library)
    assert not [n for n in library if re.search(r"decoding|store|packaging|reader|scoring|models", n)]
    assert "def " not in _plugin_text(files, "benchmarks", EEG, "realnet_lib/datasets/__init__.py")

    # nothing in the zip names the user's files or imports realnet_plugins
    assert not [n for n, data in files.items() if str(tmp_path).encode() in data]
    assert not [n for n, data in files.items() if n.endswith(".py") and re.search(
        rb"^\s*(from|import) realnet_plugins", data, re.M)]

    # the same packages give the same zip and the same data files, byte for byte
    before = {p.relative_to(upload): p.read_bytes() for p in uploaded}
    zipped = out.read_bytes()
    assert main(["submission", "--benchmarks", "ThingsEEG2*", "Shen2019.*", "--out", str(out), "--overwrite"]) == 0
    assert out.read_bytes() == zipped
    assert {p.relative_to(upload): p.read_bytes() for p in upload.rglob("*") if p.is_file()} == before
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".partial")]


def _generated_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_plugin_loaders_refuse_unfilled_values_unless_the_file_is_local(realnet_home, tmp_path, monkeypatch,
                                                                             capsys):
    from brainscore_core.supported_data_standards.brainio import fetch
    from brainscore_core.supported_data_standards.brainio.assemblies import DataAssembly

    _package(tmp_path)
    out = tmp_path / "sub.zip"
    assert main(["submission", "--benchmarks", "Shen2019.letter-rsa", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as z:
        z.extractall(tmp_path / "unpacked")
    loaders = _generated_module(tmp_path / "unpacked" / DEFAULT_TOP_FOLDER / "data" / SHEN / "loaders.py",
                                "generated_loaders")
    record = json.loads((tmp_path / "unpacked" / DEFAULT_TOP_FOLDER / "data" / SHEN / "data_files.json").read_text())
    entry = next(f for f in record["files"] if f["registry_id"] == "Shen2019.letter.sub-02.rdms")
    home = tmp_path / "brainio"
    monkeypatch.setattr(fetch, "_local_data_path", str(home))
    arguments = dict(identifier=entry["registry_id"], version_id=f"FILL-IN: S3 version id of {entry['file']}",
                     sha1=entry["sha1"], bucket=record["bucket"], cls=DataAssembly)
    with pytest.raises(loaders.NotUploadedError) as refused:
        loaders.assembly_from_s3(**arguments)
    message = str(refused.value)
    assert entry["file"] in message and record["bucket"] in message and "README.md" in message
    assert str(home / entry["sha1"] / entry["file"]) in message
    local = home / entry["sha1"] / entry["file"]
    local.parent.mkdir(parents=True)
    shutil.copyfile(tmp_path / "sub_upload" / "Shen2019" / entry["file"], local)
    loaded = loaders.assembly_from_s3(**arguments)  # a placeholder version id is fine for a local file
    assert loaded.attrs["subject"] == "sub-02" and loaded.sizes["target"] == 5
    with pytest.raises(loaders.NotUploadedError, match="csv_sha1, csv_version_id, zip_sha1, zip_version_id"):
        loaders.stimulus_set_from_s3(identifier="Shen2019.letter", bucket=record["bucket"],
                                     filename_prefix="stimulus_", csv_sha1="FILL-IN: sha1 of a.csv",
                                     csv_version_id="FILL-IN: x", zip_sha1="FILL-IN: sha1 of a.zip",
                                     zip_version_id="FILL-IN: y")


def test_things_eeg2_ids_are_those_of_upstreams_registered_test_images():
    """Upstream's package_gifford2022.py names each image file_name.split('.')[0]; the reader names it by its stem."""
    from realnet_plugins.safe_pickle import load_npy_dict
    from realnet_plugins.submission.benchmarks import UPSTREAM_STIMULUS_SETS, upstream_image_ids

    upstream = UPSTREAM_STIMULUS_SETS["ThingsEEG2.test"]
    folder = Path(importlib.util.find_spec("brainscore_vision").origin).parent / "data" / upstream.plugin
    assert "stimulus_set_registry['Gifford2022_stim_test']" in (folder / "__init__.py").read_text()
    files = load_npy_dict(folder / upstream.metadata_file)[upstream.metadata_key]
    assert len(files) == 200 and files[0] == "aircraft_carrier_06s.jpg"
    assert upstream_image_ids(upstream) == [name.split(".")[0] for name in files] == [Path(n).stem for n in files]


@pytest.mark.parametrize("args, packaged, expected", [
    (["--benchmarks", "ThingsEEG2*"], False, "run `realnet package things-eeg2"),
    (["--benchmarks", "NoSuch*"], False, "'NoSuch*' matches no benchmark of realnet-plugins"),
    (["--benchmarks", "Geirhos2021-error_consistency"], False, "Geirhos2021-error_consistency cannot be submitted"),
    (["--benchmarks", "Geirhos2021*"], False, "cannot be submitted"),
    (["--benchmarks", "ThingsEEG2.sub-05-temporal_rsa"], True, "needs sub-05"),
    (["--out-only"], False, "nothing to submit"),
    (["--models", "realnet_r_s01", "--benchmarks", "Shen2019.*"], False, "--models needs --weights-url"),
])
def test_user_mistakes_are_one_line_exit_2_and_write_nothing(realnet_home, tmp_path, capsys, args, packaged,
                                                             expected):
    if packaged:
        _package(tmp_path)
    out = tmp_path / "out" / "sub.zip"
    args = [a for a in args if a != "--out-only"]
    code = main(["submission", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err
    assert not out.exists() and not (out.parent / "sub_upload").exists()
    assert not out.parent.exists() or not list(out.parent.iterdir())  # no staging folder left behind


def test_existing_outputs_are_kept_without_overwrite(realnet_home, tmp_path, capsys):
    _package(tmp_path)
    out = tmp_path / "sub.zip"
    upload = tmp_path / "sub_upload"
    upload.mkdir()
    (upload / "earlier.txt").write_text("earlier work")
    code = main(["submission", "--benchmarks", "Shen2019.letter-rsa", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--overwrite" in err and str(upload) in err
    assert (upload / "earlier.txt").read_text() == "earlier work" and not out.exists()


# --------------------------------------------------------------------------------------- the must-show test


def _scratch_tree(root: Path, plugins: list[Path]) -> Path:
    """A brainscore_vision package: the installed one without this package's own plugins, plus ``plugins``."""
    installed = Path(importlib.util.find_spec("brainscore_vision").origin).parent
    tree = root / "brainscore_vision"
    kinds = {"models", "benchmarks", "data"}
    tree.mkdir(parents=True)
    for entry in installed.iterdir():
        if entry.name not in kinds | {"__pycache__"}:
            (tree / entry.name).symlink_to(entry)
    for kind in kinds:
        (tree / kind).mkdir()
        for entry in (installed / kind).iterdir():
            if entry.name != "__pycache__" and entry.name != "realnet" and not entry.name.startswith("realnet_"):
                (tree / kind / entry.name).symlink_to(entry)
    for plugin in plugins:
        shutil.copytree(plugin, tree / plugin.parent.name / plugin.name)
    return tree


def _fixture_gifford_stimuli(brainio: Path, table: pd.DataFrame) -> dict[str, str]:
    """A stand-in for upstream's Gifford2022_stim_test: the fixture's images, upstream's columns and file names."""
    from brainscore_core.supported_data_standards.brainio.packaging import create_stimulus_csv, create_stimulus_zip
    from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

    labels = [s.rsplit("_", 1)[0] for s in table["stimulus_id"]]
    index = {label: i for i, label in enumerate(sorted(set(labels)))}
    stimulus_set = StimulusSet({"stimulus_id": table["stimulus_id"], "label": labels, "object_name": labels,
                                "label_idx": [index[label] for label in labels]})
    stimulus_set.stimulus_paths = dict(zip(table["stimulus_id"], table["image_path"]))
    staging = brainio / "staging"
    zip_sha1, arcnames = create_stimulus_zip(stimulus_set, str(staging / "stimulus_THINGS_EEG2_test_Stimuli.zip"))
    stimulus_set["filename"] = arcnames
    csv_sha1 = create_stimulus_csv(stimulus_set, str(staging / "stimulus_THINGS_EEG2_test_Stimuli.csv"))
    for sha1, suffix in ((csv_sha1, "csv"), (zip_sha1, "zip")):
        (brainio / sha1).mkdir(parents=True)
        shutil.move(staging / f"stimulus_THINGS_EEG2_test_Stimuli.{suffix}", brainio / sha1)
    return {"csv_sha1": csv_sha1, "zip_sha1": zip_sha1}


SCORED = ("ThingsEEG2-temporal_rsa", "Shen2019.natural-rsa")
SCORE_FIELDS = """
def fields(s):
    return {"value": float(s), "raw": float(s.attrs['raw']), "ceiling": float(s.attrs['ceiling']),
            "error": float(s.attrs['error']), "detail": s.attrs['detail'].values.tolist(),
            "detail_dims": list(s.attrs['detail'].dims), "subjects": list(s.attrs['subjects']),
            "model": s.attrs['model_identifier'], "benchmark": s.attrs['benchmark_identifier']}
"""


def test_submitted_benchmarks_score_through_brainscore_without_realnet_plugins_as_the_package_does(
        realnet_home, tmp_path, capsys):
    write_fixture_checkpoint("realnet_r_s01", image_size=32, seed=3)
    _, shen_release = _package(tmp_path / "releases")
    brainio = tmp_path / "brainio"  # run_fresh's $BRAINIO_HOME
    gifford = _fixture_gifford_stimuli(brainio, ThingsEEG2Package().stimulus_table())
    weights = {"/weights/realnet_r_s01.pt": (realnet_home / "checkpoints" / "realnet_r_s01.pt").read_bytes()}
    with _WeightsServer(weights) as server:
        out = tmp_path / "submission.zip"
        assert main(["submission", "--models", "realnet_r_s01", "--weights-url", server.url + "/weights",
                     "--benchmarks", "ThingsEEG2-temporal_rsa", "ThingsEEG2.sub-01-temporal_rsa",
                     "Shen2019.natural-rsa", "--out", str(out)]) == 0
        with zipfile.ZipFile(out) as z:
            z.extractall(tmp_path / "unpacked")
        top = tmp_path / "unpacked" / DEFAULT_TOP_FOLDER
        tree = _scratch_tree(tmp_path / "scratch", [p for kind in ("models", "benchmarks", "data")
                                                    for p in (top / kind).iterdir()])
        # the Brain-Score team's part: the data files into storage (here: where the loaders look first) ...
        upload = tmp_path / "submission_upload"
        for record in json.loads((upload / "upload.json").read_text())["files"]:
            (brainio / record["sha1"]).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(upload / record["path"], brainio / record["sha1"] / record["file"])
        # ... the Shen images packaged with the data plugin's script, which fills their sha1s in ...
        packaged = subprocess.run(
            [sys.executable, str(tree / "data" / SHEN / "data_packaging" / "package_stimuli.py"), "--images",
             str(shen_release / "images"), "--out", str(tmp_path / "stimuli_upload"), "--brainio-home", str(brainio)],
            capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert packaged.returncode == 0, packaged.stderr[-3000:]
        assert [r["identifier"] for r in json.loads(packaged.stdout)] == ["Shen2019.natural"]
        # ... and the S3 version ids filled in after the upload
        for name in (EEG, SHEN):
            init = tree / "data" / name / "__init__.py"
            init.write_text(re.sub(r'"FILL-IN: S3 version id of ([^"]+)"', r'"uploaded-\1"', init.read_text()))
            assert '"FILL-IN' not in init.read_text()
        res = run_fresh(BLOCKED.format(tree=str(tree)) + SCORE_FIELDS + f"""
import json, pytest
import brainscore_vision
import brainscore_vision.data.gifford2022  # upstream's plugin; its test-image entry is pointed at the fixture
from brainscore_core.plugin_management.import_plugin import ImportPlugin
from brainscore_core.plugin_management.parse_plugin_changes import get_plugin_ids
from brainscore_core.plugin_management.handle_metadata import validate_metadata_file
from brainscore_core.supported_data_standards.brainio.s3 import load_stimulus_set_from_s3

brainscore_vision.stimulus_set_registry['Gifford2022_stim_test'] = lambda: load_stimulus_set_from_s3(
    identifier="THINGS_EEG2_test_Stimuli", bucket="brainscore-storage/brainscore-vision/benchmarks/Gifford2022",
    csv_sha1={gifford['csv_sha1']!r}, zip_sha1={gifford['zip_sha1']!r}, csv_version_id=None, zip_version_id=None,
    filename_prefix="stimulus_")
root = {str(tree)!r}
out = {{"ids": {{kind: {{name: get_plugin_ids(kind, [name], root) for name in ({EEG!r}, {SHEN!r})}}
                for kind in ("benchmarks", "data")}},
       "located": [ImportPlugin('brainscore_vision', 'benchmarks', i).plugin_dirname for i in {list(SCORED)!r}],
       "metadata": [validate_metadata_file(root + f'/benchmarks/{{name}}/metadata.yml')[0]
                    for name in ({EEG!r}, {SHEN!r})]}}
out["plugin_tests"] = [int(pytest.main(['-q', '-p', 'no:cacheprovider', root + f'/{{kind}}/{{name}}/test.py']))
                       for kind in ("benchmarks", "data") for name in ({EEG!r}, {SHEN!r})]
out["scores"] = {{b: fields(brainscore_vision.score('realnet_r_s01', b)) for b in {list(SCORED)!r}}}
print(json.dumps(out))
""", home=tmp_path / "empty_home", cwd=tmp_path, extra_env={"PYTHONPATH": str(tree.parent),
                                                          "REALNET_BS_BATCH_SIZE": "8"})
    submitted = _child_result(res)
    assert submitted["ids"] == {
        "benchmarks": {EEG: ["ThingsEEG2-temporal_rsa", "ThingsEEG2.sub-01-temporal_rsa"],
                       SHEN: ["Shen2019.natural-rsa"]},
        "data": {EEG: ["ThingsEEG2.decoding.sub-01.rdms", "ThingsEEG2.decoding.sub-02.rdms"],
                 SHEN: [f"Shen2019.natural.sub-0{s}.rdms" for s in (1, 2, 3)] + ["Shen2019.natural"]}}
    assert submitted["located"] == [EEG, SHEN]  # one registration each among every plugin of the tree
    assert submitted["metadata"] == [[], []]
    assert submitted["plugin_tests"] == [0, 0, 0, 0], res.stdout[-4000:]
    # every test of the plugins ran, the slow ones (ceilings, file loads) included
    assert [int(n) for n in re.findall(r"^(\d+) passed", res.stdout, re.M)] == [5, 4, 4, 6], res.stdout[-4000:]

    # The installed package scores the same model on the same packages: the same values.
    (tmp_path / "package_run").mkdir()
    same = run_fresh(SCORE_FIELDS + f"""
import json
import brainscore_vision
print(json.dumps({{b: fields(brainscore_vision.score('realnet_r_s01', b)) for b in {list(SCORED)!r}}}))
""", home=realnet_home, cwd=tmp_path / "package_run", extra_env={"REALNET_BS_BATCH_SIZE": "8"})
    package_scores = _child_result(same)
    for benchmark in SCORED:
        ours, theirs = submitted["scores"][benchmark], package_scores[benchmark]
        assert ours["model"] == "realnet_r_s01" and ours["benchmark"] == benchmark
        assert np.isfinite(ours["value"]) and np.isfinite(ours["ceiling"]) and ours["ceiling"] > 0
        assert ours == theirs, benchmark
