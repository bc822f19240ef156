"""to_rsatoolbox / from_rsatoolbox round trips with descriptors, and the core without rsatoolbox.

rsatoolbox is needed: these tests fail (never skip) without it; scripts/install.sh installs it.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy.spatial.distance import squareform

from realnet_plugins.errors import DataFormatError
from realnet_plugins.rsa import RSATOOLBOX_REQUIREMENT, compare_rdms, from_rsatoolbox, to_rsatoolbox, upper_triangle

try:
    from rsatoolbox.data import TemporalDataset
    from rsatoolbox.rdm import RDMs, calc_rdm_movie, compare
except ImportError as error:  # the interop tests must fail, not skip
    raise ImportError(f"the rsatoolbox interop tests need rsatoolbox ({RSATOOLBOX_REQUIREMENT}); install it with "
                      f"pip install '{RSATOOLBOX_REQUIREMENT}' (scripts/install.sh does): {error}") from error

N = 6
IDS = [f"stim_{k:03d}" for k in range(N)]


def _stack(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.vectorize(squareform, signature="(m)->(n,n)")(rng.random(shape + (N * (N - 1) // 2,)))


def test_subject_by_time_stack_round_trips_with_descriptors():
    rdms = _stack((2, 3))
    times, subjects = [0, 10, 20], ["sub-01", "sub-02"]
    obj = to_rsatoolbox(rdms, stimulus_ids=IDS, times_ms=times, subjects=subjects, method="crossnobis")
    assert isinstance(obj, RDMs) and obj.n_rdm == 6 and obj.n_cond == N
    assert obj.rdm_descriptors["subject"] == ["sub-01"] * 3 + ["sub-02"] * 3
    assert obj.rdm_descriptors["time_ms"] == times * 2
    assert obj.pattern_descriptors["stimulus_id"] == IDS
    assert obj.dissimilarity_measure == "crossnobis"
    np.testing.assert_array_equal(obj.get_vectors(), upper_triangle(rdms).reshape(6, -1))
    back = from_rsatoolbox(obj)
    np.testing.assert_array_equal(back.rdms, rdms)
    assert back.subjects == subjects and back.stimulus_ids == IDS and back.method == "crossnobis"
    np.testing.assert_array_equal(back.times_ms, times)


def test_users_can_continue_in_rsatoolbox():
    rdms = _stack((4,), seed=1)
    model = _stack((), seed=2)
    eeg = to_rsatoolbox(rdms, stimulus_ids=IDS, times_ms=[0, 10, 20, 30])
    got = compare(eeg, to_rsatoolbox(model, stimulus_ids=IDS), method="spearman")[:, 0]
    np.testing.assert_allclose(got, compare_rdms(rdms, model), atol=1e-12)
    # a subset of rsatoolbox's own selection keeps the descriptors
    late = eeg.subset("time_ms", [20, 30])
    np.testing.assert_array_equal(from_rsatoolbox(late).rdms, rdms[2:])


def test_single_rdm_and_rsatoolbox_movie_descriptors():
    single = from_rsatoolbox(to_rsatoolbox(_stack((), seed=3), stimulus_ids=IDS))
    assert single.rdms.shape == (1, N, N) and single.times_ms is None and single.subjects is None
    rng = np.random.default_rng(4)
    dataset = TemporalDataset(rng.standard_normal((N, 3, 5)), obs_descriptors={"image": np.arange(N)},
                              time_descriptors={"time": np.array([0.0, 0.01, 0.02, 0.03, 0.04])})
    movie = from_rsatoolbox(calc_rdm_movie(dataset, method="euclidean", descriptor="image"))
    assert movie.rdms.shape == (5, N, N) and movie.stimulus_ids == [str(k) for k in range(N)]
    np.testing.assert_allclose(movie.times_ms, [0.0, 0.01, 0.02, 0.03, 0.04])


def test_bad_stacks_get_clear_errors():
    rdms = _stack((2,))
    with pytest.raises(DataFormatError, match=r"\(n_times, n, n\)"):
        to_rsatoolbox(rdms, stimulus_ids=IDS, times_ms=[0, 10, 20])
    with pytest.raises(DataFormatError, match="symmetric"):
        asymmetric = rdms.copy()
        asymmetric[0, 0, 1] += 1.0
        to_rsatoolbox(asymmetric, stimulus_ids=IDS, times_ms=[0, 10])
    with pytest.raises(DataFormatError, match="rsatoolbox.rdm.RDMs"):
        from_rsatoolbox(rdms)
    duplicated = RDMs(upper_triangle(rdms), rdm_descriptors={"time_ms": [0, 0]})
    with pytest.raises(DataFormatError, match="complete grid"):
        from_rsatoolbox(duplicated)


def test_the_core_runs_without_rsatoolbox_and_says_how_to_get_it():
    code = textwrap.dedent("""
        import sys
        sys.modules['rsatoolbox'] = None  # any import of it now fails, as on the bare GPU box
        import numpy as np
        from realnet_plugins.errors import MissingDependencyError
        from realnet_plugins.rsa import (compare_rdms, crossnobis_rdm, inter_subject_ceiling,
                                         inter_subject_ceiling_bootstrap, to_rsatoolbox)
        rng = np.random.default_rng(0)
        rdm = crossnobis_rdm(rng.standard_normal((4, 10, 3, 2)), progress=False)
        assert rdm.shape == (2, 4, 4)
        rdms = rng.random((3, 2, 5, 5)); rdms = rdms + rdms.transpose(0, 1, 3, 2)
        for method in ('spearman', 'tau-a', 'rho-a', 'cosine', 'corr', 'corr_cov', 'cosine_cov'):
            inter_subject_ceiling(rdms, method)
            compare_rdms(rdms[0], rdms[1], method)
        inter_subject_ceiling_bootstrap(rdms, over='images', n_bootstrap=2)
        for call in (lambda: crossnobis_rdm(rng.standard_normal((4, 10, 3, 2)), backend='rsatoolbox'),
                     lambda: to_rsatoolbox(rdms[0, 0], stimulus_ids=list('abcde'))):
            try:
                call()
            except MissingDependencyError as error:
                print(error)
            else:
                raise AssertionError('no MissingDependencyError')
        print('ok')
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "ok"
    assert f"pip install '{RSATOOLBOX_REQUIREMENT}'" in lines[0] and "crossnobis_rdm" in lines[0]
    assert "to_rsatoolbox" in lines[1]
