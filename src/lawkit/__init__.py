"""lawkit: write scaling laws in a small language; parse, fit, analyse and compare them.

>>> import lawkit
>>> laws = lawkit.load("chinchilla")
>>> round(float(laws["chinchilla"].evaluate("hoffmann2022", N=70e9, D=1.4e12)), 4)
1.9366

The public API is what this module lists in ``__all__``; heavy parts (pandas, JAX, torch)
load on first use, so ``import lawkit`` and ``lawkit check`` stay fast.
"""

from .dsl import register_function as register_function
from .errors import (
    AnalysisError as AnalysisError,
    DataError as DataError,
    FitError as FitError,
    LawDefinitionError as LawDefinitionError,
    LawError as LawError,
    LawkitError as LawkitError,
    LawNameError as LawNameError,
    LawSyntaxError as LawSyntaxError,
)
from .law import Law as Law
from .library import load as load
from .library import parse as parse  # the language with the library as parents

_LAZY = {
    "fit": ("lawkit.fitting", "fit"),
    "FitResult": ("lawkit.fitting", "FitResult"),
    "Status": ("lawkit.fitting.result", "Status"),
    "optimum": ("lawkit.analysis.optimum", "optimum"),
    "compare": ("lawkit.compare", "compare"),
    "validate": ("lawkit.validation", "validate"),
    "load_fit": ("lawkit.fitting.saved", "load_fit"),
}

__all__ = ["parse", "load", "fit", "load_fit", "optimum", "compare", "validate",
           "register_function", "Law", "FitResult", "Status", "LawkitError", "LawError",
           "LawSyntaxError", "LawNameError", "LawDefinitionError", "DataError", "FitError",
           "AnalysisError", "__version__"]


def __getattr__(name: str):
    """Heavy parts load on first use (``lawkit.fit`` imports JAX, ``lawkit.compare`` pandas)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("lawkit")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0+unknown"
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        try:
            value = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            raise AttributeError(f"lawkit.{name} is not available in this version") from None
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lawkit' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
