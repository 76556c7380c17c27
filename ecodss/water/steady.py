"""Steady-state water quality on a river network: finite volumes, one sparse system.

Each element is a completely mixed cell (QUAL2K's control volume) exchanging mass with its
neighbours by advection (upwind, the element's outflow) and bulk dispersion, plus sources,
withdrawals and reactions (Chapra et al. 2008, QUAL2K v2.11 documentation, Section 2
"segmentation and hydraulics" general mass balance, and Section 3 "longitudinal dispersion": bulk
dispersion E' = E_p A / Δx̄ with the numerical-dispersion correction E_p = max(E − UΔx/2, 0), as
coded in QUAL2Kw 5.1 ``MakeHydraulics``/``derivs``; it makes the upwind scheme equal to central
differencing of the physical E wherever E ≥ UΔx/2).

The whole network, every species and every scenario form one sparse system: transport blocks
(one per species and scenario) plus the block-diagonal local Jacobian of the kinetics. Nonlinear
kinetics are solved by Newton's method on that system; scenarios are stacked block-diagonally so
many flow or load scenarios solve at once, and ``chunks=`` spreads scenario blocks over dask.

References
----------
Chapra, S.C., Pelletier, G.J. and Tao, H. (2008). QUAL2K v2.11 Documentation and Users Manual.
Chapra, S.C. (1997). *Surface Water-Quality Modeling*, McGraw-Hill, Lectures 11–13 (control-volume
approach; numerical dispersion UΔx/2 of the backward difference).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import xarray as xr

from ..errors import EcodssError, InvalidValueError
from .hydraulics import Hydraulics
from .network import RiverNetwork

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Environment:
    """What the kinetics see of each element; arrays of shape (element, scenario)."""

    depth: np.ndarray          # [m]
    width: np.ndarray          # top width [m]
    bottom_width: np.ndarray   # [m]
    area: np.ndarray           # cross-section [m2]
    velocity: np.ndarray       # [m s-1]
    volume: np.ndarray         # [m3]
    length: np.ndarray         # [m], shape (element, 1)
    elevation: np.ndarray      # [m], shape (element, 1)
    sod_fraction: np.ndarray   # bottom fraction with SOD/diagenesis, shape (element, 1)
    algae_fraction: np.ndarray  # bottom fraction colonised by bottom algae, shape (element, 1)


@dataclass(frozen=True)
class Transport:
    """Finite-volume transport operator, block-diagonal over scenarios (scenario-major).

    ``V dc/dt = matrix @ c + loads`` with matrix in [m3 d-1].
    """

    matrix: sp.csr_matrix        # (n·S, n·S)
    volume: np.ndarray           # (n, S) [m3]
    inlet_exchange: np.ndarray   # (n, S) [m3 d-1] dispersive exchange with the headwater value
    face_exchange: np.ndarray    # (n, S) [m3 d-1] bulk dispersion E' across each downstream face
    n: int
    n_scenarios: int


def _headwater_inflow(network: RiverNetwork) -> sp.spmatrix:
    """(element, source) inflow weights restricted to headwater sources."""
    return network._w_in @ sp.diags((network.sources["kind"] == "headwater").to_numpy(float))


def transport_operator(network: RiverNetwork, hyd: Hydraulics, withdrawal=None) -> Transport:
    """Assemble advection + bulk dispersion for all elements and scenarios (no Python loop).

    Parameters
    ----------
    network : RiverNetwork
    hyd : Hydraulics at the scenario flows; arrays (element,) or (element, scenario)
    withdrawal : (element[, scenario]) withdrawn flow [m3 s-1]; default from the network sources.

    Notes
    -----
    Interior face between element u and its downstream element d (QUAL2Kw 5.1 ``MakeHydraulics``):
    E'_u = max(E_u − U_u Δx_u / 2, 0) A_u / ((Δx_u + Δx_d) / 2). Advection is upwind with the
    element outflow Q_u (numerical dispersion UΔx/2, Chapra 1997 Lecture 13). Outlets have no
    dispersive flux. Headwater inflow faces: see ``RiverNetwork(inlet_exchange=...)``.
    """
    el = network.elements
    n = network.n_elements
    q = np.asarray(hyd.flow, dtype=float).reshape(n, -1)
    s = q.shape[1]
    qd = q * SECONDS_PER_DAY
    if withdrawal is None:
        _, withdrawal = network.element_inflow()
    qw = np.broadcast_to(np.asarray(withdrawal, dtype=float).reshape(n, -1), (n, s)) * SECONDS_PER_DAY
    area = np.asarray(hyd.area).reshape(n, -1)
    u = np.asarray(hyd.velocity).reshape(n, -1)
    e = np.asarray(hyd.dispersion).reshape(n, -1)
    dx = el.length[:, None]

    has_down = el.downstream >= 0
    up = np.flatnonzero(has_down)
    dn = el.downstream[up]
    dxint = (el.length[up] + el.length[dn]) / 2.0
    e_face = np.maximum(e[up] - u[up] * dx[up] / 2.0, 0.0) * area[up] / dxint[:, None] * SECONDS_PER_DAY

    is_head = np.asarray(_headwater_inflow(network).sum(axis=1)).ravel() > 0
    if network.inlet_exchange == "face":
        e_in = e * area / (dx / 2.0)
    else:
        e_in = np.maximum(e - u * dx / 2.0, 0.0) * area / dx
    e_in = np.where(is_head[:, None], e_in * SECONDS_PER_DAY, 0.0)

    diag = -(qd + qw + e_in)
    diag[up] -= e_face
    np.add.at(diag, dn, -e_face)
    # COO entries for one scenario layout, values (k, S); duplicates (d, u) add advection and
    # dispersion
    rows = np.concatenate([np.arange(n), up, dn, dn])
    cols = np.concatenate([np.arange(n), dn, up, up])
    vals = np.concatenate([diag, e_face, e_face, qd[up]])
    off = (np.arange(s) * n)[None, :]
    big = sp.csr_matrix((vals.ravel(), ((rows[:, None] + off).ravel(), (cols[:, None] + off).ravel())),
                        shape=(n * s, n * s))
    big.sum_duplicates()
    face = np.zeros((n, s))
    face[up] = e_face
    return Transport(matrix=big, volume=np.asarray(hyd.volume, dtype=float).reshape(n, -1),
                     inlet_exchange=e_in, face_exchange=face, n=n, n_scenarios=s)


def make_environment(network: RiverNetwork, hyd: Hydraulics) -> Environment:
    """Element geometry for the kinetics, shaped (element, scenario)."""
    n = network.n_elements

    def r(a):
        return np.asarray(a, dtype=float).reshape(n, -1)

    col = lambda c: network.element_values(c).astype(float)[:, None]  # noqa: E731
    return Environment(depth=r(hyd.depth), width=r(hyd.width), bottom_width=r(hyd.bottom_width),
                       area=r(hyd.area), velocity=r(hyd.velocity), volume=r(hyd.volume),
                       length=network.elements.length[:, None], elevation=network.elevation[:, None],
                       sod_fraction=col("sod_fraction"), algae_fraction=col("algae_fraction"))


def source_concentrations(network: RiverNetwork, boundary, species: tuple[str, ...], t: float = 0.0) -> np.ndarray:
    """Source concentrations as an array (species, source, scenario or 1).

    ``boundary`` is a DataFrame indexed by source name with one column per species, an array
    (species, source[, scenario]) in the network's source order, or a callable ``t -> either``.
    Missing names or species are 0.
    """
    b = boundary(t) if callable(boundary) else boundary
    if b is None:
        return np.zeros((len(species), len(network.sources), 1))
    if isinstance(b, pd.DataFrame):
        arr = b.reindex(index=network.sources["name"], columns=list(species)).fillna(0.0).to_numpy(float).T
        return arr[:, :, None]
    arr = np.asarray(b, dtype=float)
    if arr.shape[:2] != (len(species), len(network.sources)):
        raise InvalidValueError(f"boundary array shape {arr.shape} must start with "
                                f"(species={len(species)}, source={len(network.sources)})",
                                field="boundary", where="solver")
    return arr if arr.ndim == 3 else arr[:, :, None]


class Problem:
    """Discretized transport + kinetics on a network: residual and Jacobian of dc/dt = G(c, t).

    Unknowns are ordered (scenario, species, element). Transported species obey
    ``dc/dt = (A c + b) / V + r(c)``; non-transported (attached, e.g. bottom algae) ``dc/dt = r(c)``.
    """

    def __init__(self, network: RiverNetwork, kinetics, boundary, *, flow=None,
                 hydraulics: Hydraulics | None = None):
        self.network = network
        self.kinetics = kinetics
        self.species = tuple(kinetics.species)
        self.transported = np.asarray(getattr(kinetics, "transported", [True] * len(self.species)), bool)
        self.flow = network.source_flows(flow)
        self.hyd = hydraulics if hydraulics is not None else network.hydraulics(self.flow)
        _, self.withdrawal = network.element_inflow(self.flow)   # [m3 s-1]
        self.op = transport_operator(network, self.hyd, self.withdrawal)
        self.env = make_environment(network, self.hyd)
        self.boundary = boundary
        self.n, self.ns, self.s = network.n_elements, len(self.species), self.op.n_scenarios
        self._q_src = np.broadcast_to(self.flow.reshape(len(self.flow), -1), (len(self.flow), self.s))
        self._w_head = _headwater_inflow(network)
        self._transport_big = self._species_transport()
        self._load_cache: tuple | None = None

    # -- pieces ---------------------------------------------------------------------------
    def _species_transport(self) -> sp.csr_matrix:
        """(A / V) for each transported species, placed in the (scenario, species, element) layout."""
        a = self.op.matrix.tocoo()
        n, ns = self.n, self.ns
        j, e1, e2 = a.row // n, a.row % n, a.col % n
        v = a.data / self.op.volume.T.ravel()[a.row]
        sp_idx = np.flatnonzero(self.transported)
        rows = (j[:, None] * ns * n + sp_idx[None, :] * n + e1[:, None]).ravel()
        cols = (j[:, None] * ns * n + sp_idx[None, :] * n + e2[:, None]).ravel()
        vals = np.repeat(v, len(sp_idx))
        size = self.s * ns * n
        return sp.csr_matrix((vals, (rows, cols)), shape=(size, size))

    def loads(self, t: float) -> np.ndarray:
        """b / V per species: (species, element, scenario) [conc d-1]."""
        if self._load_cache is not None and not callable(self.boundary):
            return self._load_cache
        cs = source_concentrations(self.network, self.boundary, self.species, t)
        cs = np.broadcast_to(cs, (self.ns, cs.shape[1], self.s))
        qd = self._q_src * SECONDS_PER_DAY
        out = (_per_species(self.network._w_in, cs * qd)
               + self.op.inlet_exchange * _per_species(self._w_head, cs)) / self.op.volume[None]
        out[~self.transported] = 0.0
        if not callable(self.boundary):
            self._load_cache = out
        return out

    def to_vector(self, c: np.ndarray) -> np.ndarray:
        """(species, element, scenario) → flat (scenario, species, element)."""
        return np.transpose(c, (2, 0, 1)).ravel()

    def from_vector(self, x: np.ndarray) -> np.ndarray:
        return np.transpose(x.reshape(self.s, self.ns, self.n), (1, 2, 0))

    def residual(self, c: np.ndarray, t: float) -> np.ndarray:
        """dc/dt, shape (species, element, scenario)."""
        r = self.kinetics.rates(c, t, self.env)
        tr = self.from_vector(self._transport_big @ self.to_vector(c))
        return tr + self.loads(t) + r

    def local_jacobian(self, c: np.ndarray, t: float, r0: np.ndarray | None = None) -> np.ndarray:
        """∂r_a/∂c_b per element by forward differences: (species_a, species_b, element, scenario)."""
        if getattr(self.kinetics, "linear", False) and hasattr(self.kinetics, "jacobian"):
            return self.kinetics.jacobian(c, t, self.env)
        # all species perturbed at once: the perturbed states are stacked along the scenario axis
        # so one vectorized kinetics call gives every column of the local Jacobian
        r0 = self.kinetics.rates(c, t, self.env) if r0 is None else r0
        ns, n, s = self.ns, self.n, self.s
        scale = np.asarray(getattr(self.kinetics, "scale", np.ones(ns)), float)
        h = 1e-7 * np.maximum(np.abs(c), scale[:, None, None])           # (species, n, S)
        cp = np.repeat(c[:, :, None, :], ns, axis=2)                       # (species, n, b, S)
        idx = np.arange(ns)
        cp[idx, :, idx, :] += h
        rp = self.kinetics.rates(cp.reshape(ns, n, ns * s), t, self._tiled_env(ns))
        rp = rp.reshape(ns, n, ns, s)
        return (rp - r0[:, :, None, :]).transpose(0, 2, 1, 3) / h[None, :, :, :]

    def _tiled_env(self, k: int) -> Environment:
        if getattr(self, "_env_tiled", (None,))[0] != k:
            import dataclasses

            tiled = {}
            for f in dataclasses.fields(self.env):
                a = getattr(self.env, f.name)
                tiled[f.name] = np.repeat(a[:, None, :], k, axis=1).reshape(self.n, -1) if a.shape[1] > 1 else a
            self._env_tiled = (k, Environment(**tiled))
        return self._env_tiled[1]

    def _local_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Flat (row, col) of the local Jacobian entries (species_a, species_b, element, scenario);
        fixed by the problem's sizes, so built once."""
        if getattr(self, "_local_rc", None) is None:
            n, ns, s = self.n, self.ns, self.s
            a, b, e, j = np.meshgrid(np.arange(ns), np.arange(ns), np.arange(n), np.arange(s),
                                     indexing="ij")
            self._local_rc = ((j * ns * n + a * n + e).ravel(), (j * ns * n + b * n + e).ravel())
        return self._local_rc

    def jacobian(self, c: np.ndarray, t: float, r0=None) -> sp.csr_matrix:
        """Full sparse Jacobian ∂G/∂c in the flat layout."""
        jl = self.local_jacobian(c, t, r0)
        size = self.s * self.ns * self.n
        local = sp.csr_matrix((jl.ravel(), self._local_index()), shape=(size, size))
        return (self._transport_big + local).tocsc()


