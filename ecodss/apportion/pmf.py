"""Positive Matrix Factorization (EPA PMF 5.0 formulation) with batched multi-start fitting.

``X = G F + E`` with ``G, F >= 0`` minimising ``Q = sum((x - GF) / s)**2`` over all cells
(Paatero & Tapper 1994; Norris et al. 2014, EPA PMF 5.0 Fundamentals and User Guide,
EPA/600/R-14/108, §1.1). All random starts are fitted together (:mod:`.pmf_solver`); the error
estimates (bootstrap, DISP, Fpeak) live in :mod:`.pmf_error`.

References
----------
Paatero, P. & Tapper, U. (1994). Positive matrix factorization: a non-negative factor model with
optimal utilization of error estimates of data values. Environmetrics 5, 111-126.
Paatero, P. (1997). Least squares formulation of robust non-negative factor analysis.
Chemometrics Intell. Lab. Syst. 37, 23-35.
Norris, G., Duvall, R., Brown, S., Bai, S. (2014). EPA Positive Matrix Factorization (PMF) 5.0
Fundamentals and User Guide. EPA/600/R-14/108.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ecodss.apportion.pmf_solver import ALPHA, fit_batch, normalize, random_start
from ecodss.errors import InvalidValueError, ValidationError
from ecodss.validation import (
    check_finite,
    check_nonnegative,
    check_range,
    reject_unknown_fields,
)

__all__ = ["PMFResult", "pmf", "as_matrix", "species_statistics", "run_chunks"]


def as_matrix(data, name: str, like: pd.DataFrame | None = None) -> pd.DataFrame:
    """Samples x species table from a DataFrame, 2-D DataArray or array (float64).

    A DataArray's first dim is the sample axis. Unlabelled arrays take ``like``'s labels (or
    ``S0..``/``V0..``).
    """
    if isinstance(data, pd.DataFrame):
        df = data.astype(float)
    elif hasattr(data, "dims") and hasattr(data, "to_pandas"):  # xarray.DataArray
        if data.ndim != 2:
            raise ValidationError(f"{name} must be 2-D (sample, species), got dims {data.dims}",
                                  field=name)
        df = data.to_pandas().astype(float)
    else:
        a = np.asarray(data, dtype=float)
        if a.ndim != 2:
            raise ValidationError(f"{name} must be 2-D (sample, species), got shape {a.shape}",
                                  field=name)
        idx = like.index if like is not None else [f"S{i}" for i in range(a.shape[0])]
        col = like.columns if like is not None else [f"V{j}" for j in range(a.shape[1])]
        df = pd.DataFrame(a, index=idx, columns=col)
    df.index.name = "sample"
    df.columns.name = "species"
    return df


def _validate(X: pd.DataFrame, U: pd.DataFrame, n_factors: int) -> None:
    if X.shape != U.shape:
        raise ValidationError(f"uncertainty shape {U.shape} differs from data shape {X.shape}",
                              field="U")
    if not (X.index.equals(U.index) and X.columns.equals(U.columns)):
        raise ValidationError("uncertainty labels (samples/species) differ from the data's",
                              field="U")
    for name, df in (("X", X), ("U", U)):
        check_finite(df.to_numpy(), name, kind=f"{name} cell")
    check_nonnegative(X.to_numpy(), "X", kind="X cell", units="[conc]")
    check_range(U.to_numpy(), "U", lo=0.0, lo_inclusive=False, kind="U cell", units="[conc]")
    n, m = X.shape
    if not 1 <= int(n_factors) < min(n, m):
        raise InvalidValueError(f"n_factors={n_factors} must be in [1, {min(n, m) - 1}]",
                                field="n_factors")


def run_chunks(fn, jobs: list[dict], client=None) -> list:
    """Run ``fn(**job)`` for each job in-process, or spread over a dask ``client``.

    ``client`` may be a ``distributed.Client`` (``client.submit`` / ``gather``) or the string
    ``"dask"`` (``dask.delayed`` on the current scheduler). Results keep the job order.
    """
    if client is None:
        return [fn(**job) for job in jobs]
    if client == "dask":
        import dask

        return list(dask.compute(*[dask.delayed(fn)(**job) for job in jobs]))
    return client.gather([client.submit(fn, pure=False, **job) for job in jobs])


def _chunks(n_items: int, client) -> list[slice]:
    if client is None:
        return [slice(0, n_items)]
    if client == "dask":
        import os

        parts = os.cpu_count() or 1
    else:
        parts = max(1, sum(client.nthreads().values()))
    edges = np.linspace(0, n_items, min(parts, n_items) + 1).round().astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def fit_models(X, S, G0, F0, client=None, **options):
    """:func:`fit_batch` over model chunks (one chunk in-process, or one per dask worker thread)."""
    M = G0.shape[0]
    per_model = np.ndim(X) == 3 and np.shape(X)[0] > 1
    jobs = []
    for sl in _chunks(M, client):
        job = dict(X=X[sl] if per_model else X, S=S[sl] if per_model else S, G=G0[sl], F=F0[sl])
        for key, val in options.items():
            if key in ("mix", "g_mean_one") and val is not None:
                val = val[sl]
            elif key == "fixed_f" and val is not None:
                val = tuple(v[sl] for v in val)
            job[key] = val
        jobs.append(job)
    parts = run_chunks(fit_batch, jobs, client)
    if len(parts) == 1:
        return parts[0]
    cat = {k: np.concatenate([getattr(p, k) for p in parts]) for k in
           ("G", "F", "q_true", "q_robust", "n_iter", "converged")}
    return type(parts[0])(**cat)


def species_statistics(X: pd.DataFrame, predicted: pd.DataFrame, residuals: pd.DataFrame,
                       alpha: float = ALPHA) -> pd.DataFrame:
    """Observed vs predicted statistics per species (EPA PMF 5.0 §6.2, "Obs/Pred" tables).

    ``slope``/``intercept`` of the ordinary least-squares line predicted = a + b * observed,
    ``r2`` its coefficient of determination, ``rmse`` [conc], mean observed/predicted, Q(true) of
    the species and the number of cells with |scaled residual| > ``alpha``.
    """
    x = X.to_numpy()
    y = predicted.to_numpy()
    xm, ym = x.mean(0), y.mean(0)
    dx, dy = x - xm, y - ym
    sxx, syy, sxy = (dx * dx).sum(0), (dy * dy).sum(0), (dx * dy).sum(0)
    slope = np.divide(sxy, sxx, out=np.full_like(sxy, np.nan), where=sxx > 0)
    den = sxx * syy
    r2 = np.divide(sxy * sxy, den, out=np.full_like(sxy, np.nan), where=den > 0)
    e = residuals.to_numpy()
    return pd.DataFrame({
        "slope": slope, "intercept": ym - slope * xm, "r2": r2,
        "rmse": np.sqrt(((y - x) ** 2).mean(0)), "observed_mean": xm, "predicted_mean": ym,
        "q_true": (e * e).sum(0), "n_outliers": (np.abs(e) > alpha).sum(0),
    }, index=X.columns)


@dataclass
class PMFResult:
    """Base-run result of :func:`pmf` (EPA PMF 5.0 §6 "Base Model Runs").

    ``G`` (sample x factor) is normalised to mean 1 per factor and ``F`` (factor x species) is in
    the data's concentration units, as EPA PMF reports them; ``G @ F`` is the fit.
    """

    X: pd.DataFrame  #: data [conc]
    U: pd.DataFrame  #: uncertainties [conc]
    G: pd.DataFrame  #: contributions, mean 1 per factor [-]
    F: pd.DataFrame  #: profiles [conc]
    q_true: float  #: Q(true) of the best model
    q_robust: float  #: Q(robust) of the best model
    q_expected: float  #: Qexp = n m - p (n + m)
    robust: bool  #: whether fitting down-weighted outliers
    models: pd.DataFrame  #: every model's Q(true), Q(robust), iterations, convergence
    best_model: int  #: index of the chosen model (lowest fitted objective)
    options: dict = field(default_factory=dict)  #: fitting options (reused by error estimates)
    total: str | None = None  #: name of the total variable, if given
    alpha: float = ALPHA

    @property
    def n_factors(self) -> int:
        return self.F.shape[0]

    @property
    def q_ratio(self) -> float:
        """Q(true) / Qexp (EPA PMF 5.0 §6.1)."""
        return self.q_true / self.q_expected

    @property
    def q_ratio_robust(self) -> float:
        """Q(robust) / Qexp."""
        return self.q_robust / self.q_expected

    @property
    def predicted(self) -> pd.DataFrame:
        """Modelled concentrations ``G F`` [conc]."""
        return pd.DataFrame(self.G.to_numpy() @ self.F.to_numpy(), index=self.X.index,
                            columns=self.X.columns)

    @property
    def residuals(self) -> pd.DataFrame:
        """Scaled residuals ``(x - GF) / s`` [-] (EPA PMF 5.0 §6.2)."""
        return (self.X - self.predicted) / self.U

    @property
    def species_stats(self) -> pd.DataFrame:
        """Per-species observed vs predicted statistics, see :func:`species_statistics`."""
        return species_statistics(self.X, self.predicted, self.residuals, self.alpha)

    @property
    def mass_coefficients(self) -> pd.Series | None:
        """Non-negative regression coefficients of the total variable on G [conc of total].

        ``total_i ~ sum_k beta_k g_ik`` (multiple linear regression of the total on the factor
        contributions; Norris et al. 2014, §6.3 and Eq. 6-2; non-negative least squares).
        """
        if self.total is None:
            return None
        from scipy.optimize import nnls

        beta, _ = nnls(self.G.to_numpy(), self.X[self.total].to_numpy())
        return pd.Series(beta, index=self.G.columns, name=f"{self.total} per unit G")

    @property
    def contributions(self) -> pd.DataFrame | None:
        """Factor contributions in mass units of the total variable (``G * beta``) or None."""
        beta = self.mass_coefficients
        return None if beta is None else self.G * beta

    def to_dataset(self):
        """The solution as an ``xr.Dataset`` with dims (sample, species, factor)."""
        import xarray as xr

        return xr.Dataset({
            "G": (("sample", "factor"), self.G.to_numpy(),
                  {"long_name": "factor contribution, normalised to mean 1", "units": "1"}),
            "F": (("factor", "species"), self.F.to_numpy(),
                  {"long_name": "factor profile", "units": "conc"}),
            "scaled_residual": (("sample", "species"), self.residuals.to_numpy(),
                                {"long_name": "(x - GF) / uncertainty", "units": "1"}),
        }, coords={"sample": self.X.index.to_numpy(), "species": self.X.columns.to_numpy(),
                   "factor": self.F.index.to_numpy()},
            attrs={"q_true": self.q_true, "q_robust": self.q_robust,
                   "q_expected": self.q_expected, "robust": int(self.robust),
                   "source": "ecodss.apportion.pmf (EPA PMF 5.0 formulation)"})

    def bootstrap(self, **kwargs):
        """Block bootstrap of this solution, see :func:`ecodss.apportion.pmf_error.bootstrap`."""
        from ecodss.apportion.pmf_error import bootstrap

        return bootstrap(self, **kwargs)

    def disp(self, **kwargs):
        """Displacement (DISP) intervals, see :func:`ecodss.apportion.pmf_error.disp`."""
        from ecodss.apportion.pmf_error import disp

        return disp(self, **kwargs)

    def fpeak(self, strength: float, **kwargs):
        """Fpeak-rotated solution, see :func:`ecodss.apportion.pmf_error.fpeak`."""
        from ecodss.apportion.pmf_error import fpeak

        return fpeak(self, strength, **kwargs)

    def plot_profiles(self, ax=None, percent: bool = False):
        """Bar charts of the factor profiles, one panel per factor (log concentration axis)."""
        import matplotlib.pyplot as plt

        k = self.n_factors
        if ax is None:
            _, ax = plt.subplots(k, 1, figsize=(max(6, 0.25 * self.F.shape[1]), 1.8 * k),
                                 sharex=True, squeeze=False)
            ax = ax[:, 0]
        F = self.F.div(self.F.sum(0).replace(0, np.nan), axis=1) * 100 if percent else self.F
        for a, (name, row) in zip(ax, F.iterrows(), strict=True):
            a.bar(range(len(row)), row.to_numpy())
            a.set_ylabel(f"{name}\n{'% of species' if percent else 'conc'}")
            if not percent:
                a.set_yscale("log")
        ax[-1].set_xticks(range(F.shape[1]), F.columns, rotation=90)
        return ax

    def plot_contributions(self, ax=None):
        """Time series of factor contributions (mass units when ``total`` was given)."""
        import matplotlib.pyplot as plt

        data = self.contributions if self.total is not None else self.G
        if ax is None:
            _, ax = plt.subplots(figsize=(10, 4))
        index = data.index
        if not (isinstance(index, pd.DatetimeIndex) or pd.api.types.is_numeric_dtype(index)):
            index = np.arange(len(index))  # unparsed labels: plot against sample number
        for name in data.columns:
            ax.plot(index, data[name].to_numpy(), label=str(name), lw=0.8)
        ax.set_ylabel(f"contribution to {self.total}" if self.total else "normalised contribution")
        ax.legend(ncol=min(4, data.shape[1]), fontsize="small")
        return ax


def pmf(X, U, n_factors: int, *, n_models: int = 20, robust: bool = True, seed=None,
        max_iter: int = 2000, converge_delta: float = 0.1, converge_n: int = 20,
        alpha: float = ALPHA, total: str | None = None, n_sweeps: int = 2,
        client=None) -> PMFResult:
    """Positive Matrix Factorization, EPA PMF 5.0 formulation, many random starts at once.

    Parameters
    ----------
    X, U : DataFrame, 2-D DataArray or ndarray (sample, species)
        Concentrations and their uncertainties [same conc units]; finite, ``X >= 0``, ``U > 0``.
        Prepare missing values, below-MDL values and weak/bad species with
        :mod:`ecodss.apportion.uncertainty`.
    n_factors : int
        Number of factors ``p``.
    n_models : int
        Random starts, fitted together as one batched computation.
    robust : bool
        Down-weight cells with |scaled residual| > ``alpha`` while fitting (IRLS, see
        :mod:`.pmf_solver`) and pick the model with the lowest Q(robust); otherwise fit and pick
        by Q(true).
    seed : int or None
        Seed of the random starts (results are reproducible for a fixed seed).
    max_iter, converge_delta, converge_n : int, float, int
        Per-model stopping rule: the fitted objective fell by less than ``converge_delta`` over
        the last ``converge_n`` iterations.
    total : str, optional
        Name of the total variable (e.g. PM2.5 mass) to express contributions in mass units.
    n_sweeps : int
        Coordinate-descent sweeps per half step.
    client : distributed.Client, "dask" or None
        Spread the models over a dask cluster in chunks (None: one batch in this process).

    Returns
    -------
    PMFResult

    Notes
    -----
    Qexp = n m - p (n + m) (Norris et al. 2014, §6.1, Eq. 6-1) counts the cells minus the
    fitted parameters.
    """
    X = as_matrix(X, "X")
    U = as_matrix(U, "U", like=X)
    _validate(X, U, n_factors)
    if total is not None:
        reject_unknown_fields([total], list(X.columns), "pmf(total=...)")
    k = int(n_factors)
    x, u = X.to_numpy(), U.to_numpy()
    rng = np.random.default_rng(seed)
    G0, F0 = random_start(x, k, int(n_models), rng)
    options = dict(robust=bool(robust), alpha=float(alpha), max_iter=int(max_iter),
                   converge_delta=float(converge_delta), converge_n=int(converge_n),
                   n_sweeps=int(n_sweeps))
    fit = fit_models(x[None], u[None], G0, F0, client=client, **options)
    objective = fit.q_robust if robust else fit.q_true
    best = int(np.nanargmin(objective))
    G, F = normalize(fit.G[best], fit.F[best])
    factors = pd.Index([f"Factor {i + 1}" for i in range(k)], name="factor")
    n, m = x.shape
    models = pd.DataFrame({"q_true": fit.q_true, "q_robust": fit.q_robust,
                           "n_iter": fit.n_iter, "converged": fit.converged},
                          index=pd.RangeIndex(len(objective), name="model"))
    return PMFResult(
        X=X, U=U, G=pd.DataFrame(G, index=X.index, columns=factors),
        F=pd.DataFrame(F, index=factors, columns=X.columns), q_true=float(fit.q_true[best]),
        q_robust=float(fit.q_robust[best]), q_expected=float(n * m - k * (n + m)),
        robust=bool(robust), models=models, best_model=best, options=options, total=total,
        alpha=float(alpha))
