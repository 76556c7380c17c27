"""Control measures, enterprise data and the emergency actions allowed per performance grade.

A **measures table** (one row per measure, :class:`Measures`) says what a measure removes and what
it costs:

============================  ================================================================
column                        meaning
============================  ================================================================
``measure``                   unique id
``name``                      description (optional)
``horizon``                   ``emergency`` (days of an alert) or ``long_term`` (attainment)
``scope``                     ``enterprise`` (one enterprise's point sources, all or nothing)
                              or ``sector`` (the sector's emissions in a city/region, a
                              penetration between 0 and ``max_penetration``)
``sector``                    sector the measure applies to, ``*`` = any
``action``                    enterprise scope: the action class of the grade rules (``own``,
                              ``limit``, ``partial_stop``, ``stop``); sector scope: ``sector``
                              or ``control``
``eff_<pollutant>``           removal efficiency [0–1] of each pollutant at full application
                              (missing columns = 0); production limits cut every pollutant by
                              the production share
``cost``, ``cost_basis``      ``per_tonne`` [CNY t-1 of ``cost_pollutant`` removed],
                              ``annual`` [CNY yr-1], ``daily`` [CNY d-1] at full application, or
                              ``value_added`` [1]: share of the enterprise's daily value added
                              lost (production limits)
``cost_pollutant``            reference pollutant of ``per_tonne`` costs
``max_penetration``           largest applicable share [0–1] (default 1)
``exclusive_group``           measures of one group are alternatives on the same emissions (at
                              most one per enterprise; penetrations summing to <= 1 per sector)
``source``                    where the numbers come from (optional)
============================  ================================================================

Measures combine **additively** on the emissions they cover (the linear approximation of GAINS,
Amann et al. 2011, Environ. Model. Softw. 26:1489, §2.3): alternatives must share an
``exclusive_group``, and :meth:`Measures.check_additivity` refuses tables whose non-exclusive
measures could remove more than 100 % of a pollutant.

An **enterprise table** (:func:`enterprise_table`) gives per enterprise its sector, performance
grade (A, leading, B, C, D) and daily value added [CNY d-1]. The **grade rules**
(:func:`load_grade_rules`, ``ecodss/data/emergency_grades.yaml``) say which action classes each
grade may take during an alert (MEE 2020 technical guide, 环办大气函〔2020〕340号: A/leading their
own measures, B limit, C partial stop, D stop).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from .. import config
from ..errors import ConfigError, DataFileError, InvalidValueError, MissingFieldError
from ..validation import (
    check_finite,
    check_nonnegative,
    check_range,
    reject_unknown_fields,
    require_fields,
)
from .inventory import POLLUTANTS

HORIZONS = ("emergency", "long_term")
SCOPES = ("enterprise", "sector")
SECTOR_ACTIONS = ("sector", "control")
#: Units of ``cost`` by ``cost_basis``.
COST_BASES = {"per_tonne": "CNY t-1", "annual": "CNY yr-1", "daily": "CNY d-1",
              "value_added": "1"}
EFFICIENCY_COLUMNS = tuple(f"eff_{p}" for p in POLLUTANTS)
MEASURE_REQUIRED = ("measure", "horizon", "scope", "sector", "action", "cost", "cost_basis")
MEASURE_OPTIONAL = ("name", "cost_pollutant", "max_penetration", "exclusive_group", "source")
ENTERPRISE_REQUIRED = ("enterprise", "grade", "value_added")
ENTERPRISE_OPTIONAL = ("name", "sector", "city", "n_stacks")
#: Any sector.
ANY = "*"


# ---------------------------------------------------------------------------------------------
# grade rules
# ---------------------------------------------------------------------------------------------
class GradeRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allowed: list[str]
    guide_action: str = "none"
    note: str = ""


class GradeRules(BaseModel):
    """Emergency action classes allowed per enterprise performance grade (best grade first)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    sources: list[str]
    actions: list[str]
    grades: dict[str, GradeRule]

    @model_validator(mode="after")
    def _check(self):
        if not self.actions or self.actions[0] != "none":
            raise ConfigError(f"grade rules {self.name!r}: actions must start with 'none'")
        for g, rule in self.grades.items():
            unknown = [a for a in [*rule.allowed, rule.guide_action] if a not in self.actions]
            if unknown:
                raise ConfigError(f"grade rules {self.name!r}: grade {g!r} names unknown "
                                  f"action(s) {unknown}; known {self.actions}")
        return self

    @property
    def order(self) -> list[str]:
        """Grades from best to worst (file order)."""
        return list(self.grades)

    def severity(self, actions) -> np.ndarray:
        """Rank of each action class (0 = none); unknown classes raise."""
        actions = np.asarray(actions, dtype=object)
        reject_unknown_fields(set(actions.tolist()), self.actions, f"grade rules {self.name!r}")
        return pd.Index(self.actions).get_indexer(actions.ravel()).reshape(actions.shape)

    def allowed(self, grades, actions, *, enforce_minimum: bool = False) -> np.ndarray:
        """``(n_grades_given, n_actions)`` bool: may an enterprise of this grade take the action?

        With ``enforce_minimum`` actions milder than the grade's ``guide_action`` are refused.
        """
        grades = np.asarray(grades, dtype=object)
        reject_unknown_fields(set(grades.tolist()), self.order, f"grade rules {self.name!r}")
        sev = self.severity(actions)
        table = np.array([[a in self.grades[g].allowed for a in self.actions]
                          for g in self.order])  # (grades in rules, action classes)
        g_idx = pd.Index(self.order).get_indexer(grades.ravel())
        ok = table[g_idx][:, sev]
        if enforce_minimum:
            guide = self.severity([self.grades[g].guide_action for g in self.order])[g_idx]
            ok &= sev[None, :] >= guide[:, None]
        return ok

    def guide_severity(self, grades) -> np.ndarray:
        """Rank of each grade's guide action (0 = no minimum)."""
        grades = np.asarray(grades, dtype=object)
        reject_unknown_fields(set(grades.ravel().tolist()), self.order,
                              f"grade rules {self.name!r}")
        guide = self.severity([self.grades[g].guide_action for g in self.order])  # per rule grade
        return guide[pd.Index(self.order).get_indexer(grades.ravel())].reshape(grades.shape)

    def worst(self, grades: pd.Series, by) -> pd.Series:
        """Worst grade per group ("short-board principle": a plant takes its worst grade)."""
        rank = grades.map({g: i for i, g in enumerate(self.order)})
        return rank.groupby(by).max().map(dict(enumerate(self.order)))


