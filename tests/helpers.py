"""Small helpers for building laws in tests."""

from __future__ import annotations

import textwrap

import lawkit


def law_of(body: str, name: str = "t", header: str | None = None) -> lawkit.Law:
    """Parse a one-law text; ``body`` is the indented declarations."""
    text = (header or f"law {name}:") + "\n" + textwrap.indent(textwrap.dedent(body).strip(), "    ")
    return lawkit.parse(text + "\n")[name]
