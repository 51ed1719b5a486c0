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

import torch

from .formats import FloatFormat

_INT_VIEW = {torch.float32: (torch.int32, 23), torch.float64: (torch.int64, 52)}


def work_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def rounding_method(device: torch.device, compiled: bool = False) -> str:
    """"split" on CPU (exact: inductor's CPU code does not contract to FMA by default),
    "bits" elsewhere."""
    if device.type != "cpu":
        return "bits"
    if compiled:
        from torch._inductor import config

        if config.cpp.enable_floating_point_contract_flag != "off":
            return "bits"
    return "split"


def _rne_bits(a: torch.Tensor, s: int) -> torch.Tensor:
    idtype, _ = _INT_VIEW[a.dtype]
    bits = a.view(idtype)
    lsb = (bits >> s) & 1
    r = ((bits + ((1 << (s - 1)) - 1) + lsb) & ~((1 << s) - 1)).view(a.dtype)
    return torch.where(a != a, a, r)  # NaN bit patterns may carry into the sign bit


def _rne_split(a: torch.Tensor, s: int) -> torch.Tensor:
    c = a * float(2**s + 1)
    return c - (c - a)


def _round_magnitude(a: torch.Tensor, fmt: FloatFormat, method: str) -> torch.Tensor:
    """|x| (non-negative or NaN) rounded to nearest even on fmt's grid, before overflow rules."""
    _, frac_bits = _INT_VIEW[a.dtype]
    s = frac_bits - fmt.man_bits
    if s == 0:
        r = a
    elif method == "bits" or not 2 <= s <= frac_bits - 1:
        r = _rne_bits(a, s)
    elif a.dtype == torch.float32 and fmt.emax >= 100:  # E = 8: keep c = a·(2^s+1) finite
        big = a >= 2.0**100
        r = _rne_split(torch.where(big, torch.clamp(a * 2.0**-64, max=2.0**65), a), s)
        r = torch.where(big, r * 2.0**64, r)
    else:
        r = _rne_split(torch.clamp(a, max=2.0 ** (fmt.emax + 1)), s)
    C = 2.0 ** (fmt.emin - fmt.man_bits + frac_bits)
    return torch.where(a < 2.0**fmt.emin, (a + C) - C, r)


def _overflow(r: torch.Tensor, fmt: FloatFormat) -> torch.Tensor:
    """Magnitudes beyond fmt.max: saturate, ±inf or NaN (NaN stays NaN)."""
    if fmt.overflow == "saturate":
        return torch.clamp(r, max=fmt.max)
    special = float("inf") if fmt.overflow == "inf" else float("nan")
    return torch.where(r > fmt.max, special, r)


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
    else:
        r = _round_magnitude(x.abs(), fmt, method or rounding_method(x.device))
    y = torch.copysign(_overflow(r, fmt), x)
    if fmt.nan == "neg_zero":  # ml_dtypes: NaN → zero with the opposite sign bit
        zero = torch.where(torch.signbit(x), 0.0, -0.0)
        return torch.where(x != x, zero, y)
    return y


def round_int(v: torch.Tensor, lo: float, hi: float, *, stochastic: bool = False,
              generator: torch.Generator | None = None,
              noise: torch.Tensor | None = None) -> torch.Tensor:
    """Round to integers (half to even, or stochastically) and clamp to [lo, hi]."""
    if stochastic:
        u = noise if noise is not None else torch.rand(
            v.shape, dtype=v.dtype, device=v.device, generator=generator)
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
