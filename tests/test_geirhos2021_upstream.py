"""Upstream's real Geirhos2021 benchmarks on miniature data in Brain-Score's format, through the realnet model plugin.

The fixture (all 17 data sets; every condition upstream excludes plus one scored condition; 8 images
per condition; 3 subjects) is served through ``brainscore_vision``'s data registry with upstream's own
S3 loaders (files placed in ``$BRAINIO_HOME/<sha1>/``). Nothing is downloaded: tests that could reach
S3 point boto at a closed local port.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image
from sklearn.metrics import cohen_kappa_score

from realnet_plugins.brainscore_bridge.geirhos2021 import (
    GEIRHOS2021_BIBTEX,
    GEIRHOS2021_CATEGORIES,
    GEIRHOS2021_DATASETS,
    Geirhos2021ErrorConsistencyMean,
    benchmark_identifier,
    data_identifier,
    explain_data_failure,
    geirhos2021_identifiers,
    upstream_data_files,
    validate_geirhos2021_assembly,
)
from realnet_plugins.brainscore_bridge.geirhos2021_fixtures import (
    MANIFEST,
    fixture_loaders,
    read_fixture,
    write_geirhos2021_fixture,
)
from realnet_plugins.errors import DataFormatError, MissingFileError
from realnet_plugins.fixtures.weights import write_fixture_checkpoint

from installed import run_fresh

UPSTREAM_COORDS = {"image_id", "image_id_long", "truth", "choice", "category", "condition", "response_time", "trial",
                   "subject", "session"}
#: boto is pointed here (a closed port) wherever a test could otherwise reach S3.
NO_NETWORK = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
              "HTTP_PROXY": "http://127.0.0.1:9"}


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("geirhos2021")
    write_geirhos2021_fixture(folder, n_subjects=3, images_per_condition=8, kept_conditions=1, image_size=32, seed=0)
    return folder


@pytest.fixture
def brainio_home(tmp_path, monkeypatch) -> Path:
    """A private $BRAINIO_HOME for this process (upstream caches the path in a module global)."""
    from brainscore_core.supported_data_standards.brainio import fetch

    home = tmp_path / "brainio"
    monkeypatch.setenv("BRAINIO_HOME", str(home))
    monkeypatch.setattr(fetch, "_local_data_path", str(home))
    for name, value in NO_NETWORK.items():
        monkeypatch.setenv(name, value)
    return home


def serve(monkeypatch, folder: Path, *, validate: bool = True) -> None:
    """Replace upstream's registry entries for the fixture's data sets, for this test only."""
    import brainscore_vision
    import brainscore_vision.data.geirhos2021  # noqa: F401 - imported first, so a later import cannot undo this

    data, stimulus_sets = fixture_loaders(read_fixture(folder), validate=validate)
    for key, loader in data.items():
        monkeypatch.setitem(brainscore_vision.data_registry, key, loader)
    for key, loader in stimulus_sets.items():
        monkeypatch.setitem(brainscore_vision.stimulus_set_registry, key, loader)


def rewrite_assembly(folder: Path, dataset: str, change) -> None:
    """Replace a fixture's assembly by ``change(assembly)``, written with Brain-Score's writer; manifest updated."""
    from brainscore_core.supported_data_standards.brainio.assemblies import BehavioralAssembly
    from brainscore_core.supported_data_standards.brainio.packaging import write_netcdf

    fixture = read_fixture(folder)
    path = fixture.path(dataset, "assembly")
    with xr.open_dataarray(path) as opened:
        assembly = change(BehavioralAssembly(opened.load()))
    path.unlink()
    sha1 = write_netcdf(assembly, path)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["datasets"][dataset]["files"]["assembly"]["sha1"] = sha1
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_fixture_files_have_upstreams_names_coords_conditions_and_sha1s(fixture_dir):
    from brainscore_vision.benchmarks.geirhos2021.benchmark import DATASETS, EXCLUDE_CONDITIONS

    assert list(GEIRHOS2021_DATASETS) == DATASETS
    fixture = read_fixture(fixture_dir)
    assert sorted(fixture.datasets) == sorted(DATASETS)
    for dataset in DATASETS:
        upstream = {f.role: f for f in upstream_data_files(dataset)}
        for role, upstream_role in (("assembly", "assembly"), ("csv", "stimulus_set csv"), ("zip", "stimulus_set zip")):
            path = fixture.path(dataset, role)
            assert path.name == upstream[upstream_role].filename
            assert fixture.files(dataset)[role].sha1 == hashlib.sha1(path.read_bytes()).hexdigest()
        with xr.open_dataarray(fixture.path(dataset, "assembly")) as assembly:
            assert assembly.dims == ("presentation",)
            assert set(assembly.coords) - {"presentation"} == UPSTREAM_COORDS  # no stimulus_id, as in the 2021 files
            conditions = assembly["condition"].values
            for excluded in EXCLUDE_CONDITIONS.get(dataset, []):
                assert excluded in conditions, (dataset, excluded)  # upstream's own assertion
            assert np.array_equal(assembly.values, assembly["choice"].values)
            per_subject = pd.Series(assembly["image_id"].values).groupby(assembly["subject"].values).agg(sorted)
            assert per_subject.map(tuple).nunique() == 1 and len(per_subject) == 3  # each saw every image once
        table = pd.read_csv(fixture.path(dataset, "csv"))
        assert {"image_id", "truth", "condition", "filename"} <= set(table.columns) and "stimulus_id" not in table
        assert set(table["truth"]) <= set(GEIRHOS2021_CATEGORIES)
        with zipfile.ZipFile(fixture.path(dataset, "zip")) as archive:
            assert sorted(archive.namelist()) == sorted(table["filename"])
            with Image.open(io.BytesIO(archive.read(table["filename"].iloc[0]))) as image:
                assert (image.format, image.mode, image.size) == ("PNG", "RGB", (32, 32))
    with xr.open_dataarray(fixture.path("high-pass", "assembly")) as high_pass:
        assert high_pass["condition"].dtype == np.float64 and np.isinf(high_pass["condition"].values).any()
    with xr.open_dataarray(fixture.path("power-equalisation", "assembly")) as power:
        assert set(power["condition"].values) == {"0", "pow"}
    assert pd.read_csv(fixture.path("edge", "csv"))["image_id"].str.fullmatch(r"[a-z]+\d+").all()
    assert pd.read_csv(fixture.path("cue-conflict", "csv"))["image_id"].str.fullmatch(r"[a-z]+\d+-[a-z]+\d+").all()


def test_upstream_file_list_is_what_the_data_plugin_fetches(brainio_home, monkeypatch):
    import brainscore_vision
    from brainscore_core.supported_data_standards.brainio import s3

    requested = []
    placeholder = brainio_home / "placeholder.csv"
    placeholder.parent.mkdir(parents=True)
    placeholder.write_text("image_id\n")

    class Stop(Exception):
        pass

    def spy(location_type, location, sha1=None, version_id=None):  # upstream's fetch_file, recording what it is asked
        requested.append((location, sha1))
        if location.endswith(".csv"):
            return str(placeholder)
        raise Stop

    monkeypatch.setattr(s3, "fetch_file", spy)
    for dataset in ("colour", "high-pass", "cue-conflict"):
        for call in (lambda: brainscore_vision.load_stimulus_set(data_identifier(dataset)),
                     lambda: brainscore_vision.load_dataset(data_identifier(dataset))):
            with pytest.raises(Stop):
                call()
        files = upstream_data_files(dataset)
        assert requested[-3:] == [(files[1].url, files[1].sha1), (files[2].url, files[2].sha1),
                                  (files[0].url, files[0].sha1)]
        assert all(str(f.local_path) == str(brainio_home / f.sha1 / f.filename) for f in files)
    hashes = pd.read_csv(Path(brainscore_vision.__file__).parent / "data" / "geirhos2021" / "geirhos_hashes.csv")
    assert {f.sha1 for d in GEIRHOS2021_DATASETS for f in upstream_data_files(d)} <= set(hashes["sha1"])


def test_upstream_loaders_read_the_fixture_and_upstream_ceiling_is_cohens_kappa(fixture_dir, brainio_home,
                                                                                monkeypatch):
    from brainscore_core.supported_data_standards.brainio.assemblies import BehavioralAssembly
    from brainscore_vision import load_benchmark, load_dataset

    serve(monkeypatch, fixture_dir)
    assembly = load_dataset("Geirhos2021_high-pass")
    assert isinstance(assembly, BehavioralAssembly)
    assert list(assembly["stimulus_id"].values) == list(assembly["image_id"].values)
    stimuli = assembly.stimulus_set
    for field in ("image_id", "condition", "truth"):  # upstream's data-plugin alignment test
        assert set(stimuli[field]) == set(assembly[field].values)
    zip_sha1 = read_fixture(fixture_dir).files("high-pass")["zip"].sha1
    assert all(Path(p).is_file() and Path(p).is_relative_to(brainio_home / zip_sha1)
               for p in stimuli.stimulus_paths.values())

    # upstream's ceiling: per scored condition and pair of subjects, Cohen's kappa of correct/wrong; |mean|
    ceiling = load_benchmark("Geirhos2021highpass-error_consistency").ceiling
    with xr.open_dataarray(read_fixture(fixture_dir).path("high-pass", "assembly")) as raw:
        table = pd.DataFrame({c: raw[c].values for c in ("image_id", "subject", "condition", "truth", "choice")})
    scored = table[table["condition"] == 3.0].sort_values("image_id")  # the one level kept besides inf, .55, .45, .4
    correct = {s: (g["choice"] == g["truth"]).to_numpy() for s, g in scored.groupby("subject")}
    kappas = [cohen_kappa_score(correct[a], correct[b]) for a, b in
              [("subject-01", "subject-02"), ("subject-01", "subject-03"), ("subject-02", "subject-03")]]
    assert sorted(ceiling.raw.values.ravel()) == pytest.approx(sorted(kappas))
    assert float(ceiling) == pytest.approx(abs(np.mean(kappas)))
    assert float(ceiling) > 0


def _loaded(fixture_dir, monkeypatch, dataset="colour"):
    from brainscore_vision import load_dataset

    serve(monkeypatch, fixture_dir)
    return load_dataset(data_identifier(dataset))


def _drop_presentations(assembly, keep):
    stimulus_set = assembly.attrs["stimulus_set"]
    out = assembly[{"presentation": keep}]
    out.attrs["stimulus_set"] = stimulus_set
    return out


@pytest.mark.parametrize("corruption, message", [
    ("excluded condition absent", r"excludes the conditions \['cr'\].*missing \['cr'\]"),
    ("subject coord absent", r"missing \['subject'\]"),
    ("stimulus ids differ", r"same image ids; only in the assembly: \['bw_"),
    ("a subject skipped an image", r"subject subject-02 must see each of the 8 images of condition bw exactly once"),
    ("unknown label", r"truth labels must be among the 16 categories.*'giraffe'"),
    ("condition types differ", r"condition of image .* is 'bw' in the assembly but 'black-white' in the stimulus set"),
])
def test_validator_names_what_upstream_would_trip_on(fixture_dir, brainio_home, monkeypatch, corruption, message):
    assembly = _loaded(fixture_dir, monkeypatch)
    validate_geirhos2021_assembly("colour", assembly)  # the fixture itself is valid
    if corruption == "excluded condition absent":
        assembly = _drop_presentations(assembly, assembly["condition"].values != "cr")
    elif corruption == "subject coord absent":
        assembly = assembly.reset_index("presentation").drop_vars("subject")
    elif corruption == "stimulus ids differ":
        stimuli = assembly.attrs["stimulus_set"].copy()
        stimuli["image_id"] = stimuli["image_id"].where(stimuli["condition"] != "bw", stimuli["image_id"] + "x")
        assembly.attrs["stimulus_set"] = stimuli
    elif corruption == "a subject skipped an image":
        skipped = (assembly["subject"].values == "subject-02") & (assembly["condition"].values == "bw")
        assembly = _drop_presentations(assembly, ~(skipped & (np.cumsum(skipped) == 1)))
    elif corruption == "unknown label":
        truth = assembly["truth"].values.copy()
        truth[0] = "giraffe"
        assembly = assembly.reset_index("presentation").assign_coords(truth=("presentation", truth))
    else:
        stimuli = assembly.attrs["stimulus_set"].copy()
        stimuli["condition"] = stimuli["condition"].replace({"bw": "black-white"})
        assembly.attrs["stimulus_set"] = stimuli
    with pytest.raises(DataFormatError, match=message):
        validate_geirhos2021_assembly("colour", assembly)


def test_bad_data_fails_with_data_format_error_before_upstreams_assert(tmp_path, brainio_home, monkeypatch):
    from brainscore_vision import load_benchmark

    folder = tmp_path / "bad"
    write_geirhos2021_fixture(folder, ["colour"], images_per_condition=4, image_size=16, seed=3)
    rewrite_assembly(folder, "colour", lambda a: a[{"presentation": a["condition"].values != "cr"}])

    serve(monkeypatch, folder, validate=False)
    with pytest.raises(AssertionError) as bare:  # what upstream alone says
        load_benchmark("Geirhos2021colour-error_consistency").ceiling
    assert str(bare.value) == ""
    with pytest.raises(DataFormatError, match=r"Geirhos2021_colour: upstream excludes the conditions \['cr'\]"):
        Geirhos2021ErrorConsistencyMean().check_data()  # the mean validates before running upstream's code

    serve(monkeypatch, folder, validate=True)
    with pytest.raises(DataFormatError, match=r"missing \['cr'\] among the conditions found \['bw'\]"):
        load_benchmark("Geirhos2021colour-error_consistency").ceiling


def test_damaged_download_and_missing_download_get_one_clear_error(brainio_home, monkeypatch):
    from brainscore_vision import load_benchmark

    colour = upstream_data_files("colour")
    with pytest.raises(Exception) as offline:  # upstream's own failure: a bare Exception holding boto's errors
        load_benchmark("Geirhos2021colour-error_consistency").ceiling
    assert type(offline.value) is Exception and "127.0.0.1:9" in str(offline.value)
    clear = explain_data_failure("Geirhos2021colour-error_consistency", offline.value)
    assert isinstance(clear, MissingFileError)
    text = str(clear)
    assert f"BRAINIO_HOME={brainio_home}" in text and "\n" not in text
    assert all(f"{f.filename} (sha1 {f.sha1})" in text for f in colour)
    assert "Run once with network access" in text and "Geirhos2021_contrast" not in text
    assert explain_data_failure("Geirhos2021colour-error_consistency", ValueError("other")) is None
    assert explain_data_failure("Shen2019.natural-rsa", offline.value) is None

    damaged = colour[0].local_path
    damaged.parent.mkdir(parents=True, exist_ok=True)
    damaged.write_bytes(b"not a netCDF file")
    with pytest.raises(DataFormatError, match=r"is not the file Brain-Score registered .*SHA1 mismatch.*Delete"):
        Geirhos2021ErrorConsistencyMean().check_data()


def test_missing_download_is_one_message_not_a_long_traceback(tmp_path, realnet_home):
    write_fixture_checkpoint("realnet_s01", image_size=32, seed=2)
    res = run_fresh("""
        from brainscore_vision import score
        score('realnet_s01', 'Geirhos2021-error_consistency')
    """, home=realnet_home, cwd=tmp_path, extra_env=NO_NETWORK, timeout=300)
    assert res.returncode == 1
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    error = lines[-1]
    assert error.startswith("realnet_plugins.errors.MissingFileError: Brain-Score's Geirhos2021 data are not on this "
                            "machine and could not be downloaded (Exception: [")
    assert "127.0.0.1:9" in error  # boto's own reason, shortened
    assert f"BRAINIO_HOME={tmp_path / 'brainio'}" in error and "Missing 51 of the 51 files of 17 data set(s)" in error
    for dataset in GEIRHOS2021_DATASETS:
        assert all(f"{f.filename} (sha1 {f.sha1})" in error for f in upstream_data_files(dataset))
    traceback_start = max(i for i, line in enumerate(lines) if line.startswith("Traceback"))
    assert len(lines) - traceback_start < 30, "\n".join(lines[traceback_start:])
    assert "During handling of the above exception" not in res.stderr


def test_mean_benchmark_metadata():
    from brainscore_vision import load_benchmark
    from pybtex.database.input import bibtex

    benchmark = load_benchmark("Geirhos2021-error_consistency")
    assert type(benchmark) is Geirhos2021ErrorConsistencyMean
    assert (benchmark.identifier, benchmark.version, benchmark.parent) == ("Geirhos2021-error_consistency", 2,
                                                                            "behavior")
    entries = bibtex.Parser().parse_string(benchmark.bibtex).entries  # as Brain-Score's reference_from_bibtex does
    assert len(entries) == 1 and benchmark.bibtex == GEIRHOS2021_BIBTEX
    entry = next(iter(entries.values()))
    assert entry.persons["author"][0].last_names == ["Geirhos"] and entry.fields["year"] == "2021"
    assert entry.fields["url"].startswith("https://")
    assert [b.identifier for b in benchmark.sub_benchmarks()] == geirhos2021_identifiers()
    assert [benchmark_identifier(d) for d in GEIRHOS2021_DATASETS] == geirhos2021_identifiers()


def test_upstream_benchmarks_score_realnet_end_to_end_and_database_reads_the_documented_summary(
        fixture_dir, tmp_path, realnet_home):
    write_fixture_checkpoint("realnet_s01", image_size=32, seed=2)
    res = run_fresh(f"""
        import json, pickle
        import numpy as np
        from realnet_plugins.brainscore_bridge.geirhos2021_fixtures import serve_geirhos2021_fixture
        serve_geirhos2021_fixture({str(fixture_dir)!r})
        from brainscore_vision import score, load_model
        from brainscore_vision.benchmarks.geirhos2021.benchmark import load_assembly
        from brainscore_vision.benchmark_helpers.screen import place_on_screen
        from brainscore_vision.model_interface import BrainModel
        from brainscore_vision.model_helpers.brain_transformation.behavior import LabelToImagenetIndices
        from brainscore_core.submission.database import _retrieve_score_center, _retrieve_score_error, update_score
        from realnet_plugins.extraction import extract, load_realnet

        class StandIn:
            score_raw = score_ceiled = error = comment = None
            saved = 0
            def save(self):
                self.saved += 1

        def values(x):
            return np.asarray(x.values).tolist()

        out = {{}}
        for benchmark in ('Geirhos2021colour-error_consistency', 'Geirhos2021-error_consistency'):
            s = score('realnet_s01', benchmark)
            pickle.loads(pickle.dumps(s))
            entry = StandIn()
            update_score(s, entry)
            error = _retrieve_score_error(s)
            out[benchmark] = {{
                "center": _retrieve_score_center(s), "error": None if error is None else float(error),
                "raw_center": _retrieve_score_center(s.attrs['raw']),
                "ceiling_center": _retrieve_score_center(s.attrs['ceiling']),
                "entry": [entry.score_raw, entry.score_ceiled, entry.error, entry.comment, entry.saved],
                "comment": s.attrs.get('comment')}}
            if 'detail' in s.attrs:
                detail = s.attrs['detail']
                out[benchmark]["detail"] = values(detail.transpose('benchmark', 'quantity'))
                out[benchmark]["detail_benchmarks"] = values(detail['benchmark'])
                out[benchmark]["detail_quantities"] = values(detail['quantity'])
            else:
                kappas = s.attrs['raw'].attrs['raw']
                out[benchmark]["kappas"] = {{f"{{sub}}|{{cond}}": float(kappas.sel(subject=sub, condition=cond))
                                            for sub in kappas['subject'].values for cond in kappas['condition'].values}}

        # the model's labels on the colour images through Brain-Score's behavioural path ...
        assembly = load_assembly('colour')
        model = load_model('realnet_s01')
        labels = sorted(set(assembly['truth'].values))
        model.start_task(BrainModel.Task.label, labels)
        placed = place_on_screen(assembly.stimulus_set, target_visual_degrees=model.visual_degrees(),
                                 source_visual_degrees=3)
        choices = model.look_at(placed, number_of_trials=1)
        out["choices"] = dict(zip(values(choices['stimulus_id']), np.asarray(choices.values).ravel().tolist()))
        # ... and from the checkpoint's own 1000-way logits: softmax, mean within each category's ImageNet classes
        ids = list(placed['stimulus_id'])
        logits = extract(load_realnet('realnet_s01'), [str(placed.get_stimulus(i)) for i in ids], progress=False).logits
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        per_label = np.stack([p[:, LabelToImagenetIndices.label_to_indices(l)].mean(1) for l in labels], 1)
        out["own_choices"] = dict(zip(ids, [labels[k] for k in per_label.argmax(1)]))
        out["humans"] = [[str(s), str(c), str(i), str(v), str(t)] for s, c, i, v, t in zip(
            assembly['subject'].values, assembly['condition'].values, assembly['stimulus_id'].values,
            assembly.values, assembly['truth'].values)]
        print(json.dumps(out))
    """, home=realnet_home, cwd=tmp_path, extra_env={"REALNET_BS_BATCH_SIZE": "8", **NO_NETWORK}, timeout=900)
    assert res.returncode == 0, res.stderr[-4000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])

    # our behavioural readout: 1000-way ImageNet logits mapped to the 16 categories, as upstream's LabelBehavior does
    assert out["choices"] == out["own_choices"] and len(out["choices"]) == 8

    # upstream's raw score: per subject, Cohen's kappa of the model's and the subject's correct/wrong on 'bw'
    humans = pd.DataFrame(out["humans"], columns=["subject", "condition", "stimulus_id", "choice", "truth"])
    assert set(humans["condition"]) == {"bw"}  # upstream excluded 'cr'
    colour = out["Geirhos2021colour-error_consistency"]
    expected = {}
    for subject, trials in humans.groupby("subject"):
        trials = trials.sort_values("stimulus_id")
        model_correct = [out["choices"][i] == t for i, t in zip(trials["stimulus_id"], trials["truth"])]
        expected[f"{subject}|bw"] = cohen_kappa_score(model_correct, (trials["choice"] == trials["truth"]).to_numpy())
    assert colour["kappas"] == pytest.approx(expected)
    assert colour["raw_center"] == pytest.approx(abs(np.mean(list(expected.values()))))
    assert colour["center"] == pytest.approx(min(max(colour["raw_center"] / colour["ceiling_center"], 0), 1))
    # Brain-Score's database reads upstream's Score as: raw, ceiled; upstream's ceiled score carries no error
    assert colour["entry"][:2] == [colour["raw_center"], colour["center"]] and colour["error"] is None
    assert colour["entry"][3] == colour["comment"] and colour["entry"][4] == 1

    # the mean: 17 rows (ceiled, raw, ceiling); score/raw/ceiling/error are the documented summary of the detail
    mean = out["Geirhos2021-error_consistency"]
    detail = np.array(mean["detail"])
    assert mean["detail_benchmarks"] == geirhos2021_identifiers() and mean["detail_quantities"] == ["ceiled", "raw",
                                                                                                     "ceiling"]
    assert detail.shape == (17, 3) and np.isfinite(detail).all()
    assert detail[0] == pytest.approx([colour["center"], colour["raw_center"], colour["ceiling_center"]])
    assert detail[:, 0] == pytest.approx(np.clip(detail[:, 1] / detail[:, 2], 0, 1))  # each upstream score
    assert mean["center"] == pytest.approx(detail[:, 0].mean())
    assert mean["raw_center"] == pytest.approx(detail[:, 1].mean())
    assert mean["ceiling_center"] == pytest.approx(detail[:, 2].mean())
    assert mean["error"] == pytest.approx(detail[:, 0].std(ddof=1) / math.sqrt(17))
    assert mean["entry"] == [mean["raw_center"], mean["center"], mean["error"], mean["comment"], 1]
    assert mean["center"] != pytest.approx(mean["raw_center"] / mean["ceiling_center"])  # documented: score ≠ raw / c


def test_same_seed_writes_the_same_data(tmp_path):
    written = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        fixture = write_geirhos2021_fixture(tmp_path / name, ["rotation"], images_per_condition=3, image_size=16,
                                            seed=seed)
        with xr.open_dataarray(fixture.path("rotation", "assembly")) as assembly, \
                zipfile.ZipFile(fixture.path("rotation", "zip")) as archive:
            written.append((assembly.load(), fixture.path("rotation", "csv").read_bytes(),
                            {n: archive.read(n) for n in archive.namelist()}))
    (first, csv_a, images_a), (second, csv_b, images_b), (other, _, images_c) = written
    assert first.identical(second) and csv_a == csv_b and images_a == images_b
    assert not np.array_equal(first.values, other.values) and images_a != images_c
