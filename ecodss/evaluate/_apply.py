"""One kernel, every array type: run a score kernel on numpy, pandas or (dask-backed) xarray.

A kernel receives float arrays whose **sample axis is the last axis** (the reduced dimensions
flattened into one) — or, for inputs with an extra core axis (ensemble members, quantile levels),
the last-but-one axis, the extra axis being last. It returns ``(...)`` or, with ``outputs``,
``(..., len(outputs))``. Missing values are NaN; kernels drop them pairwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import MissingFieldError, ValidationError


def _is_xr(x) -> bool:
    return isinstance(x, xr.DataArray)


def _check_pandas_alignment(arrays: Sequence, where: str) -> None:
    frames = [a for a in arrays if isinstance(a, pd.Series | pd.DataFrame)]
    for other in frames[1:]:
        if not frames[0].index.equals(other.index):
            raise ValidationError("inputs are not aligned (different index); align them first",
                                  field="index", where=where)


def _flatten_core(x: np.ndarray, ncore: int, extra: bool) -> np.ndarray:
    """Merge the ``ncore`` sample axes (before the extra axis, if any) into one."""
    tail = 1 if extra else 0
    stop = x.ndim - tail
    lead = x.shape[:stop - ncore]
    return x.reshape(lead + (-1,) + x.shape[stop:])


def _numpy_axes(ndim: int, dim) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    axes = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    for a in axes:
        if not isinstance(a, int | np.integer) or not -ndim <= a < ndim:
            raise MissingFieldError(f"axis {a!r} is not an axis of the {ndim}-d input",
                                    field="dim", where="evaluate")
    return tuple(sorted({int(a) % ndim for a in axes}))


def _flat_inputs(arrs, nreduced: int, extra) -> list[np.ndarray]:
    """Give every input one flattened sample axis (a length-1 one when nothing is reduced)."""
    out = []
    for i, a in enumerate(arrs):
        if nreduced == 0:
            a = a[..., None, :] if i in extra else a[..., None]
        out.append(_flatten_core(a, max(nreduced, 1), i in extra))
    return out


def apply_score(kernel: Callable, *arrays, dim=None, extra: dict[int, int | str] | None = None,
                outputs: Sequence[str] | None = None, where: str = "evaluate", kwargs=None,
                dtype=float):
    """Run ``kernel`` over ``arrays`` reducing ``dim`` (default: all sample dimensions).

    Parameters
    ----------
    kernel : callable
        ``kernel(*arrays, **kwargs)`` as described in the module docstring.
    *arrays : array-like, pandas or xarray.DataArray
        Inputs; xarray inputs are aligned exactly (``join="exact"``), numpy inputs broadcast.
    dim : str, int, sequence or None
        xarray: dimension name(s); numpy: axis/axes of the sample shape. ``None`` reduces all
        sample dimensions; ``()`` reduces none (one score per sample).
    extra : dict, optional
        ``{input index: axis (numpy) or dimension name (xarray)}`` of an extra core axis that is
        not a sample axis (ensemble members, quantile levels).
    outputs : sequence of str, optional
        Names of the kernel's last output axis; the result is then a dict (numpy) or Dataset.
    dtype : type
        ``float`` converts inputs to float; ``object`` keeps the values (categories).
    """
    extra = extra or {}
    kwargs = kwargs or {}
    if any(_is_xr(a) for a in arrays):
        return _apply_xarray(kernel, arrays, dim, extra, outputs, where, kwargs, dtype)
    _check_pandas_alignment(arrays, where)
    arrs = [np.asarray(a, dtype=dtype) for a in arrays]
    arrs = [np.moveaxis(a, extra[i], -1) if i in extra else a for i, a in enumerate(arrs)]
    sample_shapes = [a.shape[:-1] if i in extra else a.shape for i, a in enumerate(arrs)]
    try:
        shape = np.broadcast_shapes(*sample_shapes)
    except ValueError:
        raise ValidationError(f"input shapes {sample_shapes} do not broadcast", field="shape",
                              where=where) from None
    arrs = [np.broadcast_to(a, shape + a.shape[-1:]) if i in extra else np.broadcast_to(a, shape)
            for i, a in enumerate(arrs)]
    axes = _numpy_axes(len(shape), dim)
    last = tuple(range(len(shape) - len(axes), len(shape)))
    arrs = [np.moveaxis(a, axes, last) for a in arrs]
    out = np.asarray(kernel(*_flat_inputs(arrs, len(axes), extra), **kwargs))
    if outputs is None:
        return float(out) if out.ndim == 0 else out
    return {n: (float(out[..., k]) if out.ndim == 1 else out[..., k])
            for k, n in enumerate(outputs)}


def _apply_xarray(kernel, arrays, dim, extra, outputs, where, kwargs, dtype):
    if not all(_is_xr(a) or np.ndim(a) == 0 for a in arrays):
        raise ValidationError("pass all inputs as xarray.DataArray (or all as arrays)",
                              field="type", where=where)
    arrays = [a if _is_xr(a) else xr.DataArray(a) for a in arrays]
    extra = {i: (name if isinstance(name, str) else arrays[i].dims[name])
             for i, name in extra.items()}
    sample_dims = [tuple(d for d in a.dims if d != extra.get(i)) for i, a in enumerate(arrays)]
    if dim is None:
        dims = tuple(dict.fromkeys(d for s in sample_dims for d in s))
    else:
        dims = (dim,) if isinstance(dim, str) else tuple(dim)
    for d in dims:
        if not any(d in s for s in sample_dims):
            raise MissingFieldError(f"dimension {d!r} not in the inputs {sample_dims}",
                                    field=d, where=where)
    # a 0-d or partly broadcast input gains the reduced dims, so every core is complete
    arrays = list(xr.broadcast(*arrays, exclude=set(extra.values())))

    def wrapped(*xs):
        xs = [np.asarray(x, dtype=float) if dtype is float else np.asarray(x) for x in xs]
        return kernel(*_flat_inputs(xs, len(dims), extra), **kwargs)

    core = [list(dims) + ([extra[i]] if i in extra else []) for i in range(len(arrays))]
    out_core = [["_output"]] if outputs else [[]]
    sizes = {"output_sizes": {"_output": len(outputs)}} if outputs else {}
    result = xr.apply_ufunc(wrapped, *arrays, input_core_dims=core, output_core_dims=out_core,
                            join="exact", dask="parallelized", output_dtypes=[float],
                            dask_gufunc_kwargs={"allow_rechunk": True, **sizes})
    if outputs is None:
        return result
    ds = result.assign_coords(_output=list(outputs)).to_dataset(dim="_output")
    return ds.drop_vars("_output", errors="ignore")


def valid_mask(*arrays: np.ndarray) -> np.ndarray:
    """True where every input is non-NaN (inputs already broadcast to a common shape)."""
    ok = ~np.isnan(arrays[0])
    for a in arrays[1:]:
        ok &= ~np.isnan(a)
    return ok


def masked_mean(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mean over the last axis of ``values`` where ``valid``; NaN where nothing is valid."""
    n = valid.sum(axis=-1)
    total = np.where(valid, values, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def safe_divide(num, den):
    """``num / den`` with NaN where ``den == 0`` (numpy scalars/arrays or xarray)."""
    if _is_xr(num) or _is_xr(den):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (num / den).where(den != 0)
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out