def _per_species(weights: sp.spmatrix, values: np.ndarray) -> np.ndarray:
    """``weights @ values[k]`` for every species k in one sparse product: (species, element, S)."""
    ns, n_src, s = values.shape
    flat = np.transpose(values, (1, 0, 2)).reshape(n_src, ns * s)
    return np.transpose(np.asarray(weights @ flat).reshape(-1, ns, s), (1, 0, 2))


def _newton(problem: Problem, c0: np.ndarray, t: float, *, shift: float = 0.0, rhs_extra=None,
            tol: float = 1e-10, max_iter: int = 50, lu_cache: dict | None = None) -> np.ndarray:
    """Solve shift·c − G(c, t) = rhs_extra by Newton's method (shift = 0: steady state).

    A linear, time-invariant problem reuses one LU factorization (``lu_cache``).
    """
    c = c0.copy()
    linear = getattr(problem.kinetics, "linear", False)
    for _ in range(max_iter):
        g = problem.residual(c, t)
        f = shift * c - g - (0.0 if rhs_extra is None else rhs_extra)
        if linear and lu_cache is not None and "lu" in lu_cache:
            lu = lu_cache["lu"]
        else:
            jac = problem.jacobian(c, t)
            mat = (shift * sp.identity(jac.shape[0], format="csc") - jac).tocsc()
            lu = spla.splu(mat, permc_spec=_ordering(problem))
            if linear and lu_cache is not None:
                lu_cache["lu"] = lu
        dx = problem.from_vector(lu.solve(-problem.to_vector(f)))
        c_new = c + dx
        if not linear:
            c_new = np.maximum(c_new, 0.0)
        scale = np.asarray(getattr(problem.kinetics, "scale", np.ones(problem.ns)), float)[:, None, None]
        done = np.all(np.abs(c_new - c) <= tol * (np.abs(c_new) + scale))
        c = c_new
        if linear or done:
            return c
    raise EcodssError(f"Newton iteration did not converge in {max_iter} iterations "
                      f"(max |Δc| = {np.max(np.abs(dx)):.3g})")


