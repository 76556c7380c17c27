"""Fixtures of the batch tests: a very cheap member workflow importable by subprocess runners."""

import os
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: A cheap, deterministic member: the one-box formula C = C_b + E / (U h L) on series drawn from
#: the member's seed, after an optional pause so that a kill lands in the middle of a batch. With
#: ``trace`` (a folder), a member leaves a file named by its label there when it starts.
CHEAP_MEMBER = textwrap.dedent('''
    import pathlib
    import time

    import numpy as np
    import xarray as xr


    def member(ctx):
        if ctx.params.get("trace"):
            pathlib.Path(ctx.params["trace"], ctx.label).touch()
        time.sleep(float(ctx.params.get("pause", 0.0)))
        if ctx.params.get("explode"):
            raise RuntimeError("member asked to fail")
        rng = np.random.default_rng(int(ctx.params.get("seed", 0)))
        wind = rng.uniform(1.0, 5.0, 48)
        height = rng.uniform(200.0, 1200.0, 48)
        emission = 1000.0 * (1.0 - float(ctx.params.get("cut", 0.0)))
        conc = 30.0 + emission * 1e6 / (wind * height * 60e3)
        return xr.Dataset({"pm25": ("time", conc, {"units": "ug m-3"})},
                          coords={"time": np.arange(48)})
''')


@pytest.fixture
def cheap_workflow(tmp_path, monkeypatch):
    """``cheapmember:member`` importable here and in subprocesses (PYTHONPATH)."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "cheapmember.py").write_text(CHEAP_MEMBER)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(folder), str(REPO)]))
    yield "cheapmember:member"
    sys.modules.pop("cheapmember", None)
