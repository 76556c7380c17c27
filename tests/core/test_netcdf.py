"""CF NetCDF writing: global attributes, refusal of unitless variables, atomic replacement."""

import os
from contextlib import contextmanager

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr

from ecodss.errors import EcodssError, MissingFieldError
from ecodss.io.netcdf import CF_VERSION, atomic_write, atomic_write_text, write_netcdf


class WriteInterrupted(RuntimeError):
    """Raised from inside a dask task to simulate a crash in the middle of a write."""


def sample_dataset(chunks=None):
    rng = np.random.default_rng(3)
    ds = xr.Dataset(
        {"concentration": (("time", "y", "x"), rng.gamma(2.0, 20.0, (4, 5, 6)),
                           {"units": "ug m-3", "long_name": "SO2 mass concentration"}),
         "calm": ("time", np.array([0, 1, 0, 0], np.int8), {"units": "1"})},
        coords={"time": np.arange(4), "y": np.arange(5) * 1000.0, "x": np.arange(6) * 1000.0},
        attrs={"title": "test field", "history": "2024-01-01T00:00:00Z: created"},
    )
    return ds.chunk(chunks) if chunks else ds


def failing_dataset():
    """A dask-backed dataset whose second block raises while being written."""
    def explode_on_second_block(block, block_info=None):
        if block_info[0]["chunk-location"][0] == 1:
            raise WriteInterrupted("simulated crash mid-write")
        return block

    data = dsa.map_blocks(explode_on_second_block, dsa.ones((4, 5, 6), chunks=(1, 5, 6)),
                          dtype=float)
    return xr.Dataset({"concentration": (("time", "y", "x"), data, {"units": "ug m-3"})})


@contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_cf_global_attributes_and_history(tmp_path):
    ds = sample_dataset()
    path = write_netcdf(ds, tmp_path / "out.nc", title="SO2 forecast")
    with xr.open_dataset(path) as back:
        assert back.attrs["Conventions"] == CF_VERSION == "CF-1.10"
        assert back.attrs["title"] == "SO2 forecast"
        history = back.attrs["history"].splitlines()
    assert len(history) == 2
    assert history[0] == "2024-01-01T00:00:00Z: created"  # earlier lines kept, in order
    assert "ecodss" in history[1]
    assert ds.attrs["history"] == "2024-01-01T00:00:00Z: created"  # the caller's copy untouched


def test_variable_without_units_is_refused(tmp_path):
    ds = sample_dataset()
    del ds["concentration"].attrs["units"]
    with pytest.raises(MissingFieldError) as err:
        write_netcdf(ds, tmp_path / "out.nc")
    assert "concentration" in str(err.value) and err.value.field == "concentration.units"
    assert isinstance(err.value, ValueError) and isinstance(err.value, EcodssError)
    assert list(tmp_path.iterdir()) == []


def test_round_trip_values_and_attributes(tmp_path):
    ds = sample_dataset()
    with xr.open_dataset(write_netcdf(ds, tmp_path / "sub" / "out.nc")) as back:
        back = back.load()
    np.testing.assert_array_equal(back["concentration"].values, ds["concentration"].values)
    np.testing.assert_array_equal(back["calm"].values, ds["calm"].values)
    assert back["concentration"].attrs["units"] == "ug m-3"
    assert back["concentration"].attrs["long_name"] == "SO2 mass concentration"
    np.testing.assert_array_equal(back["x"].values, ds["x"].values)


def test_dask_backed_dataset_writes_the_same_numbers(tmp_path):
    eager = write_netcdf(sample_dataset(), tmp_path / "eager.nc")
    lazy = write_netcdf(sample_dataset({"time": 1, "y": 2}), tmp_path / "lazy.nc")
    with xr.open_dataset(eager) as a, xr.open_dataset(lazy) as b:
        np.testing.assert_array_equal(a["concentration"].values, b["concentration"].values)
        assert a["concentration"].values.std() > 0  # the comparison covers real numbers


def test_failed_write_leaves_the_previous_file_intact(tmp_path):
    path = write_netcdf(sample_dataset(), tmp_path / "out.nc")
    before = path.read_bytes()
    with pytest.raises(WriteInterrupted):
        write_netcdf(failing_dataset(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.nc"]  # no temporary left behind


def test_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(WriteInterrupted):
        write_netcdf(failing_dataset(), tmp_path / "out.nc")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_permissions_follow_the_umask(tmp_path, mask):
    with umask(mask):
        nc = write_netcdf(sample_dataset(), tmp_path / "out.nc")
        txt = atomic_write_text(tmp_path / "report.txt", "ok\n")
    for path in (nc, txt):
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600


def test_atomic_write_text(tmp_path):
    path = atomic_write_text(tmp_path / "new" / "summary.json", '{"level": "orange", "µg": 1}\n')
    assert path.read_text(encoding="utf-8") == '{"level": "orange", "µg": 1}\n'
    atomic_write_text(path, "second\n")
    assert path.read_text(encoding="utf-8") == "second\n"


def test_failed_text_write_keeps_the_old_text(tmp_path):
    path = atomic_write_text(tmp_path / "summary.json", "old\n")
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate fails after the file is open
        atomic_write_text(path, "new " * 10_000 + "\ud800")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_atomic_write_removes_a_partial_temporary(tmp_path):
    path = atomic_write_text(tmp_path / "data.bin", "kept")

    def write_half_then_fail(tmp):
        with open(tmp, "wb") as fh:
            fh.write(b"partial")
        raise KeyboardInterrupt  # even a BaseException cleans up

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, write_half_then_fail)
    assert path.read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
