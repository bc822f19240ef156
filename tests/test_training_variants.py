"""Training variants: each control changes exactly what SPEC.md says, and only the training EEG; the registry."""
from __future__ import annotations

import argparse
import itertools

import numpy as np
import pytest

from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.reader import EEGNormalisation, ThingsEEG2Release
from realnet_plugins.identifiers import all_identifiers, parse_identifier
from realnet_plugins.training.cli import configure, parse_sweep_variants
from realnet_plugins.training.data import load_alignment_data, run_subjects, validation_concepts
from realnet_plugins.training.objective import Objective
from realnet_plugins.variants import (
    VARIANTS,
    TrainingVariant,
    derangement,
    manipulate_training_eeg,
    resolve_beta,
    scramble_times,
    unpair,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = write_things_eeg2_release(tmp_path_factory.mktemp("release"), n_subjects=3, n_train_concepts=6,
                                     images_per_concept=3, n_test_images=5, image_size=24)
    return ThingsEEG2Release(root)


def _eeg(n: int = 30, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 17, 20)).astype(np.float32)


def test_derangement_is_a_permutation_without_fixed_points_and_seeded():
    for n in (2, 3, 10, 500):
        perm = derangement(n, np.random.default_rng(n))
        assert sorted(perm.tolist()) == list(range(n))
        assert not np.any(perm == np.arange(n))
    np.testing.assert_array_equal(derangement(50, np.random.default_rng(1)), derangement(50, np.random.default_rng(1)))
    assert not np.array_equal(derangement(50, np.random.default_rng(1)), derangement(50, np.random.default_rng(2)))
    with pytest.raises(ValueError, match="at least 2"):
        derangement(1, np.random.default_rng(0))


def test_derangement_is_uniform_over_all_derangements():
    all_derangements = [p for p in itertools.permutations(range(4)) if all(p[i] != i for i in range(4))]
    rng = np.random.default_rng(0)
    counts = {p: 0 for p in all_derangements}
    draws = 2700
    for _ in range(draws):
        counts[tuple(derangement(4, rng).tolist())] += 1
    expected = draws / len(all_derangements)  # 9 derangements of 4 items
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert min(counts.values()) > 0 and chi2 < 26.1  # chi-square 8 dof, p = 0.001


def test_unpaired_moves_each_whole_matrix_to_another_image():
    eeg = _eeg()
    out, perm = unpair(eeg, np.random.default_rng(5))
    for i in range(len(eeg)):
        assert perm[i] != i
        np.testing.assert_array_equal(out[i], eeg[perm[i]])
        assert not np.array_equal(out[i], eeg[i])


def test_scrambled_keeps_each_channels_values_per_image_and_permutes_time_independently():
    eeg = _eeg()
    out = scramble_times(eeg, np.random.default_rng(3))
    np.testing.assert_array_equal(np.sort(out, axis=-1), np.sort(eeg, axis=-1))
    orders = set()
    for i in range(len(eeg)):
        for c in range(17):
            order = np.argsort(eeg[i, c])[np.argsort(np.argsort(out[i, c]))]  # out[i, c] = eeg[i, c, order]
            np.testing.assert_array_equal(out[i, c], eeg[i, c, order])
            orders.add(tuple(order.tolist()))
    assert len(orders) > 0.95 * len(eeg) * 17  # (nearly) every image and channel has its own permutation
    assert np.mean(out == eeg) < 0.2
    np.testing.assert_array_equal(out, scramble_times(eeg, np.random.default_rng(3)))


def test_manipulations_are_drawn_once_from_seed_variant_and_subject():
    eeg = _eeg()
    a = manipulate_training_eeg(eeg, "scrambled", seed=2023, subject=1)
    np.testing.assert_array_equal(a, manipulate_training_eeg(eeg, "scrambled", seed=2023, subject=1))
    assert not np.array_equal(a, manipulate_training_eeg(eeg, "scrambled", seed=2023, subject=2))
    for variant in ("realnet", "no_contrastive", "no_mse", "beta0", "across_subject"):
        assert manipulate_training_eeg(eeg, variant, seed=1, subject=1) is eeg


