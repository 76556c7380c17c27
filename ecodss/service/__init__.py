"""HTTP service for the decision-support dashboard (FastAPI): models, AQI, alerts, jobs, results.

``create_app(store_path)`` (:mod:`ecodss.service.app`) builds the application; ``ecodss serve``
runs it under uvicorn and ``ecodss keys`` manages its API keys (:mod:`ecodss.service.cli`). Jobs
follow OGC API – Processes and run through the batch runner (:func:`ecodss.batch.run`), recorded
in the same SQLite run store as batch runs, so they survive a restart. FastAPI is imported only
here, never by ``import ecodss``.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name):  # PEP 562: FastAPI loads only when the service is used
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
