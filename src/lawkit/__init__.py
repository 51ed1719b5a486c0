"""lawkit: write scaling laws in a small language; parse, fit, analyse and compare them.

>>> import lawkit
>>> laws = lawkit.load("chinchilla")
>>> round(float(laws["chinchilla"].evaluate("hoffmann2022", N=70e9, D=1.4e12)), 4)
1.9366
"""

from importlib.metadata import PackageNotFoundError, version

from .dsl import parse as parse
from .dsl import parse_file as parse_file
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
from .law import Parameter as Parameter
from .law import ValueSet as ValueSet
from .law import Variable as Variable
from .library import load as load

try:
    __version__ = version("lawkit")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"


_LAZY = {"fit": ("lawkit.fitting", "fit"), "FitResult": ("lawkit.fitting", "FitResult")}


def __getattr__(name: str):
    """Heavy parts (pandas, JAX) load on first use, so ``lawkit check`` starts fast."""
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lawkit' has no attribute {name!r}")
