"""QUAL2K kinetics: oxygen saturation, reaeration, inhibition, preference, diagenesis."""

import numpy as np
import pytest

from ecodss.errors import InvalidValueError
from ecodss.water.kinetics import (
    ammonium_preference,
    arrhenius,
    churchill,
    ionized_ammonia_fraction,
    oconnor_dobbins,
    owens_gibbs,
    oxygen_inhibition,
    oxygen_saturation,
    reaeration_internal,
    reaeration_rate,
    sediment_diagenesis,
)


def test_oxygen_saturation_apha_values():
    # APHA Standard Methods table: 9.092 mg/L at 20 °C, 14.621 at 0 °C, 7.559 at 30 °C
    np.testing.assert_allclose(oxygen_saturation([0.0, 20.0, 30.0]), [14.621, 9.092, 7.559], atol=2e-3)
    assert oxygen_saturation(20.0, 1000.0) == pytest.approx(oxygen_saturation(20.0) * (1 - 0.1148))


def test_reaeration_formulas_and_internal_selector():
    assert oconnor_dobbins(0.5, 2.0) == pytest.approx(3.93 * 0.5 ** 0.5 / 2 ** 1.5)
    assert churchill(1.0, 1.0) == pytest.approx(5.026)
    assert owens_gibbs(0.3, 0.3) == pytest.approx(5.32 * 0.3 ** 0.67 / 0.3 ** 1.85)
    u = np.array([0.3, 0.2, 1.5])
    h = np.array([0.4, 2.0, 1.0])   # shallow → Owens; deep slow → O'Connor; else Churchill
    np.testing.assert_allclose(reaeration_internal(u, h),
                               [owens_gibbs(0.3, 0.4), oconnor_dobbins(0.2, 2.0), churchill(1.5, 1.0)])
    np.testing.assert_allclose(reaeration_rate("Churchill", u, h, specified=[np.nan, 5.0, 0.0]),
                               [churchill(0.3, 0.4), 5.0, churchill(1.5, 1.0)])
    with pytest.raises(InvalidValueError, match="reaeration"):
        reaeration_rate("Tsivoglou", u, h)


def test_reaeration_coefficients_agree_with_independent_published_forms():
    """SWAT Theoretical Documentation (Neitsch et al. 2011) Eqs. 7:3.5.5, 7:3.5.6 and 7:3.5.8."""
    u, h = np.meshgrid(np.linspace(0.55, 1.5, 5), np.linspace(0.6, 3.0, 5))  # Churchill's range
    # Churchill et al. (1962) fit with its own exponents: QUAL2K's rounding is within 3 %
    np.testing.assert_allclose(churchill(u, h), 5.03 * u ** 0.969 * h ** -1.673, rtol=0.03)
    # O'Connor-Dobbins surface renewal (D_m u / H^3)^0.5, D_m(O2, 20 C) = 1.91e-4 m2/d
    d_m = 1.91e-4  # [m2 d-1]
    np.testing.assert_allclose(oconnor_dobbins(u, h), 294.0 * np.sqrt(d_m * u) / h ** 1.5,
                               rtol=0.05)
    assert not np.allclose(oconnor_dobbins(u, h), churchill(u, h), rtol=0.05)  # test can fail


def test_formulas_give_the_same_numbers_on_numpy_and_dask_backed_xarray():
    import xarray as xr

    from ecodss.water.hydraulics import fischer_dispersion, manning_slope

    rng = np.random.default_rng(3)
    u, h = rng.uniform(0.05, 2.0, (2, 6, 4))
    cases = {
        "oconnor_dobbins": (oconnor_dobbins, (u, h)),
        "reaeration_internal": (reaeration_internal, (u, h)),
        "oxygen_saturation": (oxygen_saturation, (20 * u, 100 * h)),
        "arrhenius": (arrhenius, (h, 1.047, 20 * u)),
        "fischer_dispersion": (fischer_dispersion, (u, 10 * h, h, 1e-3 * u)),
        "manning_slope": (manning_slope, (u, 0.03, h)),
    }
    for name, (f, args) in cases.items():
        lazy = [xr.DataArray(a, dims=("x", "scenario")).chunk({"x": 2})
                if isinstance(a, np.ndarray) else a for a in args]
        out = f(*lazy)
        assert isinstance(out, xr.DataArray) and out.chunks is not None, name  # stays lazy
        np.testing.assert_allclose(out.values, f(*args), rtol=1e-14, err_msg=name)


def test_arrhenius_and_inhibition_models():
    assert arrhenius(2.0, 1.07, 30.0) == pytest.approx(2.0 * 1.07 ** 10)
    assert oxygen_inhibition("half-saturation", 0.5, 0.5) == pytest.approx(0.5)
    assert oxygen_inhibition("exponential", 0.6, 1.0) == pytest.approx(1 - np.exp(-0.6))
    assert oxygen_inhibition("second-order", 4.0, 2.0) == pytest.approx(0.5)
    assert oxygen_inhibition("exponential", 0.6, -1.0) == 0.0


def test_ammonium_preference_limits():
    assert ammonium_preference(0.0, 100.0, 25.0) == 0.0
    assert ammonium_preference(100.0, 0.0, 25.0) == pytest.approx(1.0)
    p = ammonium_preference(np.array([10.0, 1000.0]), 100.0, 25.0)
    assert 0 < p[0] < p[1] < 1


def test_ionized_ammonia_fraction_at_pka():
    t = 25.0
    pka = 0.09018 + 2729.92 / (t + 273.15)
    assert ionized_ammonia_fraction(pka, t) == pytest.approx(0.5)


def test_sediment_diagenesis_consumes_deposited_carbon_and_nitrogen():
    jc, jn = np.array([0.0, 2.0, 20.0]), np.array([0.0, 0.2, 1.0])
    out = sediment_diagenesis(jc, jn, 0.1 * jn, 6.0, 0.5, 20.0, 0.1, 1.0, 0.05, 0.0)
    assert out["sod"][0] == 0.0
    assert np.all(np.diff(out["sod"]) > 0)
    # steady state: SOD cannot exceed the oxygen equivalent of the diagenesis of the deposits
    # (C + 4.57 gO/gN, QUAL2K's 2·32/14 for full nitrification)
    assert np.all(out["sod"] <= jc + 2 * 32 / 14 * jn + 1e-12)
    # tighter tolerance changes nothing at 1e-9
    tight = sediment_diagenesis(jc, jn, 0.1 * jn, 6.0, 0.5, 20.0, 0.1, 1.0, 0.05, 0.0, tol=1e-14)
    np.testing.assert_allclose(out["sod"], tight["sod"], rtol=1e-9)
