"""Regenerate the river sample files in this folder (seeded, deterministic)."""

from pathlib import Path

from ecodss.samples_river import write_river_sample

if __name__ == "__main__":
    print(write_river_sample(Path(__file__).resolve().parent))
