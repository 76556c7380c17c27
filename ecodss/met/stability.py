"""Pasquill–Gifford stability class by Turner's method (net radiation index and wind speed).

Sources
-------
* Turner, D. B. (1964). A diffusion model for an urban area. *J. Appl. Meteor.* 3(1), 83–91.
* U.S. EPA (2000). *Meteorological Monitoring Guidance for Regulatory Modeling Applications*,
  EPA-454/R-99-005, §6.4.1: Table 6-4 (key to the P-G classes from wind speed and net radiation
  index), Table 6-5 (insolation class from solar altitude), Table 6-6 (net radiation index).
  This is the scheme EPA's RAMMET/PCRAMMET preprocessors apply to hourly NWS observations
  (PCRAMMET User's Guide, EPA-454/B-96-001); "for EPA regulatory modeling applications,
  stability categories 6 and 7 (F and G) are combined and considered category 6".

Classes are integers 1–7 (A–G); ``merge_g=True`` folds 7 into 6 (regulatory 1–6 = A–F).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import MissingFieldError
from ..validation import check_nonnegative, check_range
from ._kernel import apply_kernel
from .solar import is_daytime, solar_altitude

#: One knot [m s-1] (1852 m / 3600 s).
KNOT = 1852.0 / 3600.0
#: Ceiling thresholds of Table 6-6 [m]: 7000 ft and 16000 ft.
CEILING_7000_FT = 7000 * 0.3048
CEILING_16000_FT = 16000 * 0.3048
#: Default offset from an hourly time stamp (start of the hour) to the instant the sun is taken.
MID_HOUR = np.timedelta64(30, "m")

#: Turner's key (EPA 2000 Table 6-4): rows = wind-speed groups [kt] 0–1, 2–3, 4–5, 6, 7, 8–9, 10,
#: 11, ≥12; columns = net radiation index 4, 3, 2, 1, 0, −1, −2.
TURNER_TABLE = np.array([
    [1, 1, 2, 3, 4, 6, 7],
    [1, 2, 2, 3, 4, 6, 7],
    [1, 2, 3, 4, 4, 5, 6],
    [2, 2, 3, 4, 4, 5, 6],
    [2, 2, 3, 4, 4, 4, 5],
    [2, 3, 3, 4, 4, 4, 5],
    [3, 3, 4, 4, 4, 4, 5],
    [3, 3, 4, 4, 4, 4, 4],
    [3, 4, 4, 4, 4, 4, 4],
], dtype=np.int8)
#: Row of TURNER_TABLE for an integer wind speed of 0…12 kt (12 stands for ≥ 12 kt).
_ROW_OF_KNOTS = np.array([0, 0, 1, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8])


def wind_speed_knots(wind_speed):
    """Wind speed [m s-1] → whole knots as Turner's table reads them (round half up).

    The m/s ranges printed beside Table 6-4 (0–0.7, 0.8–1.8, 1.9–2.8, …, ≥ 6.0) are exactly these
    half-knot boundaries (1.5 kt = 0.77 m/s, 3.5 kt = 1.80 m/s, …, 11.5 kt = 5.92 m/s) rounded to
    0.1 m/s, i.e. the table was built for NWS speeds reported in whole knots.
    """
    return np.floor(np.asarray(wind_speed, dtype=float) / KNOT + 0.5).astype(np.int64)


def insolation_class(solar_altitude):
    """Insolation class 1–4 from solar altitude α [deg] (EPA 2000 Table 6-5).

    α > 60° → 4 (strong); 35° < α ≤ 60° → 3 (moderate); 15° < α ≤ 35° → 2 (slight); α ≤ 15° → 1.
    """
    a = np.asarray(solar_altitude, dtype=float)
    return 1 + (a > 15.0).astype(np.int8) + (a > 35.0) + (a > 60.0)


def _check_inputs(solar_altitude, cloud_cover, ceiling, wind_speed=None):
    where = "turner_class input"
    if wind_speed is not None:
        check_nonnegative(wind_speed, "wind_speed", kind=where, units="m s-1")
    check_range(solar_altitude, "solar_altitude", -90.0, 90.0, kind=where, units="deg")
    check_range(cloud_cover, "cloud_cover", 0.0, 10.0, kind=where, units="tenths")
    ceiling = np.asarray(ceiling, dtype=float)
    # +inf means "no ceiling" (unlimited) and is allowed; NaN and negative values are not.
    check_nonnegative(np.where(np.isposinf(ceiling), 0.0, ceiling), "ceiling", kind=where,
                      units="m")


def _net_radiation_index(solar_altitude, cloud_cover, ceiling, night):
    tenths = np.rint(np.asarray(cloud_cover, dtype=float))
    ceiling = np.asarray(ceiling, dtype=float)
    overcast = tenths >= 10.0
    low_ceiling = ceiling < CEILING_7000_FT
    # Table 6-6 step 3: day, cloud > 5/10 lowers the insolation class.
    lowering = np.where(low_ceiling, 2, np.where(ceiling < CEILING_16000_FT, 1, 0))
    lowering = lowering + (overcast & ~low_ceiling)
    lowering = np.where(tenths > 5.0, lowering, 0)
    day_index = np.maximum(insolation_class(solar_altitude) - lowering, 1)
    night_index = np.where(tenths <= 4.0, -2, -1)  # step 2
    index = np.where(night, night_index, day_index)
    return np.where(overcast & low_ceiling, 0, index).astype(np.int8)  # step 1, day or night


def _nri_kernel(solar_altitude, cloud_cover, ceiling, night):
    _check_inputs(solar_altitude, cloud_cover, ceiling)
    return _net_radiation_index(solar_altitude, cloud_cover, ceiling, night)


def _turner_kernel(wind_speed, solar_altitude, cloud_cover, ceiling, night, merge_g=False):
    _check_inputs(solar_altitude, cloud_cover, ceiling, wind_speed)
    nri = _net_radiation_index(solar_altitude, cloud_cover, ceiling, night)
    row = _ROW_OF_KNOTS[np.minimum(wind_speed_knots(wind_speed), 12)]
    cls = TURNER_TABLE[row, 4 - nri]
    return merge_stable_classes(cls) if merge_g else cls


def net_radiation_index(solar_altitude, cloud_cover, ceiling, night=None):
    """Net radiation index −2…4 (EPA 2000 Table 6-6; Turner 1964).

    1. Total cloud 10/10 and ceiling < 7000 ft → 0, day or night.
    2. Night: cloud ≤ 4/10 → −2, otherwise −1.
    3. Day: insolation class (:func:`insolation_class`); if cloud > 5/10 subtract 2 (ceiling
       < 7000 ft) or 1 (7000 ≤ ceiling < 16000 ft), and 1 more if cloud is 10/10 (ceiling
       ≥ 7000 ft); never below 1.

    Parameters
    ----------
    solar_altitude : numeric or DataArray  [deg]
    cloud_cover : numeric or DataArray  [tenths, 0–10]; rounded to whole tenths.
    ceiling : numeric or DataArray  [m]; ``np.inf`` for no ceiling.
    night : bool array or DataArray, optional
        Turner's night (1 h before sunset to 1 h after sunrise, see
        :func:`ecodss.met.solar.is_daytime`). Default: ``solar_altitude <= 0``.
    """
    if night is None:
        night = solar_altitude <= 0.0
    return apply_kernel(_nri_kernel, solar_altitude, cloud_cover, ceiling, night,
                        output_dtype=np.int8)


def turner_class(wind_speed, solar_altitude, cloud_cover, ceiling, night=None, merge_g=False):
    """Pasquill–Gifford stability class by Turner's method.

    Parameters
    ----------
    wind_speed : numeric or DataArray  [m s-1]
        Wind speed at 10 m; converted to whole knots (:func:`wind_speed_knots`).
    solar_altitude : numeric or DataArray  [deg]
    cloud_cover : numeric or DataArray  [tenths, 0–10]
        Total cloud cover.
    ceiling : numeric or DataArray  [m]
        Ceiling height (lowest broken/overcast layer); ``np.inf`` when there is no ceiling.
    night : bool array or DataArray, optional
        Turner's night, 1 h before sunset to 1 h after sunrise (use
        ``~is_daytime(time, lon, lat, margin_hours=1)``, as :func:`stability_from_met` does).
        Default ``solar_altitude <= 0``, an approximation that ignores the one-hour margins.
    merge_g : bool
        Fold class 7 (G) into 6 (F), EPA regulatory practice (EPA 2000 §6.4.1).

    Returns
    -------
    int8 array or DataArray : class 1–7 (1 = A … 6 = F, 7 = G), or 1–6 with ``merge_g``.

    Raises
    ------
    NonFiniteValueError, NegativeValueError, OutOfRangeError
        NaN inputs, negative speed or ceiling, cloud outside 0–10, altitude outside ±90°. On dask
        input the check runs, and raises, when the result is computed.

    Notes
    -----
    Class = Table 6-4[speed group, net radiation index] (:func:`net_radiation_index`).

    Examples
    --------
    >>> int(turner_class(2.0, 70.0, 0.0, np.inf))     # sunny, light wind: A
    1
    >>> int(turner_class(1.0, -20.0, 2.0, np.inf))    # clear night, calm: G
    7
    """
    if night is None:
        night = solar_altitude <= 0.0
    return apply_kernel(_turner_kernel, wind_speed, solar_altitude, cloud_cover, ceiling, night,
                        merge_g=merge_g, output_dtype=np.int8)


def merge_stable_classes(stability_class):
    """Fold class 7 (G) into 6 (F), as EPA regulatory modelling does (EPA 2000 §6.4.1)."""
    return np.minimum(stability_class, 6)


def stability_from_met(ds: xr.Dataset, lon, lat, *, time_offset=MID_HOUR,
                       merge_g: bool = True) -> xr.DataArray:
    """Turner stability class for every time (and grid point) of a met Dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        Met dataset (:mod:`ecodss.met.dataset` conventions) with ``time`` [UTC, start of hour],
        ``wind_speed`` [m s-1] at 10 m, ``cloud_cover`` [1, fraction 0–1] and
        ``ceiling_height`` [m, inf = none].
    lon, lat : float or DataArray
        Station or grid longitude/latitude [deg]; DataArrays broadcast by dimension name.
    time_offset : timedelta64
        Added to the time stamps before computing the sun; the default (30 min) evaluates the
        sun at mid-hour of an hour that starts at the stamp.
    merge_g : bool
        Fold class 7 into 6 (default, regulatory 1–6 = A–F).

    Returns
    -------
    xarray.DataArray ``stability_class`` (int8) with CF attributes.
    """
    from .dataset import met_attrs, validate_met

    for name in ("wind_speed", "cloud_cover", "ceiling_height"):
        if name not in ds.data_vars:
            raise MissingFieldError(f"missing required variable {name!r} for Turner's method",
                                    field=name, where="stability_from_met")
    validate_met(ds[["wind_speed", "cloud_cover", "ceiling_height"]], required=())
    t = ds["time"] + time_offset
    altitude = solar_altitude(t, lon, lat)
    night = ~is_daytime(t, lon, lat, margin_hours=1.0)
    cls = turner_class(ds["wind_speed"], altitude, 10.0 * ds["cloud_cover"], ds["ceiling_height"],
                       night=night, merge_g=merge_g)
    cls = cls.rename("stability_class")
    cls.attrs = met_attrs("stability_class")
    cls.attrs["comment"] = ("Turner (1964) method, EPA-454/R-99-005 Tables 6-4..6-6; night = 1 h "
                            "before sunset to 1 h after sunrise"
                            + ("; class 7 merged into 6" if merge_g else ""))
    return cls
