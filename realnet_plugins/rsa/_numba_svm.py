"""Compiled CPU kernels of the decoding engine (numba; imported only when numba is installed).

The solver is the one of :func:`realnet_plugins.rsa.decoding.linear_svm` - a primal-dual
interior-point method (Mehrotra predictor-corrector) on the dual of the soft-margin linear SVM with
an unregularised intercept, Newton systems reduced to the ``d + 1`` primal variables - written per
problem in float64 with every loop over samples contiguous, so that one problem's working set
(~25 KB for 128 samples x 17 features) stays in the core's L1/L2 cache, and run in parallel over
problems. :func:`pair_fold_accuracies` fuses the whole decoding of a chunk of image pairs
(pseudo-trial means, the folds, the SVMs, the held-out accuracies) so that no per-fold training set
is ever materialised as a numpy array. Each (pair, time point)'s samples are laid out once, sorted by
held-out fold (a stable sort, the sample order of the other back ends), so every training set is
two contiguous copies and every held-out set one contiguous block.

Two shortcuts, on by default (``accelerated=False`` / ``crossover=False`` turn them off, leaving the
plain interior-point method of the other back ends, whose iteration counts it matches within one):

- **Crossover.** From a relative duality gap of 1e-3 on, each iteration first reads the active set
  off the iterate (samples at a = 0, at a = C, on the margin), solves that partition's KKT system
  exactly and keeps the solution if it passes every KKT condition to 1e-9 (:func:`_crossover`).
  The result is the optimum itself, not a point within the duality gap of it, two to five
  iterations earlier.
- **Warm start.** The folds of one (pair, time point) share 1 - 2 / n_folds of their training
  samples, and the EEG of neighbouring time points is alike, so every SVM of a pair but the very
  first starts from the margins m of the previous one's solution (the previous fold, or the last
  fold of the previous time point): a = C / 2, slacks max(+-(m - 1), 0) + 1 (the cold start's
  slack). One thread decodes all time points of a pair in order, so results still do not depend
  on the number of threads.

Both change the path, not the problem: the SVMs are solved to optimality either way. Against the
plain method (whose iterate is within a relative duality gap of 1e-8, |w - w*| up to ~1e-4 in
this data) a held-out sample that lies almost exactly on the decision boundary can change sides:
about 5 in 10 000 (pair, time) accuracies differ, by one held-out sample of one fold.

While the relative duality gap is above 1e-2 the Newton matrix is summed in float32 (twice the
vector lanes; see :func:`_newton_matrix`), then in float64; the residuals, the stopping rule
and the crossover are float64 throughout, so this only makes the early steps slightly inexact
Newton steps (no change in iteration counts was measured).

Every problem is computed by one thread from its own data only: results do not depend on the
number of threads.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from realnet_plugins.rsa.decoding import _MU_FLOOR, _PHASES, _START_DUAL, _STEP_FRACTION

__all__ = ["MAX_ITER", "fit_linear_svms", "pair_fold_accuracies"]

# reassociation lets LLVM vectorise the reductions; 'nnan'/'ninf' are left out on purpose: the
# solver tests for NaN and relies on inf arithmetic
_FASTMATH = {"reassoc", "contract", "nsz"}
_kernel = nb.njit(cache=True, fastmath=_FASTMATH, error_model="numpy", nogil=True)
_parallel_kernel = nb.njit(cache=True, fastmath=_FASTMATH, error_model="numpy", nogil=True,
                           parallel=True)

# the batched solver's constants (one source): start, step rule, float64 floor, final duality gap
_GAP_TOL = _PHASES[-1][1]  # relative duality gap at which a problem is solved
MAX_ITER = 80
# crossover: tried before each Newton step once the relative duality gap is below _CROSSOVER_GAP;
# its solution must meet every KKT condition within _CROSSOVER_TOL (margins; dual values / C)
_CROSSOVER_GAP = 1e-3
_CROSSOVER_TOL = 1e-9
# Newton matrices in float32 while the relative duality gap is above this
_SINGLE_GAP = 1e-2
# warm start: added to both slacks of every sample (margins are in units of the hinge), as in the
# cold start
_WARM_SLACK = 1.0


@_kernel
def _cholesky(m: np.ndarray, p: int, inverse_diagonal: np.ndarray) -> bool:
    """In-place lower Cholesky factor L of the SPD matrix m[:p, :p], with 1 / L_jj in
    inverse_diagonal[:p]; False if a pivot is not > 0.

    The factorisation is latency-bound, so: below each pivot two rows share one pass over the
    finished columns (two independent sums), and each row's sum of squares is accumulated in
    inverse_diagonal[i] as its entries are finished, so a pivot needs no sum of its own."""
    for j in range(p):
        inverse_diagonal[j] = 0.0
    for j in range(p):
        pivot = m[j, j] - inverse_diagonal[j]
        if not pivot > 0.0:
            return False
        root = np.sqrt(pivot)
        inverse = 1.0 / root
        m[j, j] = root
        inverse_diagonal[j] = inverse
        i = j + 1
        while i + 1 < p:
            value0 = m[i, j]
            value1 = m[i + 1, j]
            for k in range(j):
                x = m[j, k]
                value0 -= m[i, k] * x
                value1 -= m[i + 1, k] * x
            value0 *= inverse
            value1 *= inverse
            m[i, j] = value0
            m[i + 1, j] = value1
            inverse_diagonal[i] += value0 * value0
            inverse_diagonal[i + 1] += value1 * value1
            i += 2
        if i < p:
            value = m[i, j]
            for k in range(j):
                value -= m[i, k] * m[j, k]
            value *= inverse
            m[i, j] = value
            inverse_diagonal[i] += value * value
    return True


@_kernel
def _cholesky_solve(factor: np.ndarray, inverse_diagonal: np.ndarray, p: int, rhs: np.ndarray,
                    out: np.ndarray) -> None:
    """Solve (L L') out = rhs with the lower factor L of :func:`_cholesky`, two unknowns per pass:
    L z = rhs by dot products with rows i, i + 1 of L, then L' out = z by column updates with
    rows i, i - 1 of L."""
    i = 0
    while i + 1 < p:
        value0 = rhs[i]
        value1 = rhs[i + 1]
        for k in range(i):
            x = out[k]
            value0 -= factor[i, k] * x
            value1 -= factor[i + 1, k] * x
        z = value0 * inverse_diagonal[i]
        out[i] = z
        out[i + 1] = (value1 - factor[i + 1, i] * z) * inverse_diagonal[i + 1]
        i += 2
    if i < p:
        value = rhs[i]
        for k in range(i):
            value -= factor[i, k] * out[k]
        out[i] = value * inverse_diagonal[i]
    i = p - 1  # L' out = z: column i of L' is row i of L
    while i >= 1:
        x0 = out[i] * inverse_diagonal[i]
        out[i] = x0
        x1 = (out[i - 1] - factor[i, i - 1] * x0) * inverse_diagonal[i - 1]
        out[i - 1] = x1
        for k in range(i - 1):
            out[k] -= factor[i, k] * x0 + factor[i - 1, k] * x1
        i -= 2
    if i == 0:
        out[0] *= inverse_diagonal[0]


@_kernel
def _project(zh: np.ndarray, p: int, n: int, weights: np.ndarray, out: np.ndarray) -> None:
    """out[j] = sum_i weights[i] zh[j, i] for j < p (six rows per pass over the samples)."""
    for block in range(p // 6):
        j = 6 * block
        t0 = t1 = t2 = t3 = t4 = t5 = 0.0
        for i in range(n):
            weight = weights[i]
            t0 += weight * zh[j, i]
            t1 += weight * zh[j + 1, i]
            t2 += weight * zh[j + 2, i]
            t3 += weight * zh[j + 3, i]
            t4 += weight * zh[j + 4, i]
            t5 += weight * zh[j + 5, i]
        out[j] = t0
        out[j + 1] = t1
        out[j + 2] = t2
        out[j + 3] = t3
        out[j + 4] = t4
        out[j + 5] = t5
    for j in range(6 * (p // 6), p):
        t0 = 0.0
        for i in range(n):
            t0 += weights[i] * zh[j, i]
        out[j] = t0


@_kernel
def _expand(zh: np.ndarray, p: int, n: int, coefficients: np.ndarray, out: np.ndarray) -> None:
    """out[i] += sum_j zh[j, i] coefficients[j] for j < p (six rows per pass)."""
    for block in range(p // 6):
        j = 6 * block
        c0 = coefficients[j]
        c1 = coefficients[j + 1]
        c2 = coefficients[j + 2]
        c3 = coefficients[j + 3]
        c4 = coefficients[j + 4]
        c5 = coefficients[j + 5]
        for i in range(n):
            out[i] += (zh[j, i] * c0 + zh[j + 1, i] * c1 + zh[j + 2, i] * c2
                       + zh[j + 3, i] * c3 + zh[j + 4, i] * c4 + zh[j + 5, i] * c5)
    for j in range(6 * (p // 6), p):
        c0 = coefficients[j]
        for i in range(n):
            out[i] += zh[j, i] * c0


@_kernel
def _newton_matrix(zh: np.ndarray, dd: np.ndarray, n: int, d: int, out: np.ndarray,
                   zero: float) -> None:
    """Lower triangle of E + Zh' D Zh into out[:d + 1, :d + 1], E = identity on the weights, 0 on
    the intercept. Two rows by four columns per pass over the samples (eight accumulators); the
    rows of D Zh are formed on the fly, so no second (d + 1) x n array competes for the L1 cache.
    The sums start from ``zero`` and keep its type: with float32 zh, dd and zero they run in float32
    (twice the vector lanes), the early iterations' matrices (see _SINGLE_GAP)."""
    p = d + 1
    for pair in range(p // 2):
        j = 2 * pair
        for block in range((j + 1) // 4):
            k = 4 * block
            t00 = t01 = t02 = t03 = t10 = t11 = t12 = t13 = zero
            for i in range(n):
                weight = dd[i]
                z0 = weight * zh[j, i]
                z1 = weight * zh[j + 1, i]
                h0 = zh[k, i]
                h1 = zh[k + 1, i]
                h2 = zh[k + 2, i]
                h3 = zh[k + 3, i]
                t00 += z0 * h0
                t01 += z0 * h1
                t02 += z0 * h2
                t03 += z0 * h3
                t10 += z1 * h0
                t11 += z1 * h1
                t12 += z1 * h2
                t13 += z1 * h3
            out[j, k] = t00
            out[j, k + 1] = t01
            out[j, k + 2] = t02
            out[j, k + 3] = t03
            out[j + 1, k] = t10
            out[j + 1, k + 1] = t11
            out[j + 1, k + 2] = t12
            out[j + 1, k + 3] = t13
        for k in range(4 * ((j + 1) // 4), j + 1):
            t00 = t10 = zero
            for i in range(n):
                h0 = dd[i] * zh[k, i]
                t00 += zh[j, i] * h0
                t10 += zh[j + 1, i] * h0
            out[j, k] = t00
            out[j + 1, k] = t10
        t11 = zero
        for i in range(n):
            t11 += dd[i] * zh[j + 1, i] * zh[j + 1, i]
        out[j + 1, j + 1] = t11
    if p % 2:
        for k in range(p):
            t00 = zero
            for i in range(n):
                t00 += dd[i] * zh[p - 1, i] * zh[k, i]
            out[p - 1, k] = t00
    for j in range(d):
        out[j, j] += 1.0


@_kernel
def _newton(zh: np.ndarray, n: int, d: int, factor: np.ndarray, inverse_diagonal: np.ndarray,
            dd: np.ndarray, v: np.ndarray, r_eq: float, rhs: np.ndarray, step_theta: np.ndarray,
            da: np.ndarray) -> float:
    """Newton direction da = D (v - Zh dtheta) (written in place) with
    (E + Zh' D Zh) dtheta = Zh' D v + (0, r_eq); returns db = dtheta[d]."""
    p = d + 1
    for i in range(n):
        da[i] = dd[i] * v[i]
    _project(zh, p, n, da, rhs)
    rhs[d] += r_eq
    _cholesky_solve(factor, inverse_diagonal, p, rhs, step_theta)
    for j in range(p):
        step_theta[j] = -step_theta[j]
    for i in range(n):
        da[i] = v[i]
    _expand(zh, p, n, step_theta, da)
    for i in range(n):
        da[i] *= dd[i]
    return -step_theta[d]


@_kernel
def _crossover(zh: np.ndarray, n: int, d: int, c: float, a: np.ndarray, u: np.ndarray,
               s: np.ndarray, xi: np.ndarray, state: np.ndarray, bounded: np.ndarray,
               free: np.ndarray, rows: np.ndarray, system: np.ndarray,
               inverse_diagonal: np.ndarray, right: np.ndarray, solution: np.ndarray,
               margins: np.ndarray, candidate: np.ndarray) -> bool:
    """Exact solution of the active set the interior-point iterate (a, u, s, xi) points to.

    Each sample is put at a = 0 (a < s: margin above 1), at a = C (u < xi: margin below 1) or on
    the margin (free). With k <= d + 1 free samples, the KKT conditions of that partition are
    Zf w + yf b = 1, w = g + Zf' af, yf' af = -C sum_bounded y_i (g: C times the sum of the bounded
    z_i); they are solved by eliminating the equality (a (k - 1) x (k - 1) Cholesky solve, see the
    comments below). The solution is kept - (w, b) written to candidate - only if it passes every
    KKT condition within _CROSSOVER_TOL: 0 <= a <= C, margins >= 1 at a = 0, <= 1 at a = C, = 1 on
    the free samples (y'a = 0 holds by construction). It is then the optimum itself rather than a
    point within the interior-point method's duality gap of it. False (candidate undefined): keep
    iterating. Work arrays: rows and system (d + 1, d + 1); inverse_diagonal, right and solution
    (d + 1,); margins (n,)."""
    p = d + 1
    tol = _CROSSOVER_TOL
    k = 0
    changed = False
    for i in range(n):
        side = 0 if a[i] < s[i] else (2 if u[i] < xi[i] else 1)
        if side != state[i]:
            changed = True
            state[i] = side
        bounded[i] = c if side == 2 else 0.0
        if side == 1:
            if k < p:
                free[k] = i
            k += 1
    if not changed or k > p:  # the last failed try's partition, or more free samples than a
        return False           # non-degenerate optimum has
    _project(zh, p, n, bounded, candidate)  # (C sum_bounded z_i, C sum_bounded y_i)
    if k == 0:
        # every sample at a bound: optimal iff y'a = 0 and some b fits every margin condition
        if abs(candidate[d]) > tol * c:
            return False
        margins[:n] = 0.0
        _expand(zh, d, n, candidate, margins)
        lowest = -np.inf
        highest = np.inf
        for i in range(n):
            label = zh[d, i]
            # margin_i + y_i b <= 1 (a = C) or >= 1 (a = 0), i.e. a bound on b of (1 - margin_i) y_i
            limit = (1.0 - margins[i]) * label
            if (state[i] == 2) == (label > 0.0):
                highest = min(highest, limit)
            else:
                lowest = max(lowest, limit)
        if lowest > highest + tol:
            return False
        candidate[d] = 0.5 * (lowest + highest)
        return True
    # Null-space elimination of the equality y'a = beta0 (= -C sum_bounded y_i) with free sample 0:
    # a_0 = y_0 (beta0 - sum_{r>0} y_r a_r). With z'_r = z_r - y_0 y_r z_0 (r > 0) and
    # h = g + y_0 beta0 z_0, the remaining a_r solve the SPD system (Z' Z'^T) a = (1 - y_0 y_r) - Z' h,
    # w = h + Z'^T a, and b follows from free sample 0's margin. The intercept leaves the system.
    y0 = zh[d, free[0]]
    beta0 = -candidate[d]
    alpha0 = y0 * beta0  # a_0 before the contribution of the other free samples
    for j in range(d):
        rows[0, j] = zh[j, free[0]]
        candidate[j] += alpha0 * rows[0, j]  # candidate[:d] = h
    for r in range(1, k):
        flip = y0 * zh[d, free[r]]
        for j in range(d):
            rows[r, j] = zh[j, free[r]] - flip * rows[0, j]
        value = 1.0 - flip
        for j in range(d):
            value -= rows[r, j] * candidate[j]
        right[r - 1] = value
        col = 1
        while col + 3 <= r:  # four entries per pass over the features (independent sums)
            value0 = value1 = value2 = value3 = 0.0
            for j in range(d):
                x = rows[r, j]
                value0 += x * rows[col, j]
                value1 += x * rows[col + 1, j]
                value2 += x * rows[col + 2, j]
                value3 += x * rows[col + 3, j]
            system[r - 1, col - 1] = value0
            system[r - 1, col] = value1
            system[r - 1, col + 1] = value2
            system[r - 1, col + 2] = value3
            col += 4
        while col <= r:
            value = 0.0
            for j in range(d):
                value += rows[r, j] * rows[col, j]
            system[r - 1, col - 1] = value
            col += 1
    if k > 1:
        if not _cholesky(system, k - 1, inverse_diagonal):
            return False
        _cholesky_solve(system, inverse_diagonal, k - 1, right, solution)
    for r in range(1, k):
        alpha = solution[r - 1]
        if not (-tol * c <= alpha <= c + tol * c):
            return False
        alpha0 -= y0 * zh[d, free[r]] * alpha
        for j in range(d):
            candidate[j] += alpha * rows[r, j]
    if not (-tol * c <= alpha0 <= c + tol * c):
        return False
    value = 0.0
    for j in range(d):
        value += rows[0, j] * candidate[j]
    candidate[d] = y0 * (1.0 - value)
    margins[:n] = 0.0
    _expand(zh, p, n, candidate, margins)
    for i in range(n):
        margin = margins[i]
        if state[i] == 0:
            if not margin >= 1.0 - tol:
                return False
        elif state[i] == 2:
            if not margin <= 1.0 + tol:
                return False
        elif not abs(margin - 1.0) <= tol:
            return False
    return True


@_kernel
def _workspace(n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                        np.ndarray]:
    """Work arrays of :func:`_interior_point` for up to n samples and d features, allocated once
    per caller and reused by every SVM it solves."""
    p = d + 1
    return (np.empty((17, n)), np.empty((4, p)), np.empty((2, p, p)), np.empty(n, dtype=np.int8),
            np.empty(p, dtype=np.int64), np.empty((p + 1, n), dtype=np.float32))


@_kernel
def _interior_point(zh: np.ndarray, n: int, d: int, c: float, theta: np.ndarray,
                    warm_margins: np.ndarray, warm: bool, crossover: bool, work: np.ndarray,
                    vectors: np.ndarray, squares: np.ndarray, state: np.ndarray,
                    free: np.ndarray, single: np.ndarray) -> int:
    """Solve one SVM dual; zh[:d + 1, :n] holds (y_i x_i, y_i) column-wise. Writes (w, b) into
    theta[:d + 1] (b is refined by the caller) and returns the number of Newton iterations
    (``MAX_ITER``: stopped at the iteration limit).

    warm: start from the margins y_i (x_i . w + b) of a related problem's solution, given in
    warm_margins[:n], with its intercept in theta[d] (see _WARM_SLACK). crossover: from a relative
    duality gap of _CROSSOVER_GAP on, try :func:`_crossover` before every Newton step and stop with
    its exact solution once one passes. Work arrays (see :func:`_workspace`): work (17, >= n),
    vectors (4, d + 1), squares (2, d + 1, d + 1), state (>= n,) int8, free (d + 1,) int64,
    single (d + 2, >= n) float32."""
    p = d + 1
    a = work[0, :n]
    u = work[1, :n]
    s = work[2, :n]
    xi = work[3, :n]
    margins = work[4, :n]
    r_dual = work[5, :n]
    dd = work[6, :n]
    v = work[7, :n]
    da = work[8, :n]
    ds = work[9, :n]
    dxi = work[10, :n]
    previous_a = work[11, :n]
    inv_a = work[12, :n]
    inv_u = work[13, :n]
    # elementwise terms of max-reductions (np.max vectorises, a max() in the loop does not)
    scratch = work[14, :n]
    scratch_residual = work[15, :n]
    bounded = work[16, :n]
    previous_b = 0.0
    rhs = vectors[0]
    step_theta = vectors[1]
    inverse_diagonal = vectors[2]
    candidate = vectors[3]
    factor = squares[0]
    rows = squares[1]
    state[:n] = -1  # partition of the last crossover try (-1: none)
    # float32 copies for the early Newton matrices: zh in rows :p, D in row p
    zh_single = single[:p]
    dd_single = single[p]
    for j in range(p):
        for i in range(n):
            zh_single[j, i] = zh[j, i]
    if warm:
        # a = C / 2 and each slack pair from the related solution's margin: max(m - 1, 0) + delta
        # for the margin above 1, max(1 - m, 0) + delta below it
        b = theta[d]
        for i in range(n):
            margin = warm_margins[i]
            a[i] = 0.5 * c
            u[i] = 0.5 * c
            s[i] = (margin - 1.0 if margin > 1.0 else 0.0) + _WARM_SLACK
            xi[i] = (1.0 - margin if margin < 1.0 else 0.0) + _WARM_SLACK
    else:
        # start: all a equal, small enough that every margin is within [-1, 1]
        a[:n] = 1.0
        _project(zh, d, n, a, theta)
        margins[:n] = 0.0
        _expand(zh, d, n, theta, margins)
        for i in range(n):
            scratch[i] = abs(margins[i])
        largest = np.max(scratch)
        start = 1.0 / max(largest, 1.0 / (_START_DUAL * c))
        b = 0.0
        for i in range(n):
            a[i] = start
            u[i] = c - start
            margin = start * margins[i]
            s[i] = (margin - 1.0 if margin > 1.0 else 0.0) + 1.0
            xi[i] = (1.0 - margin if margin < 1.0 else 0.0) + 1.0
    previous_feasibility = np.inf
    previous_gap = np.inf
    stalled = False
    for iteration in range(MAX_ITER):
        # theta = (w, y'a), then the residuals at (w, b)
        _project(zh, p, n, a, theta)
        r_eq = theta[d]
        theta[d] = b
        gap = 0.0
        sum_a = 0.0
        hinge = 0.0
        margins[:n] = 0.0
        _expand(zh, p, n, theta, margins)
        for i in range(n):
            r_dual[i] = margins[i] - 1.0 - s[i] + xi[i]
        for i in range(n):
            margin = margins[i]
            gap += s[i] * a[i] + xi[i] * u[i]
            sum_a += a[i]
            hinge += 1.0 - margin if margin < 1.0 else 0.0
        for i in range(n):
            scratch[i] = abs(margins[i])
        for i in range(n):
            scratch_residual[i] = abs(r_dual[i])
        feasibility = np.max(scratch_residual) / (1.0 + np.max(scratch))
        w_squared = 0.0
        for j in range(d):
            w_squared += theta[j] * theta[j]
        scale = 1.0 + abs(sum_a - 0.5 * w_squared)
        duality_gap = w_squared + c * hinge - sum_a
        if iteration > 0 and feasibility > 1e-6 and feasibility > 1e3 * previous_feasibility:
            # an infeasible interior-point step shrinks the residual by (1 - step): growth means
            # the Newton systems became too ill-conditioned; keep the previous iterate
            for i in range(n):
                a[i] = previous_a[i]
            b = previous_b
            _project(zh, d, n, a, theta)
            theta[d] = b
            return iteration
        if ((duality_gap <= _GAP_TOL * scale and abs(r_eq) <= _GAP_TOL * (1.0 + c * n))
                or gap <= _MU_FLOOR * scale or gap != gap):
            return iteration
        if (crossover and duality_gap <= _CROSSOVER_GAP * scale
                and _crossover(zh, n, d, c, a, u, s, xi, state, bounded, free, rows, factor,
                               inverse_diagonal, rhs, step_theta, scratch, candidate)):
            for j in range(p):
                theta[j] = candidate[j]
            return iteration
        # a stalling or cycling corrector (the complementarity gap stops shrinking): plain
        # centred steps from then on
        if gap > previous_gap:
            stalled = True
        for i in range(n):
            previous_a[i] = a[i]
        previous_b = b
        previous_feasibility = feasibility
        previous_gap = gap
        mu = gap / (2 * n)
        for i in range(n):
            inv_a[i] = 1.0 / a[i]
        for i in range(n):
            inv_u[i] = 1.0 / u[i]
        for i in range(n):
            dd[i] = 1.0 / (s[i] * inv_a[i] + xi[i] * inv_u[i])
        # Newton matrix E + Zh' D Zh (lower triangle), E = identity on w
        factored = False
        if duality_gap > _SINGLE_GAP * scale and not stalled:
            for i in range(n):
                dd_single[i] = dd[i]
            _newton_matrix(zh_single, dd_single, n, d, factor, np.float32(0.0))
            factored = _cholesky(factor, p, inverse_diagonal)
        if not factored:
            _newton_matrix(zh, dd, n, d, factor, 0.0)
        if not factored and not _cholesky(factor, p, inverse_diagonal):
            _newton_matrix(zh, dd, n, d, factor, 0.0)
            largest_diagonal = 0.0
            for j in range(p):
                largest_diagonal = max(largest_diagonal, factor[j, j])
            for j in range(p):
                factor[j, j] += 10 * 2.220446049250313e-16 * largest_diagonal + 1e-30
            if not _cholesky(factor, p, inverse_diagonal):
                return iteration
        # predictor (affine-scaling) direction
        for i in range(n):
            v[i] = xi[i] - s[i] - r_dual[i]
        _newton(zh, n, d, factor, inverse_diagonal, dd, v, r_eq, rhs, step_theta, da)
        for i in range(n):
            ds[i] = -s[i] - s[i] * (da[i] * inv_a[i])
        for i in range(n):
            dxi[i] = xi[i] * (da[i] * inv_u[i]) - xi[i]
        for i in range(n):
            # largest of -da/a, -ds/s = 1 + da/a, da/u, -dxi/xi = 1 - da/u
            ratio_a = da[i] * inv_a[i]
            ratio_u = da[i] * inv_u[i]
            worst_a = 1.0 + ratio_a if ratio_a > -0.5 else -ratio_a
            worst_u = ratio_u if ratio_u > 0.5 else 1.0 - ratio_u
            scratch[i] = worst_a if worst_a > worst_u else worst_u
        step = 1.0 / max(1.0, np.max(scratch))
        cross = 0.0
        for i in range(n):
            cross += da[i] * (ds[i] - dxi[i])
        mu_affine = ((1.0 - step) * gap + step * step * cross) / (2 * n)
        if stalled:
            sigma_mu = 0.3 * mu
        else:
            sigma_mu = (mu_affine / mu) ** 3 * mu
        # corrector direction: ds, dxi first hold r_a, r_u; v = r_u / u - r_a / a - r_dual
        second_order = 0.0 if stalled else 1.0
        for i in range(n):
            ds[i] = s[i] * a[i] + second_order * da[i] * ds[i] - sigma_mu  # r_a
        for i in range(n):
            dxi[i] = xi[i] * u[i] - second_order * da[i] * dxi[i] - sigma_mu  # r_u
        for i in range(n):
            v[i] = dxi[i] * inv_u[i] - ds[i] * inv_a[i] - r_dual[i]
        db = _newton(zh, n, d, factor, inverse_diagonal, dd, v, r_eq, rhs, step_theta, da)
        for i in range(n):
            ds[i] = -(ds[i] + s[i] * da[i]) * inv_a[i]
        for i in range(n):
            dxi[i] = (xi[i] * da[i] - dxi[i]) * inv_u[i]
        for i in range(n):
            shrink_a = -da[i] * inv_a[i]
            shrink_u = da[i] * inv_u[i]
            shrink_s = -ds[i] / s[i]
            shrink_xi = -dxi[i] / xi[i]
            shrink_au = shrink_a if shrink_a > shrink_u else shrink_u
            shrink_sxi = shrink_s if shrink_s > shrink_xi else shrink_xi
            scratch[i] = shrink_au if shrink_au > shrink_sxi else shrink_sxi
        step = _STEP_FRACTION / max(1.0, np.max(scratch))
        # one array written per loop: LLVM cannot prove that the work arrays do not overlap, and
        # vectorises a loop only when its run-time overlap checks stay few
        for i in range(n):
            a[i] += step * da[i]
        for i in range(n):
            u[i] -= step * da[i]
        for i in range(n):
            s[i] += step * ds[i]
        for i in range(n):
            xi[i] += step * dxi[i]
        b += step * db
    return MAX_ITER


@_kernel
def _select(values: np.ndarray, n: int, k: int) -> float:
    """The k-th smallest (from 0) of values[:n], moved to values[k], with no larger value before
    it and no smaller one after it (quickselect; in place; the same value as np.sort(...)[k])."""
    low = 0
    high = n - 1
    while low < high:
        middle = values[(low + high) // 2]
        first = values[low]
        last = values[high]
        # median of three as the pivot
        pivot = max(min(first, middle), min(max(first, middle), last))
        i = low
        j = high
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                value = values[i]
                values[i] = values[j]
                values[j] = value
                i += 1
                j -= 1
        if k <= j:
            high = j
        elif k >= i:
            low = i
        else:  # j < k < i: values[j + 1:i] all equal the pivot
            return values[k]
    return values[k]


@_kernel
def _optimal_intercept(zh: np.ndarray, n: int, d: int, theta: np.ndarray,
                       breakpoints: np.ndarray) -> float:
    """Midpoint of the interval of b minimising the hinge loss for w = theta[:d] (see
    decoding._optimal_intercept); zh[d] holds the labels."""
    # breakpoint y_i - x_i . w = y_i - y_i (zh[:d, i] . w), as zh[j, i] = y_i x_ij and y_i^2 = 1
    breakpoints[:n] = 0.0
    _expand(zh, d, n, theta, breakpoints)
    n_positive = 0
    for i in range(n):
        breakpoints[i] = zh[d, i] - zh[d, i] * breakpoints[i]
    for i in range(n):
        n_positive += 1 if zh[d, i] > 0 else 0
    below = _select(breakpoints, n, n_positive - 1)
    above = breakpoints[n_positive]  # after the selection, the rest are >= below
    for i in range(n_positive + 1, n):
        above = min(above, breakpoints[i])
    return 0.5 * (below + above)


@_kernel
def _fit_one(zh: np.ndarray, n: int, d: int, c: float, theta: np.ndarray,
             breakpoints: np.ndarray, warm_margins: np.ndarray, warm: bool,
             crossover: bool, work: np.ndarray, vectors: np.ndarray, squares: np.ndarray,
             state: np.ndarray, free: np.ndarray, single: np.ndarray) -> int:
    iterations = _interior_point(zh, n, d, c, theta, warm_margins, warm, crossover, work, vectors,
                                 squares, state, free, single)
    theta[d] = _optimal_intercept(zh, n, d, theta, breakpoints)
    return iterations


@_parallel_kernel
def fit_linear_svms(x: np.ndarray, y: np.ndarray, c: float,
                    crossover: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Solve a batch of soft-margin linear SVMs (see :func:`decoding.linear_svm`).

    Args:
        x: samples, shape (n_problems, n_samples, n_features), float64.
        y: labels in {-1, +1}, shape (n_problems, n_samples), float64; both labels in every row.
        c: soft-margin penalty.
        crossover: finish with the exact active-set solve once it passes its KKT check (see
            :func:`_crossover`); False: the plain interior-point method of the other back ends.

    Returns:
        ``(theta, iterations)``: weights and intercepts, shape (n_problems, n_features + 1), and
        the interior-point iterations of each problem, shape (n_problems,) (``MAX_ITER``: stopped
        at the limit; its last iterate is used).
    """
    n_problems, n, d = x.shape
    theta = np.empty((n_problems, d + 1))
    iterations = np.empty(n_problems, dtype=np.int64)
    for problem in nb.prange(n_problems):
        zh = np.empty((d + 1, n))
        for i in range(n):
            for j in range(d):
                zh[j, i] = y[problem, i] * x[problem, i, j]
            zh[d, i] = y[problem, i]
        breakpoints = np.empty(n)
        work, vectors, squares, state, free, single = _workspace(n, d)
        iterations[problem] = _fit_one(zh, n, d, c, theta[problem], breakpoints, breakpoints,
                                       False, crossover, work, vectors, squares, state, free,
                                       single)
    return theta, iterations


@_parallel_kernel
def pair_fold_accuracies(data: np.ndarray, pair_images: np.ndarray, groups: np.ndarray,
                         test_fold: np.ndarray, n_folds: int, c: float,
                         accelerated: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Mean held-out accuracy over folds of every (pair, time point) of a chunk.

    Args:
        data: trials, shape (n_images, n_times, n_trials, n_channels), float64, C-contiguous.
        pair_images: image indices (i, j) of each pair, shape (n_pairs, 2); image i has label -1.
        groups: trial indices averaged into each pseudo-trial, shape (n_pairs, 2, m, n_pseudo).
        test_fold: held-out fold of each pseudo-trial, shape (n_times, n_pairs, 2, m), int8.
        n_folds: number of folds.
        c: soft-margin penalty.
        accelerated: warm-start every SVM of a pair but the first from the previous one's
            solution (see _WARM_SLACK) and finish each with the exact crossover solve (see
            :func:`_crossover`); the module docstring says how results relate. False runs the
            plain interior-point method of the other back ends (their iteration counts within
            one).

    Returns:
        ``(accuracy, iterations)``: accuracies shaped (n_pairs, n_times) and the interior-point
        iterations of every SVM, shape (n_pairs * n_times, n_folds), row = pair * n_times + time.
    """
    n_pairs = pair_images.shape[0]
    n_times = data.shape[1]
    n_channels = data.shape[3]
    m = groups.shape[2]
    n_pseudo = groups.shape[3]
    accuracy = np.zeros((n_pairs, n_times))
    iterations = np.empty((n_pairs * n_times, n_folds), dtype=np.int64)
    p = n_channels + 1
    for pair in nb.prange(n_pairs):
        # the pair's samples sorted by held-out fold (stable, as the other back ends): ordered[:d]
        # holds y_i x_i, ordered[d] y_i, one column per sample; fold f is the block
        # bounds[f]:bounds[f + 1], so each training set is two contiguous copies
        ordered = np.empty((p, 2 * m))
        bounds = np.empty(n_folds + 1, dtype=np.int64)
        cursor = np.empty(n_folds, dtype=np.int64)  # next free column of each fold's block
        mean = np.empty(n_channels)
        zh = np.empty((p, 2 * m))
        theta = np.empty(p)
        breakpoints = np.empty(2 * m)
        warm_margins = np.empty(2 * m)
        decisions = np.empty(2 * m)
        work, vectors, squares, state, free, single = _workspace(2 * m, n_channels)
        for t in range(n_times):
            job = pair * n_times + t
            bounds[:] = 0
            for side in range(2):
                for k in range(m):
                    bounds[test_fold[t, pair, side, k] + 1] += 1
            for fold in range(n_folds):
                bounds[fold + 1] += bounds[fold]
            cursor[:] = bounds[:n_folds]
            for side in range(2):
                image = pair_images[pair, side]
                label = -1.0 if side == 0 else 1.0
                for k in range(m):
                    fold = test_fold[t, pair, side, k]
                    column = cursor[fold]
                    cursor[fold] += 1
                    if n_pseudo == 1:  # single trials
                        trial = groups[pair, side, k, 0]
                        for ch in range(n_channels):
                            ordered[ch, column] = label * data[image, t, trial, ch]
                    else:
                        mean[:] = 0.0
                        for g in range(n_pseudo):
                            trial = groups[pair, side, k, g]
                            for ch in range(n_channels):
                                mean[ch] += data[image, t, trial, ch]
                        for ch in range(n_channels):
                            ordered[ch, column] = label * (mean[ch] / n_pseudo)
                    ordered[n_channels, column] = label
            total = 0.0
            for fold in range(n_folds):
                first = bounds[fold]
                last = bounds[fold + 1]
                n_train = 2 * m - (last - first)
                for j in range(p):  # everything but the held-out block, in order
                    for k in range(first):
                        zh[j, k] = ordered[j, k]
                    for k in range(last, 2 * m):
                        zh[j, k - (last - first)] = ordered[j, k]
                # warm start from the previous solution: the previous fold's, or for the first fold
                # the last fold's of the previous time point (the same two images)
                warm = accelerated and (fold > 0 or t > 0)
                if warm:  # margins of this fold's training samples under that (w, b)
                    warm_margins[:n_train] = 0.0
                    _expand(zh, p, n_train, theta, warm_margins)
                iterations[job, fold] = _fit_one(zh, n_train, n_channels, c, theta, breakpoints,
                                                 warm_margins, warm, accelerated, work, vectors,
                                                 squares, state, free, single)
                # held out: decision b + x . w = b + y (y x) . w (y = +-1, so exactly x . w)
                n_test = last - first
                decisions[:n_test] = 0.0
                for ch in range(n_channels):
                    weight = theta[ch]
                    for k in range(n_test):
                        decisions[k] += ordered[ch, first + k] * weight
                correct = 0
                for k in range(n_test):
                    label = ordered[n_channels, first + k]
                    decision = theta[n_channels] + label * decisions[k]
                    if (decision > 0.0) == (label > 0.0):
                        correct += 1
                total += correct / n_test
            accuracy[pair, t] = total / n_folds
    return accuracy, iterations
