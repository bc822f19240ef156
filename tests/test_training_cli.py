"""``realnet train`` and ``realnet sweep`` through ``realnet_plugins.cli.main``."""
from __future__ import annotations

import pytest

from realnet_plugins.checkpoints import checkpoint_path, load_checkpoint, load_model_checkpoint
from realnet_plugins.cli import main
from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.paths import checkpoints_dir
from realnet_plugins.training.cli import parse_subjects, parse_sweep_variants

from training_setup import register_resnet18_release

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return str(write_things_eeg2_release(tmp_path_factory.mktemp("release"), n_subjects=2, n_train_concepts=4,
                                         images_per_concept=2, n_test_images=4, image_size=32))


TINY = ["--backbone", "resnet18", "--image-size", "32", "--epochs", "1", "--batch-size", "4", "--max-steps", "1",
        "--no-progress"]


@pytest.mark.parametrize("verb, option", [("train", "--legacy-detached-contrastive"), ("sweep", "--concurrent")])
def test_help_lists_the_options(verb, option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([verb, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert option in out and "--init-weights" in out and "--release" in out


def test_train_command_writes_a_checkpoint_and_refuses_to_overwrite_it(release, capsys):
    assert main(["train", "--release", release, "--subject", "2", "--variant", "no_contrastive", *TINY]) == 0
    path = checkpoints_dir() / "custom" / "resnet18_no_contrastive_beta100_s02_seed2023.pt"  # no paper identifier
    assert str(path) in capsys.readouterr().out
    meta = load_checkpoint(path).meta
    assert (meta.variant, meta.subject, meta.training["steps"]) == ("no_contrastive", 2, 1)
    assert main(["train", "--release", release, "--subject", "2", "--variant", "no_contrastive", *TINY]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["train", "--release", release, "--subject", "2", "--variant", "no_contrastive", "--overwrite",
                 *TINY]) == 0


def test_train_command_reports_invalid_requests(release, capsys):
    assert main(["train", "--release", release, "--variant", "across_subject", "--subject", "1", *TINY]) == 2
    assert "pools every subject" in capsys.readouterr().err
    assert main(["train", "--release", release, "--subject", "5", *TINY]) == 2
    assert "subject 5 is not in the release" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--release", release, "--subject", "1", "--variant", "shuffled"])
    assert "invalid choice" in capsys.readouterr().err


def test_sweep_trains_every_subject_and_variant_then_skips_finished_ones(release, capsys):
    args = ["sweep", "--release", release, "--subjects", "1-2", "--variants", "realnet,beta10", "--concurrent", "2",
            *TINY]
    assert main(args) == 0
    paths = [checkpoints_dir() / "custom" / f"resnet18_realnet_beta{b}_s0{s}_seed2023.pt" for b in (100, 10)
             for s in (1, 2)]  # tiny runs are not the paper's recipe: never realnet_r_sNN
    assert all(p.is_file() for p in paths) and not list(checkpoints_dir().glob("*.pt"))
    assert load_checkpoint(paths[0]).meta.training["trained_with"] == 2
    stamps = [p.stat().st_mtime_ns for p in paths]
    capsys.readouterr()
    assert main(args) == 0
    assert capsys.readouterr().out.count("skip (finished)") == 4
    assert [p.stat().st_mtime_ns for p in paths] == stamps


def test_sweep_lists_are_parsed_with_clear_errors():
    assert parse_subjects("1-3,5,2") == [1, 2, 3, 5]
    assert parse_sweep_variants("realnet, unpaired,beta1000") == [("realnet", None), ("unpaired", None),
                                                                  ("realnet", 1000.0)]
    with pytest.raises(ValueError, match="ranges such as 1-10"):
        parse_subjects("one")
    with pytest.raises(ValueError, match="betaX"):
        parse_sweep_variants("realnet,bogus")


@pytest.fixture
def verified_resnet18_release(tmp_path, monkeypatch):
    return register_resnet18_release(tmp_path, monkeypatch)


def test_max_steps_runs_never_take_the_paper_identifier_unless_named(release, verified_resnet18_release, capsys):
    recipe = ["train", "--release", release, "--subject", "1", "--backbone", "resnet18", "--init-weights",
              str(verified_resnet18_release), "--max-steps", "1", "--no-progress"]
    assert main(recipe) == 0
    custom = checkpoints_dir() / "custom" / "resnet18_realnet_beta100_s01_seed2023.pt"
    assert f"trained: {custom}" in capsys.readouterr().out and not checkpoint_path("realnet_r_s01").exists()
    meta = load_checkpoint(custom).meta
    assert meta.deviations == {"max_steps": [None, 1]} and meta.identifier is None
    assert meta.training["init_weights"]["verified"] and meta.image_size == 224 and meta.training["epochs"] == 30

    assert main([*recipe, "--as", "realnet_r_s01"]) == 0
    meta = load_model_checkpoint("realnet_r_s01").meta
    assert meta.deviations == {"max_steps": [None, 1]} and meta.identifier == "realnet_r_s01"
    capsys.readouterr()
    assert main(["list", "--present"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("realnet_r_s01 ")]
    assert listed and listed[0].endswith("yes, NOT the paper's recipe: max_steps 1 (paper None)")
    assert main(["info", "realnet_r_s01"]) == 0
    out = capsys.readouterr().out
    assert "paper recipe      NO: differs in max_steps" in out and "max_steps       1 (paper: None)" in out


def test_init_weights_on_the_command_line_is_a_file_or_an_identifier(release, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--release", release, "--subject", "1", "--init-weights", "no_such.pth", *TINY]) == 2
    err = capsys.readouterr().err
    assert "checkpoint file not found: no_such.pth (the --init-weights given)" in err
    assert main(["train", "--release", release, "--subject", "1", "--init-weights", "no_such_name", *TINY]) == 2
    assert "--init-weights 'no_such_name' is neither an existing file nor a model identifier" in capsys.readouterr().err
    assert main(["train", "--release", release, "--subject", "1", "--init-weights", "realnet_base_resnet18",
                 *TINY]) == 2  # an identifier, resolved as one: its checkpoint is missing
    assert "init weights: no checkpoint for 'realnet_base_resnet18'" in capsys.readouterr().err
