"""The batched bootstrap (issue 17, target 3): the same resample optima as refitting each
resample with the fit's own Newton, progress per resample, non-converged ones reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lawkit
from lawkit.fitting import fit

from helpers import CHIN_LAW

CHIN = lawkit.parse(CHIN_LAW)["chin"]


@pytest.fixture(scope="module")
def chin():
    rng = np.random.default_rng(4)
    n = 80
    N, D = 10 ** rng.uniform(7, 10, n), 10 ** rng.uniform(9, 12, n)
    L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(rng.normal(0, 0.01, n))
    df = pd.DataFrame({"N": N, "D": D, "L": L})
    return df, fit(CHIN, df)


def test_resample_optima_match_per_resample_newton(chin):
    import jax
    import jax.numpy as jnp

    from lawkit.fitting.bootstrap import refit_resamples, resample_weights
    from lawkit.fitting.data import prepare
    from lawkit.fitting.objective import objective_for
    from lawkit.fitting.solve import batched, refine_batch

    df, best = chin
    K = 48
    with jax.enable_x64(True):
        data = prepare(CHIN, df)
        obj = objective_for(CHIN, "huber", "log", (), (), ())
        args = ({k: jnp.asarray(v) for k, v in data.inputs.items()}, jnp.asarray(data.y), None,
                jnp.asarray(1e-3))
        u0 = obj.layout.from_slot_values(np.array([[best.params[s.label]
                                                     for s in obj.layout.slots]]))[0]
        W = resample_weights(data.n, K, 0, data.weights)
        done = []
        new = refit_resamples(obj.value, obj.residual, obj.rho, u0, W, args, on_done=done.append)
        u_old, f_old, ok_old = refine_batch(obj.value, u0, (jnp.asarray(W), *batched(args, K)))
    assert new.converged.all() and ok_old.all()
    assert sum(done) == K and len(done) > 1  # progress moves as resamples finish
    assert np.allclose(new.f, f_old, rtol=1e-10)  # the same optimum of every resample
    assert np.allclose(new.u, u_old, atol=1e-4)


def test_fit_bootstrap_intervals_and_point_estimate(chin):
    df, best = chin
    r = fit(CHIN, df, bootstrap=200)  # same seed as the point fit
    assert r.params == best.params and r.objective == best.objective  # point estimate unchanged
    for name, (lo, hi) in r.ci.items():
        assert lo < r.params[name] < hi
    assert not any("bootstrap" in w for w in r.warnings)


def test_non_converged_resamples_are_reported(chin):
    df, _ = chin
    r = fit(CHIN, df, bootstrap=30, max_iter=2, throw=False)
    note = [w for w in r.warnings if w.startswith("bootstrap:")]
    assert note and "did not converge within 2 iterations" in note[0]
    n_bad = int(note[0].split()[1])
    assert np.isnan(r.bootstrap["E"]).sum() == n_bad > 0
