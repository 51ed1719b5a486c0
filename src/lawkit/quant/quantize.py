"""``quantize(x, fmt, …)``: fake quantization (quantize, then dequantize) with per-tensor,
per-channel (``axis``) or per-block (``block``) scales, round-to-nearest-even or stochastic
rounding, and a straight-through gradient.

Scales (``scale="absmax"``), one per group G:

* ``int{k}``:   s = max|x|_G / (2^(k−1) − 1);  y = clamp(round(x/s), ±(2^(k−1)−1))·s
* ``uint{k}``:  s = (max(x_G, 0) − min(x_G, 0)) / (2^k − 1), zero point z = round(−min/s);
  y = (clamp(round(x/s) + z, 0, 2^k − 1) − z)·s
* floats:       s = max|x|_G / fmt.max;  y = Q_fmt(x/s)·s
* MX:           s = 2^(⌊log2 max|x|_G⌋ − emax_elem) over blocks of 32 (always)

NaN and ±inf never set a scale.  Groups whose max|x| is tiny (below 2^−60 in float32) are
first multiplied by an exact power of two so that s does not underflow; the dequantized
value is clamped to the working dtype's finite range (only reached at ~3e38).

With ``scale="none"`` values are rounded onto the format's own grid (integers, or the
float format's values: exactly an ml_dtypes cast).  The default is "absmax" for integer
formats and "none" for float formats.

Gradient (straight-through estimator): ∂y/∂x = 1 where x lies inside the range the scale
maps onto the format, 0 where it was clipped (saturated) — the usual "clipped STE".
"""

from __future__ import annotations

import torch

from ..errors import QuantError
from .checks import Options, check_options, check_tensor
from .formats import FloatFormat, IntFormat, MXFormat
from .kernels import TINY_SCALE, round_float, round_int, rounding_method, work_dtype
from .eager import Work, plan
from .rows import row_kernel
from .tiles import TILE, run_tiles



def needs_stats(opts: Options) -> bool:
    return isinstance(opts.fmt, MXFormat) or opts.scale == "absmax"


def group_stats(v: torch.Tensor, opts: Options) -> tuple[torch.Tensor, ...]:
    """Per-row statistics of a (rows, group) tile that set the scale: (max|v|,) or, for
    asymmetric integers, (min(v, 0), max(v, 0)); non-finite values are ignored."""
    if isinstance(opts.fmt, IntFormat) and not opts.fmt.signed:
        finite = torch.where(v.abs() < float("inf"), v, 0.0)
        return (torch.clamp(finite.amin(dim=-1, keepdim=True), max=0),
                torch.clamp(finite.amax(dim=-1, keepdim=True), min=0))
    a = v.abs()
    return (torch.where(a < float("inf"), a, 0.0).amax(dim=-1, keepdim=True),)


def group_stats_fast(v: torch.Tensor, opts: Options) -> tuple[torch.Tensor, ...]:
    """:func:`group_stats` in fewer passes for eager CPU tiles: plain max/min, then the
    filtered statistics only for the rows where a NaN or inf got in (identical values)."""
    if isinstance(opts.fmt, IntFormat) and not opts.fmt.signed:
        lo, hi = torch.aminmax(v, dim=-1, keepdim=True)
        st = (torch.clamp(lo, max=0), torch.clamp(hi, min=0))
    else:
        st = (v.abs().amax(dim=-1, keepdim=True),)
    spread = st[-1] - st[0] if len(st) == 2 else st[0]
    if not bool(spread.max() < float("inf")):  # NaN or inf somewhere (or hi − lo overflows)
        bad = ~(spread[:, 0] < float("inf"))
        fixed = group_stats(v[bad], opts)
        for t, f in zip(st, fixed):
            t[bad] = f
    return st


def combine_stats(a: tuple, b: tuple, opts: Options) -> tuple:
    if len(a) == 2:
        return torch.minimum(a[0], b[0]), torch.maximum(a[1], b[1])
    return (torch.maximum(a[0], b[0]),)


def _inside(v: torch.Tensor, limit: float) -> torch.Tensor:
    """v ≤ limit, forgiving the last-bit error of dividing by a scale (the group's absmax
    itself maps onto the limit and must count as inside)."""
    return v <= limit + 1e-6 * max(abs(limit), 1.0)


