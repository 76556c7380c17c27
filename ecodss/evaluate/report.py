"""Verification report: score tables (CSV) and figures (PNG) for one station's forecasts.

Figures: time series with the China AQI category bands (PM2.5) or the event thresholds and the
forecast interval; performance diagram (success ratio 1 − FAR vs POD with CSI contours and
frequency-bias lines, Roebber 2009, *Wea. Forecasting* 24, 601–608); reliability diagram of
the event probabilities derived from the quantile forecast (Wilks 2011, §8.4.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InvalidValueError, MissingFieldError
from ..io.netcdf import atomic_write, atomic_write_text
from ..plot import AQI_COLOURS, PM25_BREAKPOINTS
from .benchmarks import pm25_benchmarks
from .categorical import contingency, multicategory
from .continuous import continuous_scores
from .probabilistic import (
    brier_decomposition,
    crps_quantiles,
    exceedance_probability,
    interval_coverage,
    pinball_loss,
    reliability_curve,
)
from .resampling import bootstrap_difference

#: Default events for PM2.5: above AQI 100 (75), heavy pollution AQI > 200 (150), severe > 300.
PM25_EVENTS = (75.0, 150.0, 250.0)


def _series(x, name: str) -> pd.Series:
    if isinstance(x, xr.DataArray):
        if x.ndim != 1:
            raise InvalidValueError(f"{name} must be one station's series (1-D), got dims "
                                    f"{x.dims}; select a station first", field=name,
                                    where="verification_report")
        x = x.to_series()
    if isinstance(x, pd.DataFrame) and x.shape[1] == 1:
        x = x.iloc[:, 0]
    if not isinstance(x, pd.Series):
        raise InvalidValueError(f"{name} must be a pandas Series or 1-D DataArray with a time "
                                "index", field=name, where="verification_report")
    return x.astype(float)


def _quantile_frame(q, index) -> pd.DataFrame:
    if isinstance(q, xr.DataArray):
        if "quantile" not in q.dims:
            raise MissingFieldError("quantile forecast needs a 'quantile' dimension",
                                    field="quantile", where="verification_report")
        q = q.transpose(..., "quantile").to_pandas()
    frame = pd.DataFrame(q).astype(float)
    frame.columns = [float(c) for c in frame.columns]
    return frame.sort_index(axis=1).reindex(index)


def _write_csv(frame: pd.DataFrame, path: Path, index: bool = True) -> Path:
    return atomic_write_text(path, frame.to_csv(index=index, float_format="%.6g"))


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    out = atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
    return out


def _continuous_table(obs, forecasts, reference, n_boot, block, seed, pm25: bool):
    rows = {}
    for name, f in forecasts.items():
        ref = forecasts[reference] if reference else None
        row = dict(continuous_scores(obs, f, reference=ref))
        if pm25:
            bench = pm25_benchmarks(obs, f)
            row |= {"meets_goal": bench["meets_goal"], "meets_criteria": bench["meets_criteria"]}
        if reference and name != reference:
            boot = bootstrap_difference("rmse", obs.values, f.values, ref.values, n_boot=n_boot,
                                        block=block, seed=seed)
            row |= {"rmse_minus_reference": boot["estimate"], "ci_lower": boot["lower"],
                    "ci_upper": boot["upper"], "ci_level": boot["level"],
                    "bootstrap_block": boot["block"]}
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("forecast")


def _categorical_table(obs, forecasts, events) -> pd.DataFrame:
    rows = []
    for name, f in forecasts.items():
        for thr in events:
            t = contingency(obs, f, threshold=thr).to_dict()
            rows.append({"forecast": name, "threshold": thr, **t})
    return pd.DataFrame(rows)


def _category_tables(obs, forecasts, edges):
    cats = list(range(1, len(edges) + 2))

    def to_cat(x):
        return pd.Series(np.where(x.isna(), np.nan, np.digitize(x, edges, right=True) + 1),
                         index=x.index)

    summary, confusion = {}, None
    for i, (name, f) in enumerate(forecasts.items()):
        acc, hss, conf = multicategory(to_cat(obs), to_cat(f), cats)
        summary[name] = {"accuracy": acc, "hss": hss}
        if i == 0:
            confusion = conf
    return pd.DataFrame.from_dict(summary, orient="index").rename_axis("forecast"), confusion


def _probabilistic_tables(obs, q: pd.DataFrame, events):
    levels = np.asarray(q.columns, dtype=float)
    lo, hi = q.iloc[:, 0], q.iloc[:, -1]
    row = {"crps": crps_quantiles(obs, q, levels),
           "interval": f"{levels[0]:g}-{levels[-1]:g}",
           "nominal_coverage": levels[-1] - levels[0],
           "coverage": interval_coverage(obs, lo, hi)}
    row |= {f"pinball_{lev:g}": pinball_loss(obs, q[lev], lev) for lev in levels}
    brier_rows, curves = [], []
    for thr in events:
        p = exceedance_probability(q, levels, thr)
        o = (obs > thr).astype(float).where(obs.notna())
        d = brier_decomposition(o, p)
        brier_rows.append({"threshold": thr, "base_rate": float(o.mean()), **d})
        curves.append(reliability_curve(o, p).assign(threshold=thr))
    return (pd.DataFrame([row]), pd.DataFrame(brier_rows),
            pd.concat(curves, ignore_index=True))


def _plot_timeseries(obs, forecasts, q, events, pm25: bool, variable, units, title, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.2))
    top = float(np.nanmax([obs.max()] + [f.max() for f in forecasts.values()]
                          + ([q.iloc[:, -1].max()] if q is not None else [])))
    if pm25:
        edges = (0.0, *PM25_BREAKPOINTS, max(top, 300.0) * 1.05)
        for lo, hi, colour in zip(edges[:-1], edges[1:], AQI_COLOURS, strict=False):
            ax.axhspan(lo, hi, color=colour, alpha=0.12, lw=0)
    for thr in events:
        ax.axhline(thr, color="0.4", lw=0.8, ls="--")
    if q is not None:
        ax.fill_between(q.index, q.iloc[:, 0], q.iloc[:, -1], color="tab:blue", alpha=0.25,
                        lw=0, label=f"{q.columns[0]:g}–{q.columns[-1]:g} quantile interval")
    ax.plot(obs.index, obs.values, color="k", lw=1.2, label="observed")
    for i, (name, f) in enumerate(forecasts.items()):
        ax.plot(f.index, f.values, lw=1.4 if i == 0 else 0.8, alpha=1.0 if i == 0 else 0.7,
                label=name)
    ax.set(ylabel=f"{variable} [{units}]", title=title, ylim=(0, top * 1.05))
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    fig.tight_layout()
    return _save(fig, path)


def _plot_performance(cat: pd.DataFrame, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sr, pod = np.meshgrid(np.linspace(0.01, 1, 100), np.linspace(0.01, 1, 100))
    csi = 1.0 / (1.0 / sr + 1.0 / pod - 1.0)
    fig, ax = plt.subplots(figsize=(5.6, 5.6))
    cs = ax.contourf(sr, pod, csi, levels=np.arange(0, 1.01, 0.1), cmap="Greys", alpha=0.5)
    fig.colorbar(cs, ax=ax, label="critical success index (CSI)")
    for b in (0.5, 0.8, 1.0, 1.3, 2.0, 4.0):
        x = np.linspace(0.01, 1, 100)
        ax.plot(x, b * x, color="0.3", lw=0.7, ls="--")
        if b <= 1:
            ax.annotate(f"{b:g}", (1.0, b), fontsize=7, ha="left")
        else:
            ax.annotate(f"{b:g}", (1.0 / b, 1.0), fontsize=7, va="bottom")
    markers = "osD^vP*X"
    for i, (name, rows) in enumerate(cat.groupby("forecast", sort=False)):
        ax.scatter(rows["success_ratio"], rows["pod"], marker=markers[i % len(markers)], s=50,
                   zorder=3, label=name)
        for _, r in rows.iterrows():
            if np.isfinite(r["success_ratio"]) and np.isfinite(r["pod"]):
                ax.annotate(f"{r['threshold']:g}", (r["success_ratio"], r["pod"]), fontsize=7,
                            xytext=(4, 4), textcoords="offset points")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="success ratio (1 − FAR)",
           ylabel="probability of detection (POD)",
           title="performance diagram (labels: threshold, dashed: bias)")
    ax.legend(loc="lower left", fontsize=8)
    fig.subplots_adjust(left=0.12, right=0.98, bottom=0.1, top=0.93)
    return _save(fig, path)


def _plot_reliability(curves: pd.DataFrame, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.4, 5.4))
    ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--", label="perfect reliability")
    for thr, c in curves.groupby("threshold"):
        c = c[c["count"] > 0]
        ax.plot(c["forecast_probability"], c["observed_frequency"], marker="o",
                label=f"P(> {thr:g})")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="forecast probability",
           ylabel="observed relative frequency", title="reliability diagram")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def verification_report(obs, fcst, *, quantiles=None, events: Sequence[float] | None = None,
                        reference: str | None = None, out_dir, variable: str = "pm25",
                        units: str = "ug m-3", title: str | None = None, n_boot: int = 1000,
                        block: int | str = "auto", seed: int | None = 0) -> dict:
    """Verify one station's forecasts and write the tables and figures to ``out_dir``.

    Parameters
    ----------
    obs : pandas Series (DatetimeIndex) or 1-D xarray.DataArray
        Observations [``units``], e.g. daily-mean PM2.5.
    fcst : Series/DataArray or mapping name → Series/DataArray
        Point forecast(s) valid at the same times; the first is the main one (time series).
        All are scored on the common times where the observation and every forecast are valid.
    quantiles : pandas DataFrame (columns = levels) or DataArray (time, quantile), optional
        Quantile forecast of the main forecast: CRPS, coverage of the outer interval, pinball
        losses, and event probabilities (linear CDF interpolation) for the Brier score and the
        reliability diagram.
    events : sequence of float, optional
        Event thresholds [``units``], "event" = value > threshold. Default for PM2.5: 75, 150,
        250 µg/m³ (AQI 100, 200 = heavy pollution, 300 = severe; HJ 633-2012); otherwise none.
    reference : str, optional
        Name (key of ``fcst``) of the reference forecast: MSE skill and the paired block-
        bootstrap interval of the RMSE difference to it.
    out_dir : path
        Output folder (created).
    variable, units, title : str
        Labels; ``variable="pm25"`` adds the AQI categories (confusion matrix, accuracy, HSS)
        and the Huang et al. (2021) benchmark flags.
    n_boot, block, seed
        Bootstrap settings (:func:`~ecodss.evaluate.bootstrap_difference`).

    Returns
    -------
    dict with ``tables`` and ``figures`` (name → path) and ``scores`` (name → DataFrame).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    obs = _series(obs, "obs")
    forecasts = fcst if isinstance(fcst, Mapping) else {"forecast": fcst}
    forecasts = {str(k): _series(v, str(k)).reindex(obs.index) for k, v in forecasts.items()}
    if reference is not None and reference not in forecasts:
        raise MissingFieldError(f"reference {reference!r} is not one of {list(forecasts)}",
                                field="reference", where="verification_report")
    pm25 = variable.lower().replace(".", "").replace("_", "") == "pm25"
    events = list(PM25_EVENTS if events is None and pm25 else (events or []))
    common = obs.notna() & pd.concat(forecasts, axis=1).notna().all(axis=1)
    q = _quantile_frame(quantiles, obs.index) if quantiles is not None else None
    if q is not None:
        common &= q.notna().all(axis=1)
    obs_c = obs.where(common)
    title = title or f"{variable} verification ({int(common.sum())} common times)"

    scores = {"continuous": _continuous_table(obs_c, forecasts, reference, n_boot, block, seed,
                                              pm25)}
    if events:
        scores["categorical"] = _categorical_table(obs_c, forecasts, events)
    if pm25:
        scores["categories"], scores["confusion"] = _category_tables(
            obs_c, forecasts, PM25_BREAKPOINTS)
    if q is not None:
        scores["probabilistic"], scores["brier"], scores["reliability"] = \
            _probabilistic_tables(obs_c, q, events)

    tables = {name: _write_csv(frame, out_dir / f"{name}.csv",
                               index=name in ("continuous", "categories", "confusion"))
              for name, frame in scores.items()}
    figures = {"timeseries": _plot_timeseries(obs, forecasts, q, events, pm25, variable, units,
                                              title, out_dir / "timeseries.png")}
    if events:
        figures["performance"] = _plot_performance(scores["categorical"],
                                                   out_dir / "performance.png")
    if q is not None and events:
        figures["reliability"] = _plot_reliability(scores["reliability"],
                                                   out_dir / "reliability.png")
    return {"tables": tables, "figures": figures, "scores": scores}


__all__ = ["verification_report", "PM25_EVENTS"]
