"""Eager CPU tile kernels: :func:`~lawkit.quant.quantize.quantize_tile`'s round-to-nearest
results, as in-place torch ops on work buffers that live for the whole call.

Eager torch pays per op — a dispatch (~3 µs), a fresh output, and for a Python-number
operand a conversion of that number into a tensor of the tile's dtype — so on a tile of
~32K elements the op count, not the arithmetic, sets the speed.  Here every op writes into
a reused buffer and constants are cached 0-d tensors of the working dtype (the same
values, hence the same results).  The arithmetic is :mod:`.kernels`' eager formulas, op
for op, except for exact identities:

* RNE to integers is torch.round (half to even, sign of zero kept) of the clamped value;
* a float grid step q = 2^(max(e, emin) − M) is a power of two, so RNE(c/q)·q rounds c
  once, signed values included (:func:`signed_rounder`), in place of (|c| + K) − K;
* r > 0 a power of two (MX): |v·r| = |v|·r, so the block max's |v| buffer becomes |x|;
* x = v·r or v/s with s > 0: sign(x) = sign(v), so the sign bits are read from v;
* E = 8 in float32: RNE on the bit pattern, 2^(s−1) − 1 + lsb added, low s bits cleared,
  never carries into the sign bit except from NaN codes (re-poisoned by adding v·0, which
  is also a zero of the right sign), so the signed pattern is rounded directly; a carry
  out of the top finite code is the format's overflow to ±inf;
* ml_dtypes' NaN → zero of the opposite sign: NaN → −0 (``nan_to_num``), then the sign
  is xor-ed instead of or-ed;
* MX block scale 2^clamp(⌊log2 amax⌋ − emax, −127, 127) for emax ≥ 0 and finite amax > 0:
  amax's exponent bits (2^⌊log2 amax⌋, 0 for subnormal amax) times 2^−emax, clamped.  A
  block with amax = 0 holds only zeros here (non-finite blocks take the general path), so
  its scale does not matter.

A tile function returns its result (``out`` or a work buffer) or None where its fast path
does not apply (non-finite values, tiny or huge scales, unusual formats); the caller then
runs the general code, whose results are the same.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .checks import Options
from .formats import FloatFormat, IntFormat, MXFormat
from .kernels import _EXP, _EXP_BITS, _INT_VIEW, TINY_SCALE, _overflow_factor

_CONST: dict = {}
_INF = float("inf")


def const(value, dtype: torch.dtype) -> torch.Tensor:
    """A cached 0-d CPU tensor holding ``value`` (read only: never written)."""
    key = (dtype, repr(value))
    t = _CONST.get(key)
    if t is None:
        t = _CONST[key] = torch.tensor(value, dtype=dtype)
    return t


class Work:
    """Two scratch buffers of the working dtype, viewed per tile shape as (float, int)."""

    def __init__(self, dtype: torch.dtype, size: int):
        self.dtype, self.idtype, self.size = dtype, _INT_VIEW[dtype][0], size
        self.bufs = [torch.empty(size, dtype=dtype) for _ in range(2)]
        self.views: dict = {}

    def get(self, shape: torch.Size):
        """((a, a_int), (k, k_int)) views of shape ``shape``."""
        got = self.views.get(shape)
        if got is None:
            n = shape.numel()
            if n > self.size:
                self.size, self.bufs, self.views = n, [torch.empty(n, dtype=self.dtype)
                                                       for _ in range(2)], {}
            got = self.views[shape] = tuple(
                (f, f.view(self.idtype)) for f in (b[:n].view(shape) for b in self.bufs))
        return got


def _sign_mask(dtype):
    idtype, frac = _INT_VIEW[dtype]
    return const(-1 << (frac + _EXP_BITS[dtype]), idtype)


def _grid(fmt: FloatFormat, dtype: torch.dtype):
    """What the exponent-bit rounders share: (top, kmin, emask, m) — the clamp top (fmt.max
    when saturating, else 2^(emax+1)), the bits of 2^emin, the exponent mask, and the
    overflow factor m (1 when saturating) — or None for M = 0 (ties go to the even exponent
    code), M ≥ the dtype's fraction bits, E = 8 in float32 (see :func:`wide_rounder`) and
    an overflow rule with no such m."""
    idtype, frac = _INT_VIEW[dtype]
    M, sat = fmt.man_bits, fmt.overflow == "saturate"
    if M == 0 or M >= frac or (dtype == torch.float32 and fmt.emax >= 100):
        return None
    m = 1.0 if sat else _overflow_factor(fmt, dtype)
    if m is None:
        return None
    emask, bias = _EXP[dtype]
    top = fmt.max if sat else 2.0 ** (fmt.emax + 1)
    return top, (fmt.emin + bias) << frac, const(emask, idtype), const(m, dtype)


def magnitude_rounder(fmt: FloatFormat, dtype: torch.dtype) -> Callable | None:
    """f(a, k, sign_int, d_int): a = |x| (clobbered), k scratch, ``sign_int`` x's sign bits
    (as ints); writes x rounded onto fmt, with its overflow and NaN rules, into d.

    a ← min(a, top) (top = fmt.max when saturating, else 2^(emax+1)), then (a + K) − K with
    K = 2^(max(e_a, emin) + p − 1 − M) from a's exponent bits: ulp(K) is the grid step at
    a, so the addition rounds once, ties to even, subnormals included.  None for M = 0
    (ties go to the even exponent code), E = 8 in float32 (see :func:`wide_rounder`) and
    NaN → −0 together with overflow → NaN."""
    neg_zero = fmt.nan == "neg_zero"
    grid = None if neg_zero and fmt.overflow == "nan" else _grid(fmt, dtype)
    if grid is None:
        return None
    top, kmin, c_emask, c_m = grid
    idtype, frac = _INT_VIEW[dtype]
    c_shift, c_sign = const((frac - fmt.man_bits) << frac, idtype), _sign_mask(dtype)
    c_dmax = const(torch.finfo(dtype).max, dtype)
    combine = torch.bitwise_xor if neg_zero else torch.bitwise_or

    def rnd(a, ai, k, ki, sign_int, d_int):
        a.clamp_(max=top)
        torch.bitwise_and(ai, c_emask, out=ki)
        ki.clamp_(min=kmin).add_(c_shift)
        a.add_(k).sub_(k)
        if fmt.overflow == "inf":  # r·m overflows exactly where r > max: max(r, r·m − dmax)
            torch.mul(a, c_m, out=k)
            torch.maximum(a, k.sub_(c_dmax), out=a)
        elif fmt.overflow == "nan":  # r + (r·m − r·m): NaN exactly where r > max
            torch.mul(a, c_m, out=k)
            a.add_(k.sub_(k))
        if neg_zero:  # NaN here is x's own NaN: −0, whose sign bit the xor flips for x < 0
            torch.nan_to_num_(a, nan=-0.0, posinf=_INF, neginf=-_INF)
        torch.bitwise_and(sign_int, c_sign, out=ki)
        combine(ai, ki, out=d_int)
    return rnd


def wide_rounder(fmt: FloatFormat, dtype: torch.dtype) -> Callable | None:
    """f(v, a, k, d) for E = 8 in float32 (overflow ±inf or saturation, NaN stays NaN):
    c = clamp(v, ±t) (t = fmt.max, or float32's max so that ±inf rounds back to ±inf), then
    bits + 2^(s−1) − 1 + lsb with the low s = 23 − M bits cleared, plus c·0 (NaN codes)."""
    if not (dtype == torch.float32 and fmt.emax >= 100 and 1 <= fmt.man_bits <= 22
            and fmt.overflow in ("inf", "saturate") and fmt.nan == "nan"):
        return None
    s = 23 - fmt.man_bits
    t = fmt.max if fmt.overflow == "saturate" else torch.finfo(dtype).max
    c_s, c_one, c_zero = const(s, torch.int32), const(1, torch.int32), const(0.0, dtype)
    c_half, c_low = const((1 << (s - 1)) - 1, torch.int32), const(~((1 << s) - 1), torch.int32)

    def rnd(v, a, ai, k, ki, d):
        torch.clamp(v, -t, t, out=a)
        torch.bitwise_right_shift(ai, c_s, out=ki)
        ki.bitwise_and_(c_one).add_(ai).add_(c_half).bitwise_and_(c_low)
        torch.add(k, a.mul_(c_zero), out=d)
    return rnd


def int_rounder(top: float) -> Callable:
    """f(src, d, d_int, k, k_int) with :func:`signed_rounder`'s signature (no scratch used):
    d = RNE(clamp(src, ±top)) in place (d may be src; torch.round is round-half-even and
    keeps the sign of zero, so small negatives give −0)."""
    def rnd(src, d, di, k, ki):
        torch.clamp(src, -top, top, out=d).round_()
    return rnd


def signed_rounder(fmt: FloatFormat, dtype: torch.dtype) -> Callable | None:
    """f(src, d, d_int, k, k_int): d = src rounded onto fmt, in place on signed values.

    c = clamp(src, ±top) (top = fmt.max when saturating, else 2^(emax+1)); q = 2^(max(e_c,
    emin) − M) from c's exponent bits (a power of two, so c/q and RNE(c/q)·q are exact);
    d = RNE(c/q)·q, then for overflow → NaN, d − (d·m − d·m): NaN exactly where |d| > max
    (and −0 stays −0).  The same values as :func:`magnitude_rounder` with the sign copied
    back, in fewer ops.  None where that rounder's special rules apply (M = 0, E = 8 in
    float32, overflow → ±inf, NaN → −0)."""
    grid = None if fmt.overflow == "inf" or fmt.nan != "nan" else _grid(fmt, dtype)
    if grid is None:
        return None
    top, kmin, c_emask, c_m = grid
    idtype, frac = _INT_VIEW[dtype]
    sat, c_man = fmt.overflow == "saturate", const(fmt.man_bits << frac, idtype)

    def rnd(src, d, di, k, ki):
        torch.clamp(src, -top, top, out=d)
        torch.bitwise_and(di, c_emask, out=ki)
        ki.clamp_(min=kmin).sub_(c_man)
        d.div_(k).round_().mul_(k)
        if not sat:
            torch.mul(d, c_m, out=k)
            d.sub_(k.sub_(k))
    return rnd


def finish(a, s, out):
    """a·s into out when out has the working dtype, else into a (the caller converts)."""
    return torch.mul(a, s, out=out) if out.dtype == a.dtype else a.mul_(s)


def _into(a, ai, out):
    """(destination, its int view): out itself when it has the working dtype, else a."""
    return (out, out.view(ai.dtype)) if out.dtype == a.dtype else (a, ai)


def plan(opts: Options, dtype: torch.dtype) -> Callable | None:
    """The tile function ``f(v, stats, out, work)`` for these options, or None (the general
    path).  ``stats`` is None (computed from the tile) or the rows' (max|v|,)."""
    fmt = opts.fmt
    if opts.stochastic or dtype not in _INT_VIEW:
        return None
    if isinstance(fmt, MXFormat):
        return _mx_plan(fmt, dtype)
    if opts.scale == "none":
        if isinstance(fmt, IntFormat):
            return _signed_grid_plan(int_rounder(fmt.qmax)) if fmt.signed else None
        wide = wide_rounder(fmt, dtype)
        if wide is not None:
            def tile(v, stats, out, work):
                (a, ai), (k, ki) = work.get(v.shape)
                d, _ = _into(a, ai, out)
                wide(v, a, ai, k, ki, d)
                return d
            return tile
        signed = signed_rounder(fmt, dtype)
        if signed is not None:
            return _signed_grid_plan(signed)
        rnd = magnitude_rounder(fmt, dtype)
        return None if rnd is None else _grid_plan(rnd)
    if isinstance(fmt, IntFormat):
        return _absmax_plan(int_rounder(fmt.qmax), float(fmt.qmax), dtype, False) \
            if fmt.signed else None
    signed = signed_rounder(fmt, dtype)
    if signed is not None:
        return _absmax_plan(signed, fmt.max, dtype, False)
    rnd = magnitude_rounder(fmt, dtype)
    return None if rnd is None else _absmax_plan(rnd, fmt.max, dtype, True)


