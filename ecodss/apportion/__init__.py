"""Source apportionment: receptor models (PMF, CMB) and source-oriented source-receptor matrices.

Only numpy/pandas are imported here; matplotlib, scipy and dask load inside the functions that
use them.
"""

from ecodss.apportion.pmf import PMFResult, pmf
from ecodss.apportion.pmf_error import bootstrap, disp, fpeak
from ecodss.apportion.uncertainty import (
    apply_categories,
    categorize,
    fill_missing,
    signal_to_noise,
    uncertainty_from_mdl,
)

__all__ = ["PMFResult", "pmf", "bootstrap", "disp", "fpeak", "apply_categories", "categorize",
           "fill_missing", "signal_to_noise", "uncertainty_from_mdl"]
