"""The command line's contract (issue 14): every user mistake, on every verb, is ONE line on stderr and exit 2.

The verbs come from :data:`realnet_plugins.cli.VERBS`, so verbs added later get the generic cases (an
unknown option, a missing required argument, an invalid value for every typed or constrained option)
without editing this file. Verb-specific cases add nonexistent inputs, typo'd identifiers, files that are
not checkpoints and output suffixes the verb cannot write. Most cases run in-process through ``main``; a
few run the installed ``realnet`` executable in a fresh process, and ``--help`` is checked to import no
heavy module there.
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from realnet_plugins.cli import VERBS, build_parser, main, one_line

#: An invalid value for an option, tried in this order until the option's type or choices refuse one.
BAD_VALUES = ("not-a-valid-value", "0", "-1")


def run_cli(argv: list, capsys) -> tuple[int, str, str]:
    """``main(argv)`` in-process: (exit status, stdout, stderr). argparse's errors exit through SystemExit."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(verb: str, code: int, err: str, *expected: str) -> str:
    """Exit status 2 and exactly one stderr line ``realnet VERB: error: ...`` holding ``expected``; no traceback."""
    lines = err.splitlines()
    assert code == 2, f"exit status {code}, stderr: {err}"
    assert len(lines) == 1, f"expected one stderr line, found {len(lines)}:\n{err}"
    assert "Traceback" not in err and "weights_only" not in err
    # a subcommand's errors name it too: "realnet package things-eeg2: error: ..."
    assert re.match(rf"realnet {re.escape(verb)}( [\w-]+)?: error: ", lines[0]) if verb else \
        lines[0].startswith("realnet: error: ")
    for text in expected:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    return lines[0]


def _verb_parser(verb: str) -> argparse.ArgumentParser:
    return build_parser([verb]).verb_parsers[verb]


def _user_actions(verb: str) -> list[argparse.Action]:
    return [a for a in _verb_parser(verb)._actions if not isinstance(a, argparse._HelpAction)]


def _bad_value(action: argparse.Action) -> str | None:
    """A value the option refuses (by its type or choices), or None when it accepts every candidate."""
    for value in BAD_VALUES:
        if action.choices is not None and value not in action.choices:
            return value
        if action.type is not None:
            try:
                action.type(value)
            except (argparse.ArgumentTypeError, ValueError, TypeError):
                return value
    return None


def _parsers(verb: str) -> list[tuple[list[str], argparse.ArgumentParser]]:
    """The verb's parser and its subcommands' parsers (``realnet package things-eeg2``), with their argv prefix."""
    found = [([verb], _verb_parser(verb))]
    for action in _verb_parser(verb)._actions:
        if isinstance(action, argparse._SubParsersAction):
            found += [([verb, name], child) for name, child in action.choices.items()]
    return found


def _invalid_value_cases() -> list[tuple[str, list[str], str]]:
    """(verb, argv, option name) for every option of every verb (and subcommand) with a refusable value;
    positionals: the first."""
    cases = []
    for verb in VERBS:
        if verb not in build_parser([verb]).verb_parsers:
            continue  # not part of this installation
        for prefix, parser in _parsers(verb):
            first_positional = True
            for action in parser._actions:
                if isinstance(action, argparse._HelpAction):
                    continue
                if not action.option_strings and not first_positional:
                    continue
                value = _bad_value(action) if action.nargs != 0 else None
                if not action.option_strings:
                    first_positional = False
                if value is None:
                    continue
                argv = prefix + ([action.option_strings[-1], value] if action.option_strings else [value])
                name = action.option_strings[-1] if action.option_strings else (action.metavar or action.dest)
                cases.append((verb, argv, name))
    return cases


#: Verbs that answer a missing argument with their own message instead of argparse's.
OWN_MISSING_ARGUMENT_MESSAGES = {"fetch": "name what to fetch: one or more of"}


def _verbs_with_required_arguments() -> list[str]:
    return [verb for verb in VERBS if verb in build_parser([verb]).verb_parsers
            and any(a.required for a in _user_actions(verb))]


# ---------------------------------------------------------------- generic cases, every verb


