"""Saved fits: a :class:`FitResult` written to one file and read back bit for bit.

The artifact (``lawkit fit ... --save FIT``) is a ZIP archive with three kinds of member:

- ``manifest.json`` — format tag and version, the lawkit version that wrote it, the law
  (its name, its source text and the file it came from, and its fingerprint), the data's
  provenance (sha256 of the canonical numeric columns used, row count, the ranges of the
  inputs and of the law's budgets over the rows) and
  every field of the result; floats are JSON numbers written by ``repr`` (shortest text
  that reads back to the same double), non-finite ones as ``{"$float": "nan"}``;
- ``arrays/<i>.npy`` — each NumPy array of the result (residuals, covariance, per-start
  table, bootstrap draws) in NumPy's own format, dtype and bits preserved;
- ``fit.json`` — exactly what ``lawkit fit --json`` prints, for people and ``jq``.

:func:`load_fit` re-parses the law text (library parents resolved from the library),
checks that it yields the law that was fitted (same fingerprint), and rebuilds the result
field by field, so ``load_fit(p).to_dict() == result.to_dict()``.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
import io
import json
import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import LawkitError

__all__ = ["save_fit", "load_fit", "saved_info", "is_saved_fit", "data_provenance",
           "SavedFitError", "FORMAT", "FORMAT_VERSION"]

FORMAT = "lawkit-fit"
FORMAT_VERSION = 1
_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member time stamps: same fit, same bytes


class SavedFitError(LawkitError):
    """A saved-fit file that cannot be written or read (corrupt, foreign, too new)."""


# ---- provenance of the data
def data_provenance(law, data, *, mapping: Mapping[str, str] | None = None,
                    group: str | None = None, weights=None) -> dict:
    """``{"sha256", "rows", "columns", "ranges"}`` of the numeric columns a fit of ``law``
    reads from ``data``: sha256 over a JSON header (names, row count) followed by each
    column as little-endian float64 (inputs in the law's order, then the output, weights
    and the group column's level codes and levels)."""
    from .data import column, columns, read_table

    frame = read_table(data)
    inputs, y = columns(law, frame, dict(mapping or {}))
    cols = {**inputs, law.output.name: y}
    if isinstance(weights, str):
        cols["(weights)"] = column(frame, "weights", weights, "weights")
    elif weights is not None:
        cols["(weights)"] = np.asarray(weights, dtype=float)
    levels = None
    if group is not None:
        import pandas as pd

        codes, uniques = pd.factorize(frame[group], sort=True)
        cols["(group)"] = codes.astype(float)
        levels = [str(v) for v in uniques.tolist()]
    header = json.dumps({"columns": list(cols), "rows": len(frame), "group_levels": levels},
                        sort_keys=True)
    h = hashlib.sha256(header.encode())
    for v in cols.values():
        h.update(np.ascontiguousarray(v, dtype="<f8").tobytes())
    ranges = {n: [float(np.min(v)), float(np.max(v))] for n, v in inputs.items() if len(v)}
    return {"sha256": h.hexdigest(), "rows": len(frame), "columns": list(cols),
            "ranges": ranges, "budget_ranges": _budget_ranges(law, inputs)}


def _budget_ranges(law, inputs) -> dict:
    """``{budget: [min, max]}`` over the rows, for each budget the law declares."""
    from ..backends.numpy import evaluate

    out = {}
    for name in law.budgets:
        expr = law.budget(name)
        needed = [s.name for s in expr.free_symbols]
        if needed and all(n in inputs for n in needed):
            v = np.asarray(evaluate(expr, {n: inputs[n] for n in needed}), dtype=float)
            v = v[np.isfinite(v)]
            if len(v):
                out[name] = [float(v.min()), float(v.max())]
    return out


# ---- encoding of field values
class _Encoder:
    """Field values → JSON-able trees; arrays go to ``self.arrays`` (referenced by index)."""

    def __init__(self):
        self.arrays: list[np.ndarray] = []

    def __call__(self, x, where: str):
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, enum.Enum):
            return {"$enum": _qualname(type(x)), "name": x.name}
        if isinstance(x, (int, np.integer)) and not isinstance(x, np.bool_):
            return int(x)
        if isinstance(x, (float, np.floating)):
            x = float(x)
            return x if math.isfinite(x) else {"$float": repr(x)}
        if isinstance(x, np.bool_):
            return bool(x)
        if isinstance(x, np.ndarray):
            if x.dtype.hasobject:
                raise SavedFitError(f"cannot save {where}: an array of Python objects")
            self.arrays.append(x)
            return {"$array": len(self.arrays) - 1}
        if isinstance(x, tuple):
            return {"$tuple": [self(v, where) for v in x]}
        if isinstance(x, list):
            return [self(v, where) for v in x]
        if isinstance(x, Mapping):
            if all(isinstance(k, str) and not k.startswith("$") for k in x):
                return {k: self(v, f"{where}[{k!r}]") for k, v in x.items()}
            return {"$dict": [[self(k, where), self(v, where)] for k, v in x.items()]}
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            return {"$dataclass": _qualname(type(x)),
                    "fields": {f.name: self(getattr(x, f.name), f"{where}.{f.name}")
                               for f in dataclasses.fields(x)}}
        raise SavedFitError(f"cannot save {where}: values of type {type(x).__name__} "
                            f"have no saved form")


