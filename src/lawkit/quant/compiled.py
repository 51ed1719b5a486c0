"""A ``torch.compile``d quantizer: the same arithmetic as :func:`quantize`, fused into one
or two kernels (inductor, CPU or CUDA).  Falls back to eager where compilation is not
available (no C++ compiler, unsupported platform), with a warning."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache

import torch

from .formats import IntFormat, parse_format
from .kernels import work_dtype
from .quantize import _STE, _quantize_values


@cache
def _compiled(fmt, scale, axis, block, with_mask: bool) -> Callable:
    """Compiled (values, into) functions; the STE mask is computed only when asked."""
    def values(x):
        y, mask = _quantize_values(x, fmt, scale, axis, block, False, None)
        return (y, mask) if with_mask else (y, None)

    def into(x, out):
        y, mask = _quantize_values(x, fmt, scale, axis, block, False, None)
        out.copy_(y)
        return (out, mask) if with_mask else (out, None)

    try:
        return torch.compile(values, dynamic=False), torch.compile(into, dynamic=False)
    except Exception as err:  # noqa: BLE001 - any backend failure means: run eagerly
        warnings.warn(f"torch.compile unavailable ({err}); using the eager quantizer", stacklevel=3)
        return values, into


def compile_quantizer(fmt, *, scale: str | None = None, axis: int | None = None,
                      block: int | None = None) -> Callable:
    """``q(x, out=None)`` → fake-quantized ``x`` (round to nearest even), compiled.

    With ``out`` (a preallocated tensor of x's shape, in float32/float64) the result is
    written in place, avoiding a fresh allocation per call.  Gradients pass straight through
    as with :func:`quantize`.
    """
    f = parse_format(fmt)
    if scale is None:
        scale = "absmax" if isinstance(f, IntFormat) else "none"
    def q(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        grad = x.requires_grad and torch.is_grad_enabled()
        values, into = _compiled(f, scale, axis, block, grad)
        xw = x.detach()
        if xw.dtype != work_dtype(x):
            xw = xw.to(work_dtype(x))
        if out is not None:
            y, mask = into(xw, out)
        else:
            y, mask = values(xw)
            y = y.to(x.dtype)
        return _STE.apply(x, y, mask) if grad else y

    return q
