"""``quantize(x, fmt, …)``: fake quantization (quantize, then dequantize) with per-tensor,
per-channel (``axis``) or per-block (``block``) scales, round-to-nearest-even or stochastic
rounding, and a straight-through gradient.

Scales (``scale="absmax"``), one per group G:

* ``int{k}``:   s = max|x|_G / (2^(k−1) − 1);  y = clamp(round(x/s), ±(2^(k−1)−1))·s
* ``uint{k}``:  s = (max(x_G, 0) − min(x_G, 0)) / (2^k − 1), zero point z = round(−min/s);
  y = (clamp(round(x/s) + z, 0, 2^k − 1) − z)·s
* floats:       s = max|x|_G / fmt.max;  y = Q_fmt(x/s)·s
* MX:           s = 2^(⌊log2 max|x|_G⌋ − emax_elem) over blocks of 32 (always)

With ``scale="none"`` values are rounded onto the format's own grid (integers, or the
float format's values: exactly an ml_dtypes cast).  The default is "absmax" for integer
formats and "none" for float formats.

Gradient (straight-through estimator): ∂y/∂x = 1 where x lies inside the range the scale
maps onto the format, 0 where it was clipped (saturated) — the usual "clipped STE".
"""

from __future__ import annotations

import torch

from ..errors import QuantError
from .formats import FloatFormat, IntFormat, MXFormat, parse_format
from .kernels import pow2_floor_exponent, round_float, round_int, work_dtype


def _grouped(x: torch.Tensor, axis: int | None, block: int | None):
    """A view of ``x`` whose reduction over the last dim gives one value per group, and a
    function that maps results of that shape back to x's shape."""
    if block is not None:
        if block < 1:
            raise QuantError(f"block must be a positive integer, got {block}")
        if x.dim() == 0:
            raise QuantError("block scaling needs a tensor with at least one dimension")
        n = x.shape[-1]
        pad = (-n) % block
        xp = torch.nn.functional.pad(x, (0, pad)) if pad else x
        view = xp.reshape(*x.shape[:-1], (n + pad) // block, block)

        def back(t):
            t = t.reshape(*x.shape[:-1], n + pad)
            return t[..., :n] if pad else t
        return view, back
    if axis is not None:
        if x.dim() == 0:
            raise QuantError("axis scaling needs a tensor with at least one dimension")
        if not -x.dim() <= axis < x.dim():
            raise QuantError(f"axis {axis} is out of range for a tensor with {x.dim()} dims")
        moved = x.movedim(axis, 0)
        view = moved.reshape(moved.shape[0], -1)
        return view, lambda t: t.reshape(moved.shape).movedim(0, axis)
    return x.reshape(1, -1), lambda t: t.reshape(x.shape)


def _amax(view: torch.Tensor) -> torch.Tensor:
    """max |x| over the last dim, ignoring NaN and inf (they cannot set a scale)."""
    a = view.abs()
    a = torch.where(torch.isfinite(a), a, torch.zeros_like(a))
    return a.amax(dim=-1, keepdim=True)


def _inside(v: torch.Tensor, limit: float) -> torch.Tensor:
    """v ≤ limit, forgiving the last-bit error of dividing by a scale (the group's absmax
    itself maps onto the limit and must count as inside)."""
    return v <= limit + 1e-6 * max(abs(limit), 1.0)


def _quantize_values(x, fmt, scale, axis, block, stochastic, generator):
    """Forward computation in the working dtype; returns (y, in_range mask)."""
    kw = dict(stochastic=stochastic, generator=generator)
    if isinstance(fmt, MXFormat):
        if axis is not None:
            raise QuantError("MX formats scale blocks of 32 along the last axis; do not pass axis")
        view, back = _grouped(x, None, block or fmt.block)
        e = pow2_floor_exponent(_amax(view)) - fmt.emax_elem
        s = torch.exp2(torch.clamp(e, -127, 127))  # a power of two: x/s is exact
        v = view / s
        if isinstance(fmt.element, IntFormat):  # MXINT8: int8 with an implicit 2^−6
            q = round_int(v * 64, -127, 127, **kw) / 64
            elem_max = 127 / 64
        else:
            q = round_float(v, fmt.element, **kw)
            elem_max = fmt.element.max
        return back(q * s), back(_inside(v.abs(), elem_max))
    if scale not in ("none", "absmax"):
        raise QuantError(f"scale must be 'none' or 'absmax', not {scale!r}")
    view, back = _grouped(x, axis, block)
    if isinstance(fmt, IntFormat):
        if fmt.signed:
            Q = fmt.qmax
            s = _amax(view) / Q if scale == "absmax" else torch.ones_like(view[..., :1])
            s = torch.where(s > 0, s, torch.ones_like(s))
            v = view / s
            return back(round_int(v, -Q, Q, **kw) * s), back(_inside(v.abs(), Q))
        if scale == "absmax":
            finite = torch.where(torch.isfinite(view), view, torch.zeros_like(view))
            lo = torch.clamp(finite.amin(dim=-1, keepdim=True), max=0)
            hi = torch.clamp(finite.amax(dim=-1, keepdim=True), min=0)
            s = (hi - lo) / fmt.qmax
            s = torch.where(s > 0, s, torch.ones_like(s))
            z = torch.round(-lo / s)
        else:
            s = torch.ones_like(view[..., :1])
            z = torch.zeros_like(s)
        v = view / s + z
        inside = _inside(-v, 0) & _inside(v, fmt.qmax)
        return back((round_int(v, 0, fmt.qmax, **kw) - z) * s), back(inside)
    assert isinstance(fmt, FloatFormat)
    if scale == "absmax":
        s = _amax(view) / fmt.max
        s = torch.where(s > 0, s, torch.ones_like(s))
        v = view / s
        return back(round_float(v, fmt, **kw) * s), back(_inside(v.abs(), fmt.max))
    if axis is not None or block is not None:
        raise QuantError("axis/block only apply with scale='absmax' (or an MX format)")
    return round_float(x, fmt, **kw), _inside(x.abs(), fmt.max)


class _STE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, mask):
        ctx.save_for_backward(mask)
        return y

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask.to(grad.dtype), None, None


