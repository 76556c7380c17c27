"""Reproduce EPA's ISCST3 TEST-ST case (no building) with ecodss and compare to ISCST3.

Needs the reference folder ``../shared/air/iscst3_testst`` beside the repository.

    python examples/isc3_test_case.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

import ecodss
from ecodss.air import gaussian_plume, period_average
from ecodss.io import read_rammet

CASE = Path(__file__).resolve().parents[1].parent / "shared" / "air" / "iscst3_testst"


def main():
    met = read_rammet(CASE / "PREPIT.ASC").isel(time=slice(0, 240))  # ISC DAYRANGE 1-10
    stack = ecodss.Inventory.from_points(pd.DataFrame(dict(
        id=["STACK1"], x=[0.0], y=[0.0], stack_height=[35.0], stack_diameter=[2.4],
        exit_velocity=[11.7], exit_temperature=[432.0], SO2=[1.0])))
    rec = ecodss.Receptors.polar(0, 0, [100, 300, 1000, 3000, 10000], np.arange(10, 361, 10))
    ds = gaussian_plume(stack, met, rec, pollutant="SO2", anemometer_height=6.096,
                        temporal=False)
    ref = np.loadtxt(CASE / "nobldg_reference" / "isc_rural_period.plt", comments="*",
                     usecols=2)
    ours = period_average(ds).values
    print(f"10-day mean, 180 receptors: max |ecodss - ISCST3| = {np.abs(ours - ref).max():.2e} "
          f"ug/m3 (ISC prints 5 decimals); highest {ours.max():.4f} vs {ref.max():.4f}")


if __name__ == "__main__":
    main()
