"""Meteorological ensemble generator: perturbed copies of a met dataset (Monte Carlo inputs).

Each member perturbs the four inputs a dispersion forecast is most sensitive to, following the
Monte Carlo input-perturbation approach of Hanna, Chang & Fernau (1998), *Atmos. Environ.*
32:3619-3628 (log-normal multiplicative errors of wind speed and mixing height, normal errors of
wind direction), and the ensemble dispersion practice of Galmarini et al. (2004), *Atmos.
Environ.* 38:4607-4617 (members = equally likely realisations, probabilities = member fractions):

* wind speed ``U' = max(U exp(s_U e_U(t) - s_U^2/2), U_min)`` — mean-preserving log-normal factor;
* wind direction ``theta' = theta + s_theta e_theta(t)`` (mod 360);
* mixing height ``h' = h exp(s_h e_h(t) - s_h^2/2)``;
* Pasquill-Gifford stability class ``k' = clip(k + round(s_k e_k(t)), 1, 6)``.

The ``e(t)`` are independent standard-normal AR(1) series with lag-1 correlation
``phi = exp(-dt / tau)`` (``tau = correlation_hours``), so errors persist over a few hours as
forecast errors do; ``e(0) ~ N(0, 1)`` and ``e(t) = phi e(t-1) + sqrt(1 - phi^2) n(t)`` keep unit
variance (stationary AR(1), e.g. Wilks 2011, *Statistical Methods in the Atmospheric Sciences*,
3rd ed., §9.3). The same perturbation applies over the whole domain of a gridded field
(a domain-wide error, the dominant mode for a city forecast). The default spreads
(:class:`ecodss.batch.schema.MetPerturbation`: 0.3 in ln U and ln h, 20 deg, half a class) are
ecodss assumptions of the order of day-1 forecast errors; set them from a verification of the
local forecast (:mod:`ecodss.evaluate`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

#: The four standard-normal AR(1) series drawn per member, in this order.
PERTURBED = ("wind_speed", "wind_direction", "mixing_height", "stability_class")


def ar1_normal(rng: np.random.Generator, n_series: int, n_steps: int, phi: float) -> np.ndarray:
    """``(n_series, n_steps)`` stationary AR(1) standard-normal series with lag-1 correlation phi.

    ``e(t) = phi e(t-1) + sqrt(1-phi^2) n(t)`` (Wilks 2011, §9.3) with ``e(0) = n(0)`` is the
    causal convolution ``e(t) = sum_j phi^(t-j) y(j)`` of ``y = (n(0), sqrt(1-phi^2) n(1), ...)``
    with ``phi^k``, computed exactly by FFT (no loop over time).
    """
    noise = rng.standard_normal((n_series, n_steps))
    y = noise * np.sqrt(1.0 - phi * phi)
    y[:, 0] = noise[:, 0]
    kernel = phi ** np.arange(n_steps)
    size = 1 << int(np.ceil(np.log2(2 * n_steps)))
    out = np.fft.irfft(np.fft.rfft(y, size, axis=1) * np.fft.rfft(kernel, size), size, axis=1)
    return out[:, :n_steps]


def perturbation_series(seed: int, n_steps: int, *, step_hours: float = 1.0,
                        correlation_hours: float = 6.0) -> dict[str, np.ndarray]:
    """The member's four standard-normal series (one per :data:`PERTURBED` input) from its seed."""
    phi = float(np.exp(-step_hours / correlation_hours))
    e = ar1_normal(np.random.default_rng(seed), len(PERTURBED), n_steps, phi)
    return dict(zip(PERTURBED, e, strict=True))


def perturb_met(met: xr.Dataset, seed: int, *, wind_speed_sigma_ln: float = 0.3,
                wind_direction_sigma_deg: float = 20.0, mixing_height_sigma_ln: float = 0.3,
                stability_sigma_class: float = 0.5, correlation_hours: float = 6.0,
                min_wind_speed: float = 0.5) -> xr.Dataset:
    """One ensemble member: ``met`` with perturbed wind, mixing height and stability.

    Parameters
    ----------
    met : xarray.Dataset
        Hourly met with a ``time`` dimension and either ``wind_speed`` [m s-1] and
        ``wind_direction`` [deg, from] or ``u``/``v`` [m s-1]; optional ``mixing_height`` [m] and
        ``stability_class`` [1-6]. Other dimensions (``y``, ``x``) get the same perturbation.
    seed : int
        The member's seed (:func:`ecodss.batch.design.ensemble_members`).
    wind_speed_sigma_ln, mixing_height_sigma_ln : float
        Standard deviation of the natural log of the multiplicative factor [1].
    wind_direction_sigma_deg : float
        Standard deviation of the direction error [deg].
    stability_sigma_class : float
        Standard deviation of the class shift before rounding [class].
    correlation_hours : float
        E-folding time of the AR(1) errors [h].
    min_wind_speed : float
        Floor of the perturbed speed [m s-1].

    Returns
    -------
    xarray.Dataset
        Same variables, dims and attributes; ``attrs["ensemble_seed"]`` records the seed.
    """
    times = met["time"].values
    step = float(np.median(np.diff(times)) / np.timedelta64(1, "h")) if len(times) > 1 else 1.0
    e = perturbation_series(seed, len(times), step_hours=step,
                            correlation_hours=correlation_hours)
    series = {k: xr.DataArray(v, dims="time", coords={"time": met["time"]}) for k, v in e.items()}
    out = met.copy()
    speed_factor = np.exp(wind_speed_sigma_ln * series["wind_speed"]
                          - 0.5 * wind_speed_sigma_ln ** 2)
    turn = wind_direction_sigma_deg * series["wind_direction"]
    if "wind_speed" in met:
        out["wind_speed"] = np.maximum(met["wind_speed"] * speed_factor, min_wind_speed)
        out["wind_direction"] = (met["wind_direction"] + turn) % 360.0
    else:
        # rotate (u, v) clockwise by `turn` (direction "from" increases clockwise), then scale
        speed = np.hypot(met["u"], met["v"])
        new_speed = np.maximum(speed * speed_factor, min_wind_speed)
        rad = np.deg2rad(turn)
        u = met["u"] * np.cos(rad) + met["v"] * np.sin(rad)
        v = -met["u"] * np.sin(rad) + met["v"] * np.cos(rad)
        ratio = new_speed / np.maximum(speed, 1e-9)
        out["u"], out["v"] = u * ratio, v * ratio
    if "mixing_height" in met:
        out["mixing_height"] = met["mixing_height"] * np.exp(
            mixing_height_sigma_ln * series["mixing_height"] - 0.5 * mixing_height_sigma_ln ** 2)
    if "stability_class" in met:
        shift = np.round(stability_sigma_class * series["stability_class"])
        out["stability_class"] = np.clip(met["stability_class"] + shift, 1, 6).astype(
            met["stability_class"].dtype)
    for name in out.data_vars:
        out[name].attrs = met[name].attrs
        out[name] = out[name].transpose(*met[name].dims)
    out.attrs = {**met.attrs, "ensemble_seed": int(seed)}
    return out
