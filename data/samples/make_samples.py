"""Regenerate the bundled sample case in this folder: ``python data/samples/make_samples.py``.

The files are a pure function of the seed (see README.md); README.md itself is not touched.
"""

from pathlib import Path

from ecodss.samples import SEED, generate

if __name__ == "__main__":
    for path in generate(Path(__file__).resolve().parent, seed=SEED).values():
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB)")
