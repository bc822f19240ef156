"""Fused GPU kernel of the decoding engine (Triton; imported only when triton is installed).

One Triton program solves one SVM - one (pair, time point, fold) - from start to finish: it loads
its training samples (``n_train x n_channels``, float64) into registers, runs the interior-point
method of :func:`realnet_plugins.rsa.decoding.linear_svm` (Mehrotra predictor-corrector on the
dual, Newton systems reduced to the ``n_channels + 1`` primal variables) for as many iterations as
*its* problem needs, sets libsvm's intercept, and scores the held-out samples. Nothing but the
accuracy leaves the chip, so the solver runs at arithmetic speed instead of at the memory speed of
the batched torch back end (which reads every ``128 x 18`` problem matrix several times per
iteration from device memory).

Like the CPU kernels, the Newton systems are solved with a Cholesky factor (here its explicit
inverse M = L^-1, built in the same sweep, and K^-1 = M'M), and the Newton matrix is built from its
lower triangle. A Gauss-Jordan inverse was tried and dropped: on an H100 it left 0.1 % of the SVMs
at the iteration limit and changed 0.6 % of the RDM entries. Sums run in another order than on the
CPU; all back ends stop at the same relative duality gap (1e-8), so decisions differ only for
held-out samples within ~1e-8 of a decision boundary (measured: identical RDMs on 60 images).

Set ``TRITON_INTERPRET=1`` before the first import to run the kernel on the CPU through Triton's
interpreter (slow; the tests do this).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import triton
import triton.language as tl

from realnet_plugins.rsa.decoding import _MU_FLOOR, _PHASES, _START_DUAL, _STEP_FRACTION

__all__ = ["MAX_ITER", "NUM_WARPS", "pair_fold_accuracies"]

MAX_ITER = 80
#: Warps per Triton program (one SVM each): 4 beat 8 on an H100 (0.64 against 0.85 s on 60 images).
NUM_WARPS = 4
_GAP_TOL = _PHASES[-1][1]


@triton.jit
def _inverse_cholesky(k, rows, cols, p, jitter):
    """M = L^-1 for the Cholesky factor L of the SPD matrix ``k + jitter I`` ([P_PAD, P_PAD] in
    registers; rows and columns >= p hold the identity), read from the lower triangle of k, so
    that K^-1 = M' M. Returns (M, number of pivots that were not > 0)."""
    k = tl.where((rows[:, None] == cols[None, :]) & (rows[:, None] < p), k + jitter, k)
    k = tl.where(rows[:, None] >= cols[None, :], k, tl.trans(k))
    bad = p * 0
    inverse = tl.where(rows[:, None] == cols[None, :], 1.0, 0.0).to(tl.float64)
    for j in range(p):
        column = tl.sum(tl.where(cols[None, :] == j, k, 0.0), 1)  # k[:, j], by row
        row = tl.sum(tl.where(rows[:, None] == j, k, 0.0), 0)  # k[j, :], by column
        pivot = tl.sum(tl.where(rows == j, column, 0.0), 0)
        bad += tl.where(pivot > 0.0, 0, 1)
        inverse_root = 1.0 / tl.sqrt(pivot)
        low = tl.where(rows >= j, column * inverse_root, 0.0)  # column j of L
        low_row = tl.where(cols >= j, row * inverse_root, 0.0)  # the same values, by column
        k = k - low[:, None] * low_row[None, :]
        # forward substitution step j of M = L^-1: row j scaled, then eliminated below
        inverse_row = tl.sum(tl.where(rows[:, None] == j, inverse, 0.0), 0) * inverse_root
        below = tl.where(rows > j, low, 0.0)
        inverse = tl.where(rows[:, None] == j, inverse_row[None, :],
                           inverse - below[:, None] * inverse_row[None, :])
    return inverse, bad


@triton.jit
def _newton(zh, dd, v, inverse_factor, r_eq, cols, d):
    """Newton direction: da = D (v - Zh dtheta), db = dtheta[d], with
    (E + Zh' D Zh) dtheta = Zh' D v + (0, ..., 0, r_eq), given M = L^-1 of that matrix."""
    rhs = tl.sum(zh * (dd * v)[:, None], 0)
    rhs = tl.where(cols == d, rhs + r_eq, rhs)
    half = tl.sum(inverse_factor * rhs[None, :], 1)  # M rhs
    step = tl.sum(inverse_factor * half[:, None], 0)  # M' (M rhs)
    da = dd * (v - tl.sum(zh * step[None, :], 1))
    db = tl.sum(tl.where(cols == d, step, 0.0), 0)
    return da, db