def _ordering(problem: Problem) -> str:
    """Column ordering for the sparse LU.

    With one species the unknowns are elements in topological order (upstream first): Gaussian
    elimination of a tree in that order makes no fill-in (each element has one downstream
    neighbour), so the natural order is optimal; several species use COLAMD.
    """
    return "NATURAL" if problem.ns == 1 else "COLAMD"


def _initial_guess(problem: Problem) -> np.ndarray:
    init = getattr(problem.kinetics, "initial", None)
    if init is not None:
        return np.broadcast_to(np.asarray(init(problem.env), float), (problem.ns, problem.n, problem.s)).copy()
    return np.zeros((problem.ns, problem.n, problem.s))


def _solve_block(network, kinetics, boundary, flow, tol, max_iter) -> np.ndarray:
    problem = Problem(network, kinetics, boundary, flow=flow)
    c0 = _initial_guess(problem)
    return _newton(problem, c0, 0.0, tol=tol, max_iter=max_iter)


def solve_steady(network: RiverNetwork, kinetics, boundary, *, flow=None, chunks: int | None = None,
                 tol: float = 1e-10, max_iter: int = 50, scheduler: str | None = "threads") -> xr.Dataset:
    """Steady state of every species on the whole network, all scenarios at once.

    Parameters
    ----------
    network : RiverNetwork
    kinetics : object with ``species``, ``rates(c, t, env)`` and optionally ``transported``,
        ``linear``, ``units``, ``initial(env)``, ``scale`` (see :mod:`ecodss.water.kinetics`).
    boundary : DataFrame (source name × species) of inflow concentrations, or an array
        (species, source[, scenario]) in ``network.sources`` order.
    flow : source flows [m3 s-1], shape (source,) or (source, scenario); default the table's.
    chunks : scenarios per dask task; None solves all scenarios in one sparse system.
    tol, max_iter : Newton tolerance (relative to |c| + kinetics.scale) and iteration cap.

    Returns
    -------
    xr.Dataset with one variable per species, dims (element[, scenario]), CF ``units``.
    """
    flow_arr = network.source_flows(flow)
    has_scen = flow_arr.ndim == 2 or (not callable(boundary) and np.ndim(boundary) == 3)
    n_scen = flow_arr.shape[1] if flow_arr.ndim == 2 else (np.shape(boundary)[2] if has_scen else 1)
    if chunks is None or n_scen <= chunks:
        c = _solve_block(network, kinetics, boundary, flow_arr, tol, max_iter)
    else:
        import dask

        def part(sl):
            f = flow_arr[:, sl] if flow_arr.ndim == 2 else flow_arr
            b = boundary[..., sl] if isinstance(boundary, np.ndarray) and boundary.ndim == 3 else boundary
            return dask.delayed(_solve_block)(network, kinetics, b, f, tol, max_iter)

        parts = [part(slice(i, min(i + chunks, n_scen))) for i in range(0, n_scen, chunks)]
        c = np.concatenate(dask.compute(*parts, scheduler=scheduler), axis=2)
    return to_dataset(network, kinetics, c, scenario=has_scen)


