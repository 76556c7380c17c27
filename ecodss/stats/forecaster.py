"""Probabilistic station forecasts of a pollutant for leads of 1-3 days (daily or hourly).

Two methods, one interface (:class:`StationForecaster`):

``"gbm"``
    Quantile gradient boosting (Friedman 2001; scikit-learn ``HistGradientBoostingRegressor`` with
    the pinball loss, Koenker & Bassett 1978) on the transformed concentration, one model per lead
    and quantile level, plus a squared-error model for the point (mean) forecast. Quantiles are
    sorted across levels afterwards (no crossing; Chernozhukov et al. 2010). Boosted quantiles are
    too narrow out of sample (the trees fit the training pinball loss); with ``calibrate=True`` each
    level is shifted by the level-quantile of its out-of-fold residuals from a blocked K-fold
    cross-fit on the training days — the per-level form of conformalized quantile regression
    (Romano, Patterson & Candès 2019, §3; blocks keep serial correlation inside a fold).
``"sarimax"``
    Regression on the target-day met with SARIMA errors (:mod:`ecodss.stats.sarimax`), daily only.

Predictors: :mod:`ecodss.stats.features` (pollutant up to day ``d - lead``, met of days ``d - 1``
and ``d``, optional model forecast of day ``d`` as a MOS predictor, calendar).

Inputs are hourly ``xr.Dataset``\\ s on a UTC ``time`` axis with a ``station`` dim (added when
absent); met may lack ``station`` (then it applies to every station). Missing hours are NaN; a
daily mean needs ``min_valid`` valid hours. Training uses every (station, day) whose target is
valid; a forecast is NaN when the origin-day pollutant daily mean is missing. Negative or infinite
concentrations raise.

References
----------
Chernozhukov, V., Fernández-Val, I. and Galichon, A. (2010) Quantile and probability curves
without crossing. Econometrica 78, 1093-1125.
Friedman, J. H. (2001) Greedy function approximation: a gradient boosting machine. Ann. Stat. 29,
1189-1232.
Koenker, R. and Bassett, G. (1978) Regression quantiles. Econometrica 46, 33-50.
Romano, Y., Patterson, E. and Candès, E. (2019) Conformalized quantile regression. NeurIPS 32.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from ..errors import InvalidValueError, MissingFieldError, UnknownFieldError
from ..timeutil import CST_UTC_OFFSET_HOURS, MIN_VALID_HOURS_DAILY
from ..validation import check_nonnegative, check_range
from . import features as F
from .sarimax import fit_sarimax, gaussian_quantiles, sarimax_forecast

METHODS = ("gbm", "sarimax")
RESOLUTIONS = ("daily", "hourly")
#: transform name -> (forward, inverse); log1p keeps zero concentrations finite.
TRANSFORMS = {
    "log": (np.log1p, np.expm1),
    "sqrt": (np.sqrt, lambda z: np.square(np.maximum(z, 0.0))),
    "none": (lambda y: y, lambda z: z),
}
#: Default boosting settings (scikit-learn ``HistGradientBoostingRegressor`` keywords).
GBM_DEFAULTS = {"max_iter": 150, "learning_rate": 0.1, "max_leaf_nodes": 15,
                "min_samples_leaf": 20, "l2_regularization": 1.0, "max_bins": 64}
_WHERE = "StationForecaster"


def _with_station(ds: xr.Dataset) -> xr.Dataset:
    return ds if "station" in ds.dims else ds.expand_dims(station=["station"])


class StationForecaster:
    """Quantile forecasts of a pollutant at stations for leads of whole days.

    Parameters
    ----------
    pollutant : str, default "pm25"
        Variable of the observation dataset to forecast [its ``units``, e.g. ug m-3].
    leads : sequence of int, default (1, 2, 3)
        Leads [days]: the forecast for day *d* is issued at the end of day *d - lead* (local).
    quantiles : sequence of float, default (0.1, 0.5, 0.9)
        Quantile levels in (0, 1).
    method : {"gbm", "sarimax"}
    resolution : {"daily", "hourly"}
        Daily means of local days (the alert quantity) or hourly values.
    met_vars : sequence of str, optional
        Met variables used (default: every variable of ``met``, or of the observation dataset
        except the pollutant when ``met`` is not given). String or flagged variables are one-hot.
    transform : {"log", "sqrt", "none"}, default "log"
        Scale on which the quantile models are fitted (log1p for "log").
    point_transform : {"log", "sqrt", "none"}, default "sqrt"
        Scale of the squared-error point model (``gbm``); the mean of a sqrt-scale fit is
        slightly low ((E sqrt y)^2 <= E y) but its RMSE is lower than on the log scale.
    calibrate : bool, default True
        Shift the quantiles by out-of-fold residual quantiles (``gbm``, see module notes).
    n_folds : int, default 3
        Blocked folds of the calibration cross-fit.
    n_lags, recent_hours, n_blocks : int
        Daily lags of the pollutant, hours of the origin-day evening mean, met blocks per day.
    min_valid : int, default 20
        Valid hours for a daily mean (GB 3095-2012 Table 4).
    utc_offset_hours : float, default 8
        Local day (UTC + offset) [h].
    gbm_params : mapping, optional
        Overrides of :data:`GBM_DEFAULTS`.
    order, seasonal_order : tuple
        SARIMAX orders (``sarimax``).
    random_state : int, default 0
    n_threads : int or None, default 1
        OpenMP threads of the boosting (None: all cores). One thread avoids the busy-waiting
        of oversubscribed OpenMP on small, shared machines (measured: 1.1 s against 58 s for
        one 1,400-day fit on 2 loaded cores).
    """

    def __init__(self, pollutant: str = "pm25", leads: Sequence[int] = (1, 2, 3),
                 quantiles: Sequence[float] = (0.1, 0.5, 0.9), method: str = "gbm",
                 resolution: str = "daily", met_vars: Sequence[str] | None = None,
                 transform: str = "log", point_transform: str = "sqrt", calibrate: bool = True,
                 n_folds: int = 3, n_lags: int = 3, recent_hours: int = 4, n_blocks: int = 4,
                 min_valid: int = MIN_VALID_HOURS_DAILY,
                 utc_offset_hours: float = CST_UTC_OFFSET_HOURS,
                 gbm_params: Mapping | None = None, order: tuple = (1, 0, 1),
                 seasonal_order: tuple = (0, 0, 0, 0), random_state: int = 0,
                 n_threads: int | None = 1):
        for name, value, allowed in (("method", method, METHODS),
                                     ("resolution", resolution, RESOLUTIONS),
                                     ("transform", transform, tuple(TRANSFORMS)),
                                     ("point_transform", point_transform, tuple(TRANSFORMS))):
            if value not in allowed:
                raise UnknownFieldError(f"unknown {name} {value!r}; choose from {allowed}",
                                        field=name, where=_WHERE)
        if method == "sarimax" and resolution == "hourly":
            raise InvalidValueError("method='sarimax' forecasts daily means only",
                                    field="resolution", where=_WHERE)
        self.leads = tuple(int(v) for v in leads)
        check_range(self.leads, "leads", 1, None, kind="argument", units="days")
        self.quantiles = tuple(float(q) for q in quantiles)
        check_range(self.quantiles, "quantiles", 0, 1, kind="argument", lo_inclusive=False,
                    hi_inclusive=False)
        if list(self.quantiles) != sorted(set(self.quantiles)):
            raise InvalidValueError(f"quantiles {self.quantiles} must be increasing",
                                    field="quantiles", where=_WHERE)
        if 24 % n_blocks:
            raise InvalidValueError(f"n_blocks={n_blocks} must divide 24", field="n_blocks")
        unknown = set(gbm_params or {}) - {"max_iter", "learning_rate", "max_leaf_nodes",
                                           "min_samples_leaf", "l2_regularization", "max_depth",
                                           "max_features", "max_bins"}
        if unknown:
            raise UnknownFieldError(f"unknown gbm_params {sorted(unknown)}", field="gbm_params")
        self.pollutant, self.method, self.resolution = pollutant, method, resolution
        self.met_vars = None if met_vars is None else list(met_vars)
        self.transform, self.point_transform = transform, point_transform
        self.calibrate, self.n_folds = bool(calibrate), int(n_folds)
        self.design_kwargs = dict(n_lags=int(n_lags), recent_hours=int(recent_hours),
                                  n_blocks=int(n_blocks), min_valid=int(min_valid))
        self.utc_offset_hours = utc_offset_hours
        self.gbm_params = {**GBM_DEFAULTS, **dict(gbm_params or {})}
        self.order, self.seasonal_order = tuple(order), tuple(seasonal_order)
        self.random_state = random_state
        self.n_threads = n_threads
        self.models_: dict = {}
        self.feature_names_: dict[int, list[str]] = {}
        self.units_ = ""

    # ---------------------------------------------------------------------------------- inputs
    def _inputs(self, obs: xr.Dataset, met, model_forecast):
        if not isinstance(obs, xr.Dataset):
            raise InvalidValueError("obs must be an xarray Dataset", field="obs", where=_WHERE)
        if self.pollutant not in obs:
            raise MissingFieldError(f"no variable {self.pollutant!r} in the observations "
                                    f"{sorted(map(str, obs.data_vars))}", field=self.pollutant,
                                    where=_WHERE)
        obs = _with_station(obs)
        pol = obs[self.pollutant]
        F._check_time(pol, _WHERE)
        finite = pol.values[~np.isnan(pol.values)]
        check_nonnegative(finite, self.pollutant, kind="observation",
                          units=pol.attrs.get("units", ""))
        met_ds = obs.drop_vars(self.pollutant) if met is None else met
        met_ds = F.select_met(met_ds, self.met_vars, [self.pollutant], where=f"{_WHERE} met")
        met_ds = F.one_hot(met_ds)
        if "station" in met_ds.dims:
            missing = set(pol["station"].values.tolist()) - set(met_ds["station"].values.tolist())
            if missing:
                raise MissingFieldError(f"met lacks stations {sorted(missing)}", field="station",
                                        where=f"{_WHERE} met")
            met_ds = met_ds.sel(station=pol["station"])
        for name, da in met_ds.data_vars.items():
            if np.isinf(da.values).any():
                raise InvalidValueError(f"met {name} holds infinite values", field=name,
                                        where=_WHERE)
        pol_dh = F.day_hour(pol, self.utc_offset_hours)
        days = pol_dh["date"].values.astype("datetime64[D]")
        met_dh = None
        if met_ds.data_vars:
            F._check_time(met_ds, f"{_WHERE} met")
            met_dh = xr.Dataset({k: F.day_hour(v, self.utc_offset_hours, days)
                                 .broadcast_like(pol_dh).transpose(*pol_dh.dims)
                                 for k, v in met_ds.data_vars.items()})
        model_dh = None
        if model_forecast is not None:
            mf = model_forecast[self.pollutant] if isinstance(model_forecast, xr.Dataset) \
                else model_forecast
            model_dh = F.day_hour(mf, self.utc_offset_hours, days).broadcast_like(pol_dh) \
                .transpose(*pol_dh.dims)
        self.units_ = pol.attrs.get("units", self.units_)
        return pol_dh, met_dh, model_dh

    def _designs(self, obs, met, model_forecast) -> dict[int, tuple[xr.DataArray, xr.DataArray]]:
        pol_dh, met_dh, model_dh = self._inputs(obs, met, model_forecast)
        build = F.daily_design if self.resolution == "daily" else F.hourly_design
        return {lead: build(pol_dh, met_dh, model_dh, lead, **self.design_kwargs)
                for lead in self.leads}  # loop over leads

    # ------------------------------------------------------------------------------------- gbm
    def _gbm(self, loss: str, quantile: float | None = None):
        from sklearn.ensemble import HistGradientBoostingRegressor

        kw = {"quantile": quantile} if loss == "quantile" else {}
        return HistGradientBoostingRegressor(loss=loss, random_state=self.random_state,
                                             **self.gbm_params, **kw)

    def _fit_gbm(self, x: np.ndarray, y: np.ndarray, day: np.ndarray) -> dict:
        fwd = TRANSFORMS[self.transform][0]
        z = fwd(y)
        point = self._gbm("squared_error").fit(x, TRANSFORMS[self.point_transform][0](y))
        models = [self._gbm("quantile", q).fit(x, z) for q in self.quantiles]
        shifts = np.zeros(len(self.quantiles))
        if self.calibrate and self.n_folds > 1:
            # blocked K-fold over days: out-of-fold quantiles -> per-level residual quantile
            edges = np.quantile(day, np.linspace(0, 1, self.n_folds + 1))
            fold = np.clip(np.searchsorted(edges, day, side="right") - 1, 0, self.n_folds - 1)
            oof = np.full((z.size, len(self.quantiles)), np.nan)
            for k in range(self.n_folds):  # loop over folds and levels
                test = fold == k
                for i, q in enumerate(self.quantiles):
                    oof[test, i] = self._gbm("quantile", q).fit(x[~test], z[~test]).predict(x[test])
            oof = np.sort(oof, axis=1)
            shifts = np.array([np.quantile(z - oof[:, i], q)
                               for i, q in enumerate(self.quantiles)])
        return {"point": point, "quantiles": models, "shifts": shifts}

    def _predict_gbm(self, model: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inv = TRANSFORMS[self.transform][1]
        zq = np.column_stack([m.predict(x) for m in model["quantiles"]]) if len(x) else \
            np.empty((0, len(self.quantiles)))
        zq = np.sort(np.sort(zq, axis=1) + model["shifts"], axis=1)
        point = TRANSFORMS[self.point_transform][1](model["point"].predict(x)) if len(x) else \
            np.empty(0)
        return np.maximum(inv(zq), 0.0), np.maximum(point, 0.0)

    # --------------------------------------------------------------------------------- sarimax
    def _exog(self, x: xr.DataArray) -> xr.DataArray:
        names = [f for f in x["feature"].values.tolist()
                 if f.endswith("_d0") and not f.startswith("pol_")
                 or f.startswith("doy_")]
        return x.sel(feature=names)

    def _fit_sarimax(self, x: xr.DataArray, y: xr.DataArray, train: np.ndarray) -> list:
        fwd = TRANSFORMS[self.transform][0]
        exog = self._exog(x)
        out = []
        for s in range(y.sizes["station"]):  # one model per station
            e = exog.isel(station=s).values
            rows = train[s]
            last = np.flatnonzero(rows).max() + 1 if rows.any() else 0
            fill = np.nanmean(np.where(rows[:, None], e, np.nan), axis=0)
            fill = np.where(np.isfinite(fill), fill, 0.0)
            z = np.where(rows, fwd(y.isel(station=s).values), np.nan)[:last]
            res = fit_sarimax(z, np.where(np.isfinite(e), e, fill)[:last], self.order,
                              self.seasonal_order)
            out.append({"result": res, "fill": fill})
        return out

    def _predict_sarimax(self, models: list, x: xr.DataArray, lead: int):
        fwd, inv = TRANSFORMS[self.transform]
        exog = self._exog(x)
        y_obs = xr.DataArray(x.sel(feature=f"pol_day_m{lead}").values, dims=("station", "date"))
        q_out = np.full(y_obs.shape + (len(self.quantiles),), np.nan)
        mean_out = np.full(y_obs.shape, np.nan)
        for s, m in enumerate(models):  # one model per station
            e = exog.isel(station=s).values
            # the day-d series seen by the filter: observations of day d (shifted back from d+lead)
            z = fwd(F.shift_days(y_obs.values[s], -lead))
            mean, sd = sarimax_forecast(m["result"], z, np.where(np.isfinite(e), e, m["fill"]),
                                        lead)
            q_out[s] = inv(gaussian_quantiles(mean, sd, self.quantiles))
            mean_out[s] = {"log": np.exp(mean + sd**2 / 2) - 1, "sqrt": mean**2 + sd**2,
                           "none": mean}[self.transform]
        return np.maximum(q_out, 0.0), np.maximum(mean_out, 0.0)

    # ------------------------------------------------------------------------------- public API
    def _rows(self, x: xr.DataArray, y: xr.DataArray, lead: int, until=None):
        origin = x.sel(feature=f"pol_day_m{lead}").values
        ok = np.isfinite(y.values) & np.isfinite(origin)
        if until is not None:
            day = _day_of(y)
            ok &= day < np.datetime64(until, "D")
        return ok

    def _threads(self):
        import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime before limiting it)
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=self.n_threads, user_api="openmp")

    def _fit_designs(self, designs, until=None) -> StationForecaster:
        with self._threads():
            return self._fit_designs_inner(designs, until)

    def _fit_designs_inner(self, designs, until=None) -> StationForecaster:
        self.models_ = {}
        for lead, (x, y) in designs.items():  # loop over leads
            ok = self._rows(x, y, lead, until)
            if ok.sum() < 10:
                raise InvalidValueError(f"lead {lead}: only {int(ok.sum())} training days with a "
                                        "valid target and origin-day value", field=self.pollutant,
                                        where=_WHERE)
            self.feature_names_[lead] = x["feature"].values.tolist()
            if self.method == "gbm":
                xf = x.values.reshape(-1, x.sizes["feature"])
                day = np.broadcast_to(_day_of(y), y.shape).astype("int64").ravel()
                sel = ok.ravel()
                self.models_[lead] = self._fit_gbm(xf[sel], y.values.ravel()[sel], day[sel])
            else:
                self.models_[lead] = self._fit_sarimax(x, y, ok)
        return self

    def fit(self, obs: xr.Dataset, met: xr.Dataset | None = None,
            model_forecast: xr.Dataset | xr.DataArray | None = None) -> StationForecaster:
        """Fit one model per lead (and quantile) on every valid day of ``obs``.

        Parameters
        ----------
        obs : xarray.Dataset
            Hourly observations with the pollutant [ug m-3] on UTC ``time`` (``station`` dim
            optional); when ``met`` is None its other variables are the met predictors.
        met : xarray.Dataset, optional
            Hourly met (observed = perfect prognosis, or forecast), same stations or none.
        model_forecast : xarray.Dataset or DataArray, optional
            Hourly dispersion-model forecast of the pollutant at the stations (MOS predictor).
        """
        return self._fit_designs(self._designs(obs, met, model_forecast))

    def _predict_designs(self, designs, start=None, end=None) -> xr.Dataset:
        if not self.models_:
            raise InvalidValueError("the forecaster is not fitted; call fit() first",
                                    field="models_", where=_WHERE)
        q_all, p_all = [], []
        template = None
        for lead, (x, y) in designs.items():  # loop over leads
            if lead not in self.models_:
                raise InvalidValueError(f"lead {lead} was not fitted", field="leads")
            keep = np.ones(y.sizes["date"], bool)
            day = y["date"].values.astype("datetime64[D]")
            if start is not None:
                keep &= day >= np.datetime64(start, "D")
            if end is not None:
                keep &= day <= np.datetime64(end, "D")
            x, y = x.isel(date=keep), y.isel(date=keep)
            template = y
            ok = np.isfinite(x.sel(feature=f"pol_day_m{lead}").values)
            if self.method == "gbm":
                xf = x.values.reshape(-1, x.sizes["feature"])
                with self._threads():
                    q, p = self._predict_gbm(self.models_[lead], xf)
                q = q.reshape(y.shape + (len(self.quantiles),))
                p = p.reshape(y.shape)
            else:
                q, p = self._predict_sarimax(self.models_[lead], x, lead)
            q_all.append(np.where(ok[..., None], q, np.nan))
            p_all.append(np.where(ok, p, np.nan))
        return self._to_dataset(template, np.stack(q_all, axis=-2), np.stack(p_all, axis=-1))

    def _to_dataset(self, template: xr.DataArray, q: np.ndarray, p: np.ndarray) -> xr.DataArray:
        dims = ("station", "time")
        if self.resolution == "hourly":  # local (date, hour) -> UTC time
            times = (template["date"].values.astype("datetime64[h]")[:, None] + np.arange(24)
                     * np.timedelta64(1, "h") - np.timedelta64(int(self.utc_offset_hours), "h"))
            ns = template.sizes["station"]
            q = q.reshape(ns, -1, *q.shape[3:])
            p = p.reshape(ns, -1, p.shape[-1])
            time = times.ravel().astype("datetime64[ns]")
            time_attrs = {"long_name": "valid time (UTC, hour start)"}
        else:
            time = template["date"].values
            time_attrs = {"long_name": f"target day (local date, UTC{self.utc_offset_hours:+g})"}
        units = self.units_ or "1"
        name = self.pollutant
        ds = xr.Dataset(
            {name: (dims + ("lead", "quantile"), q, {
                "units": units, "long_name": f"{name} forecast quantiles ({self.resolution})"}),
             f"{name}_mean": (dims + ("lead",), p, {
                 "units": units, "long_name": f"{name} point forecast ({self.resolution})"})},
            coords={"station": template["station"].values, "time": ("time", time, time_attrs),
                    "lead": ("lead", np.asarray(self.leads), {"units": "days",
                             "long_name": "days between the end of the origin day and the target"}),
                    "quantile": ("quantile", np.asarray(self.quantiles), {"units": "1"})})
        ds.attrs.update(method=self.method, resolution=self.resolution,
                        transform=self.transform, calibrated=int(self.calibrate),
                        source="ecodss.stats.StationForecaster")
        return ds

    def predict(self, obs: xr.Dataset, met: xr.Dataset | None = None,
                model_forecast=None, start=None, end=None) -> xr.Dataset:
        """Forecasts of every target day in ``[start, end]`` (local dates) from the inputs.

        Returns
        -------
        xarray.Dataset
            ``<pollutant>`` quantiles ``(station, time, lead, quantile)`` and ``<pollutant>_mean``
            ``(station, time, lead)`` [units of the observations]; ``time`` is the target day
            (daily: local date) or valid hour (hourly: UTC). NaN where the origin-day daily mean
            is missing.
        """
        return self._predict_designs(self._designs(obs, met, model_forecast), start, end)

    def backtest(self, obs: xr.Dataset, met: xr.Dataset | None = None, model_forecast=None, *,
                 start, end=None, refit_every: int = 365) -> xr.Dataset:
        """Rolling-origin evaluation forecasts (Tashman 2000): refit every ``refit_every`` days
        on all days before the block, forecast the block, concatenate.

        References
        ----------
        Tashman, L. J. (2000) Out-of-sample tests of forecasting accuracy: an analysis and
        review. Int. J. Forecast. 16, 437-450.
        """
        designs = self._designs(obs, met, model_forecast)
        y = next(iter(designs.values()))[1]
        last_day = y["date"].values.astype("datetime64[D]").max()
        stop = last_day if end is None else np.datetime64(end, "D")
        starts = np.arange(np.datetime64(start, "D"), stop + 1, np.timedelta64(refit_every, "D"))
        parts = []
        for block in starts:  # loop over refits
            self._fit_designs(designs, until=block)
            block_end = min(block + np.timedelta64(refit_every - 1, "D"), stop)
            parts.append(self._predict_designs(designs, block, block_end))
        return xr.concat(parts, dim="time")


def _day_of(y: xr.DataArray) -> np.ndarray:
    """Target local date of each element of a design target (broadcastable to ``y``)."""
    day = y["date"].values.astype("datetime64[D]")
    return day[:, None] if y.dims[-1] == "hour" else day