@triton.jit
def _pair_fold_kernel(samples_ptr, order_ptr, bounds_ptr, constants_ptr, accuracy_ptr,
                      iterations_ptr, n_folds, m, d,
                      N_PAD: tl.constexpr, TEST_PAD: tl.constexpr, P_PAD: tl.constexpr,
                      MAX_ITERATIONS: tl.constexpr):
    pid = tl.program_id(0)
    fold = pid % n_folds
    job = pid // n_folds  # pair_in_chunk * n_times + time
    n_samples = 2 * m
    lo = tl.load(bounds_ptr + fold)
    hi = tl.load(bounds_ptr + fold + 1)
    n_test = hi - lo
    n = n_samples - n_test
    c = tl.load(constants_ptr)
    gap_tol = tl.load(constants_ptr + 1)
    mu_floor = tl.load(constants_ptr + 2)
    start_dual = tl.load(constants_ptr + 3)
    step_fraction = tl.load(constants_ptr + 4)

    rows = tl.arange(0, N_PAD)
    cols = tl.arange(0, P_PAD)
    kcols = tl.arange(0, P_PAD)
    valid = rows < n
    # training samples: every fold-sorted position outside [lo, hi); tile [N_PAD, P_PAD] of
    # Zh = (y_i x_i, y_i), zero outside the problem
    position = rows + tl.where(rows >= lo, n_test, 0)
    sample = tl.load(order_ptr + job * n_samples + position, mask=valid, other=0)
    y = tl.where(sample >= m, 1.0, -1.0).to(tl.float64)
    x = tl.load(samples_ptr + (job * n_samples + sample)[:, None] * d + cols[None, :],
                mask=valid[:, None] & (cols[None, :] < d), other=0.0)
    zh = x * y[:, None]
    zh = tl.where(cols[None, :] == d, y[:, None], zh)
    zh = tl.where(valid[:, None], zh, 0.0)
    # E: identity on the weights (and on the padding), 0 on the intercept
    e = tl.where((kcols[:, None] == cols[None, :]) & (kcols[:, None] != d), 1.0, 0.0).to(tl.float64)
    n_float = n.to(tl.float64)

    # start: all a equal, small enough that every margin is within [-1, 1]
    w = tl.where(cols < d, tl.sum(zh, 0), 0.0)
    margins = tl.sum(zh * w[None, :], 1)
    largest = tl.max(tl.where(valid, tl.abs(margins), 0.0), 0)
    start = 1.0 / tl.maximum(largest, 1.0 / (start_dual * c))
    a = tl.where(valid, start, 1.0).to(tl.float64)
    u = tl.where(valid, c - start, 1.0).to(tl.float64)
    margins = start * margins
    s = tl.where(valid, tl.where(margins > 1.0, margins - 1.0, 0.0) + 1.0, 1.0).to(tl.float64)
    xi = tl.where(valid, tl.where(margins < 1.0, 1.0 - margins, 0.0) + 1.0, 1.0).to(tl.float64)
    b = start * 0.0
    previous_a = a
    previous_feasibility = b + float("inf")
    previous_gap = b + float("inf")
    zero = n * 0  # int32 scalars carried through the loop
    stalled = zero
    stop = zero
    iteration = zero
    iterations = zero + MAX_ITERATIONS
    while stop == 0:
        theta = tl.sum(zh * a[:, None], 0)  # (w, y'a)
        r_eq = tl.sum(tl.where(cols == d, theta, 0.0), 0)
        theta = tl.where(cols == d, b, theta)
        margins = tl.sum(zh * theta[None, :], 1)
        r_dual = margins - 1.0 - s + xi
        gap = tl.sum(tl.where(valid, s * a + xi * u, 0.0), 0)
        sum_a = tl.sum(tl.where(valid, a, 0.0), 0)
        hinge = tl.sum(tl.where(valid & (margins < 1.0), 1.0 - margins, 0.0), 0)
        feasibility = (tl.max(tl.where(valid, tl.abs(r_dual), 0.0), 0)
                       / (1.0 + tl.max(tl.where(valid, tl.abs(margins), 0.0), 0)))
        w_squared = tl.sum(tl.where(cols < d, theta * theta, 0.0), 0)
        scale = 1.0 + tl.abs(sum_a - 0.5 * w_squared)
        duality_gap = w_squared + c * hinge - sum_a
        # an infeasible interior-point step shrinks the residual by (1 - step): growth means the
        # Newton systems became too ill-conditioned; keep the previous iterate
        broke = (iteration > 0) & (feasibility > 1e-6) & (feasibility > 1e3 * previous_feasibility)
        converged = (((duality_gap <= gap_tol * scale)
                      & (tl.abs(r_eq) <= gap_tol * (1.0 + c * n_float)))
                     | (gap <= mu_floor * scale) | (gap != gap))
        a = tl.where(broke & valid, previous_a, a)
        stop = tl.where(broke | converged, 1, 0)
        iterations = tl.where(stop > 0, iteration, iterations)
        if stop == 0:
            # a stalling or cycling corrector: plain centred steps from then on
            stalled = tl.where(gap > previous_gap, 1, stalled)
            previous_a = a
            previous_feasibility = feasibility
            previous_gap = gap
            mu = gap / (2.0 * n_float)
            inv_a = 1.0 / a
            inv_u = 1.0 / u
            dd = tl.where(valid, 1.0 / (s * inv_a + xi * inv_u), 0.0)
            # Newton matrix E + Zh' D Zh = (D^1/2 Zh)' (D^1/2 Zh) + E: both operands change every
            # iteration, so no copy of Zh in the matrix units' operand layout is kept across
            # iterations (it would cost registers)
            scaled = zh * tl.sqrt(dd)[:, None]
            k = tl.dot(tl.trans(scaled), scaled, input_precision="ieee") + e
            factor, bad = _inverse_cholesky(k, kcols, cols, d + 1, 0.0)
            if bad > 0:
                largest_diagonal = tl.max(tl.sum(tl.where(kcols[:, None] == cols[None, :], k, 0.0), 0), 0)
                factor, bad = _inverse_cholesky(k, kcols, cols, d + 1,
                                                10 * 2.220446049250313e-16 * largest_diagonal + 1e-30)
            # predictor (affine-scaling) direction
            da, db = _newton(zh, dd, xi - s - r_dual, factor, r_eq, cols, d)
            ratio_a = da * inv_a
            ratio_u = da * inv_u
            ds = -s - s * ratio_a
            dxi = xi * ratio_u - xi
            worst_a = tl.where(ratio_a > -0.5, 1.0 + ratio_a, -ratio_a)
            worst_u = tl.where(ratio_u > 0.5, ratio_u, 1.0 - ratio_u)
            worst = tl.max(tl.where(valid, tl.maximum(worst_a, worst_u), 0.0), 0)
            step = 1.0 / tl.maximum(worst, 1.0)
            cross = tl.sum(tl.where(valid, da * (ds - dxi), 0.0), 0)
            mu_affine = ((1.0 - step) * gap + step * step * cross) / (2.0 * n_float)
            ratio = mu_affine / mu
            sigma_mu = tl.where(stalled > 0, 0.3 * mu, ratio * ratio * ratio * mu)
            second_order = tl.where(stalled > 0, 0.0, 1.0)
            # corrector direction
            r_a = s * a + second_order * da * ds - sigma_mu
            r_u = xi * u - second_order * da * dxi - sigma_mu
            da, db = _newton(zh, dd, r_u * inv_u - r_a * inv_a - r_dual, factor, r_eq, cols, d)
            ds = -(r_a + s * da) * inv_a
            dxi = (xi * da - r_u) * inv_u
            shrink = tl.maximum(tl.maximum(-da * inv_a, da * inv_u), tl.maximum(-ds / s, -dxi / xi))
            step = step_fraction / tl.maximum(tl.max(tl.where(valid, shrink, 0.0), 0), 1.0)
            # a Newton matrix that is not positive definite even with jitter: stop here
            step = tl.where(bad > 0, 0.0, step)
            stop = tl.where(bad > 0, 1, stop)
            iterations = tl.where(bad > 0, iteration, iterations)
            a = tl.where(valid, a + step * da, 1.0)
            u = tl.where(valid, u - step * da, 1.0)
            s = tl.where(valid, s + step * ds, 1.0)
            xi = tl.where(valid, xi + step * dxi, 1.0)
            b = b + step * db
        iteration += 1
        stop = tl.where(iteration >= MAX_ITERATIONS, 1, stop)
    # weights from the final multipliers; intercept: midpoint of the interval of b minimising the
    # hinge loss (libsvm's rule), i.e. between the n_pos-th and (n_pos + 1)-th smallest y_i - x_i.w
    w = tl.where(cols < d, tl.sum(zh * tl.where(valid, a, 0.0)[:, None], 0), 0.0)
    breakpoints = y - y * tl.sum(zh * w[None, :], 1)
    n_positive = tl.sum(tl.where(valid & (y > 0.0), 1, 0), 0)
    # rank of each breakpoint among the valid ones (ties broken by position): comparisons only
    other = tl.arange(0, N_PAD)
    other_points = tl.sum(tl.where(rows[:, None] == other[None, :], breakpoints[:, None], 0.0), 0)
    before = (other_points[None, :] < breakpoints[:, None]) | (
        (other_points[None, :] == breakpoints[:, None]) & (other[None, :] < rows[:, None]))
    rank = tl.sum(tl.where(before & (other[None, :] < n), 1, 0), 1)
    lower = tl.sum(tl.where(valid & (rank == n_positive - 1), breakpoints, 0.0), 0)
    upper = tl.sum(tl.where(valid & (rank == n_positive), breakpoints, 0.0), 0)
    b = 0.5 * (lower + upper)
    # held-out samples: fold-sorted positions [lo, hi)
    test_rows = tl.arange(0, TEST_PAD)
    test_valid = test_rows < n_test
    test_sample = tl.load(order_ptr + job * n_samples + lo + test_rows, mask=test_valid, other=0)
    test_x = tl.load(samples_ptr + (job * n_samples + test_sample)[:, None] * d + cols[None, :],
                     mask=test_valid[:, None] & (cols[None, :] < d), other=0.0)
    decisions = tl.sum(test_x * w[None, :], 1) + b
    correct = tl.sum(tl.where(test_valid & ((decisions > 0.0) == (test_sample >= m)), 1, 0), 0)
    tl.store(accuracy_ptr + pid, correct.to(tl.float64) / n_test.to(tl.float64))
    tl.store(iterations_ptr + pid, iterations)


