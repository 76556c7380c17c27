"""Batched weighted non-negative matrix factorisation: the numerical engine behind :func:`pmf`.

All random starts (or bootstrap replicates, or DISP problems) are solved together: every array
carries a leading *model* axis ``M`` and each step is one batched matrix product over it. Only the
iteration loop and the loop over the ``k`` factor columns of a coordinate sweep are Python loops.

Algorithm (block coordinate descent on the weighted least-squares objective)
----------------------------------------------------------------------------
PMF minimises ``Q = sum_ij ((x_ij - sum_k g_ik f_kj) / s_ij)**2`` with ``G, F >= 0``
(Paatero & Tapper 1994, Eq. 2-3; Norris et al. 2014, EPA PMF 5.0 User Guide, §1.1 Eqs. 1-1, 1-2).
For fixed ``F`` the problem separates into one small non-negative least-squares problem per
sample row ``i``: minimise ``g^T A_i g - 2 b_i^T g`` with ``A_i = F diag(w_i) F^T`` (k x k) and
``b_i = F (w_i * x_i)``, ``w = 1/s**2``; for fixed ``G`` likewise per species column. The Gram
matrices of all rows and models are formed by one batched product ``W @ (F_p F_q)`` and each row
problem is improved by a few exact coordinate-descent sweeps
(``g_p <- max(0, g_p + (b_p - A_p . g) / A_pp)``; hierarchical ALS, Cichocki & Phan 2009, §3).
Every update is an exact minimisation over one coordinate, so Q never increases. Compared with the
multiplicative LS-NMF updates used by EPA's ESAT (Wang et al. 2006, Eqs. 6-7; Lee & Seung 2001)
this takes about ten times fewer iterations to the same Q.

Robust mode (EPA PMF 5.0 §1.1.1 / Eq. 1-3; Paatero 1997, §3.3): residuals scaled by the
uncertainty, ``e = (x - GF)/s``, with ``|e| > alpha`` (alpha = 4) count as ``alpha |e|`` instead of
``e**2`` in Q(robust). Fitting is iteratively reweighted least squares (IRLS): at the start of every
iteration the uncertainty of each outlying cell is replaced by ``s * sqrt(|e| / alpha)``, i.e. the
weight becomes ``min(1, alpha/|e|) / s**2``. This is the Huber (1964) M-estimator's weight
function, so the IRLS fixed point minimises Huber's loss; the reported Q(robust) is EPA's
definition above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA = 4.0  #: EPA PMF outlier threshold on |scaled residual| (Norris et al. 2014, §1.1.1)


@dataclass
class FitState:
    """Result of :func:`fit_batch`: arrays with leading model axis ``M``.

    With a mixing matrix ``T`` the fitted product is ``G @ T @ F``.
    """

    G: np.ndarray  #: (M, n, k) contributions
    F: np.ndarray  #: (M, k, m) profiles
    q_true: np.ndarray  #: (M,)
    q_robust: np.ndarray  #: (M,)
    n_iter: np.ndarray  #: (M,) iterations used
    converged: np.ndarray  #: (M,) bool


def q_values(X, S, G, F, alpha=ALPHA):
    """Q(true) and Q(robust) of factorisations ``G @ F`` (batched over the leading axis).

    Q(true) = sum(e**2); Q(robust) = sum(e**2 if |e| <= alpha else alpha*|e|) with
    ``e = (X - G F) / S`` (Norris et al. 2014, §1.1 Eq. 1-2 and §1.1.1 Eq. 1-3).
    """
    e = (X - G @ F) / S
    a = np.abs(e)
    sq = e * e
    return sq.sum(axis=(-2, -1)), np.where(a > alpha, alpha * a, sq).sum(axis=(-2, -1))


def _gram(W, D):
    """Gram matrices ``A[m, r] = D_m diag(W[m, r]) D_m^T`` (M, r, k, k) for D (M, k, c).

    With one weight matrix shared by all models this is a single 2-D GEMM over all models.
    """
    M, k, c = D.shape
    pairs = (D[:, :, None, :] * D[:, None, :, :]).reshape(M * k * k, c)
    if W.shape[0] == 1:
        return (W[0] @ pairs.T).reshape(-1, M, k, k).transpose(1, 0, 2, 3)
    return (W @ pairs.reshape(M, k * k, c).transpose(0, 2, 1)).reshape(M, -1, k, k)


def _rhs(WX, D):
    """``b[m, r] = D_m (WX[m, r])`` (M, r, k)."""
    M, k, c = D.shape
    if WX.shape[0] == 1:
        return (WX[0] @ D.reshape(M * k, c).T).reshape(-1, M, k).transpose(1, 0, 2)
    return WX @ D.transpose(0, 2, 1)


def _cd_sweeps(A, b, x, n_sweeps, fixed=None, column_mean=None):
    """Exact coordinate-descent sweeps on ``min x^T A x - 2 b^T x, x >= 0`` for every row.

    A: (M, r, k, k), b and x: (M, r, k); ``x`` is updated in place. ``fixed`` = (models, rows,
    factors, values) pins single elements; ``column_mean`` = (models, factor) constrains the mean
    of that factor's column over the rows to 1 (solved exactly by a 1-D monotone root search).
    """
    k = x.shape[-1]
    diag = np.einsum("mrkk->mrk", A)
    inv = np.divide(1.0, diag, out=np.zeros_like(diag), where=diag > 0)
    for _ in range(n_sweeps):
        for p in range(k):
            grad = b[..., p] - np.einsum("mrq,mrq->mr", A[..., p, :], x)
            t = x[..., p] + grad * inv[..., p]
            x[..., p] = np.maximum(t, 0.0)
            if column_mean is not None:
                sel = np.flatnonzero(column_mean[1] == p)
                if sel.size:
                    mods = column_mean[0][sel]
                    x[mods, :, p] = _project_mean_one(t[mods], diag[mods, :, p])
            if fixed is not None:
                x[fixed[0], fixed[1], fixed[2]] = fixed[3]
    return x


def _project_mean_one(t, a):
    """Minimise sum_i a_i (y_i - t_i)**2 s.t. y >= 0, mean(y) = 1, for every row of ``t``.

    KKT: ``y_i = max(0, t_i - mu / a_i)``. With breakpoints ``a_i t_i`` sorted descending and the
    first ``r`` of them active, ``mu_r = (sum t - n) / sum(1/a)``; the solution is the ``r`` whose
    ``mu_r`` lies between the r-th and (r+1)-th breakpoints (exact, one sort per row).
    """
    n = t.shape[-1]
    a = np.maximum(a, 1e-300)
    bp = a * t
    order = np.argsort(-bp, axis=-1)
    bs = np.take_along_axis(bp, order, -1)
    mu = ((np.cumsum(np.take_along_axis(t, order, -1), -1) - n)
          / np.cumsum(np.take_along_axis(1.0 / a, order, -1), -1))
    nxt = np.concatenate([bs[:, 1:], np.full((bs.shape[0], 1), -np.inf)], axis=-1)
    ok = (mu < bs) & (mu >= nxt)
    r = np.where(ok.any(-1), ok.argmax(-1), n - 1)
    mu_star = np.take_along_axis(mu, r[:, None], -1)
    return np.maximum(t - mu_star / a, 0.0)


def fit_batch(X, S, G, F, **options) -> FitState:
    """:func:`_fit_batch` with BLAS limited to one thread.

    The matrices are small: multi-threaded BLAS only adds overhead, and on a loaded machine
    thread oversubscription made it 10x slower (measured). Parallelism comes from dask chunks.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_batch(X, S, G, F, **options)


