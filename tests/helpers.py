"""Small helpers for building laws in tests."""

from __future__ import annotations

import textwrap

import lawkit

#: Epoch's Chinchilla law (Besiroglu et al. 2024), as the reference fit uses it
EPOCH_LAW = """
law epoch:
    inputs N, D
    output loss
    params E > 0, A > 0, B > 0, alpha, beta
    loss = E + A/N^alpha + B/D^beta
"""

#: the Chinchilla form with every parameter positive (the fits of the data and bootstrap tests)
CHIN_LAW = """
law chin:
    inputs N, D
    output L
    params E > 0, A > 0, B > 0, alpha > 0, beta > 0
    L = E + A/N^alpha + B/D^beta
"""


def law_of(body: str, name: str = "t", header: str | None = None) -> lawkit.Law:
    """Parse a one-law text; ``body`` is the indented declarations."""
    text = (header or f"law {name}:") + "\n" + textwrap.indent(textwrap.dedent(body).strip(), "    ")
    return lawkit.parse(text + "\n")[name]
