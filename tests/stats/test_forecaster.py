"""StationForecaster on a synthetic station: skill, quantiles, hourly, SARIMAX, validation."""

import numpy as np
import pytest
import xarray as xr

from ecodss.errors import (
    InvalidValueError,
    MissingFieldError,
    NegativeValueError,
    UnknownFieldError,
)
from ecodss.stats import StationForecaster
from ecodss.stats import features as F

TRAIN_END = "2020-06-30T15:59"  # local days <= 2020-06-30


def _daily_obs(ds):
    dh = F.day_hour(ds["pm25"])
    return xr.DataArray(F.daily_stat(dh.values, "mean", 18), dims=("station", "time"),
                        coords={"station": dh["station"].values, "time": dh["date"].values})


@pytest.fixture(scope="module")
def gbm(station_ds, fast):
    model = StationForecaster(leads=(1, 2), gbm_params=fast, min_valid=18, n_folds=3)
    model.fit(station_ds.sel(time=slice(None, TRAIN_END)))
    return model, model.predict(station_ds, start="2020-07-01")


def test_output_layout(gbm):
    _, fc = gbm
    assert fc["pm25"].dims == ("station", "time", "lead", "quantile")
    assert fc["pm25_mean"].dims == ("station", "time", "lead")
    assert fc["pm25"].attrs["units"] == "ug m-3"
    assert fc["time"].values[0] == np.datetime64("2020-07-01")
    assert np.all(np.diff(fc["pm25"].values, axis=-1) >= 0)  # no crossing


def test_beats_persistence_and_covers(gbm, station_ds):
    _, fc = gbm
    obs = _daily_obs(station_ds).sel(time=fc["time"])
    f1 = fc["pm25_mean"].sel(lead=1)
    persistence = _daily_obs(station_ds).shift(time=1).sel(time=fc["time"])
    ok = np.isfinite(obs) & np.isfinite(f1) & np.isfinite(persistence)
    # log scale: the synthetic series is log-normal and its raw MSE is ruled by a few extremes
    mse = float(((np.log(f1) - np.log(obs)) ** 2).where(ok).mean())
    mse_p = float(((np.log(persistence) - np.log(obs)) ** 2).where(ok).mean())
    assert mse < 0.5 * mse_p  # the target-day wind explains most of the daily innovation
    q = fc["pm25"].sel(lead=1)
    inside = ((obs >= q.sel(quantile=0.1)) & (obs <= q.sel(quantile=0.9))).where(ok)
    assert 0.6 <= float(inside.mean()) <= 0.97


def test_calibration_widens_intervals(station_ds, fast):
    kw = dict(leads=(1,), gbm_params=fast, min_valid=18)
    train = station_ds.sel(time=slice(None, TRAIN_END))
    raw = StationForecaster(calibrate=False, **kw).fit(train).predict(station_ds,
                                                                      start="2020-07-01")
    cal = StationForecaster(calibrate=True, **kw).fit(train).predict(station_ds,
                                                                     start="2020-07-01")

    def width(fc):
        q = fc["pm25"].sel(lead=1)
        return float((np.log1p(q.sel(quantile=0.9)) - np.log1p(q.sel(quantile=0.1))).mean())

    assert width(cal) > width(raw)


def test_hourly_resolution(station_ds, fast):
    model = StationForecaster(leads=(1,), resolution="hourly", gbm_params=fast, calibrate=False,
                              min_valid=18)
    model.fit(station_ds.sel(time=slice(None, TRAIN_END)))
    fc = model.predict(station_ds, start="2020-07-01", end="2020-07-02")
    assert fc.sizes["time"] == 48
    # first valid hour of local 2020-07-01 is 2020-06-30 16:00 UTC
    assert fc["time"].values[0] == np.datetime64("2020-06-30T16:00")
    obs = station_ds["pm25"].isel(station=0).sel(time=fc["time"])
    err = float(np.abs(fc["pm25_mean"].isel(station=0, lead=0) - obs).mean() / obs.mean())
    assert err < 0.5


def test_backtest_matches_fit_then_predict(station_ds, fast):
    model = StationForecaster(leads=(1,), gbm_params=fast, calibrate=False, min_valid=18)
    bt = model.backtest(station_ds, start="2020-07-01", end="2020-08-09", refit_every=20)
    assert bt.sizes["time"] == 40
    first = StationForecaster(leads=(1,), gbm_params=fast, calibrate=False, min_valid=18)
    first.fit(station_ds.sel(time=slice(None, TRAIN_END)))
    ref = first.predict(station_ds, start="2020-07-01", end="2020-07-20")
    np.testing.assert_allclose(bt["pm25_mean"].isel(time=slice(0, 20)).values,
                               ref["pm25_mean"].values)