def load_grade_rules(rules: str | os.PathLike | Mapping | GradeRules = "2020") -> GradeRules:
    """Grade rules by name (``"2020"`` = bundled file), YAML path, mapping or instance."""
    return config.load_rules(GradeRules, rules, bundled={"2020": "data/emergency_grades.yaml"},
                             what="grade rules")


# ---------------------------------------------------------------------------------------------
# measures
# ---------------------------------------------------------------------------------------------
def _text(df: pd.DataFrame, col: str, default: str = "") -> pd.Series:
    if col not in df.columns:
        return pd.Series(default, index=df.index, dtype=object)
    return df[col].where(df[col].notna(), default).astype(str).str.strip()


def _choice(values: pd.Series, allowed, field: str, ids, label: str) -> None:
    bad = ~values.isin(list(allowed)).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(f"{field}={values.iloc[i]!r} must be one of {list(allowed)}",
                                field=field, where=f"{label} {ids[i]!r}")


def _number(df, col, ids, label, default=None) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), default, float)
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce")
    if default is not None:
        num = num.where(raw.notna(), default)
    bad = (num.isna() & raw.notna()).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(f"{col}={raw.iloc[i]!r} is not a number", field=col,
                                where=f"{label} {ids[i]!r}")
    values = num.to_numpy(float, na_value=np.nan)
    check_finite(values, col, ids=ids, kind=label)
    return values


