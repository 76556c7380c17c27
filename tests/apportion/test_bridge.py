"""Bridge inventory ↔ receptor model, and the synthetic speciation sample it runs on."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss import samples_speciation as sample
from ecodss.apportion.bridge import (
    SPECIES,
    compare_apportionment,
    inventory_shares,
    match_factors,
    plot_comparison,
    sector_composition,
    source_profiles,
    speciate,
)
from ecodss.apportion.cmb import cmb
from ecodss.errors import MissingFieldError, NegativeValueError, NonFiniteValueError


@pytest.fixture(scope="module")
def smp():
    return sample.load_speciation_sample()


def truth_sr(boundary=5.0):
    """A source–receptor dataset for the city built from the sample's truth: sector s gives
    FACTOR_MEAN[s] µg/m³, split into primary PPM25 and secondary (NH4)2SO4 / NH4NO3 as in
    ``SECONDARY_MIX``; plus a boundary inflow of primary PM."""
    species = ["PPM25", "SO4", "NO3", "NH4", "SO2"]
    sources = [*sample.FACTORS, "boundary"]
    c = np.zeros((len(sources), 1, len(species)))
    for k, f in enumerate(sample.FACTORS):
        share, salt = sample.SECONDARY_MIX[f]
        m = sample.FACTOR_MEAN[f]
        c[k, 0, 0] = m * (1 - share)
        for s, frac in sample._SALTS[salt].items():
            c[k, 0, species.index(s)] = m * share * frac
        c[k, 0, 4] = 3.0  # a gas: not part of PM2.5
    c[-1, 0, 0] = boundary
    return xr.Dataset({"contribution": (("source", "receptor", "species"), c,
                                        {"units": "ug m-3"})},
                      coords={"source": sources, "receptor": [sample.CITY],
                              "species": species})


# ------------------------------------------------------------------------ sample
def test_sample_files_are_reproducible_from_seed(smp, tmp_path):
    fresh = sample.make()
    for name in sample.FILES:
        committed = pd.read_csv(sample.bundled_dir() / name, index_col=0)
        pd.testing.assert_frame_equal(committed, pd.read_csv(
            __import__("io").StringIO(fresh[name].to_csv()), index_col=0))
    assert len(smp.concentrations) == 122  # every third day of 2025
    assert smp.G.shape == (122, 5) and smp.F.shape == (5, len(SPECIES))


def test_sample_noise_matches_stated_uncertainty(smp):
    x = smp.concentrations[list(SPECIES)].to_numpy()
    u = smp.uncertainties[list(SPECIES)].to_numpy()
    model = smp.G.to_numpy() @ smp.F.to_numpy()
    flagged = np.zeros(x.shape, bool)
    for date, row in smp.outliers.iterrows():
        flagged[smp.concentrations.index.get_loc(date), SPECIES.index(row["species"])] = True
    mdl = np.array([sample.MDL[s] for s in SPECIES])
    ok = ~flagged & (x > mdl)
    z = (x - model)[ok] / u[ok]
    assert 0.85 < z.std() < 1.15 and abs(z.mean()) < 0.1
    assert (np.abs((x - model)[flagged] / u[flagged]) > 4).all()  # outliers are gross
    # EPA PMF 5.0 Eq. 5-2: below the MDL, value MDL/2 and σ = 5/6 MDL
    below = x <= 0.5 * mdl + 1e-9
    np.testing.assert_allclose(u[below], np.broadcast_to(5 / 6 * mdl, x.shape)[below], rtol=1e-4)


# ------------------------------------------------------------------------ bridge
def test_sector_composition_reproduces_true_factor_profiles():
    comp = sector_composition(truth_sr(), sample.CITY)
    expected = sample.true_profiles().mul(pd.Series(sample.FACTOR_MEAN), axis=0)
    pd.testing.assert_frame_equal(comp.loc[list(sample.FACTORS), list(SPECIES)],
                                  expected[list(SPECIES)], check_names=False, atol=1e-12)
    assert "boundary" not in comp.index


def test_speciate_and_shares():
    e = pd.Series({"power": 2.0, "dust": 1.0})
    sp = speciate(e)
    np.testing.assert_allclose(sp.sel(sector="power"), 2.0 * source_profiles()["power"])
    shares = inventory_shares(truth_sr(boundary=3.0), sample.CITY)
    assert shares.sum() == pytest.approx(100.0)
    assert shares["boundary"] == pytest.approx(100 * 3.0 / 60.0)
    with pytest.raises(MissingFieldError):
        speciate(pd.Series({"shipping": 1.0}))
    with pytest.raises(NegativeValueError, match="dust"):
        speciate(pd.Series({"power": 2.0, "dust": -1.0}))
    with pytest.raises(NonFiniteValueError, match="power"):
        speciate(xr.DataArray([np.nan], dims="sector", coords={"sector": ["power"]}))


def test_cmb_on_sample_and_comparison_with_inventory(smp, tmp_path):
    X = smp.concentrations
    F = smp.F
    res = cmb(X, F.T, sample_unc=smp.uncertainties, species=list(SPECIES), mass="PM2.5")
    ok = ~X.index.isin(smp.outliers.index)
    est = res["contribution"].to_pandas()[ok].mean()
    true = smp.G[ok].mean()
    # σ ∝ the *measured* value under-weights high readings, a known small low bias of WLS
    # with data-derived uncertainties: allow 8 %
    np.testing.assert_allclose(est, true, rtol=0.08)
    table = compare_apportionment(res["contribution"].to_pandas(), F, truth_sr(0.0), sample.CITY)
    mapping = table.attrs["mapping"]
    assert list(mapping["sector"]) == list(sample.FACTORS)  # each factor → its own sector
    np.testing.assert_allclose(mapping["r"], 1.0, atol=1e-9)
    inv = pd.Series(sample.FACTOR_MEAN) / sum(sample.FACTOR_MEAN.values()) * 100
    np.testing.assert_allclose(table.loc[inv.index, "inventory_share"], inv, atol=1e-9)
    rec_true = smp.G.mean() / smp.G.mean().sum() * 100
    np.testing.assert_allclose(table.loc[inv.index, "receptor_share"], rec_true, atol=2.0)
    fig = plot_comparison(table, title="Shijiazhuang (synthetic)")
    fig.savefig(tmp_path / "bridge.png")
    assert (tmp_path / "bridge.png").stat().st_size > 5000


def test_match_factors_with_noisy_pmf_like_profiles():
    """PMF-like factors (truth × log-normal noise, arbitrary scale, shuffled) map back to the
    right sectors by profile correlation."""
    rng = np.random.default_rng(7)
    F = sample.true_profiles()
    noisy = F * rng.lognormal(0, 0.3, F.shape) * 3.7
    noisy.index = [f"Factor {i}" for i in range(1, 6)]
    noisy = noisy.iloc[[3, 0, 4, 1, 2]]
    comp = sector_composition(truth_sr(), sample.CITY)
    m = match_factors(noisy, comp)
    truth = dict(zip([f"Factor {i}" for i in range(1, 6)], sample.FACTORS, strict=True))
    assert m["sector"].to_dict() == {k: truth[k] for k in m.index}
    assert (m["r"] > 0.9).all()
