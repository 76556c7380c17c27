"""Scores of yes/no event forecasts (2 × 2 contingency table) and of multi-category forecasts.

With a = hits, b = false alarms, c = misses, d = correct negatives, n = a + b + c + d
(Wilks 2011, §8.2.1–8.2.3; WWRP/WGNE Joint Working Group on Forecast Verification Research,
"Forecast verification: issues, methods and FAQ"):

* POD (hit rate) = a/(a + c); FAR (false-alarm ratio) = b/(a + b); POFD = b/(b + d);
* CSI = TS (threat score, Gilbert 1884) = a/(a + b + c); frequency bias = (a + b)/(a + c);
* success ratio = 1 − FAR (x axis of the performance diagram, Roebber 2009);
* HSS (Heidke 1926) = 2(ad − bc)/[(a + c)(c + d) + (a + b)(b + d)]; Peirce PSS = POD − POFD.

Multi-category (K categories, joint relative frequencies p(y_i, o_j); Wilks 2011, §8.2.6):
accuracy = Σ_i p(y_i, o_i); HSS = [Σ_i p(y_i, o_i) − Σ_i p(y_i) p(o_i)] / [1 − Σ_i p(y_i) p(o_i)],
which reduces to the 2 × 2 HSS above for K = 2. (It is algebraically the same statistic as
Cohen's (1960) unweighted kappa; the *weighted* kappas are not HSS.)

A missing observation or forecast (NaN) drops the pair; build events with :func:`event` (or the
``threshold`` argument), not ``values > threshold``, which turns a missing value into a "no".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InvalidValueError
from ._apply import apply_score, safe_divide, valid_mask

_COUNTS = ("hits", "false_alarms", "misses", "correct_negatives")


def event(values, threshold: float, *, inclusive: bool = False):
    """Event indicator 1.0 where ``values > threshold`` (``>=`` if ``inclusive``), NaN stays NaN.

    Parameters
    ----------
    values : array-like, pandas or xarray.DataArray
        Concentrations (or probabilities) [any unit].
    threshold : float
        Event threshold [unit of ``values``], e.g. 150 µg/m³ daily PM2.5 (heavy pollution,
        AQI > 200 under HJ 633-2012).
    """
    above = (values >= threshold) if inclusive else (values > threshold)
    if isinstance(values, xr.DataArray | pd.Series | pd.DataFrame):
        return above.astype(float).where(values.notnull())
    values = np.asarray(values, dtype=float)
    return np.where(np.isnan(values), np.nan, np.asarray(above, dtype=float))


def _check_binary(x: np.ndarray, field: str) -> None:
    bad = ~np.isnan(x) & (x != 0) & (x != 1)
    if bad.any():
        raise InvalidValueError(f"{field}={x[bad].ravel()[0]} must be 0/1 (or True/False; NaN = "
                                "missing)", field=field, where="contingency")


def _counts_kernel(o, f):
    _check_binary(o, "obs_event")
    _check_binary(f, "fcst_event")
    valid = valid_mask(o, f)
    o, f = np.where(valid, o, 0.0), np.where(valid, f, 0.0)
    hits = (o * f).sum(axis=-1)
    false_alarms = ((1 - o) * f * valid).sum(axis=-1)
    misses = (o * (1 - f)).sum(axis=-1)
    correct_negatives = ((1 - o) * (1 - f) * valid).sum(axis=-1)
    return np.stack([hits, false_alarms, misses, correct_negatives], axis=-1)


@dataclass(frozen=True)
class Contingency:
    """2 × 2 contingency table of an event forecast and the scores derived from it.

    The counts are floats, numpy arrays or xarray DataArrays (one table per remaining
    dimension); every score is NaN where its denominator is zero.
    """

    hits: object
    false_alarms: object
    misses: object
    correct_negatives: object

    @property
    def n(self):
        """Number of valid pairs."""
        return self.hits + self.false_alarms + self.misses + self.correct_negatives

    @property
    def pod(self):
        """Probability of detection (hit rate) a/(a + c) [1]."""
        return safe_divide(self.hits, self.hits + self.misses)

    @property
    def far(self):
        """False-alarm ratio b/(a + b) [1]."""
        return safe_divide(self.false_alarms, self.hits + self.false_alarms)

    @property
    def pofd(self):
        """Probability of false detection (false-alarm rate) b/(b + d) [1]."""
        return safe_divide(self.false_alarms, self.false_alarms + self.correct_negatives)

    @property
    def success_ratio(self):
        """1 − FAR = a/(a + b) [1]."""
        return safe_divide(self.hits, self.hits + self.false_alarms)

    @property
    def csi(self):
        """Critical success index a/(a + b + c) [1]."""
        return safe_divide(self.hits, self.hits + self.misses + self.false_alarms)

    @property
    def ts(self):
        """Threat score, the same as :attr:`csi` [1]."""
        return self.csi

    @property
    def bias_score(self):
        """Frequency bias (a + b)/(a + c) [1]; > 1 = event forecast too often."""
        return safe_divide(self.hits + self.false_alarms, self.hits + self.misses)

    @property
    def accuracy(self):
        """Proportion correct (a + d)/n [1]."""
        return safe_divide(self.hits + self.correct_negatives, self.n)

    @property
    def hss(self):
        """Heidke skill score 2(ad − bc)/[(a + c)(c + d) + (a + b)(b + d)] [1]."""
        a, b, c, d = self.hits, self.false_alarms, self.misses, self.correct_negatives
        return safe_divide(2.0 * (a * d - b * c), (a + c) * (c + d) + (a + b) * (b + d))

    @property
    def pss(self):
        """Peirce skill score (Hanssen–Kuipers) POD − POFD [1]."""
        return self.pod - self.pofd

    def to_dict(self) -> dict:
        """Counts and scores, as floats when the table is a single one."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out |= {k: getattr(self, k) for k in ("n", "pod", "far", "pofd", "success_ratio", "csi",
                                               "ts", "hss", "pss", "bias_score", "accuracy")}
        return {k: (float(v) if np.ndim(v) == 0 and not isinstance(v, xr.DataArray) else v)
                for k, v in out.items()}


