"""GB 3838-2002 surface-water classes (I–V, worse than V) by the single-factor method.

The limits are Table 1 of GB 3838-2002 *Environmental quality standards for surface water*
(地表水环境质量标准), basic items, as collected in ``shared/reference/standards.md``. Every item is
"lower is better" (value <= limit of class k -> class k or better) except dissolved oxygen, which is
"higher is better" (DO >= limit). pH is 6–9 in every class (outside -> worse than V). TP has a
separate lake/reservoir column; TN applies to lakes and reservoirs only (for rivers it is reported
but not used to classify — common practice of MEE bulletins, not a rule of the standard).

Single-factor method: the class of a water sample is the worst class over its items (the method the
standard's assessment practice uses; "class = max over items").

Class codes: 1..5 = I..V, 6 = worse than V (劣V), 0 = no data.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import InvalidValueError, UnitError, UnknownFieldError
from ..validation import reject_unknown_fields

STANDARD = "GB 3838-2002, Table 1 (basic items)"
CLASS_NAMES = ("no data", "I", "II", "III", "IV", "V", "worse than V")
WORSE_THAN_V = 6

#: item -> (limits of classes I..V, units). mg/L unless stated; DO is a lower bound.
LIMITS: dict[str, tuple[tuple[float, ...], str]] = {
    "DO": ((7.5, 6.0, 5.0, 3.0, 2.0), "mg/L"),
    "CODMn": ((2.0, 4.0, 6.0, 10.0, 15.0), "mg/L"),
    "COD": ((15.0, 15.0, 20.0, 30.0, 40.0), "mg/L"),
    "BOD5": ((3.0, 3.0, 4.0, 6.0, 10.0), "mg/L"),
    "NH3-N": ((0.15, 0.5, 1.0, 1.5, 2.0), "mg/L"),
    "TP": ((0.02, 0.1, 0.2, 0.3, 0.4), "mg/L"),
    "TP_lake": ((0.01, 0.025, 0.05, 0.1, 0.2), "mg/L"),
    "TN": ((0.2, 0.5, 1.0, 1.5, 2.0), "mg/L"),
    "Cu": ((0.01, 1.0, 1.0, 1.0, 1.0), "mg/L"),
    "Zn": ((0.05, 1.0, 1.0, 2.0, 2.0), "mg/L"),
    "F": ((1.0, 1.0, 1.0, 1.5, 1.5), "mg/L"),
    "Se": ((0.01, 0.01, 0.01, 0.02, 0.02), "mg/L"),
    "As": ((0.05, 0.05, 0.05, 0.1, 0.1), "mg/L"),
    "Hg": ((0.00005, 0.00005, 0.0001, 0.001, 0.001), "mg/L"),
    "Cd": ((0.001, 0.005, 0.005, 0.005, 0.01), "mg/L"),
    "Cr6": ((0.01, 0.05, 0.05, 0.05, 0.1), "mg/L"),
    "Pb": ((0.01, 0.01, 0.05, 0.05, 0.1), "mg/L"),
    "CN": ((0.005, 0.05, 0.2, 0.2, 0.2), "mg/L"),
    "phenol": ((0.002, 0.002, 0.005, 0.01, 0.1), "mg/L"),
    "petroleum": ((0.05, 0.05, 0.05, 0.5, 1.0), "mg/L"),
    "LAS": ((0.2, 0.2, 0.2, 0.3, 0.3), "mg/L"),
    "sulfide": ((0.05, 0.1, 0.2, 0.5, 1.0), "mg/L"),
    "fecal_coliform": ((200.0, 2000.0, 10000.0, 20000.0, 40000.0), "1/L"),
    "pH": ((9.0, 9.0, 9.0, 9.0, 9.0), "1"),  # 6 <= pH <= 9 in every class
}
HIGHER_IS_BETTER = frozenset({"DO"})
PH_RANGE = (6.0, 9.0)
#: accepted spellings -> item
ALIASES = {"NH3N": "NH3-N", "NH3_N": "NH3-N", "NH4": "NH3-N", "nh3n": "NH3-N", "ammonia": "NH3-N",
           "CODMN": "CODMn", "codmn": "CODMn", "permanganate_index": "CODMn", "do": "DO",
           "dissolved_oxygen": "DO", "tp": "TP", "total_phosphorus": "TP", "tn": "TN",
           "total_nitrogen": "TN", "cod": "COD", "bod5": "BOD5", "BOD": "BOD5", "ph": "pH",
           "CrVI": "Cr6", "cyanide": "CN", "fluoride": "F", "volatile_phenol": "phenol"}
WATER_BODIES = ("river", "lake")
_UNIT_SPELLINGS = {"mg/L": {"mg/L", "mg/l", "mg L-1", "mg l-1", "mg L^-1", "g m-3", "g/m3"},
                   "1/L": {"1/L", "L-1", "per L", "count/L", "/L"}, "1": {"1", "", "pH"}}


def canonical_item(name: str) -> str:
    """The GB 3838 item of a variable name (``NH3_N`` -> ``NH3-N``); raises for unknown names."""
    name = str(name)
    item = name if name in LIMITS else ALIASES.get(name, ALIASES.get(name.lower()))
    if item is None:
        reject_unknown_fields([name], [*LIMITS, *ALIASES], where="GB 3838 item")
    return item


def limits(item: str, water_body: str = "river") -> np.ndarray:
    """Class I..V limits [mg/L; coliforms per L] of ``item`` for a river or a lake/reservoir."""
    if water_body not in WATER_BODIES:
        raise UnknownFieldError(f"water_body {water_body!r} must be one of {WATER_BODIES}",
                                field="water_body")
    item = canonical_item(item)
    if item == "TP" and water_body == "lake":
        item = "TP_lake"
    return np.asarray(LIMITS[item][0])


def used_for_classification(item: str, water_body: str) -> bool:
    """False for TN in rivers (reported, not classified; see the module notes)."""
    return not (canonical_item(item) == "TN" and water_body == "river")


def _classify_kernel(values, item, water_body, do_saturation=None):
    v = np.asarray(values, dtype=float)
    if np.isinf(v).any():
        raise InvalidValueError(f"{item} holds infinite values", field=item)
    if item != "pH" and (v < 0).any():
        raise InvalidValueError(f"{item} has negative concentrations (min {np.nanmin(v)})",
                                field=item)
    lim = limits(item, water_body)
    if item in HIGHER_IS_BETTER:
        # class k when value >= limit_k; DO class I also when >= 90 % saturation (Table 1)
        cls = 1 + np.sum(v[..., None] < lim, axis=-1)
        if do_saturation is not None:
            cls = np.where(v >= 0.9 * np.asarray(do_saturation, float), 1, cls)
    elif item == "pH":
        cls = np.where((v >= PH_RANGE[0]) & (v <= PH_RANGE[1]), 1, WORSE_THAN_V)
    else:
        cls = 1 + np.sum(v[..., None] > lim, axis=-1)
    return np.where(np.isnan(v), 0, cls).astype(np.int8)


def _check_units(da, item):
    units = da.attrs.get("units") if hasattr(da, "attrs") else None
    if units is None:
        return
    expected = LIMITS[item][1]
    if units not in _UNIT_SPELLINGS[expected]:
        raise UnitError(f"{item} units {units!r}; GB 3838 limits are in {expected}", field=item)


def classify(values, item: str, water_body: str = "river", do_saturation=None):
    """GB 3838-2002 class of each value of one item.

    Parameters
    ----------
    values : array_like or xarray.DataArray  [mg/L; faecal coliforms per L; pH unitless]
        Observed or forecast values (NaN = no data). A DataArray with a ``units`` attribute
        must be in the standard's units.
    item : str
        GB 3838 item or alias (``DO``, ``CODMn``, ``NH3-N``/``NH3_N``, ``TP``, ``TN``, ...).
    water_body : {"river", "lake"}
        ``lake`` selects the lake/reservoir TP column (use it for reservoirs too).
    do_saturation : array_like, optional  [mg/L]
        DO saturation; DO >= 90 % of it is class I (Table 1, "饱和率 90 % (或 7.5)").

    Returns
    -------
    int8 array or DataArray
        1..5 = I..V, 6 = worse than V, 0 = no data; DataArrays keep their dims and get
        ``flag_values``/``flag_meanings``.
    """
    item = canonical_item(item)
    _check_units(values, item)
    if hasattr(values, "dims"):
        import xarray as xr

        out = xr.apply_ufunc(_classify_kernel, values, dask="parallelized",
                             kwargs=dict(item=item, water_body=water_body,
                                         do_saturation=do_saturation), output_dtypes=[np.int8])
        out.attrs = _class_attrs(f"GB 3838 class of {item} ({water_body})")
        return out
    return _classify_kernel(values, item, water_body, do_saturation)


def _class_attrs(long_name: str) -> dict:
    return {"long_name": long_name, "units": "1", "flag_values": np.arange(7, dtype=np.int8),
            "flag_meanings": "no_data I II III IV V worse_than_V", "references": STANDARD}


def classify_dataset(ds, water_body: str = "river", items=None, do_saturation=None):
    """Single-factor classification of every GB 3838 item in a dataset (stations × time ...).

    Parameters
    ----------
    ds : xarray.Dataset or Mapping[str, array_like]
        Variables named by GB 3838 items or aliases [mg/L]; other variables are ignored unless
        named in ``items`` (then unknown names raise).
    water_body : {"river", "lake"}
    items : sequence of str, optional
        Variables to use (default: every variable that names a GB 3838 item).
    do_saturation : array_like, optional  [mg/L]

    Returns
    -------
    xarray.Dataset
        ``class_<item>`` per item, ``water_class`` (the worst over the items used; TN is left out
        for rivers), ``limiting_item`` (the first item reaching the worst class).
    """
    import xarray as xr

    if isinstance(ds, Mapping) and not isinstance(ds, xr.Dataset):
        ds = xr.Dataset({k: np.asarray(v) if np.ndim(v) == 0 else
                         xr.DataArray(np.asarray(v)) for k, v in ds.items()})
    names = [str(n) for n in ds.data_vars] if items is None else list(items)
    if items is None:
        names = [n for n in names if n in LIMITS or n in ALIASES or n.lower() in ALIASES]
    else:
        for n in names:
            canonical_item(n)
    if not names:
        raise InvalidValueError(f"no GB 3838 item among {list(ds.data_vars)}", field="items")
    classes = {}
    for name in names:  # loop over a handful of water-quality items
        item = canonical_item(name)
        sat = do_saturation if item == "DO" else None
        classes[item] = classify(ds[name], item, water_body, sat)
    out = xr.Dataset({f"class_{k}": v for k, v in classes.items()})
    used = [k for k in classes if used_for_classification(k, water_body)]
    stack = xr.concat([classes[k] for k in used], dim="item").assign_coords(item=used)
    worst = stack.max("item")
    out["water_class"] = worst.astype(np.int8)
    out["water_class"].attrs = _class_attrs(
        f"GB 3838 water class, single-factor method ({water_body})")
    first = (stack == worst).argmax("item")
    out["limiting_item"] = xr.where(worst > 0, xr.DataArray(np.asarray(used, dtype=object),
                                                            dims="item")[first], "")
    out["limiting_item"].attrs = {"long_name": "item setting the water class (first if tied)"}
    out.attrs["references"] = STANDARD
    return out


def exceedance_multiple(values, item: str, target_class: int, water_body: str = "river"):
    """Exceedance multiple (超标倍数) against the class limit: ``(C - limit) / limit`` for
    "lower is better" items, ``(limit - C) / limit`` for DO; <= 0 means compliant."""
    item = canonical_item(item)
    if int(target_class) not in (1, 2, 3, 4, 5):
        raise InvalidValueError(f"target_class={target_class} must be 1..5", field="target_class")
    lim = limits(item, water_body)[int(target_class) - 1]
    sign = -1.0 if item in HIGHER_IS_BETTER else 1.0
    return sign * (values - lim) / lim


def class_name(code) -> np.ndarray:
    """Roman class names of class codes (0 -> 'no data')."""
    return np.asarray(CLASS_NAMES, dtype=object)[np.asarray(code, dtype=int)]
