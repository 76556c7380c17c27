"""Inventory: boundary validation, unit conversion, I/O round trips, scenarios, hourly rates."""

import numpy as np
import pandas as pd
import pytest

import ecodss
from ecodss.errors import (
    InvalidValueError,
    InventoryError,
    MissingFieldError,
    NegativeValueError,
    NonFiniteValueError,
    OutOfRangeError,
    UnitError,
    UnknownFieldError,
)
from ecodss.inventory import Inventory, TemporalProfiles

#: 1 g/s over a 365-day year = 31.536 t (ecodss.units convention).
TPY_PER_GPS = 31.536


def points_df(**overrides):
    df = pd.DataFrame({
        "id": ["P1", "P2", "P3"],
        "x": [1000.0, 2500.0, 4000.0], "y": [1000.0, 1500.0, 3000.0],
        "stack_height": [120.0, 60.0, 40.0], "stack_diameter": [6.0, 3.0, 2.0],
        "exit_velocity": [18.0, 12.0, 9.0], "exit_temperature": [410.0, 450.0, 390.0],
        "sector": ["power", "cement", "iron_steel"],
        "SO2": [3153.6, 315.36, 31.536], "NOx": [1576.8, 94.608, 0.0],
    })
    for k, v in overrides.items():
        df[k] = v
    return df


def areas_df():
    return pd.DataFrame({
        "id": ["A1", "A2"],
        "x": [2000.0, np.nan], "y": [2000.0, np.nan],
        "width": [1000.0, np.nan], "height": [500.0, np.nan],
        "polygon": [None, "POLYGON ((0 0, 3000 0, 3000 2400, 0 0))"],
        "sector": ["residential", "traffic"], "city": ["Shijiazhuang", "Baoding"],
        "PM2.5": [31.536, 63.072], "NH3": [3.1536, 0.0],
    })


@pytest.fixture
def inv():
    return Inventory.from_points(points_df(), units="t/yr", name="test").combine(
        Inventory.from_areas(areas_df(), units="t/yr"), name="test")


