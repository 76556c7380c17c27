"""The sample river (``data/samples/river``) as a ready-to-run network: one call to a DO sag.

:func:`load_sample_river` reads ``river.yaml``, ``reaches.csv``, ``sources.csv`` and
``sections.csv`` (format in ``data/samples/README.md``) and builds

* a :class:`~ecodss.water.network.RiverNetwork` — the reach tree from the ``downstream`` column,
  headwater flows of each river from ``river.yaml`` at the reaches nothing flows into, outfalls as
  point sources, the irrigation diversion and the drinking-water intake as withdrawals;
* the inflow concentrations (headwaters and outfalls) in QUAL2K units;
* :class:`SampleKinetics` — the QUAL2K kinetics with the ``rates`` of ``river.yaml``;
* the monitoring sections and the intake as output points (the element holding each).

:meth:`SampleRiver.solve` runs the steady state (CBOD, DO, NH4, NO3, N, P, CODMn) — optionally
for many load / flow / temperature scenarios at once — and :meth:`SampleRiver.section_values`
gives the GB 3838 items and classes at the sections::

    river = load_sample_river()
    profile = river.solve()                                  # element profiles
    sections = river.section_values(profile)                 # DO, NH3_N, ... and classes

Mapping of the sample's effluent/headwater columns (mg/L) to QUAL2K state variables
(Chapra et al. 2008, QUAL2K v2.11 documentation, Table 1 of state variables): ``CBODu`` → fast
CBOD [mgO2 L-1], ``DO`` → DO, ``NH3_N`` → ammonium N, ``NO3_N`` → nitrate N, ``org_N`` → organic N
[µgN L-1], ``TP`` → inorganic P [µgP L-1] (the sample gives total P only; no P settling is set,
so TP is conserved but for dilution), ``CODMn`` → the generic constituent (no decay: the sample's
rates give none). Rates the sample does not give stay at the QUAL2K sheet's switched-off value 0.

Water temperature is given, not simulated (as everywhere in :mod:`ecodss.water`): by default the
flow-weighted mixture of the inflow temperatures (headwaters at their annual mean, outfalls at
their own) carried downstream as a conservative substance — no surface heat exchange; or a value
passed to :meth:`SampleRiver.solve`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataFileError, InvalidValueError, MissingFieldError
from ..validation import check_finite, check_nonnegative, reject_unknown_fields, require_fields
from .kinetics import ConservativeTracer, Qual2KKinetics, Qual2KRates
from .network import RiverNetwork
from .steady import solve_steady

#: sample column -> (QUAL2K state variable, factor from mg/L to its units)
SPECIES_MAP: dict[str, tuple[str, float]] = {
    "CBODu": ("cbod_fast", 1.0), "DO": ("do", 1.0), "NH3_N": ("nh4", 1000.0),
    "NO3_N": ("no3", 1000.0), "org_N": ("org_n", 1000.0), "TP": ("inorg_p", 1000.0),
    "CODMn": ("generic", 1.0)}
#: river.yaml rate -> Qual2KRates field
RATE_FIELDS = {"cbod_decay_20C_per_d": "kdc", "nitrification_20C_per_d": "kn",
               "theta_nitrification": "theta_kn", "theta_reaeration": "theta_ka"}
#: river.yaml rates handled outside Qual2KRates
OTHER_RATES = ("cbod_settling_m_per_d", "reaeration", "sod_g_O2_per_m2_d", "elevation_m",
               "dispersion")
#: GB 3838 items reported at sections: name -> (QUAL2K variables summed, factor to mg/L)
SECTION_ITEMS = {"DO": (("do",), 1.0), "NH3_N": (("nh4",), 1e-3), "CODMn": (("generic",), 1.0),
                 "TP": (("org_p", "inorg_p"), 1e-3)}
REACH_FIELDS = ("id", "river", "downstream", "x_start_km", "x_end_km", "length_km",
                "elev_start_m", "elev_end_m", "bottom_width_m", "side_slope", "manning_n", "slope")
SOURCE_FIELDS = ("id", "kind", "river", "x_km", "flow_m3s")
SECTION_FIELDS = ("id", "kind", "river", "x_km", "target_class")


@dataclass
class SampleKinetics(Qual2KKinetics):
    """:class:`Qual2KKinetics` plus settling of fast CBOD, and per-scenario temperatures.

    Parameters
    ----------
    cbod_settling : float  [m d-1]
        Settling velocity ``vs`` of fast CBOD: removal ``ks = vs / H`` [d-1], H the element depth —
        the CBOD settling of the Streeter–Phelps model with ``kr = kd + ks`` (Chapra 1997,
        *Surface Water-Quality Modeling*, Lecture 21; QUAL2E's K3, Brown and Barnwell 1987,
        EPA/600/3-87/007, Section III). Settled CBOD leaves the water column (the sample's
        sediment oxygen demand is prescribed, ``sod_specified``).

    Notes
    -----
    ``temperature`` may be shaped (element, scenario): it is tiled over the perturbed copies the
    steady solver stacks along the scenario axis to build the local Jacobian.
    """

    cbod_settling: float = 0.0

    def rates_terms(self, c, t, env):
        temp = self.temperature(t) if callable(self.temperature) else self.temperature
        temp = np.asarray(temp, dtype=float)
        if temp.ndim == 2 and temp.shape[1] not in (1, c.shape[-1]):
            view = copy.copy(self)
            view.temperature = np.tile(temp, (1, c.shape[-1] // temp.shape[1]))
            return Qual2KKinetics.rates_terms(view, c, t, env)
        return super().rates_terms(c, t, env)

    def rates(self, c, t, env):
        out = super().rates(c, t, env)
        if self.cbod_settling > 0:
            k = self.species.index("cbod_fast")
            out[k] = out[k] - self.cbod_settling / env.depth * c[k]
        return out


@dataclass
class SampleRiver:
    """The sample river ready to solve (see :func:`load_sample_river`).

    Attributes
    ----------
    network : RiverNetwork
    boundary : DataFrame  (source name × QUAL2K species) inflow concentrations, QUAL2K units
    kinetics : SampleKinetics (temperature filled in by :meth:`solve`)
    sections : DataFrame  ``id, kind, name, river, x_km, target_class, reach, x, element``
    outfalls : DataFrame  ``id, name, river, x_km, reach, x, element, flow``
    source_temperature : Series  [°C] by source name (headwaters and outfalls)
    element_river, element_km : per-element river name and km from the river's source
    """

    network: RiverNetwork
    boundary: pd.DataFrame
    kinetics: SampleKinetics
    sections: pd.DataFrame
    outfalls: pd.DataFrame
    source_temperature: pd.Series
    element_river: np.ndarray
    element_km: np.ndarray
    info: dict

    # ------------------------------------------------------------------ scenarios
    def scenario_inputs(self, load_multipliers: Mapping | None = None, headwater_flow_factor=None,
                        temperature=None):
        """(boundary array, source flows, temperature, has_scenario) for :meth:`solve`.

        Returns arrays shaped (species, source, S), (source, S) and (element, S), S the number of
        scenarios the inputs broadcast to (1 when all are scalars).
        """
        species = self.kinetics.species
        names = self.network.sources["name"].tolist()
        loads = dict(load_multipliers or {})
        reject_unknown_fields(loads, self.outfalls["id"].tolist(), "load_multipliers")
        sizes = [np.size(v) for v in (*loads.values(), headwater_flow_factor, temperature)
                 if v is not None and np.ndim(v) > 0]
        has_scen = bool(sizes)
        s = max(sizes, default=1)
        if any(k not in (1, s) for k in sizes):
            raise InvalidValueError(f"scenario inputs have different lengths {sorted(set(sizes))}",
                                    field="scenario", where="SampleRiver")
        base = self.boundary.reindex(index=names, columns=list(species)).fillna(0.0)
        bnd = np.repeat(base.to_numpy(float).T[:, :, None], s, axis=2)
        scaled = np.array([sp != "do" for sp in species])
        for name, mult in loads.items():
            m = np.broadcast_to(np.asarray(mult, dtype=float).ravel(), (s,))
            check_nonnegative(m, f"load_multipliers[{name}]")
            j = names.index(name)
            bnd[scaled, j, :] *= m[None, :]
        flow = np.repeat(self.network.source_flows()[:, None], s, axis=1)
        if headwater_flow_factor is not None:
            f = np.broadcast_to(np.asarray(headwater_flow_factor, dtype=float).ravel(), (s,))
            check_nonnegative(f, "headwater_flow_factor")
            head = (self.network.sources["kind"] == "headwater").to_numpy()
            flow[head] *= f[None, :]
        if temperature is None:
            temp = self.mixed_temperature(flow)
        else:
            tv = np.asarray(temperature, dtype=float)
            if tv.ndim == 0 or tv.shape == (s,):
                temp = np.broadcast_to(tv.reshape(1, -1), (self.network.n_elements, s)).copy()
            else:
                raise InvalidValueError("temperature must be a scalar or one value per scenario",
                                        field="temperature", where="SampleRiver")
        return bnd, flow, temp, has_scen

    def mixed_temperature(self, flow=None) -> np.ndarray:
        """Element temperature [°C], (element, scenario): see :func:`mixed_temperature`."""
        return mixed_temperature(self.network, self.source_temperature, flow)

    def solve(self, load_multipliers: Mapping | None = None, headwater_flow_factor=None,
              temperature=None, **solver_kwargs) -> xr.Dataset:
        """Steady state on the sample river, for one or many scenarios at once.

        Parameters
        ----------
        load_multipliers : mapping outfall id -> float or array (scenario,), optional  [1]
            Factor on every pollutant concentration (all but DO) of the outfall's effluent at
            its permitted flow — a load multiplier.
        headwater_flow_factor : float or array (scenario,), optional  [1]
            Factor on the headwater flows (design low flows: < 1).
        temperature : float or array (scenario,), optional  [°C]
            Water temperature everywhere; default the mixed inflow temperatures.
        **solver_kwargs : passed to :func:`ecodss.water.steady.solve_steady` (``chunks`` ...).

        Returns
        -------
        xarray.Dataset
            QUAL2K species (QUAL2K units) and the GB 3838 items ``DO``, ``NH3_N``, ``CODMn``,
            ``TP`` and ``CBODu`` [mg/L], ``temperature`` [degC], ``flow`` [m3 s-1] on
            ``element`` (and ``scenario`` when an input is an array), with coordinates ``reach``,
            ``river``, ``km`` (from the river's source) and ``distance_to_outlet``.
        """
        bnd, flow, temp, has_scen = self.scenario_inputs(load_multipliers, headwater_flow_factor,
                                                         temperature)
        kin = copy.copy(self.kinetics)
        kin.temperature = temp
        if not has_scen:
            bnd, flow = bnd[:, :, 0], flow[:, 0]
        ds = solve_steady(self.network, kin, bnd, flow=flow, **solver_kwargs)
        q = self.network.flows(flow)
        ds = add_gb3838_items(ds)
        dims = ds["do"].dims
        ds["temperature"] = (dims, temp if has_scen else temp[:, 0],
                             {"units": "degC", "long_name": "water temperature (given)"})
        ds["flow"] = (dims, q, {"units": "m3 s-1", "long_name": "element outflow"})
        ds = ds.assign_coords(river=("element", self.element_river),
                              km=("element", self.element_km,
                                  {"units": "km", "long_name": "distance from the river's source"}))
        ds.attrs.update(title=self.info.get("name", "sample river"),
                        source="ecodss.water.sample_network (QUAL2K formulation, steady)")
        return ds

    def section_values(self, ds: xr.Dataset, water_body: str = "river") -> xr.Dataset:
        """GB 3838 items, classes and target compliance at the sections (and intake).

        Values are those of the completely mixed element holding the section. Classes by the
        single-factor method (:func:`ecodss.water.gb3838.classify_dataset`).
        """
        from .gb3838 import classify_dataset

        sec = self.sections
        at = ds[list(SECTION_ITEMS)].isel(element=xr.DataArray(sec["element"].to_numpy(),
                                                               dims="section"))
        at = at.drop_vars([c for c in at.coords if c not in ("scenario",)])
        at = at.assign_coords(section=sec["id"].to_numpy(str),
                              section_kind=("section", sec["kind"].to_numpy(str)),
                              x_km=("section", sec["x_km"].to_numpy(float), {"units": "km"}))
        classes = classify_dataset(at, water_body=water_body)
        out = xr.merge([at, classes.drop_vars("limiting_item")])
        out["target_class"] = ("section", sec["target_class"].to_numpy(np.int8),
                               {"units": "1", "long_name": "GB 3838 target class"})
        out["compliant"] = (out["water_class"] <= out["target_class"]).astype(np.int8).assign_attrs(
            units="1", long_name="1 when the section meets its target class")
        return out


# ---------------------------------------------------------------------- helpers
def mixed_temperature(network: RiverNetwork, source_temperature: pd.Series,
                      flow=None) -> np.ndarray:
    """Element water temperature [°C], (element, scenario), from inflow temperatures.

    Heat carried as a conservative substance on the steady network (flow-weighted mixing at every
    inflow and junction, no surface heat exchange): the temperature a model without a heat
    balance sees. ``source_temperature`` is indexed by source name (headwaters by reach name).
    """
    flow = network.source_flows() if flow is None else flow
    t_in = source_temperature.reindex(network.sources["name"])
    inflow = ~network.sources["kind"].str.contains("withdrawal").to_numpy()
    check_finite(t_in.to_numpy(float)[inflow], "temperature",
                 ids=network.sources["name"].to_numpy()[inflow].tolist(), kind="inflow",
                 units="degC")
    t_in = t_in.fillna(0.0)   # withdrawals: no inflow, value unused
    ds = solve_steady(network, ConservativeTracer("temperature", "degC"),
                      pd.DataFrame({"temperature": t_in.to_numpy(float)}, index=t_in.index),
                      flow=flow)
    return np.asarray(ds["temperature"].values, float).reshape(network.n_elements, -1)


def add_gb3838_items(ds: xr.Dataset) -> xr.Dataset:
    """Add the GB 3838 items ``DO``, ``NH3_N``, ``CODMn``, ``TP`` and ``CBODu`` [mg/L] computed
    from QUAL2K state variables (:data:`SECTION_ITEMS`; CBODu = slow + fast CBOD)."""
    ds = ds.copy()
    for name, (parts, factor) in SECTION_ITEMS.items():
        ds[name] = (sum(ds[v] for v in parts) * factor).assign_attrs(
            units="mg/L", long_name=f"{name} (GB 3838 item)")
    ds["CBODu"] = (ds["cbod_fast"] + ds["cbod_slow"]).assign_attrs(
        units="mg/L", long_name="ultimate carbonaceous BOD")
    return ds


# ---------------------------------------------------------------------- construction
def _read_csv(folder: Path, name: str, required) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise DataFileError(f"{path}: sample river file not found")
    df = pd.read_csv(path, keep_default_na=True)
    require_fields(df.columns, required, name)
    df["id"] = df["id"].astype(str)
    return df


def _locate(table: pd.DataFrame, reaches: pd.DataFrame, what: str) -> pd.DataFrame:
    """Reach and distance from its top [m] of points given by river and km from its source.

    A point on a reach boundary belongs to the downstream reach (QUAL2K's convention for point
    sources, ``x_up >= x > x_down`` in its upstream-distance coordinates); the river's last km
    belongs to its last reach.
    """
    riv = table["river"].to_numpy(str)[:, None]
    x = table["x_km"].to_numpy(float)[:, None]
    r_riv = reaches["river"].to_numpy(str)[None, :]
    a = reaches["x_start_km"].to_numpy(float)[None, :]
    b = reaches["x_end_km"].to_numpy(float)[None, :]
    end = (reaches.groupby("river")["x_end_km"].transform("max").to_numpy(float))[None, :]
    inside = (riv == r_riv) & (((x >= a) & (x < b)) | ((x == b) & (b == end)))
    found = inside.any(axis=1)
    if not found.all():
        i = int(np.flatnonzero(~found)[0])
        raise InvalidValueError(f"river {riv[i, 0]!r} km {x[i, 0]:g} is on no reach",
                                field="x_km", where=f"{what} {table['id'].iloc[i]!r}")
    k = inside.argmax(axis=1)
    return pd.DataFrame({"reach": reaches["id"].to_numpy(str)[k],
                         "x": (x[:, 0] - a[0, k]) * 1000.0}, index=table.index)


def _element_of(network: RiverNetwork, reach, x) -> np.ndarray:
    """Index of the element holding each point (reach name, metres from its top)."""
    r_idx = pd.Index(network.reaches["reach"]).get_indexer(np.atleast_1d(reach))
    if (r_idx < 0).any():
        bad = np.atleast_1d(reach)[r_idx < 0][0]
        raise InvalidValueError(f"reach {bad!r} is not in the network", field="reach",
                                where="sample river")
    n_el = network.reaches["n_elements"].to_numpy()[r_idx]
    dx = network.reaches["length"].to_numpy(float)[r_idx] / n_el
    first = np.concatenate([[0], np.cumsum(network.reaches["n_elements"].to_numpy())[:-1]])
    return first[r_idx] + np.minimum(np.floor(np.asarray(x, float) / dx).astype(int), n_el - 1)


def load_sample_river(folder: str | Path | None = None, *, n_elements: int = 10,
                      element_length: float | None = None,
                      ph: float = 7.5) -> SampleRiver:
    """Build the sample river network, sources, boundary values, kinetics and output points.

    Parameters
    ----------
    folder : path, optional
        Folder with ``river.yaml`` and the CSV tables (default: the bundled sample,
        :func:`ecodss.samples_river.river_sample_dir`).
    n_elements : int
        Elements per reach (10 → 1 km elements on the 10 km reaches).
    element_length : float, optional  [m]
        Target element length instead of ``n_elements`` (each reach gets ⌈L/Δx⌉ elements) —
        fine grids for spills, where numerical dispersion UΔx/2 should stay below E.
    ph : float
        pH for the ionized-ammonia fraction [-].

    Returns
    -------
    SampleRiver
    """
    import yaml

    from ..samples_river import river_sample_dir

    folder = Path(folder) if folder is not None else river_sample_dir()
    meta_path = folder / "river.yaml"
    if not meta_path.is_file():
        raise DataFileError(f"{meta_path}: sample river file not found")
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    require_fields(meta, ("headwaters", "rates"), "river.yaml")
    reaches = _read_csv(folder, "reaches.csv", REACH_FIELDS)
    sources = _read_csv(folder, "sources.csv", SOURCE_FIELDS)
    sections = _read_csv(folder, "sections.csv", SECTION_FIELDS)
    reaches["downstream"] = reaches["downstream"].astype(object).where(reaches["downstream"].notna(),
                                                                       None)
    bad_kind = ~sources["kind"].isin(("outfall", "withdrawal"))
    if bad_kind.any():
        i = int(np.flatnonzero(bad_kind)[0])
        raise InvalidValueError(f"kind={sources['kind'].iloc[i]!r} must be outfall or withdrawal",
                                field="kind", where=f"source {sources['id'].iloc[i]!r}")

    # headwaters: reaches no reach flows into take their river's headwater flow
    fed = set(reaches["downstream"].dropna())
    heads = reaches.loc[~reaches["id"].isin(fed)]
    hw = meta["headwaters"]
    missing = sorted(set(heads["river"]) - set(hw))
    if missing:
        raise MissingFieldError(f"no headwater values for river(s) {missing}",
                                field="headwaters", where="river.yaml")
    head_flow = heads.set_index("id")["river"].map(lambda r: float(hw[r]["flow_m3s"]))
    if element_length is not None:
        if not element_length > 0:
            raise InvalidValueError("element_length must be > 0 m", field="element_length")
        n_el = np.ceil(reaches["length_km"].to_numpy(float) * 1000.0 / element_length).astype(int)
    else:
        n_el = np.full(len(reaches), int(n_elements))
    table = pd.DataFrame({
        "reach": reaches["id"], "downstream": reaches["downstream"],
        "length": reaches["length_km"].to_numpy(float) * 1000.0, "n_elements": n_el,
        "headwater_flow": reaches["id"].map(head_flow).fillna(0.0).to_numpy(float),
        "elevation_up": reaches["elev_start_m"], "elevation_down": reaches["elev_end_m"],
        "bottom_width": reaches["bottom_width_m"], "side_slope_1": reaches["side_slope"],
        "side_slope_2": reaches["side_slope"], "slope": reaches["slope"],
        "manning_n": reaches["manning_n"]})
    where = _locate(sources, reaches, "source")
    src = pd.DataFrame({"name": sources["id"],
                        "kind": np.where(sources["kind"] == "outfall", "point", "withdrawal"),
                        "reach": where["reach"], "x": where["x"],
                        "flow": sources["flow_m3s"].to_numpy(float)})
    network = RiverNetwork(table, src)

    # inflow concentrations (QUAL2K units) and temperatures
    rows = {r: hw[riv] for r, riv in zip(heads["id"], heads["river"], strict=True)}
    out_rows = sources.loc[sources["kind"] == "outfall"].set_index("id")
    rows.update({k: v.to_dict() for k, v in out_rows.iterrows()})
    conc = pd.DataFrame.from_dict(rows, orient="index")
    require_fields(conc.columns, [*SPECIES_MAP, "temperature_C"], "inflow concentrations")
    check_nonnegative(conc[list(SPECIES_MAP)].to_numpy(float), "concentration",
                      ids=conc.index.tolist(), kind="inflow", units="mg/L")
    boundary = pd.DataFrame({sp: conc[col].astype(float) * f for col, (sp, f)
                             in SPECIES_MAP.items()}, index=conc.index)
    temps = conc["temperature_C"].astype(float)
    check_finite(temps.to_numpy(), "temperature_C", ids=conc.index.tolist(), kind="inflow",
                 units="degC")

    kinetics = _sample_kinetics(meta["rates"], network, ph)
    el_reach = network.reaches["reach"].to_numpy()[network.elements.reach]
    r_info = reaches.set_index("id")
    element_river = r_info.loc[el_reach, "river"].to_numpy(str)
    element_km = (r_info.loc[el_reach, "x_start_km"].to_numpy(float)
                  + (network.elements.x_start + network.elements.length / 2) / 1000.0)

    sec_where = _locate(sections, reaches, "section")
    sections = sections.assign(reach=sec_where["reach"], x=sec_where["x"])
    sections["element"] = _element_of(network, sections["reach"], sections["x"])
    outf = sources.loc[sources["kind"] == "outfall"]
    o_where = where.loc[outf.index]
    outfalls = pd.DataFrame({"id": outf["id"], "name": outf.get("name", outf["id"]),
                             "river": outf["river"], "x_km": outf["x_km"],
                             "reach": o_where["reach"], "x": o_where["x"],
                             "element": _element_of(network, o_where["reach"], o_where["x"]),
                             "flow": outf["flow_m3s"].astype(float)}).reset_index(drop=True)
    return SampleRiver(network=network, boundary=boundary, kinetics=kinetics,
                       sections=sections.reset_index(drop=True), outfalls=outfalls,
                       source_temperature=temps, element_river=element_river,
                       element_km=element_km, info=meta)


def _sample_kinetics(rates: dict, network: RiverNetwork, ph: float) -> SampleKinetics:
    """QUAL2K rates of the sample (``river.yaml`` ``rates``) as :class:`SampleKinetics`."""
    reject_unknown_fields(rates, (*RATE_FIELDS, *OTHER_RATES), "river.yaml rates")
    params = Qual2KRates.from_dict({RATE_FIELDS[k]: float(v) for k, v in rates.items()
                                    if k in RATE_FIELDS})
    disp = str(rates.get("dispersion", "Fischer"))
    if disp != "Fischer":
        raise InvalidValueError(f"dispersion={disp!r}: only 'Fischer' is supported",
                                field="dispersion", where="river.yaml rates")
    sod = float(rates.get("sod_g_O2_per_m2_d", 0.0))
    return SampleKinetics(params=params, reaeration=str(rates.get("reaeration", "Internal")),
                          ph=ph, sod_specified=np.full(network.n_elements, sod),
                          diagenesis=False, bottom_algae=False,
                          cbod_settling=float(rates.get("cbod_settling_m_per_d", 0.0)))


def sample_river_steady(**kwargs) -> tuple[xr.Dataset, xr.Dataset]:
    """One call: (element profiles, section values) of the bundled sample at its design loads.

    Keywords go to :meth:`SampleRiver.solve` (``load_multipliers``, ``headwater_flow_factor``,
    ``temperature``); ``n_elements`` and ``folder`` to :func:`load_sample_river`.
    """
    build = {k: kwargs.pop(k) for k in ("folder", "n_elements", "element_length", "ph")
             if k in kwargs}
    river = load_sample_river(**build)
    ds = river.solve(**kwargs)
    return ds, river.section_values(ds)
