"""Design targets as users write them: ``"N_opt at C=1e24"`` (a coordinate of the optimum
under a budget) or ``"L at N=1e9,D=2e10"`` (the law's value at a point), and the budget or
cost expressions they name, parsed against the law's own names (never evaluated as code)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import AnalysisError, LawError, did_you_mean

_TARGET = re.compile(r"^\s*([^\W\d]\w*?)(_opt)?\s+at\s+(.+?)\s*$", re.S)


@dataclass(frozen=True, kw_only=True)
class Target:
    """``"N_opt at C=1e24"`` (kind "optimum": coordinate ``name`` of the optimum of the
    output under the budget) or ``"L at N=…,D=…"`` (kind "value": the output or a term)."""

    text: str
    kind: str
    name: str
    at: Mapping[str, float]


def _numbers(text: str, what: str) -> dict[str, float]:
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise AnalysisError(f"{what}: expected NAME=VALUE, got {part.strip()!r}")
        if key.strip() in out:
            raise AnalysisError(f"{what}: {key.strip()!r} is given twice")
        if not value.strip().isascii():
            raise AnalysisError(f"{what}: {value.strip()!r} is not a number (write digits 0-9)")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise AnalysisError(f"{what}: {value.strip()!r} is not a number") from None
    return out


def parse_target(law, text: str) -> Target:
    """Read ``"X_opt at BUDGET=VALUE[, INPUT=VALUE…]"`` or ``"OUT at INPUT=VALUE,…"``."""
    m = _TARGET.match(text or "")
    if not m:
        raise AnalysisError(f"--target: cannot read {text!r}; write e.g. 'N_opt at C=1e24' or "
                            f"'{law.output.name} at {', '.join(f'{v}=1e9' for v in law.inputs)}'")
    name, opt, rest = m.group(1), m.group(2), m.group(3)
    at = _numbers(rest, f"--target {text!r}")
    for k, v in at.items():
        if not (math.isfinite(v) and v > 0):
            raise AnalysisError(f"--target: {k} = {v:g}; values must be finite and positive")
    if opt:
        known = [*law.inputs, law.output.name]
        if name not in known:
            raise AnalysisError(f"--target: {name}_opt names neither an input nor the output of "
                                f"law {law.name!r}"
                                + (f"; {h}" if (h := did_you_mean(name, known)) else ""))
        return Target(text=text.strip(), kind="optimum", name=name, at=at)
    known = [law.output.name, *law.terms]
    if name not in known:
        raise AnalysisError(f"--target: {name!r} is neither the output ({law.output.name}) nor a "
                            f"term of law {law.name!r}"
                            + (f"; {h}" if (h := did_you_mean(name, known)) else ""))
    missing = [v for v in law.inputs if v not in at
               and law.symbol(v) in (law.expr if name == law.output.name
                                     else law.term(name)).free_symbols]
    unknown = [k for k in at if k not in law.inputs]
    if unknown or missing:
        raise AnalysisError(f"--target {text!r}: "
                            + (f"{', '.join(unknown)} is not an input"
                               + (f" ({h})" if (h := did_you_mean(unknown[0], law.inputs))
                                  else "") + ("; " if missing else "") if unknown else "")
                            + (f"give a value for {', '.join(missing)}" if missing else "")
                            + f" (inputs: {', '.join(law.inputs)})")
    return Target(text=text.strip(), kind="value", name=name, at=at)


def _budget_for(law, target: Target, cost: str | None) -> tuple[str, str]:
    """The budget equation of an optimum target: the law's own, else ``NAME = cost``."""
    names = [k for k in target.at if k not in law.inputs]
    if len(names) != 1:
        raise AnalysisError(f"--target {target.text!r}: give exactly one budget value "
                            f"(e.g. C=1e24); got {', '.join(names) or 'none'}")
    name = names[0]
    if name in law.budgets:
        return name, f"{name} = {law.budget(name)}"
    if law.budgets:
        hint = did_you_mean(name, [*law.budgets, *law.inputs])
        raise AnalysisError(f"--target {target.text!r}: law {law.name!r} has no budget or input "
                            f"{name!r}, so no budget {name!r} (inputs: {', '.join(law.inputs)}; "
                            f"budgets: {', '.join(law.budgets)})" + (f"; {hint}" if hint else ""))
    if cost is None or cost in law.inputs:
        raise AnalysisError(f"law {law.name!r} declares no budget {name!r}; give --cost with "
                            f"the budget expression (e.g. '6*N*D')")
    return name, f"{name} = {_plain(cost)}"


def _parse_budget(law, text: str, what: str, advice: str):
    """``parse_budget`` with its errors told as ``what`` (the option the text came from)."""
    from .optimum import parse_budget

    try:
        return parse_budget(law, text)
    except LawError as err:
        message = err.message.replace("budget '_cost'", "the cost")
        hint = f" ({err.hint})" if err.hint and "unknown name" not in err.message else ""
        raise AnalysisError(f"{what}: {message}{hint}; law {law.name!r} has inputs "
                            f"{', '.join(law.inputs)}; {advice}") from None


def _plain(text: str) -> str:
    return text.replace("·", "*").replace("×", "*")


def _over(law, budget_text: str, at) -> list[str]:
    _, expr = _parse_budget(law, budget_text, f"budget {budget_text!r}",
                            "give --cost with the budget in the law's inputs")
    return [v for v in law.inputs if law.symbol(v) in expr.free_symbols and v not in at]
