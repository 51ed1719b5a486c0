"""AST laws → :class:`~lawkit.law.Law`: inheritance, name resolution, checks, SymPy.

``extends`` works on declarations: the child starts from its parent's merged declarations
and adds or overrides by name (a name keeps its kind).  Value sets of the same name merge,
the child's entries winning.  Every check reports the span of the offending declaration, in
the file it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from ..errors import LawDefinitionError, LawLimitError, LawNameError, Source, did_you_mean
from ..law import Law, Parameter, ValueSet, Variable, plain_symbol
from ..ordering import CycleError, topological_order
from . import ast
from ._expr import ExprBuilder, numeric_value
from ._limits import MAX_DEPTH, MAX_EXTENDS_DEPTH, MAX_NODES, tree_size


@dataclass
class _Merged:
    """A law's declarations after inheritance; each entry keeps (node, source)."""

    inputs: dict = field(default_factory=dict)
    output: tuple | None = None
    params: dict = field(default_factory=dict)
    consts: dict = field(default_factory=dict)
    equations: dict = field(default_factory=dict)
    budgets: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # name -> list of (Values, source)

    def copy(self) -> "_Merged":
        return _Merged(dict(self.inputs), self.output, dict(self.params), dict(self.consts),
                       dict(self.equations), dict(self.budgets),
                       {k: list(v) for k, v in self.values.items()})

    def kind_of(self, name: str) -> str | None:
        if self.output is not None and self.output[0].name.id == name:
            return "output"
        for kind in ("inputs", "params", "consts", "budgets"):
            if name in getattr(self, kind):
                return kind
        return "equations" if name in self.equations else None


_KIND_WORDS = {"inputs": "input", "params": "parameter", "consts": "constant",
               "budgets": "budget variable", "equations": "term", "output": "output"}

def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


Resolver = Callable[[ast.Name, Source], "tuple[ast.LawDecl, Resolver]"]


def merge(law: ast.LawDecl, parent: _Merged | None) -> _Merged:
    """Apply ``law``'s declarations on top of its parent's."""
    m = parent.copy() if parent else _Merged()
    src = law.source
    own: dict[str, ast.Name] = {}  # declarations made by this law itself
    own_equations: dict[str, ast.Name] = {}
    own_values: dict[tuple[str, str], ast.Name] = {}

    def clash(name: ast.Name, first: ast.Name) -> LawNameError:
        return LawNameError(f"{name.raw!r} is defined twice in law {law.name.raw!r}", name.span,
                            src, f"first defined at line {first.span.line}, column {first.span.column}")

    def declare(name: ast.Name, kind: str) -> None:
        if name.id in own:
            raise clash(name, own[name.id])
        existing = m.kind_of(name.id)
        if existing not in (None, kind) and {existing, kind} != {"output", "equations"}:
            raise LawNameError(f"{name.raw!r} is already {_a(_KIND_WORDS[existing])}; it cannot "
                               f"also be {_a(_KIND_WORDS[kind])}", name.span, src)
        own[name.id] = name

    for d in law.decls:
        if isinstance(d, ast.Inputs):
            for item in d.items:
                declare(item.name, "inputs")
                m.inputs[item.name.id] = (item, src)
        elif isinstance(d, ast.Output):
            declare(d.item.name, "output")
            m.output = (d.item, src)
        elif isinstance(d, ast.Params):
            for p in d.items:
                declare(p.name, "params")
                m.params[p.name.id] = (p, src)
        elif isinstance(d, ast.Consts):
            for a in d.items:
                declare(a.name, "consts")
                m.consts[a.name.id] = (a, src)
        elif isinstance(d, ast.Budget):
            declare(d.item.name, "budgets")
            m.budgets[d.item.name.id] = (d.item, src)
        elif isinstance(d, ast.Values):
            for a in d.items:  # a law gives each value once (a child may override its parent's)
                first = own_values.setdefault((d.name.id, a.name.id), a.name)
                if first is not a.name:
                    raise LawNameError(f"{a.name.raw!r} is given twice in value set {d.name.raw!r}",
                                       a.name.span, src, f"first given at line {first.span.line}, "
                                       f"column {first.span.column}")
            m.values.setdefault(d.name.id, []).append((d, src))
        else:  # an equation defines a term or the output, once per law
            a = d.item
            if a.name.id in own_equations:
                raise clash(a.name, own_equations[a.name.id])
            kind = m.kind_of(a.name.id)
            if kind not in (None, "equations", "output"):
                raise LawNameError(f"{a.name.raw!r} is {_a(_KIND_WORDS[kind])}; it cannot also be "
                                   f"defined by an equation", a.name.span, src)
            own_equations[a.name.id] = a.name
            m.equations[a.name.id] = (a, src)
    return m