def mx_scale(amax: torch.Tensor, emax_elem: int) -> torch.Tensor:
    """s = 2^clamp(⌊log2 amax⌋ − emax_elem, −127, 127) (2^−emax_elem where amax = 0), in float
    arithmetic only: c = b·(2^(p−1) + 1), h = c − (c − b) is b rounded to one bit (2^k or
    2^(k+1) for b ∈ [2^k, 2^(k+1))), halved if above b.  Exact for normal b; b is kept below
    the overflow of c (scaled by 2^−64 in float32, clamped in float64).  The float-only
    reference: the kernels use :func:`mx_scale_bits` (compiled, CUDA) and
    :func:`mx_scale_eager`; the tests check that all three agree."""
    f32 = amax.dtype == torch.float32
    p, normal = (24, 2.0**-126) if f32 else (53, 2.0**-1022)
    big = amax > 2.0**64
    b = torch.where(big, amax * 2.0**-64, amax) if f32 else torch.clamp(amax, max=2.0**900)
    c = b * float(2 ** (p - 1) + 1)
    h = c - (c - b)
    h = torch.where(h > b, h * 0.5, h)
    if f32:
        h = torch.where(big, h * 2.0**64, h)
    s = torch.clamp(h * 2.0**-emax_elem, 2.0**-127, 2.0**127)
    s = torch.where(amax < normal, 2.0**-127, s)  # ⌊log2 amax⌋ < −126: the clamp's floor
    return torch.where(amax == 0, 2.0**-emax_elem, s)


def mx_scale_bits(amax: torch.Tensor, emax_elem: int) -> torch.Tensor:
    """The same s from the exponent bits e = ⌊log2 amax⌋ (−bias for subnormals), built as
    (e' + bias) << frac, e' = clamp(e − emax_elem, −127, 127).  On GPUs bit casts are free;
    in compiled CPU code this is short scalar work once per block (the float-only
    :func:`mx_scale` is a longer dependency chain there); no compiler can contract it into
    an FMA."""
    idtype, frac, bias = ((torch.int32, 23, 127) if amax.dtype == torch.float32
                          else (torch.int64, 52, 1023))
    e = ((amax.view(idtype) >> frac) & (2 * bias + 1)) - bias  # ⌊log2⌋; −bias for subnormals
    e = torch.clamp(torch.where(amax > 0, e, 0) - emax_elem, -127, 127)
    s = ((e + bias).clamp(min=1) << frac).view(amax.dtype)  # 2^e for e ≥ 1 − bias
    return torch.where(e < 1 - bias, 2.0**-127, s) if amax.dtype == torch.float32 else s


def mx_scale_eager(amax: torch.Tensor, emax_elem: int) -> torch.Tensor:
    """The same s as :func:`mx_scale` in fewer eager ops: frexp's exponent, exp2 of an
    integer (exact)."""
    _, e = torch.frexp(amax)
    e = torch.clamp(e - (1 + emax_elem), -127, 127).masked_fill_(amax == 0, -emax_elem)
    return torch.exp2(e.to(amax.dtype))


def quantize_tile(v: torch.Tensor, stats: tuple | None, opts: Options, *, noise=None,
                  method: str = "split", mask: bool = False, eager: bool = False):
    """Fake-quantize a (rows, group) tile in the working dtype; ``stats`` per row (from
    :func:`group_stats`, or None without a scale).  Returns (y, in_range mask or None).
    ``eager`` picks op sequences that are cheaper without a compiler (same results)."""
    fmt, wd = opts.fmt, v.dtype
    kw = dict(stochastic=opts.stochastic, noise=noise)
    ikw = dict(kw, eager=eager and v.device.type == "cpu")
    dmax = torch.finfo(wd).max
    if isinstance(fmt, MXFormat):
        scale_of = mx_scale_eager if eager and method != "bits" else mx_scale_bits
        s = scale_of(stats[0], fmt.emax_elem)
        x = v * torch.reciprocal(s)  # = v / s exactly: s is a power of two
        if isinstance(fmt.element, IntFormat):  # MXINT8: int8 with an implicit 2^−6
            q, elem_max = round_int(x * 64, -127, 127, **ikw) / 64, 127 / 64
        else:
            q, elem_max = round_float(x, fmt.element, method=method, **kw), fmt.element.max
        return q * s, (_inside(x.abs(), elem_max) if mask else None)
    if stats is None:  # scale="none": the format's own grid
        if isinstance(fmt, FloatFormat):
            return round_float(v, fmt, method=method, **kw), (
                _inside(v.abs(), fmt.max) if mask else None)
        if fmt.signed:
            return round_int(v, -fmt.qmax, fmt.qmax, **ikw), (
                _inside(v.abs(), fmt.qmax) if mask else None)
        one = torch.ones((), dtype=wd, device=v.device)
        return _uint(v, one, one * 0, None, fmt.qmax, None, ikw, mask)
    if isinstance(fmt, FloatFormat) and wd == torch.float32 and fmt.emax >= 100:
        # E = 8 with an absmax scale: s = max|x|/fmt.max (~2^-128) is subnormal in float32
        y, m = quantize_tile(v.double(), tuple(t.double() for t in stats), opts, mask=mask,
                             noise=None if noise is None else noise.double(), method=method,
                             eager=eager)
        y = torch.where(y.abs() < float("inf"), torch.clamp(y, -dmax, dmax), y)
        return y.float(), m
    tiny, up = TINY_SCALE[wd]
    uint = isinstance(fmt, IntFormat) and not fmt.signed
    amag = torch.maximum(stats[1], -stats[0]) if uint else stats[0]
    # eager: skip steps that are exact identities for this tile (×1, clamps that cannot bind)
    scaled = not eager or bool((amag < tiny).any())
    extreme = not eager or bool(amag.max() > dmax / 4)
    p = torch.ones_like(amag).masked_fill(amag < tiny, up) if scaled else None
    if uint:
        lo, hi = (stats[0] * p, stats[1] * p) if scaled else stats
        d = hi - lo
        s = (torch.where(d < float("inf"), d / fmt.qmax, hi / fmt.qmax - lo / fmt.qmax)
             if extreme else d / fmt.qmax)
        s = torch.where(s > 0, s, 1.0)
        return _uint(v * p if scaled else v, s, torch.round(-lo / s),
                     1.0 / p if scaled else None, fmt.qmax, dmax if extreme else None, ikw, mask)
    amax = stats[0]
    top = fmt.qmax if isinstance(fmt, IntFormat) else fmt.max
    s = (amax * p if scaled else amax) / top
    s = torch.where(s > 0, s, 1.0)
    x = (v * p if scaled else v) / s
    if isinstance(fmt, IntFormat):
        y = round_int(x, -top, top, **ikw) * s
    else:
        y = round_float(x, fmt, method=method, **kw) * s
    if scaled:
        y = y * (1.0 / p)
    if extreme:
        y = (torch.clamp(y, -dmax, dmax) if isinstance(fmt, IntFormat) else
             torch.where(x.abs() < float("inf"), torch.clamp(y, -dmax, dmax), y))
    return y, (_inside(x.abs(), top) if mask else None)


