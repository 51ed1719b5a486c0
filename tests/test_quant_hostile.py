"""Hostile arguments to the quantizers: each is a QuantError naming the argument, or a
correct result — never another exception, a hang or a huge allocation."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from lawkit.errors import LawkitError, QuantError
from lawkit.quant import (FloatFormat, IntFormat, MXFormat, QuantSpec, compile_quantizer,
                          parse_format, quantize)

T = torch.tensor([[1.0, -2.0, 3.0, 0.5], [0.25, 4.0, -1.0, 8.0]])
F32MAX = torch.finfo(torch.float32).max

# (id, call, error message pattern) — each must raise QuantError matching the pattern
ERRORS = [
    ("fmt unknown", lambda: quantize(T, "float9"), r"fmt: unknown format 'float9'"),
    ("fmt empty", lambda: quantize(T, ""), r"fmt: unknown format ''"),
    ("fmt None", lambda: quantize(T, None), r"fmt must be a format name"),
    ("fmt number", lambda: quantize(T, 4), r"fmt must be a format name.*int 4"),
    ("fmt huge digits", lambda: quantize(T, "int" + "9" * 5000), r"fmt: unknown format"),
    ("int0", lambda: quantize(T, "int0"), r"fmt 'int0'.*2 to 24 bits, got 0"),
    ("int negative", lambda: quantize(T, "int-4"), r"fmt 'int-4'.*got -4"),
    ("int1", lambda: quantize(T, "uint1"), r"2 to 24 bits, got 1"),
    ("int33", lambda: quantize(T, "int33"), r"fmt 'int33'.*got 33"),
    ("int64", lambda: quantize(T, "uint64"), r"got 64"),
    ("e0m3", lambda: quantize(T, "e0m3"), r"fmt 'e0m3'.*1 ≤ E ≤ 8"),
    ("e9m3", lambda: quantize(T, "e9m3"), r"fmt 'e9m3'"),
    ("e4m24", lambda: quantize(T, "e4m24"), r"0 ≤ M ≤ 23"),
    ("e4m-1", lambda: quantize(T, "e4m-1"), r"fmt 'e4m-1'"),
    ("IntFormat bits 0", lambda: IntFormat(0), r"bits must be an integer from 2 to 24"),
    ("IntFormat bits float", lambda: IntFormat(4.0), r"bits must be an integer"),
    ("FloatFormat E=9", lambda: FloatFormat("x", 9, 2), r"exponent bits E"),
    ("FloatFormat overflow", lambda: FloatFormat("x", 4, 3, overflow="wrap"), r"overflow"),
    ("FloatFormat e8 all-finite", lambda: FloatFormat("x", 8, 7), r"IEEE specials"),
    ("MXFormat block 0", lambda: MXFormat("x", IntFormat(8), 0, block=0), r"MX block"),
    ("block float", lambda: quantize(T, "int4", block=4.0), r"block must be an integer.*4.0"),
    ("block str", lambda: quantize(T, "int4", block="4"), r"block must be an integer"),
    ("block zero", lambda: quantize(T, "int4", block=0), r"block must be a positive integer"),
    ("block negative", lambda: quantize(T, "int4", block=-3), r"block must be a positive"),
    ("MX block zero", lambda: quantize(T, "mxfp4_e2m1", block=0), r"block must be a positive"),
    ("axis float", lambda: quantize(T, "int4", axis=0.0), r"axis must be an integer.*0.0"),
    ("axis bool", lambda: quantize(T, "int4", axis=True), r"axis must be an integer.*bool"),
    ("axis tensor float", lambda: quantize(T, "int4", axis=torch.tensor(0.0)), r"axis must be"),
    ("axis out of range", lambda: quantize(T, "int4", axis=2), r"axis 2 is out of range.*2 dims"),
    ("axis negative", lambda: quantize(T, "int4", axis=-3), r"axis -3 is out of range"),
    ("axis huge", lambda: quantize(T, "int4", axis=10**30), r"axis 1000.* is out of range"),
    ("axis on scalar", lambda: quantize(torch.tensor(1.0), "int4", axis=0), r"at least one dim"),
    ("axis and block", lambda: quantize(T, "int4", axis=0, block=2), r"not both"),
    ("axis with MX", lambda: quantize(T, "mxfp4_e2m1", axis=0), r"do not pass axis"),
    ("axis with float none", lambda: quantize(T, "e4m3", axis=0), r"scale='absmax'"),
    ("scale unknown", lambda: quantize(T, "int4", scale="max"), r"scale must be.*'max'"),
    ("scale number", lambda: quantize(T, "int4", scale=1.0), r"scale must be"),
    ("scale bad with MX", lambda: quantize(T, "mxint8", scale="tensor"), r"scale must be"),
    ("rounding unknown", lambda: quantize(T, "int4", rounding="up"), r"rounding must be.*'up'"),
    ("generator wrong type", lambda: quantize(T, "int4", rounding="stochastic", generator=3),
     r"generator must be a torch.Generator"),
    ("int tensor", lambda: quantize(torch.arange(4), "int4"), r"floating-point.*int64"),
    ("bool tensor", lambda: quantize(torch.ones(3, dtype=torch.bool), "int4"), r"floating-point"),
    ("complex tensor", lambda: quantize(torch.ones(3, dtype=torch.cfloat), "e4m3"), r"complex64"),
    ("list", lambda: quantize([1.0, 2.0], "int4"), r"floating-point torch tensor, got list"),
    ("numpy array", lambda: quantize(np.ones(3), "int4"), r"got ndarray"),
    ("sparse tensor", lambda: quantize(torch.eye(3).to_sparse(), "int4"), r"dense \(strided\)"),
    ("QuantSpec bad axis", lambda: QuantSpec("int4", axis=1.5), r"axis must be an integer"),
    ("QuantSpec bad format", lambda: QuantSpec("int99"), r"fmt 'int99'"),
    ("QuantSpec bad rounding", lambda: QuantSpec("int4", rounding="floor"), r"rounding must"),
    ("compile bad axis", lambda: compile_quantizer("int4", axis="x"), r"axis must be an integer"),
    ("compile bad format", lambda: compile_quantizer("mxfp5"), r"fmt: unknown format"),
    ("compile axis out of range", lambda: compile_quantizer("int4", axis=7)(T), r"axis 7"),
    ("compile bad out", lambda: compile_quantizer("int4")(T, torch.empty(3)), r"out must be a"),
    ("compile int tensor", lambda: compile_quantizer("int4")(torch.arange(3)), r"floating-point"),
]


@pytest.mark.parametrize("call, pattern", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_bad_argument_is_a_quant_error(call, pattern):
    with pytest.raises(QuantError, match=pattern) as info:
        call()
    assert isinstance(info.value, LawkitError)


def _finite(y):
    return bool(torch.isfinite(y).all())


def _same(a, b):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(((a == b) | (a.isnan() & b.isnan())).all())


BIG = torch.tensor([3e38, -3e38, 0.0, 1.0, 2e38])
EXTREME = torch.tensor([F32MAX, -F32MAX, 1.0])
TINY = torch.tensor([1e-45, -3e-45, 1e-44, 0.0])

# (id, call, check on the result) — each must return a correct result
RESULTS = [
    ("empty int4", lambda: quantize(torch.empty(0), "int4"), lambda y: y.shape == (0,)),
    ("empty uint4", lambda: quantize(torch.empty(0, 3), "uint4"), lambda y: y.shape == (0, 3)),
    ("empty axis=0", lambda: quantize(torch.empty(0, 5), "int4", axis=0),
     lambda y: y.shape == (0, 5)),
    ("empty axis=1", lambda: quantize(torch.empty(3, 0), "int8", axis=1),
     lambda y: y.shape == (3, 0)),
    ("empty rows, blocks", lambda: quantize(torch.empty(0, 64), "int4", block=32),
     lambda y: y.shape == (0, 64)),
    ("empty columns, blocks", lambda: quantize(torch.empty(2, 0), "e2m1", scale="absmax",
                                               block=4), lambda y: y.shape == (2, 0)),
    ("empty MX", lambda: quantize(torch.empty(4, 0), "mxfp4_e2m1"), lambda y: y.shape == (4, 0)),
    ("empty MX rows", lambda: quantize(torch.empty(0, 96), "mxint8"), lambda y: y.shape == (0, 96)),
    ("empty float", lambda: quantize(torch.empty(0, dtype=torch.float64), "float8_e5m2"),
     lambda y: y.shape == (0,) and y.dtype == torch.float64),
    ("empty huge shape", lambda: quantize(torch.empty(0, 10**12), "int4", axis=1),
     lambda y: y.shape == (0, 10**12)),
    ("empty with grad", lambda: quantize(torch.empty(0, 2, requires_grad=True), "int4", axis=1),
     lambda y: y.shape == (0, 2) and y.requires_grad),
    ("empty compiled", lambda: compile_quantizer("mxfp4_e2m1")(torch.empty(0, 32)),
     lambda y: y.shape == (0, 32)),
    ("scalar MX is one block", lambda: quantize(torch.tensor(3.0), "mxfp4_e2m1"),
     lambda y: y.shape == () and y.item() == 3.0),
    ("scalar with block", lambda: quantize(torch.tensor(-5.0), "int4", block=8),
     lambda y: y.item() == -5.0),
    ("block 10**12 is one group per row", lambda: quantize(T, "int4", block=10**12),
     lambda y: _same(y, quantize(T, "int4", axis=0))),
    ("block 10**30", lambda: quantize(T, "int4", block=10**30),
     lambda y: _same(y, quantize(T, "int4", axis=0))),
    ("MX block longer than the row", lambda: quantize(T, "mxfp4_e2m1", block=10**12),
     lambda y: _same(y, quantize(T, "mxfp4_e2m1"))),
    ("numpy integer block", lambda: quantize(T, "int4", block=np.int64(2)),
     lambda y: _same(y, quantize(T, "int4", block=2))),
    ("uint4 of ±3e38", lambda: quantize(BIG, "uint4"),
     lambda y: _finite(y) and (y - BIG).abs().max() <= 6e38 / 15 / 2 * 1.001),
    ("uint4 of ±float32 max", lambda: quantize(EXTREME, "uint4"),
     lambda y: _finite(y) and (y[:2] - EXTREME[:2]).abs().max() <= 2 * F32MAX / 15 / 2 * 1.001),
    ("int4 of ±float32 max", lambda: quantize(EXTREME, "int4"),
     lambda y: _finite(y) and y[0] == F32MAX and y[1] == -F32MAX and y[2] == 0),
    ("e4m3 absmax of ±float32 max", lambda: quantize(EXTREME, "e4m3", scale="absmax"),
     lambda y: _finite(y) and y[0] == F32MAX),
    ("int8 of subnormals", lambda: quantize(TINY, "int8"),
     lambda y: _same(y, TINY)),  # 1e-44 = 7·2^-149: a scale that does not underflow
    ("uint8 of subnormals", lambda: quantize(TINY, "uint8"), lambda y: _same(y, TINY)),
    ("float64 uint8 of ±1e308", lambda: quantize(torch.tensor([1e308, -1e308],
                                                               dtype=torch.float64), "uint8"),
     lambda y: _finite(y) and (y.abs() - 1e308).abs().max() <= 2e308 / 255 / 2 * 1.001),
    ("float64 int8 of 1e-320", lambda: quantize(torch.tensor([1e-320, -1e-320],
                                                              dtype=torch.float64), "int8"),
     lambda y: _same(y, [1e-320, -1e-320])),
    ("int4 of inf/NaN saturates, NaN stays", lambda: quantize(
        torch.tensor([math.inf, math.nan, 1.0, -math.inf]), "int4"),
     lambda y: _same(y, [1.0, math.nan, 1.0, -1.0])),
    ("e8m7 of inf/NaN", lambda: quantize(torch.tensor([math.inf, -math.inf, math.nan]), "e8m7"),
     lambda y: _same(y, [math.inf, -math.inf, math.nan])),
    ("float8 input", lambda: quantize(torch.tensor([1.0, 3.0]).to(torch.float8_e4m3fn), "int2"),
     lambda y: y.dtype == torch.float8_e4m3fn and _same(y.float(), [0.0, 3.0])),
    ("transposed input with blocks", lambda: quantize(T.t(), "int4", block=2),
     lambda y: _same(y, quantize(T.t().contiguous(), "int4", block=2))),
    ("expanded input per channel", lambda: quantize(T[:1].expand(3, 4), "int4", axis=0),
     lambda y: _same(y, quantize(T[:1].repeat(3, 1), "int4", axis=0))),
    ("format name with spaces and capitals", lambda: quantize(T, " INT4\n"),
     lambda y: _same(y, quantize(T, "int4"))),
]


@pytest.mark.parametrize("call, check", [c[1:] for c in RESULTS], ids=[c[0] for c in RESULTS])
def test_hostile_but_valid_arguments_give_correct_results(call, check):
    t0 = time.perf_counter()
    y = call()
    assert time.perf_counter() - t0 < 10
    assert check(y), y


def test_no_argument_error_escapes_as_another_exception():
    """A sweep of odd combinations: anything that fails, fails as a QuantError."""
    xs = [torch.empty(0), torch.tensor(2.0), torch.randn(3, 5), torch.randn(2, 0, 3),
          torch.randn(4, 33, dtype=torch.float64), torch.randn(7).half(), BIG, TINY]
    fmts = ["int2", "uint3", "int24", "e1m0", "e8m0", "e8m23", "e5m2", "bfloat16",
            "float4_e2m1fn", "mxfp6_e2m3", "mxint8"]
    options = [{}, {"axis": 0}, {"axis": -1}, {"block": 1}, {"block": 5}, {"scale": "absmax"},
               {"scale": "none"}, {"rounding": "stochastic"}, {"axis": 3}]
    results = 0
    for x in xs:
        for fmt in fmts:
            for kw in options:
                try:
                    y = quantize(x, fmt, **kw)
                except QuantError:
                    continue
                assert y.shape == x.shape and y.dtype == x.dtype
                results += 1
    assert results > 300
