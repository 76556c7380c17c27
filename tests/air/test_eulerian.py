"""Eulerian grid model: analytic steady state, conservation, tags, linearity, budgets, restart."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import k0

from ecodss import Grid
from ecodss.air.eulerian import eulerian

SCHEMES = ["upwind", "vanleer", "ppm"]


def _met(grid, hours, u=2.0, v=0.0, mixing_height=1000.0):
    t = pd.date_range("2026-01-10", periods=hours, freq="h")
    shape = (hours, grid.ny, grid.nx)
    u = np.broadcast_to(u, shape) if np.ndim(u) < 3 else u
    v = np.broadcast_to(v, shape) if np.ndim(v) < 3 else v
    return xr.Dataset({"u": (("time", "y", "x"), np.array(u, float)),
                       "v": (("time", "y", "x"), np.array(v, float)),
                       "mixing_height": (("time", "y", "x"), np.full(shape, mixing_height))},
                      coords={"time": t})


def _emissions(grid, species=("PPM25",), nz=1, sectors=None, points=()):
    """Point-like emissions [g/s] at (iy, ix, rate) in layer 0."""
    dims = ("species", "z", "y", "x")
    shape = (len(species), nz, grid.ny, grid.nx)
    if sectors is None:
        e = np.zeros(shape)
        for iy, ix, rate in points:
            e[:, 0, iy, ix] += rate
        return xr.DataArray(e, dims=dims, coords={"species": list(species)})
    e = np.zeros((len(sectors),) + shape)
    for k, pts in enumerate(points):
        for iy, ix, rate in pts:
            e[k, :, 0, iy, ix] += rate
    return xr.DataArray(e, dims=("sector",) + dims,
                        coords={"species": list(species), "sector": list(sectors)})


def test_steady_point_source_matches_k0_solution():
    """C = q/(2πK) exp(ux/2K) K0(ur/2K) for a continuous 2-D source with along-wind diffusion."""
    dx, u, k = 1000.0, 2.0, 1000.0  # cell Péclet u dx / K = 2
    grid = Grid(0.0, 0.0, dx, dx, 90, 41, crs="EPSG:32650")
    depth, q_total = 100.0, 50.0  # one layer 100 m deep; Q [g/s]
    src = (20, 15)
    ds = eulerian(_emissions(grid, points=[(src[0], src[1], q_total)]), _met(grid, 30, u=u),
                  grid, interfaces=(0.0, depth), kh=k, scheme="ppm")
    c = ds["concentration"].isel(time=-1, species=0).values  # µg/m³
    x = (np.arange(grid.nx) - src[1]) * dx
    exact = q_total * 1e6 / depth / (2 * np.pi * k) * np.exp(u * x / (2 * k)) * k0(
        u * np.abs(x) / (2 * k))
    along = np.arange(src[1] + 6, src[1] + 50)  # centreline beyond 5 cells
    np.testing.assert_allclose(c[src[0], along], exact[along], rtol=0.05)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_periodic_domain_conserves_mass_and_stays_positive(scheme):
    grid = Grid(0.0, 0.0, 1000.0, 1000.0, 40, 32)
    rng = np.random.default_rng(0)
    yy, xx = np.meshgrid(np.arange(32), np.arange(40), indexing="ij")
    # non-divergent swirl on the periodic domain (stream function sin·sin)
    ps = np.sin(2 * np.pi * xx / 40) * np.sin(2 * np.pi * yy / 32)
    u = -np.gradient(ps, axis=0) * 30.0
    v = np.gradient(ps, axis=1) * 30.0
    init = rng.uniform(0, 50, (1, 2, 32, 40)) * (rng.uniform(size=(1, 2, 32, 40)) > 0.5)
    ds = eulerian(_emissions(grid, nz=2), _met(grid, 6, u=u[None] * np.ones((6, 1, 1)),
                                                v=v[None] * np.ones((6, 1, 1))),
                  grid, interfaces=(0.0, 100.0, 400.0), periodic=True, initial=init,
                  scheme=scheme, output="all")
    m0 = (init[0] * np.array([100.0, 300.0])[:, None, None]).sum()
    c = ds["concentration"].isel(time=-1, species=0).values
    m1 = (c * np.array([100.0, 300.0])[:, None, None]).sum()
    assert abs(m1 - m0) / m0 < 1e-12
    assert c.min() >= 0.0


def _tagged_case(scheme, scale=1.0, boundary=None):
    grid = Grid(0.0, 0.0, 2000.0, 2000.0, 30, 24)
    rng = np.random.default_rng(2)
    hours = 5
    u = 3.0 + rng.uniform(-1, 1, (hours, 24, 30))
    v = 1.0 + rng.uniform(-1, 1, (hours, 24, 30))
    emis = _emissions(grid, species=("SO2", "PPM25"), nz=3, sectors=("power", "traffic"),
                      points=[[(10, 5, 40.0 * scale), (3, 20, 10.0 * scale)],
                              [(12, 12, 25.0 * scale)]])
    return eulerian(emis, _met(grid, hours, u=u, v=v, mixing_height=300.0), grid,
                    interfaces=(0.0, 50.0, 200.0, 600.0), scheme=scheme, tags=True,
                    boundary=boundary, decay={"SO2": 1e-5},
                    deposition_velocity={"SO2": 0.005, "PPM25": 0.001}, output="all")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_tags_sum_to_total_with_every_scheme(scheme):
    ds = _tagged_case(scheme, boundary={"PPM25": 40.0, "SO2": 5.0})
    total = ds["concentration"]
    tags = ds["tag_concentration"]
    assert list(ds["tag"].values) == ["power", "traffic", "boundary"]
    assert float(tags.min()) >= 0.0
    np.testing.assert_allclose(tags.sum("tag").values, total.values, rtol=1e-10,
                               atol=1e-10 * float(total.max()))
    assert float(tags.sel(tag="boundary").max()) > 1.0  # inflow is carried by its tag


def test_doubling_emissions_doubles_concentrations():
    one = _tagged_case("ppm")["concentration"].values
    two = _tagged_case("ppm", scale=2.0)["concentration"].values
    np.testing.assert_allclose(two, 2 * one, rtol=1e-10, atol=1e-12 * one.max())


@pytest.mark.parametrize("scheme", SCHEMES)
def test_mass_budget_closes(scheme):
    ds = _tagged_case(scheme, boundary={"PPM25": 10.0})
    lhs = ds["final_mass"]
    rhs = (ds["budget_emitted"] + ds["budget_boundary_net"] - ds["budget_deposited"]
           - ds["budget_decayed"] + ds["budget_chemical"])
    np.testing.assert_allclose(lhs.values, rhs.values, rtol=1e-10)
    assert float(ds["budget_deposited"].sel(species="SO2")) > 0
    assert float(ds["budget_decayed"].sel(species="SO2")) > 0


def test_restart_from_checkpoint_equals_uninterrupted_run(tmp_path):
    grid = Grid(0.0, 0.0, 2000.0, 2000.0, 20, 16)
    met = _met(grid, 6, u=2.5, v=-1.0)
    emis = _emissions(grid, nz=2, points=[(8, 4, 30.0)])
    kw = dict(interfaces=(0.0, 100.0, 500.0), tags=True, boundary={"PPM25": 7.0},
              output="all")
    full = eulerian(emis, met, grid, **kw)
    ck = tmp_path / "state.nc"
    eulerian(emis, met.isel(time=slice(0, 3)), grid, checkpoint=ck, checkpoint_every=3, **kw)
    rest = eulerian(emis, met, grid, restart=ck, **kw)
    np.testing.assert_allclose(rest["concentration"].values,
                               full["concentration"].isel(time=slice(3, None)).values,
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(rest["final_mass"].values, full["final_mass"].values, rtol=1e-12)


def test_chunked_run_equals_single_tile_and_crosses_seams():
    grid = Grid(0.0, 0.0, 2000.0, 2000.0, 24, 18)
    met = _met(grid, 4, u=4.0, v=1.5)
    emis = _emissions(grid, nz=2, points=[(8, 3, 60.0)])
    kw = dict(interfaces=(0.0, 100.0, 500.0), tags=True, boundary={"PPM25": 3.0})
    one = eulerian(emis, met, grid, **kw)
    tiled = eulerian(emis, met, grid, chunks={"y": 7, "x": 8}, **kw)
    np.testing.assert_allclose(tiled["concentration"].values, one["concentration"].values,
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(tiled["tag_concentration"].values,
                               one["tag_concentration"].values, rtol=1e-12, atol=0)
    # the plume starts in the first x-tile (columns 0–7) and must reach the third (16–23)
    c = tiled["concentration"].isel(time=-1, species=0).values
    assert c[5:12, 16:].max() > 1e-3 * c.max()


def _chem_met(grid, hours):
    met = _met(grid, hours, u=3.0, v=1.0, mixing_height=500.0)
    rng = np.random.default_rng(9)
    shape = (hours, grid.ny, grid.nx)
    met["relative_humidity"] = (("time", "y", "x"), rng.uniform(40, 95, shape))
    met["air_temperature"] = (("time", "y", "x"), rng.uniform(265, 285, shape))
    met["stability_class"] = (("time", "y", "x"), rng.integers(2, 7, shape))
    met["precipitation"] = (("time", "y", "x"), rng.uniform(0, 2, shape) * (rng.uniform(
        size=shape) > 0.7))
    return met.assign_coords(time=pd.date_range("2026-01-10T02", periods=hours, freq="h"))


@pytest.mark.parametrize("scheme", ["upwind", "ppm"])
def test_sulfur_and_nitrogen_budgets_close_with_secondary_pm(scheme):
    from ecodss.air import chemistry
    from ecodss.air.eulerian import SecondaryPM

    grid = Grid(500_000.0, 4_200_000.0, 4000.0, 4000.0, 16, 12)
    species = ("SO2", "SO4", "NOx", "NO3", "NH3", "NH4", "PPM25")
    emis = _emissions(grid, species=species, nz=3, sectors=("industry", "agriculture"),
                      points=[[(5, 3, 80.0)], [(8, 9, 30.0)]])
    ds = eulerian(emis, _chem_met(grid, 6), grid, interfaces=(0.0, 50.0, 200.0, 600.0),
                  scheme=scheme, tags=True, chemistry=SecondaryPM(grid),
                  deposition_velocity={"SO2": 0.005, "SO4": 0.0015, "NOx": 0.001})
    assert float(ds["budget_chemical"].sel(species="SO4")) > 0  # sulfate was formed

    def moles(var, element):
        return sum(float(ds[var].sel(species=s)) * n / chemistry.MOLAR_MASS[s]
                   for s, n in chemistry.ELEMENT_CONTENT[element].items())

    for element in ("S", "N"):
        lhs = moles("final_mass", element) + moles("budget_deposited", element)
        rhs = moles("budget_emitted", element) + moles("budget_boundary_net", element)
        if element == "N":  # NOx → organic nitrates (RNO3) leave the tracked N species
            rhs += moles("budget_chemical", element)
        assert lhs == pytest.approx(rhs, rel=1e-10)
    # chemistry moves sulfur between SO2 and SO4 only: zero net sulfur production
    assert abs(moles("budget_chemical", "S")) < 1e-10 * moles("budget_emitted", "S")
    tags = ds["tag_concentration"].sum("tag")
    np.testing.assert_allclose(tags.values, ds["concentration"].values, rtol=1e-10,
                               atol=1e-10 * float(ds["concentration"].max()))


def test_inventory_emissions_keep_mass_and_stack_layers():
    from ecodss import Inventory
    from ecodss.air.eulerian import effective_heights, emissions_from_inventory

    grid = Grid(0.0, 0.0, 1000.0, 1000.0, 10, 8)
    pts = pd.DataFrame(dict(id=["tall", "low", "far"], x=[2500.0, 6200.0, 50_000.0],
                            y=[3500.0, 1200.0, 0.0], stack_height=[180.0, 15.0, 50.0],
                            stack_diameter=[6.0, 0.5, 2.0], exit_velocity=[20.0, 5.0, 10.0],
                            exit_temperature=[350.0, 400.0, 400.0], SO2=[100.0, 2.0, 9.0],
                            sector=["power", "boilers", "power"]))
    areas = pd.DataFrame(dict(id=["res"], x=[5000.0], y=[4000.0], width=[4000.0],
                              height=[2000.0], release_height=[5.0], SO2=[8.0],
                              sector=["residential"]))
    inv = Inventory(points=pts, areas=areas)
    e = emissions_from_inventory(inv, grid, interfaces=(0.0, 50.0, 200.0, 600.0),
                                 species=("SO2",))
    assert e.sel(species="SO2").sum().item() == pytest.approx(110.0, rel=1e-12)  # "far" is out
    he = effective_heights(pts)
    assert he[0] > 200.0  # the power stack's plume lands in the 200–600 m layer
    assert e.sel(sector="power", species="SO2", z=2).isel(y=3, x=2).item() == pytest.approx(100.0)
    low_layer = int(np.searchsorted([0.0, 50.0, 200.0, 600.0], he[1], side="right") - 1)
    assert e.sel(sector="boilers", species="SO2", z=low_layer).isel(y=1, x=6).item() == 2.0
    assert e.sel(sector="residential", species="SO2", z=0).sum().item() == pytest.approx(8.0)


def test_linear_chemistry_doubles_with_emissions():
    """Zero inflow + linear chemistry (constant conversion rates, no neutralisation)."""
    from ecodss.air.eulerian import SecondaryPM

    grid = Grid(500_000.0, 4_200_000.0, 4000.0, 4000.0, 12, 10)
    species = ("SO2", "SO4", "NOx", "NO3", "NH3", "NH4", "PPM25")
    met = _chem_met(grid, 4)
    chem = SecondaryPM(grid, scheme="constant", so2_to_so4=2.0, nox_to_no3=5.0,
                       neutralise=False)

    def run(scale):
        emis = _emissions(grid, species=species, nz=2, points=[(4, 3, 50.0 * scale)])
        return eulerian(emis, met, grid, interfaces=(0.0, 100.0, 500.0), chemistry=chem,
                        decay={"PPM25": 1e-6}, deposition_velocity={"SO2": 0.005},
                        output="all")
    one, two = run(1.0), run(2.0)
    c1 = one["concentration"].values
    assert float(one["concentration"].sel(species="SO4").max()) > 0
    assert float(one["budget_deposited"].sel(species="SO4")) > 0  # wet scavenging acted
    np.testing.assert_allclose(two["concentration"].values, 2 * c1, rtol=1e-10,
                               atol=1e-12 * c1.max())
