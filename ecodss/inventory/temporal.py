"""Temporal profiles: annual-mean emission rates → hourly rates, per sector, in local time.

An hourly rate is the annual-mean rate times a factor built from a month-of-year, a day-of-week and
an hour-of-day profile per sector (the TNO/MACC, EMEP and MEIC approach; Denier van der Gon et al.
2011, MACC deliverable D_D-EMIS_1.3; Li et al. 2017, ACP 17:935, Sect. 2.4):

.. math:: E(t) = \\bar E \\; \\frac{M_{m(t)}}{\\bar M_{y(t)}} \\;
          \\frac{W_{w(t)}}{\\bar W_{y,m(t)}} \\; H_{h(t)}

Normalisation (applied when profiles are loaded, and per calendar month/year when evaluated):

* ``hourly`` H: mean over the 24 hours is 1;
* ``weekday`` W (Monday = 0): mean over the 7 days is 1; when evaluated, W is divided by its mean
  over the days of the actual month, :math:`\\bar W_{y,m}`, so that every month keeps exactly its
  share whatever its number of weekends — the correction the EMEP MSC-W model applies to its
  month × day factors (Simpson et al. 2012, ACP 12:7825; EMEP ``Timefactors_mod``);
* ``monthly`` M: mean weighted by the days in each month of a 365-day year is 1,
  :math:`\\sum_m M_m d_m = 365`; when evaluated, M is divided by its day-weighted mean over the
  actual year, :math:`\\bar M_y = \\sum_m M_m d_m(y) / n_y`, which is 1 except in leap years.

Hence the mean of the hourly rates over any complete local calendar year equals the annual-mean
rate exactly (to round-off), and each month holds its share :math:`M_m d_m / 365` of the total.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, OutOfRangeError
from ..validation import check_nonnegative

logger = logging.getLogger(__name__)

#: Sector used for sources whose sector has no profile (flat in the shipped defaults).
FALLBACK_SECTOR = "other"
#: Profile kinds and their lengths.
PROFILE_LENGTHS = {"monthly": 12, "weekday": 7, "hourly": 24}
#: Days per month of a non-leap year (the 365-day inventory year of :mod:`ecodss.units`).
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)


def _normalise(name: str, kind: str, values) -> np.ndarray:
    """Check one profile and rescale it to the documented mean of 1."""
    v = np.asarray(values, dtype=float)
    n = PROFILE_LENGTHS[kind]
    where = f"temporal profile {name!r}"
    if v.shape != (n,):
        raise ConfigError(f"{where}: {kind} needs {n} factors, got shape {v.shape}")
    check_nonnegative(v, kind, kind=f"{where} {kind} factor")
    weights = DAYS_IN_MONTH if kind == "monthly" else np.ones(n)
    mean = float(weights @ v / weights.sum())
    if mean <= 0:
        raise OutOfRangeError(f"{kind} factors are all zero", field=kind, where=where)
    return v / mean


class TemporalProfiles:
    """Monthly, weekday and hourly emission factors per sector.

    Parameters
    ----------
    profiles : mapping
        ``{sector: {"monthly": 12 values, "weekday": 7 values (Mon..Sun), "hourly": 24 values,
        "source": "citation"}}``. Factors are relative; they are normalised as described in the
        module docstring. Must contain the fallback sector ``"other"``.
    aliases : mapping, optional
        Other sector names that map onto a profiled sector, e.g. ``{"industry": "boilers"}``.
    """

    def __init__(self, profiles: Mapping[str, Mapping], aliases: Mapping[str, str] | None = None):
        names = [str(s).strip().lower() for s in profiles]
        if FALLBACK_SECTOR not in names:
            raise ConfigError(f"temporal profiles must define the fallback sector "
                              f"{FALLBACK_SECTOR!r}; got {sorted(names)}")
        self._sectors = tuple(names)
        arrays = {k: [] for k in PROFILE_LENGTHS}
        self._sources = {}
        for name, prof in zip(names, profiles.values(), strict=True):
            for kind in PROFILE_LENGTHS:
                if kind not in prof:
                    raise ConfigError(f"temporal profile {name!r}: missing {kind!r} factors")
                arrays[kind].append(_normalise(name, kind, prof[kind]))
            self._sources[name] = str(prof.get("source", ""))
        self._monthly = np.vstack(arrays["monthly"])  # (S, 12)
        self._weekday = np.vstack(arrays["weekday"])  # (S, 7)
        self._hourly = np.vstack(arrays["hourly"])  # (S, 24)
        for a in (self._monthly, self._weekday, self._hourly):
            a.setflags(write=False)
        self._aliases = {str(k).lower(): str(v).lower() for k, v in (aliases or {}).items()}
        bad = {k: v for k, v in self._aliases.items() if v not in names}
        if bad:
            raise ConfigError(f"temporal profile aliases point to unknown sectors: {bad}")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def default(cls) -> TemporalProfiles:
        """The shipped profiles (``ecodss/data/temporal_profiles.yaml``; TNO-MACC based)."""
        return _default_profiles()

    @classmethod
    def from_yaml(cls, path: str | Path) -> TemporalProfiles:
        """Read profiles from a YAML file laid out like ``ecodss/data/temporal_profiles.yaml``."""
        import yaml

        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
        if not isinstance(doc, dict) or "sectors" not in doc:
            raise ConfigError(f"{path}: expected a mapping with a 'sectors' key")
        return cls(doc["sectors"], doc.get("aliases"))

    def with_sector(self, sector: str, *, monthly=None, weekday=None, hourly=None,
                    source: str = "user") -> TemporalProfiles:
        """A copy with ``sector`` added or replaced; omitted profiles are flat."""
        flat = {k: np.ones(n) for k, n in PROFILE_LENGTHS.items()}
        given = {"monthly": monthly, "weekday": weekday, "hourly": hourly}
        profiles = self.to_dict()
        profiles[sector.strip().lower()] = {
            k: (flat[k] if v is None else v) for k, v in given.items()} | {"source": source}
        return TemporalProfiles(profiles, self._aliases)

    def to_dict(self) -> dict[str, dict]:
        """``{sector: {"monthly": [...], "weekday": [...], "hourly": [...], "source": str}}``."""
        return {s: {"monthly": self._monthly[i].tolist(), "weekday": self._weekday[i].tolist(),
                    "hourly": self._hourly[i].tolist(), "source": self._sources[s]}
                for i, s in enumerate(self._sectors)}

    # ------------------------------------------------------------------ accessors
    @property
    def sectors(self) -> tuple[str, ...]:
        return self._sectors

    @property
    def monthly(self) -> pd.DataFrame:
        """Normalised monthly factors, sectors × months 1..12."""
        return pd.DataFrame(self._monthly, index=list(self._sectors), columns=range(1, 13))

    @property
    def weekday(self) -> pd.DataFrame:
        """Normalised day-of-week factors, sectors × weekdays 0 (Monday)..6."""
        return pd.DataFrame(self._weekday, index=list(self._sectors), columns=range(7))

    @property
    def hourly(self) -> pd.DataFrame:
        """Normalised hour-of-day factors, sectors × local hours 0..23."""
        return pd.DataFrame(self._hourly, index=list(self._sectors), columns=range(24))

    def source_of(self, sector: str) -> str:
        """Citation of the profile used for ``sector``."""
        return self._sources[self._sectors[self.resolve([sector])[0][0]]]

    def __repr__(self) -> str:
        return f"TemporalProfiles(sectors={list(self._sectors)})"

    # ------------------------------------------------------------------ evaluation
    def resolve(self, sectors: Iterable[str]) -> tuple[np.ndarray, list[str]]:
        """Profile row of each sector name, and the sorted names that fell back to ``"other"``.

        Matching is case-insensitive and goes through the aliases. An unknown sector is not an
        error: it gets the fallback profile and is reported (returned and logged).
        """
        lookup = {s: i for i, s in enumerate(self._sectors)}
        lookup |= {a: lookup[t] for a, t in self._aliases.items()}
        names = pd.Series(list(sectors), dtype=object).astype(str).str.strip().str.lower()
        idx = names.map(lookup)
        unknown = sorted(set(names[idx.isna()]))
        if unknown:
            logger.warning("no temporal profile for sector(s) %s; using %r", unknown,
                           FALLBACK_SECTOR)
        idx = idx.fillna(lookup[FALLBACK_SECTOR]).to_numpy(dtype=int)
        return idx, unknown

    def factors(self, local_times, sectors: Sequence[str] | None = None) -> np.ndarray:
        """Combined factor M·W·H for each local time and sector (vectorized over both).

        Parameters
        ----------
        local_times : array-like of datetime64
            Times in the local time of the sources (hour ``h`` means the hour starting at h:00).
        sectors : sequence of str, optional
            Sector names (default: all profiled sectors, in :attr:`sectors` order).

        Returns
        -------
        numpy.ndarray, shape (ntime, nsector)
            Dimensionless factors; their mean over a complete calendar year is exactly 1.
        """
        rows = (np.arange(len(self._sectors)) if sectors is None
                else self.resolve(sectors)[0])
        t = pd.DatetimeIndex(np.asarray(local_times, dtype="datetime64[ns]"))
        year, month, weekday, hour = (t.year.to_numpy(), t.month.to_numpy() - 1,
                                      t.day_of_week.to_numpy(), t.hour.to_numpy())
        mbar, wbar = self._calendar_means(year, month)
        m = self._monthly[:, month].T / mbar  # (T, S)
        w = self._weekday[:, weekday].T / wbar
        h = self._hourly[:, hour].T
        return (m * w * h)[:, rows]

    def _calendar_means(self, year: np.ndarray, month: np.ndarray):
        """Day-weighted monthly mean per year and weekday mean per month, at every time (T, S)."""
        ym = year * 12 + month
        uym, inv = np.unique(ym, return_inverse=True)
        first = pd.to_datetime({"year": uym // 12, "month": uym % 12 + 1, "day": 1})
        ndays = first.dt.days_in_month.to_numpy()
        w0 = first.dt.day_of_week.to_numpy()
        # Number of each weekday in the month: 4 each, plus one for the first (ndays-28) weekdays.
        offset = (np.arange(7)[None, :] - w0[:, None]) % 7
        counts = 4 + (offset < (ndays - 28)[:, None])  # (YM, 7)
        wbar = counts @ self._weekday.T / ndays[:, None]  # (YM, S)

        uy, yinv = np.unique(year, return_inverse=True)
        leap = ((uy % 4 == 0) & (uy % 100 != 0)) | (uy % 400 == 0)
        days = np.tile(DAYS_IN_MONTH, (len(uy), 1))
        days[:, 1] += leap
        mbar = days @ self._monthly.T / days.sum(axis=1, keepdims=True)  # (Y, S)
        return mbar[yinv], wbar[inv]


@lru_cache(maxsize=1)
def _default_profiles() -> TemporalProfiles:
    path = resources.files("ecodss") / "data" / "temporal_profiles.yaml"
    with resources.as_file(path) as p:
        return TemporalProfiles.from_yaml(p)
