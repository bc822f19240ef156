"""``realnet report`` end to end on a tiny fixture world, scored through ``brainscore_vision.score``.

Fixture THINGS-EEG2 and Shen 2019 (natural images only, to keep the test short) releases are
packaged; random ReAlnet-R checkpoints (ResNet18 at 32 px: small files) stand in for trained ones. Scores go
through Brain-Score's own plugin discovery in this process, so the benchmark plugins must be installed (a regular
``pip install .``).
"""
from __future__ import annotations

import pandas as pd
import pytest
from PIL import Image
from skimage import data as skimage_data

from realnet_plugins.cli import main as realnet_main
from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
from realnet_plugins.datasets.shen2019.packaging import package_shen2019
from realnet_plugins.datasets.things_eeg2.fixtures import write_spose_embedding, write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.packaging import package_things_eeg2
from realnet_plugins.fixtures.weights import write_fixture_checkpoint
from realnet_plugins.report import build_report
from realnet_plugins.report.verify_paper import verify_paper

from installed import site_plugin_dir

MODELS = ["realnet_r_s01", "realnet_r_s02", "realnet_base_resnet18"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Packages, checkpoints and the SPoSE file in one $REALNET_HOME; Brain-Score caches under it."""
    for kind, name in (("benchmarks", "realnet_things_eeg2"), ("benchmarks", "realnet_shen2019"),
                       ("models", "realnet")):
        site_plugin_dir(kind, name)
    root = tmp_path_factory.mktemp("e2e")
    home = root / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REALNET_HOME", str(home))
        patch.setenv("BS_INSTALL_DEPENDENCIES", "no")
        patch.setenv("RESULTCACHING_DISABLE", "1")
        patch.setenv("RESULTCACHING_HOME", str(root / "resultcaching"))
        patch.setenv("BRAINIO_HOME", str(root / "brainio"))
        patch.setenv("REALNET_BS_BATCH_SIZE", "12")
        eeg = write_things_eeg2_release(root / "eeg", n_subjects=2, n_train_concepts=2, images_per_concept=1,
                                        n_test_images=12, n_test_reps=10, image_size=32, seed=1)
        shen = write_shen2019_release(root / "shen", n_natural=6, n_shape=4, n_letter=3, reps=(3, 2, 2),
                                      voxels_per_roi=5, image_size=32)
        package_things_eeg2(eeg, progress=False)
        package_shen2019(shen, image_sets=("natural",), progress=False)  # shape/letter: skipped, reported
        for seed, identifier in enumerate(MODELS):
            write_fixture_checkpoint(identifier, image_size=32, seed=seed)
        spose = write_spose_embedding(root / "spose_embedding_49d_sorted.txt", seed=1)
        for index, photo in ((0, "astronaut"), (1, "chelsea"), (1, "coffee")):
            folder = root / "imagenet_val" / str(index)
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(getattr(skimage_data, photo)()).save(folder / f"{photo}.png")
        first = build_report(["realnet_r_s*"], root / "report", base="realnet_base_resnet18", spose_embedding=spose,
                             imagenet_val=root / "imagenet_val", n_permutations=100, progress=False)
        yield {"root": root, "home": home, "first": first, "spose": spose}


@pytest.fixture
def in_world(world, monkeypatch):
    """The world's $REALNET_HOME for one test (the suite gives each test a fresh one)."""
    monkeypatch.setenv("REALNET_HOME", str(world["home"]))
    return world


def test_report_scores_through_brainscore_and_writes_what_the_data_allow(world):
    result = world["first"]
    written = {f.name for f in result.figures}
    assert {"fig1b_early_late", "fig2a_layer_time_courses", "fig2b_peak_improvement", "fig2c_max_over_layers",
            "fig2d_individual_variability", "fig2efg_cross_subject", "fig3_fmri", "fig4b_things_dimensions",
            "fig5_controls", "fidelity", "imagenet"} <= written
    skipped = {s.name: s.reason for s in result.skipped}
    assert "Brain-Score's data" in skipped["fig4a_behaviour"]  # offline: Brain-Score's storage is unreachable
    assert "β values" in skipped["beta_sweep"] and "--seed-models" in skipped["seed_variability"]
    imagenet = pd.read_csv(result.out_dir / "imagenet__values.csv")
    assert list(imagenet["model"]) == MODELS and set(imagenet["n_images"]) == {3}
    assert result.scores_computed == 3 * 2 and result.rdms_computed == 3  # THINGS-EEG2 and Shen natural
    assert any("Shen2019.shape-rsa" in note and "shape" in note for note in result.notes)
    assert set(pd.read_csv(result.out_dir / "fig3_fmri__values.csv")["image_set"]) == {"natural"}
    curves = pd.read_csv(result.out_dir / "fig2a_layer_time_courses__curves.csv")
    assert set(curves["group"]) == {"ReAlnet-R", "ResNet18"} and set(curves["layer"]) == {"V1", "V2", "V4", "IT"}
    fidelity = pd.read_csv(result.out_dir / "fidelity__values.csv")
    assert set(fidelity["source"]) == {"recomputed on the packaged test set"}  # random checkpoints: no record
    assert result.html.stat().st_size > 10_000


def test_second_run_through_the_cli_recomputes_nothing(in_world, capsys):
    world = in_world
    code = realnet_main(["report", "--models", "realnet_r_s*", "--base", "realnet_base_resnet18", "--out",
                         str(world["root"] / "again"), "--spose", str(world["spose"]), "--permutations", "100",
                         "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "scores: 0 computed, 6 from the store; layer RDMs: 0 computed, 3 cached" in out
    assert "stored failure" in out  # behaviour: Brain-Score's data are still missing; not tried again
    first = pd.read_csv(world["first"].out_dir / "fig3_fmri__values.csv")
    pd.testing.assert_frame_equal(first, pd.read_csv(world["root"] / "again" / "fig3_fmri__values.csv"))


def test_verify_paper_on_fixture_data_says_the_numbers_are_not_comparable(in_world):
    world = in_world
    verification = verify_paper(models=["realnet_r_s*"], base="realnet_base_resnet18", controls=(), progress=False)
    assert "not comparable" in verification.banner and "2 subjects and 12 test images" in verification.banner
    table = verification.table.set_index("key")
    assert isinstance(table.loc["windows_V1", "ours"], str)
    assert table.loc["fidelity_spearman", "ours"] == pytest.approx(
        pd.read_csv(world["first"].out_dir / "fidelity__values.csv")["spearman"].mean())
