"""Verify two reference forecasts of Beijing daily PM2.5 for 2014 and write the report.

Data: the UCI Beijing PM2.5 file (U.S. Embassy monitor, 2010–2014) in ``../shared`` beside the
repository, or a path given on the command line. Forecasts of the daily mean (China Standard
Time days, at least 18 valid hours as in the data README):

* persistence — tomorrow = today (lead 1 day);
* climatology — the 2010–2013 mean of the calendar month, with the 10/50/90 % monthly
  climatological quantiles as its probabilistic forecast.

Usage::

    python examples/beijing_verification.py [PRSA.csv] [--out beijing-verification]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ecodss.evaluate import (
    climatology,
    climatology_quantiles,
    contingency,
    continuous_scores,
    persistence,
    verification_report,
)
from ecodss.io.stations import read_prsa
from ecodss.timeutil import daily_mean

DEFAULT = (Path(__file__).resolve().parents[1].parent / "shared" / "air" / "beijing_pm25"
           / "PRSA_data_2010.1.1-2014.12.31.csv")
TRAIN = slice("2010-01-01", "2013-12-31")
TEST = slice("2014-01-01", "2014-12-31")
LEVELS = [0.1, 0.5, 0.9]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prsa", nargs="?", default=str(DEFAULT), help="PRSA CSV file")
    parser.add_argument("--out", default="beijing-verification", help="output folder")
    args = parser.parse_args(argv)

    hourly = read_prsa(args.prsa)["pm25"].isel(station=0)
    daily = daily_mean(hourly, min_valid=18).to_series()  # CST calendar days
    forecasts = {
        "persistence": persistence(daily, lead=1),
        "climatology": climatology(daily, train=TRAIN, by="month"),
    }
    quantiles = climatology_quantiles(daily, LEVELS, train=TRAIN, by="month")
    obs_2014 = daily[TEST]
    result = verification_report(obs_2014, {k: v[TEST] for k, v in forecasts.items()},
                                 quantiles=quantiles[TEST], reference="persistence",
                                 out_dir=args.out, title="Beijing daily PM2.5, 2014")

    pairs = obs_2014.notna() & forecasts["persistence"][TEST].notna()
    s = continuous_scores(obs_2014[pairs], forecasts["persistence"][TEST][pairs])
    t = contingency(obs_2014[pairs], forecasts["persistence"][TEST][pairs], threshold=150.0)
    print(f"persistence, 2014 ({int(s['n'])} days): RMSE {s['rmse']:.1f} ug/m3, R {s['r']:.2f}, "
          f"heavy-day POD {t.pod:.2f}, FAR {t.far:.2f}, TS {t.ts:.2f}")
    print("(data README: 354 days, RMSE 73.0, R 0.59, POD 0.53, FAR 0.46, TS 0.37)")
    print(result["scores"]["continuous"].round(3).to_string())
    print(result["scores"]["probabilistic"].round(3).to_string(index=False))
    print(f"report in {args.out}/")
    return result


if __name__ == "__main__":
    main()
