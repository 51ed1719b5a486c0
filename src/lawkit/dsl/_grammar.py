"""The Lark parser for ``grammar/law.lark``, built once per process."""

from __future__ import annotations

from functools import cache

import lark

from .._resources import resource_dir


@cache
def parser(postlex: object) -> lark.Lark:
    text = (resource_dir("grammar") / "law.lark").read_text(encoding="utf-8")
    return lark.Lark(text, parser="lalr", strict=True, propagate_positions=True,
                     maybe_placeholders=False, postlex=postlex)
