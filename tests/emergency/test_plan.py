"""Emergency curtailment plan: exhaustive enumeration, the sample's alert levels, PM2.5 targets."""

import itertools

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.emergency import plan
from ecodss.emergency.alerts import REDUCTION_POLLUTANTS, load_rules
from ecodss.errors import ConfigError, MissingFieldError, UnknownFieldError
from ecodss.inventory import Inventory
from ecodss.inventory.measures import Measures, load_grade_rules

POLS = ("SO2", "NOx", "PM10", "VOCs")
GROUP = dict(zip(REDUCTION_POLLUTANTS, POLS, strict=True))
ACTIONS = ("own", "limit", "partial_stop", "stop")
DATES = pd.date_range("2026-01-10", periods=3).values


def _stack(i, enterprise, grade, rates, sector="industry", city=""):
    row = {"id": f"S{i}", "x": 1000.0 * i, "y": 0.0, "stack_height": 50.0,
           "stack_diameter": 2.0, "exit_velocity": 10.0, "exit_temperature": 400.0,
           "sector": sector, "enterprise": enterprise, "grade": grade,
           **dict(zip(POLS, rates, strict=True)), "PM2.5": rates[2] * 0.7}
    if city:
        row["city"] = city
    return row


def _measure(mid, action, eff, share, sector="*", group="production"):
    return {"measure": mid, "horizon": "emergency", "scope": "enterprise", "sector": sector,
            "action": action, **{f"eff_{p}": e for p, e in zip(POLS, eff, strict=True)},
            "eff_PM2.5": eff[2], "cost": share, "cost_basis": "value_added",
            "exclusive_group": group}


def _forecast(pm25=(160.0, 170.0, 165.0), cities=("C1",)):
    values = np.broadcast_to(np.asarray(pm25, float), (len(cities), len(pm25)))
    return xr.Dataset({"PM2.5": (("city", "date"), values.copy())},
                      coords={"city": list(cities), "date": DATES})


def _rules(shares):
    raw = load_rules("2018").model_dump()
    raw["levels"][0]["reduction"] = dict(shares)
    return raw


def _random_case(rng):
    n_ent = int(rng.integers(1, 7))
    n_act = int(rng.integers(1, 4))
    grades = rng.choice(["A", "leading", "B", "C", "D"], n_ent)
    rates = rng.uniform(0.5, 10.0, (n_ent, 4))
    points = [_stack(i, f"E{i}", grades[i], rates[i]) for i in range(n_ent)]
    area = pd.DataFrame({"id": ["A0"], "x": [0.0], "y": [0.0], "width": [1000.0],
                         "height": [1000.0], "sector": ["residential"],
                         **{p: [v] for p, v in zip(POLS, rng.uniform(0.5, 5.0, 4), strict=True)},
                         "PM2.5": [1.0]})
    acts = rng.choice(ACTIONS, n_act)
    acts[0] = rng.choice(["limit", "partial_stop", "stop"])
    eff = rng.uniform(0.05, 1.0, (n_act, 4))
    share = rng.uniform(0.05, 1.0, n_act)
    measures = pd.DataFrame([_measure(f"M{k}", acts[k], eff[k], share[k])
                             for k in range(n_act)])
    n_pol = int(rng.integers(2, 5))
    used = rng.choice(4, n_pol, replace=False)
    shares = {g: (float(rng.uniform(0.02, 0.25)) if i in used else 0.0)
              for i, g in enumerate(REDUCTION_POLLUTANTS)}
    va = rng.uniform(1e5, 1e7, n_ent)
    ents = pd.DataFrame({"enterprise": [f"E{i}" for i in range(n_ent)], "grade": grades,
                         "value_added": va})
    inv = Inventory.from_points(pd.DataFrame(points)).combine(Inventory.from_areas(area))
    return inv, measures, ents, shares, rates, area


