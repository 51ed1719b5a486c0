"""Every error lawkit shows a user: one base class, one subclass per stage.

A law-file error carries a :class:`Span` and its :class:`Source`, and renders as::

    laws/x.law:3:17: unknown name 'alph'
        L = E + A/N^alph + B/D^β
                    ^^^^
    did you mean 'alpha'?

(``PATH:LINE:COL``, 1-based, columns counted in characters.)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A region of law text: 1-based line and column, end column exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Source:
    """Law text and the path it came from (``<string>`` for text given directly).

    Lines are separated by ``\n`` only, as the grammar counts them (never by the other
    characters :meth:`str.splitlines` breaks at, such as ``\v`` or U+2028).
    """

    text: str
    path: str = "<string>"

    def lines(self) -> list[str]:
        lines = self.text.split("\n")
        if len(lines) > 1 and lines[-1] == "":
            lines.pop()  # the newline that ends the last line
        return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]

    def line(self, number: int) -> str:
        start = 0
        for _ in range(number - 1):  # no split of the whole text for one line
            start = self.text.find("\n", start) + 1
            if start == 0:
                return ""
        if number < 1 or (start >= len(self.text) and number > 1):
            return ""
        end = self.text.find("\n", start)
        line = self.text[start:] if end < 0 else self.text[start:end]
        return line[:-1] if line.endswith("\r") else line


_WIDE = 160  # longest source line shown in full


def _shown(text: str) -> str:
    """A source line as printed: characters that would move the cursor become '\ufffd'."""
    return "".join(c if c == "\t" or c.isprintable() else "\ufffd" for c in text)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` for the closest choices, or ``""`` if none is close."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=3, cutoff=0.6)
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


class LawkitError(Exception):
    """Base of every error lawkit raises on purpose (bad input, failed solve)."""


class LawError(LawkitError):
    """A problem in law text, located by a span; ``str()`` is the full rendering."""

    def __init__(self, message: str, span: Span | None = None, source: Source | None = None,
                 hint: str = ""):
        self.message, self.span, self.source, self.hint = message, span, source, hint
        super().__init__(self.render())

    def render(self) -> str:
        path = self.source.path if self.source else "<string>"
        if self.span is None:
            out = f"{path}: {self.message}"
        else:
            out = f"{path}:{self.span.line}:{self.span.column}: {self.message}"
            text = self.source.line(self.span.line) if self.source is not None else ""
            if text:
                col = max(1, min(self.span.column, len(text) + 1))
                width = (self.span.end_column - self.span.column
                         if self.span.end_line == self.span.line else len(text) - col + 1)
                if len(text) > _WIDE:  # a window around the spot, not a 100 kB line
                    start = max(0, col - 1 - _WIDE // 2)
                    cut = text[start:start + _WIDE]
                    text = ("…" if start else "") + cut + ("…" if start + _WIDE < len(text) else "")
                    col = col - start + (1 if start else 0)
                    width = min(width, len(text) - col + 1)
                pad = "".join("\t" if c == "\t" else " " for c in text[:col - 1])
                out += f"\n    {_shown(text)}\n    {pad}{'^' * max(1, width)}"
        return out + (f"\n{self.hint}" if self.hint else "")

    def __str__(self) -> str:
        return self.render()


class LawSyntaxError(LawError):
    """Text that the grammar does not accept."""


class LawNameError(LawError):
    """An undeclared, duplicated or misused name (variable, function, law, value set)."""


class LawDefinitionError(LawError):
    """A well-formed but inconsistent law: bad bounds, cycles, missing output, …"""


class ValuesError(LawkitError):
    """Parameter values that do not fit a law: unknown, missing, not finite, out of bounds."""


class LawFileError(LawError):
    """A law file that cannot be read as law text: missing, not UTF-8, binary."""


class LawLimitError(LawError):
    """Law text beyond one of the language's limits (file size, nesting, digits, chain depth)."""


class DataError(LawkitError):
    """Data that cannot be used with a law: missing columns, NaN, non-positive values, …"""


class FitError(LawkitError):
    """A fit that could not produce a trustworthy answer (non-finite objective, failed solve)."""


class AnalysisError(LawkitError):
    """An optimum or derived quantity that cannot be computed as asked."""


class QuantError(LawkitError):
    """A quantization format or option that cannot be used."""