def validate_measures(df: pd.DataFrame) -> pd.DataFrame:
    """A validated copy of a measures table (columns as in the module docstring)."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidValueError(f"measures must be a DataFrame, got {type(df).__name__}",
                                where="measures")
    df = df.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    where = f"measures table ({len(df)} rows)"
    reject_unknown_fields(df.columns, MEASURE_REQUIRED + MEASURE_OPTIONAL + EFFICIENCY_COLUMNS,
                          where)
    require_fields(df.columns, MEASURE_REQUIRED, where)
    ids = _text(df, "measure").to_numpy(dtype=object)
    label = "measure"
    empty = ids == ""
    if empty.any():
        raise InvalidValueError("measure id is empty", field="measure",
                                where=f"measure #{int(np.flatnonzero(empty)[0])}")
    dup = pd.Series(ids).duplicated().to_numpy()
    if dup.any():
        raise InvalidValueError(f"duplicate measure id {ids[np.flatnonzero(dup)[0]]!r}",
                                field="measure", where=where)
    out = {"measure": ids, "name": _text(df, "name").to_numpy(dtype=object)}
    for col, allowed in (("horizon", HORIZONS), ("scope", SCOPES),
                         ("cost_basis", tuple(COST_BASES))):
        values = _text(df, col)
        _choice(values, allowed, col, ids, label)
        out[col] = values.to_numpy(dtype=object)
    out["sector"] = _text(df, "sector", ANY).replace("", ANY).to_numpy(dtype=object)
    out["action"] = _text(df, "action").to_numpy(dtype=object)
    sector_scope = out["scope"] == "sector"
    _choice(pd.Series(out["action"][sector_scope]), SECTOR_ACTIONS, "action", ids[sector_scope],
            label)
    for col in EFFICIENCY_COLUMNS:
        eff = _number(df, col, ids, label, default=0.0)
        check_range(eff, col, 0.0, 1.0, ids=ids, kind=label)
        out[col] = eff
    cost = _number(df, "cost", ids, label)
    check_nonnegative(cost, "cost", ids=ids, kind=label)
    out["cost"] = cost
    va = out["cost_basis"] == "value_added"
    check_range(cost[va], "cost", 0.0, 1.0, ids=ids[va], kind=label + " (value_added share)")
    bad_va = va & sector_scope
    if bad_va.any():
        i = int(np.flatnonzero(bad_va)[0])
        raise InvalidValueError("cost_basis='value_added' needs scope='enterprise' (value added "
                                "is known per enterprise)", field="cost_basis",
                                where=f"{label} {ids[i]!r}")
    ref = _text(df, "cost_pollutant")
    per_t = out["cost_basis"] == "per_tonne"
    _choice(ref[per_t], POLLUTANTS, "cost_pollutant", ids[per_t], label)
    out["cost_pollutant"] = ref.to_numpy(dtype=object)
    pen = _number(df, "max_penetration", ids, label, default=1.0)
    check_range(pen, "max_penetration", 0.0, 1.0, ids=ids, kind=label)
    out["max_penetration"] = pen
    out["exclusive_group"] = _text(df, "exclusive_group").to_numpy(dtype=object)
    out["source"] = _text(df, "source").to_numpy(dtype=object)
    return pd.DataFrame(out)


class Measures:
    """A validated measures table (see the module docstring for the columns)."""

    def __init__(self, table: pd.DataFrame):
        self._table = validate_measures(table)

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> Measures:
        try:
            df = pd.read_csv(path, dtype={c: str for c in ("measure", "name", "horizon", "scope",
                                                            "sector", "action", "cost_basis",
                                                            "cost_pollutant", "exclusive_group",
                                                            "source")}, keep_default_na=False,
                             na_values={c: [""] for c in EFFICIENCY_COLUMNS
                                        + ("cost", "max_penetration")})
        except FileNotFoundError:
            raise DataFileError(f"{path}: no such measures file") from None
        return cls(df)

    @classmethod
    def coerce(cls, measures) -> Measures:
        """A :class:`Measures` from an instance, a DataFrame or a CSV path."""
        if isinstance(measures, Measures):
            return measures
        if isinstance(measures, pd.DataFrame):
            return cls(measures)
        return cls.from_csv(measures)

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        counts = self._table.groupby(["horizon", "scope"]).size().to_dict()
        return f"Measures({len(self)} measures: {counts})"

    def select(self, **criteria) -> Measures:
        """Subset by column values, e.g. ``select(horizon="emergency", scope="sector")``."""
        reject_unknown_fields(criteria, ("horizon", "scope", "sector", "action", "measure",
                                         "exclusive_group", "cost_basis"), "Measures.select")
        mask = np.ones(len(self._table), bool)
        for col, wanted in criteria.items():
            wanted = [wanted] if isinstance(wanted, str) else list(wanted)
            mask &= self._table[col].isin(wanted).to_numpy()
        out = Measures.__new__(Measures)
        out._table = self._table.loc[mask].reset_index(drop=True)
        return out

    def efficiencies(self, pollutants=POLLUTANTS) -> np.ndarray:
        """Removal efficiencies ``(measure, pollutant)`` [1]."""
        reject_unknown_fields(pollutants, POLLUTANTS, "Measures.efficiencies")
        return self._table[[f"eff_{p}" for p in pollutants]].to_numpy(float)

    def applies(self, sectors) -> np.ndarray:
        """``(measure, len(sectors))`` bool: does each measure apply to each sector?"""
        sectors = np.asarray(sectors, dtype=object)
        m = self._table["sector"].to_numpy(dtype=object)
        return (m[:, None] == ANY) | (m[:, None] == sectors[None, :])

    def check_additivity(self, sectors) -> None:
        """Refuse measure sets that could remove > 100 % of a pollutant of some sector.

        For each sector, scope and pollutant: Σ over exclusive groups of the largest
        ``eff × max_penetration`` in the group (measures without a group are each their own)
        must be <= 1, since measures add their cuts (module docstring). Enterprise and sector
        scopes are checked apart: a plan never applies both to one sector.
        """
        t = self._table
        eff = self.efficiencies() * t["max_penetration"].to_numpy(float)[:, None]
        group = np.where(t["exclusive_group"] == "", "__" + t["measure"], t["exclusive_group"])
        key = t["scope"].to_numpy(dtype=object) + "|" + group.astype(object)
        sectors = np.asarray(sorted(set(np.asarray(sectors, dtype=object).tolist())), object)
        app = self.applies(sectors)  # (measure, sector)
        for s_idx in np.flatnonzero(app.any(axis=0)):  # loop over sectors (a handful)
            rows = app[:, s_idx]
            per_group = pd.DataFrame(eff[rows], columns=list(POLLUTANTS)).groupby(
                key[rows]).max()
            scope = per_group.index.str.split("|").str[0]
            per_group = per_group.groupby(scope).sum().max()
            over = per_group[per_group > 1.0 + 1e-9]
            if len(over):
                raise ConfigError(f"measures on sector {sectors[s_idx]!r} remove up to "
                                  f"{over.iloc[0]:.0%} of {over.index[0]} when combined; make "
                                  "alternatives share an exclusive_group")


# ---------------------------------------------------------------------------------------------
# enterprises
# ---------------------------------------------------------------------------------------------
def validate_enterprises(df: pd.DataFrame) -> pd.DataFrame:
    """A validated copy of an enterprise table: ``enterprise, grade, value_added`` [CNY d-1],
    optional ``name, sector, city, n_stacks``."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidValueError(f"enterprises must be a DataFrame, got {type(df).__name__}",
                                where="enterprises")
    df = df.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    where = f"enterprise table ({len(df)} rows)"
    reject_unknown_fields(df.columns, ENTERPRISE_REQUIRED + ENTERPRISE_OPTIONAL, where)
    require_fields(df.columns, ENTERPRISE_REQUIRED, where)
    ids = _text(df, "enterprise").to_numpy(dtype=object)
    dup = pd.Series(ids).duplicated().to_numpy()
    if dup.any() or (ids == "").any():
        bad = ids[dup][0] if dup.any() else ""
        raise InvalidValueError(f"enterprise ids must be unique and non-empty ({bad!r})",
                                field="enterprise", where=where)
    out = pd.DataFrame({"enterprise": ids})
    for col in ("name", "sector", "city", "grade"):
        if col in df.columns:
            out[col] = _text(df, col).to_numpy(dtype=object)
    va = _number(df, "value_added", ids, "enterprise")
    check_nonnegative(va, "value_added", ids=ids, kind="enterprise", units="CNY/d")
    out["value_added"] = va
    return out


