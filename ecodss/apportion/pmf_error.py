"""PMF error estimation: block bootstrap, displacement (DISP) with re-fitting, Fpeak rotation.

All replicates / displaced problems of one step are solved together as one batch by
:func:`ecodss.apportion.pmf_solver.fit_batch`; pass ``client=`` to spread them over dask.

References
----------
Norris et al. (2014), EPA PMF 5.0 Fundamentals and User Guide, EPA/600/R-14/108: §2.2 and §4.1
(error estimation overview), §4.1.1 bootstrap (BS), §4.1.2 displacement (DISP), §7.2 Fpeak.
Paatero, P., Eberly, S., Brown, S.G., Norris, G.A. (2014). Methods for estimating uncertainty in
factor analytic solutions. Atmos. Meas. Tech. 7, 781-797 (BS §3, DISP §4).
Paatero, P., Hopke, P.K., Song, X.-H., Ramadan, Z. (2002). Understanding and controlling
rotations in factor analytic models. Chemometr. Intell. Lab. Syst. 60, 253-264 (Fpeak §4).
Künsch, H.R. (1989). The jackknife and the bootstrap for general stationary observations.
Ann. Stat. 17, 1217-1241 (moving-block bootstrap).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ecodss.apportion.pmf import PMFResult, fit_models
from ecodss.apportion.pmf_solver import normalize
from ecodss.errors import InvalidValueError

__all__ = ["BootstrapResult", "DispResult", "bootstrap", "disp", "fpeak"]

DQ_MAX_LEVELS = (4.0, 8.0, 15.0, 25.0)  #: EPA DISP dQmax levels (Norris et al. 2014, §4.1.2)


def _fitted_q(result: PMFResult, q_true, q_robust):
    return q_robust if result.robust else q_true


# ----------------------------------------------------------------------------------- bootstrap
@dataclass
class BootstrapResult:
    """Bootstrap replicates of a base solution (EPA PMF 5.0 §4.1.1)."""

    F: np.ndarray  #: (n_boot, k, m) profiles of the replicate factor mapped to each base factor, NaN if none [conc]
    mapping: pd.DataFrame  #: counts: boot factor (row) mapped to base factor (column) or "unmapped"
    correlation: np.ndarray  #: (n_boot, k) correlation of the mapped replicate G with the base G
    q_true: np.ndarray  #: (n_boot,)
    q_robust: np.ndarray  #: (n_boot,)
    block_size: int
    factors: pd.Index
    species: pd.Index

    def percentile(self, q: float) -> pd.DataFrame:
        """Per-element percentile of the mapped replicate profiles [conc]."""
        return pd.DataFrame(np.nanpercentile(self.F, q, axis=0), self.factors, self.species)

    def interval(self, lower: float = 5.0, upper: float = 95.0):
        """(lower, upper) percentile profiles, EPA's default 5th-95th percentile range."""
        return self.percentile(lower), self.percentile(upper)


