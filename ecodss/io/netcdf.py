"""CF-conformant NetCDF output with atomic replacement.

:func:`write_netcdf` writes to a temporary file in the destination folder, flushes it to disk and
renames it over the target (``os.replace`` is atomic on POSIX and Windows), so a crash mid-write
never leaves a truncated file nor destroys an earlier result. Global attributes follow CF-1.10
(``Conventions``, ``history``, ``source``, ``institution``); variables without ``units`` are refused.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import xarray as xr

from ..errors import MissingFieldError

CF_VERSION = "CF-1.10"


def _version() -> str:
    from .. import __version__

    return __version__


def cf_global_attrs(ds: xr.Dataset, title: str | None = None) -> xr.Dataset:
    """Return ``ds`` with the CF global attributes set and a ``history`` line appended."""
    ds = ds.copy()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = f"{now}: written by ecodss {_version()}"
    ds.attrs["Conventions"] = CF_VERSION
    ds.attrs.setdefault("source", f"ecodss {_version()}")
    ds.attrs.setdefault("institution", "ecodss")
    if title:
        ds.attrs["title"] = title
    ds.attrs["history"] = (ds.attrs.get("history", "") + "\n" + line).strip()
    return ds


def check_cf(ds: xr.Dataset) -> None:
    """Refuse data variables without a ``units`` attribute (CF §3.1) — a unitless number is a bug."""
    for name, var in ds.data_vars.items():
        if "units" not in var.attrs and var.dtype.kind in "fiu" and var.ndim > 0:
            raise MissingFieldError(f"variable {name!r} has no 'units' attribute (CF §3.1)",
                                    field=f"{name}.units")


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp_path)`` then atomically rename ``tmp_path`` to ``path``.

    The temporary file lives in the destination folder (a rename across file systems is not atomic).
    On any exception the temporary file is removed and the previous ``path``, if any, is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike, *, title: str | None = None,
                 compress: bool = True) -> Path:
    """Write ``ds`` as CF NetCDF-4 to ``path`` atomically (temp file + rename) and return the path.

    Dask-backed variables are computed while writing. Float variables are zlib-compressed.
    """
    check_cf(ds)
    ds = cf_global_attrs(ds, title)
    encoding = {}
    if compress:
        for name, var in ds.data_vars.items():
            if var.dtype.kind == "f" and var.ndim > 0:
                encoding[name] = {"zlib": True, "complevel": 4}
    return atomic_write(path, lambda tmp: ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4",
                                                       encoding=encoding))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a text file (JSON, CSV, report) atomically."""
    def _w(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return atomic_write(path, _w)
