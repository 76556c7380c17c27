"""Monitoring-section forecasts and GB 3838 early warning.

Daily water-quality series at a monitoring section (DO, NH3-N, CODMn, TP) are forecast for leads
of 1–3 days with the station-forecast machinery of :class:`ecodss.stats.StationForecaster`
(quantile gradient boosting with conformal calibration, or SARIMAX). Predictors, for the target
day *d* at lead *L*:

* the item's own values up to the origin day ``d - L`` (lags, trend),
* exogenous flow and water temperature of days ``d - 1`` and ``d`` at the section — observed
  (perfect prognosis, Klein et al. 1959) or a hydrological/temperature forecast when given,
* upstream-section values shifted by ``L`` days (known at the origin), which carry the upstream
  water arriving about a travel time later,
* calendar harmonics.

The daily series are handed to the forecaster as hourly step series on UTC time (each local day's
value repeated over its 24 hours), so its daily means are the daily values.

From the quantile forecast, the probability that a value falls outside each GB 3838 class is
``1 - F(limit)`` (``F(limit)`` for DO, "higher is better"), with ``F`` the piecewise-linear CDF
through the forecast quantiles (linear tails, clipped to [0, 1]). Warning levels (an ecodss
convention, configurable; not a standard):

* 1 yellow: P(worse than the target class) >= ``p_warn``;
* 2 orange: P(worse than one class below the target) >= ``p_warn``;
* 3 red: P(worse than class V) >= ``p_warn``.

References
----------
Klein, W. H., Lewis, B. M. and Enger, I. (1959) Objective prediction of five-day mean
temperatures during winter. J. Meteor. 16, 672-682.
GB 3838-2002 Environmental quality standards for surface water, Table 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from ..errors import InvalidValueError, MissingFieldError
from ..stats import predictive
from ..validation import require_fields
from . import gb3838

ITEMS = ("DO", "NH3_N", "CODMn", "TP")
QUANTILES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
LEVEL_NAMES = ("none", "yellow", "orange", "red")
UTC_OFFSET_HOURS = 8
_HOUR = np.timedelta64(1, "h")


def daily_to_hourly(ds: xr.Dataset, utc_offset_hours: float = UTC_OFFSET_HOURS) -> xr.Dataset:
    """Daily values on local dates -> hourly step series on naive-UTC hour-start times."""
    days = ds["time"].values.astype("datetime64[D]")
    hours = (days[:, None].astype("datetime64[h]") + np.arange(24) * _HOUR
             - np.timedelta64(int(utc_offset_hours), "h")).ravel()
    out = ds.isel(time=np.repeat(np.arange(days.size), 24)).assign_coords(
        time=hours.astype("datetime64[ns]"))
    return out


class SectionForecaster:
    """Quantile forecasts of GB 3838 items at a monitoring section, leads of whole days.

    Parameters
    ----------
    items : sequence of str
        Variables of the monitoring dataset to forecast (default DO, NH3_N, CODMn, TP) [mg/L].
    leads : sequence of int
        Leads [days].
    quantiles : sequence of float
        Quantile levels of the forecast distribution.
    exog : sequence of str
        Section variables used as target-day predictors (default ``flow``, ``temperature``).
    upstream : str, optional
        Section id whose items, shifted by the lead, are predictors.
    method : {"gbm", "sarimax"}
        Passed to :class:`ecodss.stats.StationForecaster`.
    forecaster_kwargs : mapping, optional
        Further keywords of :class:`ecodss.stats.StationForecaster` (e.g. ``gbm_params``,
        ``n_folds``, ``transform``).
    n_threads : int, optional
        Cap on OpenMP/BLAS threads while fitting and predicting (``threadpoolctl``); on a busy
        machine 1 avoids the large slow-down of oversubscribed OpenMP in scikit-learn's boosting.
    """

    def __init__(self, items: Sequence[str] = ITEMS, leads: Sequence[int] = (1, 2, 3),
                 quantiles: Sequence[float] = QUANTILES, exog: Sequence[str] = ("flow",
                                                                               "temperature"),
                 upstream: str | None = None, method: str = "gbm",
                 forecaster_kwargs: Mapping | None = None, n_threads: int | None = None):
        self.items, self.leads = list(items), tuple(int(v) for v in leads)
        self.quantiles, self.exog = tuple(quantiles), list(exog)
        self.upstream, self.method = upstream, method
        self.forecaster_kwargs = dict(forecaster_kwargs or {})
        self.n_threads = n_threads
        self.models_: dict = {}

    # ------------------------------------------------------------------------------ inputs
    def _inputs(self, ds: xr.Dataset, section: str, item: str, lead: int):
        require_fields(ds.data_vars, [item, *self.exog], where="monitoring dataset")
        if "section" not in ds.dims or section not in ds["section"].values:
            raise MissingFieldError(f"section {section!r} not in the monitoring dataset",
                                    field="section", where="SectionForecaster")
        here = ds.sel(section=section, drop=True)
        obs = here[[item]].expand_dims(station=[section])
        met = {k: here[k] for k in self.exog}
        if self.upstream is not None:
            up = ds.sel(section=self.upstream, drop=True)
            for name in self.items:  # upstream items, known at the origin day
                met[f"up_{name}_lag{lead}"] = up[name].shift(time=lead)
        met = xr.Dataset(met).expand_dims(station=[section])
        return daily_to_hourly(obs), daily_to_hourly(met)

    def _new(self, item: str, lead: int):
        from ..stats import StationForecaster

        return StationForecaster(pollutant=item, leads=(lead,), quantiles=self.quantiles,
                                 method=self.method, resolution="daily",
                                 utc_offset_hours=UTC_OFFSET_HOURS, **self.forecaster_kwargs)

    def _threads(self):
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=self.n_threads)

    def fit(self, ds: xr.Dataset, section: str, until=None) -> SectionForecaster:
        """Fit one model per item and lead on the days of ``ds`` before ``until`` (local date)."""
        with self._threads():
            return self._fit(ds, section, until)

    def _fit(self, ds, section, until):
        if until is not None:
            ds = ds.sel(time=slice(None, np.datetime64(until, "D") - np.timedelta64(1, "D")))
        self.models_ = {}
        for item in self.items:  # a handful of items x leads; each model is vectorized inside
            for lead in self.leads:
                obs, met = self._inputs(ds, section, item, lead)
                self.models_[item, lead] = self._new(item, lead).fit(obs, met)
        self.section_ = section
        return self

    def predict(self, ds: xr.Dataset, start=None, end=None) -> xr.Dataset:
        """Forecasts ``(time, lead, quantile)`` and ``<item>_mean`` ``(time, lead)`` [mg/L]."""
        with self._threads():
            return self._predict(ds, start, end)

    def _predict(self, ds, start, end):
        if not self.models_:
            raise InvalidValueError("not fitted; call fit() first", field="models_")
        out = {}
        for item in self.items:  # loop over items and leads (few)
            parts = []
            for lead in self.leads:
                obs, met = self._inputs(ds, self.section_, item, lead)
                parts.append(self.models_[item, lead].predict(obs, met, start=start, end=end)
                             .isel(station=0, drop=True))
            f = xr.concat(parts, dim="lead")
            out[item] = f[item]
            out[f"{item}_mean"] = f[f"{item}_mean"]
        res = xr.Dataset(out)
        res.attrs.update(section=self.section_, source="ecodss.water.warning.SectionForecaster")
        return res


def exceedance_probability(quantiles, levels, limit, higher_is_better: bool = False):
    """P(value worse than ``limit``) from forecast quantiles (piecewise-linear CDF with linear
    tails clipped to [0, 1]: ``tails="linear"`` of :mod:`ecodss.stats.predictive`).

    Parameters
    ----------
    quantiles : array_like ``(..., level)``  [mg/L]
    levels : array_like ``(level,)``
    limit : array_like, broadcastable to ``quantiles[..., 0]``  [mg/L]
    higher_is_better : bool
        True for DO (probability of falling *below* the limit).

    Returns
    -------
    array  [1]  (NaN where the quantiles are NaN)
    """
    return predictive.exceedance_probability(quantiles, levels, limit, tails="linear",
                                             higher_is_better=higher_is_better)


def class_probabilities(forecast: xr.Dataset, water_body: str = "river") -> xr.Dataset:
    """Probability of each item being worse than each GB 3838 class I..V.

    Returns ``p_worse_<item>`` ``(time, lead, gb_class)`` with ``gb_class`` 1..5: P(worse than
    class k), e.g. ``gb_class=3`` is the probability of missing class III.
    """
    out = {}
    for item in [v for v in forecast.data_vars if not str(v).endswith("_mean")]:
        da = forecast[item].transpose(..., "quantile")
        canon = gb3838.canonical_item(item)
        lim = gb3838.limits(canon, water_body)
        p = exceedance_probability(da.values[..., None, :], da["quantile"].values,
                                   lim, canon in gb3838.HIGHER_IS_BETTER)
        dims = da.dims[:-1] + ("gb_class",)
        out[f"p_worse_{item}"] = xr.DataArray(p, dims=dims, coords={
            **{k: v for k, v in da.coords.items() if "quantile" not in v.dims},
            "gb_class": np.arange(1, 6)}, attrs={"units": "1", "long_name":
                                                 f"probability that {item} is worse than class"})
    res = xr.Dataset(out)
    res.attrs["references"] = gb3838.STANDARD
    return res


def warning_level(probabilities: xr.Dataset, target_class: int, p_warn: float = 0.5):
    """Warning level per item and overall: 0 none, 1 yellow, 2 orange, 3 red (module notes).

    Parameters
    ----------
    probabilities : xarray.Dataset
        Output of :func:`class_probabilities`.
    target_class : int
        The section's GB 3838 target (functional-zone) class, 1..5.
    p_warn : float
        Probability that triggers a level (e.g. a cost/loss ratio, Murphy 1977).

    Returns
    -------
    xarray.Dataset
        ``level_<item>`` and ``level`` (max over items) as int8 with ``flag_meanings``.
    """
    if int(target_class) not in (1, 2, 3, 4, 5):
        raise InvalidValueError(f"target_class={target_class} must be 1..5", field="target_class")
    steps = [int(target_class), min(int(target_class) + 1, 5), 5]
    out = {}
    for name, p in probabilities.data_vars.items():
        lv = xr.zeros_like(p.isel(gb_class=0), dtype=np.int8)
        for rank, k in enumerate(steps, start=1):
            lv = xr.where(p.sel(gb_class=k, drop=True) >= p_warn, np.int8(rank), lv)
        out[str(name).replace("p_worse_", "level_")] = lv.astype(np.int8)
    res = xr.Dataset(out)
    res["level"] = xr.concat(list(out.values()), dim="item").max("item").astype(np.int8)
    for v in res.data_vars.values():
        v.attrs.update(flag_values=np.arange(4, dtype=np.int8),
                       flag_meanings=" ".join(LEVEL_NAMES), units="1")
    res.attrs.update(target_class=int(target_class), p_warn=float(p_warn),
                     rule="ecodss convention: yellow/orange/red = P(worse than target / target+1 "
                          "/ V) >= p_warn")
    return res


def mse_skill_vs_persistence(obs: xr.DataArray, forecast_mean: xr.DataArray) -> xr.DataArray:
    """MSE skill ``1 - MSE(fcst)/MSE(persistence)`` per lead (:func:`ecodss.evaluate.mse_skill`);
    persistence for lead L is the observation of day ``d - L``
    (:func:`ecodss.evaluate.persistence`). ``obs`` on a gap-free daily ``time`` axis,
    ``forecast_mean`` ``(time, lead)``; pairs with any NaN are dropped."""
    from ..evaluate import mse_skill, persistence

    leads = forecast_mean["lead"].values
    reference = xr.concat([persistence(obs, int(lead)) for lead in leads],  # a few leads
                          dim="lead").assign_coords(lead=leads)
    return mse_skill(obs.reindex(time=forecast_mean["time"]), forecast_mean,
                     reference.reindex(time=forecast_mean["time"]), dim="time")
