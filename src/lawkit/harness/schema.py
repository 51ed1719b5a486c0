"""The sweep-spec schema: keys, types and ranges of every setting, and the checks across
them (width % heads = 0, an even head size for RoPE, a model that fits in memory, at least one
training step, GPTQ only with formats it supports …).  :func:`check_spec` returns every
problem as ``(key path, message)``; :func:`locate` finds the line of a key path in the TOML.
"""

from __future__ import annotations

import math
import re

from ..errors import LawkitError, did_you_mean
from ..quant import parse_format
from .train import EVAL_TOKENS

MAX_TOKENS = 10**10          # per run
MAX_EVAL_TOKENS = 10**8
MAX_MODEL_BYTES = 4 * 2**30  # parameters, gradients, Adam moments and activations

DEFAULTS = {
    "data": {"corpus": "stdlib", "seq": 64, "batch": 16, "lr": 3e-3, "warmup": 0.1,
             "weight_decay": 0.1, "eval_tokens": EVAL_TOKENS, "device": "cpu"},
    "model": {"heads": 4},
    "ptq": {"calibration_batches": 4},
}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) or (
        isinstance(v, float) and math.isfinite(v) and v == int(v))


def _int(lo, hi):
    def check(v, where):
        if not _is_int(v):
            return [(where, f"must be an integer, not {v!r}")]
        if not lo <= v <= hi:
            return [(where, f"must be between {lo:g} and {hi:g}, not {v:g}")]
        return []
    return check


def _num(lo, hi, *, open_low=False):
    def check(v, where):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return [(where, f"must be a finite number, not {v!r}")]
        if v < lo or v > hi or (open_low and v == lo):
            side = ">" if open_low else "≥"
            return [(where, f"must be {side} {lo:g} and ≤ {hi:g}, not {v:g}")]
        return []
    return check


def _str(v, where):
    return [] if isinstance(v, str) else [(where, f"must be a string, not {v!r}")]


def _choice(*values):
    def check(v, where):
        if v in values:
            return []
        hint = did_you_mean(v, values) if isinstance(v, str) else ""
        return [(where, f"must be one of {', '.join(map(repr, values))}, not {v!r}"
                 + (f"; {hint}" if hint else ""))]
    return check


def _format(v, where):
    if not isinstance(v, str):
        return [(where, f"a format must be a string such as 'int4', not {v!r}")]
    if v == "none":
        return []
    try:
        parse_format(v)
    except LawkitError as err:
        return [(where, str(err))]
    return []


def _list(item, *, min_len=1):
    def check(v, where):
        if not isinstance(v, list):
            return [(where, f"must be a list, not {v!r}")]
        if len(v) < min_len:
            return [(where, f"needs at least {min_len} entr{'y' if min_len == 1 else 'ies'}")]
        return [p for i, x in enumerate(v) for p in item(x, (*where, i))]
    return check


def _table(keys: dict, required=()):
    def check(v, where):
        if not isinstance(v, dict):
            return [(where, f"must be a table, not {v!r}")]
        out = [((*where, k), "unknown key" + (f"; {h}" if (h := did_you_mean(k, keys)) else
                                                f" (known: {', '.join(keys)})"))
               for k in v if k not in keys]
        out += [(where, f"needs the key {k!r}") for k in required if k not in v]
        return out + [p for k, x in v.items() if k in keys for p in keys[k](x, (*where, k))]
    return check


def _train(v, where):
    if isinstance(v, dict):
        return _table({"weight": _format, "activation": _format, "kv": _format})(v, where)
    if isinstance(v, str):
        return _format(v, where)
    return [(where, f"a training precision is a format name or a table with weight/"
                    f"activation/kv, not {v!r}")]


MODEL = {"width": _int(8, 65536), "depth": _int(1, 256), "heads": _int(1, 1024)}
SCHEMA = _table({
    "name": _str,
    "data": _table({"corpus": _str, "seq": _int(2, 8192), "batch": _int(1, 65536),
                    "lr": _num(0, 1, open_low=True), "warmup": _num(0, 1),
                    "weight_decay": _num(0, 10), "eval_tokens": _int(1, MAX_EVAL_TOKENS),
                    "device": _choice("cpu", "cuda", "auto")}),
    "grid": _table({"models": _list(_table(MODEL, required=("width", "depth"))),
                    "tokens": _list(_int(1, MAX_TOKENS)), "train": _list(_train),
                    "seeds": _list(_int(0, 2**31 - 1))}, required=("models", "tokens")),
    "ptq": _table({"methods": _list(_choice("rtn", "gptq"), min_len=0),
                   "formats": _list(_format, min_len=0),
                   "calibration_batches": _int(0, 100_000)}),
}, required=("grid",))


def model_bytes(width: int, depth: int, heads: int, seq: int, batch: int) -> float:
    """Rough training memory: 16 bytes per parameter (fp32 weight, gradient, two Adam
    moments) plus saved activations (≈ 2 copies of each layer's inputs and outputs, the
    attention scores and the logits, in fp32)."""
    from .tinylm import ModelConfig

    cfg = ModelConfig(width=width, depth=depth, heads=heads, seq=seq)
    params = cfg.n_params + 2 * cfg.vocab * width
    tokens = batch * seq
    acts = tokens * depth * (14 * width + 3 * cfg.hidden) + batch * heads * seq * seq * depth
    return 16.0 * params + 4.0 * 2 * (acts + 3 * tokens * cfg.vocab)