@pytest.mark.parametrize("verb", list(VERBS))
def test_an_unknown_option_is_one_line_and_exit_2(verb, capsys):
    code, out, err = run_cli([verb, "--no-such-option"], capsys)
    line = assert_user_error(verb, code, err)
    assert line.endswith(f"; see realnet {verb} --help") and out == ""
    assert "--no-such-option" in line or "required" in line  # argparse names missing requirements first


@pytest.mark.parametrize("verb", _verbs_with_required_arguments())
def test_a_missing_required_argument_is_one_line_and_exit_2(verb, capsys):
    code, _, err = run_cli([verb], capsys)
    # a verb may check its own arguments first and say more than argparse would
    assert_user_error(verb, code, err, OWN_MISSING_ARGUMENT_MESSAGES.get(verb, "the following arguments are required"))


@pytest.mark.parametrize("verb, argv, option", _invalid_value_cases(), ids=lambda x: x if isinstance(x, str) else "")
def test_an_invalid_option_value_is_one_line_and_exit_2(verb, argv, option, capsys):
    code, out, err = run_cli(argv, capsys)
    assert_user_error(verb, code, err, f"argument {option}")
    assert out == ""


def test_the_generic_cases_reach_the_typed_options():
    """Each verb's typed or constrained options get a refused value, found from the parsers themselves."""
    covered = {(verb, option) for verb, _, option in _invalid_value_cases()}
    assert {("extract", "--out"), ("extract", "--images"), ("extract", "--batch-size"), ("import-weights", "file"),
            ("train", "--release"), ("train", "--epochs"), ("train", "--variant"), ("sweep", "--compile"),
            ("package", "DATASET"), ("package", "--backend"), ("score", "--csv"), ("report", "--permutations"),
            ("verify-paper", "--imagenet-val")} <= covered


def test_an_unknown_verb_names_the_closest_one(capsys):
    code, _, err = run_cli(["lst", "--present"], capsys)
    assert_user_error("", code, err, "unknown verb 'lst'", "did you mean list", "see realnet --help")
    code, _, err = run_cli(["-v"], capsys)
    assert_user_error("", code, err, "expected a verb")


# ---------------------------------------------------------------- verb-specific mistakes


@pytest.fixture
def not_checkpoints(tmp_path) -> dict[str, Path]:
    """Files users give by mistake where a torch checkpoint belongs."""
    import torch

    files = {"text": tmp_path / "notes.txt", "empty": tmp_path / "empty.pt", "truncated": tmp_path / "cut.pt",
             "zip": tmp_path / "other.zip", "pickle": tmp_path / "plain.pkl", "html": tmp_path / "download.pth"}
    files["text"].write_text("my notes\nabout the run\n")
    files["empty"].write_bytes(b"")
    torch.save({"w": torch.zeros(64)}, files["truncated"])
    files["truncated"].write_bytes(files["truncated"].read_bytes()[:200])
    with zipfile.ZipFile(files["zip"], "w") as archive:
        archive.writestr("readme.txt", "not a checkpoint")
    files["pickle"].write_bytes(pickle.dumps({"w": [0.0] * 4}))
    files["html"].write_text("<!DOCTYPE html><html><body>Rate limit exceeded</body></html>")
    return files


NOT_CHECKPOINT_FOUND = {"text": "found a text file", "empty": "found an empty file", "truncated":
                        "truncated or corrupt zip archive", "zip": "zip archive without a torch checkpoint inside",
                        "pickle": "Python pickle", "html": "found an HTML page"}


@pytest.mark.parametrize("kind", list(NOT_CHECKPOINT_FOUND))
def test_a_file_that_is_no_checkpoint_says_what_it_is(kind, not_checkpoints, capsys):
    from realnet_plugins.checkpoints import load_checkpoint
    from realnet_plugins.errors import CheckpointError
    from realnet_plugins.importers import read_foreign_weights

    path = not_checkpoints[kind]
    code, _, err = run_cli(["info", path], capsys)
    assert_user_error("info", code, err, "expected a torch checkpoint", NOT_CHECKPOINT_FOUND[kind])
    code, _, err = run_cli(["import-weights", path, "--as", "realnet_s01"], capsys)
    assert_user_error("import-weights", code, err, "expected a torch checkpoint", NOT_CHECKPOINT_FOUND[kind])
    for load in (load_checkpoint, read_foreign_weights):  # the library says the same (train --init-weights, ...)
        with pytest.raises(CheckpointError, match=NOT_CHECKPOINT_FOUND[kind]) as refused:
            load(path)
        assert "weights_only" not in str(refused.value)


