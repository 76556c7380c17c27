"""Read a QUAL2Kw 5.1 ``.q2k`` input file into ecodss objects.

The ``.q2k`` file is the text file the QUAL2Kw Excel front end writes for its Fortran engine; its
record order is fixed by QUAL2Kw 5.1 ``ReadInputfile`` (``src/classreadfile.f90``): system
options; reach geometry (headwater, reaches, terminus); per-reach rate overrides; initial
conditions; light and heat parameters; point sources (mean, amplitude, time of maximum of a
daily sinusoid per constituent); diffuse sources; global rates; headwater hourly values;
meteorology; and the observation sheets (temperature, hydraulics/travel time, water quality
mean/min/max, diel data). :func:`read_q2k` returns a :class:`Q2KCase`; its methods build a
:class:`~ecodss.water.network.RiverNetwork`, the :class:`~ecodss.water.kinetics.Qual2KRates` and
the boundary concentrations.

QUAL2K positions ``x`` are kilometres *upstream of the outlet* (decreasing downstream); a point
source at x belongs to the reach with x_up ≥ x > x_down (QUAL2Kw ``pointin_``) and diffuse
sources are spread by overlap length (``nonpointin_``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from .kinetics import Qual2KKinetics, Qual2KRates
from .network import RiverNetwork

#: the 15 constituents of point sources, diffuse sources and headwater lines, in file order
Q2K_CONSTITUENTS = ("cond", "iss", "do", "cbod_slow", "cbod_fast", "org_n", "nh4", "no3", "org_p",
                    "inorg_p", "phyto", "detritus", "pathogen", "generic", "alk")
REACH_COLUMNS = ("label_up", "label_down", "name", "x_km", "elev_up", "elev_down", "lat_d", "lat_m",
                 "lat_s", "lon_d", "lon_m", "lon_s", "flow", "bottom_width", "side_slope_1",
                 "side_slope_2", "slope", "manning_n", "velocity_coef", "velocity_exp", "depth_coef",
                 "depth_exp", "dispersion", "algae_fraction", "sod_fraction", "sod_spec", "jch4_spec",
                 "jnh4_spec", "jsrp_spec", "weir_height", "weir_width", "sed_therm_cond",
                 "sed_therm_diff", "sed_thickness_cm", "hyporheic_fraction", "porosity",
                 "rho_cp_sed", "skop")
REACH_RATE_COLUMNS = ("ka", "vss", "khc", "kdcs", "kdc", "khn", "von", "kn", "ki", "vdi", "khp", "vop",
                      "vip", "kga", "krea", "kdea", "ksn", "ksp", "isat", "khnx", "va", "kga_b",
                      "abmax", "krea1_b", "krea2_b", "kexa_b", "kdea_b", "ksn_b", "ksp_b", "isat_b",
                      "khnx_b", "nin_min", "nip_min", "nin_upmax", "nip_upmax", "kqn", "kqp",
                      "n_uptake_wc_fraction", "p_uptake_wc_fraction", "kdt", "vdt", "kpath", "vpath",
                      "apath", "kga_h", "ksc_h", "kinhc_h", "krea_h", "kdea_h", "ksn_h", "ksp_h",
                      "khnx_h", "ahmax", "kgen", "vgen")
OBS_WQ_COLUMNS = ("cond", "iss", "do", "cbod_slow", "cbod_fast", "org_n", "nh4", "no3", "org_p",
                  "inorg_p", "phyto", "detritus", "pathogen", "alk", "ph", "bottom_algae_gD",
                  "bottom_algae_mgA", "tn", "tp", "tss")
W_M2_TO_LY_D = 86400.0 / (4.183076 * 100.0 * 100.0)  # QUAL2Kw SolarCalcHelper conversion


class _Cursor:
    def __init__(self, rows: list[list[str]], path: Path):
        self.rows, self.i, self.path = rows, 0, path

    def next(self) -> list[str]:
        if self.i >= len(self.rows):
            raise DataFileError(f"{self.path}: file ends early (record {self.i + 1})")
        self.i += 1
        return self.rows[self.i - 1]

    def floats(self, n: int | None = None) -> list[float]:
        row = self.next()
        vals = [_num(v) for v in row]
        if n is not None:
            if len([v for v in row if v.strip() != ""]) < n and len(row) < n:
                raise DataFileError(f"{self.path}: line {self.i} has {len(row)} fields, expected {n}")
            vals = vals[:n]
        return vals

    def hourly(self) -> list[float]:
        return [_num(v) for v in self.next()[:24]]


def _num(v: str) -> float:
    v = v.strip()
    if v == "":
        return float("nan")
    try:
        return float(v)
    except ValueError:
        return float("nan")


@dataclass
class Q2KCase:
    """Contents of a QUAL2Kw input file (see :func:`read_q2k`)."""

    info: dict
    options: dict
    headwater_reach: pd.Series
    reaches: pd.DataFrame
    reach_rates: pd.DataFrame
    initial: pd.DataFrame
    light: dict
    point_sources: pd.DataFrame
    point_source_quality: dict
    diffuse_sources: pd.DataFrame
    rates: dict
    headwater: pd.DataFrame
    meteorology: dict
    observations: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ network
    def network(self, n_elements: int = 1) -> RiverNetwork:
        """The reach chain as a :class:`RiverNetwork` (each reach split into ``n_elements``).

        Headwater flow enters the first reach; point sources, withdrawals and diffuse inflows are
        placed as QUAL2Kw does; the headwater face uses QUAL2K's ghost-element exchange.
        """
        r = self.reaches
        names = r["reach"].tolist()
        table = pd.DataFrame({
            "reach": names, "downstream": names[1:] + [None],
            "length": (r["x_up_km"] - r["x_km"]).abs().to_numpy() * 1000.0,
            "n_elements": n_elements,
            "headwater_flow": [self.headwater_reach["flow"]] + [0.0] * (len(r) - 1),
            "elevation_up": r["elev_up"], "elevation_down": r["elev_down"],
            "bottom_width": r["bottom_width"], "side_slope_1": r["side_slope_1"],
            "side_slope_2": r["side_slope_2"], "slope": r["slope"], "manning_n": r["manning_n"],
            "velocity_coef": r["velocity_coef"], "velocity_exp": r["velocity_exp"],
            "depth_coef": r["depth_coef"], "depth_exp": r["depth_exp"],
            "weir_height": r["weir_height"], "weir_width": r["weir_width"],
            "dispersion": r["dispersion"].where(r["dispersion"] > 0, np.nan),
            "sod_fraction": r["sod_fraction"].where(r["sod_fraction"] > 0, 1e-5),
            "algae_fraction": r["algae_fraction"].where(r["algae_fraction"] > 0, 1e-5),
        })
        if self.options.get("geo_method", "Depth") != "Depth":
            raise DataFileError("only the 'Depth' rating-curve convention is supported")
        return RiverNetwork(table, self.source_table(), inlet_exchange="qual2k")

    def _locate(self, x_km: float) -> tuple[str, float]:
        """Reach and distance from its top [m] of a QUAL2K position (x_up ≥ x > x_down)."""
        r = self.reaches
        up, dn = r["x_up_km"].to_numpy(), r["x_km"].to_numpy()
        hit = np.flatnonzero((x_km <= up) & (x_km > dn))
        i = int(hit[0]) if len(hit) else (0 if x_km >= up[0] else len(r) - 1)
        return r["reach"].iloc[i], min((up[i] - x_km) * 1000.0, (up[i] - dn[i]) * 1000.0)

    def source_table(self) -> pd.DataFrame:
        """Point sources, withdrawals and diffuse sources as ``RiverNetwork`` source rows."""
        rows = []
        for _, p in self.point_sources.iterrows():
            reach, x = self._locate(p["x_km"])
            if p["withdrawal"] > 0:
                rows.append(dict(name=p["name"], kind="withdrawal", reach=reach, x=x, x_end=np.nan,
                                 flow=p["withdrawal"]))
            elif p["flow"] > 0:
                rows.append(dict(name=p["name"], kind="point", reach=reach, x=x, x_end=np.nan, flow=p["flow"]))
        r = self.reaches
        for _, d in self.diffuse_sources.iterrows():
            hi, lo = max(d["x_up_km"], d["x_down_km"]), min(d["x_up_km"], d["x_down_km"])
            total = d["withdrawal"] if d["withdrawal"] > 0 else d["flow"]
            kind = "diffuse_withdrawal" if d["withdrawal"] > 0 else "diffuse"
            for _, rr in r.iterrows():
                a, b = min(hi, rr["x_up_km"]), max(lo, rr["x_km"])
                if a > b and total > 0:
                    rows.append(dict(name=d["name"], kind=kind, reach=rr["reach"],
                                     x=(rr["x_up_km"] - a) * 1000.0, x_end=(rr["x_up_km"] - b) * 1000.0,
                                     flow=total * (a - b) / (hi - lo)))
        return pd.DataFrame(rows, columns=["name", "kind", "reach", "x", "x_end", "flow"])

    # ------------------------------------------------------------------ quality inputs
    def boundary(self, t: float | None = None) -> pd.DataFrame:
        """Inflow concentrations (source name × species) at time t [d] or daily means (t=None).

        Headwater: hourly values interpolated linearly (periodic); point sources: QUAL2K's daily
        sinusoid mean + amplitude cos(2π(t − t_max)) (QUAL2Kw ``sinday``), floored at 0.
        """
        cols = list(Q2K_CONSTITUENTS)
        head = self.headwater[cols]
        if t is None:
            hw = head.mean()
        else:
            tt = (t % 1.0) * 24.0
            hours = np.arange(25.0)
            hw = pd.Series({c: np.interp(tt, hours, np.append(head[c].to_numpy(), head[c].iloc[0]))
                            for c in cols})
        rows = {self.reaches["reach"].iloc[0]: hw}
        for name, q in self.point_source_quality.items():
            if t is None:
                rows[name] = q["mean"]
            else:
                rows[name] = np.maximum(q["mean"] + q["amplitude"] * np.cos(2 * np.pi * (t - q["t_max"])), 0.0)
        for _, d in self.diffuse_sources.iterrows():
            rows[d["name"]] = d[cols]
        out = pd.DataFrame(rows).T.astype(float)
        return out.rename(columns={"alk": "alkalinity"})

    def boundary_function(self, network: RiverNetwork, species) -> Callable[[float], np.ndarray]:
        """Fast time-varying inflow concentrations: ``t -> array (species, source)``.

        Same values as :meth:`boundary` at time t, laid out in ``network.sources`` order for the
        dynamic solver (no pandas work per time step).
        """
        species = list(species)
        cols = [c for c in species if c in Q2K_CONSTITUENTS]
        pos = [species.index(c) for c in cols]
        names = network.sources["name"].tolist()
        head_name = self.reaches["reach"].iloc[0]
        hourly = self.headwater[cols].to_numpy(float)
        hourly = np.vstack([hourly, hourly[:1]])
        const = self.boundary().reindex(index=names, columns=cols).fillna(0.0).to_numpy(float)
        is_head = np.array([n == head_name for n in names])
        pts = [i for i, n in enumerate(names) if n in self.point_source_quality]
        mean = np.array([self.point_source_quality[names[i]].loc[cols, "mean"] for i in pts]).reshape(len(pts), -1)
        amp = np.array([self.point_source_quality[names[i]].loc[cols, "amplitude"] for i in pts]).reshape(len(pts), -1)
        tmax = np.array([self.point_source_quality[names[i]].loc[cols, "t_max"] for i in pts]).reshape(len(pts), -1)

        def at(t: float) -> np.ndarray:
            vals = const.copy()
            tt = (t % 1.0) * 24.0
            k = min(int(tt), 23)
            w = tt - k
            vals[is_head] = (1 - w) * hourly[k] + w * hourly[k + 1]
            if pts:
                vals[pts] = np.maximum(mean + amp * np.cos(2 * np.pi * (t - tmax)), 0.0)
            out = np.zeros((len(species), len(names)))
            out[pos] = vals.T
            return out

        return at

    def qual2k_rates(self) -> Qual2KRates:
        """Global kinetic rates as :class:`Qual2KRates` (reach overrides: see :meth:`reach_rate`)."""
        r = self.rates
        model = {"Exponential": "exponential", "Half saturation": "half-saturation",
                 "Second order": "second-order"}
        return Qual2KRates(
            mg_c=r["mgC"], mg_n=r["mgN"], mg_p=r["mgP"], mg_d=r["mgD"], mg_a=r["mgA"],
            theta_ka=r["tka"], roc=r["roc"], ron=r["ron"], vss=r["vss"],
            khc=r["khc"], theta_khc=r["tkhc"], kdcs=r["kdcs"], theta_kdcs=r["tkdcs"],
            kdc=r["kdc"], theta_kdc=r["tkdc"], khn=r["khn"], theta_khn=r["tkhn"], von=r["von"],
            kn=r["kn"], theta_kn=r["tkn"], ki=r["ki"], theta_ki=r["tki"], vdi=r["vdi"],
            theta_vdi=r["tvdi"], khp=r["khp"], theta_khp=r["tkhp"], vop=r["vop"], vip=r["vip"],
            kspi=r["kspi"], kdt=r["kdt"], theta_kdt=r["tkdt"], vdt=r["vdt"], kpath=r["kpath"],
            theta_kpath=r["tkpath"], vpath=r["vpath"], kgen=r["kgen"], theta_kgen=r["tkgen"],
            vgen=r["vgen"], generic_is_cod=str(r["useGenericAsCOD"]).lower() == "yes",
            o2_model_cbod=model.get(r["o2_cbod"], "exponential"), k_o2_cbod=r["Ksocf"],
            o2_model_nitrification=model.get(r["o2_nitrification"], "exponential"),
            k_o2_nitrification=r["Ksona"],
            o2_model_denitrification=model.get(r["o2_denitrification"], "exponential"),
            k_o2_denitrification=r["Ksodn"],
            o2_model_algae_resp=model.get(r["o2_bottom_algae"], "exponential"), k_o2_algae_resp=r["Ksob"],
            bottom_algae_growth=str(r["typeF"]).lower(), kga_b=r["kgaF"], theta_kga_b=r["tkgaF"],
            krea1_b=r["krea1F"], krea2_b=r["krea2F"], theta_krea_b=r["tkreaF"], kexa_b=r["kexaF"],
            theta_kexa_b=r["tkexaF"], kdea_b=r["kdeaF"], theta_kdea_b=r["tkdeaF"], abmax=r["abmax"],
            ksn_b=r["ksnF"], ksp_b=r["kspF"], isat_b=r["IsatF"], khnx_b=r["khnxF"],
            nin_min=r["NINbmin"], nip_min=r["NIPbmin"], nin_upmax=r["NINbupmax"],
            nip_upmax=r["NIPbupmax"], kqn_ratio=r["KqNratio"], kqp_ratio=r["KqPratio"],
            n_uptake_wc_fraction=r["NUpWCfrac"], p_uptake_wc_fraction=r["PUpWCfrac"],
            par_fraction=self.light["par"], ke_background=self.light["kep"],
            ke_iss=self.light["kess"], ke_detritus=self.light["kepom"])

    def specified_ka(self, n_elements: int = 1) -> np.ndarray:
        """Reach reaeration ka(20) [d-1] expanded to elements (NaN where a formula is used)."""
        ka = self.reach_rates["ka"].to_numpy(float)
        return np.repeat(np.where(ka > 0, ka, np.nan), n_elements)

    def solar(self, t: float) -> np.ndarray:
        """Surface shortwave per reach after shading [ly d-1] from the hourly meteorology sheet.

        Uses the tabulated hourly solar radiation [W m-2] (QUAL2Kw ``Observed`` option
        conversion); water-surface reflection is not applied.
        """
        sol = self.meteorology["solar"].to_numpy(float)
        shade = self.meteorology["shade"].to_numpy(float)
        tt = (t % 1.0) * 24.0
        k = min(int(tt), 23)
        w = tt - k
        nxt = (k + 1) % 24

        def interp(a):
            return (1.0 - w) * a[:, k] + w * a[:, nxt]

        return interp(sol) * W_M2_TO_LY_D * (1.0 - interp(shade))

    def kinetics(self, temperature, *, n_elements: int = 1, bottom_algae: bool | None = None,
                 ph=7.0, diagenesis: bool | None = None) -> Qual2KKinetics:
        """QUAL2K kinetics for this case with a given water temperature [°C] (array or callable).

        ``bottom_algae`` defaults to on when the bottom-algae growth rate is > 0; sediment
        diagenesis follows the file's "calculate sediment fluxes" option.
        """
        rates = self.qual2k_rates()
        if bottom_algae is None:
            bottom_algae = rates.kga_b > 0
        if diagenesis is None:
            diagenesis = str(self.options["calc_sed_flux"]).lower() in ("yes", "option 1", "option 2")
        sod = np.repeat(self.reaches["sod_spec"].to_numpy(float), n_elements)
        return Qual2KKinetics(params=rates, temperature=temperature, ka20=self.specified_ka(n_elements),
                              reaeration=self.options["reaeration"], ph=ph,
                              solar=lambda t: np.repeat(self.solar(t), n_elements),
                              sod_specified=sod, bottom_algae=bool(bottom_algae), diagenesis=diagenesis)

    def initial_bottom_algae(self, n_elements: int = 1) -> np.ndarray:
        """Initial bottom algae [gD m-2] per element (QUAL2Kw ``c17_ini``)."""
        return np.repeat(np.nan_to_num(self.initial["bottom_algae"].to_numpy(float)), n_elements)


def read_q2k(path) -> Q2KCase:
    """Parse a QUAL2Kw 5.1 ``.q2k`` file (record layout of QUAL2Kw 5.1 ``ReadInputfile``).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Q2KCase with reaches (flows in m3 s-1, positions in km, widths in m), rates, sources,
    headwater hourly values, meteorology and observations.

    Raises
    ------
    DataFileError if the file is missing or truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    with path.open(newline="", encoding="latin-1") as fh:
        rows = [row for row in csv.reader(fh)]
    cur = _Cursor(rows, path)
    header = cur.next()
    if "QUAL2K" not in ",".join(header).upper():
        raise DataFileError(f"{path}: not a QUAL2K input file (first line {header!r})")
    basin = cur.next()
    date = cur.floats(3)
    sysrow = cur.next()
    options = {"timezone": _num(sysrow[0]), "pco2": _num(sysrow[1]), "dt": _num(sysrow[2]),
               "t_final": _num(sysrow[3]), "integration": sysrow[4], "ph_method": sysrow[5],
               "hyporheic": sysrow[6], "state_variables": sysrow[8], "calc_sed_flux": sysrow[9],
               "simulate_alkalinity": sysrow[10]}
    nrow = cur.next()
    n_reach = int(_num(nrow[0]))
    options["geo_method"] = nrow[1].strip() if len(nrow) > 1 else "Depth"
    info = {"basin": basin[0], "file": basin[1] if len(basin) > 1 else "",
            "title": basin[3] if len(basin) > 3 else "", "month": int(date[0]), "day": int(date[1]),
            "year": int(date[2])}

    geo = []
    for _ in range(n_reach + 2):
        row = cur.next()
        geo.append(row[:3] + [_num(v) for v in row[3:len(REACH_COLUMNS)]])
    geo = pd.DataFrame(geo, columns=REACH_COLUMNS[:len(geo[0])])
    geo["flow"] = geo["flow"] * 86400.0          # file stores m3 s-1 / 86400
    head_row = geo.iloc[0]
    reaches = geo.iloc[1:n_reach + 1].reset_index(drop=True)
    reaches.insert(0, "reach", [f"R{i + 1:02d}" for i in range(n_reach)])
    reaches["x_up_km"] = geo["x_km"].iloc[:n_reach].to_numpy()
    reaches["x_mid_km"] = (reaches["x_up_km"] + reaches["x_km"]) / 2.0

    rr = pd.DataFrame([cur.floats(len(REACH_RATE_COLUMNS)) for _ in range(n_reach)],
                      columns=REACH_RATE_COLUMNS, index=reaches["reach"])
    rr = rr.where(rr != -999)
    ini1 = pd.DataFrame([cur.floats(5) for _ in range(n_reach)],
                        columns=["temperature", "ph", "bottom_algae", "algae_n_quota", "algae_p_quota"],
                        index=reaches["reach"])
    ini2 = pd.DataFrame([cur.floats(15) for _ in range(n_reach)], columns=Q2K_CONSTITUENTS,
                        index=reaches["reach"])
    initial = pd.concat([ini1, ini2], axis=1).where(lambda d: d != -999)

    lt = cur.floats(7)
    light = dict(zip(("par", "kep", "kela", "kenla", "kess", "kepom", "kemac"), lt, strict=True))
    heat = cur.next()
    light.update(solar_method=heat[0], n_bras=_num(heat[1]), atc_ryan_stolz=_num(heat[2]),
                 longwave_method=heat[3], k_brutsaert=_num(heat[4]), wind_function=heat[5])

    n_pt = int(cur.floats(1)[0])
    pts, pt_quality = [], {}
    for k in range(n_pt):
        row = cur.next()
        name = row[0].strip() or f"point_{k + 1}"
        pts.append(dict(name=name, x_km=_num(row[1]), withdrawal=_num(row[2]), flow=_num(row[3]),
                        temperature_mean=_num(row[4]), temperature_amplitude=_num(row[5]),
                        temperature_t_max=_num(row[6])))
        q = np.array([cur.floats(3) for _ in Q2K_CONSTITUENTS])
        ph = cur.floats(3)
        pt_quality[name] = pd.DataFrame({"mean": q[:, 0], "amplitude": q[:, 1], "t_max": q[:, 2]},
                                        index=Q2K_CONSTITUENTS).assign(ph=ph[0])
    point_sources = pd.DataFrame(pts)
    n_diff = int(cur.floats(1)[0])
    diffs = []
    for k in range(n_diff):
        row = cur.next()
        d = dict(name=(row[0].strip() or f"diffuse_{k + 1}") + ("" if k == 0 else f"_{k + 1}"),
                 x_up_km=_num(row[1]), x_down_km=_num(row[2]), withdrawal=_num(row[3]),
                 flow=_num(row[4]), temperature=_num(row[5]))
        d.update({c: cur.floats(1)[0] for c in Q2K_CONSTITUENTS})
        d["ph"] = cur.floats(1)[0]
        diffs.append(d)
    diffuse = pd.DataFrame(diffs)

    rates = {}
    for names in (("vss", "mgC", "mgN", "mgP", "mgD", "mgA"), ("tka", "roc", "ron"),
                  ("Ksocf", "Ksona", "Ksodn", "Ksop", "Ksob", "khc", "tkhc", "kdcs", "tkdcs", "kdc",
                   "tkdc", "khn", "tkhn", "von"),
                  ("kn", "tkn", "ki", "tki", "vdi", "tvdi", "khp", "tkhp", "vop", "vip", "kspi"),
                  ("kga", "tkga", "krea", "tkrea", "kdea", "tkdea", "ksn", "ksp", "ksc", "Isat")):
        rates.update(zip(names, cur.floats(len(names)), strict=True))
    row = cur.next()
    rates.update(khnx=_num(row[0]), va=_num(row[1]), typeF=row[2], kgaF=_num(row[3]), tkgaF=_num(row[4]),
                 krea1F=_num(row[5]), krea2F=_num(row[6]), tkreaF=_num(row[7]), kexaF=_num(row[8]),
                 tkexaF=_num(row[9]), kdeaF=_num(row[10]), abmax=_num(row[11]))
    names = ("tkdeaF", "ksnF", "kspF", "kscF", "IsatF", "khnxF", "kdt", "tkdt", "vdt")
    rates.update(zip(names, cur.floats(len(names)), strict=True))
    names = ("NINbmin", "NIPbmin", "NINbupmax", "NIPbupmax", "KqNratio", "KqPratio", "NUpWCfrac", "PUpWCfrac")
    rates.update(zip(names, cur.floats(len(names)), strict=True))
    row = cur.next()
    rates.update(kpath=_num(row[0]), tkpath=_num(row[1]), vpath=_num(row[2]), apath=_num(row[3]),
                 kgen=_num(row[4]), tkgen=_num(row[5]), vgen=_num(row[6]), useGenericAsCOD=row[7])
    row = cur.next()
    rates.update(o2_cbod=row[0], o2_nitrification=row[1], o2_denitrification=row[2],
                 o2_phyto=row[3], o2_bottom_algae=row[4], light_phyto=row[5], light_bottom_algae=row[6])
    row = cur.next()
    options.update(reaeration=row[0].strip(), reaeration_wind=row[1].strip())
    cur.next()   # HCO3- use
    cur.next()   # hyporheic biofilm rates
    options["daylight_saving_h"] = cur.floats(1)[0]
    options["downstream_boundary"] = cur.next()[0].strip().upper() in (".TRUE.", "TRUE", "T")

    hw = {"temperature": cur.hourly()}
    for c in Q2K_CONSTITUENTS:
        hw[c] = cur.hourly()
    hw["ph"] = cur.hourly()
    headwater = pd.DataFrame(hw, index=pd.Index(np.arange(24), name="hour"))
    if options["downstream_boundary"]:
        for _ in range(len(Q2K_CONSTITUENTS) + 2):
            cur.next()
    met = {}
    for key in ("shade", "air_temperature", "dew_point", "wind_speed", "cloud_cover", "solar"):
        met[key] = pd.DataFrame([cur.hourly() for _ in range(n_reach)], index=reaches["reach"],
                                columns=pd.Index(np.arange(24), name="hour"))

    obs = _read_observations(cur)
    head = pd.Series({"flow": head_row["flow"], "x_km": head_row["x_km"],
                      "elevation": head_row["elev_down"], "bottom_width": head_row["bottom_width"],
                      "slope": head_row["slope"], "manning_n": head_row["manning_n"]})
    return Q2KCase(info=info, options=options, headwater_reach=head, reaches=reaches,
                   reach_rates=rr, initial=initial, light=light, point_sources=point_sources,
                   point_source_quality=pt_quality, diffuse_sources=diffuse, rates=rates,
                   headwater=headwater, meteorology=met, observations=obs)