def block_indices(n: int, n_boot: int, block_size: int, rng) -> np.ndarray:
    """Moving-block bootstrap sample indices (Künsch 1989): (n_boot, n)."""
    n_blocks = -(-n // block_size)
    starts = rng.integers(0, n - block_size + 1, (n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(block_size)).reshape(n_boot, -1)
    return idx[:, :n]


def _corr_columns(a, b):
    """Correlation of every column of a (B, n, k) with every column of b (B, n, k): (B, k, k)."""
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    num = a.transpose(0, 2, 1) @ b
    den = np.sqrt((a * a).sum(1))[:, :, None] * np.sqrt((b * b).sum(1))[:, None, :]
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def bootstrap(result: PMFResult, n_boot: int = 100, *, block_size: int | None = None,
              threshold: float = 0.6, seed=None, client=None, **fit_options) -> BootstrapResult:
    """Block bootstrap with re-fitting from the base solution and factor mapping by G correlation.

    Each replicate resamples whole blocks of consecutive samples (keeping serial correlation),
    starts from the base profiles and the base contributions of the drawn samples, and is
    re-fitted with the base run's options. Replicate factor ``p`` is mapped to the base factor
    whose contributions (at the drawn samples) it correlates with best, if ``r >= threshold``
    (EPA default 0.6, §4.1.1); otherwise it is "unmapped".

    Parameters
    ----------
    block_size : int, optional
        Samples per block; default ``round(n ** (1/3))`` (the rate-optimal order for block
        bootstrap variance estimates, Hall, Horowitz & Jing 1995, Biometrika 82, 561-574).
    """
    X, U = result.X.to_numpy(), result.U.to_numpy()
    n, m = X.shape
    k = result.n_factors
    if n_boot < 1:
        raise InvalidValueError(f"n_boot={n_boot} must be >= 1", field="n_boot")
    L = int(block_size) if block_size else max(1, round(n ** (1 / 3)))
    if not 1 <= L <= n:
        raise InvalidValueError(f"block_size={L} must be in [1, {n}]", field="block_size")
    rng = np.random.default_rng(seed)
    idx = block_indices(n, int(n_boot), L, rng)
    Gb = result.G.to_numpy()[idx]
    F0 = np.broadcast_to(result.F.to_numpy(), (n_boot, k, m)).copy()
    opts = {**result.options, **fit_options}
    fit = fit_models(X[idx], U[idx], Gb.copy(), F0, client=client, **opts)
    G, F = normalize(fit.G, fit.F)
    r = _corr_columns(G, Gb)  # (B, boot factor, base factor)
    best = r.argmax(axis=2)
    rbest = np.take_along_axis(r, best[:, :, None], 2)[:, :, 0]
    mapped = rbest >= threshold
    factors = result.F.index
    cols = [*factors, "unmapped"]
    target = np.where(mapped, best, k)
    counts = np.zeros((k, k + 1), int)
    np.add.at(counts, (np.broadcast_to(np.arange(k), target.shape), target), 1)
    mapping = pd.DataFrame(counts, index=pd.Index(factors, name="boot factor"),
                           columns=pd.Index(cols, name="base factor"))
    # profile of the best-correlated mapped replicate factor for every base factor
    score = np.where(mapped[:, :, None] & (best[:, :, None] == np.arange(k)), r, -np.inf)
    src = score.argmax(axis=1)  # (B, base factor)
    ok = np.isfinite(np.take_along_axis(score, src[:, None, :], 1)[:, 0, :])
    Fm = np.take_along_axis(F, src[:, :, None], 1)
    Fm = np.where(ok[:, :, None], Fm, np.nan)
    corr = np.where(ok, np.take_along_axis(r, src[:, None, :], 1)[:, 0, :], np.nan)
    return BootstrapResult(F=Fm, mapping=mapping, correlation=corr, q_true=fit.q_true,
                           q_robust=fit.q_robust, block_size=L, factors=factors,
                           species=result.F.columns)


# ---------------------------------------------------------------------------------------- DISP
@dataclass
class DispResult:
    """Displacement intervals of the profiles for one dQmax (EPA PMF 5.0 §4.1.2)."""

    lower: pd.DataFrame  #: lowest profile value with Q - Q_base <= dQmax [conc]
    upper: pd.DataFrame  #: highest such value [conc]
    dq_lower: pd.DataFrame  #: achieved Q - Q_base at the lower bound (0 where bound is 0 and dQ < dQmax)
    dq_upper: pd.DataFrame  #: achieved Q - Q_base at the upper bound
    dq_max: float
    q_base: float  #: objective of the (polished) base solution
    max_decrease: float  #: largest drop of Q below the base seen (EPA flags drops > 0.1 %)
    n_refits: int  #: batched re-fit rounds used


def disp(result: PMFResult, dq_max: float = 4.0, *, rtol: float = 0.01, max_rounds: int = 40,
         converge_delta: float | None = None, max_iter: int = 3000, client=None) -> DispResult:
    """DISP: displace each profile element up and down until Q rises by ``dq_max``, re-fitting.

    For every element ``f_pj`` and direction, the element is held at a trial value ``c`` while
    all other elements of G and F are re-fitted with factor p's contributions constrained to mean 1
    (the normalisation under which EPA reports F; without it a rescaling would absorb any
    displacement). ``c`` is searched by safeguarded bracketing (false position on sqrt(dQ),
    falling back to bisection) until ``|dQ - dq_max| <= rtol * dq_max``; where even ``c = 0``
    costs less than ``dq_max`` the lower bound is 0. All elements and both directions are solved
    as one batch per round (Norris et al. 2014, §4.1.2; Paatero et al. 2014, §4).
    """
    if dq_max <= 0:
        raise InvalidValueError(f"dq_max={dq_max} must be > 0", field="dq_max")
    X, U = result.X.to_numpy()[None], result.U.to_numpy()[None]
    k, m = result.F.shape
    opts = {**result.options, "max_iter": int(max_iter), "converge_n": 20,
            "converge_delta": converge_delta if converge_delta is not None else 1e-3 * dq_max * rtol}
    # polish the base with the same tolerance so that dQ is measured consistently
    base = fit_models(X, U, result.G.to_numpy()[None], result.F.to_numpy()[None], **opts)
    G0, F0 = normalize(base.G[0], base.F[0])
    q0 = float(_fitted_q(result, base.q_true, base.q_robust)[0])
    pp, jj = np.meshgrid(np.arange(k), np.arange(m), indexing="ij")
    fac = np.concatenate([pp.ravel(), pp.ravel()])
    spc = np.concatenate([jj.ravel(), jj.ravel()])
    up = np.repeat([True, False], k * m)
    P = fac.size
    f0 = F0[fac, spc]
    scale = np.maximum(f0, 1e-3 * F0[fac].max(axis=1) + 1e-12)
    lo_c = f0.copy()  # value with dQ below target (inside)
    lo_dq = np.zeros(P)
    hi_c = np.where(up, f0 + scale, 0.0)  # first trial outside
    hi_dq = np.full(P, np.nan)
    Gs = np.broadcast_to(G0, (P, *G0.shape)).copy()
    Fs = np.broadcast_to(F0, (P, *F0.shape)).copy()
    best_c, best_dq = lo_c.copy(), lo_dq.copy()
    done = np.zeros(P, bool)
    bracketed = np.zeros(P, bool)
    trial = hi_c.copy()
    max_drop = 0.0
    rounds = 0
    target = float(dq_max)
    for rounds in range(1, max_rounds + 1):  # noqa: B007 - rounds reported
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        fit = fit_models(X, U, Gs[act], Fs[act], client=client,
                         fixed_f=(fac[act], spc[act], trial[act]), g_mean_one=fac[act], **opts)
        dq = _fitted_q(result, fit.q_true, fit.q_robust) - q0
        max_drop = max(max_drop, float(-dq.min()))
        Gs[act], Fs[act] = fit.G, fit.F
        c = trial[act]
        hit = np.abs(dq - target) <= rtol * target
        outside = dq > target
        # lower direction: c = 0 still inside -> the bound is 0
        zero_inside = (~up[act]) & (c == 0.0) & ~outside
        finish = hit | zero_inside
        best_c[act[finish]] = c[finish]
        best_dq[act[finish]] = dq[finish]
        done[act[finish]] = True
        # update brackets
        o = act[outside & ~finish]
        hi_c[o], hi_dq[o] = c[outside & ~finish], dq[outside & ~finish]
        bracketed[o] = True
        i = act[~outside & ~finish]
        lo_c[i], lo_dq[i] = c[~outside & ~finish], dq[~outside & ~finish]
        # next trial: expand upward until bracketed, then safeguarded false position
        nxt = np.flatnonzero(~done)
        expand = nxt[~bracketed[nxt]]
        trial[expand] = lo_c[expand] + 2.0 * (lo_c[expand] - f0[expand] + scale[expand])
        br = nxt[bracketed[nxt]]
        s_lo = np.sqrt(np.maximum(lo_dq[br], 0.0))
        s_hi = np.sqrt(np.maximum(hi_dq[br], 0.0))
        frac = (np.sqrt(target) - s_lo) / np.maximum(s_hi - s_lo, 1e-12)
        frac = np.clip(frac, 0.1, 0.9) if rounds % 3 else np.full_like(frac, 0.5)
        trial[br] = lo_c[br] + frac * (hi_c[br] - lo_c[br])
    # unfinished: report the inside bracket end (conservative)
    left = ~done
    best_c[left], best_dq[left] = lo_c[left], lo_dq[left]
    shape = (k, m)
    idx, cols = result.F.index, result.F.columns

    def table(a, sel):
        return pd.DataFrame(a[sel].reshape(shape), idx, cols)

    return DispResult(lower=table(best_c, ~up), upper=table(best_c, up),
                      dq_lower=table(best_dq, ~up), dq_upper=table(best_dq, up),
                      dq_max=target, q_base=q0, max_decrease=max_drop, n_refits=rounds)


# --------------------------------------------------------------------------------------- Fpeak
def fpeak(result: PMFResult, strength: float, *, max_iter: int = 3000,
          converge_delta: float = 0.01, client=None) -> PMFResult:
    """Fpeak-controlled rotation of a base solution (Paatero et al. 2002, §4; EPA PMF §7.2).

    Positive ``strength`` sharpens the profiles F (more near-zero elements) and mixes the
    contributions G; negative strength does the opposite, as Fpeak does in EPA PMF. Implemented as
    a constrained rotation: with ``S = (1 - |phi|) I + |phi| J / k`` (``J`` all ones,
    ``0 <= |phi| < 1``) the model is ``X = (G' S) F`` for ``phi > 0`` and ``X = G (S F')`` for
    ``phi < 0`` with ``G', F' >= 0``; every column of ``S`` lies inside the non-negative cone, so
    the admissible set of products shrinks as ``|phi|`` grows and the minimum Q can only rise
    (it stays at the base Q while the rotation is absorbed by the non-negativity slack). The fit
    starts from the base solution; ``phi = 0`` is the base problem itself.

    This is ecodss's own rotation scheme in the spirit of Fpeak, not PMF2's pulling equations, so
    strengths are not numerically comparable with EPA PMF's.
    """
    phi = float(strength)
    if not -1.0 < phi < 1.0:
        raise InvalidValueError(f"Fpeak strength={phi} must be in (-1, 1)", field="strength")
    k = result.n_factors
    S = (1 - abs(phi)) * np.eye(k) + abs(phi) / k
    Sinv = np.linalg.inv(S)
    G0, F0 = result.G.to_numpy(), result.F.to_numpy()
    if phi >= 0:  # G = G' S  ->  start G' = G S^-1 (clipped)
        Gs, Fs = np.maximum(G0 @ Sinv, 0.0), F0
    else:  # F = S F'
        Gs, Fs = G0, np.maximum(Sinv @ F0, 0.0)
    opts = {**result.options, "max_iter": int(max_iter), "converge_delta": float(converge_delta)}
    fit = fit_models(result.X.to_numpy()[None], result.U.to_numpy()[None], Gs[None], Fs[None],
                     client=client, mix=S[None], **opts)
    G, F = (fit.G[0] @ S, fit.F[0]) if phi >= 0 else (fit.G[0], S @ fit.F[0])
    G, F = normalize(G, F)
    models = pd.DataFrame({"q_true": fit.q_true, "q_robust": fit.q_robust, "n_iter": fit.n_iter,
                           "converged": fit.converged}, index=pd.RangeIndex(1, name="model"))
    return replace(result, G=pd.DataFrame(G, result.G.index, result.G.columns),
                   F=pd.DataFrame(F, result.F.index, result.F.columns),
                   q_true=float(fit.q_true[0]), q_robust=float(fit.q_robust[0]), models=models,
                   best_model=0, options={**result.options, "fpeak": phi})
