"""The objective: SPEC.md's formulas checked against independent numpy/scipy computations."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import special, stats

from realnet_plugins.training.objective import Objective, contrastive_loss, loss_parts, pearson_matrix


def _numpy_contrastive(real: np.ndarray, generated: np.ndarray) -> float:
    """SPEC.md's L_Cont, pair by pair with scipy's Pearson r."""
    n = len(real)
    r = np.array([[stats.pearsonr(real[i], generated[j])[0] for j in range(n)] for i in range(n)])
    matched = np.mean([1 - r[i, i] for i in range(n)])
    unmatched = np.mean([1 - r[i, j] for i in range(n) for j in range(n) if i != j])
    return 1 + matched - unmatched


def _numpy_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    log_p = logits - special.logsumexp(logits, axis=1, keepdims=True)
    return float(-log_p[np.arange(len(labels)), labels].mean())


@pytest.fixture
def batch():
    rng = np.random.default_rng(7)
    real = rng.normal(size=(6, 340))
    generated = 0.5 * real + rng.normal(size=(6, 340))
    logits = rng.normal(size=(6, 1000))
    labels = rng.integers(0, 1000, size=6)
    return real, generated, logits, labels


def test_pearson_matrix_matches_scipy_for_every_pair(batch):
    real, generated, _, _ = batch
    r = pearson_matrix(torch.tensor(real), torch.tensor(generated)).numpy()
    expected = np.array([[stats.pearsonr(a, b)[0] for b in generated] for a in real])
    np.testing.assert_allclose(r, expected, atol=1e-12)


def test_contrastive_loss_equals_spec_formula_computed_in_numpy(batch):
    real, generated, _, _ = batch
    value = contrastive_loss(torch.tensor(real, dtype=torch.float32), torch.tensor(generated, dtype=torch.float32))
    assert value.item() == pytest.approx(_numpy_contrastive(real, generated), abs=1e-5)


def test_contrastive_loss_is_vectorised_over_leading_model_dimension(batch):
    real, generated, _, _ = batch
    stacked_real = torch.tensor(np.stack([real, real[::-1], real * 2]))
    stacked_gen = torch.tensor(np.stack([generated, generated, -generated]))
    values = contrastive_loss(stacked_real, stacked_gen)
    assert values.shape == (3,)
    for k in range(3):
        assert values[k].item() == pytest.approx(_numpy_contrastive(stacked_real[k].numpy(), stacked_gen[k].numpy()),
                                                 abs=1e-10)


def test_contrastive_loss_carries_a_correct_gradient():
    rng = np.random.default_rng(1)
    real = torch.tensor(rng.normal(size=(4, 12)))
    generated = torch.tensor(rng.normal(size=(4, 12)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda g: contrastive_loss(real, g), (generated,))
    contrastive_loss(real, generated).backward()
    assert generated.grad is not None and generated.grad.abs().sum() > 0


def test_contrastive_loss_is_lowest_for_matched_patterns():
    rng = np.random.default_rng(2)
    real = torch.tensor(rng.normal(size=(8, 340)))
    assert contrastive_loss(real, real).item() < contrastive_loss(real, real[torch.randperm(8)]).item()


def test_batch_of_one_skips_contrastive_term_but_keeps_mse_and_classification(batch):
    real, generated, logits, labels = batch
    gen = torch.tensor(generated[:1], requires_grad=True)
    parts = loss_parts(torch.tensor(logits[:1]), torch.tensor(labels[:1]), gen, torch.tensor(real[:1]), beta=100.0)
    assert parts.contrastive.item() == 0.0 and not parts.contrastive.requires_grad
    expected = _numpy_cross_entropy(logits[:1], labels[:1]) + 100 * np.mean((generated[:1] - real[:1]) ** 2)
    assert parts.total.item() == pytest.approx(expected, rel=1e-10)
    parts.total.backward()
    assert gen.grad.abs().sum() > 0


@pytest.mark.parametrize("variant, mse_on, cont_on", [("realnet", 1, 1), ("no_contrastive", 1, 0), ("no_mse", 0, 1),
                                                      ("scrambled", 1, 1), ("unpaired", 1, 1)])
def test_total_loss_is_ce_plus_beta_times_the_variants_generation_terms(batch, variant, mse_on, cont_on):
    real, generated, logits, labels = batch
    objective = Objective.for_variant(variant, 10.0)
    parts = objective(torch.tensor(logits), torch.tensor(labels), torch.tensor(generated), torch.tensor(real))
    ce = _numpy_cross_entropy(logits, labels)
    mse = float(np.mean((generated - real) ** 2))
    cont = _numpy_contrastive(real, generated)
    assert parts.classification.item() == pytest.approx(ce, rel=1e-10)
    assert parts.mse.item() == pytest.approx(mse, rel=1e-10)
    assert parts.contrastive.item() == pytest.approx(cont, rel=1e-10)
    assert parts.total.item() == pytest.approx(ce + 10.0 * (mse_on * mse + cont_on * cont), rel=1e-10)


def test_beta0_has_no_eeg_head_and_trains_on_pseudo_labels_only(batch):
    _, _, logits, labels = batch
    objective = Objective.for_variant("beta0", 100.0)
    assert not objective.has_eeg_head and objective.beta == 0.0
    parts = objective(torch.tensor(logits), torch.tensor(labels), None, None)
    assert parts.mse is None and parts.contrastive is None
    assert parts.total.item() == pytest.approx(_numpy_cross_entropy(logits, labels), rel=1e-10)


def test_legacy_detached_contrastive_adds_the_value_but_no_gradient(batch):
    real, generated, logits, labels = batch
    grads, totals = {}, {}
    for legacy in (False, True):
        gen = torch.tensor(generated, requires_grad=True)
        objective = Objective.for_variant("realnet", 100.0, legacy_detached_contrastive=legacy)
        parts = objective(torch.tensor(logits), torch.tensor(labels), gen, torch.tensor(real))
        parts.total.backward()
        grads[legacy], totals[legacy] = gen.grad.clone(), parts.total.item()
    gen = torch.tensor(generated, requires_grad=True)
    (100.0 * (gen - torch.tensor(real)).square().mean()).backward()
    assert totals[True] == pytest.approx(totals[False], rel=1e-12)
    torch.testing.assert_close(grads[True], gen.grad)
    assert not torch.allclose(grads[False], gen.grad)


def test_stacked_weights_give_each_model_its_own_objective(batch):
    real, generated, logits, labels = batch
    objectives = [Objective.for_variant("realnet", 100.0), Objective.for_variant("no_mse", 1.0),
                  Objective.for_variant("no_contrastive", 10.0, legacy_detached_contrastive=True)]
    k = len(objectives)
    rng = np.random.default_rng(3)
    gen = torch.tensor(np.stack([generated + rng.normal(size=generated.shape) for _ in range(k)]))
    tensors = (torch.tensor(np.stack([logits] * k)), torch.tensor(np.stack([labels] * k)), gen,
               torch.tensor(np.stack([real] * k)))
    stacked = loss_parts(*tensors, **Objective.stacked(objectives, "cpu"))
    for i, objective in enumerate(objectives):
        alone = objective(tensors[0][i], tensors[1][i], tensors[2][i], tensors[3][i])
        for got, want in zip(stacked, alone):
            assert got[i].item() == pytest.approx(want.item(), rel=1e-6)


def test_mixing_models_with_and_without_head_is_refused():
    with pytest.raises(ValueError, match="EEG head"):
        Objective.stacked([Objective.for_variant("realnet", 100.0), Objective.for_variant("beta0", 0.0)], "cpu")