def _enumerate(inv, measures, ents, shares, rates, area, n_days=3):
    """Every combination of (no action | one allowed action) per enterprise."""
    rules = load_grade_rules()
    allowed = rules.allowed(ents["grade"].to_numpy(object), measures["action"].to_numpy(object))
    eff = measures[[f"eff_{p}" for p in POLS]].to_numpy(float)
    scale = 86400 * n_days / 1e6
    total = (rates.sum(axis=0) + area[list(POLS)].to_numpy(float)[0]) * scale
    need = np.array([shares[g] for g in REDUCTION_POLLUTANTS]) * total
    options = [[-1] + np.flatnonzero(allowed[e]).tolist() for e in range(len(ents))]
    combos = np.array(list(itertools.product(*options)))  # (n_combo, n_ent)
    chosen = combos >= 0
    e_eff = np.where(chosen[..., None], eff[np.maximum(combos, 0)], 0.0)
    cuts = (e_eff * rates[None] * scale).sum(axis=1)
    costs = np.where(chosen, measures["cost"].to_numpy(float)[np.maximum(combos, 0)]
                     * ents["value_added"].to_numpy(float) * n_days, 0.0).sum(axis=1)
    feasible = (cuts >= need * (1 - 1e-9) - 1e-12).all(axis=1)
    max_cut = cuts.max(axis=0)
    return combos, costs, feasible, need, max_cut


def test_plan_matches_exhaustive_enumeration_on_50_random_cases():
    rng = np.random.default_rng(7)
    n_feasible = n_infeasible = 0
    for _ in range(50):
        inv, measures, ents, shares, rates, area = _random_case(rng)
        result = plan(_forecast(), inv, measures, level=1, enterprises=ents,
                      alert_rules=_rules(shares), temporal=False)
        combos, costs, feasible, need, max_cut = _enumerate(inv, measures, ents, shares, rates,
                                                            area)
        if feasible.any():
            n_feasible += 1
            assert result.status == "optimal"
            order = np.argsort(np.where(feasible, costs, np.inf))
            best = costs[order[0]]
            assert result.cost == pytest.approx(best, rel=1e-9, abs=1e-6)
            runner_up = costs[order[1]] if feasible.sum() > 1 else np.inf
            if runner_up > best * (1 + 1e-6) + 1e-6:  # unique optimum: same plan
                expected = {(f"E{e}", f"M{m}") for e, m in enumerate(combos[order[0]]) if m >= 0}
                got = set(zip(result.table["target"], result.table["measure"], strict=True))
                assert got == expected
        else:
            n_infeasible += 1
            assert result.status == "infeasible"
            report = result.report
            assert report.binding, "an infeasible plan names its binding constraint(s)"
            short = [g for g, n_, m in zip(REDUCTION_POLLUTANTS, need, max_cut, strict=True)
                     if m < n_ - 1e-9 * n_]
            unreachable = report.table[report.table["reason"] == "unreachable"]
            assert {c.split()[0] for c in unreachable["constraint"]} == set(short)
    assert n_feasible >= 15 and n_infeasible >= 5


@pytest.fixture(scope="module")
def sample():
    from ecodss.samples import load_sample
    from ecodss.samples_measures import load_enterprises, load_measures

    case = load_sample()
    inv = Inventory.from_points(case.points, units="t/yr").combine(
        Inventory.from_areas(case.areas, units="t/yr"))
    return inv, load_measures(), load_enterprises()


def _independent_cuts(inv, measures, result):
    """Cuts [t] recomputed from the plan table, the inventory and the measures table only."""
    alert = result.concentrations["alert_day"].sel(city="Shijiazhuang").values
    dates = result.concentrations["date"].values[alert].astype("datetime64[D]")
    hours = (dates[:, None].astype("datetime64[h]") + np.arange(24)).ravel()
    hours = hours - np.timedelta64(8, "h")  # local (CST) days → UTC hours
    table = inv._table("all")
    out, totals = {}, {}
    mt = measures.table.set_index("measure")
    for p in POLS:
        period = inv.hourly(pd.DatetimeIndex(hours), p, kind="all").sum("time").values * 3600 / 1e6
        totals[p] = period.sum()
        cut = 0.0
        for row in result.table.itertuples():
            if row.kind == "enterprise":
                mask = (table["enterprise"] == row.target).to_numpy()
            else:
                mask = (table["sector"] == row.target).to_numpy()
            cut += row.level * mt.loc[row.measure, f"eff_{p}"] * period[mask].sum()
        out[p] = cut
    return out, totals


