"""NO2 from modelled NOx: the Ambient Ratio Method 2 (ARM2), as in AERMOD.

ARM2 (Podrez 2015, *Atmos. Environ.* 109:237–245, Eq. 1; RTP Environmental 2013, *Ambient Ratio
Method Version 2 (ARM2) for use with AERMOD for 1-hr NO2 modeling*, Development and Evaluation
Report; adopted in AERMOD 15181 and EPA's 2017 *Guideline on Air Quality Models*, 40 CFR 51 App. W
§4.2.3.4) scales hourly NOx by an empirical NO2/NOx ratio, a sixth-order polynomial of the NOx
concentration in ppb fitted to U.S. monitoring data, bounded by a minimum (default 0.5) and a
maximum (default 0.9) ratio.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..units import ugm3_to_ppb
from ..validation import check_range

#: ARM2 polynomial coefficients c0…c6 for NOx in ppb (Podrez 2015, Eq. 1).
ARM2_COEFFICIENTS = (1.2441, -2.7383e-3, -5.6062e-6, 3.4555e-8, -5.8345e-11, 4.2795e-14,
                     -1.1723e-17)


def arm2_ratio(nox_ppb, min_ratio: float = 0.5, max_ratio: float = 0.9):
    """NO2/NOx ratio from the ARM2 polynomial, clipped to [min_ratio, max_ratio] [dimensionless]."""
    check_range(min_ratio, "min_ratio", 0.0, 1.0)
    check_range(max_ratio, "max_ratio", min_ratio, 1.0)
    ratio = np.polynomial.polynomial.polyval(nox_ppb, ARM2_COEFFICIENTS)
    return np.clip(ratio, min_ratio, max_ratio)


def arm2_no2(nox_ugm3, min_ratio: float = 0.5, max_ratio: float = 0.9,
             temperature: float = 298.15, pressure: float = 101325.0):
    """Hourly NO2 [µg/m³] from hourly NOx expressed as NO2 [µg/m³] by ARM2.

    The NOx concentration is converted to ppb (as NO2, at ``temperature`` [K] and ``pressure`` [Pa];
    AERMOD uses 25 °C and 1 atm) for the ratio. Works on numpy and xarray (dask) inputs.
    """
    def _kernel(nox):
        return nox * arm2_ratio(ugm3_to_ppb(nox, "NO2", temperature, pressure),
                                min_ratio, max_ratio)

    if isinstance(nox_ugm3, xr.DataArray):
        out = xr.apply_ufunc(_kernel, nox_ugm3, dask="parallelized", output_dtypes=[float])
        out.attrs = {**nox_ugm3.attrs, "units": "ug m-3",
                     "standard_name": "mass_concentration_of_nitrogen_dioxide_in_air",
                     "long_name": "NO2 from modelled NOx by ARM2 (Podrez 2015)"}
        return out.rename("NO2")
    return _kernel(np.asarray(nox_ugm3, float))
