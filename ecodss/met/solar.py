"""Solar position: altitude, hour angle, sunrise/sunset and a day/night test.

The Sun's coordinates follow the low-precision formulae of the *Astronomical Almanac* (section C,
"Low precision formulas for the Sun", accuracy ≈ 0.01° for 1950–2050) in the form published by

* Michalsky, J. J. (1988). The Astronomical Almanac's algorithm for approximate solar position
  (1950–2050). *Solar Energy* 40(3), 227–235 — Eqs. for mean longitude L, mean anomaly g,
  ecliptic longitude λ, obliquity ε, right ascension, declination, GMST and hour angle.

Every quantity depends only on ``n``, the days since J2000.0 (2000-01-01 12:00 UT), so the same
ufunc expressions run on numpy arrays and on (dask-backed) xarray DataArrays, which broadcast
``time`` against gridded ``lon``/``lat`` by dimension name. Altitudes are *geometric* (no
refraction), as in the Smithsonian tables used by Turner's stability method; sunrise and sunset use
the conventional apparent horizon −0.833° (refraction 34′ + solar semi-diameter 16′).

Times are UTC (``datetime64``; tz-aware pandas times are converted to UTC). Longitude is degrees
east, latitude degrees north.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

#: J2000.0 epoch (2000-01-01 12:00 UT) as datetime64[ns].
J2000 = np.datetime64("2000-01-01T12:00:00", "ns")
#: Apparent altitude of the Sun's centre at sunrise/sunset [deg] (refraction + semi-diameter).
SUNRISE_ALTITUDE = -0.833
#: Rate of the Sun's hour angle [deg per hour of UT]: 360° per mean solar day.
HOUR_ANGLE_RATE = 15.0

_NS_PER_HOUR = 3.6e12


def _as_utc_datetime64(time):
    """Return ``time`` as datetime64[ns] in UTC; xarray objects are returned unchanged."""
    if isinstance(time, xr.DataArray):
        return time
    if isinstance(time, pd.Series):
        time = pd.DatetimeIndex(time)
    if isinstance(time, pd.DatetimeIndex):
        if time.tz is not None:
            time = time.tz_convert("UTC").tz_localize(None)
        return time.values.astype("datetime64[ns]")
    if isinstance(time, pd.Timestamp):
        if time.tz is not None:
            time = time.tz_convert("UTC").tz_localize(None)
        return np.datetime64(time.to_datetime64(), "ns")
    return np.asarray(time, dtype="datetime64[ns]")


def days_since_j2000(time):
    """Days since J2000.0 (2000-01-01 12:00 UT) [d] of UTC ``time`` (numpy, pandas or xarray)."""
    t = _as_utc_datetime64(time)
    return (t - J2000) / np.timedelta64(1, "ns") / 8.64e13


def _sun(n):
    """Declination and right ascension [rad] and GMST [deg] at ``n`` days since J2000.0.

    Michalsky (1988) / Astronomical Almanac low-precision formulae.
    """
    mean_longitude = np.mod(280.460 + 0.9856474 * n, 360.0)
    mean_anomaly = np.deg2rad(np.mod(357.528 + 0.9856003 * n, 360.0))
    ecliptic_longitude = np.deg2rad(
        mean_longitude + 1.915 * np.sin(mean_anomaly) + 0.020 * np.sin(2.0 * mean_anomaly))
    obliquity = np.deg2rad(23.439 - 4.0e-7 * n)
    sin_lambda = np.sin(ecliptic_longitude)
    right_ascension = np.arctan2(np.cos(obliquity) * sin_lambda, np.cos(ecliptic_longitude))
    declination = np.arcsin(np.sin(obliquity) * sin_lambda)
    # Greenwich mean sidereal time [h] = 6.697375 + 0.0657098242 n + UT hour (Michalsky 1988),
    # written with UT folded into n: 18.697375 + 24.0657098242 n.
    gmst_deg = 15.0 * np.mod(18.697375 + 24.0657098242 * n, 24.0)
    return declination, right_ascension, gmst_deg


def _wrap180(angle_deg):
    return np.mod(angle_deg + 180.0, 360.0) - 180.0


def solar_position(time, lon, lat):
    """Geometric solar altitude, hour angle and declination.

    Parameters
    ----------
    time : datetime64 array, pandas DatetimeIndex/Series or xarray DataArray
        Instants [UTC].
    lon, lat : float, array or DataArray
        Longitude [deg east] and latitude [deg north]; broadcast against ``time`` (numpy rules,
        or by dimension name for xarray).

    Returns
    -------
    altitude : Solar altitude above the horizon [deg], −90…90, no refraction.
    hour_angle : Local hour angle [deg], −180…180, negative before solar noon.
    declination : Solar declination [deg].

    Notes
    -----
    Michalsky (1988) Eqs.: L = 280.460 + 0.9856474 n, g = 357.528 + 0.9856003 n,
    λ = L + 1.915 sin g + 0.020 sin 2g, ε = 23.439 − 4·10⁻⁷ n, RA = atan2(cos ε sin λ, cos λ),
    δ = asin(sin ε sin λ), h = GMST + lon − RA, sin α = sin δ sin φ + cos δ cos φ cos h.
    """
    n = days_since_j2000(time)
    declination, right_ascension, gmst_deg = _sun(n)
    hour_angle = _wrap180(gmst_deg + lon - np.rad2deg(right_ascension))
    phi = np.deg2rad(lat)
    sin_alt = (np.sin(declination) * np.sin(phi)
               + np.cos(declination) * np.cos(phi) * np.cos(np.deg2rad(hour_angle)))
    altitude = np.rad2deg(np.arcsin(np.minimum(np.maximum(sin_alt, -1.0), 1.0)))
    return altitude, hour_angle, np.rad2deg(declination)


def solar_altitude(time, lon, lat):
    """Geometric solar altitude [deg] at UTC ``time`` and ``lon``/``lat`` [deg] (see
    :func:`solar_position`; Michalsky 1988)."""
    return solar_position(time, lon, lat)[0]


def sunset_hour_angle(declination, lat, horizon: float = SUNRISE_ALTITUDE):
    """Hour angle of sunset [deg] (sunrise is its negative) for the Sun's centre at ``horizon``.

    cos H₀ = (sin h₀ − sin φ sin δ) / (cos φ cos δ) (Astronomical Almanac; Meeus 1998, *Astronomical
    Algorithms* Eq. 15.1). Returns 0 during polar night and 180 during midnight sun.
    """
    phi, dec = np.deg2rad(lat), np.deg2rad(declination)
    cos_h0 = (np.sin(np.deg2rad(horizon)) - np.sin(phi) * np.sin(dec)) / (np.cos(phi) * np.cos(dec))
    return np.rad2deg(np.arccos(np.minimum(np.maximum(cos_h0, -1.0), 1.0)))


def is_daytime(time, lon, lat, margin_hours: float = 0.0, horizon: float = SUNRISE_ALTITUDE):
    """True between sunrise + ``margin_hours`` and sunset − ``margin_hours``.

    With ``margin_hours=1`` this is the *daytime* of Turner's stability method: "night" runs from
    one hour before sunset to one hour after sunrise (Turner 1964; EPA 2000,
    *Meteorological Monitoring Guidance for Regulatory Modeling Applications*, EPA-454/R-99-005,
    Table 6-6).

    The test is |h| < H₀ − 15°·margin with h the hour angle and H₀ the sunset hour angle at the
    same instant (the declination change within a few hours is negligible).
    """
    _, hour_angle, declination = solar_position(time, lon, lat)
    h0 = sunset_hour_angle(declination, lat, horizon)
    return np.abs(hour_angle) < h0 - HOUR_ANGLE_RATE * margin_hours


def _add_hours(time, hours):
    t = _as_utc_datetime64(time)
    with np.errstate(invalid="ignore"):
        offset = (np.round(hours * _NS_PER_HOUR)).astype("timedelta64[ns]")
    return t + offset


def sunrise_sunset(time, lon, lat, horizon: float = SUNRISE_ALTITUDE):
    """Sunrise and sunset [UTC datetime64] of the solar day whose noon is nearest to ``time``.

    Solar noon is found from the hour angle at ``time`` (h = 0); sunrise/sunset start at
    noon ∓ H₀/15 h (:func:`sunset_hour_angle`) and are refined twice with the hour angle and
    declination at the event itself. Accuracy ≈ 1 min away from the polar circles. During polar night both equal solar noon; during
    midnight sun they are noon ∓ 12 h.

    Returns
    -------
    sunrise, sunset : same kind as ``time`` (datetime64 array or DataArray) [UTC]
    """
    _, hour_angle, declination = solar_position(time, lon, lat)
    noon = _add_hours(time, -hour_angle / HOUR_ANGLE_RATE)
    events = []
    for sign in (-1.0, 1.0):  # sunrise, sunset: two fixed-point steps each (not a data loop)
        event = _add_hours(noon, sign * sunset_hour_angle(declination, lat, horizon)
                           / HOUR_ANGLE_RATE)
        for _ in range(2):
            _, h, dec = solar_position(event, lon, lat)
            target = sign * sunset_hour_angle(dec, lat, horizon)
            event = _add_hours(event, (target - h) / HOUR_ANGLE_RATE)
        events.append(event)
    return events[0], events[1]