def _output_name(law: ast.LawDecl, m: _Merged) -> tuple[str, str]:
    if m.output is not None:
        item, src = m.output
        if item.name.id not in m.equations:
            raise LawDefinitionError(f"output {item.name.raw!r} has no equation", item.name.span,
                                     src, f"add a line such as '{item.name.raw} = …'")
        return item.name.id, item.description
    used = set()
    for a, _ in m.equations.values():
        used |= _names_in(a.expr)
    roots = [n for n in m.equations if n not in used]
    if len(roots) != 1:
        what = "no equation" if not roots else "several equations (" + ", ".join(roots) + ")"
        raise LawDefinitionError(f"law {law.name.raw!r} has {what} that could be its output",
                                 law.name.span, law.source, "declare it with 'output NAME'")
    return roots[0], ""


def _children(e: ast.Expr) -> tuple:
    if isinstance(e, ast.BinOp):
        return (e.left, e.right)
    if isinstance(e, ast.UnOp):
        return (e.operand,)
    if isinstance(e, ast.Call):
        return e.args
    return ()


def _walk(e: ast.Expr):
    """The nodes of ``e`` in source order, without recursion (chains can be long)."""
    stack = [e]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(_children(node)))


def _names_in(e: ast.Expr) -> set[str]:
    return {n.id for n in _walk(e) if isinstance(n, ast.Name)}


def _first_name(e: ast.Expr, names: set[str]) -> ast.Name | None:
    return next((n for n in _walk(e) if isinstance(n, ast.Name) and n.id in names), None)


def _check_acyclic(defs: dict, what: str, hint: str) -> None:
    """Definitions ``{name: (node with .expr, source)}`` may use each other, never in a cycle.

    The error points at the last definition of the cycle, where it uses the first.
    """
    deps = {n: _names_in(node_expr) for n, (node_expr, _) in defs.items()}
    try:
        topological_order(deps)
    except CycleError as err:
        cycle = err.cycle
        expr, src = defs[cycle[-1]]
        where = _first_name(expr, {cycle[0]})
        raise LawDefinitionError(f"cyclic {what}: {' → '.join([*cycle, cycle[0]])}", where.span,
                                 src, hint) from None


def _param(p: ast.Param, src: Source) -> Parameter:
    lo, hi = p.lower, p.upper
    if lo > hi or (lo == hi and (p.lower_open or p.upper_open)):
        raise LawDefinitionError(f"parameter {p.name.raw!r} has empty bounds "
                                 f"({lo:g} {'>' if lo > hi else '='} {hi:g})", p.span, src,
                                 "write bounds as lower < upper, e.g. 'α ∈ (0, 2)'")
    if p.init is not None and not (lo <= p.init <= hi):
        raise LawDefinitionError(f"initial value {p.init:g} of {p.name.raw!r} is outside its bounds",
                                 p.span, src)
    symbol = sp.Symbol(p.name.id, positive=True) if lo >= 0 else sp.Symbol(p.name.id, real=True)
    return Parameter(p.name.id, symbol, lo, hi, p.lower_open, p.upper_open, None, p.init)


