"""Chemical mass balance (CMB) receptor model: effective-variance weighted least squares.

Each ambient sample is fitted as a linear sum of source profiles, C_i = Σ_j F_ij S_j, with the
effective-variance weights of Watson, Cooper & Huntzicker (1984) iterated to convergence, as in
EPA-CMB8.2. All samples are solved together: the weighted normal equations of every sample are
stacked into an (n_samples, p, p) array and solved in one batched call.

References
----------
* Watson, J.G., Cooper, J.A., Huntzicker, J.J. (1984) The effective variance weighting for least
  squares calculations applied to the mass balance receptor model. *Atmos. Environ.* 18(7),
  1347–1355 (effective variance V_e,i = σ²_Ci + Σ_j σ²_Fij S_j², iterated solution and its
  covariance (FᵀV_e⁻¹F)⁻¹).
* Coulter, C.T. (2004) *EPA-CMB8.2 Users Manual*, EPA-452/R-04-011, US EPA OAQPS: the
  performance measures reported here (source contribution estimate and its standard error,
  T-statistic = estimate/SE, R², χ² per degree of freedom, percent mass, degrees of freedom =
  fitting species − sources) and the convergence test between iterations.
* Belsley, D.A., Kuh, E., Welsch, R.E. (1980) *Regression Diagnostics*, Wiley, §3.2: condition
  indexes of the column-scaled design matrix; indexes above 30 flag strong collinearity.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InvalidValueError, MissingFieldError
from ..validation import check_finite, check_nonnegative, check_range

#: Condition-index threshold for collinearity warnings (Belsley, Kuh & Welsch 1980, §3.2:
#: indexes of 30 and above go with moderate-to-strong dependencies).
CONDITION_INDEX_LIMIT = 30.0


class CollinearityWarning(UserWarning):
    """Source profiles too similar for the sample's weights (large condition index)."""


def _as_frame(data, rows: str, cols: str, name: str) -> pd.DataFrame:
    """A labelled 2-D table (rows × cols) from a DataFrame, Series or 2-D DataArray."""
    if isinstance(data, xr.DataArray):
        for d in (rows, cols):
            if d not in data.dims:
                raise MissingFieldError(f"{name} lacks dimension {d!r} (has {data.dims})",
                                        field=d, where=name)
        return data.transpose(rows, cols).to_pandas()
    if isinstance(data, pd.Series):
        return data.to_frame().T if rows == "sample" else data.to_frame()
    if isinstance(data, pd.DataFrame):
        return data
    raise TypeError(f"{name} must be a pandas DataFrame/Series or an xarray DataArray")


def _species_columns(frame: pd.DataFrame, species, name: str) -> np.ndarray:
    missing = [s for s in species if s not in frame.columns]
    if missing:
        raise MissingFieldError(f"{name} has no species {missing[0]!r}", field=str(missing[0]),
                                where=name)
    return frame[list(species)].to_numpy(float)


def effective_variance(sample_var, profile_var, contributions):
    """Effective variance V_e [(µg/m³)²] of each fitting species (Watson et al. 1984).

    V_e,i = σ²_Ci + Σ_j σ²_Fij S_j², batched: ``sample_var`` (n, I), ``profile_var`` (I, J),
    ``contributions`` (n, J) → (n, I).
    """
    return sample_var + np.einsum("ij,nj->ni", profile_var, contributions**2)


def _solve(F, C, sample_var, profile_var, max_iter, tol):
    """Iterated effective-variance solution for all samples at once.

    Returns contributions (n, J), covariance (n, J, J), weights (n, I), iterations (n,),
    converged (n,).
    """
    n, J = C.shape[0], F.shape[1]
    S = np.zeros((n, J))
    done = np.zeros(n, bool)
    iters = np.zeros(n, int)
    for it in range(1, max_iter + 1):  # iterations of the whole batch (≤ max_iter)
        active = ~done
        w = 1.0 / effective_variance(sample_var[active], profile_var, S[active])
        normal = np.einsum("ij,ni,ik->njk", F, w, F)  # FᵀV⁻¹F per sample
        rhs = np.einsum("ij,ni,ni->nj", F, w, C[active])
        S_new = np.linalg.solve(normal, rhs[..., None])[..., 0]
        # CMB8.2 convergence: every estimate changes by less than tol (relative) between steps
        change = np.abs(S_new - S[active]) <= tol * np.maximum(np.abs(S_new), 1e-300)
        S[active] = S_new
        iters[active] = it
        idx = np.flatnonzero(active)
        done[idx[change.all(1)]] = True
        if done.all() or not profile_var.any():  # plain WLS needs no iteration
            done[:] = True
            break
    w = 1.0 / effective_variance(sample_var, profile_var, S)
    normal = np.einsum("ij,ni,ik->njk", F, w, F)
    cov = np.linalg.inv(normal)
    return S, cov, w, iters, done


