"""A ``torch.compile``d quantizer: the same arithmetic as :func:`quantize` on the whole tensor
(the per-group scale and the rounding fuse into one pass), inductor on CPU or CUDA.  Falls
back to eager where compilation is not available (no C++ compiler, unsupported platform),
with a warning."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache

import torch

from ..errors import QuantError
from .checks import Options, check_options, check_tensor
from .kernels import rounding_method, work_dtype
from .quantize import _STE, group_stats, needs_stats, quantize, quantize_tile
from .tiles import group_view


def _values(x, opts: Options, method: str, with_mask: bool):
    view, back = group_view(x, opts.axis, opts.block)
    stats = group_stats(view, opts) if needs_stats(opts) else None
    y, mask = quantize_tile(view, stats, opts, method=method, mask=with_mask)
    return back(y), (back(mask) if with_mask else None)


def _grouped_shape(x: torch.Tensor, opts: Options) -> tuple[int, int] | None:
    """(groups, group_len) when grouping is a plain reshape of a contiguous x, else None."""
    if not x.is_contiguous() or x.dim() == 0:
        return None
    if opts.block is not None:
        return (x.numel() // opts.block, opts.block) if x.shape[-1] % opts.block == 0 else None
    if opts.axis in (None, 0):
        rows = 1 if opts.axis is None else x.shape[0]
        return rows, x.numel() // rows
    return None


@cache
def _compiled(opts: Options, method: str, with_mask: bool) -> tuple[Callable, Callable]:
    """Compiled (values, into) functions; the STE mask is computed only when asked.  ``into``
    takes x and out already viewed as (groups, group_len), so that the group reduction and
    the rounding fuse into one loop over the groups (one pass over memory)."""
    def values(x):
        return _values(x, opts, method, with_mask)

    def into(v, out):
        stats = group_stats(v, opts) if needs_stats(opts) else None
        y, mask = quantize_tile(v, stats, opts, method=method, mask=with_mask)
        out.copy_(y)
        return out, mask

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
    as with :func:`quantize`.  Bad options raise :class:`~lawkit.errors.QuantError` here,
    bad tensors at the call.
    """
    base = check_options(fmt, scale, axis, block)

    def q(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        opts = check_tensor(x, base)
        if out is not None and (not torch.is_tensor(out) or out.shape != x.shape
                                or out.dtype != work_dtype(x) or out.device != x.device):
            raise QuantError(f"out must be a {work_dtype(x)} tensor of shape {tuple(x.shape)} "
                             f"on {x.device}")
        if x.numel() == 0:
            y = quantize(x, opts.fmt, scale=opts.scale, axis=opts.axis, block=opts.block)
            return out.copy_(y) if out is not None else y
        grad = x.requires_grad and torch.is_grad_enabled()
        values, into = _compiled(opts, rounding_method(x.device, compiled=True), grad)
        xw = x.detach()
        if xw.dtype != work_dtype(x):
            xw = xw.to(work_dtype(x))
        try:
            shape = _grouped_shape(xw, opts) if out is not None and out.is_contiguous() else None
            if shape is not None:
                _, mask = into(xw.view(shape), out.view(shape))
                y, mask = out, (None if mask is None else mask.view(x.shape))
            elif out is not None:
                y, mask = values(xw)
                y = out.copy_(y)
            else:
                y, mask = values(xw)
                y = y.to(x.dtype)
        except Exception as err:  # noqa: BLE001 - arguments are checked: a backend failure
            warnings.warn(f"compiled quantizer failed ({type(err).__name__}: {err}); "
                          "using the eager quantizer", stacklevel=2)
            y = quantize(x, opts.fmt, scale=opts.scale, axis=opts.axis, block=opts.block)
            return out.copy_(y.detach()) if out is not None else y
        return _STE.apply(x, y, mask) if grad else y

    return q