def _qualname(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _lawkit_class(name: str):
    """A class of lawkit named in an artifact (never anything outside lawkit)."""
    module, _, qual = str(name).partition(":")
    if not (module == "lawkit" or module.startswith("lawkit.")) or not qual.isidentifier():
        raise ValueError(f"class {name!r} is not one of lawkit's")
    return getattr(importlib.import_module(module), qual)


def _decode(x, arrays):
    if isinstance(x, list):
        return [_decode(v, arrays) for v in x]
    if not isinstance(x, dict):
        return x
    if "$float" in x:
        return float(x["$float"])
    if "$array" in x:
        return arrays[int(x["$array"])]
    if "$tuple" in x:
        return tuple(_decode(v, arrays) for v in x["$tuple"])
    if "$dict" in x:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in x["$dict"]}
    if "$enum" in x:
        return _lawkit_class(x["$enum"])[x["name"]]
    if "$dataclass" in x:
        cls = _lawkit_class(x["$dataclass"])
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{x['$dataclass']} is not a record type")
        return cls(**{k: _decode(v, arrays) for k, v in x["fields"].items()})
    return {k: _decode(v, arrays) for k, v in x.items()}


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


# ---- save / load
def save_fit(result, path, *, data=None, weights=None) -> Path:
    """Write ``result`` to ``path`` (a ZIP archive; see the module docstring).

    ``data`` (the table the fit was run on) adds its provenance: the sha256 of the numeric
    columns used and the row count (checked against ``result.n``); ``weights`` as given
    to :func:`lawkit.fit`, when a weights column or array was used.
    """
    from .. import __version__
    from .result import FitResult

    if not isinstance(result, FitResult):
        raise SavedFitError(f"save_fit needs a FitResult, not {type(result).__name__}")
    law = result.law
    provenance = None
    if data is not None:
        provenance = data_provenance(law, data, mapping=result.mapping,
                                     group=result.settings.get("group"), weights=weights)
        if provenance["rows"] != result.n:
            raise SavedFitError(f"the data has {provenance['rows']} rows but the fit was run on "
                                f"{result.n}: pass the table the fit was run on")
    enc = _Encoder()
    fields = {f.name: enc(getattr(result, f.name), f.name)
              for f in dataclasses.fields(FitResult) if f.name != "law"}
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "lawkit_version": __version__,
        "law": {"name": law.name, "source": law.source.text, "path": law.source.path,
                "fingerprint": law.fingerprint},
        "data": provenance,
        "fields": fields,
        "arrays": [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in enc.arrays],
    }
    text = json.dumps(manifest, indent=1, allow_nan=False, ensure_ascii=False)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            def put(name, payload):
                z.writestr(zipfile.ZipInfo(name, date_time=_DATE), payload,
                           compress_type=zipfile.ZIP_DEFLATED)

            put("manifest.json", text.encode("utf-8"))
            for i, a in enumerate(enc.arrays):
                put(f"arrays/{i}.npy", _npy(a))
            put("fit.json", json.dumps(result.to_dict(), indent=2).encode("utf-8"))
        os.replace(tmp, path)
    except OSError as err:
        raise SavedFitError(f"cannot write the saved fit {path}: {err}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def is_saved_fit(path) -> bool:
    """Whether ``path`` is a file that starts like a ZIP archive (a saved fit, or corrupt)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _read(path) -> tuple[dict, zipfile.ZipFile]:
    path = Path(path)
    if path.is_dir():
        raise SavedFitError(f"{path} is a directory, not a saved fit")
    if not path.is_file():
        raise SavedFitError(f"no such saved fit: {path}")
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise SavedFitError(f"{path} is not a saved fit (not a ZIP archive: {err})") from None
    try:
        manifest = json.loads(z.read("manifest.json").decode("utf-8"))
    except KeyError:
        z.close()
        raise SavedFitError(f"{path} is not a saved fit (no manifest.json)") from None
    except (ValueError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
        z.close()
        raise SavedFitError(f"{path}: corrupt saved fit (manifest unreadable: {err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        z.close()
        raise SavedFitError(f"{path} is not a saved lawkit fit (format "
                            f"{manifest.get('format') if isinstance(manifest, dict) else None!r})")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        z.close()
        raise SavedFitError(f"{path} was written in saved-fit format {version!r} by lawkit "
                            f"{manifest.get('lawkit_version')}; this lawkit reads format "
                            f"{FORMAT_VERSION} and older: upgrade lawkit")
    _check_version(path, manifest.get("lawkit_version"))
    problem = _provenance_problem(manifest.get("data"))
    if problem:
        z.close()
        raise SavedFitError(f"{path}: corrupt saved fit (its data provenance {problem})")
    return manifest, z


def _provenance_problem(data) -> str:
    """Why ``data`` (a manifest's provenance) is malformed, or ``""``."""
    if data is None:
        return ""
    if not isinstance(data, dict):
        return "is not a record"
    for key in ("ranges", "budget_ranges"):
        ranges = data.get(key)
        if ranges is None:
            continue
        if not isinstance(ranges, dict):
            return f"{key!r} is not a table"
        for name, pair in ranges.items():
            if not (isinstance(pair, list) and len(pair) == 2 and all(_real(v) for v in pair)
                    and math.isfinite(pair[0]) and math.isfinite(pair[1])
                    and pair[0] <= pair[1]):
                return f"{key!r} has {pair!r} for {name!r}, not a range [low, high]"
    return ""


def _check_version(path, written: str | None) -> None:
    from .. import __version__

    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging ships with pip
        return
    try:
        newer = Version(str(written)) > Version(__version__)
    except InvalidVersion:
        return  # a source tree without a version: the format version decides
    if newer:
        raise SavedFitError(f"{path} was written by lawkit {written}, newer than this lawkit "
                            f"({__version__}): upgrade lawkit to read it")


def saved_info(path) -> dict:
    """The provenance of a saved fit: format, lawkit version, law name and file, data."""
    manifest, z = _read(path)
    z.close()
    law = manifest.get("law") or {}
    return {"format_version": manifest["format_version"],
            "lawkit_version": manifest.get("lawkit_version"),
            "law": law.get("name"), "law_path": law.get("path"), "data": manifest.get("data")}


def load_fit(path):
    """The :class:`FitResult` saved at ``path``, every number as it was."""
    from ..library import parse
    from .result import FitResult

    manifest, z = _read(path)
    with z:
        try:
            specs = manifest["arrays"]
            arrays = []
            for i, spec in enumerate(specs):
                a = np.load(io.BytesIO(z.read(f"arrays/{i}.npy")), allow_pickle=False)
                if a.dtype.str != spec["dtype"] or list(a.shape) != list(spec["shape"]):
                    raise ValueError(f"array {i} is {a.dtype.str}{list(a.shape)}, the manifest "
                                     f"says {spec['dtype']}{spec['shape']}")
                arrays.append(a)
            fields = {k: _decode(v, arrays) for k, v in manifest["fields"].items()}
            info = manifest["law"]
            name, text, where = info["name"], info["source"], info.get("path") or "<saved>"
        except (KeyError, ValueError, TypeError, AttributeError, IndexError, zipfile.BadZipFile,
                OSError, EOFError, zlib.error) as err:
            raise SavedFitError(f"{path}: corrupt saved fit ({type(err).__name__}: {err})") from None
    try:
        laws = parse(text, f"{where} (saved in {path})")
    except LawkitError as err:
        raise SavedFitError(f"{path}: the saved law text no longer parses:\n{err}") from None
    if name not in laws:
        raise SavedFitError(f"{path}: the saved law text has no law {name!r}")
    law = laws[name]
    if law.fingerprint != info.get("fingerprint"):
        raise SavedFitError(f"{path}: law {name!r} re-parses to a different law than was fitted "
                            f"(its library parent changed since lawkit "
                            f"{manifest.get('lawkit_version')}?)")
    known = {f.name for f in dataclasses.fields(FitResult)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise SavedFitError(f"{path}: fields {', '.join(unknown)} are unknown to this lawkit")
    try:
        result = FitResult(law=law, **fields)
    except TypeError as err:
        raise SavedFitError(f"{path}: corrupt saved fit ({err})") from None
    _check_fields(path, result)
    return result


def _real(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(
        x, (bool, np.bool_))


def _check_fields(path, r) -> None:
    """The rebuilt result has the shapes and types every consumer relies on: each of the
    law's parameters a finite number, ``labels`` among them, a k×k covariance, …"""
    from .result import Goodness, Status

    def bad(field: str, why: str):
        raise SavedFitError(f"{path}: corrupt saved fit (field {field!r} {why})")

    law = r.law
    if not isinstance(r.params, Mapping) or not all(isinstance(k, str) for k in r.params):
        bad("params", "is not a table of parameter values")
    per_group = r.settings.get("per_group") if isinstance(r.settings, Mapping) else None
    for name in law.params:
        if name not in r.params and not (per_group and name in per_group):
            bad("params", f"lacks parameter {name!r} of law {law.name!r}")
    for name, v in r.params.items():
        if not _real(v) or not math.isfinite(float(v)):
            bad("params", f"holds {v!r} for {name!r}, not a finite number")
    if isinstance(r.n, bool) or not isinstance(r.n, int) or r.n < 1:
        bad("n", f"is {r.n!r}, not a positive row count")
    if isinstance(r.k, bool) or not isinstance(r.k, int) or r.k < 0:
        bad("k", f"is {r.k!r}, not a parameter count")
    if not isinstance(r.labels, tuple) or any(lab not in r.params for lab in r.labels):
        bad("labels", "names parameters the fit does not hold")
    for name in ("residuals", "covariance"):
        a = getattr(r, name)
        if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
            bad(name, "is not a float array")
    if r.residuals.ndim != 1:
        bad("residuals", f"has shape {r.residuals.shape}, not one value per row")
    if r.covariance.shape != (len(r.labels), len(r.labels)):
        bad("covariance", f"has shape {r.covariance.shape}, not {len(r.labels)}×{len(r.labels)} "
                          f"(one row per fitted coordinate)")
    if not isinstance(r.status, Status):
        bad("status", f"is {r.status!r}")
    if not isinstance(r.goodness, Goodness):
        bad("goodness", "is not a goodness-of-fit record")
    if not _real(r.ci_level) or not 0 < r.ci_level < 1:
        bad("ci_level", f"is {r.ci_level!r}, not a level in (0, 1)")
    for name in ("stderr", "ci", "transforms", "settings", "mapping", "bootstrap"):
        if not isinstance(getattr(r, name), Mapping):
            bad(name, "is not a table")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in r.mapping.items()):
        bad("mapping", "is not a table of names to columns")
    lengths = set()
    for name, draws in r.bootstrap.items():
        if not isinstance(draws, np.ndarray) or draws.ndim != 1 or draws.dtype.kind != "f":
            bad("bootstrap", f"holds {type(draws).__name__} for {name!r}, not a 1-D float array")
        lengths.add(len(draws))
    if len(lengths) > 1:
        bad("bootstrap", "holds draws of different lengths")
    if not isinstance(r.group_levels, tuple) or not isinstance(r.warnings, tuple):
        bad("group_levels" if not isinstance(r.group_levels, tuple) else "warnings",
            "is not a list")
