"""Statistical station forecasts (quantile gradient boosting, SARIMAX) for leads of days, and the
predictive distribution of quantile forecasts (:mod:`ecodss.stats.predictive`).

Heavy dependencies (scikit-learn, statsmodels) are imported when a model is fitted; the
forecaster module itself loads on first use, so ``ecodss.stats.predictive`` stays light.
"""


def __getattr__(name):  # PEP 562
    if name == "StationForecaster":
        from .forecaster import StationForecaster

        return StationForecaster
    raise AttributeError(f"module 'ecodss.stats' has no attribute {name!r}")


__all__ = ["StationForecaster"]
