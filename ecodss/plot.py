"""Figures: daily concentration maps with China AQI category contours (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .io.netcdf import atomic_write

#: HJ 633-2012 PM2.5 24-h breakpoints [µg/m³] bounding the AQI categories and their colours.
PM25_BREAKPOINTS = [35, 75, 115, 150, 250]
AQI_COLOURS = ["#00e400", "#ffff00", "#ff7e00", "#ff0000", "#99004c", "#7e0023"]


def _pm25_panel(ax, x, y, field, vmax, stations, label, scale):
    """One PM2.5 field [µg/m³] on ``ax``: colour mesh, HJ 633 breakpoint contours in each
    category's colour, and the stations (or cities); ``scale`` sizes lines, labels and markers."""
    mesh = ax.pcolormesh(x, y, field, cmap="magma_r", vmin=0, vmax=vmax, shading="auto")
    levels = [b for b in PM25_BREAKPOINTS if np.nanmin(field) < b < np.nanmax(field)]
    if levels:
        colours = [AQI_COLOURS[PM25_BREAKPOINTS.index(b) + 1] for b in levels]
        cs = ax.contour(x, y, field, levels=levels, colors=colours, linewidths=1.5 * scale)
        ax.clabel(cs, fmt="%d", fontsize=8 * scale)
    if stations is not None:
        ax.plot(stations["x"] / 1e3, stations["y"] / 1e3, "c^", ms=6 * scale, mec="k",
                label=label)
    return mesh


def daily_maps(daily_pm25, out_dir, stations=None, label: str = "stations") -> list[Path]:
    """One PNG per complete day of daily-mean PM2.5 [µg/m³] on the grid.

    A continuous colour field with contours at the HJ 633 PM2.5 breakpoints (drawn in each
    category's colour) and the ``stations`` (or cities: ``label``) marked. Days without data are
    skipped.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    x = daily_pm25["x"].values / 1e3
    y = daily_pm25["y"].values / 1e3
    vmax = float(np.nanmax(daily_pm25.values)) if np.isfinite(daily_pm25.values).any() else 1.0
    for i, date in enumerate(daily_pm25["date"].values):  # one figure per forecast day
        field = daily_pm25.isel(date=i).values
        if not np.isfinite(field).any():
            continue
        fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=100)
        mesh = _pm25_panel(ax, x, y, field, vmax, stations, label, scale=1.0)
        fig.colorbar(mesh, ax=ax, label="daily mean PM2.5 [µg/m³]")
        if stations is not None:
            ax.legend(loc="lower right", fontsize=8)
        day = str(date)[:10]
        ax.set(title=f"PM2.5 daily mean {day} (China Standard Time day)", xlabel="x [km]",
               ylabel="y [km]", aspect="equal")
        path = atomic_write(Path(out_dir) / f"pm25_{day}.png",
                            lambda tmp, fig=fig: fig.savefig(tmp, format="png"))
        plt.close(fig)
        paths.append(path)
    return paths


def plan_map(without, with_plan, path, *, stations=None, label: str = "stations",
             title: str = "") -> Path:
    """Two panels of one day's daily-mean PM2.5 [µg/m³]: the forecast and the forecast with the
    emergency plan, on one colour scale with the HJ 633 PM2.5 breakpoint contours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = without["x"].values / 1e3
    y = without["y"].values / 1e3
    fields = (np.asarray(without.values, float), np.asarray(with_plan.values, float))
    vmax = float(np.nanmax(fields[0])) if np.isfinite(fields[0]).any() else 1.0
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 5.0), dpi=90, sharey=True)
    for ax, field, name in zip(axes, fields, ("forecast", "with the emergency plan"),
                               strict=True):
        mesh = _pm25_panel(ax, x, y, field, vmax, stations, label, scale=0.85)
        ax.set(title=name, xlabel="x [km]", aspect="equal")
    axes[0].set_ylabel("y [km]")
    fig.colorbar(mesh, ax=axes, label="daily mean PM2.5 [µg/m³]", shrink=0.85)
    fig.suptitle(title)
    out = atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
    return out
