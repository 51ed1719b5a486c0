"""Whole-row eager kernels for scaled formats whose groups fit in a tile (per-channel absmax,
MX blocks): every group's max|v| in two parallel reductions over the whole
(groups, group_len) view, each row's constants once, then four to eight in-place ops per
cache-sized tile — against 14 to 18 in :mod:`.eager`'s per-tile kernels, whose
statistics, scale and checks are redone on every tile.

* absmax (signed int, or a float the signed rounder takes): s = max|v|/top,
  y = Q(v/s)·s — :func:`~lawkit.quant.quantize.quantize_tile`'s ops for groups whose max
  lies in [tiny, dmax/4];
* MX float elements: with s the block scale (a power of two) and x = v/s, the grid step
  q = 2^(max(e_x, emin) − M) gives y = RNE(x/q)·q·s = RNE(c/(q·s))·(q·s), c = clamp(v, ±top·s),
  and q·s = 2^(max(e_c, emin + log2 s) − M) comes from c's own exponent bits — exact while
  every step is a normal power of two and top·s is finite: log2 s ∈ [e_min − emin + M,
  e_max − emax − 1] for the working dtype's normal exponents [e_min, e_max] (and within ±100);
* MXINT8: t = s·2^−6, y = RNE(clamp(v/t, ±127))·t.

An all-zero group takes s = 1 (any scale gives ±0 there).  A view with a NaN or inf,
a group max outside those ranges, or a format without such a kernel returns False: the
per-tile path (same results) then runs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .checks import Options
from .eager import Work, const, finish, int_rounder, mx_block_scale, signed_rounder
from .formats import IntFormat, MXFormat
from .kernels import _EXP, _INT_VIEW, TINY_SCALE

_REDUCIBLE = (torch.float16, torch.bfloat16, torch.float32, torch.float64)  # amax/amin on CPU


def row_kernel(opts: Options, dtype: torch.dtype) -> Callable | None:
    """``run(view, out, tile_rows) -> bool`` quantizing the whole (groups, group_len) view
    into ``out``, or None where no whole-row kernel applies."""
    fmt = opts.fmt
    if opts.stochastic or dtype not in _INT_VIEW:
        return None
    if isinstance(fmt, MXFormat):
        if fmt.emax_elem < 0:
            return None
        if isinstance(fmt.element, IntFormat):
            return _runner(_mx_int_prepare(fmt, dtype), _scaled_tile(int_rounder(127)),
                           dtype)
        elem = fmt.element
        if elem.overflow != "saturate" or not 1 <= elem.man_bits < _INT_VIEW[dtype][1]:
            return None  # (M = 0: a tie goes to the even exponent code, not the even integer)
        return _runner(_mx_float_prepare(fmt, dtype), _mx_float_tile(fmt, dtype), dtype)
    if opts.scale != "absmax":
        return None
    if isinstance(fmt, IntFormat):
        return _runner(_absmax_prepare(fmt.qmax, dtype), _scaled_tile(int_rounder(fmt.qmax)),
                       dtype) if fmt.signed else None
    rnd = signed_rounder(fmt, dtype)
    return None if rnd is None else _runner(_absmax_prepare(fmt.max, dtype),
                                            _scaled_tile(rnd), dtype)


def _abs_max(view: torch.Tensor, dtype) -> torch.Tensor:
    """max|v| per row as max(max v, −min v): two whole-view reductions, no |v| temporary."""
    hi = torch.amax(view, dim=-1, keepdim=True).to(dtype)
    return torch.maximum(hi, torch.amin(view, dim=-1, keepdim=True).to(dtype).neg_())


def _within(t: torch.Tensor, lo: float, hi: float) -> bool:
    """lo ≤ every element ≤ hi (False for NaN)."""
    a, b = torch.aminmax(t)
    return lo <= a.item() and b.item() <= hi


def _absmax_prepare(top: float, dtype):
    tiny, lim = TINY_SCALE[dtype][0], torch.finfo(dtype).max / 4
    c_top = const(float(top), dtype)

    def prepare(view):
        amax = _abs_max(view, dtype)
        amax.masked_fill_(amax == 0, float(top))  # an all-zero row: s = 1 (y = ±0 anyway)
        return (amax / c_top,) if _within(amax, tiny, lim) else None
    return prepare


def _mx_scale(view, fmt: MXFormat, dtype, log2_range=(-100, 100)):
    """The block scales s, or None where one lies outside 2^log2_range."""
    amax = _abs_max(view, dtype)
    if not amax.max().item() < float("inf"):
        return None
    s = mx_block_scale(amax.masked_fill_(amax == 0, 1.0), fmt.emax_elem)
    lo, hi = max(log2_range[0], -100), min(log2_range[1], 100)
    return s if lo <= hi and _within(s, 2.0**lo, 2.0**hi) else None


def _mx_int_prepare(fmt: MXFormat, dtype):
    def prepare(view):
        s = _mx_scale(view, fmt, dtype)
        return None if s is None else (s.mul_(const(2.0**-6, dtype)),)
    return prepare


def _mx_float_prepare(fmt: MXFormat, dtype):
    elem = fmt.element
    idtype, frac = _INT_VIEW[dtype]
    e_min, e_max = 1 - _EXP[dtype][1], _EXP[dtype][1]  # normal exponents of the dtype
    log2_range = (e_min - elem.emin + elem.man_bits, e_max - elem.emax - 1)

    def prepare(view):
        s = _mx_scale(view, fmt, dtype, log2_range)
        if s is None:
            return None
        floor = s.view(idtype) + (elem.emin << frac)  # bits of 2^(emin + log2 s)
        hi = s * const(elem.max, dtype)
        return (hi.neg(), hi, floor)
    return prepare


def _scaled_tile(rnd):
    """y = Q(v/s)·s for a per-row s (absmax, MXINT8), Q a signed rounder."""
    def tile(v, rows, o, work):
        (s,) = rows
        (a, ai), (k, ki) = work.get(v.shape)
        rnd(torch.div(v, s, out=a), a, ai, k, ki)
        return finish(a, s, o)
    return tile


def _mx_float_tile(fmt: MXFormat, dtype):
    """y = RNE(c/p)·p with c = clamp(v, ±top·s), p = 2^(max(e_c, emin + log2 s) − M)."""
    idtype, frac = _INT_VIEW[dtype]
    c_emask = const(_EXP[dtype][0], idtype)
    c_man = const(fmt.element.man_bits << frac, idtype)

    def tile(v, rows, o, work):
        lo, hi, floor = rows
        (a, ai), (k, ki) = work.get(v.shape)
        torch.maximum(torch.minimum(v, hi, out=a), lo, out=a)  # (a tensor-bound clamp is slow)
        torch.bitwise_and(ai, c_emask, out=ki)
        torch.maximum(ki, floor, out=ki)
        ki.sub_(c_man)
        a.div_(k).round_()
        return finish(a, k, o)
    return tile


def _runner(prepare, tile, dtype):
    """prepare(view) → per-row tensors or None; then tile by tile, rows in step."""
    def run(view, out, tile_rows: int) -> bool:
        if view.dtype not in _REDUCIBLE:
            return False
        rows = prepare(view)
        if rows is None:
            return False
        work = Work(dtype, tile_rows * view.shape[1])
        parts = [_tiles(t, tile_rows) for t in (view, out, *rows)]
        for v, o, *r in zip(*parts):
            y = tile(v.to(dtype), r, o, work)
            if y is not o:
                o.copy_(y)
        return True
    return run


def _tiles(t: torch.Tensor, step: int) -> list[torch.Tensor]:
    """t.split(step) along rows, the full tiles made by one unbind (cheaper views)."""
    full = t.shape[0] // step * step
    tiles = list(t[:full].view(-1, step, *t.shape[1:]).unbind(0)) if full else []
    return tiles + ([t[full:]] if full < t.shape[0] else [])
