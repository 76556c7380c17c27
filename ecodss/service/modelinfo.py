"""Model descriptions for ``GET /models/{name}``: the registry's function, as JSON.

The description is the function's docstring; the input schema is JSON Schema (draft 2020-12)
derived from its signature: positional parameters are data inputs (inventory, met, receptors,
grid — supplied as registered datasets, never client paths), keyword-only parameters are model
parameters with their default, a JSON type inferred from the annotation or default, and the
numpydoc description (``name : type`` lines of the *Parameters* section).
"""

from __future__ import annotations

import inspect
import re

_TYPES = {"bool": "boolean", "int": "integer", "float": "number", "str": "string",
          "dict": "object", "list": "array", "tuple": "array"}


def numpydoc_parameters(doc: str) -> dict[str, tuple[str, str]]:
    """``name -> (type text, description)`` from a numpydoc *Parameters* section."""
    lines = inspect.cleandoc(doc or "").splitlines()
    out: dict[str, tuple[str, str]] = {}
    try:
        start = next(i for i, line in enumerate(lines)
                     if line.strip() == "Parameters" and i + 1 < len(lines)
                     and set(lines[i + 1].strip()) == {"-"}) + 2
    except StopIteration:
        return out
    names: list[str] = []
    for line in lines[start:]:
        if line and not line.startswith(" "):
            if " : " not in line and line.strip() and set(line.strip()) != {"-"}:
                if not re.match(r"^[A-Za-z_][\w, *]*$", line.strip()):
                    break
            if set(line.strip()) == {"-"}:
                break
            head, _, kind = line.partition(" : ")
            names = [n.strip().lstrip("*") for n in head.split(",") if n.strip()]
            for n in names:
                out[n] = (kind.strip(), "")
        elif names and line.strip():
            for n in names:
                kind, text = out[n]
                out[n] = (kind, f"{text} {line.strip()}".strip())
        elif not line.strip() and not names:
            continue
    return out


def _json_type(annotation, default, kind_text: str) -> dict:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    text = f"{text} {kind_text}"
    enum = re.search(r"\{([^}]*)\}", kind_text)
    if enum:
        values = [v.strip().strip("'\"") for v in enum.group(1).split(",")]
        values = [None if v == "None" else v for v in values]
        return {"enum": values}
    types = sorted({js for py, js in _TYPES.items() if re.search(rf"\b{py}\b", text)})
    if not types and default not in (inspect.Parameter.empty, None):
        types = [_TYPES.get(type(default).__name__, "string")]
    if "None" in text or default is None:
        types = types + ["null"] if types else []
    if not types:
        return {}
    return {"type": types[0] if len(types) == 1 else types}


def _jsonable(value):
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, tuple | list) and all(isinstance(v, int | float | str) for v in value):
        return list(value)
    return None


def model_document(info) -> dict:
    """``{name, domain, summary, description, inputs (JSON schema)}`` of a registered model."""
    sig = inspect.signature(info.func)
    docs = numpydoc_parameters(info.func.__doc__ or "")
    data, params, required = {}, {}, []
    for name, p in sig.parameters.items():
        kind_text, text = docs.get(name, ("", ""))
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            data[name] = {"description": text or kind_text,
                          "x-ecodss-type": kind_text or str(p.annotation),
                          "x-ecodss-supply": "registered dataset id"}
            if p.default is p.empty:
                required.append(name)
            continue
        if p.kind != p.KEYWORD_ONLY:
            continue
        entry = {"description": text, **_json_type(p.annotation, p.default, kind_text)}
        if kind_text:
            entry["x-ecodss-type"] = kind_text
        if p.default is p.empty:
            required.append(name)
        elif _jsonable(p.default) is not None or p.default is None:
            entry["default"] = _jsonable(p.default)
        params[name] = entry
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{info.name} inputs", "type": "object",
        "properties": {"data": {"type": "object", "properties": data,
                                "description": "data inputs (positional)"},
                       "parameters": {"type": "object", "properties": params,
                                      "additionalProperties": False}},
        "required": sorted(set(required) & set(data)) and ["data"],
        "x-required-parameters": sorted(set(required) - set(data)),
    }
    return {"name": info.name, "domain": info.domain, "summary": info.summary,
            "description": inspect.cleandoc(info.func.__doc__ or ""), "inputs": schema}
