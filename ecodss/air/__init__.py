"""Air-quality models: Gaussian plume (ISC3 regulatory defaults), Gaussian puff, Eulerian grid
model (:mod:`ecodss.air.eulerian`), receptors, NO2 by ARM2.

Kernels (one formula each, cited) are in :mod:`ecodss.air.plume`; the model is
:func:`gaussian_plume`.
"""

from .no2 import arm2_no2, arm2_ratio
from .plume_model import gaussian_plume, period_average
from .puff import gaussian_puff
from .receptors import Receptors

__all__ = ["gaussian_plume", "gaussian_puff", "period_average", "Receptors", "arm2_no2",
           "arm2_ratio"]