def to_dataset(network: RiverNetwork, kinetics, c: np.ndarray, *, scenario: bool,
               time: np.ndarray | None = None) -> xr.Dataset:
    """Wrap (species, element, scenario[, time]) results as a CF-annotated Dataset."""
    units = getattr(kinetics, "units", {})
    et = network.element_table()
    dims = ["element", "scenario"] + (["time"] if time is not None else [])
    data = {}
    for k, name in enumerate(kinetics.species):
        arr = c[k]
        v = xr.DataArray(arr, dims=dims)
        if not scenario:
            v = v.isel(scenario=0, drop=True)
        v.attrs = {"units": units.get(name, "1"), "long_name": name}
        data[name] = v
    coords = {"element": np.arange(network.n_elements), "reach": ("element", et["reach"].to_numpy()),
              "distance_to_outlet": ("element", et["distance_to_outlet"].to_numpy(),
                                     {"units": "m"})}
    if time is not None:
        coords["time"] = ("time", time, {"units": "d", "long_name": "time since start"})
    ds = xr.Dataset(data, coords=coords)
    ds.attrs["source"] = "ecodss.water finite-volume river model (QUAL2K formulation)"
    return ds


def conservative_mass_balance(network: RiverNetwork, concentration, boundary_load) -> dict:
    """Mass budget of a conservative tracer at steady state [mass d-1].

    Returns inflow (sources + headwater dispersion), outflow through outlets, withdrawals and the
    relative imbalance.
    """
    hyd = network.hydraulics()
    c = np.asarray(concentration, dtype=float).reshape(network.n_elements, -1)
    _, qw = network.element_inflow()
    outlets = network.elements.downstream < 0
    out = np.sum(np.asarray(hyd.flow).reshape(c.shape[0], -1)[outlets] * c[outlets], axis=0) * SECONDS_PER_DAY
    wd = np.sum(np.asarray(qw).reshape(c.shape[0], -1) * c, axis=0) * SECONDS_PER_DAY
    inflow = np.asarray(boundary_load, dtype=float)
    return {"inflow": inflow, "outflow": out, "withdrawal": wd,
            "relative_imbalance": (inflow - out - wd) / inflow}


Rates = Callable[[np.ndarray, float, Environment], np.ndarray]
