"""The multi-start refine as a work queue (issue 17): each iteration steps the first 16
lanes still running.  Every lane must end where it ends in the one-batch vmapped loop (up
to rounding: a batch's width changes XLA's vectorisation)."""

from __future__ import annotations

import numpy as np
import pytest

import lawkit
from lawkit.backends.jax import double_precision
from lawkit.fitting.solve import _refine_all, _refine_shared_all, batched


def _rosenbrock(u, a):
    import jax.numpy as jnp

    return jnp.sum((a - u[:-1]) ** 2 + 100.0 * (u[1:] - u[:-1] ** 2) ** 2)


@pytest.mark.parametrize("width", [16, "all"])  # CPU; a GPU steps all lanes at once
@pytest.mark.parametrize("n_starts,max_iter", [(64, 1000), (37, 1000), (64, 7), (5, 1000)])
def test_queued_refine_matches_one_batch(n_starts, max_iter, width):
    """Rosenbrock from spread starts: iteration counts spread widely (lanes leave the
    queue at different times); with max_iter = 7 every lane stops on the cap."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    U = rng.uniform(-2.0, 2.0, size=(n_starts, 4))
    U[0] = np.inf  # a non-finite start: done at once, objective non-finite
    args = (jnp.asarray(1.0),)
    with double_precision():
        one = jax.jit(lambda U: _refine_all(_rosenbrock, max_iter, U,
                                            batched(args, U.shape[0])))(jnp.asarray(U))
        w = n_starts if width == "all" else width
        queued = jax.jit(lambda U: _refine_shared_all(_rosenbrock, max_iter, w, U,
                                                      args))(jnp.asarray(U))
    u1, f1, it1, ok1 = (np.asarray(a) for a in one)
    u2, f2, it2, ok2 = (np.asarray(a) for a in queued)
    assert not ok2[0] and not np.isfinite(f2[0])
    np.testing.assert_array_equal(ok1, ok2)
    live = np.isfinite(f1)
    assert live.sum() == n_starts - 1
    if max_iter == 7:
        assert (it2[live] == 7).all() and not ok2.any()
        np.testing.assert_allclose(u2, u1, rtol=1e-12)
        return
    assert ok2[live].all()
    if n_starts > 16:
        assert len(set(it2[live])) > 10  # spread: lanes left the queue at many times
    np.testing.assert_allclose(u2[live], u1[live], atol=1e-7)  # the same minimum per lane
    np.testing.assert_allclose(f2[live], f1[live], atol=1e-20)
    # rounding near the stopping test moves a lane's last few iterations, no more
    assert np.median(np.abs(it2 - it1)) == 0 and np.abs(it2 - it1).max() <= 12


def test_queued_fit_keeps_the_reference_optimum(shared_data):
    """Epoch's reanalysis of Chinchilla (the benchmark problem): the same objective to 12
    digits as before the queue (1.0182740178006e-3 from the one-batch loop)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    import fit_speed

    law = lawkit.parse(fit_speed.LAW)["epoch"]
    result = lawkit.fit(law, fit_speed.load())
    assert result.objective == pytest.approx(1.0182740178006e-3, rel=1e-12)
