"""Canonical ASCII names: each Greek letter becomes its English name (``γ_w`` → ``gamma_w``).

SymPy's LaTeX printer turns ``gamma_w`` back into ``\\gamma_{w}``, so nothing is lost.
"""

from __future__ import annotations

_LOWER = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
          "rho sigma tau upsilon phi chi psi omega").split()
_GREEK = {chr(0x3B1 + i): name for i, name in enumerate(_LOWER[:17])}  # α … ρ
_GREEK.update({chr(0x3C3 + i): name for i, name in enumerate(_LOWER[17:])})  # σ … ω
_GREEK.update({"ς": "sigma", "ϵ": "epsilon", "ϑ": "theta", "ϕ": "phi", "ϱ": "rho", "ϖ": "pi"})
_GREEK.update({chr(0x391 + i): name.capitalize() for i, name in enumerate(_LOWER[:17])})  # Α … Ρ
_GREEK.update({chr(0x3A3 + i): name.capitalize() for i, name in enumerate(_LOWER[17:])})  # Σ … Ω
_GREEK["µ"] = "mu"  # micro sign

_SUBSCRIPT_DIGITS = {chr(0x2080 + d): str(d) for d in range(10)}


def canonical(name: str) -> str:
    """ASCII spelling of a law name: Greek letters spelled out, ``N₀`` → ``N_0``.

    >>> canonical("γ_w"), canonical("α"), canonical("N₀"), canonical("N_eff")
    ('gamma_w', 'alpha', 'N_0', 'N_eff')
    """
    out = []
    for ch in name:
        if ch in _SUBSCRIPT_DIGITS:
            if not out or not out[-1].endswith(("_",) + tuple(_SUBSCRIPT_DIGITS.values())):
                out.append("_")
            out.append(_SUBSCRIPT_DIGITS[ch])
        else:
            out.append(_GREEK.get(ch, ch))
    return "".join(out)
