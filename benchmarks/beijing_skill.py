"""Acceptance benchmark of issue #4: next-day PM2.5 forecasts for Beijing, 2014 (real data).

Protocol (run once): train 2010-2012, select settings on 2013 (lead 1, RMSE of the point
forecast), refit on 2010-2013, score 2014 (daily-mean PM2.5 of local days with >= 18 valid hours,
as in the data README; lead 1 day; perfect-prognosis met of the target day). In the same run:
persistence and the plain gradient-boosting baseline of the data README (scikit-learn
``GradientBoostingRegressor`` with default settings on today's PM2.5 and the target day's daily
met means), quantile checks (coverage, CRPS against monthly climatology), MSE skill against
persistence for leads 1-3, and the alert-probability / cost-loss evaluation.

Usage: ``python benchmarks/beijing_skill.py [path/to/PRSA.csv]`` (default: ``../shared``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

HEAVY = 150.0  # ug m-3: daily PM2.5 > 150 <=> AQI > 200 (HJ 633-2012 Table 1)
MIN_VALID = 18  # valid hours for a daily mean, as in the data README's reference scores
LEVELS = (0.1, 0.5, 0.9)
COST_LOSS = (0.1, 0.3, 0.6)
GRID = [  # settings compared on 2013
    {"n_blocks": 4, "point_transform": "sqrt"},
    {"n_blocks": 2, "point_transform": "sqrt"},
    {"n_blocks": 4, "point_transform": "none"},
]


def main(path: Path) -> None:
    import ecodss.evaluate as ev
    from ecodss.emergency import uncertainty as U
    from ecodss.io.stations import read_prsa
    from ecodss.stats import StationForecaster
    from ecodss.stats import features as F
    from ecodss.timeutil import daily_mean

    clock = {}
    t0 = time.perf_counter()
    ds = read_prsa(path)
    obs = daily_mean(ds["pm25"], min_valid=MIN_VALID).rename(date="time")
    clock["read + daily means"] = time.perf_counter() - t0

    def scores(o, f):
        o, f = np.asarray(o, float), np.asarray(f, float)
        ct = ev.contingency(o > HEAVY, f > HEAVY)
        return {"rmse": float(ev.rmse(o, f)), "r": float(ev.correlation(o, f)),
                "nmb": float(ev.nmb(o, f)), "nme": float(ev.nme(o, f)), "pod": ct.pod,
                "far": ct.far, "ts": ct.ts}

    def line(name, s):
        print(f"  {name:<26} RMSE {s['rmse']:5.1f}  R {s['r']:.3f}  NMB {100 * s['nmb']:+5.1f} %"
              f"  NME {100 * s['nme']:4.1f} %  POD {s['pod']:.2f}  FAR {s['far']:.2f}"
              f"  TS {s['ts']:.3f}")

    # ---------------------------------------------------------------- selection on 2013
    t0 = time.perf_counter()
    train = ds.sel(time=slice(None, "2012-12-31T15:59"))  # local days <= 2012-12-31
    val_obs = obs.sel(time=slice("2013-01-01", "2013-12-31"))
    best, best_rmse, val_fc = None, np.inf, None
    print("Selection on 2013 (train 2010-2012, lead 1, point forecast):")
    for setting in GRID:  # a few candidate settings
        f = StationForecaster(leads=(1,), quantiles=LEVELS, min_valid=MIN_VALID, calibrate=False,
                              **setting).fit(train)
        p = f.predict(ds, start="2013-01-01", end="2013-12-31")
        s = scores(*_pairs(val_obs, p["pm25_mean"].sel(lead=1)))
        print(f"  {setting}: RMSE {s['rmse']:.1f}, TS {s['ts']:.3f}")
        if s["rmse"] < best_rmse:
            best, best_rmse, val_fc = setting, s["rmse"], p
    o13, q13 = xr.align(val_obs, val_fc["pm25"].sel(lead=1), join="inner")
    rho = U.lag_correlation(o13.values, q13.values, LEVELS)
    print(f"  selected {best}; lag-1 correlation of 2013 normal scores rho = {rho:.2f}")
    clock["selection (3 settings)"] = time.perf_counter() - t0

    # ---------------------------------------------------------------- refit, score 2014
    t0 = time.perf_counter()
    model = StationForecaster(leads=(1, 2, 3), quantiles=LEVELS, min_valid=MIN_VALID, **best)
    model.fit(ds.sel(time=slice(None, "2013-12-31T15:59")))
    clock["refit 2010-2013 (3 leads, calibrated)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fc = model.predict(ds, start="2014-01-01", end="2014-12-31")
    clock["predict 2014"] = time.perf_counter() - t0

    # baseline of the data README and persistence, from the same predictors
    t0 = time.perf_counter()
    from sklearn.ensemble import GradientBoostingRegressor

    met_hourly = F.one_hot(ds.drop_vars("pm25"))
    pol_dh = F.day_hour(ds["pm25"])
    met_dh = xr.Dataset({k: F.day_hour(v) for k, v in met_hourly.items()})
    x, y = F.daily_design(pol_dh, met_dh, None, 1, min_valid=MIN_VALID)
    cols = ["pol_day_m1"] + [f"{v}_d0" for v in met_hourly.data_vars]
    xb = x.sel(feature=cols).isel(station=0)
    yb = y.isel(station=0)
    day = yb["date"].values.astype("datetime64[D]")
    fit_rows = (day < np.datetime64("2014-01-01")) & np.isfinite(yb.values) \
        & np.isfinite(xb.values).all(axis=1)
    gbr = GradientBoostingRegressor(random_state=0).fit(xb.values[fit_rows], yb.values[fit_rows])
    test = day >= np.datetime64("2014-01-01")
    pred_rows = test & np.isfinite(xb.values).all(axis=1)
    base = np.full(day.size, np.nan)
    base[pred_rows] = gbr.predict(xb.values[pred_rows])
    baseline = xr.DataArray(base[test], dims="time", coords={"time": yb["date"].values[test]})
    clock["baseline GBR fit + predict"] = time.perf_counter() - t0

    obs14 = obs.isel(station=0).sel(time=slice("2014-01-01", "2014-12-31"))
    persist = {lead: ev.persistence(obs.isel(station=0), lead).sel(time=obs14.time)
               for lead in (1, 2, 3)}
    mean1 = fc["pm25_mean"].isel(station=0).sel(lead=1)
    common = np.isfinite(obs14) & np.isfinite(mean1) & np.isfinite(baseline) \
        & np.isfinite(persist[1])
    o, f1, b1, p1 = (a.where(common, drop=True) for a in (obs14, mean1, baseline, persist[1]))
    print(f"\n2014, lead 1 day, {int(common.sum())} days (README reference: persistence RMSE 73.0,"
          " plain GBR RMSE 41.3, TS 0.53):")
    s_f, s_b, s_p = scores(o, f1), scores(o, b1), scores(o, p1)
    line("persistence", s_p)
    line("baseline GBR (README)", s_b)
    line("ecodss StationForecaster", s_f)
    bench = ev.pm25_benchmarks(o.values, f1.values)
    print(f"  Huang et al. (2021) PM2.5 benchmarks: {bench}")
    boot = ev.bootstrap_difference("rmse", o.values, f1.values, b1.values, n_boot=2000,
                                   block=7, level=0.90, seed=0)
    print(f"  RMSE(ecodss) - RMSE(baseline) = {boot['estimate']:.1f} ug m-3, 90 % block-bootstrap"
          f" interval [{boot['lower']:.1f}, {boot['upper']:.1f}] (block 7 days, 2000 resamples)")

    print("\nMSE skill against persistence, 2014 (point forecast):")
    for lead in (1, 2, 3):
        fl = fc["pm25_mean"].isel(station=0).sel(lead=lead)
        ok = np.isfinite(obs14) & np.isfinite(fl) & np.isfinite(persist[lead])
        skill = float(ev.mse_skill(obs14.where(ok, drop=True).values,
                                   fl.where(ok, drop=True).values,
                                   persist[lead].where(ok, drop=True).values))
        s = scores(obs14.where(ok, drop=True), fl.where(ok, drop=True))
        print(f"  lead {lead}: MSE skill {skill:.3f}  (RMSE {s['rmse']:.1f}, R {s['r']:.3f}, "
              f"TS {s['ts']:.3f}, n {int(ok.sum())})")

    # ---------------------------------------------------------------- quantiles
    q1 = fc["pm25"].isel(station=0).sel(lead=1)
    ok = np.isfinite(obs14) & np.isfinite(q1).all("quantile")
    oq, qq = obs14.where(ok, drop=True), q1.where(ok, drop=True)
    cover = float(ev.interval_coverage(oq.values, qq.sel(quantile=0.1).values,
                                       qq.sel(quantile=0.9).values))
    clim = ev.climatology_quantiles(obs.isel(station=0), LEVELS,
                                    train=slice("2010-01-01", "2013-12-31")).sel(time=oq.time)
    crps_f = float(ev.crps_quantiles(oq.values, qq.values, LEVELS))
    crps_c = float(ev.crps_quantiles(oq.values, clim.values, LEVELS))
    fine = (np.arange(99) + 0.5) / 99
    crps_f99 = float(ev.crps_quantiles(oq.values, U.quantile_function(qq.values, LEVELS, fine),
                                       fine))
    clim99 = ev.climatology_quantiles(obs.isel(station=0), fine,
                                      train=slice("2010-01-01", "2013-12-31")).sel(time=oq.time)
    crps_c99 = float(ev.crps_quantiles(oq.values, clim99.values, fine))
    print(f"\nQuantiles, 2014 lead 1 ({int(ok.sum())} days): 10-90 % interval coverage "
          f"{100 * cover:.1f} % (target 80 +- 5)")
    print(f"  CRPS (3-level quantile score) forecast {crps_f:.1f} vs monthly climatology "
          f"{crps_c:.1f} ug m-3; CRPS from 99 levels of the predictive distribution "
          f"{crps_f99:.1f} vs climatology {crps_c99:.1f} (skill {1 - crps_f99 / crps_c99:.2f})")

    # ---------------------------------------------------------------- alerts, cost-loss
    t0 = time.perf_counter()
    by_issue = xr.concat([fc["pm25"].isel(station=0).sel(lead=lead, drop=True)
                          .assign_coords(time=fc["time"].values - np.timedelta64(lead, "D"))
                          for lead in (1, 2, 3)], dim="lead", join="outer")
    by_issue = by_issue.assign_coords(lead=[1, 2, 3]).rename(time="issue")
    obs_days = xr.concat([obs.isel(station=0).shift(time=-lead).rename(time="issue")
                          .sel(issue=by_issue.issue) for lead in (1, 2, 3)], dim="lead")
    obs_days = obs_days.assign_coords(lead=[1, 2, 3])
    probs = U.alert_probabilities(by_issue.transpose("issue", "lead", "quantile"),
                                  n_samples=1000, rho=max(rho, 0.0), seed=0)
    observed = U.observed_alert_level(obs_days.transpose("issue", "lead"))
    event = (observed >= 1).where(observed.notnull())
    p_yellow = probs["p_at_least"].sel(level=1)
    clock["alert probabilities (1000 samples x 3 days)"] = time.perf_counter() - t0
    valid = event.notnull() & p_yellow.notnull()
    bs = float(ev.brier_score(event.where(valid, drop=True).values,
                              p_yellow.where(valid, drop=True).values))
    print(f"\nAlert decisions (issues in 2014 with all three lead days observed: {int(valid.sum())};"
          f" event = observed days 1-3 warrant >= yellow under the 2018 rules; "
          f"base rate {float(event.where(valid, drop=True).mean()):.3f}; Brier score {bs:.3f}):")
    table = U.cost_loss_table(event.where(valid).values, p_yellow.where(valid).values, COST_LOSS)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    heavy = (obs14 > HEAVY).where(obs14.notnull())
    p_heavy = probs["p_heavy_day"].sel(lead=1).assign_coords(
        issue=probs["issue"].values + np.timedelta64(1, "D")).rename(issue="time")
    heavy, p_heavy = xr.align(heavy, p_heavy, join="inner")
    print("\nHeavy day (lead 1, daily PM2.5 > 150) by the cost-loss rule:")
    print(U.cost_loss_table(heavy.values, p_heavy.values, COST_LOSS)
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    # ---------------------------------------------------------------- acceptance
    checks = {
        "RMSE < baseline": s_f["rmse"] < s_b["rmse"],
        "heavy-day TS > baseline": s_f["ts"] > s_b["ts"],
        "R >= 0.86": s_f["r"] >= 0.86,
        "|NMB| <= 10 %": abs(s_f["nmb"]) <= 0.10,
        "NME <= 30 %": s_f["nme"] <= 0.30,
        "coverage 80 +- 5 %": abs(cover - 0.80) <= 0.05,
        "CRPS < climatology": crps_f < crps_c and crps_f99 < crps_c99,
    }
    print("\nAcceptance:", ", ".join(f"{k}: {'PASS' if v else 'FAIL'}" for k, v in checks.items()))
    print("\nTimings [s]:", ", ".join(f"{k} {v:.1f}" for k, v in clock.items()))
    n_pred = int(np.isfinite(fc["pm25_mean"]).sum())
    print(f"Throughput: {n_pred} lead-day forecasts (x{len(LEVELS)} quantiles + mean) in "
          f"{clock['predict 2014']:.2f} s")
    if not all(checks.values()):
        sys.exit(1)


def _pairs(o: xr.DataArray, f: xr.DataArray):
    o, f = xr.align(o.squeeze(drop=True), f.squeeze(drop=True), join="inner")
    ok = np.isfinite(o) & np.isfinite(f)
    return o.where(ok, drop=True), f.where(ok, drop=True)


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1].parent / "shared" / "air" / "beijing_pm25" / \
        "PRSA_data_2010.1.1-2014.12.31.csv"
    start = time.perf_counter()
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
    print(f"Total {time.perf_counter() - start:.1f} s")