def test_a_torch_file_with_disallowed_objects_names_them_without_torchs_unsafe_advice(tmp_path):
    import numpy as np
    import torch

    from realnet_plugins.checkpoints import safe_torch_load
    from realnet_plugins.errors import CheckpointError

    path = tmp_path / "arrays.pt"
    torch.save({"w": np.zeros(3)}, path)
    with pytest.raises(CheckpointError, match=r"nothing in it was run") as refused:
        safe_torch_load(path)
    assert "numpy" in str(refused.value) and "weights_only" not in str(refused.value)
    legacy = tmp_path / "legacy.pt"  # before PyTorch 1.6 (the CORnet-S ImageNet release): still read
    torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    assert torch.equal(safe_torch_load(legacy)["w"], torch.ones(2))


def test_typo_in_an_identifier_suggests_the_closest(tmp_path, capsys):
    (tmp_path / "images").mkdir()
    for argv in (["info", "relanet_s01"], ["import-weights", __file__, "--as", "relanet_s01"],
                 ["extract", "--model", "relanet_s01", "--images", tmp_path / "images", "--out", tmp_path / "f.nc"]):
        code, _, err = run_cli(argv, capsys)
        assert_user_error(argv[0], code, err, "unknown ReAlnet identifier 'relanet_s01'", "did you mean realnet_s01")


def test_typo_in_a_brainscore_model_is_refused_before_any_work(tmp_path, capsys):
    out = tmp_path / "report"
    for argv in (["score", "--models", "relanet_s01"], ["report", "--models", "relanet_s01", "--out", out],
                 ["verify-paper", "--models", "relanet_s01"]):
        code, _, err = run_cli(argv, capsys)
        assert_user_error(argv[0], code, err, "'relanet_s01' is not a Brain-Score model identifier",
                          "did you mean realnet_s01")
    assert not out.exists()


def test_a_missing_checkpoint_is_one_line_with_what_to_do(capsys):
    code, _, err = run_cli(["info", "realnet_s05"], capsys)
    assert_user_error("info", code, err, "no checkpoint for 'realnet_s05'", "realnet import-weights")


def test_output_suffixes_are_honoured_or_refused(tmp_path, capsys):
    images, a_file = tmp_path / "images", tmp_path / "a_file.txt"
    images.mkdir()
    a_file.write_text("x")
    cases = [
        (["extract", "--model", "realnet_s01", "--images", images, "--out", tmp_path / "f.csv"], ".nc or .npz"),
        (["import-weights", __file__, "--as", "realnet_s01", "--out", tmp_path / "x.csv"], ".pt or .pth"),
        (["train", "--release", tmp_path, "--out", tmp_path / "x.ckpt"], ".pt or .pth"),
        (["score", "--models", "realnet_s01", "--csv", tmp_path / "s.txt"], "ending in .csv"),
        (["verify-paper", "--csv", tmp_path / "v.tsv"], "ending in .csv"),
        (["report", "--models", "realnet_s*", "--out", tmp_path / "report.html"], "give a folder"),
        (["report", "--models", "realnet_s*", "--out", a_file], "found a file"),
        (["demo", "--out", a_file], "found a file"),
        (["extract", "--model", "realnet_s01", "--images", images, "--out", a_file / "f.nc"], "found a file there"),
    ]
    for argv, expected in cases:
        code, out, err = run_cli(argv, capsys)
        assert_user_error(argv[0], code, err, expected)
        assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file.txt", "images"]  # nothing written


