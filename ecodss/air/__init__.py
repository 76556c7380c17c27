"""Air-quality models: Gaussian plume (ISC3 regulatory defaults), receptors, NO2 by ARM2.

Kernels (one formula each, cited) are in :mod:`ecodss.air.plume`; the model is
:func:`gaussian_plume`.
"""

from .no2 import arm2_no2, arm2_ratio
from .plume_model import gaussian_plume, period_average
from .receptors import Receptors

__all__ = ["gaussian_plume", "period_average", "Receptors", "arm2_no2", "arm2_ratio"]
