"""Regenerate the decision sample tables in this folder: ``python data/samples/measures/make_measures.py``.

The files are a pure function of the seed (see ../README.md, "Decision data").
"""

from pathlib import Path

from ecodss.samples_measures import SEED, generate

if __name__ == "__main__":
    for path in generate(Path(__file__).resolve().parent, seed=SEED).values():
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB)")
