"""Measures table, enterprise table, grade rules, and the decision sample tables."""

import numpy as np
import pandas as pd
import pytest

from ecodss import samples_measures
from ecodss.errors import (
    ConfigError,
    InvalidValueError,
    MissingFieldError,
    OutOfRangeError,
    UnknownFieldError,
)
from ecodss.inventory import Inventory
from ecodss.inventory.measures import Measures, enterprise_table, load_grade_rules


def _row(**kw):
    base = {"measure": "M1", "horizon": "emergency", "scope": "enterprise", "sector": "*",
            "action": "limit", "eff_SO2": 0.3, "cost": 0.3, "cost_basis": "value_added"}
    return pd.DataFrame([{**base, **kw}])


def test_measures_validation_names_the_field():
    m = Measures(_row())
    assert m.efficiencies(["SO2", "NOx"]).tolist() == [[0.3, 0.0]]
    with pytest.raises(OutOfRangeError, match="eff_SO2"):
        Measures(_row(eff_SO2=1.2))
    with pytest.raises(UnknownFieldError, match="eff_SO2"):
        Measures(_row().rename(columns={"eff_SO2": "eff_S02"}))
    with pytest.raises(InvalidValueError, match="horizon"):
        Measures(_row(horizon="someday"))
    with pytest.raises(MissingFieldError, match="cost_basis"):
        Measures(_row().drop(columns="cost_basis"))
    with pytest.raises(InvalidValueError, match="value_added"):
        Measures(_row(scope="sector", action="sector"))
    with pytest.raises(InvalidValueError, match="cost_pollutant"):
        Measures(_row(cost_basis="per_tonne", cost=1000.0, cost_pollutant="SOx"))


def test_additivity_check_refuses_over_100_percent():
    two = pd.concat([_row(exclusive_group=""), _row(measure="M2", eff_SO2=0.8,
                                                     exclusive_group="")])
    with pytest.raises(ConfigError, match="exclusive_group"):
        Measures(two).check_additivity(["steel"])
    Measures(two.assign(exclusive_group="production")).check_additivity(["steel"])


def test_grade_rules_follow_the_2020_guide():
    rules = load_grade_rules()
    actions = ["own", "limit", "partial_stop", "stop"]
    ok = rules.allowed(["A", "leading", "B", "C", "D"], actions)
    # standards.md: A/leading own measures; B limit (以限代停); C partial stop; D stop (or a share)
    assert ok.tolist() == [[True, False, False, False], [True, False, False, False],
                           [False, True, False, False], [False, False, True, False],
                           [False, False, True, True]]
    strict = rules.allowed(["D"], actions, enforce_minimum=True)
    assert strict.tolist() == [[False, False, False, True]]
    with pytest.raises(UnknownFieldError):
        rules.allowed(["E"], actions)


def test_grade_lookups_are_vectorized_and_match_the_rule_table():
    rules = load_grade_rules()
    rng = np.random.default_rng(0)
    grades = rng.choice(rules.order, 500)  # many enterprises
    actions = np.array(rules.actions, dtype=object)
    # reference: the rule table read entry by entry
    guide = [rules.actions.index(rules.grades[g].guide_action) for g in grades]
    np.testing.assert_array_equal(rules.guide_severity(grades), guide)
    np.testing.assert_array_equal(rules.severity(actions), np.arange(len(actions)))
    expected = [[a in rules.grades[g].allowed for a in actions] for g in grades]
    np.testing.assert_array_equal(rules.allowed(grades, actions), expected)
    with pytest.raises(UnknownFieldError, match="E"):
        rules.guide_severity(["A", "E"])


def test_enterprise_takes_its_worst_grade_and_summed_emissions():
    pts = pd.DataFrame({"id": ["a", "b", "c"], "x": 0.0, "y": 0.0, "stack_height": 30.0,
                        "stack_diameter": 1.0, "exit_velocity": 5.0,
                        "exit_temperature": 350.0, "SO2": [1.0, 2.0, 4.0],
                        "sector": ["cement", "cement", "glass"],
                        "enterprise": ["E1", "E1", "E2"], "grade": ["A", "C", "B"]})
    inv = Inventory.from_points(pts)
    ents = pd.DataFrame({"enterprise": ["E1", "E2"], "grade": ["", ""],
                         "value_added": [1e6, 2e6]})
    table = enterprise_table(inv, ents).set_index("enterprise")
    assert table.loc["E1", "grade"] == "C"  # short-board principle
    assert table.loc["E1", "SO2"] == pytest.approx(3.0)
    assert table.loc["E1", "n_stacks"] == 2
    assert table.loc["E2", "value_added"] == 2e6


def test_sample_tables_are_reproducible_and_valid(tmp_path):
    paths = samples_measures.generate(tmp_path)
    for name, path in paths.items():
        assert path.read_bytes() == (samples_measures.bundled_dir() / name).read_bytes(), name
    ms = samples_measures.load_measures()
    assert {"emergency", "long_term"} == set(ms.table["horizon"])
    ms.select(horizon="emergency").check_additivity(
        ["power", "iron_steel", "cement", "coking", "glass", "chemicals", "boilers",
         "residential", "traffic", "agriculture", "dust"])


def test_sample_value_added_follows_the_documented_total():
    ents = samples_measures.load_enterprises()
    expected = 291.39e9 * 0.85 * 0.5 / 365.0  # CNY/d: bulletin × industry share × domain share
    assert ents["value_added"].sum() == pytest.approx(expected, rel=1e-3)
    from ecodss.samples import load_sample

    pts = load_sample().points
    assert set(ents["enterprise"]) == set(pts["enterprise"])
    grade = pts.groupby("enterprise")["grade"].first()
    assert (ents.set_index("enterprise")["grade"] == grade.reindex(ents["enterprise"])).all()
    share = ents.groupby("sector")["value_added"].sum() / ents["value_added"].sum()
    for sector, s in samples_measures.SECTOR_VA_SHARE.items():
        assert share[sector] == pytest.approx(s, rel=1e-3)


def test_population_grid_sums_to_the_census_populations():
    from ecodss.samples_regional import CITIES

    pop = samples_measures.population_grid()
    assert pop.shape == (100, 100)
    assert float(pop.sum()) == pytest.approx(sum(c[5] for c in CITIES) * 1e6, rel=1e-4)
    assert (pop.values >= 0).all()
    # the densest cell lies within 12 km of a city centre
    iy, ix = np.unravel_index(int(np.argmax(pop.values)), pop.shape)
    from ecodss.samples_regional import grid

    g = grid()
    xy = samples_measures.regional._cities(g)[["x", "y"]].to_numpy(float)
    assert np.hypot(xy[:, 0] - g.x[ix], xy[:, 1] - g.y[iy]).min() < 12_000