def _next_power_of_two(value: int, minimum: int) -> int:
    return max(minimum, 1 << max(0, int(value) - 1).bit_length())


def pair_fold_accuracies(samples: Any, order: Any, bounds: np.ndarray, c: float,
                         num_warps: int | None = None) -> tuple[Any, Any]:
    """Held-out accuracy of every (pair, time point, fold) of a chunk, one program per SVM.

    Args:
        samples: (pseudo-)trials, torch float64 tensor shaped (n_pairs, n_times, 2 m, n_channels)
            on the kernel's device; sample k < m belongs to the pair's first image (label -1), the
            others to the second (label +1).
        order: sample indices sorted by held-out fold, int32 tensor (n_pairs, n_times, 2 m):
            fold f holds the positions ``bounds[f]:bounds[f + 1]``.
        bounds: fold boundaries, shape (n_folds + 1,), the same for every (pair, time point).
        c: soft-margin penalty.
        num_warps: warps per program (default :data:`NUM_WARPS`).

    Returns:
        ``(accuracy, iterations)``: float64 tensor (n_pairs, n_times, n_folds) and int32 tensor of
        interior-point iterations, same shape (``MAX_ITER``: stopped at the limit).
    """
    import torch

    n_pairs, n_times, n_samples, n_channels = samples.shape
    n_folds = len(bounds) - 1
    sizes = np.diff(bounds)
    device = samples.device
    accuracy = torch.empty((n_pairs, n_times, n_folds), dtype=torch.float64, device=device)
    iterations = torch.empty((n_pairs, n_times, n_folds), dtype=torch.int32, device=device)
    # float arguments would reach the kernel as float32: the constants travel as a float64 tensor
    constants = torch.tensor([c, _GAP_TOL, _MU_FLOOR, _START_DUAL, _STEP_FRACTION],
                             dtype=torch.float64, device=device)
    grid = (n_pairs * n_times * n_folds,)
    _pair_fold_kernel[grid](
        samples.contiguous(), order.contiguous(),
        torch.as_tensor(np.asarray(bounds, dtype=np.int32), device=device),
        constants, accuracy, iterations, n_folds, n_samples // 2, n_channels,
        N_PAD=_next_power_of_two(n_samples - sizes.min(), 16),
        TEST_PAD=_next_power_of_two(sizes.max(), 16),
        P_PAD=_next_power_of_two(n_channels + 1, 16), MAX_ITERATIONS=MAX_ITER,
        num_warps=NUM_WARPS if num_warps is None else num_warps)
    return accuracy, iterations
