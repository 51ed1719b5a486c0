"""Elementwise rounding to a format's grid, in device-agnostic torch.

Round to nearest even of |x| to M mantissa bits (s = p − 1 − M bits dropped, p = 24 for
float32, 53 for float64), by one of two exact methods that give identical results:

* ``"split"`` (Veltkamp): c = |x|·(2^s + 1), r = c − (c − |x|) is |x| rounded to nearest
  even on p − s bits for 2 ≤ s ≤ p − 2.  Only float multiplies and subtractions, so it
  vectorizes on CPU (inductor scalarizes bit casts).  It needs c finite: |x| is first
  clamped to 2^(emax+1) (still beyond the format's max), or, for E = 8 in float32, scaled
  by 2^−64 above 2^100 (and inf clamped to 2^65, which scales back to inf).  Not used
  where a compiler may contract c − |x| into an FMA (CUDA).
* ``"bits"``: add 2^(s−1) − 1 + lsb to the bit pattern and clear the low s bits; a carry
  moves into the exponent exactly as it should.

Magnitudes below the smallest normal 2^emin are rounded on the fixed subnormal grid
q = 2^(emin − M) as (|x| + C) − C with C = 2^(emin − M + p − 1), whose ulp is q.  The sign
is copied back last, so −0 stays −0.  Computation is in float32 (float64 for float64
input): inputs convert exactly and are rounded once.
"""

from __future__ import annotations

from functools import cache

import torch

from .formats import FloatFormat

_INT_VIEW = {torch.float32: (torch.int32, 23), torch.float64: (torch.int64, 52)}


def work_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def rounding_method(device: torch.device, compiled: bool = False) -> str:
    """"split" on CPU (exact: inductor's CPU code does not contract to FMA by default),
    "bits" elsewhere; "auto" (eager CPU) takes bits where split needs extra steps (E = 8)."""
    if device.type != "cpu":
        return "bits"
    if compiled:
        from torch._inductor import config

        if config.cpp.enable_floating_point_contract_flag != "off":
            return "bits"
        return "split"
    return "auto"


def _rne_bits(a: torch.Tensor, s: int) -> torch.Tensor:
    idtype, _ = _INT_VIEW[a.dtype]
    bits = a.view(idtype)
    lsb = (bits >> s) & 1
    r = ((bits + ((1 << (s - 1)) - 1) + lsb) & ~((1 << s) - 1)).view(a.dtype)
    return torch.where(a != a, a, r)  # NaN bit patterns may carry into the sign bit


def _rne_split(a: torch.Tensor, s: int) -> torch.Tensor:
    c = a * float(2**s + 1)
    return c - (c - a)


def _top(fmt: FloatFormat) -> float:
    """2^(emax+1): beyond fmt.max, so clamping |x| there keeps every overflow an overflow."""
    return 2.0 ** (fmt.emax + 1)


def _round_magnitude(a: torch.Tensor, fmt: FloatFormat, method: str) -> torch.Tensor:
    """|x| (non-negative or NaN) rounded to nearest even on fmt's grid, before overflow rules
    (a saturating format's input is already clamped to fmt.max: RNE(min(a, max)) is
    min(RNE(a), max), one op fewer)."""
    _, frac_bits = _INT_VIEW[a.dtype]
    s = frac_bits - fmt.man_bits
    wide = a.dtype == torch.float32 and fmt.emax >= 100  # E = 8 in float32
    if s == 0:
        r = a
    elif method == "bits" or not 2 <= s <= frac_bits - 1 or (method == "auto" and wide):
        r = _rne_bits(a, s)
    elif wide:  # keep c = a·(2^s+1) finite
        big = a >= 2.0**100
        r = _rne_split(torch.where(big, torch.clamp(a * 2.0**-64, max=2.0**65), a), s)
        r = torch.where(big, r * 2.0**64, r)
    else:
        r = _rne_split(a if fmt.overflow == "saturate" else torch.clamp(a, max=_top(fmt)), s)
    C = 2.0 ** (fmt.emin - fmt.man_bits + frac_bits)
    return torch.where(a < 2.0**fmt.emin, (a + C) - C, r)


def _overflow(r: torch.Tensor, fmt: FloatFormat) -> torch.Tensor:
    """Magnitudes beyond fmt.max: saturate, ±inf or NaN (NaN stays NaN)."""
    if fmt.overflow == "saturate":
        return torch.clamp(r, max=fmt.max)
    special = float("inf") if fmt.overflow == "inf" else float("nan")
    return r.masked_fill(r > fmt.max, special)


