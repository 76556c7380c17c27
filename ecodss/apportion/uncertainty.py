"""PMF input preparation: uncertainties from MDL and error fraction, missing values, S/N, categories.

Reference: Norris et al. (2014), EPA PMF 5.0 Fundamentals and User Guide, EPA/600/R-14/108,
§5.1 (uncertainty, Eqs. 5-1 and 5-2; missing values), §5.2 (signal-to-noise, Eqs. 5-3 and 5-4;
strong/weak/bad categories).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecodss.apportion.pmf import as_matrix
from ecodss.errors import InvalidValueError
from ecodss.validation import check_nonnegative, check_range, reject_unknown_fields

__all__ = ["uncertainty_from_mdl", "fill_missing", "signal_to_noise", "categorize",
           "apply_categories", "WEAK_FACTOR"]

WEAK_FACTOR = 3.0  #: weak species: uncertainty tripled (EPA PMF 5.0 §5.2)


def uncertainty_from_mdl(x, mdl, error_fraction):
    """EPA equation-based uncertainty (Norris et al. 2014, §5.1, Eqs. 5-1, 5-2).

    ``u = 5/6 MDL`` where ``x <= MDL``; ``u = sqrt((EF x)**2 + (0.5 MDL)**2)`` above.

    Parameters
    ----------
    x : DataFrame / array (sample, species) [conc]
    mdl, error_fraction : scalar, per-species Series/array, or same shape as ``x``
        Method detection limit [conc] and error fraction [-].
    """
    X = as_matrix(x, "x")
    v = X.to_numpy()
    mdl_a = np.broadcast_to(np.asarray(mdl, float), v.shape)
    ef = np.broadcast_to(np.asarray(error_fraction, float), v.shape)
    check_range(mdl_a, "mdl", lo=0.0, lo_inclusive=False, units="[conc]")
    check_nonnegative(ef, "error_fraction")
    u = np.where(v <= mdl_a, 5.0 / 6.0 * mdl_a, np.sqrt((ef * v) ** 2 + (0.5 * mdl_a) ** 2))
    return pd.DataFrame(u, X.index, X.columns)


def fill_missing(x, u, *, value_stat: str = "median", unc_factor: float = 4.0):
    """Replace missing cells: species median concentration, ``4 x`` median uncertainty (§5.1).

    Returns ``(x, u, missing)`` where ``missing`` flags the replaced cells.
    """
    X = as_matrix(x, "x")
    U = as_matrix(u, "u", like=X)
    if value_stat != "median":
        raise InvalidValueError(f"value_stat={value_stat!r}; only 'median' is supported",
                                field="value_stat")
    missing = X.isna() | U.isna()
    Xf = X.where(~missing, X.median(), axis=1)
    Uf = U.where(~missing, unc_factor * U.median(), axis=1)
    return Xf, Uf, missing


def signal_to_noise(x, u) -> pd.Series:
    """S/N per species, EPA PMF 5.0 definition (§5.2, Eqs. 5-3, 5-4).

    ``d_ij = (x_ij - s_ij) / s_ij`` if ``x_ij > s_ij`` else 0; ``S/N_j = mean_i d_ij``. Only
    concentrations above their uncertainty count as signal.
    """
    X = as_matrix(x, "x")
    U = as_matrix(u, "u", like=X)
    xv, uv = X.to_numpy(), U.to_numpy()
    d = np.where(xv > uv, (xv - uv) / uv, 0.0)
    return pd.Series(d.mean(axis=0), index=X.columns, name="S/N")


def categorize(sn: pd.Series, *, bad_below: float = 0.5, weak_below: float = 1.0) -> pd.Series:
    """Suggested category per species from S/N: "bad" < 0.5 <= "weak" < 1 <= "strong" (§5.2)."""
    cat = np.where(sn < bad_below, "bad", np.where(sn < weak_below, "weak", "strong"))
    return pd.Series(cat, index=sn.index, name="category")


def apply_categories(x, u, categories=None, *, auto: bool = False, weak_factor=WEAK_FACTOR):
    """Apply species categories: weak -> uncertainty x3, bad -> species removed (§5.2).

    By default every species is strong (as in EPA's example runs). ``categories`` maps species to
    "strong"/"weak"/"bad"; ``auto=True`` fills unspecified species from :func:`categorize` of
    their S/N. Returns ``(x, u, categories)``.
    """
    X = as_matrix(x, "x")
    U = as_matrix(u, "u", like=X)
    given = dict(categories or {})
    reject_unknown_fields(given, list(X.columns), "apply_categories(categories=...)")
    bad_values = {k: v for k, v in given.items() if v not in ("strong", "weak", "bad")}
    if bad_values:
        name, val = next(iter(bad_values.items()))
        raise InvalidValueError(f"category {val!r} for {name!r}; use strong, weak or bad",
                                field=str(name))
    cat = categorize(signal_to_noise(X, U)) if auto else pd.Series("strong", index=X.columns)
    cat = cat.copy()
    for name, val in given.items():
        cat[name] = val
    U = U * np.where(cat.to_numpy() == "weak", weak_factor, 1.0)
    keep = cat.to_numpy() != "bad"
    return X.loc[:, keep], U.loc[:, keep], cat.rename("category")
