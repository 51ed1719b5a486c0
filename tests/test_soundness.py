"""Issue 12's silent wrong answers, each in the scenario that exposed it, plus the options
(throw=False, max_iterations, weights=, the bracketed root) that had no test."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import threading
from pathlib import Path

import mpmath
import numpy as np
import pandas as pd
import pytest
import sympy as sp

import lawkit
from helpers import law_of
from lawkit.analysis import optimum, optimum_distribution, solve_input
from lawkit.compare import compare
from lawkit.fitting import Status, fit

FIXTURES = Path(__file__).parent / "fixtures"
CHIN = lawkit.load("chinchilla")["chinchilla"]


# ---- 1. cancellation: the objective reported equals the objective evaluated exactly
def _datablations() -> pd.DataFrame:
    df = pd.read_csv(FIXTURES / "datablations_c4.csv")
    df = df[df.val_loss < 6].rename(columns={"N_params": "N", "D_tokens": "D",
                                             "U_unique_tokens": "U_D", "val_loss": "L"})
    return df.assign(U_N=df["N"]).reset_index(drop=True)


def _exact_objective(law, params: dict, frame: pd.DataFrame, delta: float) -> float:
    """Σ Huber_δ(log y − log f) with every operation in 50-digit arithmetic (mpmath)."""
    mpmath.mp.dps = 50
    env = {law.symbol(k): sp.Float(v, 50) for k, v in params.items()}
    f = sp.lambdify([law.symbol(n) for n in ("N", "D", "U_D", "U_N")], law.expr.xreplace(env),
                    "mpmath")
    total = mpmath.mpf(0)
    for n, d, ud, un, y in frame[["N", "D", "U_D", "U_N", "L"]].itertuples(index=False):
        r = mpmath.log(y) - mpmath.log(f(mpmath.mpf(n), mpmath.mpf(d), mpmath.mpf(ud),
                                         mpmath.mpf(un)))
        total += r * r / 2 if abs(r) <= delta else delta * (abs(r) - delta / 2)
    return float(total)


def test_data_constrained_objective_is_exact_even_at_huge_r_star():
    """At R*_D = 4e16 the written form 1 − e^(−R/R*) cancels completely in float64; the
    compiled objective must still equal the exact one."""
    import jax.numpy as jnp

    from lawkit.backends.jax import double_precision
    from lawkit.fitting.objective import objective_for

    law = lawkit.load("datablations")["data_constrained"]
    frame = _datablations()
    v = law.value_set("muennighoff2023")
    for r_star in (15.387756, 4e16):
        params = {**v, "R_D_star": r_star}
        fixed = tuple(sorted({k: params[k] for k in ("E", "A", "B", "R_D_star",
                                                     "R_N_star")}.items()))
        with double_precision():
            obj = objective_for(law, "huber", "log", fixed, (), ())
            X = {k: jnp.asarray(frame[k].to_numpy(float)) for k in ("N", "D", "U_D", "U_N")}
            u = jnp.asarray(obj.layout.from_slot_values(np.array([params["alpha"]])))
            got = float(obj.value(u, jnp.ones(len(frame)), X,
                                  jnp.asarray(frame["L"].to_numpy(float)), None, 1e-3))
        assert got == pytest.approx(_exact_objective(law, params, frame, 1e-3), rel=1e-10)


def test_fit_reports_the_objective_at_its_parameters():
    law = lawkit.load("datablations")["data_constrained"]
    frame = _datablations()
    v = law.value_set("muennighoff2023")
    res = fit(law, frame, fix={k: v[k] for k in ("E", "A", "B", "alpha", "R_N_star")})
    exact = _exact_objective(law, dict(res.params), frame, 1e-3)
    assert res.objective == pytest.approx(exact, rel=1e-9)
    # the infimum over R*_D (its R*_D → ∞ limit included) is not undercut
    limit = _exact_objective(law, {**res.params, "R_D_star": 1e300}, frame, 1e-3)
    assert res.objective <= limit * (1 + 1e-12)


# ---- 2. large parameters are not "at bound"
def test_kaplan_n_recovers_a_large_constant_without_bound_flags():
    law = lawkit.load("kaplan")["kaplan_n"]
    N = np.logspace(6, 10, 40)
    rng = np.random.default_rng(0)
    L = (8.8e13 / N) ** 0.076 * np.exp(rng.normal(0, 1e-3, N.size))
    res = fit(law, pd.DataFrame({"N": N, "L": L}))
    assert res.status is Status.converged and res.at_bound == ()
    assert res.params["N_c"] == pytest.approx(8.8e13, rel=0.2)
    assert math.isfinite(res.stderr["N_c"]) and res.stderr["N_c"] > 0


def test_interval_parameter_on_its_bound_is_flagged():
    law = law_of("""
        inputs N
        params E ∈ (0, 1), A > 0, a > 0
        L = E + A/N^a
    """)
    N = np.logspace(6, 10, 30)
    res = fit(law, pd.DataFrame({"N": N, "L": 1.5 + 400 / N**0.3}), throw=False)
    assert "E" in res.at_bound and res.status is Status.at_bound
    assert math.isnan(res.stderr["E"])


# ---- 3. optimum of a term is labelled with the term
TERMED = law_of("""
    inputs N, D
    params E > 0, A > 0, B > 0, α > 0, β > 0
    R = A/N^α + B/D^β
    L = E + R
    budget C = 6·N·D
