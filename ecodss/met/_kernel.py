"""Run a numpy kernel on numpy inputs or, via ``xr.apply_ufunc(dask="parallelized")``, on
(dask-backed) xarray DataArrays — one code path for the numbers (MetPy/xskillscore pattern)."""

from __future__ import annotations

import numpy as np
import xarray as xr


def apply_kernel(kernel, *args, output_dtype=float, **kwargs):
    """Call ``kernel(*args, **kwargs)``; if any argument is a DataArray, broadcast by dimension
    name with :func:`xarray.apply_ufunc` (lazy on dask, chunk by chunk).

    Non-xarray arguments mixed with DataArrays must be scalars (or ``None``).
    """
    if any(isinstance(a, xr.DataArray) for a in args):
        return xr.apply_ufunc(kernel, *args, kwargs=kwargs, dask="parallelized",
                              output_dtypes=[output_dtype])
    out = kernel(*args, **kwargs)
    return out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out
