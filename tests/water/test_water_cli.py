"""``ecodss water steady|spill|classify|warn`` through the subcommand handlers (small settings)."""

import argparse

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.water import cli


def run(argv):
    parser = argparse.ArgumentParser(prog="ecodss")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["water", *argv])
    return args.func(args)


def test_steady_sample_writes_cf_netcdf_plot_and_sections(tmp_path, capsys):
    assert run(["steady", "--elements", "4", "--out", str(tmp_path)]) == 0
    with xr.open_dataset(tmp_path / "water_steady.nc") as ds:
        assert ds.attrs["Conventions"].startswith("CF")
        assert ds["DO"].attrs["units"] == "mg/L" and ds.sizes["element"] == 8 * 4
        assert (ds["DO"] > 0).all() and (ds["DO"] < 12).all()
    assert (tmp_path / "water_steady_profile.png").stat().st_size > 10_000
    table = pd.read_csv(tmp_path / "water_sections.csv")
    assert list(table["section"]) == ["UP", "INTAKE1", "OUT"]
    assert "minimum DO" in capsys.readouterr().out


def test_steady_q2k_boulder_creek_matches_qualkw_algae_off(shared_dir, tmp_path):
    water = shared_dir / "water"
    assert run(["steady", "--q2k", str(water / "qual2kw_boulder_creek_BC_1987-08-21.q2k"),
                "--out", str(tmp_path)]) == 0
    ref = pd.read_csv(water / "qual2kw_boulder_creek_noalgae_wq_daily_avg.csv").iloc[1:]
    with xr.open_dataset(tmp_path / "water_steady.nc") as ds:
        # temperature from inflow mixing only (no heat balance): DO still within 0.3 mg/L
        assert np.max(np.abs(ds["DO"].values - ref["DO [mgO2/L]"].to_numpy())) < 0.3


def test_spill_at_an_outfall_reports_downstream_sections_and_conserves_mass(tmp_path, capsys):
    assert run(["spill", "--mass", "500", "--at", "WWTP1", "--element-length", "500",
                "--dt", "600", "--threshold", "0.05", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "water_spill_metrics.csv")
    assert list(table["section"]) == ["INTAKE1", "OUT"]           # UP lies upstream: left out
    assert (np.diff(table["arrival_h"]) > 0).all() and (np.diff(table["peak_h"]) > 0).all()
    assert table["peak_mg_L"].iloc[0] > table["peak_mg_L"].iloc[1]
    with xr.open_dataset(tmp_path / "water_spill.nc") as ds:
        a = ds.attrs
        total = a["mass_out"] + a["mass_withdrawn_total"] + a["mass_remaining"]
        assert total == pytest.approx(a["mass_released"], rel=1e-8)
        assert a["mass_released"] == pytest.approx(500e3)
        # mass through the intake's face + what it withdraws = mass that reached it
        assert ds["mass_withdrawn"].sel(section="INTAKE1") > 0
    assert (tmp_path / "water_spill.png").is_file()
    assert "mass budget" in capsys.readouterr().out


def test_classify_follows_the_gb3838_table(tmp_path, capsys):
    rows = pd.DataFrame({"date": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
                         "section": ["A", "A", "B", "B"],
                         "DO": [8.0, 5.5, 7.0, 6.5], "NH3_N": [0.10, 0.40, 2.50, 0.9],
                         "TP": [0.01, 0.15, 0.1, 0.1]})
    path = tmp_path / "series.csv"
    rows.to_csv(path, index=False)
    out = tmp_path / "classes.csv"
    assert run(["classify", str(path), "--out", str(out)]) == 0
    got = pd.read_csv(out)
    # GB 3838-2002 Table 1: DO 8.0/NH3 0.10/TP 0.01 -> I; DO 5.5 -> III; NH3 2.5 > 2.0 -> worse
    # than V; DO 6.5 II, NH3 0.9 III, TP 0.1 II -> III
    assert got["class_name"].tolist() == ["I", "III", "worse than V", "III"]
    assert got["limiting_item"].tolist()[1:] == ["DO", "NH3-N", "NH3-N"]
    assert "class_of_mean" in capsys.readouterr().out


def test_warn_quick_gives_levels_and_probabilities(tmp_path):
    assert run(["warn", "--items", "NH3_N", "--days", "2", "--train-days", "60",
                "--max-iter", "10", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "water_warning.csv")
    assert len(table) == 2 * 3                                   # days x leads 1-3
    assert table["P_NH3_N_worse"].between(0, 1).all()
    assert set(table["level"]) <= {"none", "yellow", "orange", "red"}
    with xr.open_dataset(tmp_path / "water_warning.nc") as ds:
        assert ds.attrs["target_class"] == 3                     # sections.csv: OUT, class III


@pytest.mark.parametrize("argv", [
    ["classify", "missing.csv"],
    ["spill", "--mass", "10", "--at", "M9:1"],
    ["spill", "--mass", "-1", "--at", "M3:1"],
    ["spill", "--mass", "10", "--at", "M6:9.9"],       # nothing downstream
    ["steady", "--q2k", "missing.q2k"],
    ["warn", "--items", "BOD5"],
])
def test_bad_input_exits_2_with_one_line(argv, tmp_path, capsys):
    assert run([*argv, "--out", str(tmp_path)] if argv[0] != "classify" else argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ecodss water {argv[0]}: error:") and "\n" not in err
