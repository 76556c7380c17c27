"""Unit conversions: mass rates and ppb ↔ µg/m³ against hand-derived values; array-type parity."""

import numpy as np
import pytest
import xarray as xr

from ecodss.errors import EcodssError, UnitError, ValidationError
from ecodss.units import (
    MOLAR_MASS,
    gps_to_rate,
    gps_to_tpy,
    ppb_to_ugm3,
    rate_to_gps,
    tpy_to_gps,
    ugm3_to_ppb,
)

# Molar volume of an ideal gas at 101.325 kPa and 0 °C: 22.413 969 54 L/mol (CODATA 2018,
# NIST "molar volume of ideal gas (273.15 K, 101.325 kPa)"); at 25 °C the rounded 24.4654 L/mol.
MOLAR_VOLUME_0C = 22.41396954
MOLAR_VOLUME_25C = 24.4654
T_25C, T_0C, ONE_ATM = 298.15, 273.15, 101325.0


@pytest.mark.parametrize(("unit", "grams_per_second"), [
    ("t/yr", 1e6 / (365 * 86400)),   # 0.0317098 g/s
    ("kg/h", 1000 / 3600),
    ("kg/s", 1000.0),
    ("g/s", 1.0),
    ("t/d", 1e6 / 86400),
    ("kg/d", 1e3 / 86400),
    ("kg/yr", 1e3 / (365 * 86400)),
    ("g/h", 1 / 3600),
])
def test_one_unit_in_grams_per_second(unit, grams_per_second):
    assert rate_to_gps(1.0, unit) == pytest.approx(grams_per_second, rel=1e-12)
    assert gps_to_rate(grams_per_second, unit) == pytest.approx(1.0, rel=1e-12)


def test_tonnes_per_year():
    assert tpy_to_gps(1.0) == pytest.approx(0.0317098, rel=1e-6)
    assert gps_to_tpy(1.0) == pytest.approx(31.536, rel=1e-12)  # 365 d × 86400 s / 1e6
    # a 10 000 t/yr stack over the 8760 h of a year emits 10 000 t
    assert tpy_to_gps(1e4) * 8760 * 3600 / 1e6 == pytest.approx(1e4, rel=1e-12)


@pytest.mark.parametrize(("alias", "canonical"), [
    ("t/a", "t/yr"), ("t/y", "t/yr"), ("tonne/yr", "t/yr"), ("tons/yr", "t/yr"),
    ("t yr-1", "t/yr"), ("t a-1", "t/yr"), ("kg/a", "kg/yr"), ("g s-1", "g/s"),
    ("kg h-1", "kg/h"), ("  kg/h ", "kg/h"),
])
def test_aliases_equal_their_canonical_unit(alias, canonical):
    assert rate_to_gps(7.0, alias) == rate_to_gps(7.0, canonical)


def test_rates_convert_arrays_elementwise():
    t = np.array([0.0, 1.0, 365.0 * 24.0])
    np.testing.assert_allclose(rate_to_gps(t, "kg/h"), t / 3.6, rtol=1e-12)
    np.testing.assert_allclose(gps_to_rate(rate_to_gps(t, "t/yr"), "t/yr"), t, rtol=1e-12)


@pytest.mark.parametrize("func", [rate_to_gps, gps_to_rate])
def test_unknown_rate_unit_names_the_field(func):
    with pytest.raises(UnitError) as err:
        func(1.0, "lb/fortnight", field="SO2")
    assert err.value.field == "SO2"
    assert "SO2" in str(err.value) and "lb/fortnight" in str(err.value)
    assert "t/yr" in str(err.value)  # lists what is accepted
    assert isinstance(err.value, ValueError) and isinstance(err.value, EcodssError)


# SO2: 32.06 + 2 × 15.999 = 64.058 g/mol (IUPAC 2013 conventional atomic weights,
# Meija et al. 2016).
M_SO2 = 64.058