def _grid_plan(rnd):
    """scale="none", floats: y = Q(v) from |v| and v's sign bits."""
    def tile(v, stats, out, work):
        (a, ai), (k, ki) = work.get(v.shape)
        d, di = _into(a, ai, out)
        rnd(torch.abs(v, out=a), ai, k, ki, v.view(ai.dtype), di)
        return d
    return tile


def _signed_grid_plan(rnd):
    """scale="none", signed rounders (:func:`signed_rounder`, :func:`int_rounder`): y = Q(v)."""
    def tile(v, stats, out, work):
        (a, ai), (k, ki) = work.get(v.shape)
        d, di = _into(a, ai, out)
        rnd(v, d, di, k, ki)
        return d
    return tile


def _absmax_plan(rnd, top: float, dtype, magnitude: bool):
    """scale="absmax" (signed int or float, E ≤ 7): s = max|v|/top, y = Q(v/s)·s, for tiles
    whose every group max lies in [tiny, dmax/4] (the general path's rescaling and clamps
    are identities there); None otherwise."""
    tiny, lim, c_top = TINY_SCALE[dtype][0], torch.finfo(dtype).max / 4, const(top, dtype)

    def tile(v, stats, out, work):
        (a, ai), (k, ki) = work.get(v.shape)
        if stats is None:
            amax = torch.abs(v, out=a).amax(dim=-1, keepdim=True)
        else:
            amax = stats[0]
        lo, hi = torch.aminmax(amax)
        if not (tiny <= lo.item() and hi.item() <= lim):  # also False for NaN/inf
            return None
        s = amax / c_top
        torch.div(v, s, out=a)
        if magnitude:
            rnd(a.abs_(), ai, k, ki, v.view(ai.dtype), ai)
        else:
            rnd(a, a, ai, k, ki)
        return finish(a, s, out)
    return tile


