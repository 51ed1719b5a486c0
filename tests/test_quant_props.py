"""Property tests over ``quantize`` arguments: any format name, shape (0-size included),
axis, block, scale, rounding and values of any magnitude give a result or a QuantError —
never another exception — and results are representable in the format.

Properties checked on every result:

* shape and dtype are x's; finite input stays finite wherever the format cannot overflow
  (integers, MX, absmax scales, saturating floats); NaN stays NaN where the format keeps it;
* idempotence (nearest rounding, float32/float64 input): exactly ``q(q(x)) == q(x)`` for
  the format's own grid (``scale="none"``) and for MX (the block exponent is unchanged);
  within 1e-5 of the largest value for absmax scales (the scale is recomputed from q(x));
* monotonicity: with one scale for the whole tensor, x ≤ x' ⇒ q(x) ≤ q(x').

The default run has a fixed budget (a few seconds per test); ``slow`` runs 20× longer.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lawkit.errors import QuantError
from lawkit.quant import FloatFormat, IntFormat, MXFormat, parse_format, quantize
from lawkit.quant.formats import ML_DTYPES, MX

FAST = settings(max_examples=250, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=5000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

F32 = np.finfo(np.float32)
SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, float(F32.max), -float(F32.max),
            float(F32.smallest_subnormal), -float(F32.smallest_subnormal), 3e38, -3e38, 1e-40,
            0.5, 1.5, 2.5, 448.0, 464.0, 57344.0, 6.0, 7.0]

format_names = st.one_of(
    st.builds(lambda u, b: f"{u}int{b}", st.sampled_from(["", "u"]), st.integers(-2, 40)),
    st.builds(lambda e, m: f"e{e}m{m}", st.integers(-1, 10), st.integers(-1, 25)),
    st.sampled_from([*ML_DTYPES, *MX]),
    st.text(max_size=6),
)
valid_names = st.one_of(
    st.builds(lambda u, b: f"{u}int{b}", st.sampled_from(["", "u"]), st.integers(2, 24)),
    st.builds(lambda e, m: f"e{e}m{m}", st.integers(1, 8), st.integers(0, 23)),
    st.sampled_from([*ML_DTYPES, *MX]),
)
shapes = st.one_of(
    st.lists(st.integers(0, 5), max_size=3).map(tuple),
    st.tuples(st.integers(0, 3), st.integers(28, 70)),  # MX-sized rows, partial blocks
)
elements = st.one_of(st.floats(width=32), st.sampled_from(SPECIALS),
                     st.floats(-10, 10, width=32))
axes = st.one_of(st.none(), st.integers(-4, 3), st.sampled_from([0.0, 1.5, True, "0", 10**20]))
blocks = st.one_of(st.none(), st.integers(1, 40), st.sampled_from([0, -1, 2.0, 10**12, 10**30]))
scales = st.sampled_from([None, None, "none", "absmax", "bogus", 1])
roundings = st.sampled_from(["nearest", "nearest", "stochastic", "floor"])
dtypes = st.sampled_from([torch.float32, torch.float32, torch.float64, torch.float16,
                          torch.bfloat16])


@st.composite
def tensors(draw):
    shape = draw(shapes)
    a = np.asarray(draw(hnp.arrays(np.float32, shape, elements=elements)), dtype=np.float32)
    dtype = draw(dtypes)
    if dtype == torch.float64:  # magnitudes beyond float32 as well
        big = draw(st.sampled_from([1.0, 1.0, 1e200, 1e-200]))
        return torch.from_numpy(np.asarray(a.astype(np.float64) * big, dtype=np.float64))
    return torch.from_numpy(a).to(dtype)


def _bits_equal(a: torch.Tensor, b: torch.Tensor, signed_zero: bool = True) -> bool:
    """Equal values, NaN equal to NaN; the sign of zero too unless ``signed_zero=False``
    (an integer grid's zero has no sign: uint's −0 from round(−0.3) requantizes to +0)."""
    a, b = a.double(), b.double()
    same = (a == b) & ((a.signbit() == b.signbit()) | (not signed_zero))
    return bool((same | (a.isnan() & b.isnan())).all())


def _can_overflow(f, scale) -> bool:
    return isinstance(f, FloatFormat) and scale != "absmax" and f.overflow != "saturate"


def check_result(x, fmt, kw, y) -> None:
    f = parse_format(fmt)
    assert y.shape == x.shape and y.dtype == x.dtype
    if x.numel() == 0:
        return
    xd, yd = x.double(), y.double()
    scale = kw.get("scale") or ("absmax" if isinstance(f, IntFormat) else "none")
    finite = torch.isfinite(xd)
    if not _can_overflow(f, scale) and x.dtype in (torch.float32, torch.float64):
        assert torch.isfinite(yd[finite]).all(), (x, y)
    keeps_nan = not (isinstance(f, FloatFormat) and f.nan == "neg_zero")
    if keeps_nan:
        assert torch.isnan(yd[torch.isnan(xd)]).all()
    if kw.get("rounding", "nearest") != "nearest" or x.dtype not in (torch.float32, torch.float64):
        return
    y2 = quantize(y, fmt, **kw)
    if isinstance(f, MXFormat) or scale == "none":
        assert _bits_equal(y2, y, signed_zero=not isinstance(f, IntFormat)), (x, y, y2)
    else:
        fin = torch.isfinite(yd)
        top = yd[fin].abs().max().item() if fin.any() else 0.0
        if 1e-30 < top < 1e37 or x.dtype == torch.float64 and 1e-290 < top < 1e300:
            err = (y2.double() - yd)[fin].abs().max().item()
            assert err <= 1e-5 * top, (x, y, y2)
    if kw.get("axis") is None and kw.get("block") is None and not isinstance(f, MXFormat):
        keep = finite & ~torch.isnan(yd)  # (overflow to NaN is the format's rule)
        xs, order = xd[keep].flatten().sort()
        ys = yd[keep].flatten()[order]
        assert (ys[1:] >= ys[:-1]).all() | (ys.numel() < 2), (xs, ys)  # monotone


def run_property(x, fmt, axis, block, scale, rounding, seed):
    kw = {}
    for name, value in (("axis", axis), ("block", block), ("scale", scale)):
        if value is not None:
            kw[name] = value
    if rounding != "nearest":
        kw["rounding"] = rounding
    gen = torch.Generator().manual_seed(seed) if rounding == "stochastic" else None
    try:
        y = quantize(x, fmt, generator=gen, **kw)
    except QuantError as err:
        assert str(err)  # a message, never empty
        return
    check_result(x, fmt, kw, y)


arguments = dict(x=tensors(), axis=axes, block=blocks, scale=scales, rounding=roundings,
                 seed=st.integers(0, 2**31 - 1))


@FAST
@given(fmt=format_names, **arguments)
def test_any_arguments_give_a_result_or_quant_error(fmt, x, axis, block, scale, rounding, seed):
    run_property(x, fmt, axis, block, scale, rounding, seed)


@FAST
@given(fmt=valid_names, x=tensors(), axis=st.one_of(st.none(), st.integers(-3, 2)),
       block=st.one_of(st.none(), st.integers(1, 40)),
       scale=st.sampled_from([None, "none", "absmax"]))
def test_valid_arguments_results_are_representable(fmt, x, axis, block, scale):
    run_property(x, fmt, axis, block, scale, "nearest", 0)


@pytest.mark.slow
@SLOW
@given(fmt=format_names, **arguments)
def test_any_arguments_long_run(fmt, x, axis, block, scale, rounding, seed):
    run_property(x, fmt, axis, block, scale, rounding, seed)


@pytest.mark.slow
@SLOW
@given(fmt=valid_names, x=tensors(), axis=st.one_of(st.none(), st.integers(-3, 2)),
       block=st.one_of(st.none(), st.integers(1, 40)),
       scale=st.sampled_from([None, "none", "absmax"]))
def test_valid_arguments_long_run(fmt, x, axis, block, scale):
    run_property(x, fmt, axis, block, scale, "nearest", 0)
