"""Where the shipped grammar and law library live: inside the installed package
(``lawkit/grammar``, ``lawkit/laws``, put there by the wheel build) or, in a source
checkout / editable install, at the repository's top-level ``grammar/`` and ``laws/``."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def resource_dir(name: str) -> Path:
    """Directory ``name`` (``"grammar"`` or ``"laws"``), packaged copy first."""
    here = Path(__file__).resolve().parent
    for candidate in (here / name, here.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"lawkit's {name}/ directory is missing from the installation "
                            f"(looked in {here / name} and {here.parents[1] / name})")
