"""The fused Triton back end of the decoding engine: the kernel, run through Triton's CPU
interpreter, gives the numpy solver's RDMs; back-end selection and refusals."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from realnet_plugins.rsa import DecodingSettings, decoding, decoding_rdm

REPO = Path(__file__).resolve().parents[1]

# run in a fresh interpreter: TRITON_INTERPRET must be set before triton compiles the kernel
_INTERPRETED = textwrap.dedent("""
    import json, sys
    import numpy as np
    from realnet_plugins.rsa import DecodingSettings, decoding_plan, decoding_rdm
    from realnet_plugins.rsa import _triton_svm

    rng = np.random.default_rng(4)
    results = {}
    cases = {
        "paper": (DecodingSettings.paper(seed=2), (3, 20, 5, 2)),
        "neurora": (DecodingSettings.neurora_1x(seed=1), (3, 30, 4, 2)),
        "soft_three_folds": (DecodingSettings.paper(C=0.05, n_folds=3, seed=5), (3, 12, 6, 1)),
    }
    for name, (settings, shape) in cases.items():
        signal = rng.standard_normal(shape[:1] + (1,) + shape[2:]) * np.array([0.0, 0.5, 1.0])[:, None, None, None]
        trials = signal + rng.standard_normal(shape)
        triton_rdm = decoding_rdm(trials, settings=settings, backend="triton", device="cpu", progress=False)
        numpy_rdm = decoding_rdm(trials, settings=settings, backend="numpy", progress=False)
        results[name] = {"triton": triton_rdm.tolist(), "numpy": numpy_rdm.tolist()}
    # iteration counts of one chunk against the numba kernel's on the same problems
    try:
        import torch
        from realnet_plugins.rsa import _numba_svm
    except ImportError:
        _numba_svm = None
    if _numba_svm is not None:
        settings = DecodingSettings.paper(seed=2)
        trials = rng.standard_normal((3, 20, 5, 2)) + rng.standard_normal((3, 1, 5, 1))
        plan = decoding_plan(3, 20, 2, settings)
        _, numba_iterations = _numba_svm.pair_fold_accuracies(
            np.ascontiguousarray(trials.transpose(0, 3, 1, 2)), plan.pair_images,
            np.ascontiguousarray(plan.pseudo_trials[0]), np.ascontiguousarray(plan.test_fold[0]), 5, 1.0,
            False)  # the plain interior-point method (no warm start, no crossover), like the kernel
        samples = trials[plan.pair_images].transpose(0, 4, 1, 2, 3).reshape(3, 2, 40, 5)
        folds = plan.test_fold[0].transpose(1, 0, 2, 3).reshape(3, 2, 40)
        order = np.argsort(folds, axis=-1, kind="stable").astype(np.int32)
        bounds = np.concatenate([[0], np.cumsum(np.bincount(folds[0, 0], minlength=5))])
        _, iterations = _triton_svm.pair_fold_accuracies(
            torch.from_numpy(np.ascontiguousarray(samples)), torch.from_numpy(order), bounds, 1.0)
        results["iterations"] = {"triton": iterations.numpy().reshape(-1).tolist(),
                                 "numba": numba_iterations.reshape(-1).tolist()}
    json.dump(results, sys.stdout)
""")


@pytest.fixture(scope="module")
def interpreted_results():
    pytest.importorskip("torch")
    pytest.importorskip("triton")
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", _INTERPRETED], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("case", ["paper", "neurora", "soft_three_folds"])
def test_triton_kernel_gives_the_numpy_solvers_rdms(interpreted_results, case):
    result = interpreted_results[case]
    triton_rdm, numpy_rdm = np.array(result["triton"]), np.array(result["numpy"])
    assert triton_rdm.shape == numpy_rdm.shape
    rows, cols = np.triu_indices(triton_rdm.shape[-1], 1)
    assert np.all(numpy_rdm[:, rows, cols] > 0)  # real accuracies, not an empty RDM
    np.testing.assert_allclose(triton_rdm, numpy_rdm, rtol=0, atol=1e-12)


def test_triton_kernel_takes_the_numba_kernels_iterations(interpreted_results):
    if "iterations" not in interpreted_results:
        pytest.skip("numba is not installed")
    triton_iterations = np.array(interpreted_results["iterations"]["triton"])
    numba_iterations = np.array(interpreted_results["iterations"]["numba"])
    assert triton_iterations.min() >= 3
    assert np.abs(triton_iterations - numba_iterations).max() <= 1


def test_auto_backend_picks_the_gpu_kernels_for_a_cuda_device(monkeypatch):
    has_triton = decoding._triton_kernels() is not None
    assert decoding.resolve_backend("auto", "cuda") == ("triton" if has_triton else "torch")
    assert decoding.resolve_backend("auto", "cuda:1") == ("triton" if has_triton else "torch")
    assert decoding.resolve_backend("auto", "cpu") == "torch"
    monkeypatch.setattr(decoding, "_triton_kernels", lambda: None)
    assert decoding.resolve_backend("auto", "cuda") == "torch"
    with pytest.raises(ImportError, match="triton"):
        decoding.resolve_backend("triton")


def test_triton_backend_refuses_what_it_cannot_run(monkeypatch):
    pytest.importorskip("torch")
    trials = np.random.default_rng(0).standard_normal((3, 10, 4, 2))
    if decoding._triton_kernels() is None:
        with pytest.raises(ImportError, match="triton"):
            decoding_rdm(trials, backend="triton", progress=False)
        return
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="needs a CUDA device"):
        decoding_rdm(trials, backend="triton", device="cpu", progress=False)
    custom = DecodingSettings(classifier=lambda train_x, train_y, test_x, *, C, tol: test_x[:, :, 0])
    with pytest.raises(ValueError, match="built-in SVM only"):
        decoding_rdm(trials, settings=custom, backend="triton", progress=False)
    with pytest.raises(ValueError, match="sklearn-svc"):
        decoding_rdm(trials, settings=DecodingSettings(classifier="sklearn-svc"), backend="triton",
                     progress=False)
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA GPU"):
            decoding_rdm(trials, backend="triton", progress=False)


def test_the_engine_and_packaging_use_the_gpu_only_when_there_is_one(monkeypatch):
    torch = pytest.importorskip("torch")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert decoding.choose_backend("auto")[0] in ("numba", "numpy")
    assert decoding.choose_backend("auto")[1] is None
    assert decoding.choose_backend("numba") == ("numba", None)
    assert decoding.choose_backend("torch") == ("torch", "cpu")
    assert decoding.choose_backend("numpy") == ("numpy", None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    expected = "triton" if decoding._triton_kernels() is not None else "torch"
    assert decoding.choose_backend("auto") == (expected, "cuda")
    assert decoding.choose_backend("torch") == ("torch", "cuda")
    assert decoding.choose_backend("numpy") == ("numpy", None)
    assert decoding.choose_backend("torch", "cpu") == ("torch", "cpu"), "an explicit device is kept"