def build_law(law: ast.LawDecl, resolve: Resolver, cache: dict | None = None) -> Law:
    """Build ``law``; ``resolve`` finds the AST of a parent law by name.

    ``cache`` (``id(LawDecl) → merged declarations``) lets the laws of one file share the
    merges of their common ancestors.
    """
    merged = merged_decls(law, resolve, cache=cache if cache is not None else {})
    return _to_law(law, merged)


def merged_decls(law: ast.LawDecl, resolve: Resolver, cache: dict | None = None) -> _Merged:
    """``law``'s declarations with its ancestors' merged in (chain depth ≤ MAX_EXTENDS_DEPTH).

    The chain is walked without recursion; ``cache`` maps ``id(LawDecl)`` to its merged
    declarations and the length of its chain.
    """
    cache = {} if cache is None else cache
    chain, resolvers = [law], [resolve]  # law, its parent, …

    def too_long() -> LawLimitError:
        names = " → ".join(d.name.raw for d in chain[:4])
        return LawLimitError(f"'extends' chain of law {law.name.raw!r} is longer than "
                             f"{MAX_EXTENDS_DEPTH} laws (limit: MAX_EXTENDS_DEPTH = "
                             f"{MAX_EXTENDS_DEPTH})",
                             law.parent.span, law.source, f"the chain starts {names} → …")

    while chain[-1].parent is not None and id(chain[-1]) not in cache:
        if len(chain) >= MAX_EXTENDS_DEPTH:
            raise too_long()
        child = chain[-1]
        parent, parent_resolve = resolvers[-1](child.parent, child.source)
        names = [d.name.id for d in chain]
        if parent.name.id in names:
            loop = [*names[names.index(parent.name.id):], parent.name.id]
            raise LawDefinitionError(f"law {child.name.raw!r} extends itself (through "
                                     f"{' → '.join(loop)})", child.parent.span, child.source)
        chain.append(parent)
        resolvers.append(parent_resolve)
    top = chain[-1]
    if id(top) in cache:
        merged, depth = cache[id(top)]
    else:
        merged, depth = merge(top, None), 1
        cache[id(top)] = merged, depth
    if depth + len(chain) - 1 > MAX_EXTENDS_DEPTH:
        raise too_long()
    for decl in reversed(chain[:-1]):
        depth += 1
        merged = merge(decl, merged)
        cache[id(decl)] = merged, depth
    return merged


def _check_expanded(m: _Merged, names: dict, kinds: dict) -> None:
    """Build every equation and budget again with terms and constants substituted.

    Division by a term that is 0, powers of powers, a constant that overflows a product: the
    number rules of :class:`ExprBuilder` then see the expression the fit will compute, and
    report it at the declaration that makes it bad.
    """
    inlined = set(m.equations) | set(m.consts)
    expanded: dict[str, sp.Expr] = {}
    order = topological_order({n: _names_in(a.expr) for n, (a, _) in m.equations.items()})
    todo = [(n, *m.equations[n], "the equation for") for n in order]
    todo += [(n, a, src, "budget") for n, (a, src) in m.budgets.items()]
    for n, a, src, what in todo:
        if _names_in(a.expr) & inlined:
            built = ExprBuilder(src).build(a.expr, {**names, **expanded},
                                           f"{what} {a.name.raw!r} (terms and constants substituted)",
                                           kinds)
        else:
            built = ExprBuilder(src).build(a.expr, names, f"{what} {a.name.raw!r}", kinds)
        depth, nodes = tree_size(built)
        if depth > MAX_DEPTH or nodes > MAX_NODES:
            size = (f"{depth} levels deep (limit: MAX_DEPTH = {MAX_DEPTH})" if depth > MAX_DEPTH
                    else f"{nodes:.3g} nodes (limit: MAX_NODES = {MAX_NODES:,})")
            raise LawLimitError(f"{what} {a.name.raw!r} is too large once its terms are "
                                f"substituted: {size}", a.expr.span, src,
                                "terms inside terms inside terms … nest deeply" if depth > MAX_DEPTH
                                else "terms that use other terms several times grow fast")
        if what != "budget":
            expanded[n] = built