def enterprise_table(inventory, enterprises: pd.DataFrame | None = None, *,
                     grade_rules: str | GradeRules = "2020",
                     default_grade: str | None = None) -> pd.DataFrame:
    """One row per enterprise of the inventory's point sources, with its grade and value added.

    Stacks are grouped by their ``enterprise`` column (a stack without one is its own
    enterprise, named by its id). The grade is the worst grade over the enterprise's stacks (the
    "short-board principle" of the 2020 guide) or the ``enterprises`` table's; sector = the sector
    of its largest stack (by the sum of its emission rates). ``value_added`` [CNY d-1] comes from
    ``enterprises`` (0 where absent). Emission columns are the summed rates [g s-1].

    Raises
    ------
    MissingFieldError
        An enterprise without a grade (give ``default_grade`` to accept it).
    """
    rules = load_grade_rules(grade_rules)
    pts = inventory.points
    if pts is None or not len(pts):
        return pd.DataFrame(columns=["enterprise", "sector", "grade", "city", "value_added",
                                     "n_stacks", *inventory.pollutants])
    ent = _text(pts, "enterprise")
    ent = ent.where(ent != "", pts["id"].astype(str))
    pol = list(inventory.pollutants)
    size = pts[pol].sum(axis=1)
    main = pts.assign(_e=ent.to_numpy(), _size=size.to_numpy()).sort_values(
        "_size", ascending=False, kind="stable").drop_duplicates("_e").set_index("_e")
    out = pts[pol].groupby(ent.to_numpy()).sum()
    out.index.name = "enterprise"
    out.insert(0, "n_stacks", ent.value_counts().reindex(out.index).to_numpy())
    out.insert(0, "city", main["city"].reindex(out.index).to_numpy(dtype=object)
               if "city" in main.columns else "")
    out.insert(0, "sector", main["sector"].reindex(out.index).to_numpy(dtype=object))
    grade = _text(pts, "grade")
    known = grade != ""
    inv_grade = rules.worst(grade[known], ent[known].to_numpy()) if known.any() else \
        pd.Series(dtype=object)
    out.insert(2, "grade", inv_grade.reindex(out.index).to_numpy(dtype=object))
    out["value_added"] = 0.0
    if enterprises is not None:
        extra = validate_enterprises(enterprises).set_index("enterprise")
        va = extra["value_added"].reindex(out.index)
        out["value_added"] = va.fillna(0.0).to_numpy(float)
        if "grade" in extra.columns:
            g = extra["grade"].reindex(out.index)
            out["grade"] = np.where(g.notna() & (g != ""), g, out["grade"])
        for col in ("name", "city"):
            if col in extra.columns:
                v = extra[col].reindex(out.index)
                out[col] = np.where(v.notna() & (v != ""), v,
                                    out[col] if col in out.columns else "")
    missing = pd.isna(out["grade"]) | (out["grade"].astype(str) == "")
    if missing.any():
        if default_grade is None:
            raise MissingFieldError(f"{int(missing.sum())} enterprise(s) have no performance "
                                    "grade; give one in the inventory or the enterprise table, "
                                    "or pass default_grade=", field="grade",
                                    where=f"enterprise {out.index[missing][0]!r}")
        out.loc[missing, "grade"] = default_grade
    reject_unknown_fields(set(out["grade"].astype(str)), rules.order, "enterprise grades")
    return out.reset_index()