def check_spec(raw: dict) -> list[tuple[tuple, str]]:
    """Every problem of a parsed spec, as (key path, message)."""
    problems = SCHEMA(raw, ())
    if problems:
        return problems
    data = {**DEFAULTS["data"], **raw.get("data", {})}
    seq, batch = int(data["seq"]), int(data["batch"])
    for i, m in enumerate(raw["grid"]["models"]):
        w, d, h = int(m["width"]), int(m["depth"]), int(m.get("heads", DEFAULTS["model"]["heads"]))
        where = ("grid", "models", i)
        if w % h:
            problems.append((where, f"width {w} is not a multiple of heads {h}"))
        elif (w // h) % 2:
            problems.append((where, f"head size width/heads = {w // h} must be even (RoPE)"))
        elif (need := model_bytes(w, d, h, seq, batch)) > MAX_MODEL_BYTES:
            problems.append((where, f"width {w}, depth {d} needs about {need / 2**30:.3g} GB to "
                                    f"train at batch {batch} × seq {seq} (limit "
                                    f"{MAX_MODEL_BYTES / 2**30:g} GB)"))
    for i, t in enumerate(raw["grid"]["tokens"]):
        if t < batch * seq:
            problems.append((("grid", "tokens", i), f"{t:g} tokens is less than one training "
                                                    f"step (batch × seq = {batch * seq})"))
    if int(data["eval_tokens"]) < seq:
        problems.append((("data", "eval_tokens"), f"must be at least one window (seq = {seq})"))
    ptq = raw.get("ptq", {})
    methods, formats = ptq.get("methods", []), ptq.get("formats", [])
    if bool(methods) != bool(formats):
        problems.append((("ptq",), "give both methods and formats (or neither)"))
    if "gptq" in methods:
        from .ptq import gptq_supports

        if int(ptq.get("calibration_batches", DEFAULTS["ptq"]["calibration_batches"])) < 1:
            problems.append((("ptq", "calibration_batches"), "GPTQ needs at least 1 batch"))
        for i, f in enumerate(formats):
            if f != "none" and not gptq_supports(f):
                problems.append((("ptq", "formats", i), f"GPTQ supports symmetric int and float "
                                                        f"formats, not {f!r} (use rtn only)"))
    if "none" in formats:
        problems.append((("ptq", "formats", formats.index("none")), "'none' is not a PTQ format"))
    return problems


_HEADER = re.compile(r"^[ \t]*(\[\[?)[ \t]*([^\]\n]+?)[ \t]*\]\]?", re.M)


def locate(text: str, where: tuple) -> int | None:
    """1-based line of the key path ``where`` in TOML ``text`` (best effort; None if not
    found): ``[table]`` headers, ``[[arrays.of.tables]]``, inline tables and arrays."""
    headers = [(m.start(), m.group(2), m.group(1) == "[[") for m in _HEADER.finditer(text)]
    ends = [h[0] for h in headers[1:]] + [len(text)]
    regions = [(pos, end, name, arr) for (pos, name, arr), end in zip(headers, ends)]
    for depth in range(len(where), 0, -1):  # the longest prefix of where that is a header
        head, rest = where[:depth], where[depth:]
        if isinstance(head[-1], int):
            name = ".".join(map(str, head[:-1]))
            found = [r for r in regions if r[3] and r[2] == name]
            found = found[head[-1]:head[-1] + 1]
        else:
            name = ".".join(map(str, head))
            found = [r for r in regions if not r[3] and r[2] == name]
        if found:
            start, end = found[0][:2]
            return _find_in(text, start, end, rest) or _line(text, start)
    return _find_in(text, 0, headers[0][0] if headers else len(text), where)


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _item(text: str, pos: int, end: int, index: int) -> int | None:
    """Position of the index-th inline table of the array that starts after pos."""
    i = text.find("[", pos, end)
    if i < 0:
        return None
    depth, k = 0, -1
    while i < end:
        c = text[i]
        if c in "\"'":
            j = text.find(c, i + 1, end)
            i = j if j > 0 else end
        elif c in "[{":
            depth += 1
            if c == "{" and depth == 2:
                k += 1
                if k == index:
                    return i
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return None
        i += 1
    return None


def _find_in(text: str, start: int, end: int, rest: tuple) -> int | None:
    """Line of the keys / list indices ``rest`` inside text[start:end]."""
    pos, found = start, not rest
    for part in rest:
        if isinstance(part, int):
            pos = _item(text, pos, end, part) or pos
            continue
        m = re.compile(rf'(^|[{{,\s])"?{re.escape(part)}"?[ \t]*=', re.M).search(text, pos, end)
        if m is None:
            break
        pos, found = m.start() + len(m.group(1)), True
    return _line(text, pos) if found else None
