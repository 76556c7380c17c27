"""Batch scenarios on dask: scenario files, designs, met ensembles, a run store, the runner.

``ecodss.batch.run(spec, client=None, ...)`` runs a scenario file's members as independent dask
tasks, records them in an SQLite run store (:mod:`ecodss.batch.store`) and writes the combined
products; ``ecodss run``, ``ecodss runs`` and ``ecodss cycle`` are its command line
(:mod:`ecodss.batch.cli`). Importing this package stays light: dask loads when a batch runs.
"""

from __future__ import annotations

__all__ = ["run", "BatchResult", "RunStore", "Scenario", "load_scenario_file", "run_cycle"]


def __getattr__(name):  # PEP 562: load the heavy parts on first use
    import importlib

    where = {"run": "runner", "BatchResult": "runner", "RunStore": "store",
             "Scenario": "schema", "load_scenario_file": "schema", "run_cycle": "cycle"}
    if name in where:
        return getattr(importlib.import_module(f"{__name__}.{where[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