def test_beta_rules_and_unknown_variants_give_clear_errors():
    assert resolve_beta("realnet", None) == 100.0
    assert resolve_beta("realnet", 10) == 10.0
    assert resolve_beta("beta0", None) == 0.0
    with pytest.raises(ValueError, match="beta0.*do not also give"):
        resolve_beta("beta0", 100.0)
    with pytest.raises(ValueError, match="use variant 'beta0'"):
        resolve_beta("realnet", 0.0)
    with pytest.raises(ValueError, match="valid variants are realnet, no_contrastive"):
        resolve_beta("shuffled", None)


def test_subject_rules_name_the_release_subjects(release):
    assert run_subjects(release, "across_subject", None) == [1, 2, 3]
    with pytest.raises(ValueError, match=r"do not give a subject"):
        run_subjects(release, "across_subject", 1)
    with pytest.raises(ValueError, match=r"subject 7 is not in the release.*\[1, 2, 3\]"):
        run_subjects(release, "realnet", 7)
    with pytest.raises(ValueError, match="give a subject"):
        run_subjects(release, "unpaired", None)


def _load(release, variant, subject=1, **kw):
    return load_alignment_data(release, subject, variant, image_size=16, seed=11, **kw)


def test_controls_alter_only_training_eeg(release):
    base = _load(release, "realnet", validation_fraction=0.34)
    assert base.validation is not None
    for variant in ("unpaired", "scrambled"):
        control = _load(release, variant, validation_fraction=0.34)
        np.testing.assert_array_equal(control.pair_image, base.pair_image)
        assert not np.array_equal(control.pair_eeg, base.pair_eeg)
        np.testing.assert_array_equal(control.test.eeg[1], base.test.eeg[1])
        np.testing.assert_array_equal(control.validation.eeg[1], base.validation.eeg[1])
        assert control.normalisation == base.normalisation
        assert control.fingerprint != base.fingerprint


def test_training_pairs_are_the_subjects_normalised_averaged_eeg(release):
    data = _load(release, "realnet")
    raw = release.alignment_eeg(1)
    norm = EEGNormalisation.fit(raw)
    assert data.normalisation[1] == norm
    np.testing.assert_allclose(data.pair_eeg, norm.apply(raw).reshape(len(raw), 340), rtol=1e-6)
    np.testing.assert_array_equal(data.pair_image, np.arange(len(raw)))
    np.testing.assert_allclose(data.test.eeg[1], norm.apply(release.alignment_eeg(1, "test")).reshape(-1, 340),
                               rtol=1e-6)


def test_unpaired_pairs_are_a_derangement_of_the_subjects_eeg_rows(release):
    base, control = _load(release, "realnet"), _load(release, "unpaired")
    matches = [[j for j in range(base.n_pairs) if np.array_equal(control.pair_eeg[i], base.pair_eeg[j])]
               for i in range(base.n_pairs)]
    assert all(len(m) == 1 for m in matches)
    perm = np.array([m[0] for m in matches])
    assert sorted(perm.tolist()) == list(range(base.n_pairs)) and not np.any(perm == np.arange(base.n_pairs))


def test_across_subject_pools_every_subject_with_its_own_statistics(release):
    data = _load(release, "across_subject", subject=None)
    n = release.n_images("training")
    assert data.subjects == [1, 2, 3] and data.n_pairs == 3 * n
    np.testing.assert_array_equal(data.pair_image, np.tile(np.arange(n), 3))
    for k, s in enumerate((1, 2, 3)):
        raw = release.alignment_eeg(s)
        norm = EEGNormalisation.fit(raw)
        assert data.normalisation[s] == norm
        np.testing.assert_allclose(data.pair_eeg[k * n:(k + 1) * n], norm.apply(raw).reshape(n, 340), rtol=1e-6)
    record = data.normalisation_record()
    assert set(record["per_subject"]) == {"1", "2", "3"}


def test_validation_split_holds_out_whole_training_concepts(release):
    concepts = release.image_metadata()["train_img_concepts"]
    held = validation_concepts(concepts, 0.34, seed=11)
    assert len(held) == 2 and held == validation_concepts(concepts, 0.34, seed=11)
    data = _load(release, "realnet", validation_fraction=0.34)
    train_concepts = {concepts[i] for i in data.pair_image}
    assert not train_concepts & set(held)
    assert len(data.validation.images) == sum(c in held for c in concepts)
    assert validation_concepts(concepts, 0.0, seed=1) == []
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        validation_concepts(concepts, 1.0, seed=1)