def quantize(x: torch.Tensor, fmt, *, scale: str | None = None, axis: int | None = None,
             block: int | None = None, rounding: str = "nearest",
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Fake-quantize ``x`` to ``fmt``: a tensor of x's shape and dtype holding the
    dequantized values.  See the module docstring for the scales and the gradient.

    Args:
      fmt: a format name (``"int4"``, ``"float8_e4m3fn"``, ``"e3m2"``, ``"mxfp4_e2m1"``…)
        or a format object.
      scale: "absmax" (default for integers) or "none" (default for floats).
      axis: one scale per slice along ``axis`` (``axis=0``: per output channel of a weight).
      block: one scale per ``block`` consecutive elements of the last axis.
      rounding: "nearest" (ties to even) or "stochastic" (unbiased; seed via ``generator``).
    """
    f = parse_format(fmt)
    if not torch.is_tensor(x) or not x.is_floating_point():
        raise QuantError("quantize() needs a floating-point torch tensor")
    if rounding not in ("nearest", "stochastic"):
        raise QuantError(f"rounding must be 'nearest' or 'stochastic', not {rounding!r}")
    if axis is not None and block is not None:
        raise QuantError("give either axis (per-channel) or block (per-block) scaling, not both")
    if scale is None:
        scale = "absmax" if isinstance(f, IntFormat) else "none"
    xw = x.detach().to(work_dtype(x))
    y, mask = _quantize_values(xw, f, scale, axis, block, rounding == "stochastic", generator)
    y = y.to(x.dtype)
    if x.requires_grad and torch.is_grad_enabled():
        return _STE.apply(x, y, mask)
    return y