def _condition_index(F, w):
    """Largest condition index of the column-equilibrated weighted design V⁻½F per sample
    (Belsley et al. 1980 §3.2) and its singular values (n, J)."""
    A = np.sqrt(w)[:, :, None] * F[None]
    A = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-300)
    sv = np.linalg.svd(A, compute_uv=False)
    return sv[:, 0] / np.maximum(sv[:, -1], 1e-300), sv


def cmb(samples, profiles, *, sample_unc=None, profile_unc=None, species=None, mass=None,
        max_iter: int = 20, tol: float = 1e-6,
        condition_limit: float = CONDITION_INDEX_LIMIT) -> xr.Dataset:
    """Chemical mass balance by effective-variance weighted least squares (EPA-CMB8.2).

    Parameters
    ----------
    samples : pandas.DataFrame or xr.DataArray  [µg/m³]
        Ambient concentrations, one row per sample (index = sample id) and one column per
        species; a DataArray with dims (``sample``, ``species``); a Series is one sample.
    profiles : pandas.DataFrame or xr.DataArray  [µg/µg]
        Source profiles: rows = species, columns = sources (mass fraction of each species in
        the source's PM); a DataArray with dims (``species``, ``source``).
    sample_unc : like ``samples``, optional  [µg/m³]
        One-σ measurement uncertainties (> 0). Default: unit weights (ordinary least squares;
        standard errors then have no absolute meaning).
    profile_unc : like ``profiles``, optional  [µg/µg]
        One-σ uncertainties of the profile abundances; default 0 (plain weighted least squares).
    species : sequence of str, optional
        Fitting species (default: every species of ``profiles``). Needs ≥ the number of sources.
    mass : array-like (n_samples,) or str, optional  [µg/m³]
        Measured PM mass for ``percent_mass`` (or the name of its column in ``samples``).
    max_iter : int
        Maximum effective-variance iterations (CMB8.2 default 20).
    tol : float
        Relative change of every estimate below which the iteration has converged.
    condition_limit : float
        Condition index above which a sample is flagged collinear (:class:`CollinearityWarning`).

    Returns
    -------
    xr.Dataset
        (sample, source): ``contribution`` S_j and ``std_error`` σ_Sj [µg/m³], ``t_stat`` = S/σ
        [1], ``percent_mass`` [%] when ``mass`` is given; (sample, source, source2):
        ``covariance`` [(µg/m³)²]; (sample, species): ``fitted`` [µg/m³], ``residual``
        (measured − fitted) [µg/m³], ``ratio`` (fitted/measured) [1]; (sample,): ``chi2``
        (χ² per degree of freedom) [1], ``r2`` [1], ``dof`` [1], ``sum_contribution``
        [µg/m³], ``iterations``, ``converged``, ``condition_index`` [1], ``collinear`` flag;
        (sample, component): ``singular_value`` of the column-scaled weighted design.

    Notes
    -----
    Iteration k: V_e,i = σ²_Ci + Σ_j σ²_Fij S_j^(k)²; S^(k+1) = (FᵀV_e⁻¹F)⁻¹ FᵀV_e⁻¹C
    (Watson et al. 1984), starting from S⁽⁰⁾ = 0 (i.e. weights 1/σ²_Ci). At convergence the
    covariance is (FᵀV_e⁻¹F)⁻¹; χ² = Σ_i (C_i − Σ_j F_ij S_j)²/V_e,i / (I − J) and
    R² = 1 − (I − J) χ² / Σ_i (C_i²/V_e,i), both as defined in the EPA-CMB8.2 Users Manual
    (Coulter 2004). Contributions are unconstrained (negative estimates are kept, as in CMB8.2).
    Collinearity: the condition index κ = s_max/s_min of V_e⁻½F with unit-length columns;
    κ > ``condition_limit`` (30, Belsley et al. 1980) means the sources are not separable with
    these species and uncertainties, so their individual estimates and SEs are unreliable.

    References
    ----------
    Watson, Cooper & Huntzicker (1984) *Atmos. Environ.* 18, 1347–1355; Coulter (2004)
    EPA-452/R-04-011; Belsley, Kuh & Welsch (1980) *Regression Diagnostics* §3.2.
    """
    where = "cmb"
    X = _as_frame(samples, "sample", "species", "samples")
    P = _as_frame(profiles, "species", "source", "profiles")
    species = list(P.index if species is None else species)
    sources = [str(s) for s in P.columns]
    missing = [s for s in species if s not in P.index]
    if missing:
        raise MissingFieldError(f"profiles have no species {missing[0]!r}",
                                field=str(missing[0]), where="profiles")
    I, J = len(species), len(sources)
    if I < J:
        raise InvalidValueError(f"{I} fitting species cannot resolve {J} sources "
                                "(need species ≥ sources)", field="species", where=where)
    check_range(max_iter, "max_iter", 1, None)
    check_range(tol, "tol", 0.0, None, lo_inclusive=False)
    C = _species_columns(X, species, "samples")
    F = P.loc[species].to_numpy(float)
    check_finite(C, "samples", units="ug/m3")
    check_finite(F, "profiles")
    check_nonnegative(F, "profiles")
    if sample_unc is None:
        s_var = np.ones_like(C)
    else:
        U = _species_columns(_as_frame(sample_unc, "sample", "species", "sample_unc"), species,
                             "sample_unc")
        if U.shape != C.shape:
            raise InvalidValueError(f"sample_unc has shape {U.shape}, samples {C.shape}",
                                    field="sample_unc", where=where)
        check_range(U, "sample_unc", 0.0, None, lo_inclusive=False, units="ug/m3")
        s_var = U**2
    if profile_unc is None:
        p_var = np.zeros_like(F)
    else:
        PU = _as_frame(profile_unc, "species", "source", "profile_unc").loc[species, sources]
        p_var = PU.to_numpy(float) ** 2
        check_finite(p_var, "profile_unc")
        check_nonnegative(p_var, "profile_unc")

    S, cov, w, iters, converged = _solve(F, C, s_var, p_var, int(max_iter), float(tol))
    se = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    fitted = S @ F.T
    resid = C - fitted
    dof = I - J
    chi2_sum = np.einsum("ni,ni->n", resid**2, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = chi2_sum / dof if dof > 0 else np.full(len(C), np.nan)
        r2 = 1.0 - chi2_sum / np.einsum("ni,ni->n", C**2, w)
        ratio = np.where(C != 0, fitted / C, np.nan)
    kappa, sv = _condition_index(F, w)
    collinear = kappa > condition_limit
    ids = np.asarray(X.index)
    ds = xr.Dataset(
        {"contribution": (("sample", "source"), S, {
            "units": "ug m-3", "long_name": "source contribution estimate (SCE)"}),
         "std_error": (("sample", "source"), se, {
             "units": "ug m-3", "long_name": "standard error of the SCE"}),
         "t_stat": (("sample", "source"), S / se, {
             "units": "1", "long_name": "T-statistic (SCE / standard error)"}),
         "covariance": (("sample", "source", "source2"), cov, {
             "units": "ug2 m-6", "long_name": "covariance of the SCEs"}),
         "fitted": (("sample", "species"), fitted, {
             "units": "ug m-3", "long_name": "calculated species concentration"}),
         "residual": (("sample", "species"), resid, {
             "units": "ug m-3", "long_name": "measured minus calculated concentration"}),
         "ratio": (("sample", "species"), ratio, {
             "units": "1", "long_name": "calculated / measured concentration"}),
         "chi2": ("sample", chi2, {"units": "1", "long_name": "reduced chi-square"}),
         "r2": ("sample", r2, {"units": "1", "long_name": "R-square (CMB8.2 definition)"}),
         "dof": ("sample", np.full(len(C), dof), {
             "units": "1", "long_name": "degrees of freedom (fitting species - sources)"}),
         "sum_contribution": ("sample", S.sum(1), {
             "units": "ug m-3", "long_name": "sum of source contribution estimates"}),
         "iterations": ("sample", iters, {"units": "1"}),
         "converged": ("sample", converged.astype(np.int8), {"units": "1"}),
         "condition_index": ("sample", kappa, {
             "units": "1", "long_name": "largest condition index of the weighted profiles"}),
         "collinear": ("sample", collinear.astype(np.int8), {
             "units": "1", "long_name": f"condition index > {condition_limit:g}"}),
         "singular_value": (("sample", "component"), sv, {
             "units": "1", "long_name": "singular values of the column-scaled V^-1/2 F"})},
        coords={"sample": ids, "source": sources, "source2": sources, "species": species})
    if mass is not None:
        m = X[mass].to_numpy(float) if isinstance(mass, str) else np.broadcast_to(
            np.asarray(mass, float), (len(C),))
        check_range(m, "mass", 0.0, None, lo_inclusive=False, units="ug/m3")
        ds["percent_mass"] = (("sample", "source"), 100.0 * S / m[:, None], {
            "units": "%", "long_name": "SCE as percent of measured mass"})
        ds["percent_mass_total"] = ("sample", 100.0 * S.sum(1) / m, {
            "units": "%", "long_name": "sum of SCEs as percent of measured mass"})
    ds.attrs.update({"model": "ecodss cmb (effective-variance weighted least squares)",
                     "condition_limit": float(condition_limit), "max_iter": int(max_iter),
                     "references": "Watson et al. (1984) Atmos. Environ. 18:1347; "
                                   "EPA-452/R-04-011 (EPA-CMB8.2 Users Manual)"})
    if collinear.any():
        warnings.warn(f"{int(collinear.sum())} of {len(C)} samples have condition index > "
                      f"{condition_limit:g}: source profiles nearly collinear "
                      f"(sources {sources}); individual estimates are unreliable",
                      CollinearityWarning, stacklevel=2)
    if not converged.all():
        warnings.warn(f"{int((~converged).sum())} samples did not converge in {max_iter} "
                      "effective-variance iterations", RuntimeWarning, stacklevel=2)
    return ds


__all__ = ["cmb", "effective_variance", "CollinearityWarning", "CONDITION_INDEX_LIMIT"]
