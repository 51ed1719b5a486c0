"""Argument checks for :func:`lawkit.quant.quantize` and friends: every bad argument is a
:class:`~lawkit.errors.QuantError` that names it, raised before any tensor work."""

from __future__ import annotations

import operator
from dataclasses import dataclass

import torch

from ..errors import QuantError
from .formats import Format, FloatFormat, IntFormat, MXFormat, parse_format


@dataclass(frozen=True)
class Options:
    """Checked options: the format object and the resolved scale rule."""

    fmt: Format
    scale: str
    axis: int | None
    block: int | None
    stochastic: bool


def _integer(value, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, float) or (
            torch.is_tensor(value) and value.is_floating_point()):
        raise QuantError(f"{name} must be an integer or None, got {type(value).__name__} {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise QuantError(f"{name} must be an integer or None, got {type(value).__name__} "
                         f"{value!r:.60}") from None


def check_options(fmt, scale=None, axis=None, block=None, rounding="nearest",
                  generator=None) -> Options:
    """Everything about a quantize call that does not depend on the tensor."""
    f = parse_format(fmt)
    axis, block = _integer(axis, "axis"), _integer(block, "block")
    if block is not None and block < 1:
        raise QuantError(f"block must be a positive integer, got {block}")
    if axis is not None and block is not None:
        raise QuantError("give either axis (per-channel) or block (per-block) scaling, not both")
    if not isinstance(rounding, str) or rounding not in ("nearest", "stochastic"):
        raise QuantError(f"rounding must be 'nearest' or 'stochastic', not {rounding!r:.60}")
    if scale is not None and (not isinstance(scale, str) or scale not in ("none", "absmax")):
        raise QuantError(f"scale must be 'none' or 'absmax', not {scale!r:.60}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise QuantError(f"generator must be a torch.Generator or None, got "
                         f"{type(generator).__name__}")
    if isinstance(f, MXFormat):
        if axis is not None:
            raise QuantError("MX formats scale blocks of 32 along the last axis; do not pass axis")
        return Options(f, "absmax", None, f.block if block is None else block,
                       rounding == "stochastic")
    if scale is None:
        scale = "absmax" if isinstance(f, IntFormat) else "none"
    if isinstance(f, FloatFormat) and scale == "none" and (axis is not None or block is not None):
        raise QuantError("axis/block only apply with scale='absmax' (or an MX format)")
    return Options(f, scale, axis, block, rounding == "stochastic")


def check_tensor(x, opts: Options) -> Options:
    """The tensor's own requirements; returns options with axis made non-negative and the
    block capped at the last axis's length (a longer block is the same single group)."""
    if not torch.is_tensor(x) or not x.is_floating_point():
        what = f"a {x.dtype} tensor" if torch.is_tensor(x) else type(x).__name__
        raise QuantError(f"quantize() needs a floating-point torch tensor, got {what}")
    if x.layout != torch.strided:
        raise QuantError(f"quantize() needs a dense (strided) tensor, got layout {x.layout}")
    axis, block = opts.axis, opts.block
    if axis is not None:
        if x.dim() == 0:
            raise QuantError("axis scaling needs a tensor with at least one dimension")
        if not -x.dim() <= axis < x.dim():
            raise QuantError(f"axis {axis} is out of range for a tensor with {x.dim()} dims")
        axis %= x.dim()
    if block is not None:
        block = max(1, min(block, x.shape[-1] if x.dim() else 1))
    return Options(opts.fmt, opts.scale, axis, block, opts.stochastic)
