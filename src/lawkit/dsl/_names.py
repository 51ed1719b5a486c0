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


# Letters drawn the same as a Latin letter in common fonts (after NFKC, which already folds
# full-width and mathematical letters): Cyrillic and Greek look-alikes.
_LOOKALIKE = dict(zip(
    "аВЕеЅѕІіЈјКкМНОоРрСсТуХхԁԛԝӏАΑΒΕΖΗΙΚΜΝΟοΡΤΥΧϲϳ",
    "aBEeSsIiJjKkMHOoPpCcTyXxdqwlAABEZHIKMNOoPTYXcj"))


def skeleton(raw: str) -> str:
    """What a name looks like: NFKC-folded, look-alike letters replaced by Latin ones.

    >>> skeleton("а") == skeleton("a"), skeleton("Ｎ"), skeleton("α")
    (True, 'N', 'α')
    """
    import unicodedata

    return "".join(_LOOKALIKE.get(c, c) for c in unicodedata.normalize("NFKC", raw))


def check_confusables(names, source) -> None:
    """Two different names in one file that look the same are an error (``a`` vs Cyrillic ``а``).

    ``names``: :class:`~lawkit.dsl.ast.Name` nodes in any order; the later spelling is flagged.
    """
    import unicodedata

    from ..errors import LawNameError

    first: dict[str, object] = {}
    for name in sorted(names, key=lambda n: (n.span.line, n.span.column)):
        seen = first.setdefault(skeleton(name.raw), name)
        if seen.id == name.id:
            continue
        a, b = seen.raw, name.raw
        i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        why = ""
        if i < len(a) and i < len(b):
            why = (f"; it has {unicodedata.name(b[i], repr(b[i]))} where the other has "
                   f"{unicodedata.name(a[i], repr(a[i]))}")
        raise LawNameError(f"{b!r} looks like {a!r} (line {seen.span.line}, column "
                           f"{seen.span.column}) but is a different name{why}", name.span, source,
                           "write both with the same letters")