def test_nonexistent_inputs_are_refused(tmp_path, capsys):
    missing = tmp_path / "missing"
    cases = [
        (["import-weights", missing / "w.pth", "--as", "realnet_s01"], "argument file: expected a weight file"),
        (["extract", "--model", "realnet_s01", "--images", missing, "--out", tmp_path / "f.nc"], "argument --images"),
        (["info", missing / "m.pt"], "checkpoint file not found"),
        (["train", "--release", missing, "--subject", "1"], "argument --release"),
        (["sweep", "--release", missing], "argument --release"),
        (["package", "things-eeg2", "--source", missing], "is not a folder"),
        (["package", "shen2019", "--source", tmp_path], "incomplete"),
        (["report", "--models", "realnet_s*", "--out", tmp_path / "r", "--spose", missing], "argument --spose"),
        (["verify-paper", "--imagenet-val", missing], "argument --imagenet-val"),
    ]
    for argv, expected in cases:
        code, _, err = run_cli(argv, capsys)
        assert_user_error(argv[0], code, err, expected)


def test_an_unknown_device_is_refused(tmp_path, capsys):
    (tmp_path / "images").mkdir()
    for argv in (["extract", "--model", "realnet_s01", "--images", tmp_path / "images", "--out", tmp_path / "f.nc",
                  "--device", "gpu"], ["train", "--release", tmp_path, "--subject", "1", "--device", "gpu"]):
        code, _, err = run_cli(argv, capsys)
        assert_user_error(argv[0], code, err, "expected a torch device", "'gpu'")


def test_a_repeated_import_keeps_the_checkpoint_and_names_overwrite(tmp_path, capsys):
    from realnet_plugins.fixtures.weights import random_realnet, write_torchvision_resnet18_file

    # a random ResNet18 under a name that claims no release (a release name would be checked against its hash)
    weights = write_torchvision_resnet18_file(tmp_path / "resnet18_random.pth", random_realnet("resnet18"))
    argv = ["import-weights", weights, "--as", "realnet_base_resnet18"]
    assert run_cli(argv, capsys)[0] == 0
    from realnet_plugins.checkpoints import checkpoint_path

    target = checkpoint_path("realnet_base_resnet18")
    before = (target.read_bytes(), target.stat().st_mtime_ns)
    code, _, err = run_cli(argv, capsys)
    assert_user_error("import-weights", code, err, "a checkpoint exists already", "--overwrite")
    assert (target.read_bytes(), target.stat().st_mtime_ns) == before
    assert run_cli([*argv, "--overwrite"], capsys)[0] == 0


def test_the_library_raises_the_packages_own_errors(tmp_path):
    """The exceptions behind the lines above are RealnetErrors that still derive from the built-ins."""
    from realnet_plugins.checkpoints import CheckpointMeta, save_checkpoint
    from realnet_plugins.errors import OutputExistsError, UsageError
    from realnet_plugins.fixtures.weights import random_realnet
    from realnet_plugins.identifiers import parse_identifier

    with pytest.raises(UsageError, match="did you mean realnet_r_s03") as typo:
        parse_identifier("realnet_rs03")
    assert isinstance(typo.value, ValueError)
    existing = tmp_path / "m.pt"
    existing.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError, match="overwrite") as exists:
        save_checkpoint(random_realnet("resnet18"), CheckpointMeta(backbone="resnet18", variant="base"), existing)
    assert isinstance(exists.value, FileExistsError) and existing.read_bytes() == b"keep me"


# ---------------------------------------------------------------- bugs and interrupts


def _failing_list(error: BaseException):
    def fail(args):
        raise error
    return fail


def test_a_bug_keeps_its_traceback_and_asks_for_a_report(monkeypatch, capsys):
    from realnet_plugins.commands import models

    monkeypatch.setattr(models, "_list", _failing_list(ZeroDivisionError("division by zero")))
    code, _, err = run_cli(["list"], capsys)
    assert code == 1
    assert "Traceback" in err and "ZeroDivisionError: division by zero" in err
    assert err.splitlines()[-1].startswith("realnet list: internal error") and "please report it" in err


def test_an_unwritable_place_is_one_line_and_an_interrupt_exits_130(monkeypatch, capsys):
    from realnet_plugins.commands import models

    monkeypatch.setattr(models, "_list", _failing_list(PermissionError(errno.EACCES, "Permission denied", "/x.nc")))
    code, _, err = run_cli(["list"], capsys)
    assert_user_error("list", code, err, "cannot use /x.nc: Permission denied")
    monkeypatch.setattr(models, "_list", _failing_list(KeyboardInterrupt()))
    code, _, err = run_cli(["list"], capsys)
    assert code == 130 and len(err.splitlines()) == 1 and "interrupted" in err


