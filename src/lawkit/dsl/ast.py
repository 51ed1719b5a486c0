"""The law language as frozen dataclasses; every node keeps the span it was parsed from.

Names are canonical ASCII (``γ_w`` → ``gamma_w``); ``raw`` keeps what the user typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from ..errors import Source, Span


@dataclass(frozen=True)
class Number:
    text: str
    span: Span


@dataclass(frozen=True)
class Name:
    id: str
    raw: str
    span: Span


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * / ^
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class UnOp:
    op: str  # + or -
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Call:
    func: Name
    args: tuple["Expr", ...]
    span: Span


Expr = Union[Number, Name, BinOp, UnOp, Call]


@dataclass(frozen=True)
class Described:
    """``N "parameters"``: a declared variable with an optional description."""

    name: Name
    description: str


@dataclass(frozen=True)
class Param:
    """``α ∈ (0, 2)``, ``E > 0``, ``c = 2.5`` (fixed), ``β = α`` (tied), ``a ~ 10`` (initial)."""

    name: Name
    lower: float
    upper: float
    lower_open: bool
    upper_open: bool
    fixed: Expr | None
    init: float | None
    span: Span


@dataclass(frozen=True)
class Assignment:
    name: Name
    expr: Expr
    span: Span


@dataclass(frozen=True)
class Inputs:
    items: tuple[Described, ...]
    span: Span


@dataclass(frozen=True)
class Output:
    item: Described
    span: Span


@dataclass(frozen=True)
class Params:
    items: tuple[Param, ...]
    span: Span


@dataclass(frozen=True)
class Consts:
    items: tuple[Assignment, ...]
    span: Span


@dataclass(frozen=True)
class Budget:
    item: Assignment
    span: Span


@dataclass(frozen=True)
class Values:
    name: Name
    citation: str
    items: tuple[Assignment, ...]
    span: Span


@dataclass(frozen=True)
class Equation:
    item: Assignment
    span: Span


Decl = Union[Inputs, Output, Params, Consts, Budget, Values, Equation]


@dataclass(frozen=True)
class LawDecl:
    """One ``law NAME ["citation"] [extends PARENT]:`` block with its declarations."""

    name: Name
    citation: str
    parent: Name | None
    decls: tuple[Decl, ...]
    span: Span
    source: Source


@dataclass(frozen=True)
class LawFile:
    laws: tuple[LawDecl, ...]
    source: Source