@pytest.mark.parametrize("level", [1, 2, 3])
def test_sample_plan_meets_required_shares_for_every_level(sample, level):
    inv, measures, ents = sample
    result = plan(_forecast(cities=("Shijiazhuang",)), inv, measures, level=level,
                  enterprises=ents)
    assert result.status == "optimal"
    share = load_rules("2018").levels[level - 1].reduction
    cuts, totals = _independent_cuts(inv, measures, result)
    for g, p in GROUP.items():
        assert cuts[p] >= share[g] * totals[p] * (1 - 1e-7), (g, cuts[p] / totals[p])
    # grades respected: every enterprise action is allowed for its grade
    rules = load_grade_rules()
    ent_rows = result.table[result.table["kind"] == "enterprise"]
    ok = rules.allowed(ent_rows["grade"].to_numpy(object), ent_rows["action"].to_numpy(object))
    assert np.diag(ok).all()
    assert ent_rows["target"].is_unique  # exclusive group: one action per enterprise
    cost = (ent_rows["level"] * ent_rows["target"].map(ents.set_index("enterprise")[
        "value_added"]) * ent_rows["measure"].map(measures.table.set_index("measure")["cost"])
        * ent_rows["days"]).sum()
    assert cost == pytest.approx(ent_rows["cost"].sum(), rel=1e-9)


def test_enforced_grade_minimum(sample):
    inv, measures, ents = sample
    result = plan(_forecast(cities=("Shijiazhuang",)), inv, measures, level=2,
                  enterprises=ents, enforce_grade_minimum=True)
    rules = load_grade_rules()
    assert result.status == "optimal"
    must = ents[ents["grade"].isin(["B", "C", "D"])]["enterprise"]
    rows = result.table.set_index("target")
    assert set(must) <= set(rows.index)
    sev = rules.severity(rows.loc[list(must), "action"].to_numpy(object))
    assert (sev >= rules.guide_severity(ents.set_index("enterprise").loc[list(must),
                                                                         "grade"])).all()


def _two_city_case():
    points = [_stack(0, "E0", "C", (1, 1, 4, 1), city="C1"),
              _stack(1, "E1", "D", (1, 1, 6, 1), city="C2")]
    inv = Inventory.from_points(pd.DataFrame(points))
    measures = pd.DataFrame([_measure("PSTOP", "partial_stop", (0.6,) * 4, 0.5),
                             _measure("STOP", "stop", (1.0,) * 4, 1.0)])
    ents = pd.DataFrame({"enterprise": ["E0", "E1"], "grade": ["C", "D"],
                         "value_added": [1e6, 3e6]})
    # contributions [ug/m3] of each enterprise at each city, per day
    contrib = np.array([[[30, 40, 35], [10, 12, 11]], [[20, 25, 22], [50, 60, 55]]], float)
    sr = xr.Dataset({"contribution": (("source", "receptor", "species", "date"),
                                      contrib[:, :, None, :])},
                    coords={"source": ["E0", "E1"], "receptor": ["C1", "C2"],
                            "species": ["PM2.5"], "date": DATES})
    return inv, measures, ents, sr


