"""Polynomial response surfaces of PM2.5 to emission reductions (pf-RSM) and optimisation on them.

A chemical transport model is nonlinear in its emissions (here: NH3-limited ammonium nitrate and
the sulfate-first neutralisation of :class:`ecodss.air.eulerian.SecondaryPM`). The response
surface method replaces it, for planning, by a cheap function of the *reduction fractions*
``r_f ∈ [0, 1)`` of a few emission factors (a precursor of some sectors in some region), fitted
to a designed set of model runs (Xing et al. 2011, "Nonlinear response of ozone to precursor
emission changes in China: a modeling study using response surface methodology", Atmos. Chem.
Phys. 11:5027–5044; Xing et al. 2017, "Nonlinear response of ozone and PM2.5 … polynomial
functions (pf-RSM)", Atmos. Chem. Phys. 17:12481–12498):

.. math::

    C(r) = \\beta_0 + \\sum_k \\beta_k \\prod_f r_f^{p_{kf}}, \\qquad
    \\sum_f p_{kf} \\le d,

the pf-RSM monomials up to total degree ``d`` (3 here, as Xing et al. 2017 Table 2 use powers up
to 3 for the dominant precursors) in the nonlinear factors; factors that act linearly (primary
PM, which has no chemistry) enter with their first power only. Coefficients are fitted by least
squares (scikit-learn) on a Latin-hypercube design (McKay, Beckman & Conover 1979, Technometrics
21:239; :class:`scipy.stats.qmc.LatinHypercube`). Skill is the published pf-RSM criterion on
held-out runs: normalised error ``NE = |C_RSM − C_model| / C_model``, mean ≤ 2 % and maximum
≤ 10 % (Xing et al. 2011, §3.2; Xing et al. 2017, §3.1).

:func:`optimise_on_surface` then minimises control cost subject to ``C(r) ≤ target`` with
SLSQP (Kraft 1988, DFVLR-FB 88-28) on the epigraph form of the convex piecewise-linear cost, or
globally with differential evolution (Storn & Price 1997, J. Global Optim. 11:341).

The design runs come from :class:`RegionalDesignCase`, a small, cheap window of the regional
"2+26" sample (a sub-grid and one day) run by :func:`ecodss.air.eulerian.eulerian` with its
secondary-PM chemistry, as a dask batch (:func:`run_design`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError, InvalidValueError, MissingFieldError
from ..validation import check_finite, check_range

#: Eulerian species of the regional run and the inventory pollutant each is emitted as
#: (mirrors :data:`ecodss.workflows.regional_forecast.EMITTED_AS`).
FACTOR_POLLUTANT = {"SO2": "SO2", "NOx": "NOx", "NH3": "NH3", "PPM25": "PM2.5"}
#: Measure reference pollutants counted for each factor's cost curve.
COST_POLLUTANTS = {"SO2": ("SO2",), "NOx": ("NOx",), "NH3": ("NH3",),
                   "PPM25": ("PM2.5", "PM10")}
#: Published pf-RSM skill criterion on held-out runs (Xing et al. 2011, 2017).
MEAN_NE_LIMIT, MAX_NE_LIMIT = 0.02, 0.10


@dataclass(frozen=True)
class Factor:
    """One control factor: the emissions of ``species`` from ``sectors`` inside ``region``.

    ``sectors`` ``None`` = all sectors; ``region`` a boolean (y, x) mask of the design grid,
    ``None`` = everywhere. ``linear`` marks factors without chemistry (primary PM) that enter the
    surface with their first power only.
    """

    name: str
    species: str
    sectors: tuple | None = None
    region: np.ndarray | None = field(default=None, compare=False, repr=False)
    linear: bool = False

    def __post_init__(self):
        if self.species not in FACTOR_POLLUTANT:
            raise ConfigError(f"factor {self.name!r}: species {self.species!r} must be one of "
                              f"{sorted(FACTOR_POLLUTANT)}")


#: Default factors: each precursor from all sectors over the whole window (primary PM linear).
DEFAULT_FACTORS = (Factor("NOx", "NOx"), Factor("SO2", "SO2"), Factor("NH3", "NH3"),
                   Factor("PPM25", "PPM25", linear=True))


# ---------------------------------------------------------------------------------------------
# the cheap regional configuration
# ---------------------------------------------------------------------------------------------
@dataclass
class RegionalDesignCase:
    """A small window of the regional Eulerian case; :meth:`run` maps reductions to PM2.5.

    Build with :meth:`from_sample`. ``emissions`` (sector, species, z, y, x) [g s-1], ``met``
    hourly on the window, ``boundary`` inflow [µg m-3] per species (time,). Outputs: the mean
    surface PM2.5 over the last ``average_hours`` hours at each receptor city's cell and the
    population-weighted window mean (``"population"``) [µg m-3].
    """

    emissions: xr.DataArray
    met: xr.Dataset
    grid: object
    boundary: dict
    interfaces: tuple
    receptors: pd.DataFrame  # name, iy, ix
    population: np.ndarray  # (y, x) [persons]
    sector_totals: pd.DataFrame  # sector × pollutant [t yr-1] inside the window
    factors: tuple = DEFAULT_FACTORS
    average_hours: int = 12
    scheme: str = "upwind"
    kh: float = 500.0
    ozone_ppm: float = 0.03

    @classmethod
    def from_sample(cls, sample=None, *, window=(44, 2, 32), hours: int = 24,
                    start_hour: int = 48, factors=DEFAULT_FACTORS, average_hours: int = 12,
                    scheme: str = "upwind", interfaces=(0.0, 50.0, 200.0, 600.0, 1500.0),
                    population=None) -> RegionalDesignCase:
        """Cut a ``window = (iy0, ix0, n)`` square of ``n × n`` cells and ``hours`` hours from
        ``start_hour`` out of the regional sample (default: 32 × 32 cells of 6 km around
        Taiyuan and Yangquan, where the sample's NH3/HNO3 molar ratio is near 1 so that nitrate
        switches between NH3- and HNO3-limited regimes; first-order upwind advection, one day:
        ~0.2 s a run).

        Inflow is the sample's domain inflow (the window's own edges get the regional background).
        """
        from ..grid import Grid
        from ..samples_regional import load_regional_sample
        from ..workflows.regional_forecast import boundary_species, eulerian_emissions, met_with_kz

        sample = sample if sample is not None else load_regional_sample()
        iy0, ix0, n = (int(v) for v in window)
        g = sample.grid
        check_range([iy0, ix0], "window origin", 0, min(g.ny, g.nx) - 2)
        check_range(n, "window size", 4, min(g.ny - iy0, g.nx - ix0))
        check_range(average_hours, "average_hours", 1, hours)
        sub = {"y": slice(iy0, iy0 + n), "x": slice(ix0, ix0 + n)}
        t = slice(start_hour, start_hour + hours)
        met = met_with_kz(SimpleNamespace(met=sample.met.isel(sub).isel(time=t).load()),
                          interfaces)
        if met.sizes["time"] < hours:
            raise InvalidValueError(f"the sample has only {met.sizes['time']} hours from hour "
                                    f"{start_hour}", field="hours")
        emis = eulerian_emissions(sample, interfaces).isel(sub)
        grid = Grid(g.x0 + ix0 * g.dx, g.y0 + iy0 * g.dy, g.dx, g.dy, n, n, crs=g.crs)
        bc = {k: np.asarray(v)[t] for k, v in boundary_species(sample).items()}
        iy, ix = grid.cell_index(sample.cities["x"].to_numpy(float),
                                 sample.cities["y"].to_numpy(float))
        inside = (iy >= 1) & (iy < n - 1) & (ix >= 1) & (ix < n - 1)
        rec = pd.DataFrame({"name": sample.cities["name"].to_numpy(str)[inside],
                            "iy": np.asarray(iy)[inside], "ix": np.asarray(ix)[inside]})
        if population is None:
            from ..samples_measures import population_grid

            population = population_grid().values
        pop = np.nan_to_num(np.asarray(population, float)[sub["y"], sub["x"]])
        pols = [p for p in sample.emissions.data_vars if "sector" in sample.emissions[p].dims]
        totals = sample.emissions[pols].isel(sub).sum(("y", "x")).to_dataframe()[pols]
        return cls(emis, met, grid, bc, tuple(interfaces), rec, pop, totals, tuple(factors),
                   int(average_hours), scheme)

    @property
    def outputs(self) -> list[str]:
        return [*self.receptors["name"].tolist(), "population"]

    def factor_masks(self) -> np.ndarray:
        """(factor, sector, species, y, x) 0/1 coverage of each factor."""
        sectors = [str(s) for s in self.emissions["sector"].values]
        species = [str(s) for s in self.emissions["species"].values]
        ny, nx = self.emissions.sizes["y"], self.emissions.sizes["x"]
        masks = np.zeros((len(self.factors), len(sectors), len(species), ny, nx))
        for k, f in enumerate(self.factors):  # a handful of factors
            sec = np.isin(sectors, sectors if f.sectors is None else list(f.sectors))
            region = np.ones((ny, nx)) if f.region is None else np.asarray(f.region, float)
            masks[k][np.ix_(sec, [species.index(f.species)])] = region
        return masks

    def scaled_emissions(self, reductions) -> xr.DataArray:
        """Emissions after the reductions: E · Π_f (1 − r_f · mask_f)."""
        r = np.asarray(reductions, float).reshape(-1)
        if r.size != len(self.factors):
            raise InvalidValueError(f"{r.size} reductions for {len(self.factors)} factors",
                                    field="reductions")
        check_range(r, "reduction", 0.0, 1.0, ids=[f.name for f in self.factors],
                    kind="factor")
        keep = np.prod(1.0 - r[:, None, None, None, None] * self.factor_masks(), axis=0)
        return self.emissions * keep[:, :, None, :, :]

    def run(self, reductions) -> np.ndarray:
        """Run the Eulerian model with secondary PM; PM2.5 per output [µg m-3]."""
        from ..air import chemistry
        from ..air.eulerian import SecondaryPM, eulerian
        from ..workflows.regional_forecast import SPECIES

        ds = eulerian(self.scaled_emissions(reductions), self.met, self.grid,
                      boundary=self.boundary, interfaces=self.interfaces, scheme=self.scheme,
                      kh=self.kh, chemistry=SecondaryPM(self.grid, ozone_ppm=self.ozone_ppm),
                      deposition_velocity={s: v for s, v in chemistry.DEPOSITION_VELOCITY.items()
                                           if s in SPECIES})
        conc = ds["concentration"].transpose("time", "species", "y", "x")
        species = [str(s) for s in conc["species"].values]
        pm = chemistry.pm25(np.moveaxis(conc.values[-self.average_hours:], 1, 0),
                            tuple(species)).mean(axis=0)
        at_cities = pm[self.receptors["iy"].to_numpy(), self.receptors["ix"].to_numpy()]
        weighted = float((pm * self.population).sum() / max(self.population.sum(), 1e-12))
        return np.append(at_cities, weighted)

    def sector_emissions_tpy(self) -> pd.DataFrame:
        """Window emissions per sector and inventory pollutant [t yr-1] (for cost curves)."""
        return self.sector_totals


def latin_hypercube(n: int, n_factors: int, *, upper=0.9, seed: int | None = 0,
                    include_base: bool = True) -> np.ndarray:
    """A Latin-hypercube design of reduction fractions (n, factor) in ``[0, upper]``.

    Optimised for low centred discrepancy (``qmc.LatinHypercube(optimization="random-cd")``);
    ``include_base`` replaces the first row by the no-control run (r = 0), which anchors the
    surface at the base case as in pf-RSM.
    """
    from scipy.stats import qmc

    check_range(n, "n", 2, 100_000)
    up = np.broadcast_to(np.asarray(upper, float), (n_factors,))
    check_range(up, "upper", 0.0, 1.0)
    lhs = qmc.LatinHypercube(d=n_factors, optimization="random-cd", rng=seed).random(n)
    design = lhs * up
    if include_base:
        design[0] = 0.0
    return design


def run_design(case: RegionalDesignCase, design, *, scheduler: str = "threads",
               num_workers: int | None = None) -> xr.Dataset:
    """Run every design row as one dask task (``dask.delayed``/``dask.compute``).

    Returns a Dataset: ``PM2.5`` (run, output) [µg m-3] and the design ``reduction``
    (run, factor) [1]. Any dask scheduler
    (``"threads"``, ``"processes"``, ``"sync"``, or an active ``distributed.Client``) works.
    """
    import dask

    design = np.atleast_2d(np.asarray(design, float))
    tasks = [dask.delayed(case.run)(row) for row in design]  # one task per member
    kwargs = {"scheduler": scheduler} if scheduler else {}
    if num_workers:
        kwargs["num_workers"] = num_workers
    values = np.vstack(dask.compute(*tasks, **kwargs))
    names = [f.name for f in case.factors]
    return xr.Dataset(
        {"PM2.5": (("run", "output"), values, {"units": "ug m-3",
                                               "long_name": "design-run PM2.5"}),
         "reduction": (("run", "factor"), design, {"units": "1",
                                                   "long_name": "emission reduction fraction"})},
        coords={"output": case.outputs, "factor": names})


# ---------------------------------------------------------------------------------------------
# the surface
# ---------------------------------------------------------------------------------------------
def pf_terms(factors, degree: int = 3) -> np.ndarray:
    """pf-RSM monomial powers (term, factor): total degree 1…``degree`` in the nonlinear factors,
    first power only (alone) for linear ones (Xing et al. 2017, §2.2)."""
    from sklearn.preprocessing import PolynomialFeatures

    linear = np.array([getattr(f, "linear", False) for f in factors], bool)
    powers = PolynomialFeatures(degree, include_bias=False).fit(
        np.zeros((1, len(linear)))).powers_
    lin_power = powers[:, linear].sum(axis=1)
    keep = (lin_power == 0) | ((lin_power == 1) & (powers.sum(axis=1) == 1))
    return powers[keep]


@dataclass
class ResponseSurface:
    """A fitted polynomial response surface ``C(r)`` (output) [µg m-3]; :func:`fit_surface`."""

    factors: list[str]
    outputs: list[str]
    powers: np.ndarray  # (term, factor)
    coef: np.ndarray  # (output, term)
    intercept: np.ndarray  # (output,)
    upper: np.ndarray  # (factor,) largest reduction of the design (validity range)

    def _monomials(self, r):
        r = np.asarray(r, float)
        return np.prod(r[..., None, :] ** self.powers, axis=-1)  # (..., term)

    def predict(self, reductions) -> np.ndarray:
        """PM2.5 (..., output) at reductions (..., factor) [µg m-3]."""
        return self._monomials(reductions) @ self.coef.T + self.intercept

    def jacobian(self, reductions) -> np.ndarray:
        """∂C/∂r (output, factor) at one point (analytic derivative of the monomials)."""
        r = np.asarray(reductions, float).reshape(-1)
        p = self.powers
        lowered = np.where(np.eye(r.size, dtype=bool)[:, None, :], np.maximum(p - 1, 0), p)
        d = p.T * np.prod(r[None, None, :] ** lowered, axis=-1)  # (factor, term)
        return self.coef @ d.T

    def errors(self, design, response) -> pd.DataFrame:
        """Normalised errors on runs: per output ``mean_ne``, ``max_ne`` (|C_RSM − C|/C) and the
        same on the change from the base case ``mean_ne_change`` (|ΔC_RSM − ΔC| / max|ΔC|)."""
        y = np.asarray(response, float)
        pred = self.predict(np.asarray(design, float))
        ne = np.abs(pred - y) / np.abs(y)
        base = self.intercept
        d_true, d_pred = y - base, pred - base
        scale = np.maximum(np.abs(d_true).max(axis=0), 1e-12)
        return pd.DataFrame({"mean_ne": ne.mean(axis=0), "max_ne": ne.max(axis=0),
                             "mean_ne_change": (np.abs(d_pred - d_true) / scale).mean(axis=0),
                             "max_ne_change": (np.abs(d_pred - d_true) / scale).max(axis=0)},
                            index=pd.Index(self.outputs, name="output"))


def fit_surface(design, response, factors=DEFAULT_FACTORS, *, degree: int = 3,
                outputs=None, alpha: float = 0.0) -> ResponseSurface:
    """Least-squares fit of the pf-RSM polynomial (scikit-learn) to design runs.

    Parameters
    ----------
    design : array (run, factor)
        Reduction fractions [1].
    response : array or DataArray (run, output)  [µg m-3]
    factors : sequence of Factor
        Their ``linear`` flags pick the terms (:func:`pf_terms`); ``degree=1`` is the linear fit.
    alpha : float
        Ridge penalty (0 = ordinary least squares).
    """
    from sklearn.linear_model import LinearRegression, Ridge

    x = np.atleast_2d(np.asarray(design, float))
    y = np.asarray(response, float)
    y = y[:, None] if y.ndim == 1 else y
    if x.shape[1] != len(factors):
        raise InvalidValueError(f"design has {x.shape[1]} factors, {len(factors)} given",
                                field="design")
    check_finite(x, "design")
    check_finite(y, "response", units="ug/m3")
    powers = pf_terms(factors, degree)
    if x.shape[0] <= powers.shape[0]:
        raise InvalidValueError(f"{x.shape[0]} runs cannot fit {powers.shape[0] + 1} "
                                "coefficients", field="design")
    mono = np.prod(x[:, None, :] ** powers, axis=-1)
    model = (Ridge(alpha=alpha) if alpha > 0 else LinearRegression()).fit(mono, y)
    names = outputs if outputs is not None else (
        response["output"].values.tolist() if isinstance(response, xr.DataArray)
        else list(range(y.shape[1])))
    return ResponseSurface([f.name for f in factors], list(names), powers,
                           np.atleast_2d(model.coef_), np.atleast_1d(model.intercept_),
                           x.max(axis=0))


# ---------------------------------------------------------------------------------------------
# costs and optimisation
# ---------------------------------------------------------------------------------------------
@dataclass
class FactorCosts:
    """Convex piecewise-linear cost of each factor's reduction fraction [CNY yr-1].

    Factor ``f`` has segments of width ``widths[f][k]`` [fraction] at slope ``slopes[f][k]``
    [CNY yr-1 per unit fraction], cheapest first; ``max_reduction[f]`` = Σ widths.
    """

    factors: list[str]
    slopes: list[np.ndarray]
    widths: list[np.ndarray]

    @property
    def max_reduction(self) -> np.ndarray:
        return np.array([w.sum() for w in self.widths])

    def _padded(self):
        k = max(len(s) for s in self.slopes)
        slope = np.zeros((len(self.factors), k))
        width = np.zeros((len(self.factors), k))
        for i, (s, w) in enumerate(zip(self.slopes, self.widths, strict=True)):
            slope[i], width[i, :len(w)] = s[-1], w  # padding: the last slope, zero width
            slope[i, :len(s)] = s
        return slope, width

    def __call__(self, reductions) -> np.ndarray:
        """Total cost at reductions (..., factor) [CNY yr-1]."""
        slope, width = self._padded()
        start = np.cumsum(width, axis=1) - width
        r = np.asarray(reductions, float)[..., None]
        return (slope * np.clip(r - start, 0.0, width)).sum(axis=(-1, -2))

    def lines(self):
        """Affine pieces (factor, intercept, slope) whose maximum is each factor's cost."""
        slope, width = self._padded()
        start = np.cumsum(width, axis=1) - width
        at_start = np.cumsum(slope * width, axis=1) - slope * width
        return slope, at_start - slope * start

    @classmethod
    def from_measures(cls, measures, sector_emissions: pd.DataFrame,
                      factors=DEFAULT_FACTORS) -> FactorCosts:
        """Cost curves from long-term ``per_tonne`` measures (GAINS-style, Amann et al. 2011).

        Each measure is booked on the factor of its ``cost_pollutant`` (PM10 and PM2.5 costs on
        primary PM): on every sector it applies to (within the factor's sectors) it removes
        ``eff × max_penetration`` of the factor's emissions at its cost per tonne of the
        reference pollutant. Alternatives of one exclusive group keep only the cheapest per
        tonne. Segments are sorted by cost per unit fraction (the merit order, convex).
        ``sector_emissions``: sector × pollutant [t yr-1].
        """
        from ..inventory.measures import Measures

        ms = Measures.coerce(measures).select(horizon="long_term")
        t = ms.table
        t = t[t["cost_basis"] == "per_tonne"]
        slopes, widths = [], []
        for f in factors:  # a handful of factors
            pol = FACTOR_POLLUTANT[f.species]
            sectors = [s for s in sector_emissions.index
                       if f.sectors is None or s in f.sectors]
            rows = t[t["cost_pollutant"].isin(COST_POLLUTANTS[f.species])]
            e_f = sector_emissions.loc[sectors, pol]
            total = float(e_f.sum())
            seg = []
            for _, m in rows.iterrows():  # a few measures
                app = [s for s in sectors if m["sector"] in ("*", s)]
                eff = float(m[f"eff_{pol}"]) if f"eff_{pol}" in m else 0.0
                ref_eff = float(m[f"eff_{m['cost_pollutant']}"])
                for s in app:
                    cut = eff * float(m["max_penetration"]) * float(e_f[s])
                    if cut <= 0 or total <= 0:
                        continue
                    ref_cut = ref_eff * float(m["max_penetration"]) * float(
                        sector_emissions.loc[s, m["cost_pollutant"]])
                    seg.append((s, m["exclusive_group"] or m["measure"],
                                float(m["cost"]) * ref_cut / cut, cut / total))
            df = pd.DataFrame(seg, columns=["sector", "group", "per_t", "width"])
            if df.empty:
                raise MissingFieldError(f"no long-term per-tonne measure reduces {pol} for "
                                        f"factor {f.name!r}", field="measures")
            df = df.sort_values("per_t").drop_duplicates(["sector", "group"])
            slopes.append(df["per_t"].to_numpy() * total)
            widths.append(np.minimum(df["width"].to_numpy(), 1.0))
        return cls([f.name for f in factors], slopes, widths)