""")
TERMED_VALUES = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def test_optimum_of_a_term_is_labelled_and_valued_as_the_term():
    o = optimum(TERMED, minimize="R", over=["N", "D"], at={"C": 1e22}, values=TERMED_VALUES)
    assert o.minimize == "R" and "L" not in o.at
    reducible = 406.4 / o.at["N"] ** 0.34 + 410.7 / o.at["D"] ** 0.28
    assert o.at["R"] == pytest.approx(reducible, rel=1e-12)
    whole = optimum(TERMED, over=["N", "D"], at={"C": 1e22}, values=TERMED_VALUES)
    assert whole.at["L"] == pytest.approx(o.at["R"] + 1.69, rel=1e-12)


def test_optimum_distribution_of_a_term_evaluates_the_term():
    rng = np.random.default_rng(1)
    N = np.repeat(np.logspace(7, 10, 8), 4)
    D = np.tile(np.logspace(9, 12, 4), 8)
    L = 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28
    res = fit(TERMED, pd.DataFrame({"N": N, "D": D, "L": L * np.exp(rng.normal(0, 0.01, N.size))}),
              bootstrap=30, seed=2)
    dist = optimum_distribution(TERMED, res, minimize="R", over=["N", "D"], at={"C": 1e22})
    ok = np.isfinite(dist.samples["R"])
    assert ok.sum() >= 25 and dist.minimize == "R"
    p = {k: res.bootstrap[k][ok] for k in ("A", "B", "alpha", "beta")}
    expect = p["A"] / dist.samples["N"][ok] ** p["alpha"] + p["B"] / dist.samples["D"][ok] ** p["beta"]
    assert np.allclose(dist.samples["R"][ok], expect, rtol=1e-9)


# ---- 4. closed forms in the law's own symbols
def test_closed_form_substitutes_with_the_laws_symbols():
    o = optimum(CHIN, over=["N", "D"], at={"C": 5.88e23}, values="hoffmann2022")
    N_star = o.closed_form["N"]
    vals = {CHIN.symbol(k): v for k, v in CHIN.value_set("hoffmann2022").items()}
    number = N_star.subs(vals).subs(CHIN.symbol("C"), 5.88e23)
    assert number.free_symbols == set()
    assert float(number) == pytest.approx(o.at["N"], rel=1e-12)


# ---- 5. per-group fits and weights in compare
def _two_band_frame():
    rng = np.random.default_rng(3)
    rows = []
    for g, E in (("a", 1.5), ("b", 2.5)):
        for n in np.logspace(7, 10, 10):
            for d in (1e9, 1e10, 1e11):
                rows.append({"N": n, "D": d, "set": g,
                             "L": (E + 406.4 / n**0.34 + 410.7 / d**0.28) * np.exp(rng.normal(0, 2e-3))})
    return pd.DataFrame(rows)


def test_compare_scores_per_group_fits_with_their_group_parameters():
    df = _two_band_frame()
    cmp = compare([CHIN], df, holdout="N >= 3e9", group="set", per_group=("E",))
    s = cmp.scores[0]
    assert "E[a]" in s.params and "E[b]" in s.params
    assert s.holdout_are < 0.01  # with one E, the bands alone would cost ~20%


def test_compare_slices_a_weights_array_to_the_training_rows():
    df = _two_band_frame()
    w = np.where(df["set"] == "a", 1.0, 0.0)  # only band a counts
    cmp = compare([CHIN], df, holdout="N >= 3e9", cv=3, weights=w)
    assert cmp.scores[0].params["E"] == pytest.approx(1.5, rel=0.02)


# ---- 8. symbolic work without signals, from any thread
def test_optimum_leaves_signal_handlers_and_works_off_the_main_thread():
    def mine(signum, frame):  # pragma: no cover - never called
        pass

    old = signal.signal(signal.SIGALRM, mine)
    try:
        o = optimum(CHIN, over=["N", "D"], at={"C": 1e22}, values="hoffmann2022")
        assert signal.getsignal(signal.SIGALRM) is mine
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, old)
    out = {}
    t = threading.Thread(target=lambda: out.update(
        o=optimum(CHIN, over=["N", "D"], at={"C": 1e22}, values="hoffmann2022")))
    t.start()
    t.join(60)
    assert out["o"].at == o.at and out["o"].method == "analytic"


# ---- the user's process is left as it was
def test_a_fit_leaves_jax_and_matplotlib_settings_alone():
    code = """
