"""The Lark parser for ``grammar/law.lark``, built once per process.

Lark's ``strict`` mode (no two terminals may match the same text) is checked by the test
suite, not on every start: it costs a second of regular-expression analysis.
"""

from __future__ import annotations

from functools import cache

import lark

from .._resources import resource_dir


def grammar_text() -> str:
    return (resource_dir("grammar") / "law.lark").read_text(encoding="utf-8")


@cache
def parser(postlex: object, strict: bool = False) -> lark.Lark:
    return lark.Lark(grammar_text(), parser="lalr", strict=strict, propagate_positions=True,
                     maybe_placeholders=False, postlex=postlex)
