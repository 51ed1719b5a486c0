"""Validate a law's term against measured effects: ``lawkit.validate`` (see ``core.py``)."""

from .core import validate as validate
from .result import GroupRow as GroupRow
from .result import TermTest as TermTest
from .result import Validation as Validation
from .term import ValidationError as ValidationError

__all__ = ["validate", "Validation", "GroupRow", "TermTest", "ValidationError"]