def test_molar_masses_from_iupac_2013_atomic_weights():
    assert MOLAR_MASS["SO2"] == pytest.approx(M_SO2, rel=1e-12)
    assert MOLAR_MASS["NO2"] == pytest.approx(14.007 + 2 * 15.999, rel=1e-12)
    assert MOLAR_MASS["NOx"] == MOLAR_MASS["NO2"]  # NOx expressed as NO2


def test_so2_one_ppb_at_25c():
    assert ppb_to_ugm3(1.0, "SO2") == pytest.approx(M_SO2 / MOLAR_VOLUME_25C, rel=5e-6)
    assert ppb_to_ugm3(1.0, "SO2") == pytest.approx(2.6183, abs=1e-4)


def test_no2_one_ppb_at_25c():
    assert ppb_to_ugm3(1.0, "NO2", T_25C, ONE_ATM) == pytest.approx(1.8804, abs=1e-4)


def test_so2_one_ppb_at_0c():
    assert ppb_to_ugm3(1.0, "SO2", temperature=T_0C) == pytest.approx(M_SO2 / MOLAR_VOLUME_0C,
                                                                      rel=1e-8)
    assert ppb_to_ugm3(1.0, "SO2", temperature=T_0C) == pytest.approx(M_SO2 / 22.414, rel=1e-5)


def test_ideal_gas_scaling_with_temperature_and_pressure():
    base = ppb_to_ugm3(10.0, "O3")
    # C ∝ p / T: half the pressure halves, 10 % warmer divides by 1.1
    assert ppb_to_ugm3(10.0, "O3", pressure=ONE_ATM / 2) == pytest.approx(base / 2, rel=1e-12)
    assert ppb_to_ugm3(10.0, "O3", temperature=1.1 * T_25C) == pytest.approx(base / 1.1, rel=1e-12)


@pytest.mark.parametrize("species", sorted(MOLAR_MASS))
def test_ppb_round_trip(species):
    ppb = np.array([0.0, 0.5, 12.0, 300.0])
    back = ugm3_to_ppb(ppb_to_ugm3(ppb, species, 280.0, 95000.0), species, 280.0, 95000.0)
    np.testing.assert_allclose(back, ppb, rtol=1e-12, atol=0)


@pytest.mark.parametrize("func", [ppb_to_ugm3, ugm3_to_ppb])
def test_unknown_species(func):
    with pytest.raises(UnitError) as err:
        func(1.0, "XYZ")
    assert err.value.field == "species" and "XYZ" in str(err.value)
    assert isinstance(err.value, ValidationError)


def test_numpy_xarray_and_dask_give_the_same_numbers():
    rng = np.random.default_rng(42)
    ppb = rng.uniform(0, 200, (6, 8))
    temperature = rng.uniform(250, 310, (6, 8))
    pressure = rng.uniform(85000, 103000, (6, 8))
    expected = ppb_to_ugm3(ppb, "NO2", temperature, pressure)

    def da(a):
        return xr.DataArray(a, dims=("y", "x"))

    eager = ppb_to_ugm3(da(ppb), "NO2", da(temperature), da(pressure))
    lazy = ppb_to_ugm3(da(ppb).chunk({"y": 3, "x": 4}), "NO2", da(temperature).chunk(3),
                       da(pressure).chunk(3))
    assert lazy.chunks is not None  # stays lazy until asked
    np.testing.assert_array_equal(eager.values, expected)
    np.testing.assert_array_equal(lazy.values, expected)
    back = ugm3_to_ppb(lazy, "NO2", da(temperature).chunk(3), da(pressure).chunk(3))
    np.testing.assert_allclose(back.values, ppb, rtol=1e-12)

    rates = da(rng.uniform(0, 1e4, (6, 8)))
    np.testing.assert_array_equal(tpy_to_gps(rates.chunk(3)).values, tpy_to_gps(rates.values))
