"""Scenario files: the bundled ones validate; malformed ones give one line with file:line:field."""

import re
from pathlib import Path

import pytest

from ecodss import ConfigError
from ecodss.batch.cli import main
from ecodss.batch.schema import load_scenario_file

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
name: ok
workflow: box_model
model: models/city_plume.yaml
scenario:
  kind: list
  members: [{cut_power: 0.1}]
"""


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_scenarios_validate(path):
    sc = load_scenario_file(path)
    assert Path(sc.model).is_file()
    assert sc.identity() == load_scenario_file(path).identity()  # stable run key


# (file text, expected line, field named in the message)
MALFORMED = {
    "wrong type": (GOOD.replace("members: [{cut_power: 0.1}]", "members: 3"), 6,
                   "scenario.members"),
    "unknown model": (GOOD.replace("city_plume", "city_plum"), 3, "model"),
    "missing input file": (GOOD + "inputs:\n  met: nowhere/met.csv\n", 8, "inputs.met"),
    "impossible chunking": (GOOD + "dask:\n  chunks: {time: -24}\n", 8, "dask.chunks"),
    "chunk along unknown dim": (GOOD + "dask:\n  chunks: {tiem: 24}\n", 8, "dask.chunks"),
    "unknown field": (GOOD + "outputs:\n  formt: netcdf\n", 8, "outputs.formt"),
    "unknown scheduler": (GOOD + "dask:\n  scheduler: mpi\n", 8, "dask.scheduler"),
    "parameter the workflow lacks": (GOOD.replace("cut_power", "wind"), 6,
                                     "scenario.members.0.wind"),
    "bad walltime": (GOOD + "dask:\n  jobqueue:\n    walltime: 2h\n", 9,
                     "dask.jobqueue.walltime"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_names_file_line_and_field(tmp_path, case):
    text, line, field = MALFORMED[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_scenario_file(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: field {field!r}")


def test_cli_exit_code_2_and_one_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(MALFORMED["unknown model"][0])
    assert main(["run", str(path), "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(r"bad\.yaml:3: field 'model'", err[0])


def test_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nscenario: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+: invalid YAML"):
        load_scenario_file(path)


def test_identity_ignores_scheduler_but_not_design(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text(GOOD)
    b = tmp_path / "b.yaml"
    b.write_text(GOOD + "dask:\n  scheduler: processes\n  workers: 4\n")
    c = tmp_path / "c.yaml"
    c.write_text(GOOD.replace("0.1", "0.2"))
    ids = [load_scenario_file(p).identity() for p in (a, b, c)]
    assert ids[0] == ids[1] != ids[2]