# The identifiers of DESIGN.md's table, in the order all_identifiers() gave before the registries:
# stem → (backbone, variant, β); then the single identifiers.
PAPER_FAMILIES = {
    "realnet": ("cornet_s", "realnet", 100.0), "realnet_r": ("resnet18", "realnet", 100.0),
    "realnet_nocont": ("cornet_s", "no_contrastive", 100.0), "realnet_nomse": ("cornet_s", "no_mse", 100.0),
    "realnet_unpaired": ("cornet_s", "unpaired", 100.0), "realnet_scrambled": ("cornet_s", "scrambled", 100.0),
    "realnet_beta0": ("cornet_s", "beta0", 0.0), "realnet_beta1": ("cornet_s", "realnet", 1.0),
    "realnet_beta10": ("cornet_s", "realnet", 10.0), "realnet_beta1000": ("cornet_s", "realnet", 1000.0),
}
PAPER_SINGLES = {"realnet_acrosssub": ("cornet_s", "across_subject", 100.0),
                 "realnet_base_cornet_s": ("cornet_s", "base", 0.0), "realnet_base_resnet18": ("resnet18", "base", 0.0)}


def test_identifiers_from_the_registries_are_the_papers_in_the_same_order():
    expected = [f"{stem}_s{s:02d}" for stem in PAPER_FAMILIES for s in range(1, 11)] + list(PAPER_SINGLES)
    assert all_identifiers() == expected
    for ident in expected:
        spec = parse_identifier(ident)
        stem = ident if ident in PAPER_SINGLES else ident.rsplit("_s", 1)[0]
        assert (spec.backbone, spec.variant, spec.beta) == {**PAPER_FAMILIES, **PAPER_SINGLES}[stem], ident
        assert spec.subject == (None if ident in PAPER_SINGLES else int(ident[-2:]))
        assert spec.has_eeg_head == (spec.variant not in ("base", "beta0"))
    assert parse_identifier("realnet_s07").published_file == "ReAlnet07_best_model_params.pt"
    assert parse_identifier("realnet_r_s07").published_file is None


@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_objective_and_the_data_read_what_the_variant_entry_says(name):
    spec = VARIANTS[name]
    objective = Objective.for_variant(name, resolve_beta(name, None))
    assert objective.has_eeg_head == spec.has_eeg_head
    if spec.has_eeg_head:
        assert (objective.mse_weight, objective.contrastive_weight) == (spec.mse_weight, spec.contrastive_weight)
    assert objective.beta == (spec.fixed_beta if spec.fixed_beta is not None else 100.0)
    eeg = _eeg()
    altered = manipulate_training_eeg(eeg, name, seed=3, subject=2)
    assert (altered is eeg) == (spec.manipulation is None)


def test_a_new_variant_is_one_registry_entry(monkeypatch, release):
    """Registering a variant makes the objective, the data, the sweep parser and the CLI accept it."""
    def reversed_times(eeg, rng):
        return eeg[..., ::-1].copy()

    new = TrainingVariant("reversed", "control: time reversed", manipulation=reversed_times, manipulation_stream=9,
                          mse_weight=0.0)
    monkeypatch.setitem(VARIANTS, "reversed", new)
    assert Objective.for_variant("reversed", 100.0).mse_weight == 0.0
    data = _load(release, "reversed")
    base = _load(release, "realnet")
    np.testing.assert_array_equal(data.pair_eeg.reshape(-1, 17, 20), base.pair_eeg.reshape(-1, 17, 20)[..., ::-1])
    assert parse_sweep_variants("reversed,beta10") == [("reversed", None), ("realnet", 10.0)]
    parser = argparse.ArgumentParser()
    configure(parser, "train")
    assert parser.parse_args(["--release", str(release.root), "--variant", "reversed"]).variant == "reversed"
    assert "reversed: control: time reversed" in " ".join(parser.format_help().split())
