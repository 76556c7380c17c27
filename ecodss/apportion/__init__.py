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

#: Source-oriented and CMB entry points, loaded on first use (they import xarray and the models).
_LAZY = {"cmb": "cmb", "source_receptor": "source_receptor", "zero_out_check": "source_receptor",
         "compare_apportionment": "bridge"}


def __getattr__(name):  # PEP 562
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"ecodss.apportion.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'ecodss.apportion' has no attribute {name!r}")


__all__ = ["PMFResult", "pmf", "bootstrap", "disp", "fpeak", "apply_categories", "categorize",
           "fill_missing", "signal_to_noise", "uncertainty_from_mdl", *_LAZY]