def test_met_given_separately_without_station(station_ds, fast):
    obs = station_ds[["pm25"]]
    met = station_ds[["wind", "rh"]].isel(station=0, drop=True)
    model = StationForecaster(leads=(1,), gbm_params=fast, calibrate=False, min_valid=18)
    fc = model.fit(obs.sel(time=slice(None, TRAIN_END)), met=met).predict(
        obs, met=met, start="2020-07-01")
    assert "wind_d0" in model.feature_names_[1]
    assert np.isfinite(fc["pm25_mean"]).sum() > 40


def test_model_forecast_as_mos_predictor(station_ds, fast):
    """A biased but informative dispersion-model forecast is used and corrected (MOS)."""
    truth = station_ds["pm25"]
    model_fc = 2.0 * truth.rolling(time=24, min_periods=1, center=True).mean() + 10.0
    kw = dict(leads=(1,), gbm_params=fast, calibrate=False, min_valid=18, met_vars=[])
    train = station_ds[["pm25"]].sel(time=slice(None, TRAIN_END))
    with_mos = StationForecaster(**kw).fit(train, model_forecast=model_fc)
    without = StationForecaster(**kw).fit(train)
    obs = _daily_obs(station_ds).sel(time=slice("2020-07-01", None))
    a = with_mos.predict(station_ds[["pm25"]], model_forecast=model_fc, start="2020-07-01")
    b = without.predict(station_ds[["pm25"]], start="2020-07-01")
    rmse = [float(np.sqrt(((np.log(x["pm25_mean"].sel(lead=1)) - np.log(obs)) ** 2).mean()))
            for x in (a, b)]
    assert rmse[0] < 0.6 * rmse[1]


def test_sarimax_matches_statsmodels_forecast(station_ds):
    """Multi-origin state-space forecasts equal statsmodels' own forecast from one origin."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    model = StationForecaster(leads=(1, 3), method="sarimax", order=(1, 0, 0), min_valid=18)
    model.fit(station_ds.sel(time=slice(None, TRAIN_END)))
    x, y = model._designs(station_ds, None, None)[1]
    exog = np.column_stack([np.ones(y.sizes["date"]), model._exog(x).isel(station=0).values])
    z = np.log1p(y.isel(station=0).values)
    fc = model.predict(station_ds)
    origin = 190  # forecast days origin+1..origin+3 from data up to day `origin`
    for lead in (1, 3):  # each lead has its own fitted parameters
        params = model.models_[lead][0]["result"].params
        ref = SARIMAX(z[:origin + 1], exog=exog[:origin + 1], order=(1, 0, 0)).filter(params)
        fcst = ref.get_forecast(lead, exog=exog[origin + 1:origin + 1 + lead])
        day = fc["pm25"].isel(station=0, time=origin + lead).sel(lead=lead)
        mean, sd = fcst.predicted_mean[-1], np.sqrt(fcst.var_pred_mean[-1])
        assert np.log1p(day.sel(quantile=0.5).item()) == pytest.approx(mean, rel=1e-6)
        assert np.log1p(day.sel(quantile=0.9).item()) == pytest.approx(mean + 1.2815516 * sd,
                                                                       rel=1e-5)


def test_validation_errors(station_ds):
    with pytest.raises(UnknownFieldError):
        StationForecaster(method="lstm")
    with pytest.raises(InvalidValueError):
        StationForecaster(method="sarimax", resolution="hourly")
    with pytest.raises(InvalidValueError):
        StationForecaster(quantiles=(0.9, 0.1))
    with pytest.raises(MissingFieldError):
        StationForecaster(pollutant="no2").fit(station_ds)
    with pytest.raises(MissingFieldError):
        StationForecaster(met_vars=["temperature"]).fit(station_ds)
    bad = station_ds.copy(deep=True)
    bad["pm25"][0, 5] = -3.0
    with pytest.raises(NegativeValueError):
        StationForecaster().fit(bad)
    with pytest.raises(InvalidValueError):
        StationForecaster().predict(station_ds)  # not fitted


def test_works_without_station_dim(fast, make_station):
    ds = make_station(n_days=120, seed=3).isel(station=0, drop=True)
    model = StationForecaster(leads=(1,), gbm_params=fast, calibrate=False, min_valid=18)
    fc = model.fit(ds.isel(time=slice(0, 90 * 24))).predict(ds, start="2020-04-01")
    assert fc.sizes["station"] == 1