def _read_observations(cur: _Cursor) -> dict:
    """Observation sheets after the meteorology (absent sheets give empty tables)."""
    obs: dict = {}
    if cur.i >= len(cur.rows):
        return obs
    n = int(cur.floats(1)[0])
    obs["temperature"] = pd.DataFrame([cur.floats(4) for _ in range(n)],
                                      columns=["x_km", "mean", "min", "max"])
    n = int(cur.floats(1)[0])
    obs["hydraulics"] = pd.DataFrame([cur.floats(5) for _ in range(n)],
                                     columns=["x_km", "flow", "depth", "velocity", "travel_time"])
    for _ in range(3):
        if cur.i >= len(cur.rows):
            break
        row = cur.next()
        sheet, n = row[0].strip(), int(_num(row[1]))
        recs = []
        for _ in range(n):
            x = cur.floats(1)[0]
            vals = cur.floats() + cur.floats()
            cur.next()
            recs.append([x] + vals[:len(OBS_WQ_COLUMNS)])
        key = {"WQ Data": "wq_mean", "WQ Data Min": "wq_min", "WQ Data Max": "wq_max"}.get(sheet, sheet)
        obs[key] = pd.DataFrame(recs, columns=["x_km", *OBS_WQ_COLUMNS])
    if cur.i + 2 <= len(cur.rows):
        cur.next()                      # reach shown on the diel plot
        n = int(cur.floats(1)[0])
        recs = []
        for _ in range(n):
            if cur.i + 4 > len(cur.rows):
                break
            reach, hour = cur.floats(1)[0], cur.floats(1)[0]
            recs.append([reach, hour] + cur.floats() + cur.floats())
        obs["diel_raw"] = pd.DataFrame(recs)
    return obs