import jax, matplotlib
backend = matplotlib.get_backend()
import lawkit
from lawkit.examples import path
r = lawkit.fit(lawkit.load("chinchilla")["chinchilla"], path())
from lawkit.report.plots import plot_residuals
plot_residuals(r)
import jax.numpy as jnp
assert jax.config.jax_enable_x64 is False, "x64 switched on"
assert jnp.zeros(1).dtype == jnp.float32
assert matplotlib.get_backend() == backend, "backend switched"
assert jax.config.jax_compilation_cache_dir in (None, ""), jax.config.jax_compilation_cache_dir
print(repr(r.objective))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={k: v for k, v in __import__("os").environ.items()
                              if k not in ("JAX_ENABLE_X64", "MPLBACKEND")})
    assert out.returncode == 0, out.stderr[-2000:]
    from lawkit.examples import path

    here = fit(CHIN, path())
    assert float(out.stdout.strip()) == here.objective  # double precision although x64 is off


def test_the_command_line_called_in_process_leaves_the_garbage_collector_alone(capsys):
    """Only the ``lawkit`` program (``cli.entry``) tunes the collector for its start-up;
    ``cli.main`` called from Python changes nothing."""
    import gc

    from lawkit.cli import main

    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        assert main(["laws"]) == 0 and not gc.isenabled()
    finally:
        gc.enable()
    assert main(["laws"]) == 0 and gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_the_lawkit_program_runs_its_command_with_the_collector_on():
    """``python -m lawkit`` turns the collector off for start-up only: the command itself
    runs with it on, and with start-up's objects frozen out of collections."""
    code = """
import gc, sys
import lawkit.cli._laws as laws
def run(args):
    print(gc.isenabled(), gc.get_freeze_count() > 0)
    return 0
laws.run = run
sys.argv = ["lawkit", "laws"]
from lawkit.cli import entry
assert entry() == 0 and gc.isenabled()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "True"]


def test_library_errors_name_arguments_not_cli_flags():
    with pytest.raises(lawkit.AnalysisError) as err:
        optimum(CHIN, over=["X"], at={"C": 1}, values="hoffmann2022")
    assert "--" not in str(err.value)
    with pytest.raises(lawkit.DataError) as err:
        fit(CHIN, pd.DataFrame({"N": [1.0, 2, 3, 4, 5, 6, 7], "L": [1.0] * 7}))
    assert "--" not in str(err.value)


# ---- options that had no test
def _chin_frame(seed=0, n=40):
    rng = np.random.default_rng(seed)
    N, D = np.logspace(7, 10, n), np.logspace(9, 12, n)[rng.permutation(n)]
    L = 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28
    return pd.DataFrame({"N": N, "D": D, "L": L * np.exp(rng.normal(0, 0.005, n))})


def test_throw_false_and_max_iterations():
    df = _chin_frame()
    with pytest.raises(lawkit.FitError, match="did not converge"):
        fit(CHIN, df, max_iter=1)
    res = fit(CHIN, df, max_iter=1, throw=False)
    assert res.status is Status.max_iterations and not res.converged


def test_zero_weights_equal_dropping_the_rows():
    df = _chin_frame(n=60)
    keep = np.arange(60) % 3 != 0
    a = fit(CHIN, df, weights=keep.astype(float))
    b = fit(CHIN, df[keep])
    for k in ("E", "A", "B", "alpha", "beta"):
        assert a.params[k] == pytest.approx(b.params[k], rel=1e-6)
    assert a.objective == pytest.approx(b.objective, rel=1e-9)


def test_bracketed_root_when_there_is_no_closed_form():
    law = law_of("""
        inputs N
        params a > 0, b > 0
        L = a/N + b·e^(−N)
    """)
    sol = solve_input(law, "N", 0.5, values={"a": 1.0, "b": 1.0})
    assert sol.method == "numeric"
    assert 1 / sol.value + math.exp(-sol.value) == pytest.approx(0.5, rel=1e-12)