def mx_block_scale(amax: torch.Tensor, emax_elem: int) -> torch.Tensor:
    """s = 2^clamp(⌊log2 amax⌋ − emax, −127, 127) as a new tensor, from amax's exponent bits
    (for finite amax > 0; 0 → 2^−127 here, where the general path takes 2^−emax)."""
    idtype = _INT_VIEW[amax.dtype][0]
    s = torch.bitwise_and(amax.view(idtype), const(_EXP[amax.dtype][0], idtype)).view(amax.dtype)
    return s.mul_(const(2.0**-emax_elem, amax.dtype)).clamp_(2.0**-127, 2.0**127)


def _mx_plan(fmt: MXFormat, dtype):
    """MX: s = 2^clamp(⌊log2 amax⌋ − emax, −127, 127) per block, y = Q(|v|·(1/s) with v's
    sign)·s; MXINT8's element is int8 with an implicit 2^−6 (Q = RNE(clamp(64x, ±127))/64)."""
    elem = fmt.element
    if fmt.emax_elem < 0:
        return None
    if isinstance(elem, IntFormat):
        rnd, pre, post = int_rounder(127), const(64.0, dtype), const(2.0**-6, dtype)
    else:
        rnd, pre, post = magnitude_rounder(elem, dtype), None, None
        if rnd is None:
            return None
    def tile(v, stats, out, work):
        (a, ai), (k, ki) = work.get(v.shape)
        torch.abs(v, out=a)
        if stats is None:
            amax = a.amax(dim=-1, keepdim=True)
            if not amax.max().item() < _INF:  # NaN/inf in a block: the filtered statistics
                return None
        else:
            amax = stats[0]
            if not amax.min().item() > 0:  # a zero block max: the scale 2^−emax matters
                return None
        s = mx_block_scale(amax, fmt.emax_elem)
        a.mul_(torch.reciprocal(s))
        if pre is None:
            rnd(a, ai, k, ki, v.view(ai.dtype), ai)
        else:  # (q/64)·s = q·(s/64): both are q·s·2^−6 rounded once (s/64 ≥ 2^−133 is exact)
            rnd(a.mul_(pre), a, ai, k, ki)
            a.copysign_(v)
            s.mul_(post)
        return finish(a, s, out)
    return tile


def round_float_eager(x: torch.Tensor, fmt: FloatFormat) -> torch.Tensor | None:
    """:func:`~lawkit.quant.kernels.round_float` (nearest even) of a CPU float32/float64 x by
    the rounders above, NaN rule included; None where they do not apply."""
    if x.device.type != "cpu" or x.dtype not in _INT_VIEW:
        return None
    wide, rnd = wide_rounder(fmt, x.dtype), magnitude_rounder(fmt, x.dtype)
    if wide is None and rnd is None:
        return None
    (a, ai), (k, ki) = Work(x.dtype, x.numel()).get(x.shape)
    if wide is not None:
        wide(x, a, ai, k, ki, a)
    else:
        rnd(torch.abs(x, out=a), ai, k, ki, x.view(ai.dtype), ai)
    return a
