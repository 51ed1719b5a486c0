"""A minimisation with the budget eliminated, built once per law and problem *shape*.

    minimise T(x₁…x_k) over the ``over`` inputs subject to  budget(x) = B

The budget is solved for one ``over`` variable and substituted (for an equality constraint
this is the same as a Lagrange multiplier), leaving ``T(free; θ, at, B)``.  Everything that
does not depend on numbers — the elimination, the closed form of the stationary point,
the compiled JAX target with its gradient and Hessian in log coordinates — is cached under
the problem's shape, with parameters, given inputs and the budget value passed as traced
arguments.  A second call with other values compiles nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from ..errors import AnalysisError
from ..law import plain_symbol
from ._solve import solve_for

_CACHE: dict = {}


@dataclass(frozen=True, eq=False)
class Reduced:
    """T with the budget eliminated; ``env`` names everything that is not a free variable."""

    law: object
    target_name: str
    target: sp.Expr                       # before elimination (law's symbols)
    over: tuple[str, ...]
    budget_name: str | None
    budget_expr: sp.Expr | None
    eliminated: str | None = None
    elim_expr: sp.Expr | None = None     # the eliminated variable in terms of the others
    reduced: sp.Expr = field(default=None)

    @property
    def free(self) -> tuple[str, ...]:
        return tuple(v for v in self.over if v != self.eliminated)

    @property
    def budget_symbol(self) -> sp.Symbol | None:
        """The budget variable as the law writes it (``law.symbol`` when the law declares it)."""
        if self.budget_name is None:
            return None
        return plain_symbol(self.budget_name)

    @cached_property
    def env_names(self) -> tuple[str, ...]:
        """Names the target needs besides the free variables, in a fixed order."""
        exprs = [self.reduced] + ([self.elim_expr] if self.elim_expr is not None else [])
        names = {s.name for e in exprs for s in e.free_symbols} - set(self.free)
        return tuple(sorted(names))

    # ---- symbolic: the closed form (cached with the problem)
    @cached_property
    def closed_form(self) -> dict[str, sp.Expr] | None:
        """``{variable: expression}`` of the stationary point in the law's symbols, or None."""
        if len(self.free) != 1:
            return None
        v = self.free[0]
        x = self.law.symbol(v)
        sol = solve_for(sp.diff(self.reduced, x), x)
        if sol is None:
            return None
        out = {v: sol}
        if self.eliminated is not None:
            out[self.eliminated] = sp.simplify(self.elim_expr.xreplace({x: sol}))
        return out

    # ---- compiled (JAX, log coordinates t = log x)
    @cached_property
    def jax_functions(self):
        """(value, grad, hessian) of T(e^t; env), and the eliminated variable e(e^t; env)."""
        import jax

        from ..backends.jax import compile_expression

        node = compile_expression(self.reduced)
        free = self.free
        import jax.numpy as jnp

        def value(t, env):
            return node({**env, **{n: jnp.exp(t[i]) for i, n in enumerate(free)}})

        elim = None
        if self.elim_expr is not None:
            e_node = compile_expression(self.elim_expr)

            def elim(t, env):
                return e_node({**env, **{n: jnp.exp(t[i]) for i, n in enumerate(free)}})
        return (value, jax.jit(jax.grad(value)), jax.jit(jax.hessian(value)),
                None if elim is None else jax.jit(elim), jax.jit(value))

    @cached_property
    def numpy_functions(self):
        """NumPy (reduced target, eliminated variable) over ``env`` plus the free variables."""
        from ..backends.numpy import compile_expression

        return (compile_expression(self.reduced),
                None if self.elim_expr is None else compile_expression(self.elim_expr))


def reduce_problem(law, target_name: str, target: sp.Expr, over: tuple[str, ...],
                   budget_name: str | None, budget_expr: sp.Expr | None) -> Reduced:
    """The cached :class:`Reduced` problem for this shape."""
    key = (law.fingerprint, target_name, over, budget_name,
           None if budget_expr is None else sp.srepr(budget_expr))
    if key not in _CACHE:
        if len(_CACHE) >= 256:
            _CACHE.clear()
        _CACHE[key] = _build(law, target_name, target, over, budget_name, budget_expr)
    return _CACHE[key]


def _build(law, target_name, target, over, budget_name, budget_expr) -> Reduced:
    if budget_expr is None:
        return Reduced(law, target_name, target, over, None, None, reduced=target)
    B = plain_symbol(budget_name)
    for v in reversed(over):
        x = law.symbol(v)
        if x in budget_expr.free_symbols:
            sol = solve_for(budget_expr - B, x)
            if sol is not None and not sol.has(sp.I):
                return Reduced(law, target_name, target, over, budget_name, budget_expr, v, sol,
                               reduced=target.xreplace({x: sol}))
    raise AnalysisError(f"cannot solve the budget {budget_name} = {budget_expr} for any of "
                        f"{', '.join(over)}")


def environment(problem: Reduced, params: Mapping[str, float], at: Mapping[str, float]) -> dict:
    """Numbers for :attr:`Reduced.env_names` from parameter values and ``at``."""
    source = {**params, **at}
    missing = [n for n in problem.env_names if n not in source]
    if missing:
        raise AnalysisError(f"missing values for {', '.join(missing)}")
    return {n: float(source[n]) for n in problem.env_names}
