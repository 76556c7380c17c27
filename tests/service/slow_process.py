"""A deliberately slow member workflow for the service's job tests (cancel, restart).

Published by the test server as process ``slow`` (``--process slow=slow_process:member``). Each
member sleeps ``sleep`` seconds, then returns the batch's daily city layout with values that
follow from its parameter ``x`` (AQI = 100 + x), so results can be checked exactly.
"""

import time

import numpy as np
import xarray as xr


def member(ctx):
    time.sleep(float(ctx.params.get("sleep", 0.5)))
    x = float(ctx.params.get("x", 0.0))
    dates = np.array(["2026-01-11", "2026-01-12"], dtype="datetime64[ns]")
    aqi = np.full((1, 2), 100.0 + x)
    return xr.Dataset(
        {"aqi": (("city", "date"), aqi, {"units": "1"}),
         "pm25_daily": (("city", "date"), aqi * 0.5, {"units": "ug m-3"}),
         "alert_level": (("city", "date"), np.zeros((1, 2), np.int8), {"units": "1"})},
        coords={"city": ["Langfang"], "date": dates})
