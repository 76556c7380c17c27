"""Designs: Latin-hypercube stratification, factorial products, independent ensemble seeds."""

import numpy as np

from ecodss.batch.design import ensemble_members, latin_hypercube, member_label, members
from ecodss.batch.schema import Scenario


def test_latin_hypercube_one_point_per_stratum():
    n = 50
    rows = latin_hypercube({"a": (0.0, 0.6), "b": (10.0, 20.0)}, n, seed=3)
    assert len(rows) == n
    for name, (lo, hi) in {"a": (0.0, 0.6), "b": (10.0, 20.0)}.items():
        v = np.array([r[name] for r in rows])
        assert v.min() >= lo and v.max() <= hi
        strata = np.floor((v - lo) / (hi - lo) * n).astype(int).clip(0, n - 1)
        assert sorted(strata) == list(range(n))  # McKay et al. (1979): each stratum once


def test_latin_hypercube_is_reproducible_from_seed():
    f = {"a": (0.0, 1.0)}
    assert latin_hypercube(f, 5, seed=1) == latin_hypercube(f, 5, seed=1)
    assert latin_hypercube(f, 5, seed=1) != latin_hypercube(f, 5, seed=2)


def test_product_and_fixed_parameters():
    sc = Scenario(name="p", workflow="box_model", parameters={"level": 1},
                  scenario={"kind": "product", "factors": {"cut_power": [0, 0.5],
                                                           "cut_dust": [0, 0.2, 0.4]}})
    rows = members(sc)
    assert len(rows) == 6 and all(r["level"] == 1 for r in rows)
    assert {(r["cut_power"], r["cut_dust"]) for r in rows} == {
        (p, d) for p in (0, 0.5) for d in (0, 0.2, 0.4)}


def test_ensemble_members_control_and_distinct_seeds():
    rows = ensemble_members(10, seed=7, control=True, perturbation={"wind_speed_sigma_ln": 0.3})
    assert rows[0]["perturb"] is False and all(r["perturb"] for r in rows[1:])
    assert len({r["ensemble_seed"] for r in rows}) == 10
    assert rows == ensemble_members(10, seed=7, control=True,
                                    perturbation={"wind_speed_sigma_ln": 0.3})


def test_quick_keeps_first_members():
    sc = Scenario(name="q", workflow="box_model", quick={"members": 3},
                  scenario={"kind": "latin_hypercube", "n": 20, "factors": {"cut_power": [0, 1]}})
    assert members(sc.quick_version()) == members(sc)[:3]
    assert member_label(7, 50) == "m007" and member_label(7, 5000) == "m0007"