def raises_naming(exc, source, field, match=None):
    """Context: expect ``exc`` whose message names the source id and the field."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(exc, match=match)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *a):
            suppressed = self.ctx.__exit__(*a)
            msg = str(self.info.value)
            assert repr(source) in msg, f"source {source!r} not named in: {msg}"
            assert field in msg, f"field {field!r} not named in: {msg}"
            assert self.info.value.field == field or field in str(self.info.value.field)
            return suppressed
    return _Check()


# ------------------------------------------------------------------ construction and units
def test_from_points_converts_tpy_to_gps():
    inv = Inventory.from_points(points_df(), units="t/yr")
    np.testing.assert_allclose(inv.points["SO2"], [100.0, 10.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(inv.points["NOx"], [50.0, 3.0, 0.0], rtol=1e-12)
    assert inv.pollutants == ("SO2", "NOx")
    assert inv.points["SO2"].dtype == np.float64


def test_lazy_top_level_name():
    assert ecodss.Inventory is Inventory


def test_default_sector_and_alias_units():
    df = points_df().drop(columns="sector")
    inv = Inventory.from_points(df, units="t/a")
    assert set(inv.points["sector"]) == {"other"}
    assert inv.points["SO2"].iloc[0] == pytest.approx(100.0, rel=1e-12)


def test_pollutant_union_missing_means_zero_for_other_table(inv):
    assert inv.pollutants == ("SO2", "NOx", "PM2.5", "NH3")
    assert (inv.areas["SO2"] == 0).all() and (inv.points["PM2.5"] == 0).all()
    with pytest.raises(MissingFieldError, match="CO"):
        inv.hourly(pd.date_range("2023-01-01", periods=2, freq="h"), "CO")
    with pytest.raises(UnknownFieldError, match="did you mean 'SO2'"):
        inv.hourly(pd.date_range("2023-01-01", periods=2, freq="h"), "S02")


def test_tables_are_copies(inv):
    pts = inv.points
    pts.loc[0, "SO2"] = -1.0
    assert inv.points["SO2"].iloc[0] == pytest.approx(100.0)


# ------------------------------------------------------------------ validation (one per case)
def test_nan_rate_rejected():
    df = points_df(SO2=[1.0, np.nan, 2.0])
    with raises_naming(NonFiniteValueError, "P2", "SO2"):
        Inventory.from_points(df)


def test_negative_rate_rejected():
    df = points_df(NOx=[1.0, 2.0, -0.5])
    with raises_naming(NegativeValueError, "P3", "NOx"):
        Inventory.from_points(df)


def test_missing_required_column_rejected():
    with raises_naming(MissingFieldError, "P1", "exit_velocity"):
        Inventory.from_points(points_df().drop(columns="exit_velocity"))


def test_unknown_column_typo_rejected_with_hint():
    df = points_df().rename(columns={"SO2": "S02"})
    with raises_naming(UnknownFieldError, "P1", "S02", match="did you mean 'SO2'"):
        Inventory.from_points(df)


def test_negative_stack_height_rejected():
    with raises_naming(OutOfRangeError, "P2", "stack_height"):
        Inventory.from_points(points_df(stack_height=[120.0, -3.0, 40.0]))


def test_zero_stack_diameter_rejected():
    with raises_naming(OutOfRangeError, "P1", "stack_diameter"):
        Inventory.from_points(points_df(stack_diameter=[0.0, 3.0, 2.0]))


def test_exit_temperature_in_celsius_is_a_unit_error():
    with raises_naming(UnitError, "P3", "exit_temperature", match="°C") as info:
        Inventory.from_points(points_df(exit_temperature=[410.0, 450.0, 25.0]))
    assert "Kelvin" in str(info.value) and "298.15" in str(info.value)


def test_unknown_units_rejected():
    with raises_naming(UnitError, "P1", "SO2", match="tons/fortnight"):
        Inventory.from_points(points_df(), units="tons/fortnight")


def test_duplicate_ids_rejected():
    with raises_naming(InventoryError, "P1", "id", match="duplicate"):
        Inventory.from_points(points_df(id=["P1", "P2", "P1"]))


def test_non_numeric_value_rejected():
    df = points_df()
    df["SO2"] = df["SO2"].astype(object)
    df.loc[1, "SO2"] = "12,5"
    with raises_naming(InvalidValueError, "P2", "SO2", match="not a number"):
        Inventory.from_points(df)


def test_id_shared_by_point_and_area_rejected():
    areas = areas_df().assign(id=["P1", "A2"])
    with raises_naming(InventoryError, "P1", "id"):
        Inventory(points_df(), areas)


def test_area_validation():
    bad = areas_df()
    bad.loc[0, "width"] = 0.0
    with raises_naming(OutOfRangeError, "A1", "width"):
        Inventory.from_areas(bad)
    bad = areas_df()
    bad.loc[1, "polygon"] = "POLYGON ((0 0, 1 1))"
    with raises_naming(InvalidValueError, "A2", "polygon"):
        Inventory.from_areas(bad)
    with raises_naming(MissingFieldError, "A1", "height"):
        Inventory.from_areas(areas_df().drop(columns=["polygon", "height"]).iloc[:1])
    bad = areas_df().assign(release_height=[-1.0, 0.0])
    with raises_naming(OutOfRangeError, "A1", "release_height"):
        Inventory.from_areas(bad)


def test_empty_inventory_rejected():
    with pytest.raises(InventoryError):
        Inventory()


# ------------------------------------------------------------------ geometry
def test_polygon_centroid_and_bbox(inv):
    a2 = inv.areas.set_index("id").loc["A2"]
    assert a2["x"] == pytest.approx(2000.0) and a2["y"] == pytest.approx(800.0)  # (0+3+3)/3 km…
    assert a2["width"] == 3000.0 and a2["height"] == 2400.0
    assert isinstance(a2["polygon"], np.ndarray) and a2["polygon"].shape == (3, 2)


def test_area_rectangles_shares_and_area(inv):
    rect = inv.area_rectangles(resolution=20.0)
    shares = rect.groupby("id")["share"].sum()
    np.testing.assert_allclose(shares, 1.0, rtol=1e-12)
    # Rasterized triangle area ≈ ½·3000·2400 = 3.6e6 m² (boundary error ~ perimeter × r / 2).
    tri = rect[rect["id"] == "A2"]
    assert (tri["width"] * tri["height"]).sum() == pytest.approx(3.6e6, rel=0.01)
    # Emission is carried by the rectangles: totals per pollutant are conserved.
    np.testing.assert_allclose(rect.groupby("id")["PM2.5"].sum().to_numpy(),
                               inv.areas.set_index("id").loc[shares.index, "PM2.5"], rtol=1e-12)
    one = rect[rect["id"] == "A1"]
    assert len(one) == 1 and one["share"].iloc[0] == 1.0


# ------------------------------------------------------------------ I/O
def test_csv_round_trip_in_tonnes(inv, tmp_path):
    paths = inv.to_csv(tmp_path, units="t/yr")
    text = paths["points"].read_text()
    assert "3153.6" in text  # written in t/yr
    back = Inventory.from_csv(points=paths["points"], areas=paths["areas"], units="t/yr")
    for attr in ("points", "areas"):
        a, b = getattr(inv, attr), getattr(back, attr)
        num = [c for c in a.columns if c not in ("id", "sector", "city", "polygon")]
        np.testing.assert_allclose(b[num].to_numpy(float), a[num].to_numpy(float), rtol=1e-12)
        assert list(b["id"]) == list(a["id"])
    np.testing.assert_allclose(back.areas["polygon"].iloc[1], inv.areas["polygon"].iloc[1])


def test_csv_unknown_column_in_file(tmp_path):
    p = tmp_path / "pts.csv"
    points_df().rename(columns={"NOx": "NOX"}).to_csv(p, index=False)
    with pytest.raises(UnknownFieldError, match="did you mean 'NOx'"):
        Inventory.from_csv(points=p, units="t/yr")


def test_netcdf_round_trip(inv, tmp_path):
    import xarray as xr

    path = inv.to_netcdf(tmp_path / "inv.nc")
    with xr.open_dataset(path) as ds:
        assert ds.attrs["Conventions"].startswith("CF-")
        assert ds["point_emission"].attrs["units"] == "g s-1"
        assert ds.sizes["point"] == 3 and ds.sizes["area"] == 2
    back = Inventory.from_netcdf(path)
    assert back.pollutants == inv.pollutants
    pd.testing.assert_frame_equal(back.points, inv.points, check_dtype=False)
    np.testing.assert_allclose(back.areas[list(inv.pollutants)], inv.areas[list(inv.pollutants)])
    assert back.areas["polygon"].iloc[0] is None
    np.testing.assert_array_equal(back.areas["polygon"].iloc[1], inv.areas["polygon"].iloc[1])
    assert list(back.areas["city"]) == ["Shijiazhuang", "Baoding"]


# ------------------------------------------------------------------ scenarios and summaries
def test_totals_by_sector_in_tonnes(inv):
    tot = inv.totals(by="sector", units="t/yr")
    assert tot.loc["power", "SO2"] == pytest.approx(3153.6, rel=1e-12)
    assert tot.loc["traffic", "PM2.5"] == pytest.approx(63.072, rel=1e-12)
    grand = inv.totals(by=None, units="g/s")
    assert grand.loc["total", "SO2"] == pytest.approx(111.0, rel=1e-12)
    assert inv.totals(by="city").loc["Baoding", "PM2.5"] == pytest.approx(63.072, rel=1e-12)


def test_scale_by_sector_and_pollutant(inv):
    s = inv.scale({"power": 0.5, "SO2": 0.8, ("cement", "NOx"): 0.1})
    pts = s.points.set_index("id")
    assert pts.loc["P1", "SO2"] == pytest.approx(100.0 * 0.5 * 0.8)
    assert pts.loc["P1", "NOx"] == pytest.approx(50.0 * 0.5)
    assert pts.loc["P2", "SO2"] == pytest.approx(10.0 * 0.8)
    assert pts.loc["P2", "NOx"] == pytest.approx(3.0 * 0.1)
    assert inv.points["SO2"].iloc[0] == pytest.approx(100.0)  # original untouched
    nested = inv.scale({"residential": {"PM2.5": 0.25}})
    assert nested.areas.set_index("id").loc["A1", "PM2.5"] == pytest.approx(0.25)
    by_id = inv.scale({"P3": 0.0}, by="id")
    assert by_id.points.set_index("id").loc["P3", "SO2"] == 0.0
    with pytest.raises(UnknownFieldError, match="did you mean 'power'"):
        inv.scale({"powr": 0.5})
    with pytest.raises(NegativeValueError):
        inv.scale({"power": -1.0})


def test_select_and_combine(inv):
    power = inv.select(sector="power")
    assert len(power) == 1 and power.points["id"].tolist() == ["P1"]
    hebei = inv.select(city=["Baoding"], pollutants=["PM2.5"])
    assert hebei.areas["id"].tolist() == ["A2"] and hebei.pollutants == ("PM2.5",)
    with pytest.raises(InventoryError):
        inv.select(sector="shipping")
    with pytest.raises(InventoryError, match="duplicate"):
        inv.combine(inv.select(sector="power"))


# ------------------------------------------------------------------ hourly rates
def test_hourly_conserves_annual_rate(inv):
    # Local (UTC+8) calendar year 2023 = UTC 2022-12-31 16:00 .. 2023-12-31 15:00.
    times = pd.date_range("2022-12-31 16:00", periods=8760, freq="h")
    for kind, pol in (("point", "SO2"), ("area", "PM2.5"), ("all", "NOx")):
        h = inv.hourly(times, pol, kind=kind)
        annual = inv._table(kind)[pol].to_numpy()
        np.testing.assert_allclose(h.mean("time").values, annual, rtol=1e-9, atol=1e-12)
        assert h.attrs["units"] == "g s-1"


def test_hourly_applies_profiles_in_local_time(inv):
    prof = TemporalProfiles.default()
    # 2023-01-04 00:00 UTC = Wednesday 08:00 CST; traffic area A2.
    h = inv.hourly(pd.to_datetime(["2023-01-04 00:00"]), "PM2.5", kind="area")
    f = prof.factors(pd.to_datetime(["2023-01-04 08:00"]), ["traffic"])[0, 0]
    assert float(h.sel(source="A2")[0]) == pytest.approx(2.0 * f, rel=1e-12)
    assert f > 1.5  # morning rush hour
    aware = pd.date_range("2023-01-04 08:00", periods=1, freq="h", tz="Asia/Shanghai")
    h2 = inv.hourly(aware, "PM2.5", kind="area")
    assert float(h2.sel(source="A2")[0]) == pytest.approx(float(h.sel(source="A2")[0]))


def test_hourly_dask_twin_matches(inv):
    times = pd.date_range("2023-06-01", periods=100, freq="h")
    eager = inv.hourly(times, "SO2", kind="point")
    lazy = inv.hourly(times, "SO2", kind="point", time_chunk=24)
    assert lazy.chunks is not None
    np.testing.assert_allclose(lazy.compute().values, eager.values, rtol=1e-15)


def test_unprofiled_sector_is_recorded(caplog):
    inv = Inventory.from_points(points_df(sector=["power", "shipyard", "other"]), units="t/yr")
    assert inv.unprofiled_sectors == ["shipyard"]
    caplog.clear()
    h = inv.hourly(pd.date_range("2023-01-01", periods=3, freq="h"), "SO2")
    assert "shipyard" in h.attrs["unprofiled_sectors"]
    assert caplog.text.count("shipyard") == 1
    # 315.36 t/yr = 10 g/s, flat "other" profile → 10 g/s every hour.
    np.testing.assert_allclose(h.sel(source="P2").values, 315.36 / TPY_PER_GPS, rtol=1e-12)


def test_missing_csv_is_a_data_file_error(tmp_path):
    from ecodss.errors import DataFileError

    with pytest.raises(DataFileError, match="nope.csv"):
        Inventory.from_csv(points=tmp_path / "nope.csv")
