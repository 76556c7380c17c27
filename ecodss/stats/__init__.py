"""Statistical station forecasts (quantile gradient boosting, SARIMAX) for leads of days.

Heavy dependencies (scikit-learn, statsmodels) are imported when a model is fitted.
"""

from .forecaster import StationForecaster

__all__ = ["StationForecaster"]
