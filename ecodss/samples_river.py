"""The river sample: a synthetic Chinese-style river with a tributary, outfalls and a water intake.

**Qingshui He (清水河, fictional)**: a 60 km main stem in six 10 km reaches, joined at km 30 by the
20 km **Sha He (沙河)** tributary (two reaches). Along it: a municipal wastewater plant (GB 18918
class 1A effluent), an industrial-park plant on the tributary, a paper mill, an irrigation
withdrawal, a drinking-water intake and two monitoring sections (an upstream control section and
the downstream assessment section, target GB 3838 class III). Five years of daily monitoring
series (flow, water temperature, DO, NH3-N, CODMn, TP) are generated at both sections by the
documented process of :func:`monitoring_series`.

Files (``data/samples/river``, or the user cache when the folder is absent), format described in
``data/samples/README.md``: ``river.yaml``, ``reaches.csv``, ``sources.csv``, ``sections.csv``,
``monitoring_daily.csv``. Everything is synthetic except the standards quoted (GB 3838-2002,
GB 18918-2002) and the DO-saturation formula (APHA; as in QUAL2K).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .water.kinetics import oxygen_saturation

SEED = 20190101
GENERATOR_VERSION = 1
START, END = "2019-01-01", "2023-12-31"
VARIABLES = ("flow", "temperature", "DO", "NH3_N", "CODMn", "TP")
UNITS = {"flow": "m3 s-1", "temperature": "degC", "DO": "mg/L", "NH3_N": "mg/L",
         "CODMn": "mg/L", "TP": "mg/L"}

#: Reach table: id, river, name, downstream reach ('' = outlet), x_start/x_end [km from the
#: river's source], length [km], elevation at start/end [m], bottom width [m], side slope [H:V],
#: Manning n, slope [-].
REACHES = [
    ("M1", "Qingshui", "Qingshui headwater to Xiaozhuang", "M2", 0, 10, 10, 182.0, 176.0, 22, 2.0,
     0.035, 6.0e-4),
    ("M2", "Qingshui", "Xiaozhuang to Chengdong WWTP", "M3", 10, 20, 10, 176.0, 171.0, 24, 2.0,
     0.035, 5.0e-4),
    ("M3", "Qingshui", "Chengdong to the Sha He confluence", "M4", 20, 30, 10, 171.0, 166.5, 25,
     2.0, 0.033, 4.5e-4),
    ("M4", "Qingshui", "Sha He confluence to the paper mill", "M5", 30, 40, 10, 166.5, 162.5, 32,
     2.5, 0.032, 4.0e-4),
    ("M5", "Qingshui", "Paper mill to the waterworks intake", "M6", 40, 50, 10, 162.5, 159.0, 34,
     2.5, 0.032, 3.5e-4),
    ("M6", "Qingshui", "Intake to the assessment section", "", 50, 60, 10, 159.0, 156.0, 35, 2.5,
     0.030, 3.0e-4),
    ("T1", "Sha", "Sha He upper", "T2", 0, 10, 10, 190.0, 181.0, 12, 1.5, 0.040, 9.0e-4),
    ("T2", "Sha", "Sha He lower to the confluence", "M4", 10, 20, 10, 181.0, 166.5, 14, 1.5,
     0.038, 8.0e-4),  # drops to the confluence elevation through a weir (not modelled)
]
REACH_COLUMNS = ["id", "river", "name", "downstream", "x_start_km", "x_end_km", "length_km",
                 "elev_start_m", "elev_end_m", "bottom_width_m", "side_slope", "manning_n",
                 "slope"]

#: Point sources and withdrawals: id, kind, name, river, x [km], flow [m3/s], temperature
#: [degC], DO, CBODu, NH3-N, NO3-N, organic N, TP, CODMn [mg/L] (typical effluent values below
#: the GB 18918-2002 class 1A limits: BOD5 10, NH3-N 5 (8 in winter), TP 0.5, COD 50).
SOURCES = [
    ("WWTP1", "outfall", "Chengdong municipal WWTP (50,000 m3/d)", "Qingshui", 20.0, 0.579,
     18.0, 4.0, 18.0, 3.0, 9.0, 1.5, 0.40, 12.0),
    ("WWTP2", "outfall", "Sha He industrial-park WWTP (20,000 m3/d)", "Sha", 8.0, 0.231, 20.0,
     3.5, 22.0, 4.0, 8.0, 2.0, 0.45, 15.0),
    ("MILL1", "outfall", "Paper mill (pre-treated, 10,000 m3/d)", "Qingshui", 40.0, 0.116, 24.0,
     2.5, 45.0, 6.0, 3.0, 3.0, 0.50, 30.0),
    ("IRR1", "withdrawal", "Irrigation diversion", "Qingshui", 25.0, 1.5, np.nan, np.nan,
     np.nan, np.nan, np.nan, np.nan, np.nan, np.nan),
    ("INTAKE1", "withdrawal", "Waterworks drinking-water intake (100,000 m3/d)", "Qingshui",
     50.0, 1.157, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan),
]
SOURCE_COLUMNS = ["id", "kind", "name", "river", "x_km", "flow_m3s", "temperature_C", "DO",
                  "CBODu", "NH3_N", "NO3_N", "org_N", "TP", "CODMn"]

#: Sections: id, kind, name, river, x [km], target GB 3838 class.
SECTIONS = [
    ("UP", "monitoring", "Xiaozhuang control section (对照断面)", "Qingshui", 5.0, 2),
    ("INTAKE1", "intake", "Waterworks intake (饮用水水源地取水口)", "Qingshui", 50.0, 3),
    ("OUT", "monitoring", "Qingshui outlet assessment section (考核断面)", "Qingshui", 58.0, 3),
]
SECTION_COLUMNS = ["id", "kind", "name", "river", "x_km", "target_class"]

HEADWATERS = {
    "Qingshui": {"flow_m3s": 5.5, "temperature_C": 15.0, "DO": 8.5, "CBODu": 3.0,
                 "NH3_N": 0.25, "NO3_N": 1.2, "org_N": 0.3, "TP": 0.06, "CODMn": 3.0},
    "Sha": {"flow_m3s": 2.2, "temperature_C": 15.0, "DO": 8.0, "CBODu": 3.5,
            "NH3_N": 0.35, "NO3_N": 1.5, "org_N": 0.4, "TP": 0.08, "CODMn": 3.5},
}
RATES = {"cbod_decay_20C_per_d": 0.25, "cbod_settling_m_per_d": 0.1,
         "nitrification_20C_per_d": 0.3, "theta_nitrification": 1.08,
         "reaeration": "Internal", "theta_reaeration": 1.024, "sod_g_O2_per_m2_d": 1.0,
         "elevation_m": 170.0, "dispersion": "Fischer"}


def _ar1(rng, n, phi, sigma):
    """Stationary AR(1) with marginal s.d. ``sigma`` (vectorized via lfilter)."""
    from scipy.signal import lfilter

    e = rng.normal(0.0, sigma * np.sqrt(1 - phi**2), n)
    e[0] = rng.normal(0.0, sigma)
    return lfilter([1.0], [1.0, -phi], e)


def monitoring_series(seed: int = SEED) -> pd.DataFrame:
    """Daily series at the control (UP) and assessment (OUT) sections, 2019–2023.

    Process (all noises AR(1) with the given lag-1 correlation and marginal s.d.):

    * flow at OUT: ``ln Q = ln 9 + 0.7 cos(2 pi (doy - 205)/365.25) + a`` (a: 0.92, 0.30) —
      monsoon high flow in late July; UP carries 0.6 of it (times ``exp`` of 0.9, 0.05 noise);
    * water temperature: ``15 + 11 cos(2 pi (doy - 200)/365.25) + a`` (0.85, 0.8) at OUT, 0.7 °C
      cooler at UP, >= 0.5 °C;
    * UP concentrations: NH3-N ``0.25 e^a`` (0.8, 0.25), CODMn ``3.0 e^a`` (0.8, 0.12), TP
      ``0.06 e^a`` (0.8, 0.2) mg/L, DO ``0.93 DOsat(T) + a`` (0.7, 0.3);
    * OUT = upstream water of the previous day (travel time ~1 d) decayed plus the outfall loads
      diluted by the flow plus a flow-driven non-point term, times a multiplicative AR(1) error:
      NH3-N ``[0.6 Q c_up(d-1) e^{-0.3*1.08^(T-20)} + 3.2] / Q``, CODMn
      ``[0.6 Q c_up(d-1) e^{-0.05} + 21] / Q + 0.6 (Q/9)^0.5``, TP ``[0.6 Q c_up(d-1) + 0.9] / Q +
      0.03 (Q/9)^0.8``, errors (0.75, 0.15); DO ``DOsat(T) - 0.6 - 0.9 NH3-N - 0.02 T (Q<5: +0.6)
      + a`` (0.75, 0.35), clipped to [0.5, DOsat];
    * 1.5 % of each concentration and 0.5 % of flow/temperature values are missing (NaN).
    """
    rng = np.random.default_rng(seed)
    days = pd.date_range(START, END, freq="D")
    n = days.size
    doy = days.day_of_year.to_numpy()
    season_q = 0.7 * np.cos(2 * np.pi * (doy - 205) / 365.25)
    q_out = 9.0 * np.exp(season_q + _ar1(rng, n, 0.92, 0.30))
    q_up = 0.6 * q_out * np.exp(_ar1(rng, n, 0.9, 0.05))
    t_out = np.maximum(15.0 + 11.0 * np.cos(2 * np.pi * (doy - 200) / 365.25)
                       + _ar1(rng, n, 0.85, 0.8), 0.5)
    t_up = np.maximum(t_out - 0.7, 0.5)
    up = {"NH3_N": 0.25 * np.exp(_ar1(rng, n, 0.8, 0.25)),
          "CODMn": 3.0 * np.exp(_ar1(rng, n, 0.8, 0.12)),
          "TP": 0.06 * np.exp(_ar1(rng, n, 0.8, 0.2))}
    up["DO"] = np.minimum(0.93 * oxygen_saturation(t_up, 170.0) + _ar1(rng, n, 0.7, 0.3),
                          oxygen_saturation(t_up, 170.0))

    def lag1(a):
        return np.concatenate([a[:1], a[:-1]])

    carried = {k: 0.6 * q_out * lag1(v) for k, v in up.items()}
    nit = np.exp(-0.3 * 1.08 ** (t_out - 20.0))
    out = {"NH3_N": (carried["NH3_N"] * nit + 3.2) / q_out,
           "CODMn": (carried["CODMn"] * np.exp(-0.05) + 21.0) / q_out
           + 0.6 * np.sqrt(q_out / 9.0),
           "TP": (carried["TP"] + 0.9) / q_out + 0.03 * (q_out / 9.0) ** 0.8}
    for k in out:  # three variables
        out[k] = out[k] * np.exp(_ar1(rng, n, 0.75, 0.15))
    sat = oxygen_saturation(t_out, 160.0)
    out["DO"] = np.clip(sat - 0.6 - 0.9 * out["NH3_N"] - 0.02 * t_out + np.where(
        q_out < 5.0, -0.6, 0.0) + _ar1(rng, n, 0.75, 0.35), 0.5, sat)
    frames = []
    for sec, q, t, conc in (("UP", q_up, t_up, up), ("OUT", q_out, t_out, out)):
        df = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "section": sec, "flow": q,
                           "temperature": t, **{k: conc[k] for k in ("DO", "NH3_N", "CODMn",
                                                                     "TP")}})
        for col in VARIABLES:
            share = 0.005 if col in ("flow", "temperature") else 0.015
            df.loc[rng.random(n) < share, col] = np.nan
        frames.append(df)
    data = pd.concat(frames, ignore_index=True)
    rounding = {"flow": 3, "temperature": 2, "DO": 2, "NH3_N": 3, "CODMn": 2, "TP": 4}
    return data.round(rounding)


def river_tables() -> dict[str, pd.DataFrame]:
    """The geometry tables (reaches, sources, sections) as DataFrames."""
    return {"reaches": pd.DataFrame(REACHES, columns=REACH_COLUMNS),
            "sources": pd.DataFrame(SOURCES, columns=SOURCE_COLUMNS),
            "sections": pd.DataFrame(SECTIONS, columns=SECTION_COLUMNS)}


def river_yaml() -> dict:
    return {"name": "Qingshui He (synthetic sample river)", "generator_version": GENERATOR_VERSION,
            "seed": SEED, "period": [START, END], "crs": "none (distances along the channel)",
            "outlet_reach": "M6", "junctions": [{"tributary": "T2", "main_reach": "M4",
                                                 "x_km_main": 30.0}],
            "headwaters": HEADWATERS, "rates": RATES,
            "files": {"reaches": "reaches.csv", "sources": "sources.csv",
                      "sections": "sections.csv", "monitoring": "monitoring_daily.csv"},
            "units": {"flow": "m3/s", "x": "km from the river's source", "elevation": "m",
                      "width": "m", "concentrations": "mg/L", "temperature": "degC"},
            "synthetic": True,
            "standards": ["GB 3838-2002 (target classes)", "GB 18918-2002 class 1A (effluent)"]}


def write_river_sample(out_dir: str | Path, seed: int = SEED) -> Path:
    """Write every file of the sample into ``out_dir`` (not the README)."""
    import yaml

    from .io.netcdf import atomic_write_text

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in river_tables().items():
        atomic_write_text(out / f"{name}.csv", df.to_csv(index=False, lineterminator="\n"))
    atomic_write_text(out / "monitoring_daily.csv",
                      monitoring_series(seed).to_csv(index=False, lineterminator="\n"))
    # river.yaml last: river_sample_dir() takes its presence to mean the sample is complete
    atomic_write_text(out / "river.yaml", yaml.safe_dump(river_yaml(), sort_keys=False,
                                                          allow_unicode=True))
    return out


def river_sample_dir() -> Path:
    """``data/samples/river`` of the source tree, else a generated copy in the user cache."""
    here = Path(__file__).resolve().parents[1] / "data" / "samples" / "river"
    if (here / "river.yaml").is_file():
        return here
    base = os.environ.get("ECODSS_CACHE") or (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ecodss")
    cache = Path(base) / "river"
    if not (cache / "river.yaml").is_file():
        write_river_sample(cache)
    return cache


def load_monitoring(path: str | Path | None = None):
    """The monitoring series as an ``xr.Dataset`` (section, time) with CF units.

    ``time`` is the local date (naive datetime64) of each daily value.
    """
    import xarray as xr

    path = Path(path) if path is not None else river_sample_dir() / "monitoring_daily.csv"
    df = pd.read_csv(path, parse_dates=["date"]).rename(columns={"date": "time"})
    ds = xr.Dataset.from_dataframe(df.set_index(["section", "time"]))
    for k, u in UNITS.items():
        ds[k].attrs["units"] = u
    ds["flow"].attrs["long_name"] = "river discharge"
    ds["temperature"].attrs["long_name"] = "water temperature"
    ds.attrs.update(source="ecodss.samples_river (synthetic)", seed=SEED)
    return ds
