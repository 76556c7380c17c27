"""Reference forecasts that every forecast must beat: persistence and climatology.

A skill score is only meaningful against a reference (Wilks 2011, §8.1.4 / §8.3.3; Murphy 1988):
*persistence* repeats the last observation available at issue time; *climatology* forecasts the
long-term mean (or quantiles) of the calendar period, estimated on a training period only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InvalidValueError, MissingFieldError, OutOfRangeError

_GROUPS = ("month", "dayofyear", "hour", "season")


def _check_regular(index: pd.DatetimeIndex, where: str) -> None:
    if len(index) > 2 and pd.Series(index).diff().iloc[1:].nunique() > 1:
        raise InvalidValueError("the time axis is irregular; reindex to a complete regular axis "
                                "(missing steps as NaN) so that a shift of k steps is k periods",
                                field="time", where=where)


def persistence(obs, lead: int = 1, dim: str = "time"):
    """Persistence forecast: the observation ``lead`` steps earlier (NaN for the first steps).

    Parameters
    ----------
    obs : pandas Series/DataFrame (regular DatetimeIndex), xarray.DataArray or numpy array
        Observations on a complete, regular time axis (daily means for a daily forecast).
    lead : int
        Forecast lead in time steps (≥ 1).
    dim : str
        Time dimension (xarray). numpy: the last axis is time.

    Returns
    -------
    Same type as ``obs``: the value valid at ``t`` is ``obs[t - lead]``.
    """
    if int(lead) != lead or lead < 1:
        raise OutOfRangeError(f"lead={lead} must be an integer >= 1", field="lead",
                              where="persistence")
    lead = int(lead)
    if isinstance(obs, xr.DataArray):
        if dim not in obs.dims:
            raise MissingFieldError(f"dimension {dim!r} not in {obs.dims}", field=dim,
                                    where="persistence")
        if np.issubdtype(obs[dim].dtype, np.datetime64):
            _check_regular(obs.indexes[dim], "persistence")
        return obs.shift({dim: lead})
    if isinstance(obs, pd.Series | pd.DataFrame):
        if isinstance(obs.index, pd.DatetimeIndex):
            _check_regular(obs.index, "persistence")
        return obs.shift(lead)
    arr = np.asarray(obs, dtype=float)
    out = np.full_like(arr, np.nan)
    out[..., lead:] = arr[..., :-lead]
    return out


def _group_keys(index: pd.DatetimeIndex, by: str):
    if by not in _GROUPS:
        raise InvalidValueError(f"by={by!r} must be one of {_GROUPS}", field="by",
                                where="climatology")
    if by == "season":
        return (index.month % 12) // 3  # DJF=0, MAM=1, JJA=2, SON=3
    return getattr(index, by)


def _as_series_frame(obs, dim: str):
    """(2-D frame time × columns, restore function) for pandas and xarray input."""
    if isinstance(obs, pd.Series):
        return obs.to_frame("value"), lambda df: df["value"].rename(obs.name)
    if isinstance(obs, pd.DataFrame):
        return obs, lambda df: df
    if isinstance(obs, xr.DataArray):
        if dim not in obs.dims:
            raise MissingFieldError(f"dimension {dim!r} not in {obs.dims}", field=dim,
                                    where="climatology")
        other = [d for d in obs.dims if d != dim]
        stacked = obs.transpose(dim, *other)
        flat = stacked.values.reshape(stacked.shape[0], -1)
        frame = pd.DataFrame(flat, index=obs.indexes[dim])

        def restore(df):
            return stacked.copy(data=df.values.reshape(stacked.shape)).transpose(*obs.dims)
        return frame, restore
    raise InvalidValueError("climatology needs a pandas object with a DatetimeIndex or an "
                            "xarray.DataArray with a datetime dimension", field="obs",
                            where="climatology")


def _training_rows(frame: pd.DataFrame, train) -> pd.DataFrame:
    if train is None:
        return frame
    if isinstance(train, slice):
        return frame.loc[train]
    return frame[np.asarray(train, dtype=bool)]


def climatology(obs, *, train=None, by: str = "month", dim: str = "time"):
    """Climatological mean forecast: the mean of the same calendar group over ``train``.

    Parameters
    ----------
    obs : pandas Series/DataFrame with a DatetimeIndex or xarray.DataArray
        Observations [any unit]; NaN is ignored in the means.
    train : slice of time labels or boolean mask, optional
        Training period, e.g. ``slice("2010", "2013")``; default all of ``obs`` (which leaks the
        verification period into the reference — pass ``train`` for an honest reference).
    by : {"month", "dayofyear", "hour", "season"}
        Calendar grouping of the climatology.
    dim : str
        Time dimension (xarray).

    Returns
    -------
    Same type and index as ``obs``: the climatological mean of each time's group (NaN for a
    group absent from the training period).
    """
    frame, restore = _as_series_frame(obs, dim)
    train_rows = _training_rows(frame, train)
    means = train_rows.groupby(_group_keys(train_rows.index, by)).mean()
    out = means.reindex(_group_keys(frame.index, by))
    out.index = frame.index
    return restore(out)


def climatology_quantiles(obs, levels, *, train=None, by: str = "month", dim: str = "time"):
    """Climatological quantile forecast: the ``levels`` quantiles of each calendar group.

    Parameters
    ----------
    obs : pandas Series with a DatetimeIndex or 1-D xarray.DataArray (time)
        Observations [any unit].
    levels : sequence of float
        Quantile levels in (0, 1).
    train, by, dim
        As :func:`climatology`.

    Returns
    -------
    pandas.DataFrame (index = ``obs.index``, one column per level) or xarray.DataArray with a
    trailing ``quantile`` dimension. Quantiles use numpy's default (linear) interpolation
    (Hyndman & Fan 1996, definition 7).
    """
    levels = np.asarray(levels, dtype=float)
    if levels.ndim != 1 or ((levels <= 0) | (levels >= 1)).any():
        raise OutOfRangeError("quantile levels must be a 1-D sequence in (0, 1)",
                              field="levels", where="climatology_quantiles")
    frame, restore = _as_series_frame(obs, dim)
    if frame.shape[1] != 1:
        raise InvalidValueError("climatology_quantiles takes a single series", field="obs",
                                where="climatology_quantiles")
    train_rows = _training_rows(frame, train)
    table = train_rows.iloc[:, 0].groupby(_group_keys(train_rows.index, by)).quantile(levels)
    table = table.unstack()
    out = table.reindex(_group_keys(frame.index, by))
    out.index = frame.index
    out.columns = list(levels)
    if isinstance(obs, pd.Series | pd.DataFrame):
        return out
    return xr.DataArray(out.values, dims=(dim, "quantile"),
                        coords={dim: obs[dim].values, "quantile": levels}, attrs=obs.attrs)


__all__ = ["persistence", "climatology", "climatology_quantiles"]
