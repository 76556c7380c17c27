"""Known-truth PMF test data: ``X = G F + noise`` plus gross outliers the uncertainties ignore."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_pmf_data(n_samples: int = 150, n_species: int = 16, n_factors: int = 4, *,
                       error_fraction: float = 0.1, outlier_fraction: float = 0.0,
                       outlier_factor: float = 8.0, background: float = 0.05, shared: bool = True,
                       g_zero_fraction: float = 0.0,
                       seed: int = 0):
    """Random non-negative factor model with stated uncertainties.

    Profiles: each species belongs to one factor (plus, if ``shared``, one random
    shared species per factor), with (Dirichlet weights times 10) on top of a
    background uniform in [0, ``background``) [conc]; ``background=0`` leaves exact zeros, which
    pin the rotation (a well-determined case).
    Contributions: log-normal with mean 1 (EPA normalisation), a ``g_zero_fraction`` of them
    zero (zeros in both G and F remove the rotational freedom, Paatero et al. 2002). Uncertainty
    ``s = sqrt((error_fraction * x_true)**2 + (0.02 * mean_j)**2)`` and Gaussian noise of that
    size; then ``outlier_fraction`` of cells are multiplied by ``outlier_factor`` (their stated
    uncertainty is left unchanged, so they are gross outliers).

    Returns
    -------
    X, U : DataFrame (sample, species) [conc]
    G_true : DataFrame (sample, factor) [-], mean 1 per factor
    F_true : DataFrame (factor, species) [conc]
    """
    rng = np.random.default_rng(seed)
    k, m, n = n_factors, n_species, n_samples
    F = rng.uniform(0.0, background, (k, m))
    perm = rng.permutation(m)
    for p in range(k):  # species perm[p::k] belong to factor p, plus one shared species
        own = np.union1d(perm[p::k], rng.choice(m, 1) if shared else perm[p::k])
        F[p, own] += 10.0 * rng.dirichlet(np.ones(own.size))
    G = rng.lognormal(0.0, 0.6, (n, k)) * (rng.random((n, k)) >= g_zero_fraction)
    G /= G.mean(axis=0)
    Xt = G @ F
    U = np.sqrt((error_fraction * Xt) ** 2 + (0.02 * Xt.mean(axis=0)) ** 2)
    X = np.maximum(Xt + rng.normal(0.0, 1.0, Xt.shape) * U, 0.0)
    if outlier_fraction > 0:
        hit = rng.random(X.shape) < outlier_fraction
        X = np.where(hit, X * outlier_factor, X)
    samples = pd.Index([f"S{i:03d}" for i in range(n)], name="sample")
    species = pd.Index([f"V{j:02d}" for j in range(m)], name="species")
    factors = pd.Index([f"True {p + 1}" for p in range(k)], name="factor")
    return (pd.DataFrame(X, samples, species), pd.DataFrame(U, samples, species),
            pd.DataFrame(G, samples, factors), pd.DataFrame(F, factors, species))


def match_factors(F_fit, F_true):
    """Pair fitted and true profiles by maximum total correlation (Hungarian assignment).

    Returns (order, r): ``F_fit[order[p]]`` matches ``F_true[p]`` with correlation ``r[p]``.
    """
    from scipy.optimize import linear_sum_assignment

    a, b = np.asarray(F_fit, float), np.asarray(F_true, float)
    k = b.shape[0]
    r = np.corrcoef(a, b)[: a.shape[0], a.shape[0]:]
    rows, cols = linear_sum_assignment(-r)
    order = np.empty(k, int)
    order[cols] = rows
    return order, r[order, np.arange(k)]