def contingency(obs_event, fcst_event, *, threshold: float | None = None, dim=None) -> Contingency:
    """Contingency table of an event forecast against observed events.

    Parameters
    ----------
    obs_event, fcst_event : array-like, pandas or xarray.DataArray
        Event indicators (bool or 0/1; NaN = missing) — or, with ``threshold``, the values.
    threshold : float, optional
        Build the events as ``value > threshold`` with :func:`event` (missing stays missing).
    dim : str, int or sequence, optional
        Dimension(s)/axes to count over; default all.

    Returns
    -------
    Contingency

    Examples
    --------
    >>> t = contingency([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    >>> t.hits, t.misses, t.false_alarms, t.correct_negatives, round(t.pod, 3)
    (2.0, 1.0, 1.0, 1.0, 0.667)
    """
    if threshold is not None:
        obs_event, fcst_event = event(obs_event, threshold), event(fcst_event, threshold)
    counts = apply_score(_counts_kernel, obs_event, fcst_event, dim=dim, outputs=_COUNTS,
                         where="contingency")
    return Contingency(**{k: counts[k] for k in _COUNTS})


def _is_missing(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        return np.isnan(x)
    if x.dtype.kind == "O":
        return np.asarray(pd.isna(x), dtype=bool)
    return np.zeros(x.shape, bool)


def _confusion_kernel(o, f, *, categories):
    cats = np.asarray(categories, dtype=object)
    onehot = []
    for x, field in ((o, "obs_cat"), (f, "fcst_cat")):
        missing = _is_missing(x)
        hot = x[..., None] == cats
        unknown = ~missing & ~hot.any(axis=-1)
        if unknown.any():
            raise InvalidValueError(f"{field} value {x[unknown].ravel()[0]!r} is not one of the "
                                    f"categories {cats.tolist()}", field=field,
                                    where="multicategory")
        onehot.append((hot & ~missing[..., None]).astype(float))
    both = onehot[0].any(axis=-1) & onehot[1].any(axis=-1)
    return np.einsum("...ni,...nj->...ij", onehot[0] * both[..., None], onehot[1])


def _multicategory_scores(confusion):
    """Accuracy and HSS from confusion counts [..., observed, forecast] (Wilks 2011, §8.2.6)."""
    n = confusion.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = confusion / n[..., None, None]
        correct = np.trace(p, axis1=-2, axis2=-1)
        chance = (p.sum(axis=-1) * p.sum(axis=-2)).sum(axis=-1)
        return correct, (correct - chance) / (1.0 - chance)


def multicategory(obs_cat, fcst_cat, categories: Sequence, *, dim=None):
    """Multi-category verification: accuracy, Heidke skill score and confusion matrix.

    Parameters
    ----------
    obs_cat, fcst_cat : array-like, pandas or xarray.DataArray
        Observed and forecast categories (e.g. AQI categories 1–6 or their names); NaN/None =
        missing. A value outside ``categories`` raises :class:`InvalidValueError`.
    categories : sequence
        The K categories, in order.
    dim : str, int or sequence, optional
        Dimension(s)/axes to count over; default all.

    Returns
    -------
    accuracy : float (or array/DataArray) [1]
    hss : float (or array/DataArray) [1]
    confusion : pandas.DataFrame (rows = observed, columns = forecast, counts) or, when
        dimensions remain, an xarray.DataArray / ndarray [..., observed, forecast].
    """
    cats = list(categories)
    if any(isinstance(a, xr.DataArray) for a in (obs_cat, fcst_cat)):
        dims = [d for d in (obs_cat.dims if dim is None else
                            ((dim,) if isinstance(dim, str) else dim))]
        conf = xr.apply_ufunc(
            lambda o, f: _confusion_kernel(o.reshape(o.shape[:o.ndim - len(dims)] + (-1,)),
                                           f.reshape(f.shape[:f.ndim - len(dims)] + (-1,)),
                                           categories=cats),
            obs_cat, fcst_cat, input_core_dims=[dims, dims],
            output_core_dims=[["observed", "forecast"]], join="exact", dask="parallelized",
            output_dtypes=[float], dask_gufunc_kwargs={
                "output_sizes": {"observed": len(cats), "forecast": len(cats)},
                "allow_rechunk": True})
        conf = conf.assign_coords(observed=cats, forecast=cats)
        acc, hss = xr.apply_ufunc(_multicategory_scores, conf,
                                  input_core_dims=[["observed", "forecast"]],
                                  output_core_dims=[[], []], dask="parallelized",
                                  output_dtypes=[float, float])
        return acc, hss, conf
    conf = apply_score(_confusion_kernel, obs_cat, fcst_cat, dim=dim, dtype=object,
                       where="multicategory", kwargs={"categories": cats})
    acc, hss = _multicategory_scores(conf)
    if conf.ndim == 2:
        frame = pd.DataFrame(conf.astype(int), index=pd.Index(cats, name="observed"),
                             columns=pd.Index(cats, name="forecast"))
        return float(acc), float(hss), frame
    return acc, hss, conf


__all__ = ["Contingency", "contingency", "event", "multicategory"]