def test_one_line_joins_the_lines_of_a_message():
    message = "no checkpoint.\nMake it with: x\n  3 missing: a\n\n"
    assert one_line(message) == "no checkpoint. Make it with: x; 3 missing: a"


# ---------------------------------------------------------------- fresh processes, the installed executable


def _run_installed(args: list, cwd: Path) -> subprocess.CompletedProcess:
    realnet = Path(sys.executable).with_name("realnet")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"REALNET_HOME": str(cwd / "home"), "BS_INSTALL_DEPENDENCIES": "no", "OMP_NUM_THREADS": "2"})
    return subprocess.run([str(realnet), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


def test_the_installed_command_answers_mistakes_with_one_line(tmp_path):
    """The issue's reports, through the installed ``realnet`` in a fresh process (warnings would show here)."""
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "images").mkdir()
    cases = [(["info", "relanet_s01"], "did you mean realnet_s01"),
             (["import-weights", "notes.txt", "--as", "realnet_s01"], "found a text file"),
             (["extract", "--model", "realnet_s01", "--images", "images", "--out", "f.csv"], ".nc or .npz"),
             (["lst"], "did you mean list")]
    for argv, expected in cases:
        res = _run_installed(argv, tmp_path)
        assert res.returncode == 2 and res.stdout == "", (argv, res.returncode, res.stderr)
        assert len(res.stderr.splitlines()) == 1 and expected in res.stderr, (argv, res.stderr)
    assert not (tmp_path / "f.csv").exists()


#: Modules ``--help`` must not import (each costs from a tenth of a second to seconds).
HEAVY = ("torch", "torchvision", "xarray", "pandas", "scipy", "sklearn", "matplotlib", "brainscore_vision",
         "brainscore_core")


def test_help_imports_no_heavy_module():
    """``realnet --help`` imports no verb module at all; ``realnet VERB --help`` nothing heavy (speed, pinned)."""
    code = textwrap.dedent(f"""
        import json, sys
        from realnet_plugins.cli import VERBS, main

        def heavy():
            return sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))

        found = {{}}
        for verb in [None, *VERBS]:
            try:
                main([verb, '--help'] if verb else ['--help'])
            except SystemExit as e:
                assert e.code == 0, (verb, e.code)
            if verb is None:
                found['verb modules'] = sorted(m for m in sys.modules if m.startswith(('realnet_plugins.commands.',
                                                                                       'realnet_plugins.training.')))
                found['numpy'] = 'numpy' in sys.modules
            found[verb or 'realnet'] = heavy()
        print(json.dumps(found))
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    found = json.loads(res.stdout.strip().splitlines()[-1])
    assert found.pop("verb modules") == [] and found.pop("numpy") is False
    assert found == {verb: [] for verb in ["realnet", *VERBS]}


def test_the_light_option_values_equal_their_owners():
    """``realnet VERB --help`` shows choices and defaults restated in commands/options.py; they must not drift."""
    import dataclasses

    from realnet_plugins.commands import options
    from realnet_plugins.datasets.things_eeg2.reader import NORMALISATION_MODES
    from realnet_plugins.report.scores import PAPER_NEURAL_BENCHMARKS
    from realnet_plugins.rsa.decoding import BACKENDS
    from realnet_plugins.training.loop import SELECTIONS, TrainConfig
    from realnet_plugins.training.step import COMPILE_MODES

    assert options.NORMALISATION_MODES == NORMALISATION_MODES
    assert options.SELECTIONS == SELECTIONS
    assert options.COMPILE_MODES == COMPILE_MODES
    assert options.DECODING_BACKENDS == BACKENDS
    from realnet_plugins.datasets.things_eeg2.packaging import PRESETS

    assert options.DECODING_PRESETS == PRESETS
    from realnet_plugins.rsa.kinds import EEG_RDM_KINDS

    assert options.CROSSNOBIS_NOISE == tuple(EEG_RDM_KINDS["crossnobis"].presets)
    assert options.PAPER_NEURAL_BENCHMARKS == PAPER_NEURAL_BENCHMARKS
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    assert options.TRAIN_DEFAULTS == {name: defaults[name] for name in options.TRAIN_DEFAULTS}
