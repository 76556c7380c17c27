"""Longitudinal water-quality profiles with the GB 3838-2002 class bands behind them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from . import gb3838

#: Band colours of classes I..V and worse than V (the blue–green–yellow–red scale of the MEE
#: water-quality maps).
CLASS_COLOURS = ("#5b9bd5", "#9dc3e6", "#70ad47", "#ffd966", "#f4b183", "#e06666")


def class_bands(ax, item: str, water_body: str = "river", *, alpha: float = 0.22) -> None:
    """Shade the GB 3838 class ranges of ``item`` on ``ax`` (current y-limits kept)."""
    lim = gb3838.limits(item, water_body)
    lo, hi = ax.get_ylim()
    canon = gb3838.canonical_item(item)
    if canon in gb3838.HIGHER_IS_BETTER:   # DO: class I above L1, worse than V below L5
        edges = np.concatenate([[max(hi, lim[0])], lim, [min(lo, 0.0)]])
    else:
        edges = np.concatenate([[min(lo, 0.0)], lim, [max(hi, lim[-1])]])
    for k in range(6):   # six classes
        a, b = sorted((edges[k], edges[k + 1]))
        if b > a:
            ax.axhspan(a, b, color=CLASS_COLOURS[k], alpha=alpha, lw=0, zorder=0)
            mid = 0.5 * (max(a, lo) + min(b, hi))
            if lo < mid < hi:
                ax.text(1.005, mid, gb3838.CLASS_NAMES[k + 1], transform=ax.get_yaxis_transform(),
                        va="center", fontsize=7, color="0.3")
    ax.set_ylim(lo, hi)


def plot_profile(ds: xr.Dataset, items: Sequence[str] = ("DO", "NH3_N"),
                 water_body: str = "river", *, title: str | None = None, sections=None):
    """Steady profiles of GB 3838 items along the river(s), one panel per item.

    Parameters
    ----------
    ds : xarray.Dataset
        Element profiles with the items [mg/L] (dims ``element`` and optionally ``scenario``), a
        ``km`` coordinate (distance from each river's source) and ``river`` labels — else the
        ``distance_to_outlet`` [m] is used (km upstream of the outlet, QUAL2K's convention).
    items : GB 3838 items to draw (variables of ``ds``)
    water_body : {"river", "lake"}
    title : str, optional
    sections : DataFrame with ``id`` and ``x_km``, optional — drawn as vertical markers.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(items), 1, figsize=(9, 2.6 * len(items) + 0.6), sharex=True,
                             squeeze=False)
    if "km" in ds.coords:
        x, xlabel, flip = ds["km"].values, "distance from the river's source [km]", False
    else:
        x = ds["distance_to_outlet"].values / 1000.0
        xlabel, flip = "distance upstream of the outlet [km]", True
    rivers = ds["river"].values if "river" in ds.coords else np.full(ds.sizes["element"], "river")
    for ax, item in zip(axes[:, 0], items, strict=True):
        da = ds[item]
        vals = da.values.reshape(ds.sizes["element"], -1)
        for name in dict.fromkeys(rivers):   # a few rivers
            sel = np.flatnonzero(rivers == name)
            order = sel[np.argsort(x[sel])]
            lines = ax.plot(x[order], vals[order], lw=1.4, label=str(name))
            for ln in lines[1:]:
                ln.set_color(lines[0].get_color())
        top = float(np.nanmax(vals)) * 1.25
        ax.set_ylim(0.0, max(top, 1e-6))
        class_bands(ax, item, water_body)
        ax.set_ylabel(f"{item} [{da.attrs.get('units', 'mg/L')}]")
        if sections is not None:
            for _, s in sections.iterrows():
                ax.axvline(s["x_km"], color="0.35", ls=":", lw=0.8)
                if ax is axes[0, 0]:
                    ax.text(s["x_km"], 1.01, str(s["id"]), transform=ax.get_xaxis_transform(),
                            ha="center", fontsize=7)
    axes[0, 0].legend(fontsize="small", loc="lower left")
    axes[-1, 0].set_xlabel(xlabel)
    if flip:
        axes[-1, 0].invert_xaxis()
    fig.suptitle(title or "steady water-quality profile (bands: GB 3838-2002 classes)",
                 fontsize=10)
    fig.tight_layout()
    return fig