def test_pm25_target_uses_source_receptor_matrix():
    inv, measures, ents, sr = _two_city_case()
    fc = _forecast(pm25=(170.0, 185.0, 172.0), cities=("C1", "C2"))
    rules = _rules({"SO2": 0.0, "NOx": 0.0, "PM": 0.0, "VOCs": 0.0})
    result = plan(fc, inv, measures, sr, level=1, enterprises=ents, alert_rules=rules,
                  pm25_target=True, temporal=False)
    assert result.status == "optimal"
    conc = result.concentrations
    assert (conc["pm25_with_plan"].values <= 150.0 + 1e-6).all()
    # independent: with-plan = forecast − Σ level × efficiency × contribution
    eff = {"PSTOP": 0.6, "STOP": 1.0}
    delta = sum(row.level * eff[row.measure] * sr["contribution"].sel(
        source=row.target, species="PM2.5").values for row in result.table.itertuples())
    np.testing.assert_allclose(conc["pm25_with_plan"].values, fc["PM2.5"].values - delta,
                               rtol=1e-12)
    # least cost by enumeration over {none, PSTOP, STOP} for E0 (C: partial_stop only) and E1
    contrib = sr["contribution"].sel(species="PM2.5").values
    best = np.inf
    for a0, a1 in itertools.product((0, 0.6), (0, 0.6, 1.0)):
        red = a0 * contrib[0] + a1 * contrib[1]
        if (fc["PM2.5"].values - red <= 150 + 1e-9).all():
            best = min(best, 3 * (0.5e6 * (a0 > 0) + 3e6 * {0: 0, 0.6: 0.5, 1.0: 1.0}[a1]))
    assert result.cost == pytest.approx(best)
    assert (conc["aqi_with_plan"].values <= conc["aqi"].values).all()


def test_unreachable_pm25_target_is_reported_not_raised():
    inv, measures, ents, sr = _two_city_case()
    fc = _forecast(pm25=(260.0, 280.0, 265.0), cities=("C1", "C2"))
    rules = _rules({"SO2": 0.1, "NOx": 0.0, "PM": 0.0, "VOCs": 0.0})
    result = plan(fc, inv, measures, sr, level=1, enterprises=ents, alert_rules=rules,
                  pm25_target=True, temporal=False)
    assert result.status == "infeasible"
    binding = result.report.binding
    assert binding and all(b.startswith("PM2.5 <= 150") for b in binding)
    assert any("in C1 on 2026-01-11" in b for b in binding)
    row = result.report.table.set_index("constraint").loc[binding[0]]
    assert row["reason"] == "unreachable" and row["max_alone"] < row["required"]
    # the best-effort plan still meets the reachable SO2 share
    assert result.reductions.set_index(["city", "group"]).loc[("C1", "SO2"), "met"]
    assert result.to_dict()["infeasibility"]["binding"] == binding


def test_no_alert_gives_empty_plan():
    inv, measures, ents, _ = _two_city_case()
    result = plan(_forecast(pm25=(60, 70, 80), cities=("C1", "C2")), inv, measures,
                  enterprises=ents, temporal=False)
    assert result.status == "no alert" and result.table.empty and result.cost == 0


def test_plan_input_errors():
    inv, measures, ents, _ = _two_city_case()
    fc = _forecast(cities=("C1", "C2"))
    with pytest.raises(UnknownFieldError, match="grade"):
        plan(fc, inv, measures, level=1, enterprises=ents.assign(grade=["C", "E"]))
    no_grade = Inventory.from_points(pd.DataFrame([_stack(0, "E0", "", (1, 1, 1, 1), city="C1")]))
    with pytest.raises(MissingFieldError, match="grade"):
        plan(fc, no_grade, measures, level=1)
    clash = pd.concat([measures, pd.DataFrame([{**_measure("T", "sector", (0.1,) * 4, 1e5,
                                                           sector="industry", group=""),
                                                "scope": "sector", "cost_basis": "daily"}])])
    with pytest.raises(ConfigError, match="twice"):
        plan(fc, inv, Measures(clash), level=1, enterprises=ents)
    with pytest.raises(MissingFieldError, match="source_receptor"):
        plan(fc, inv, measures, level=1, enterprises=ents, pm25_target=True)