def _uint(v, s, z, unscale, qmax, dmax, kw, mask):
    """y = (clamp(round(v/s + z), 0, qmax) − z)·s·unscale, clamped to ±dmax (None: skip)."""
    x = v / s + z
    y = (round_int(x, 0, qmax, **kw) - z) * s
    if unscale is not None:
        y = y * unscale
    if dmax is not None:
        y = torch.clamp(y, -dmax, dmax)
    return y, ((_inside(-x, 0) & _inside(x, qmax)) if mask else None)


def _eager(x: torch.Tensor, opts: Options, mask: bool, generator):
    """Tiled eager quantization: each tile by :mod:`.eager`'s in-place kernels where they
    apply (CPU, nearest, no mask), else by :func:`quantize_tile` (identical results)."""
    cpu = x.device.type == "cpu"
    wd, stats_fn = work_dtype(x), (group_stats_fast if cpu else group_stats)
    fast = plan(opts, wd) if cpu and not mask else None
    whole_rows = row_kernel(opts, wd) if cpu and not mask else None
    work = Work(wd, TILE) if fast is not None else None

    def tile(v, stats, *, noise, method, mask, out):
        if fast is not None:
            y = fast(v, stats, out, work)
            if y is not None:
                return y, None
        if stats is None and needs_stats(opts):
            stats = stats_fn(v, opts)
        return quantize_tile(v, stats, opts, noise=noise, method=method, mask=mask, eager=True)

    return run_tiles(x, opts, tile, stats_fn, combine_stats, needs_stats(opts),
                     method=rounding_method(x.device), mask=mask, generator=generator,
                     rows_fn=whole_rows)


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
      fmt: a format name (``"int4"``, ``"float8_e4m3fn"``, ``"e3m2"``, ``"e8m7"``,
        ``"mxfp4_e2m1"``…) or a format object.
      scale: "absmax" (default for integers) or "none" (default for floats).
      axis: one scale per slice along ``axis`` (``axis=0``: per output channel of a weight).
      block: one scale per ``block`` consecutive elements of the last axis.
      rounding: "nearest" (ties to even) or "stochastic" (unbiased; seed via ``generator``).

    Raises :class:`~lawkit.errors.QuantError` for any bad argument.
    """
    opts = check_tensor(x, check_options(fmt, scale, axis, block, rounding, generator))
    grad = x.requires_grad and torch.is_grad_enabled()
    try:
        y, mask = _eager(x.detach(), opts, grad, generator)
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        raise QuantError(f"quantize(fmt={opts.fmt.name!r}) failed on a {x.dtype} tensor of "
                         f"shape {tuple(x.shape)} on {x.device}: {err}") from err
    return _STE.apply(x, y, mask) if grad else y


__all__ = ["quantize", "quantize_tile", "group_stats", "work_dtype"]
