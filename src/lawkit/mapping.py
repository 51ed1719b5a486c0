"""Law names ↔ data columns: one mapping for every law, per-law overrides, and hold-out
rules written in either vocabulary.

A mapping sends a law's input/output name to a data column (``{"N": "params"}``).  With
several laws, ``mappings[law_name]`` adds or overrides names for that law only, so laws
with different variable names can be compared on one table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import LawkitError, did_you_mean

_RULE_NAME = re.compile(r"^\s*([^\W\d]\w*)(\s*(?:>=|<=|==|!=|>|<).*)$", re.S)


def law_mapping(law, mapping: Mapping[str, str] | None,
                mappings: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, str]:
    """The mapping one law is fitted with: ``mapping`` updated by ``mappings[law.name]``."""
    return {**dict(mapping or {}), **dict((mappings or {}).get(law.name, {}))}


def check_law_names(mappings: Mapping[str, Mapping[str, str]] | None, names) -> None:
    """Every law named in ``mappings`` is one of ``names``."""
    names = list(names)
    for name in mappings or {}:
        if name not in names:
            hint = did_you_mean(name, names)
            raise LawkitError(f"--map {name}:…: no law {name!r} is being compared"
                              + (f"; {hint}" if hint else "") + f" (laws: {', '.join(names)})")


def rule_in_data_names(rule: str, frame, maps: Mapping[str, Mapping[str, str]]) -> str:
    """``rule`` (``"N >= 1e9"``) with a law name replaced by the data column it maps to.

    A name that is a data column stays; a law name mapped (by any law) to one column
    becomes that column; a law name mapped to different columns by different laws, or
    that is also a different data column, is ambiguous and refused.
    """
    m = _RULE_NAME.match(rule)
    if not m:
        return rule  # 'largest' and malformed rules go to holdout_mask as they are
    name, rest = m.groups()
    targets = {mp[name] for mp in maps.values() if name in mp}
    columns = {str(c) for c in frame.columns}
    if not targets:
        return rule
    if len(targets) > 1:
        raise LawkitError(f"hold-out rule {rule!r}: {name!r} maps to different columns for "
                          f"different laws ({', '.join(sorted(targets))}); write the rule with "
                          f"the data's column name")
    (target,) = targets
    if name in columns and target != name:
        raise LawkitError(f"hold-out rule {rule!r}: {name!r} is a data column and also a law "
                          f"name mapped to column {target!r}; write the rule with {target!r} "
                          f"(or rename the column)")
    return f"{target}{rest}"


def parse_map_options(items: list[str] | None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """``--map`` items → (mapping for every law, ``{law: mapping}``).

    ``N=params`` applies to every law; ``mylaw:N=params`` (or ``mylaw:N=params,D=tokens``,
    the prefix covering the whole item) to law ``mylaw`` only.
    """
    common: dict[str, str] = {}
    per_law: dict[str, dict[str, str]] = {}
    for item in items or []:
        law = None
        for part in item.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if ":" in key:
                law, _, key = key.partition(":")
                law = law.strip()
                if not law:
                    raise LawkitError(f"--map expects [LAW:]NAME=COLUMN, got {part!r}")
            if not sep or not key.strip() or not value.strip():
                raise LawkitError(f"--map expects [LAW:]NAME=COLUMN, got {part!r}")
            target = common if law is None else per_law.setdefault(law, {})
            if key.strip() in target and target[key.strip()] != value.strip():
                raise LawkitError(f"--map gives {(law + ':') if law else ''}{key.strip()} twice "
                                  f"({target[key.strip()]!r} and {value.strip()!r})")
            target[key.strip()] = value.strip()
    return common, per_law
