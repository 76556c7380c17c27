"""Water quality: river network and solvers, classic solutions, lakes, spills, GB 3838, warning.

Light on import: only the closed-form solutions are imported here; the network classes and
solvers load on first use (``ecodss.water.RiverNetwork`` ...), and the submodules
(``ecodss.water.lake``, ``gb3838``, ``spill``, ``warning``, ...) hold the rest.
"""

from .analytic import (
    ade_slug,
    critical_point,
    ogata_banks,
    streeter_phelps,
    streeter_phelps_chain,
    van_genuchten_alves,
)

#: Names loaded on first use (they import pandas, scipy.sparse and xarray).
_LAZY = {"RiverNetwork": "network", "solve_steady": "steady", "solve_dynamic": "dynamic",
         "ConservativeTracer": "kinetics", "FirstOrderDecay": "kinetics",
         "Qual2KKinetics": "kinetics", "Qual2KRates": "kinetics", "read_q2k": "q2k",
         "load_sample_river": "sample_network"}


def __getattr__(name):  # PEP 562
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"ecodss.water.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'ecodss.water' has no attribute {name!r}")


__all__ = ["streeter_phelps", "critical_point", "streeter_phelps_chain", "ogata_banks",
           "van_genuchten_alves", "ade_slug", *_LAZY]
