"""Eulerian grid model: finite-volume advection–diffusion–reaction on a :class:`ecodss.Grid`.

Operator splitting per sub-step (Yanenko 1971; McRae, Goodin & Seinfeld 1982, *J. Comput. Phys.*
45:1): emissions → horizontal advection (dimensional splitting, x–y / y–x alternating) →
horizontal diffusion → vertical diffusion (implicit) → chemistry and removal. Advection schemes are
in :mod:`ecodss.air.advection`, diffusion in :mod:`ecodss.air.diffusion`, chemistry and removal in
:mod:`ecodss.air.chemistry`. The state is a concentration array (species, layer, y, x) [µg/m³] with
fixed layer interfaces up to the top of the model; the mixing height acts through the Kz profile.

Boundaries: inflow faces take the background concentration (ghost cells = boundary value), outflow
faces are open (zero-gradient ghost cells). Source tags (by sector, plus a ``boundary`` tag carrying
the inflow) share every process of the total in proportion, so Σ tags = total to round-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..errors import ConfigError, MissingFieldError
from ..met.solar import solar_altitude
from ..registry import register_model
from ..units import ugm3_to_ppb
from ..validation import check_nonnegative, check_range
from . import advection, chemistry, diffusion

#: Default layer interfaces [m]: four layers resolving a winter boundary layer.
DEFAULT_INTERFACES = (0.0, 50.0, 200.0, 600.0, 1500.0)


@dataclass
class Budget:
    """Mass accounting per species [g] since the start of the run.

    ``boundary_net`` is the net lateral exchange (inflow − outflow): the mass change over the
    transport steps, exact because the interior fluxes cancel in flux form.
    """

    species: tuple
    emitted: np.ndarray = None
    boundary_net: np.ndarray = None
    deposited: np.ndarray = None
    decayed: np.ndarray = None
    chemical: np.ndarray = None  # net chemical production (negative = converted away)

    FIELDS = ("emitted", "boundary_net", "deposited", "decayed", "chemical")

    def __post_init__(self):
        for name in self.FIELDS:
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(len(self.species)))

    def to_dataset(self) -> xr.Dataset:
        return xr.Dataset({f"budget_{k}": ("species", getattr(self, k), {"units": "g"})
                           for k in self.FIELDS})


@dataclass
class State:
    """Model state at a whole hour: concentrations, optional tags, budget, hours done."""

    c: np.ndarray  # (S, Z, Y, X) µg/m³
    tags: np.ndarray | None  # (G, S, Z, Y, X) µg/m³
    budget: Budget
    hour: int = 0
    step: int = 0


@dataclass
class Setup:
    """Static inputs of a run, already validated and converted to arrays."""

    species: tuple
    dx: float
    dy: float
    dz: np.ndarray  # (Z,)
    z_interfaces: np.ndarray  # (Z+1,)
    scheme: str
    kh: float  # horizontal diffusivity m²/s
    cfl: float
    decay: np.ndarray  # (S,) 1/s
    vd: np.ndarray  # (S,) dry deposition velocity m/s
    tag_names: tuple = ()
    chemistry: object = None  # callable(c, dt, met_hour, species) -> (c_new, removed) or None
    wet_scavenging: bool = True


def _faces(a, axis):
    """Cell-centre field → face values along ``axis`` (n+1), edge cells copied outward."""
    a = np.asarray(a, float)
    n = a.shape[axis]
    lo = np.take(a, [0], axis=axis)
    hi = np.take(a, [n - 1], axis=axis)
    inner = 0.5 * (np.take(a, np.arange(n - 1), axis=axis) + np.take(a, np.arange(1, n), axis=axis))
    return np.concatenate([lo, inner, hi], axis=axis)


#: Halo ring [cells] a sub-step consumes: advection (HALO) then diffusion (1).
RING = advection.HALO + 1


def extend(field, ring, lo_x=None, hi_x=None, lo_y=None, hi_y=None, periodic=False, out=None):
    """Pad the last two axes (y, x) of ``field`` with ``ring`` ghost cells, x first, then y.

    Each side is ``None`` (copy the edge cell: open outflow, or no side to fill) or a pair
    ``(mask, value)``: ghost = value where mask (inflow) else the edge copy. ``periodic`` wraps.
    ``out`` (the padded shape) receives the result when given.
    """
    pad = [(0, 0)] * field.ndim
    if periodic:
        pad[-1] = pad[-2] = (ring, ring)
        padded = np.pad(field, pad, mode="wrap")
        if out is None:
            return padded
        out[...] = padded
        return out
    ny, nx = field.shape[-2:]
    if out is None:
        out = np.empty(field.shape[:-2] + (ny + 2 * ring, nx + 2 * ring), dtype=float)
    out[..., ring:ring + ny, ring:ring + nx] = field
    # x sides (real rows): edge copy, then the inflow value where the mask says so
    rows = slice(ring, ring + ny)
    for cols, edge, side in ((slice(0, ring), slice(ring, ring + 1), lo_x),
                             (slice(ring + nx, nx + 2 * ring),
                              slice(ring + nx - 1, ring + nx), hi_x)):
        out[..., rows, cols] = out[..., rows, edge]
        if side is not None:
            mask, value = side
            np.copyto(out[..., rows, cols], value, where=mask)
    # y sides (all columns, corners included): copy of the padded edge row, then inflow values
    for rws, edge, side in ((slice(0, ring), slice(ring, ring + 1), lo_y),
                            (slice(ring + ny, ny + 2 * ring),
                             slice(ring + ny - 1, ring + ny), hi_y)):
        out[..., rws, :] = out[..., edge, :]
        if side is not None:
            mask, value = side
            np.copyto(out[..., rws, :], value, where=mask)
    return out


class Scratch(dict):
    """Reusable work arrays of one tile, by role and shape: stepping through fresh full-size
    temporaries costs a page fault per page on first touch, which on a VM is as expensive as
    the transport arithmetic itself (``benchmarks/eulerian.py``)."""

    def get_array(self, role, shape):
        key = (role, tuple(shape))
        if key not in self:
            self[key] = np.empty(shape)
        return self[key]


def _advect(c, tags, courant, axis, scheme, h, scratch):
    """Advect along ``axis`` over an extended array; the result loses ``h`` cells each side."""
    n = c.shape[axis] - 2 * h
    idx = [slice(None)] * courant.ndim
    idx[axis] = slice(h, h + n + 1)
    cf = courant[tuple(idx)]
    if tags is None:
        shape = list(c.shape)
        shape[axis] = n
        out = None if scratch is None else scratch.get_array(f"advect{axis}", shape)
        return advection.advect_1d(c, cf, scheme, axis=axis, out=out), None
    return advection.advect_1d(c, cf, scheme, axis=axis, tags_padded=tags)


def substep(c, tags, u, v, dt, setup: Setup, order: int, scratch: Scratch | None = None,
            kz=None):
    """One transport sub-step on an extended tile → its interior.

    ``c`` (S, Z, Y+2R, X+2R), ``tags`` (G, S, Z, Y+2R, X+2R) or None, ``u``/``v`` cell-centred
    winds (Y+2R, X+2R) [m/s], R = :data:`RING`. Advection x then y (``order`` even) or y then x
    (alternating dimensional splitting; Strang 1968), each consuming HALO ring cells, then explicit
    horizontal diffusion consuming the last one, then (with ``kz``, the tile's Kz at the layer
    interfaces, (Z−1, Y, X) or broadcastable) implicit vertical diffusion in each column. Local:
    a cell's result depends only on its tile neighbourhood, so chunked and single-domain runs
    give identical numbers. With ``scratch`` the work arrays (and the returned total) live in it
    and are overwritten by its next use.
    """
    h = advection.HALO
    cx = _faces(u, -1) * (dt / setup.dx)  # (Y', X'+1)
    cy = _faces(v, -2) * (dt / setup.dy)  # (Y'+1, X')
    for axis in ((-1, -2) if order % 2 == 0 else (-2, -1)):
        if axis == -1:
            c, tags = _advect(c, tags, cx, -1, setup.scheme, h, scratch)
            cy = cy[:, h:cy.shape[1] - h]
            cx = cx[:, h:cx.shape[1] - h]
        else:
            c, tags = _advect(c, tags, cy, -2, setup.scheme, h, scratch)
            cx = cx[h:cx.shape[0] - h, :]
            cy = cy[h:cy.shape[0] - h, :]
    out = None if scratch is None else scratch.get_array(
        "diffused", c.shape[:-2] + (c.shape[-2] - 2, c.shape[-1] - 2))
    c = diffusion.diffuse_horizontal(c, setup.kh, setup.kh, dt, setup.dx, setup.dy, out=out)
    if tags is not None:
        tags = diffusion.diffuse_horizontal(tags, setup.kh, setup.kh, dt, setup.dx, setup.dy)
    if kz is not None:  # columns are local too: diffuse them in the tile, in place
        c = diffusion.diffuse_vertical(c, kz, setup.dz, dt, axis=1, out=c)
        if tags is not None:
            tags = diffusion.diffuse_vertical(tags, kz, setup.dz, dt, axis=2)
    return c, tags


def _bc_sides(u, v, ring, value):
    """(mask, value) ghost specifications for the four domain edges from the edge winds."""
    vx_lo = np.pad(v[0, :], ring, mode="edge")[None, :]
    vx_hi = np.pad(v[-1, :], ring, mode="edge")[None, :]
    return dict(lo_x=((u[:, :1] > 0), value), hi_x=((u[:, -1:] < 0), value),
                lo_y=((vx_lo > 0), value), hi_y=((vx_hi < 0), value))


def hour_context(u, v, bc, bc_tags, periodic):
    """Per-hour transport inputs: winds extended by the ring and the boundary ghost rules."""
    r = RING
    return {"u_ext": extend(u, r, periodic=periodic), "v_ext": extend(v, r, periodic=periodic),
            "sides": {} if periodic else _bc_sides(u, v, r, bc),
            "t_sides": {} if periodic or bc_tags is None else _bc_sides(u, v, r, bc_tags),
            "periodic": periodic}


def transport_substep(c, tags, hour, dt, setup: Setup, order: int, tiles=None, scratch=None,
                      kz=None):
    """Transport of the whole domain for one sub-step (vertical diffusion too, with ``kz``).

    The domain (with its boundary ghost ring) is extended once; each tile then takes its own
    extended window — its halo comes from the neighbouring tiles' cells of this step — and runs
    :func:`substep` as a dask task. With ``tiles`` None the domain is one tile; both give the same
    numbers because :func:`substep` is local. ``scratch`` (a list: one :class:`Scratch` for the
    domain, then one per tile) keeps the work arrays from one sub-step to the next; the returned
    total then lives in it.
    """
    r = RING
    own = scratch[0] if scratch else None
    shape = c.shape[:-2] + (c.shape[-2] + 2 * r, c.shape[-1] + 2 * r)
    c_ext = extend(c, r, periodic=hour["periodic"], **hour["sides"],
                   out=None if own is None else own.get_array("extended", shape))
    t_ext = None if tags is None else extend(tags, r, periodic=hour["periodic"],
                                             **hour["t_sides"])
    u_ext, v_ext = hour["u_ext"], hour["v_ext"]
    if tiles is None:
        return substep(c_ext, t_ext, u_ext, v_ext, dt, setup, order, own, kz)
    per_cell = kz is not None and np.ndim(kz) >= 2 and np.shape(kz)[-2:] == c.shape[-2:]
    import dask

    def window(a, ys, xs):
        return None if a is None else a[..., ys.start:ys.stop + 2 * r, xs.start:xs.stop + 2 * r]

    tile_scratch = scratch[1:] if scratch else [None] * len(tiles)
    tasks = [dask.delayed(substep)(window(c_ext, ys, xs), window(t_ext, ys, xs),
                                   window(u_ext, ys, xs), window(v_ext, ys, xs), dt, setup, order,
                                   ts, kz[..., ys, xs] if per_cell else kz)
             for (ys, xs), ts in zip(tiles, tile_scratch, strict=True)]  # one task per tile
    results = dask.compute(*tasks)
    c_new = np.empty_like(c) if own is None else own.get_array("assembled", c.shape)
    t_new = None if tags is None else np.empty_like(tags)
    for (ys, xs), (ct, tt) in zip(tiles, results, strict=True):
        c_new[..., ys, xs] = ct
        if t_new is not None:
            t_new[..., ys, xs] = tt
    return c_new, t_new


def make_tiles(ny, nx, chunks: dict | None):
    """(y-slice, x-slice) tiles for ``chunks`` = {"y": cy, "x": cx}; None = one tile."""
    if not chunks:
        return None
    cy, cx = int(chunks.get("y", ny)), int(chunks.get("x", nx))
    if cy < RING or cx < RING:
        raise ConfigError(f"chunks must be at least {RING} cells (the halo) on each axis")
    return [(slice(y0, min(y0 + cy, ny)), slice(x0, min(x0 + cx, nx)))
            for y0 in range(0, ny, cy) for x0 in range(0, nx, cx)]


def kz_simple(z_faces, mixing_height, kz_mixed=30.0, kz_free=0.1):
    """Kz [m²/s] at internal layer interfaces: ``kz_mixed`` below the mixing height, ``kz_free``
    above — the bulk-mixed boundary layer of box/slab models (e.g. Seinfeld & Pandis 2016 §18.9,
    Kz ~ 0.1 w* h in a convective layer, O(10–100) m²/s; free troposphere ~0.1–1 m²/s)."""
    z = np.asarray(z_faces, float).reshape((-1,) + (1,) * np.ndim(mixing_height))
    return np.where(z < mixing_height, kz_mixed, kz_free)


@register_model("eulerian", domain="air")
def eulerian(emissions: xr.DataArray, met: xr.Dataset, grid, *, boundary=None,
             interfaces=DEFAULT_INTERFACES, scheme: str = "ppm", kh: float = 100.0,
             cfl: float = 0.9, decay=None, deposition_velocity=None, tags: bool = False,
             periodic: bool = False, initial=None, kz=kz_simple, chemistry=None,
             output: str = "surface", checkpoint=None, checkpoint_every: int | None = None,
             restart=None, chunks: dict | None = None, wet_scavenging: bool = True,
             progress=None) -> xr.Dataset:
    """Hourly Eulerian advection–diffusion–reaction model on a grid (regional transport).

    Parameters
    ----------
    emissions : xr.DataArray  [g s-1 per cell]
        Dims (["sector",] "species", "z", "y", "x") with an optional hourly "time" dim; with a
        ``sector`` dim and ``tags=True`` each sector is a source tag.
    met : xr.Dataset
        Hourly gridded ``u``, ``v`` [m/s] (time, y, x), ``mixing_height`` [m]; optional
        ``precipitation`` [mm/h] used by ``chemistry``, ``kz`` [m²/s] (time, z_face, y, x).
    boundary : mapping species → float or array (time,)  [µg/m³]
        Inflow concentrations (all layers); 0 when absent.
    interfaces : sequence  [m]
        Layer interfaces from the ground; layer k spans interfaces[k]…interfaces[k+1].
    scheme : {"ppm", "vanleer", "upwind"}
    kh : float  [m²/s]
        Horizontal eddy diffusivity.
    decay, deposition_velocity : mapping species → [1/s], [m/s]
        First-order decay and dry-deposition velocity (lowest layer).
    tags : bool
        Track sector tags (+ ``boundary``); they sum to the total to round-off.
    periodic : bool
        Periodic lateral boundaries (closed domain; conservation tests).
    initial : array (S, Z, Y, X), optional  [µg/m³]
    chemistry : callable, optional
        ``chemistry(c, dt, met_hour, species) -> (c_new, wet_removed)`` applied after transport
        (e.g. :class:`SecondaryPM`); ``wet_removed`` [µg/m³] is booked as deposition, the rest of
        the change as chemical production.
    output : {"surface", "all"}
        Hourly snapshots of the lowest layer or of all layers.
    wet_scavenging : bool
        Scavenge by the met's ``precipitation`` [mm/h] (CALPUFF coefficients), booked as
        deposition.
    chunks : {"y": int, "x": int}, optional
        Split the domain into tiles computed as parallel dask tasks; each sub-step exchanges
        halos of :data:`RING` cells. Same numbers as the single-tile run.
    checkpoint, checkpoint_every, restart
        Write the full state atomically to ``checkpoint`` every N simulated hours; ``restart``
        (a checkpoint path) continues a run and gives the same numbers as an uninterrupted run.

    Returns
    -------
    xr.Dataset with ``concentration`` (time, species, [z,] y, x) [ug m-3] (hourly snapshots at the
    end of each hour), ``tag_concentration`` when tagged, and the mass ``budget`` variables.
    """
    if scheme not in advection.SCHEMES:
        raise ConfigError(f"scheme={scheme!r} must be one of {advection.SCHEMES}")
    if output not in ("surface", "all"):
        raise ConfigError(f"output={output!r} must be 'surface' or 'all'")
    for v in ("u", "v", "mixing_height"):
        if v not in met:
            raise MissingFieldError(f"gridded met lacks {v!r}", field=v, where="met")
    z_if = np.asarray(interfaces, float)
    check_range(np.diff(z_if), "layer thickness", 0.0, None, lo_inclusive=False, units="m")
    for d in ("species", "z", "y", "x"):
        if d not in emissions.dims:
            raise MissingFieldError(f"emissions lack dimension {d!r}", field=d,
                                    where="emissions")
    if emissions.sizes["z"] != z_if.size - 1:
        raise ConfigError(f"emissions have {emissions.sizes['z']} layers, interfaces give "
                          f"{z_if.size - 1}")
    check_nonnegative(emissions.values, "emissions", units="g/s")
    species = tuple(str(s) for s in emissions["species"].values)
    has_sector = "sector" in emissions.dims
    tag_names = (tuple(str(s) for s in emissions["sector"].values) + ("boundary",)) \
        if tags and has_sector else (("emissions", "boundary") if tags else ())
    setup = Setup(species, grid.dx, grid.dy, np.diff(z_if), z_if, scheme, float(kh), float(cfl),
                  _per_species(decay, species, "decay"),
                  _per_species(deposition_velocity, species, "deposition_velocity"), tag_names,
                  chemistry, wet_scavenging)
    return _run(setup, emissions, met, grid, boundary, periodic, initial, kz, output,
                checkpoint, checkpoint_every, restart, progress, chunks)


def _per_species(mapping, species, name):
    out = np.zeros(len(species))
    for k, v in (mapping or {}).items():
        if k not in species:
            raise ConfigError(f"{name}: unknown species {k!r}; run species: {list(species)}")
        out[species.index(k)] = float(v)
    check_nonnegative(out, name)
    return out


def _mass(c, vol):
    """Mass per species [g] of a (S, Z, Y, X) field [µg/m³] with layer volumes ``vol`` (Z,)."""
    return np.einsum("szyx,z->s", c, vol) * 1e-6


def _emission_rates(emissions, hour, vol, n_tags):
    """Emission tendency [µg m-3 s-1]: total (S, Z, Y, X) and per tag (G, S, Z, Y, X) or None."""
    e = emissions.isel(time=hour) if "time" in emissions.dims else emissions
    if "sector" in e.dims:
        e = e.transpose("sector", "species", "z", "y", "x")
    else:
        e = e.transpose("species", "z", "y", "x").expand_dims("sector")
    rate = np.asarray(e.values, float) * 1e6 / vol[None, None, :, None, None]
    tag_rate = None
    if n_tags:
        tag_rate = np.zeros((n_tags,) + rate.shape[1:])
        tag_rate[: rate.shape[0]] = rate
    return rate.sum(0), tag_rate


def _boundary(boundary, species, hour):
    bc = np.zeros(len(species))
    for k, val in (boundary or {}).items():
        if k in species:
            val = np.asarray(val, float)
            bc[species.index(k)] = val if val.ndim == 0 else val[hour]
    check_nonnegative(bc, "boundary", units="ug/m3")
    return bc[:, None, None, None]


def _write_checkpoint(path, state: State, times):
    from ..io.netcdf import atomic_write

    ds = xr.Dataset({"c": (("species", "z", "y", "x"), state.c)},
                    attrs={"hour": state.hour, "step": state.step,
                           "next_time": str(times[state.hour]) if state.hour < len(times) else ""})
    if state.tags is not None:
        ds["tags"] = (("tag", "species", "z", "y", "x"), state.tags)
    ds = ds.merge(state.budget.to_dataset().drop_vars("species", errors="ignore"))
    atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"))


def _read_checkpoint(path, species) -> State:
    with xr.open_dataset(path, engine="netcdf4") as ds:
        ds = ds.load()
    budget = Budget(species, *(ds[f"budget_{k}"].values for k in Budget.FIELDS))
    tags = np.array(ds["tags"].values, float) if "tags" in ds else None
    return State(np.array(ds["c"].values, float), tags, budget, int(ds.attrs["hour"]), int(ds.attrs["step"]))


def _run(setup, emissions, met, grid, boundary, periodic, initial, kz, output, checkpoint,
         every, restart, progress, chunks):
    S, Z, Y, X = len(setup.species), setup.dz.size, grid.ny, grid.nx
    tiles = make_tiles(Y, X, chunks)
    G = len(setup.tag_names)
    vol = setup.dx * setup.dy * setup.dz
    times = met["time"].values
    if restart is not None:
        state = _read_checkpoint(restart, setup.species)
    else:
        c0 = np.zeros((S, Z, Y, X)) if initial is None \
            else np.array(np.broadcast_to(initial, (S, Z, Y, X)), float)
        tags0 = None
        if G:
            tags0 = np.zeros((G, S, Z, Y, X))
            tags0[-1] = c0  # initial air counts as boundary/background
        state = State(c0, tags0, Budget(setup.species))
    snaps, tag_snaps = [], []
    scratch = [Scratch() for _ in range(1 + (len(tiles) if tiles else 0))]
    for hour in range(state.hour, len(times)):  # the model clock: one pass per simulated hour
        # this hour's met, read once (variables without a time axis apply to every hour)
        met_hour = {name: var.values for name, var in met.isel(time=hour).data_vars.items()}
        met_hour["time"] = times[hour]
        u, v, zi = (np.broadcast_to(np.asarray(met_hour[n], float), (Y, X))
                    for n in ("u", "v", "mixing_height"))
        kzf = np.asarray(met_hour["kz"], float) if "kz" in met_hour \
            else kz(setup.z_interfaces[1:-1], zi)
        n_sub = max(advection.substeps(u, v, setup.dx, setup.dy, 3600.0, setup.cfl),
                    diffusion.horizontal_substeps(setup.kh, setup.kh, 3600.0, setup.dx,
                                                  setup.dy))
        dt = 3600.0 / n_sub
        e_total, e_tags = _emission_rates(emissions, hour, vol, G)
        bc = _boundary(boundary, setup.species, hour)
        bc_tags = np.zeros((G, S, 1, 1, 1)) if G else None
        if G:
            bc_tags[-1] = bc
        k_dec = setup.decay[:, None, None, None] * np.ones((1, Z, 1, 1))
        k_dry = np.zeros((S, Z, 1, 1))
        k_dry[:, 0] = (setup.vd / setup.dz[0])[:, None, None]
        factor = np.exp(-(k_dec + k_dry) * dt)
        k_sum = np.where(k_dec + k_dry > 0, k_dec + k_dry, 1.0)
        precip = met_hour.get("precipitation") if setup.wet_scavenging else None
        if precip is not None and not np.any(precip > 0):
            precip = None
        hour_ctx = hour_context(u, v, bc, bc_tags, periodic)
        state.budget.emitted += _mass(e_total, vol) * (dt * n_sub)
        removing = bool(np.any(k_dec + k_dry > 0))
        e_dt = e_total * dt
        et_dt = e_tags * dt if G else None
        for _ in range(n_sub):  # sub-steps of this hour (CFL-limited)
            c = state.c
            c += e_dt  # the state owns its arrays (snapshots and checkpoints copy)
            tags = state.tags
            if G:
                tags += et_dt
            m0 = _mass(c, vol)
            # the transported field lives in a scratch array, which becomes the state: the next
            # sub-step copies it into the extended array before anything overwrites it
            c, tags = transport_substep(c, tags, hour_ctx, dt, setup, state.step, tiles,
                                        scratch, kzf)
            # vertical diffusion conserves each column (Σ c Δz), so the change is the boundary's
            state.budget.boundary_net += _mass(c, vol) - m0
            if removing:
                lost = c * (1.0 - factor)
                dry = _mass(lost[:, :1] * (k_dry / k_sum)[:, :1], vol[:1])  # layer 0 only
                state.budget.deposited += dry
                state.budget.decayed += _mass(lost, vol) - dry
                c = c - lost
                if G:
                    tags = tags * factor
            if precip is not None:  # below-cloud scavenging in every layer (CALPUFF §2.9)
                wet = c * (1.0 - _wet_factor(c, precip, setup.species, dt))
                state.budget.deposited += _mass(wet, vol)
                if G:
                    tags = tags * np.divide(c - wet, c, out=np.zeros_like(c), where=c > 0)
                c = c - wet
            if setup.chemistry is not None:
                c_new, wet = setup.chemistry(c, dt, met_hour, setup.species)
                state.budget.deposited += _mass(wet, vol)
                state.budget.chemical += _mass(c_new - c + wet, vol)
                if G:
                    tags = _share_change(tags, c, c_new)
                c = c_new
            state.c, state.tags = c, tags
            state.step += 1
        state.hour = hour + 1
        snaps.append(state.c[:, 0].copy() if output == "surface" else state.c.copy())
        if G:
            tag_snaps.append(state.tags[:, :, 0].copy() if output == "surface"
                             else state.tags.copy())
        if checkpoint is not None and every and state.hour % every == 0:
            _write_checkpoint(checkpoint, state, times)
        if progress is not None:
            progress(hour)
    return _result(snaps, tag_snaps, times[len(times) - len(snaps):], setup, grid, state, output)


def _wet_factor(c, precip, species, dt):
    """exp(−Λ Δt) per (species, z, y, x) from the hour's precipitation [mm/h]; the coefficients
    Λ [s⁻¹ per mm/h] are CALPUFF's (:func:`ecodss.air.chemistry.removal_rates`, Scire et al.
    2000 §2.9; the nitrate pool weighted by its gas/particle split); species without a
    coefficient are not scavenged."""
    known = [i for i, s in enumerate(species)
             if s in chemistry.SCAVENGING_COEFFICIENT or s == "NO3"]
    rates = chemistry.removal_rates(c[known], tuple(species[i] for i in known),
                                    precipitation=precip)["wet"]
    k = np.zeros(c.shape)
    for i in known:
        k[i] = np.broadcast_to(np.asarray(rates[species[i]], float), c.shape[1:])
    return np.exp(-k * dt)


def _share_change(tags, c_old, c_new):
    """Tag update for a process known only by its effect on the total: each tag keeps its share
    of every species (tag × c_new/c_old); cells that were empty take the new mass as boundary."""
    ratio = np.divide(c_new, c_old, out=np.zeros_like(c_new), where=c_old > 0)
    out = tags * ratio
    empty = (c_old <= 0) & (c_new > 0)
    if empty.any():
        out[-1] = np.where(empty, c_new, out[-1])
    return out


def _result(snaps, tag_snaps, times, setup, grid, state, output):
    z_mid = 0.5 * (setup.z_interfaces[:-1] + setup.z_interfaces[1:])
    dims = ("time", "species", "y", "x") if output == "surface" else (
        "time", "species", "z", "y", "x")
    coords = {"time": times, "species": list(setup.species), "y": grid.y, "x": grid.x}
    if output == "all":
        coords["z"] = ("z", z_mid, {"units": "m", "long_name": "layer mid-height",
                                    "positive": "up"})
    attrs = {"units": "ug m-3", "long_name": "hourly snapshot concentration (Eulerian model)"}
    ds = xr.Dataset({"concentration": (dims, np.stack(snaps), attrs)}, coords=coords)
    ds["x"].attrs = {"units": "m", "standard_name": "projection_x_coordinate"}
    ds["y"].attrs = {"units": "m", "standard_name": "projection_y_coordinate"}
    if tag_snaps:
        ds["tag_concentration"] = (("time", "tag") + dims[1:], np.stack(tag_snaps),
                                   {**attrs, "long_name": "concentration by source tag"})
        ds = ds.assign_coords(tag=list(setup.tag_names))
    ds = ds.merge(state.budget.to_dataset().assign_coords(species=list(setup.species)))
    ds["final_mass"] = ("species", _mass(state.c, setup.dx * setup.dy * setup.dz),
                        {"units": "g", "long_name": "mass in the domain at the end"})
    ds.attrs.update({"model": "ecodss eulerian", "advection": setup.scheme,
                     "references": "Colella & Woodward 1984; van Leer 1977; McRae et al. 1982"})
    return ds


class SecondaryPM:
    """Chemistry hook for :func:`eulerian`: secondary PM from :mod:`ecodss.air.chemistry`.

    Each sub-step: MESOPUFF II conversion rates (SO2 → SO4, NOx → NO3) from the hour's relative
    humidity, stability class, background ozone, local NOx and solar radiation (or constant rates,
    ``scheme="constant"``); exact first-order integration; ammonium neutralisation (with the
    NH4NO3 equilibrium at the air temperature when the met has it; ``neutralise=False`` keeps the
    chemistry linear). Wet scavenging and dry deposition are applied by the driver. Solar radiation is the
    clear-sky value R = 990 sin α − 30 W/m² (Holtslag & van Ulden 1983, *J. Clim. Appl. Meteor.*
    22:517, Eq. 3) reduced by cloud as (1 − 0.75 N^3.4) (Kasten & Czeplak 1980, *Solar Energy*
    24:177), α from :func:`ecodss.met.solar.solar_altitude` at each cell.
    """

    def __init__(self, grid, ozone_ppm: float = 0.03, scheme: str = "mesopuff2",
                 so2_to_so4: float | None = None, nox_to_no3: float | None = None,
                 neutralise: bool = True):
        self.lon, self.lat = grid.lonlat()
        self.ozone = float(ozone_ppm)
        self.scheme = scheme
        self.fixed = {"so2_to_so4": so2_to_so4, "nox_to_no3": nox_to_no3}
        self.neutralise = neutralise

    def solar_radiation(self, time, cloud=None):
        alt = np.asarray(solar_altitude(np.datetime64(time, "ns"), self.lon, self.lat), float)
        r = np.maximum(990.0 * np.sin(np.deg2rad(alt)) - 30.0, 0.0)
        return r if cloud is None else r * (1.0 - 0.75 * np.asarray(cloud, float) ** 3.4)

    def __call__(self, c, dt, met_hour, species):
        rh = met_hour.get("relative_humidity", 70.0)
        temp = met_hour.get("air_temperature")
        if self.scheme == "constant":
            rates = chemistry.conversion_rates(scheme="constant", **self.fixed)
        else:
            nox = c[species.index("NOx")] if "NOx" in species else np.zeros(c.shape[1:])
            t_k = 283.15 if temp is None else temp
            rates = chemistry.conversion_rates(
                rh, scheme="mesopuff2", ozone=self.ozone,
                solar_radiation=self.solar_radiation(met_hour["time"],
                                                     met_hour.get("cloud_cover")),
                stability_class=met_hour.get("stability_class", 4),
                nox=ugm3_to_ppb(nox, "NO2", t_k) * 1e-3)
        c_new, _ = chemistry.chemistry_step(c, dt, rates, species, temperature=temp,
                                            neutralise=self.neutralise)
        return np.asarray(c_new), np.zeros_like(c)  # removal is the driver's


#: Inventory pollutant emitted as each Eulerian species (primary PM2.5 is carried as PPM25).
INVENTORY_POLLUTANT = {"SO2": "SO2", "NOx": "NOx", "NH3": "NH3", "PPM25": "PM2.5", "VOC": "VOCs"}


def effective_heights(points, wind_speed=5.0, air_temperature=273.15, stability_class=4,
                      anemometer_height=10.0):
    """Stack height + Briggs final rise [m] under a representative condition (default: neutral D,
    5 m/s at 10 m, 0 °C), with the ISC3 power-law wind at stack height — the layer each stack is
    injected into (:mod:`ecodss.air.plume`, ISC3-II Eqs. 1-7…1-22)."""
    from ..met.profile import wind_at_height
    from . import plume

    hs = points["stack_height"].to_numpy(float)
    ds = points["stack_diameter"].to_numpy(float)
    vs = points["exit_velocity"].to_numpy(float)
    ts = points["exit_temperature"].to_numpy(float)
    us = np.maximum(np.asarray(wind_at_height(wind_speed, np.maximum(hs, anemometer_height),
                                              anemometer_height, stability_class), float), 1.0)
    fb = plume.buoyancy_flux(vs, ds, ts, air_temperature)
    fm = plume.momentum_flux(vs, ds, ts, air_temperature)
    dh, *_ = plume.final_plume_rise(fb, fm, us, vs, ds, ts, air_temperature, stability_class)
    return plume.stack_tip_downwash(hs, ds, vs, us) + dh


def emissions_from_inventory(inventory, grid, interfaces=DEFAULT_INTERFACES,
                             species=("SO2", "NOx", "NH3", "PPM25"), by_sector: bool = True,
                             **rise_conditions) -> xr.DataArray:
    """Annual-mean emissions [g/s per cell] of an :class:`~ecodss.Inventory` for :func:`eulerian`.

    Area sources are spread over the cells they overlap (:func:`ecodss.inventory.spatial.
    grid_emissions`) into the layer of their release height; stacks go into the cell that holds
    them and the layer of their effective height (:func:`effective_heights`). Sources outside the
    grid are left out (the spatial gridder warns). Returns (sector, species, z, y, x), or without
    ``sector`` when ``by_sector`` is False. Mass is conserved for in-domain sources.
    """
    from ..inventory.spatial import grid_inventory

    z_if = np.asarray(interfaces, float)
    nz = z_if.size - 1

    def layer_of(h):
        return np.clip(np.searchsorted(z_if, np.asarray(h, float), side="right") - 1, 0, nz - 1)

    sectors = sorted(inventory.sectors) if by_sector else ["all"]
    out = np.zeros((len(sectors), len(species), nz, grid.ny, grid.nx))
    pts, areas = inventory.points, inventory.areas
    he = effective_heights(pts, **rise_conditions) if len(pts) else np.zeros(0)
    iy, ix = grid.cell_index(pts["x"].to_numpy(float), pts["y"].to_numpy(float)) if len(pts) \
        else (np.zeros(0, int), np.zeros(0, int))
    inside = iy >= 0
    emitted = [(s, INVENTORY_POLLUTANT[name]) for s, name in enumerate(species)
               if INVENTORY_POLLUTANT[name] in inventory.pollutants]
    for g, sector in enumerate(sectors):  # a handful of sectors
        in_sector = np.ones(len(pts), bool) if sector == "all" else (
            pts["sector"].astype(str).to_numpy() == sector)
        sel = in_sector & inside
        cells = (layer_of(he[sel]), iy[sel], ix[sel])
        for s, pol in emitted:
            np.add.at(out[g, s], cells, pts[pol].to_numpy(float)[sel])
        if not len(areas) or not emitted:
            continue
        a = areas if sector == "all" else areas[areas["sector"].astype(str) == sector]
        for height in np.unique(a["release_height"].to_numpy(float)):  # few height classes
            sub = inventory.select(kind="area", ids=a.loc[a["release_height"] == height, "id"])
            gridded = grid_inventory(sub, grid, [pol for _, pol in emitted], kind="area",
                                     warn_outside=False)  # weights once for all species
            for s, pol in emitted:
                out[g, s, layer_of(height)] += gridded[pol.replace(".", "_")].values
    da = xr.DataArray(out, dims=("sector", "species", "z", "y", "x"),
                      coords={"sector": sectors, "species": list(species)},
                      attrs={"units": "g s-1", "long_name": "emission rate per cell"})
    return da if by_sector else da.isel(sector=0, drop=True)
