"""Regenerate the small tables of the regional sample (cities, sector totals, boundary, domain).

The large fields (emissions.nc, met.nc) are not committed: ``ecodss.samples_regional`` generates
them into the user cache on first use. ``--all`` writes them here too (for inspection).
"""

import sys
from pathlib import Path

from ecodss import samples_regional

if __name__ == "__main__":
    out = Path(__file__).resolve().parent
    paths = samples_regional.generate(out, large="--all" in sys.argv[1:])
    for p in paths.values():
        print(p)