# ---- shared with the eager CPU kernels (eager.py)
_EXP = {torch.float32: (0x7F800000, 127), torch.float64: (0x7FF0000000000000, 1023)}
_EXP_BITS = {torch.float32: 8, torch.float64: 11}
# (threshold, factor): groups with max|x| below the threshold are first multiplied by the
# factor (a power of two) so that their absmax scale does not underflow
TINY_SCALE = {torch.float32: (2.0**-60, 2.0**64), torch.float64: (2.0**-500, 2.0**600)}


@cache
def _overflow_factor(fmt: FloatFormat, dtype: torch.dtype) -> float | None:
    """m with r·m finite exactly for grid values r ≤ fmt.max (inf for the next one up)."""
    dmax = torch.finfo(dtype).max
    m = torch.tensor(dmax / fmt.max, dtype=dtype)
    while torch.isinf(m * fmt.max):
        m = torch.nextafter(m, torch.zeros_like(m))
    nxt = fmt.max + 2.0 ** (fmt.emax - fmt.man_bits)  # the first value past max
    return float(m) if torch.isinf(torch.tensor(nxt, dtype=dtype) * m) else None


def round_float(x: torch.Tensor, fmt: FloatFormat, *, stochastic: bool = False,
                generator: torch.Generator | None = None, noise: torch.Tensor | None = None,
                method: str | None = None) -> torch.Tensor:
    """``x`` (float32/float64) rounded to ``fmt`` (values, not codes), with its overflow and
    NaN rules.  Stochastic rounding uses ``noise`` (uniform [0, 1), x's shape) or draws it;
    it saturates values inside the range and applies the overflow rule to those outside."""
    if stochastic:
        # q = 2^(max(e, emin) − M) with e = ⌊log2|x|⌋ (frexp is exact); floor(x/q + u)·q
        _, e = torch.frexp(x)
        q = torch.ldexp(torch.ones_like(x), torch.clamp(e - 1, min=fmt.emin) - fmt.man_bits)
        u = noise if noise is not None else torch.rand(
            x.shape, dtype=x.dtype, device=x.device, generator=generator)
        y = torch.floor(x / q + u) * q
        r = torch.where(x.abs() <= fmt.max, torch.clamp(y.abs(), max=fmt.max), y.abs())
        y = torch.copysign(_overflow(r, fmt), x)
    else:
        method = method or rounding_method(x.device)
        if method == "auto":  # eager CPU: in-place kernels, NaN rule included (same results)
            from .eager import round_float_eager  # (eager.py imports this module)

            y = round_float_eager(x, fmt)
            if y is not None:
                return y
        sat = fmt.overflow == "saturate"
        a = torch.clamp(x.abs(), max=fmt.max) if sat else x.abs()
        r = _round_magnitude(a, fmt, method)
        y = torch.copysign(r if sat else _overflow(r, fmt), x)
    if fmt.nan == "neg_zero":  # ml_dtypes: NaN → zero with the opposite sign bit
        zero = torch.where(torch.signbit(x), 0.0, -0.0)
        return torch.where(x != x, zero, y)
    return y


def round_int(v: torch.Tensor, lo: float, hi: float, *, stochastic: bool = False,
              generator: torch.Generator | None = None,
              noise: torch.Tensor | None = None, eager: bool = False) -> torch.Tensor:
    """Round to integers (half to even, or stochastically) and clamp to [lo, hi].

    The clamp comes first (the same values for integer bounds).  ``eager`` (CPU):
    (|c| + 2^(p−1)) − 2^(p−1), whose addition rounds to an integer once, ties to even, with
    c's sign bit copied back (the same values as torch.round, which :mod:`.eager`'s
    in-place tiles use)."""
    if stochastic:
        u = noise if noise is not None else torch.rand(
            v.shape, dtype=v.dtype, device=v.device, generator=generator)
        return torch.clamp(torch.floor(v + u), lo, hi)
    idtype, frac = _INT_VIEW[v.dtype]
    c = torch.clamp(v, lo, hi)  # before rounding: uint's round(−0.3) is +0 on every path
    if not eager or max(abs(lo), abs(hi)) >= 2.0**frac:
        return torch.round(c)
    big = 2.0**frac
    r = (c.abs() + big).sub_(big)
    sign = c.view(idtype) & (-1 << (frac + _EXP_BITS[v.dtype]))
    return (r.view(idtype) | sign).view(v.dtype)