"""JAX's CPU LAPACK kernels, set up before a stored executable runs, and without importing
the whole of ``scipy.linalg`` where the process is lawkit's own.

jaxlib takes LAPACK's function pointers from two Cython modules of SciPy,
``scipy.linalg.cython_blas`` and ``scipy.linalg.cython_lapack``, while it lowers a program
that needs them (every eigendecomposition in a fit).  A compiled program loaded from disk
(:mod:`lawkit.backends.programs`) is never lowered, so :func:`initialize_lapack` must run
first: an executable calling LAPACK before then crashes the process.

Importing those two modules by name first runs ``scipy.linalg/__init__``: about 0.2 s, a
tenth of a cold ``lawkit fit``.  With ``light=True`` (the command line, in its own process)
the two extension modules are loaded from their files, read by jaxlib, and taken out of
``sys.modules`` again, so a later ``import scipy.linalg`` runs as usual (Cython modules are
single-instance: it finds the same module objects).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

_MODULES = ("scipy.linalg.cython_blas", "scipy.linalg.cython_lapack")
_STATE = {"done": False}


def initialize_lapack(light: bool = False) -> bool:
    """Set up jaxlib's CPU LAPACK once per process (``light``: from SciPy's two Cython
    modules alone); True when it is set up, False when JAX offers no way to do it."""
    if _STATE["done"]:
        return True
    try:
        from jax._src.lax import linalg as jax_linalg

        init = jax_linalg.initialize_lapack
    except (ImportError, AttributeError):  # another JAX: stored executables are not loaded
        return False
    if light and "scipy.linalg" not in sys.modules:
        try:
            spec = importlib.util.find_spec("scipy")
            base = os.path.join(os.path.dirname(spec.origin), "linalg")
            for name in _MODULES:
                _load(name, base)
        except Exception:  # noqa: BLE001 — another SciPy layout: JAX imports it as usual
            pass
    try:
        init()  # reads the function pointers; a no-op once done
        _STATE["done"] = True
    except Exception:  # noqa: BLE001
        return False
    finally:
        _forget()
    return True


def _load(name: str, base: str) -> None:
    """Execute extension module ``name`` from its file in ``base``, without its package."""
    if name in sys.modules:
        return
    stem = name.rsplit(".", 1)[1]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(base, stem + suffix)
        if os.path.exists(path):
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return


def _forget() -> None:
    """Take the two modules out of ``sys.modules`` unless ``scipy.linalg`` owns them."""
    if "scipy.linalg" not in sys.modules:
        for name in _MODULES:
            sys.modules.pop(name, None)
