"""China model-performance benchmarks for PM2.5 (Huang et al. 2021), as pass/fail flags.

Huang, L., Zhu, Y., Zhai, H., Xue, S., Zhu, T., Shao, Y., Liu, Z., Emery, C., Yarwood, G.,
Wang, Y., Fu, J., Zhang, K. and Li, L. (2021). Recommendations on benchmarks for numerical air
quality model applications in China – Part 1: PM2.5 and chemical species. *Atmos. Chem. Phys.*
21, 2725–2743, doi:10.5194/acp-21-2725-2021.

From 307 peer-reviewed model evaluations (2006–2019) the authors propose two levels for PM2.5:
the **goal** (what the better applications achieve) and the **criteria** (what most achieve):

=========  ==========  ===========
statistic  goal        criteria
=========  ==========  ===========
NMB        ≤ ±10 %     ≤ ±20 %
NME        ≤ 35 %      ≤ 45 %
R          ≥ 0.70      ≥ 0.60
=========  ==========  ===========

**[Provenance note]** The numbers are those of the paper's recommended PM2.5 benchmarks (its
abstract and summary table of benchmarks, Table 4 as recalled); in this session only the
paper's title page and the start of its abstract could be re-read, so the table number and the
values should be checked once against the PDF. They are data (:data:`HUANG2021_PM25`), not
code, so a correction is a one-line change. The boundaries are taken as inclusive.
The benchmarks were derived for chemical-transport-model PM2.5 (hourly and daily values);
applying them to a statistical station forecast is a convenient yardstick, not their original
purpose.
"""

from __future__ import annotations

import numpy as np

from .continuous import continuous_scores

#: Huang et al. (2021) PM2.5 benchmarks: level → statistic → threshold [1]. NMB is a bound on
#: |NMB|, NME an upper bound, R a lower bound.
HUANG2021_PM25: dict[str, dict[str, float]] = {
    "goal": {"nmb": 0.10, "nme": 0.35, "r": 0.70},
    "criteria": {"nmb": 0.20, "nme": 0.45, "r": 0.60},
}


def _flags(nmb, nme, r, limits: dict[str, float]) -> dict:
    ok = {"nmb": np.abs(nmb) <= limits["nmb"], "nme": nme <= limits["nme"],
          "r": r >= limits["r"]}
    ok["all"] = ok["nmb"] & ok["nme"] & ok["r"]
    return ok


def pm25_benchmarks(obs, fcst, dim=None) -> dict:
    """NMB, NME and R of a PM2.5 forecast with the Huang et al. (2021) goal/criteria flags.

    Parameters
    ----------
    obs, fcst : array-like, pandas or xarray.DataArray
        Observed and forecast PM2.5 [µg/m³]; NaN pairs are dropped.
    dim : str, int or sequence, optional
        Dimension(s)/axes to reduce (default all); flags are then per remaining element.

    Returns
    -------
    dict with ``nmb``, ``nme``, ``r``, ``n`` and, for level in (goal, criteria),
    ``{level}_nmb``, ``{level}_nme``, ``{level}_r`` and ``meets_{level}`` (all three) — bools
    (arrays/DataArrays when dimensions remain). NaN statistics fail.

    Examples
    --------
    >>> res = pm25_benchmarks([100.0, 200.0, 50.0, 80.0], [110.0, 180.0, 60.0, 85.0])
    >>> res["meets_goal"], round(res["nmb"], 4)
    (True, 0.0116)
    """
    s = continuous_scores(obs, fcst, dim=dim)
    out = {k: s[k] for k in ("nmb", "nme", "r", "n")}
    for level, limits in HUANG2021_PM25.items():
        flags = _flags(out["nmb"], out["nme"], out["r"], limits)
        out |= {f"{level}_{k}": v for k, v in flags.items() if k != "all"}
        out[f"meets_{level}"] = flags["all"]
    return {k: (bool(v) if isinstance(v, np.bool_ | bool) else v) for k, v in out.items()}


__all__ = ["HUANG2021_PM25", "pm25_benchmarks"]