@dataclass
class SurfaceOptimum:
    """Least-cost reductions on a response surface."""

    method: str
    success: bool
    reductions: pd.Series
    cost: float
    concentration: pd.Series
    message: str = ""


def optimise_on_surface(surface: ResponseSurface, costs: FactorCosts, targets, *,
                        method: str = "slsqp", seed: int = 0, x0=None) -> SurfaceOptimum:
    """Minimise Σ_f cost_f(r_f) s.t. ``C_o(r) ≤ target_o`` for every output with a target.

    ``targets``: mapping output → µg m-3 (or array over outputs, NaN = none). Reductions are
    bounded by the smaller of the cost curves' ``max_reduction`` and the design's range (the
    surface is not extrapolated). ``method``: ``"slsqp"`` (local, epigraph form: variables
    (r, t), minimise Σ t with t_f ≥ every affine piece of cost_f, smooth and exact for convex
    piecewise-linear costs) or ``"differential_evolution"`` (global, population-vectorised,
    polished).
    """
    from scipy.optimize import Bounds, LinearConstraint, NonlinearConstraint, minimize
    from scipy.optimize import differential_evolution as de

    if list(costs.factors) != list(surface.factors):
        raise InvalidValueError(f"cost factors {costs.factors} differ from the surface's "
                                f"{surface.factors}", field="costs")
    if isinstance(targets, dict):
        unknown = sorted(set(targets) - set(surface.outputs))
        if unknown:
            raise MissingFieldError(f"no surface output {unknown}", field="targets")
        tgt = np.array([targets.get(o, np.nan) for o in surface.outputs], float)
    else:
        tgt = np.broadcast_to(np.asarray(targets, float), (len(surface.outputs),)).copy()
    rows = np.flatnonzero(np.isfinite(tgt))
    upper = np.minimum(costs.max_reduction, surface.upper)
    nf = len(surface.factors)
    if method == "slsqp":
        slope, icpt = costs.lines()
        k = slope.shape[1]
        # t_f − slope_fk r_f ≥ icpt_fk for every piece k
        a = np.zeros((nf * k, 2 * nf))
        fi = np.repeat(np.arange(nf), k)
        a[np.arange(nf * k), fi] = -slope.ravel()
        a[np.arange(nf * k), nf + fi] = 1.0
        scale = max(float(costs(upper)), 1.0)  # τ = t / scale keeps every variable O(1)
        start = np.concatenate([np.asarray(x0, float) if x0 is not None else upper / 2,
                                np.zeros(nf)])
        start[nf:] = np.max(slope * start[:nf, None] + icpt, axis=1) / scale
        a[:, :nf] /= scale
        cons = [LinearConstraint(a, icpt.ravel() / scale, np.inf)]
        if rows.size:
            cons.append(NonlinearConstraint(lambda z: surface.predict(z[:nf])[rows], -np.inf,
                                            tgt[rows],
                                            jac=lambda z: np.hstack([
                                                surface.jacobian(z[:nf])[rows],
                                                np.zeros((rows.size, nf))])))
        res = minimize(lambda z: z[nf:].sum(), start,
                       jac=lambda z: np.concatenate([np.zeros(nf), np.ones(nf)]),
                       method="SLSQP", constraints=cons,
                       bounds=Bounds(np.zeros(2 * nf), np.concatenate([upper,
                                                                       np.full(nf, np.inf)])),
                       options={"ftol": 1e-12, "maxiter": 500})
        r = np.clip(res.x[:nf], 0.0, upper)
        ok, msg = bool(res.success), str(res.message)
    elif method == "differential_evolution":
        cons = () if not rows.size else NonlinearConstraint(
            lambda r: surface.predict(np.asarray(r).T)[..., rows].T, -np.inf, tgt[rows])
        with warnings.catch_warnings():  # the trust-constr polish warns on linear pieces
            warnings.filterwarnings("ignore", message="delta_grad", category=UserWarning)
            res = de(lambda r: costs(np.asarray(r).T),
                     list(zip(np.zeros(nf), upper, strict=True)), constraints=cons, seed=seed,
                     tol=1e-10, atol=0, maxiter=2000, popsize=30, vectorized=True, polish=True,
                     updating="deferred")
        r = np.clip(res.x, 0.0, upper)
        ok, msg = bool(res.success), str(res.message)
    else:
        raise ConfigError(f"method={method!r} must be 'slsqp' or 'differential_evolution'")
    conc = surface.predict(r)
    feasible = bool(np.all(conc[rows] <= tgt[rows] + 1e-6 * np.maximum(np.abs(tgt[rows]), 1)))
    return SurfaceOptimum(method, ok and feasible,
                          pd.Series(r, index=pd.Index(surface.factors, name="factor")),
                          float(costs(r)), pd.Series(conc, index=pd.Index(surface.outputs,
                                                                          name="output")),
                          msg if feasible else f"{msg}; targets not met on the surface")
