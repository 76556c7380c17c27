"""River network: a tree of reaches divided into elements, with headwaters, point and diffuse
inflows and withdrawals.

A reach is a stretch of uniform channel; reaches join at tributary junctions (several reaches may
name the same ``downstream`` reach). Each reach is split into ``n_elements`` equal elements, the
completely mixed control volumes of the QUAL2K finite-volume scheme (Chapra et al. 2008, QUAL2K
v2.11 documentation, Section 2 "segmentation", Fig. 2–4). Flows follow the steady flow balance of
QUAL2K Eq. (1): Q_i = Q_{i-1} + Q_in,i − Q_out,i, solved here for the whole tree at once as a
sparse triangular system (``(I − C) Q = q_local``, C the element connectivity).

References
----------
Chapra, S.C., Pelletier, G.J. and Tao, H. (2008). QUAL2K v2.11 Documentation and Users Manual,
Tufts University, Sections 2 (segmentation, Eq. 1 flow balance) and 3 (hydraulics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import InvalidValueError, MissingFieldError, NegativeValueError
from ..validation import check_finite, check_nonnegative, reject_unknown_fields, require_fields
from .hydraulics import Hydraulics, element_hydraulics

#: reach table columns and their defaults (NaN dispersion = Fischer; 0 manning_n = rating curve)
REACH_DEFAULTS: dict[str, object] = {
    "downstream": None, "n_elements": 1, "headwater_flow": 0.0,
    "elevation_up": 0.0, "elevation_down": 0.0,
    "bottom_width": 0.0, "side_slope_1": 0.0, "side_slope_2": 0.0, "slope": 0.0, "manning_n": 0.0,
    "velocity_coef": 0.0, "velocity_exp": 0.0, "depth_coef": 0.0, "depth_exp": 0.0,
    "weir_height": 0.0, "weir_width": 0.0, "dispersion": np.nan,
    "sod_fraction": 1.0, "algae_fraction": 1.0,
}
REACH_REQUIRED = ("reach", "length")
SOURCE_KINDS = ("point", "diffuse", "withdrawal", "diffuse_withdrawal")
SOURCE_FIELDS = ("name", "kind", "reach", "x", "x_end", "flow")


@dataclass(frozen=True)
class Elements:
    """Per-element arrays of a network (length n_elements, topologically ordered)."""

    reach: np.ndarray          # reach index of the element
    length: np.ndarray         # [m]
    x_start: np.ndarray        # [m] from the top of its reach
    downstream: np.ndarray     # element index, -1 at an outlet
    distance_to_outlet: np.ndarray  # [m] from the element's centre to its outlet


class RiverNetwork:
    """A tree of reaches with sources and withdrawals.

    Parameters
    ----------
    reaches : DataFrame
        One row per reach. Required: ``reach`` (name), ``length`` [m]. Optional (defaults in
        :data:`REACH_DEFAULTS`): ``downstream`` (name of the reach it flows into; empty/None at an
        outlet), ``n_elements``, ``headwater_flow`` [m3 s-1] (inflow at the top of the reach),
        ``elevation_up``/``elevation_down`` [m], channel ``bottom_width`` [m], ``side_slope_1``,
        ``side_slope_2``, ``slope`` [m m-1], ``manning_n``; rating-curve ``velocity_coef``,
        ``velocity_exp``, ``depth_coef``, ``depth_exp`` (used when ``manning_n`` = 0);
        ``weir_height``, ``weir_width`` [m]; ``dispersion`` [m2 s-1] (NaN → Fischer);
        ``sod_fraction``, ``algae_fraction`` (bottom area fractions).
    sources : DataFrame, optional
        One row per inflow or withdrawal: ``name``, ``kind`` (``point``, ``diffuse``,
        ``withdrawal``, ``diffuse_withdrawal``), ``reach``, ``x`` [m from the top of the reach]
        (start for diffuse kinds), ``x_end`` [m] (diffuse kinds), ``flow`` [m3 s-1] ≥ 0 (total of a
        diffuse source). Rows may share a name (a source split over reaches); concentrations are
        looked up by name.
    inlet_exchange : {"face", "qual2k"}
        Dispersive exchange across a headwater inflow face: ``"face"`` = E A / (Δx/2), the
        boundary value held at the face (second-order, used for analytic checks); ``"qual2k"`` =
        max(E − UΔx/2, 0) A / Δx, QUAL2K's ghost headwater element.
    """

    def __init__(self, reaches: pd.DataFrame, sources: pd.DataFrame | None = None, *,
                 inlet_exchange: str = "face"):
        if inlet_exchange not in ("face", "qual2k"):
            raise InvalidValueError(f"inlet_exchange={inlet_exchange!r} must be 'face' or 'qual2k'",
                                    field="inlet_exchange", where="RiverNetwork")
        self.inlet_exchange = inlet_exchange
        self.reaches = self._validate_reaches(reaches)
        self.elements = self._build_elements()
        self.sources = self._validate_sources(sources)
        self._w_in, self._w_out = self._source_weights()

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _validate_reaches(reaches: pd.DataFrame) -> pd.DataFrame:
        where = "reaches"
        require_fields(reaches.columns, REACH_REQUIRED, where)
        reject_unknown_fields(reaches.columns, (*REACH_REQUIRED, *REACH_DEFAULTS), where)
        df = reaches.copy().reset_index(drop=True)
        for k, v in REACH_DEFAULTS.items():
            if k not in df:
                df[k] = v
        df["reach"] = df["reach"].astype(str)
        if df["reach"].duplicated().any():
            dup = df["reach"][df["reach"].duplicated()].iloc[0]
            raise InvalidValueError(f"duplicate reach name {dup!r}", field="reach", where=where)
        ids = df["reach"].tolist()
        num = [c for c in REACH_DEFAULTS if c not in ("downstream", "dispersion")] + ["length"]
        for c in num:
            check_finite(df[c].to_numpy(float), c, ids=ids, kind="reach")
        for c in ("length", "headwater_flow", "bottom_width", "side_slope_1", "side_slope_2",
                  "manning_n", "weir_height", "weir_width", "sod_fraction", "algae_fraction"):
            check_nonnegative(df[c].to_numpy(float), c, ids=ids, kind="reach")
        if (df["length"] <= 0).any():
            i = int(np.flatnonzero(df["length"].to_numpy() <= 0)[0])
            raise InvalidValueError("length must be > 0 m", field="length", where=f"reach {ids[i]!r}")
        n_el = df["n_elements"].to_numpy(float)
        if np.any(n_el < 1) or np.any(n_el != np.round(n_el)):
            i = int(np.flatnonzero((n_el < 1) | (n_el != np.round(n_el)))[0])
            raise InvalidValueError("n_elements must be a positive integer", field="n_elements",
                                    where=f"reach {ids[i]!r}")
        df["n_elements"] = n_el.astype(int)
        df["downstream"] = pd.Series([None if (d is None or pd.isna(d) or str(d) == "") else str(d)
                                      for d in df["downstream"]], dtype=object)
        for r, d in zip(ids, df["downstream"], strict=True):
            if d is not None and d not in ids:
                raise InvalidValueError(f"downstream reach {d!r} is not in the network",
                                        field="downstream", where=f"reach {r!r}")
        # topological order (upstream first): Kahn's algorithm over reaches
        indeg = {r: 0 for r in ids}
        for d in df["downstream"]:
            if d is not None:
                indeg[d] += 1
        order, ready = [], [r for r in ids if indeg[r] == 0]
        down_of = dict(zip(ids, df["downstream"], strict=True))
        while ready:
            r = ready.pop(0)
            order.append(r)
            d = down_of[r]
            if d is not None:
                indeg[d] -= 1
                if indeg[d] == 0:
                    ready.append(d)
        if len(order) != len(ids):
            raise InvalidValueError("the reach graph has a cycle", field="downstream", where=where)
        return df.set_index("reach").loc[order].reset_index()

    def _build_elements(self) -> Elements:
        df = self.reaches
        n_el = df["n_elements"].to_numpy()
        start = np.concatenate([[0], np.cumsum(n_el)[:-1]])
        reach_idx = np.repeat(np.arange(len(df)), n_el)
        k = np.arange(n_el.sum()) - start[reach_idx]
        dx = (df["length"].to_numpy(float) / n_el)[reach_idx]
        downstream = k + 1 + start[reach_idx]
        last = k == n_el[reach_idx] - 1
        pos = {r: i for i, r in enumerate(df["reach"])}
        d_reach = np.array([-1 if d is None else pos[d] for d in df["downstream"]])
        downstream = np.where(last, np.where(d_reach[reach_idx] >= 0, start[np.maximum(d_reach, 0)][reach_idx], -1),
                              downstream)
        n = len(dx)
        a = self._down_matrix(downstream, n)
        # distance from each element's downstream face to its outlet: (I − A) D = A dx
        d_end = spla.spsolve_triangular((sp.identity(n) - a).tocsr(), a @ dx, lower=False)
        return Elements(reach=reach_idx, length=dx, x_start=k * dx, downstream=downstream,
                        distance_to_outlet=d_end + dx / 2)

    @staticmethod
    def _down_matrix(downstream: np.ndarray, n: int) -> sp.csr_matrix:
        """A[e, d(e)] = 1: the element's downstream neighbour."""
        has = downstream >= 0
        return sp.csr_matrix((np.ones(has.sum()), (np.flatnonzero(has), downstream[has])), shape=(n, n))

    def _validate_sources(self, sources: pd.DataFrame | None) -> pd.DataFrame:
        where = "sources"
        head = self.reaches[self.reaches["headwater_flow"] > 0]
        rows = pd.DataFrame({"name": head["reach"], "kind": "headwater", "reach": head["reach"],
                             "x": 0.0, "x_end": np.nan, "flow": head["headwater_flow"].to_numpy(float)})
        if sources is None or len(sources) == 0:
            return rows.reset_index(drop=True)
        require_fields(sources.columns, ("name", "kind", "reach", "flow"), where)
        reject_unknown_fields(sources.columns, SOURCE_FIELDS, where)
        src = sources.copy().reset_index(drop=True)
        for c in ("x", "x_end"):
            if c not in src:
                src[c] = 0.0 if c == "x" else np.nan
        src["name"] = src["name"].astype(str)
        src["reach"] = src["reach"].astype(str)
        ids = src["name"].tolist()
        bad = ~src["kind"].isin(SOURCE_KINDS)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidValueError(f"kind={src['kind'][i]!r} must be one of {SOURCE_KINDS}",
                                    field="kind", where=f"source {ids[i]!r}")
        unknown = ~src["reach"].isin(self.reaches["reach"])
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            raise InvalidValueError(f"reach {src['reach'][i]!r} is not in the network",
                                    field="reach", where=f"source {ids[i]!r}")
        check_nonnegative(src["flow"].to_numpy(float), "flow", ids=ids, kind="source", units="m3 s-1")
        check_nonnegative(src["x"].to_numpy(float), "x", ids=ids, kind="source", units="m")
        length = self.reaches.set_index("reach")["length"].reindex(src["reach"]).to_numpy()
        diffuse = src["kind"].str.startswith("diffuse").to_numpy()
        x_end = src["x_end"].to_numpy(float)
        if np.any(diffuse & ~np.isfinite(x_end)):
            i = int(np.flatnonzero(diffuse & ~np.isfinite(x_end))[0])
            raise MissingFieldError("a diffuse source needs x_end", field="x_end", where=f"source {ids[i]!r}")
        too_far = (src["x"].to_numpy(float) > length) | (diffuse & ((x_end > length) | (x_end <= src["x"])))
        if too_far.any():
            i = int(np.flatnonzero(too_far)[0])
            raise InvalidValueError("position outside its reach (need 0 ≤ x < x_end ≤ length)",
                                    field="x", where=f"source {ids[i]!r}")
        return pd.concat([rows, src], ignore_index=True)

    def _source_weights(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Sparse (element × source) fractions of each source's flow entering / leaving elements."""
        el, src = self.elements, self.sources
        n, m = len(el.length), len(src)
        pos = {r: i for i, r in enumerate(self.reaches["reach"])}
        s_reach = src["reach"].map(pos).to_numpy()
        first = np.concatenate([[0], np.cumsum(self.reaches["n_elements"].to_numpy())[:-1]])
        n_el = self.reaches["n_elements"].to_numpy()[s_reach]
        dx = (self.reaches["length"].to_numpy(float) / self.reaches["n_elements"].to_numpy())[s_reach]
        kind = src["kind"].to_numpy()
        diffuse = np.char.startswith(kind.astype(str), "diffuse")
        # point-like: element holding x (QUAL2K: x_up ≥ x > x_dn, so the top face belongs here)
        k_point = np.minimum(np.floor(src["x"].to_numpy(float) / dx).astype(int), n_el - 1)
        rows_p, cols_p = first[s_reach] + k_point, np.arange(m)
        w_p = np.where(diffuse, 0.0, 1.0)
        # diffuse: overlap of [x, x_end] with each element of the reach (sources × elements)
        a, b = src["x"].to_numpy(float), src["x_end"].to_numpy(float)
        same = el.reach[None, :] == s_reach[:, None]
        lo = np.maximum(el.x_start[None, :], a[:, None])
        hi = np.minimum(el.x_start[None, :] + el.length[None, :], b[:, None])
        frac = np.where(same & diffuse[:, None], np.clip(hi - lo, 0, None), 0.0) \
            / np.where(diffuse, b - a, 1.0)[:, None]
        si, ei = np.nonzero(frac)
        rows = np.concatenate([rows_p, ei])
        cols = np.concatenate([cols_p, si])
        vals = np.concatenate([w_p, frac[si, ei]])
        w = sp.csr_matrix((vals, (rows, cols)), shape=(n, m))
        out = np.isin(kind, ("withdrawal", "diffuse_withdrawal"))
        w_out = w @ sp.diags(out.astype(float))
        w_in = w @ sp.diags((~out).astype(float))
        return w_in.tocsr(), w_out.tocsr()

    # ------------------------------------------------------------------ properties
    @property
    def n_elements(self) -> int:
        return len(self.elements.length)

    @property
    def connectivity(self) -> sp.csr_matrix:
        """C[d, u] = 1 when element u flows into element d."""
        return self._down_matrix(self.elements.downstream, self.n_elements).T.tocsr()

    def element_table(self) -> pd.DataFrame:
        """One row per element: reach, length, x_start, downstream, distance_to_outlet [m]."""
        el = self.elements
        return pd.DataFrame({"reach": self.reaches["reach"].to_numpy()[el.reach], "length": el.length,
                             "x_start": el.x_start, "downstream": el.downstream,
                             "distance_to_outlet": el.distance_to_outlet})

    def element_values(self, column: str) -> np.ndarray:
        """A reach-table column expanded to elements."""
        return self.reaches[column].to_numpy()[self.elements.reach]

    @property
    def elevation(self) -> np.ndarray:
        """Mean bed elevation of each element [m], interpolated along its reach."""
        el = self.elements
        up, dn = self.element_values("elevation_up").astype(float), self.element_values("elevation_down").astype(float)
        f = (el.x_start + el.length / 2) / self.reaches["length"].to_numpy(float)[el.reach]
        return up + (dn - up) * f

    # ------------------------------------------------------------------ flows and loads
    def source_flows(self, flow=None) -> np.ndarray:
        """Source flows [m3 s-1], shape (source,) or (source, scenario); default the table's."""
        q = self.sources["flow"].to_numpy(float) if flow is None else np.asarray(flow, dtype=float)
        if q.shape[0] != len(self.sources):
            raise InvalidValueError(f"need {len(self.sources)} source flows, got {q.shape[0]}",
                                    field="flow", where="sources")
        check_nonnegative(q, "flow", ids=self.sources["name"].tolist(), kind="source", units="m3 s-1")
        return q

    def element_inflow(self, flow=None) -> tuple[np.ndarray, np.ndarray]:
        """(inflow, withdrawal) entering/leaving each element [m3 s-1] from headwaters and sources."""
        q = self.source_flows(flow)
        return self._w_in @ q, self._w_out @ q

    def flows(self, flow=None) -> np.ndarray:
        """Outflow of every element [m3 s-1] from the steady flow balance (QUAL2K Eq. 1).

        Solves (I − C) Q = q_in − q_out as one sparse triangular system for all scenarios.
        """
        q_in, q_out = self.element_inflow(flow)
        rhs = q_in - q_out
        mat = (sp.identity(self.n_elements) - self.connectivity).tocsr()
        q = spla.spsolve_triangular(mat, rhs, lower=True)
        if np.any(q <= 0):
            bad = int(np.flatnonzero((q <= 0).reshape(len(q), -1).any(axis=1))[0])
            reach = self.reaches["reach"].iloc[self.elements.reach[bad]]
            raise NegativeValueError("outflow ≤ 0 m3 s-1: withdrawals exceed the available flow "
                                     "(or nothing flows in)", field="flow",
                                     where=f"element {bad} of reach {reach!r}")
        return q

    def source_loads(self, concentration: pd.DataFrame, flow=None) -> tuple[np.ndarray, np.ndarray]:
        """Mass inflow of each species into each element: Σ Q_src c_src [m3 s-1 × conc units].

        Parameters
        ----------
        concentration : DataFrame indexed by source name, one column per species, values of shape
            scalar per cell (time-invariant). Names not listed default to 0.
        flow : optional source flows (see :meth:`source_flows`).

        Returns
        -------
        (loads, species) with loads of shape (species, element[, scenario]).
        """
        q = self.source_flows(flow)
        c = concentration.reindex(self.sources["name"]).fillna(0.0)
        species = list(c.columns)
        cv = c.to_numpy(float).T  # (species, source)
        qq = q.reshape(len(q), -1)
        loads = np.stack([self._w_in @ (cv[k][:, None] * qq) for k in range(len(species))])
        return loads.reshape((len(species), self.n_elements, *q.shape[1:])), species

    def hydraulics(self, flow=None, *, outflow: np.ndarray | None = None) -> Hydraulics:
        """Element hydraulics and cumulative travel time at the given source flows.

        Parameters
        ----------
        flow : source flows (see :meth:`source_flows`), shape (source,) or (source, scenario).
        outflow : element outflows [m3 s-1] to use directly instead of the flow balance.
        """
        q = self.flows(flow) if outflow is None else np.asarray(outflow, dtype=float)
        geom = {c: self.element_values(c).astype(float) for c in
                ("manning_n", "bottom_width", "side_slope_1", "side_slope_2", "slope",
                 "velocity_coef", "velocity_exp", "depth_coef", "depth_exp", "weir_height",
                 "weir_width", "dispersion")}
        h = element_hydraulics(q, geom, self.elements.length)
        return Hydraulics(flow=q, travel_time=self.travel_time(h["volume"], q), **h)

    def travel_time(self, volume, flow) -> np.ndarray:
        """Cumulative travel time to each element's downstream end [d].

        T_e = V_e/Q_e + (flow-weighted mean of T over the elements flowing into e); on a single
        channel this is QUAL2K's Σ V/Q (QUAL2Kw 5.1 ``MakeHydraulics``).
        """
        q = np.asarray(flow, dtype=float)
        shape = q.shape
        q2 = q.reshape(self.n_elements, -1)
        n, s = q2.shape
        c = self.connectivity.tocoo()
        upstream_total = (self.connectivity @ q2)
        # W[d, u] = Q_u / Σ_{u'→d} Q_u' (flow weights of upstream neighbours), block-diagonal
        # over scenarios so that all scenarios solve as one sparse triangular system
        w = q2[c.col] / upstream_total[c.row]
        off = (np.arange(s) * n)[None, :]
        rows = (c.row[:, None] + off).ravel()
        cols = (c.col[:, None] + off).ravel()
        mat = sp.identity(n * s, format="csr") - sp.csr_matrix((w.ravel(), (rows, cols)), shape=(n * s, n * s))
        rhs = (np.asarray(volume, dtype=float).reshape(n, s) / q2 / 86400.0).T.ravel()
        return spla.spsolve_triangular(mat.tocsr(), rhs, lower=True).reshape(s, n).T.reshape(shape)