def _fit_batch(X, S, G, F, *, robust=False, alpha=ALPHA, max_iter=2000, converge_delta=0.1,
              converge_n=20, n_sweeps=2, mix=None, fixed_f=None, g_mean_one=None,
              robust_every=1) -> FitState:
    """Fit all models of a batch from starting values ``G`` (M, n, k) and ``F`` (M, k, m).

    Parameters
    ----------
    X, S : ndarray (1 or M, n, m)
        Data and uncertainties [concentration units]; a leading 1 broadcasts over models.
    robust : bool
        Iteratively reweight cells with |e| > ``alpha`` (module docstring); the convergence test
        and the returned objective are then on Q(robust).
    max_iter, converge_delta, converge_n : int, float, int
        A model stops when its objective fell by less than ``converge_delta`` over the last
        ``converge_n`` iterations (the ESAT/PMF criterion), or after ``max_iter`` iterations.
        Converged models are dropped from the working batch.
    n_sweeps : int
        Coordinate-descent sweeps per half step.
    mix : ndarray (M, k, k) or None
        Fpeak-style mixing ``T``: the fitted product is ``G T F`` (see :func:`pmf_error.fpeak`).
        The returned ``G`` and ``F`` exclude ``T``; callers fold it into either side.
    fixed_f : tuple (factor (M,), species (M,), value (M,)) or None
        DISP: one profile element per model held at ``value``.
    g_mean_one : ndarray (M,) of factor index or None
        DISP: that factor's contributions are constrained to mean 1 (EPA's normalisation).
    robust_every : int
        Recompute the robust weights every this many iterations.
    """
    X = np.asarray(X, float)
    S = np.asarray(S, float)
    G = np.array(G, float, copy=True)
    F = np.array(F, float, copy=True)
    M, n, k = G.shape
    per_model = X.shape[0] > 1  # data differ per model (bootstrap)
    Xa, Sa = X, S
    W0 = 1.0 / (S * S)
    W = W0
    out_q = np.full((2, M), np.nan)
    out_it = np.zeros(M, int)
    out_conv = np.zeros(M, bool)
    outG, outF = np.empty_like(G), np.empty_like(F)
    act = np.arange(M)
    hist = np.full((converge_n + 1, M), np.inf)
    T = None if mix is None else np.asarray(mix, float)
    fx = None if fixed_f is None else tuple(np.asarray(a) for a in fixed_f)
    gm = None if g_mean_one is None else np.asarray(g_mean_one)
    if fx is not None:
        F[np.arange(M), fx[0], fx[1]] = fx[2]
    for it in range(1, max_iter + 1):
        na = len(act)
        WX = W * Xa
        Fd = F if T is None else T @ F
        # G step: one k x k Gram matrix per (model, sample), all from one batched product
        A = _gram(W, Fd)
        b = _rhs(WX, Fd)
        cm = None if gm is None else (np.arange(na), gm)
        _cd_sweeps(A, b, G, n_sweeps, column_mean=cm)
        # F step: one Gram matrix per (model, species)
        Gd = G if T is None else G @ T
        Gt = Gd.transpose(0, 2, 1)
        A = _gram(W.transpose(0, 2, 1), Gt)
        b = _rhs(WX.transpose(0, 2, 1), Gt)
        Ft = F.transpose(0, 2, 1).copy()
        fixed = None if fx is None else (np.arange(na), fx[1], fx[0], fx[2])
        _cd_sweeps(A, b, Ft, n_sweeps, fixed=fixed)
        F = Ft.transpose(0, 2, 1)
        # objectives; robust weights for the next iteration (IRLS)
        e = (Xa - Gd @ F) / Sa
        ae = np.abs(e)
        sq = e * e
        qt = sq.sum(axis=(1, 2))
        qr = np.where(ae > alpha, alpha * ae, sq).sum(axis=(1, 2))
        if robust and it % robust_every == 0:
            W = W0 * np.minimum(1.0, alpha / np.maximum(ae, 1e-300))
        q = qr if robust else qt
        hist[it % (converge_n + 1), act] = q
        old = hist[(it - converge_n) % (converge_n + 1), act]
        conv = (old - q < converge_delta) if it >= converge_n else np.zeros(na, bool)
        done = conv | (it == max_iter)
        if not done.any():
            continue
        ids = act[done]
        outG[ids], outF[ids] = G[done], F[done]
        out_q[0, ids], out_q[1, ids] = qt[done], qr[done]
        out_it[ids], out_conv[ids] = it, conv[done]
        keep = ~done
        act = act[keep]
        if act.size == 0:
            break
        G, F = G[keep], F[keep]
        if W.shape[0] > 1:
            W = W[keep]
        if per_model:
            Xa, Sa, W0 = Xa[keep], Sa[keep], W0[keep]
        if T is not None:
            T = T[keep]
        if fx is not None:
            fx = tuple(a[keep] for a in fx)
        if gm is not None:
            gm = gm[keep]
    return FitState(outG, outF, out_q[0], out_q[1], out_it, out_conv)


def random_start(X, n_factors, n_models, rng):
    """Random non-negative starting values scaled to the data (ESAT-like "column means").

    ``F[p, j] ~ U(0, 1) * mean_i x_ij`` and ``G[i, p] ~ U(0, 2/k)`` so that ``GF`` starts at the
    scale of the data.
    """
    n, m = X.shape
    col = np.maximum(X.mean(axis=0), 1e-12)
    F = rng.uniform(0.0, 1.0, (n_models, n_factors, m)) * col
    G = rng.uniform(0.0, 2.0 / n_factors, (n_models, n, n_factors))
    return G, F


def normalize(G, F):
    """Scale each factor so its contributions average 1 (EPA PMF convention); GF is unchanged."""
    s = G.mean(axis=-2, keepdims=True)
    s = np.where(s > 0, s, 1.0)
    return G / s, F * np.swapaxes(s, -1, -2)