def _to_law(law: ast.LawDecl, m: _Merged) -> Law:
    out_name, out_desc = _output_name(law, m)
    _check_acyclic({n: (a.expr, src) for n, (a, src) in m.equations.items()}, "definition",
                   "a term cannot depend on itself")
    _check_acyclic({n: (p.fixed, src) for n, (p, src) in m.params.items() if p.fixed is not None},
                   "tie", "a tied parameter cannot depend on itself; fix or free one of them")
    inputs = {n: Variable(n, d.description, sp.Symbol(n, positive=True)) for n, (d, _) in m.inputs.items()}
    params = {n: _param(p, src) for n, (p, src) in m.params.items()}
    kinds = {n: _KIND_WORDS[m.kind_of(n) or "equations"] for n in
             (*m.inputs, *m.params, *m.consts, *m.budgets, *m.equations)}
    kinds[out_name] = "output"
    consts_sym = {n: plain_symbol(n) for n in m.consts}
    terms_sym = {n: plain_symbol(n) for n in m.equations if n != out_name}
    param_sym = {n: p.symbol for n, p in params.items()}
    input_sym = {n: v.symbol for n, v in inputs.items()}

    consts = {}
    for n, (a, src) in m.consts.items():
        consts[n] = sp.Float(numeric_value(ExprBuilder(src), a.expr, f"constant {a.name.raw!r}"))
    for n, (p, src) in m.params.items():
        if p.fixed is not None:
            others = {k: s for k, s in param_sym.items() if k != n}
            value = ExprBuilder(src).build(p.fixed, {**others, **consts}, f"the value of {p.name.raw!r}",
                                           kinds)
            q = params[n]
            if value.is_number and not (q.lower <= value <= q.upper):
                raise LawDefinitionError(f"fixed value {float(value):g} of {p.name.raw!r} is outside "
                                         f"its bounds ({q.bounds_text()})", p.fixed.span, src)
            params[n] = Parameter(n, q.symbol, q.lower, q.upper, q.lower_open, q.upper_open, value,
                                  q.init)
    expr_names = {**input_sym, **param_sym, **consts_sym, **terms_sym}
    terms, equation = {}, None
    for n, (a, src) in m.equations.items():
        built = ExprBuilder(src).build(a.expr, expr_names, f"the equation for {a.name.raw!r}", kinds)
        if n == out_name:
            equation = built
        else:
            terms[n] = built
    budgets = {}
    for n, (a, src) in m.budgets.items():
        budgets[n] = ExprBuilder(src).build(a.expr, expr_names, f"budget {a.name.raw!r}", kinds)
        if not budgets[n].free_symbols & set(input_sym.values()):
            raise LawDefinitionError(f"budget {a.name.raw!r} does not depend on any input",
                                     a.expr.span, src)
    _check_expanded(m, {**input_sym, **param_sym, **consts}, kinds)
    values = {}
    for n, decls in m.values.items():
        entries: dict[str, float] = {}
        citation = ""
        for v, src in decls:
            citation = v.citation or citation
            for a in v.items:
                if a.name.id not in params:
                    raise LawNameError(f"value set {v.name.raw!r} names {a.name.raw!r}, which is not "
                                       f"a parameter of law {law.name.raw!r}", a.name.span, src,
                                       did_you_mean(a.name.id, params)
                                       or "parameters: " + ", ".join(params))
                value = numeric_value(ExprBuilder(src), a.expr, f"the value of {a.name.raw!r}")
                p = params[a.name.id]
                if not (p.lower <= value <= p.upper) or (value == p.lower and p.lower_open) or (
                        value == p.upper and p.upper_open):
                    raise LawDefinitionError(f"value {value:g} of {a.name.raw!r} is outside its "
                                             f"bounds ({p.bounds_text()})", a.expr.span, src)
                entries[a.name.id] = value
        values[n] = ValueSet(n, citation, entries)
    output = Variable(out_name, out_desc, sp.Symbol(out_name, real=True))
    return Law(law.name.id, law.citation, law.parent.id if law.parent else None, inputs, output,
               params, consts, terms, equation, budgets, values, law.source)

