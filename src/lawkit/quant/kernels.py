"""Elementwise rounding to a format's grid, in device-agnostic torch.

Floats round to nearest even by integer arithmetic on the bit pattern (no ``log2``):
adding ``2^(s−1) − 1 + lsb`` to the bits and clearing the low ``s`` bits, ``s`` = the
number of mantissa bits dropped, is round-half-to-even of the mantissa, and a carry moves
into the exponent exactly as it should.  Values below the format's smallest normal are
rounded on the fixed subnormal grid 2^(emin − M) instead.  Computation is in float32 (or
float64 for float64 input), so inputs are converted exactly and rounded once.
"""

from __future__ import annotations

import torch

from .formats import FloatFormat

_INT_VIEW = {torch.float32: (torch.int32, 23), torch.float64: (torch.int64, 52)}


def work_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def round_float(x: torch.Tensor, fmt: FloatFormat, *, stochastic: bool = False,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """``x`` (float32/float64) rounded to ``fmt`` (values, not codes), with its overflow and
    NaN rules."""
    idtype, frac_bits = _INT_VIEW[x.dtype]
    M = fmt.man_bits
    min_normal = 2.0**fmt.emin
    sub_q = 2.0 ** (fmt.emin - M)
    ax = x.abs()
    if stochastic:
        # q = 2^(max(e, emin) − M) with e = ⌊log2|x|⌋ (frexp is exact); floor(x/q + u)·q
        _, e = torch.frexp(x)
        q = torch.ldexp(torch.ones_like(x), torch.clamp(e - 1, min=fmt.emin) - M)
        u = torch.rand(x.shape, dtype=x.dtype, device=x.device, generator=generator)
        y = torch.floor(x / q + u) * q
    else:
        shift = frac_bits - M
        bits = x.view(idtype)
        lsb = (bits >> shift) & 1
        rounded = (bits + ((1 << (shift - 1)) - 1) + lsb) & ~((1 << shift) - 1)
        y = rounded.view(x.dtype)
        y = torch.where(ax < min_normal, torch.round(x * (1.0 / sub_q)) * sub_q, y)  # exact: 2^k
    big = y.abs() > fmt.max
    if fmt.overflow == "saturate":
        y = torch.where(big, torch.copysign(torch.full_like(y, fmt.max), x), y)
    elif fmt.overflow == "inf":
        y = torch.where(big, torch.copysign(torch.full_like(y, float("inf")), x), y)
    else:  # "nan": no infinity code; overflow (and ±inf) become NaN
        y = torch.where(big, torch.full_like(y, float("nan")), y)
    nan = torch.isnan(x)
    if fmt.nan == "neg_zero":  # ml_dtypes: NaN → zero with the opposite sign bit
        zero = torch.where(torch.signbit(x), torch.zeros_like(y), torch.full_like(y, -0.0))
        return torch.where(nan, zero, y)
    return torch.where(nan, x, y)


def round_int(v: torch.Tensor, lo: float, hi: float, *, stochastic: bool = False,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Round to integers (half to even, or stochastically) and clamp to [lo, hi]."""
    if stochastic:
        u = torch.rand(v.shape, dtype=v.dtype, device=v.device, generator=generator)
        r = torch.floor(v + u)
    else:
        r = torch.round(v)
    return torch.clamp(r, lo, hi)


def pow2_floor_exponent(a: torch.Tensor) -> torch.Tensor:
    """⌊log2 a⌋ for a > 0 (read from the exponent bits; exact for normal numbers, and
    below −126 / −1022 for subnormal ones); 0 where a = 0.  Returned as a float tensor."""
    idtype, frac_bits = _INT_VIEW[a.dtype]
    ebits = 8 if a.dtype == torch.float32 else 11
    bias = 2 ** (ebits - 1) - 1
    e = ((a.view(idtype) >> frac_bits) & (2**ebits - 1)) - bias
    return torch.where(a > 0, e, torch.zeros_like(e)).to(a.dtype)
