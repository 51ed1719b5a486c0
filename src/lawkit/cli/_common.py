"""Helpers shared by the subcommands: choosing a law, parsing NAME=VALUE options."""

from __future__ import annotations

from pathlib import Path

from ..errors import LawkitError, did_you_mean


def pick_law(source: str, name: str | None):
    """The law ``name`` from file/library ``source``; without a name, the only law, or the
    one named like the file or library entry."""
    from ..library import load

    laws = load(source)
    if not laws:
        raise LawkitError(f"{source} holds no law (an empty file?): write 'law NAME: ...' in it")
    if name is not None:
        if name not in laws:
            raise LawkitError(f"{source} has no law {name!r}"
                              + (f"; {h}" if (h := did_you_mean(name, laws)) else "")
                              + f" (laws: {', '.join(laws)})")
        return laws[name]
    if len(laws) == 1:
        return next(iter(laws.values()))
    stem = Path(source).stem
    if stem in laws:
        return laws[stem]
    raise LawkitError(f"{source} holds several laws ({', '.join(laws)}); choose one with --law NAME")


def add_objective_options(p, per_law: bool = False) -> None:
    """--map/--loss/--delta/--space, shared by the commands that fit."""
    if per_law:
        p.add_argument("--map", action="append", metavar="[LAW:]NAME=COLUMN",
                       help="data column for a law input/output (repeatable); with LAW: for "
                            "that law only, e.g. --map mylaw:N=params")
    else:
        p.add_argument("--map", action="append", metavar="NAME=COLUMN",
                       help="data column for a law input/output (repeatable)")
    p.add_argument("--loss", choices=["huber", "l1", "mse"], default="huber")
    p.add_argument("--delta", type=float, default=1e-3, help="Huber delta (default 1e-3)")
    p.add_argument("--space", choices=["log", "linear"], default="log",
                   help="residuals log y − log ŷ (default) or y − ŷ")


def key_values(items: list[str] | None, what: str, numeric: bool = True) -> dict:
    """``["a=1", "b=2"]`` (or ``"a=1,b=2"`` items) → ``{"a": 1.0, "b": 2.0}``."""
    out: dict = {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise LawkitError(f"{what} expects NAME=VALUE, got {part!r}")
            if key.strip() in out:
                raise LawkitError(f"{what} gives {key.strip()!r} twice (in {part!r}); give each "
                                  f"name once")
            if numeric and not value.strip().isascii():
                raise LawkitError(f"{what}: {value.strip()!r} is not a number (write digits "
                                  f"0-9; in {part!r})")
            if numeric:
                try:
                    out[key.strip()] = float(value)
                except ValueError:
                    raise LawkitError(f"{what}: {value.strip()!r} is not a number (in {part!r})") from None
            else:
                out[key.strip()] = value.strip()
    return out
