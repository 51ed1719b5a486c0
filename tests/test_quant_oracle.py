"""Quantization kernels against oracles: ml_dtypes bit-exactly for its float formats;
independent NumPy references (written here) for int, generic e{E}m{M} and MX formats."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
import torch

from lawkit.errors import QuantError
from lawkit.quant import FloatFormat, parse_format, quantize

ML = ["float8_e4m3fn", "float8_e5m2", "float6_e3m2fn", "float6_e2m3fn", "float4_e2m1fn", "bfloat16"]


def same_bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal as bit patterns (so −0 ≠ +0), any NaN equal to any NaN."""
    a, b = a.astype(np.float32), b.astype(np.float32)
    return (a.view(np.uint32) == b.view(np.uint32)) | (np.isnan(a) & np.isnan(b))


def oracle(x32: np.ndarray, name: str) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        return x32.astype(getattr(ml_dtypes, name)).astype(np.float32)


@pytest.mark.parametrize("name", ML)
@pytest.mark.parametrize("src", ["float16", "bfloat16"])
def test_exhaustive_16_bit_inputs(name, src):
    """All 2^16 fp16 / bf16 bit patterns, given as tensors of that dtype."""
    bits = np.arange(2**16, dtype=np.uint16)
    xs = bits.view(np.float16) if src == "float16" else bits.view(ml_dtypes.bfloat16)
    x32 = xs.astype(np.float32)
    t = torch.from_numpy(bits.view(np.int16).copy()).view(getattr(torch, src))
    got = quantize(t, name).float().numpy()
    # the result has the input's dtype: bfloat16's values above 65504 are inf in float16
    with np.errstate(over="ignore"):
        ref = oracle(x32, name).astype(xs.dtype).astype(np.float32)
    ok = same_bits(got, ref)
    assert ok.all(), x32[~ok][:10]


def _random_fp32(rng, n=200_000):
    """Random magnitudes over the whole range, plus the format-relevant specials."""
    mant = rng.integers(0, 2**23, n, dtype=np.uint32)
    exp = rng.integers(80, 175, n, dtype=np.uint32)  # 2^-47 … 2^47
    sign = rng.integers(0, 2, n, dtype=np.uint32)
    x = ((sign << 31) | (exp << 23) | mant).view(np.float32)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-45, -1e-45, 3.4e38,
                         -3.4e38], dtype=np.float32)
    return np.concatenate([x, specials])


def _ties(fmt) -> np.ndarray:
    """Exact midpoints between neighbouring representable values (normal and subnormal),
    and the overflow midpoint, with both signs."""
    f = parse_format(fmt)
    M = f.man_bits
    vals = [0.0]
    for e in range(f.emin, f.emax + 1):
        vals += [(1 + m / 2**M) * 2.0**e for m in range(2**M)]
    vals += [m / 2**M * 2.0**f.emin for m in range(1, 2**M)]
    vals = np.unique(np.array([v for v in vals if v <= f.max]))
    mids = (vals[1:] + vals[:-1]) / 2
    step = 2.0 ** (f.emax - M)
    extra = [f.max + step / 2, f.max + step / 4, f.max + step]
    with np.errstate(over="ignore"):  # bfloat16: max + a step is beyond float32 (inf)
        out = np.concatenate([mids, extra]).astype(np.float32)
    return np.concatenate([out, -out])


@pytest.mark.parametrize("name", ML)
def test_random_fp32_and_exact_ties(name):
    rng = np.random.default_rng(0)
    x = np.concatenate([_random_fp32(rng), _ties(name)])
    got = quantize(torch.from_numpy(x), name).numpy()
    ok = same_bits(got, oracle(x, name))
    assert ok.all(), x[~ok][:10]


@pytest.mark.parametrize("name", ML)
def test_float64_input_rounds_once(name):
    """float64 input is rounded directly, like ml_dtypes' float64 → format cast."""
    rng = np.random.default_rng(1)
    x = rng.normal(0, 10, 50_000) * np.exp(rng.normal(0, 3, 50_000))
    with np.errstate(invalid="ignore", over="ignore"):
        ref = x.astype(getattr(ml_dtypes, name)).astype(np.float64)
    got = quantize(torch.from_numpy(x), name).numpy()
    assert ((got == ref) | (np.isnan(got) & np.isnan(ref))).all()


# ---- independent NumPy references -------------------------------------------------------
def ref_float(v: np.ndarray, E: int, M: int, vmax: float) -> np.ndarray:
    """Saturating E/M rounding by enumerating the grid: nearest value, ties to even code."""
    bias = 2 ** (E - 1) - 1
    emin = 1 - bias
    grid = [m / 2**M * 2.0**emin for m in range(2**M)]  # subnormals (and 0)
    e = emin
    while True:
        row = [(1 + m / 2**M) * 2.0**e for m in range(2**M)]
        grid += [g for g in row if g <= vmax]
        if row[-1] >= vmax:
            break
        e += 1
    grid = np.array(grid)
    a = np.minimum(np.abs(v), vmax)
    idx = np.searchsorted(grid, a)
    idx = np.clip(idx, 1, len(grid) - 1)
    lo, hi = grid[idx - 1], grid[idx]
    pick_hi = (a - lo > hi - a) | ((a - lo == hi - a) & ((idx % 2) == 0))
    out = np.where(pick_hi, hi, lo)
    out = np.where(a >= grid[-1], grid[-1], out)
    return np.sign(v) * out


@pytest.mark.parametrize("E, M", [(1, 2), (2, 1), (3, 2), (4, 3), (5, 2), (3, 4), (2, 0)])
def test_generic_em_formats_saturate_with_subnormals(E, M):
    rng = np.random.default_rng(E * 10 + M)
    x = rng.normal(0, 4.0, 20_000) * np.exp(rng.normal(0, 2, 20_000))
    fmt = parse_format(f"e{E}m{M}")
    got = quantize(torch.from_numpy(x), f"e{E}m{M}").numpy()
    assert np.array_equal(got, ref_float(x, E, M, fmt.max))
    assert torch.isnan(quantize(torch.tensor([float("nan")]), f"e{E}m{M}")).all()
    assert quantize(torch.tensor([float("inf")]), f"e{E}m{M}").item() == fmt.max


# ---- e8m{M}: float32's exponent with M mantissa bits (e8m7 = bfloat16) -----------------
def _all_exponent_fp32(rng, n=400_000) -> np.ndarray:
    """Random bit patterns over every exponent (subnormals, inf and NaN codes included),
    every exact tie between bfloat16 neighbours, and the edges around bfloat16's max."""
    x = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    hi = rng.integers(0, 2**16, n // 4, dtype=np.uint32)
    ties = ((hi << 16) | (1 << 15)).view(np.float32)  # exactly halfway between two bf16 values
    bmax = float(ml_dtypes.finfo(ml_dtypes.bfloat16).max)
    edges = np.array([bmax, np.nextafter(np.float32(bmax), np.float32(np.inf)), bmax + 2.0**119,
                      np.nextafter(np.float32(bmax + 2.0**119), np.float32(0)), 3.4028235e38,
                      np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, 2.0**-126, 2.0**-127,
                      3 * 2.0**-127, 2.0**-133, 2.0**-134, 3 * 2.0**-134, 2.0**-149 * 3,
                      1.5, 3.0, 0.75, 1.75, 2.0**127 * 1.5], dtype=np.float32)
    return np.concatenate([x, ties, edges, -edges])


def test_e8m7_is_bfloat16_bit_exact():
    """e8m7 (and the name bfloat16) round exactly as torch's cast and ml_dtypes do, over
    every exponent: subnormals, ties to even, ±max, overflow to ±inf, ±inf and NaN."""
    x = _all_exponent_fp32(np.random.default_rng(8))
    t = torch.from_numpy(x)
    with np.errstate(invalid="ignore", over="ignore"):
        ml = x.astype(ml_dtypes.bfloat16).astype(np.float32)
    cast = t.to(torch.bfloat16).float().numpy()
    assert same_bits(ml, cast).all()
    for name in ("e8m7", "bfloat16", "E8M7"):
        got = quantize(t, name).numpy()
        ok = same_bits(got, ml)
        assert ok.all(), (name, x[~ok][:5], got[~ok][:5])
    got = quantize(t, "e8m7").numpy()
    assert np.isposinf(got[x == np.float32(3.4028235e38)]).all()  # overflow → +inf (IEEE)
    assert np.isnan(got[np.isnan(x)]).all() and not np.isnan(got[~np.isnan(x)]).any()
    bt = torch.from_numpy(x).to(torch.bfloat16)  # bfloat16 input is already on the grid
    assert same_bits(quantize(bt, "e8m7").float().numpy(), bt.float().numpy()).all()


def ref_e8(x: np.ndarray, M: int) -> np.ndarray:
    """Round-to-nearest-even to M mantissa bits with float32's exponent range, computed in
    float64 by frexp/ldexp (independent of any bit trick); overflow → ±inf, NaN kept.
    Ties go to the even code: the even mantissa, or for M = 0 the even biased exponent."""
    with np.errstate(invalid="ignore"):
        x = x.astype(np.float64)
        _, e = np.frexp(x)
        e = np.maximum(e - 1, -126)  # subnormals: the fixed quantum 2^(−126−M)
        q = np.ldexp(1.0, e - M)
        r = np.abs(x) / q  # exact in float64
        y = np.round(r)  # half-to-even on the integer mantissa
        if M == 0:  # 1·2^e vs 1·2^(e+1): the even code is the even biased exponent
            tie = (r - np.floor(r) == 0.5) & (np.abs(x) >= 2.0**-126)  # below: codes 0 and 1
            y = np.where(tie, np.floor(r) + ((e + 127) % 2 == 1), y)
        y = np.copysign(y * q, x)
    bmax = (2 - 2.0**-M) * 2.0**127
    y = np.where(np.abs(y) > bmax, np.copysign(np.inf, x), y)
    return np.where(np.isfinite(x), y, x).astype(np.float32)


@pytest.mark.parametrize("M", [0, 1, 2, 3, 5, 7, 10, 16, 22, 23])
def test_e8m_formats_against_frexp_reference(M):
    x = _all_exponent_fp32(np.random.default_rng(100 + M), 200_000)
    got = quantize(torch.from_numpy(x), f"e8m{M}").numpy()
    ok = same_bits(got, ref_e8(x, M))
    assert ok.all(), x[~ok][:5]
    x64 = np.random.default_rng(M).normal(0, 1, 20_000) * 2.0 ** np.random.default_rng(M).integers(
        -140, 128, 20_000)  # float64 input is rounded once, directly
    got64 = quantize(torch.from_numpy(x64), f"e8m{M}").numpy()
    assert same_bits(got64, ref_e8(x64, M)).all()


# the ml_dtypes float types that share an E/M layout with a generic e{E}m{M} (E ≤ 7)
SAME_GRID = [("e2m1", "float4_e2m1fn", True), ("e2m3", "float6_e2m3fn", True),
             ("e3m2", "float6_e3m2fn", True), ("e3m4", "float8_e3m4", False),
             ("e4m3", "float8_e4m3", False), ("e4m3", "float8_e4m3fn", False),
             ("e5m2", "float8_e5m2", False)]


@pytest.mark.parametrize("generic, ml, same_range", SAME_GRID)
def test_generic_em_agrees_with_ml_dtypes_on_its_range(generic, ml, same_range):
    """All-finite e{E}m{M} and an ml_dtypes type of the same layout round identically
    wherever the ml_dtypes type is finite (on all finite inputs for the 'fn' types, which
    have no inf/NaN codes either); beyond, the generic format keeps its top binade."""
    rng = np.random.default_rng(5)
    x = np.concatenate([_random_fp32(rng, 100_000), _ties(generic)])
    x = x[np.isfinite(x)]
    top = float(ml_dtypes.finfo(getattr(ml_dtypes, ml)).max)
    fmax = parse_format(generic).max
    if not same_range:
        assert fmax > top
        x = x[np.abs(x) <= top]
    else:
        assert fmax == top
    got = quantize(torch.from_numpy(x), generic).numpy()
    ok = same_bits(got, oracle(x, ml))
    assert ok.all(), x[~ok][:5]


def ref_int(x: np.ndarray, bits: int, axis=None) -> np.ndarray:
    Q = 2 ** (bits - 1) - 1
    amax = np.max(np.abs(x)) if axis is None else np.max(np.abs(x), axis=tuple(
        i for i in range(x.ndim) if i != axis), keepdims=True)
    s = np.where(amax > 0, amax / Q, 1.0)
    return np.clip(np.round(x / s), -Q, Q) * s


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_int_symmetric_per_tensor_and_per_channel(bits):
    rng = np.random.default_rng(bits)
    w = rng.normal(size=(64, 48)).astype(np.float32)
    assert np.allclose(quantize(torch.from_numpy(w), f"int{bits}").numpy(), ref_int(w, bits), rtol=0, atol=1e-6)
    got = quantize(torch.from_numpy(w), f"int{bits}", axis=0).numpy()
    assert np.allclose(got, ref_int(w, bits, axis=0), rtol=0, atol=1e-6)
    levels = np.unique(np.round(got[0] / (np.abs(w[0]).max() / (2 ** (bits - 1) - 1))))
    assert levels.min() >= -(2 ** (bits - 1) - 1) and levels.max() <= 2 ** (bits - 1) - 1


def test_int_blocks_and_uint_asymmetric():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(8, 100)).astype(np.float32)
    got = quantize(torch.from_numpy(x), "int4", block=32).numpy()
    for j in range(0, 100, 32):
        assert np.allclose(got[:, j:j + 32], np.stack([ref_int(r, 4) for r in x[:, j:j + 32]]), atol=1e-6)
    y = rng.uniform(0.5, 3.0, 1000).astype(np.float32)  # all positive: zero point at 0
    q = quantize(torch.from_numpy(y), "uint4").numpy()
    assert np.allclose(q, np.clip(np.round(y / (y.max() / 15)), 0, 15) * (y.max() / 15), atol=1e-6)
    w = np.concatenate([rng.uniform(-1.0, 3.0, 999), [0.0]]).astype(np.float32)
    got = quantize(torch.from_numpy(w), "uint4").numpy()
    assert np.allclose(got, ref_uint(w, 4), rtol=0, atol=1e-6)
    s = (w.max() - w.min()) / 15
    levels = np.unique(got)
    assert len(levels) == 16 and got[-1] == 0.0  # every level used; 0 exactly representable
    assert np.allclose(np.diff(levels), s, rtol=1e-5)  # evenly spaced by the scale
    assert abs(levels[0] - w.min()) <= s / 2 and abs(levels[-1] - w.max()) <= s / 2
    per_row = quantize(torch.from_numpy(x), "uint3", axis=0).numpy()
    assert np.allclose(per_row, np.stack([ref_uint(r, 3) for r in x]), rtol=0, atol=1e-6)


def ref_uint(x: np.ndarray, bits: int) -> np.ndarray:
    """Asymmetric uint{bits} by the formula: s = (max(x,0) − min(x,0))/(2^k − 1), z = round(−lo/s)."""
    Q = 2**bits - 1
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    s = (hi - lo) / Q if hi > lo else 1.0
    z = np.round(-lo / s)
    return (np.clip(np.round(x / s) + z, 0, Q) - z) * s


def ref_mx(x: np.ndarray, name: str) -> np.ndarray:
    """OCP MX v1.0 by the book: per block of 32, X = 2^(⌊log2 amax⌋ − emax_elem)."""
    fmt = parse_format(name)
    out = np.empty_like(x)
    for i in range(0, x.shape[-1], 32):
        b = x[..., i:i + 32]
        amax = np.abs(b).max(axis=-1, keepdims=True)
        e = np.where(amax > 0, np.floor(np.log2(np.where(amax > 0, amax, 1))), 0) - fmt.emax_elem
        X = 2.0 ** np.clip(e, -127, 127)
        v = b / X
        if name == "mxint8":
            q = np.clip(np.round(v * 64), -127, 127) / 64
        else:
            el = fmt.element
            q = ref_float(v, el.exp_bits, el.man_bits, el.max)
        out[..., i:i + 32] = q * X
    return out


@pytest.mark.parametrize("name", ["mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3",
                                  "mxfp4_e2m1", "mxint8"])
def test_mx_formats_against_reference(name):
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(16, 96)) * np.exp(rng.normal(0, 2, size=(16, 96)))).astype(np.float64)
    x[0, :32] = 0.0  # an all-zero block
    got = quantize(torch.from_numpy(x), name).numpy()
    assert np.array_equal(got, ref_mx(x, name))


def test_stochastic_rounding_unbiased_two_neighbours_and_seedable():
    x = torch.full((200_000,), 0.3)
    g = torch.Generator().manual_seed(0)
    q = quantize(x, "int8", scale="none", rounding="stochastic", generator=g)
    assert set(torch.unique(q).tolist()) == {0.0, 1.0}
    assert abs(q.mean().item() - 0.3) < 0.005
    f = quantize(torch.full((200_000,), 1.1), "e4m3", rounding="stochastic",
                 generator=torch.Generator().manual_seed(0))
    assert set(torch.unique(f).tolist()) == {1.0, 1.125}
    assert abs(f.mean().item() - 1.1) < 1e-3
    a = quantize(x, "e2m1", rounding="stochastic", generator=torch.Generator().manual_seed(5))
    b = quantize(x, "e2m1", rounding="stochastic", generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_straight_through_gradient():
    x = torch.tensor([0.1, 1.0, 500.0, -3.0], requires_grad=True)
    y = quantize(x, "e2m1")  # saturates at 6: 500 is clipped
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 0.0, 1.0]
    w = torch.randn(8, 8, requires_grad=True)
    quantize(w, "int4", axis=0).pow(2).sum().backward()
    assert torch.allclose(w.grad, 2 * quantize(w.detach(), "int4", axis=0))


def test_shape_dtype_preserved_and_errors():
    x = torch.randn(3, 5, 7, dtype=torch.bfloat16)
    for fmt, kw in [("int4", {"axis": 1}), ("mxfp4_e2m1", {}), ("float8_e4m3fn", {}),
                    ("e3m2", {"scale": "absmax", "block": 4})]:
        y = quantize(x, fmt, **kw)
        assert y.shape == x.shape and y.dtype == x.dtype
    with pytest.raises(QuantError, match="unknown format"):
        quantize(x, "float9")
    with pytest.raises(QuantError, match="not both"):
        quantize(x, "int4", axis=0, block=4)
    with pytest.raises(QuantError, match="floating-point"):
        quantize(torch.arange(4), "int4")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_split_and_bit_rounding_agree(dtype):
    """The exact rounding methods (Veltkamp split: compiled CPU; bit arithmetic: CUDA; "auto":
    eager CPU's mask-free exponent-constant addition) give identical bits for every E/M
    layout, over every exponent (both signs, ties, specials), IEEE and NaN rules included."""
    from lawkit.quant.kernels import round_float

    rng = np.random.default_rng(11)
    base = _all_exponent_fp32(rng, 8_000)
    for M in (0, 1, 2, 3, 4, 7, 10, 21, 22, 23):
        sh = 23 - M  # exact ties at M bits (for float32; float64 gets them through the cast)
        tie = base.view(np.uint32) & np.uint32(~((1 << sh) - 1) & 0xFFFFFFFF)
        tie = tie | np.uint32((1 << sh) >> 1)
        x = torch.from_numpy(np.concatenate([base, tie.view(np.float32)])).to(dtype)
        fmts = [parse_format(f"e{E}m{M}") for E in range(1, 9)]
        fmts += [FloatFormat(f"ieee{E}", E, M, overflow=o, top_code_reserved="ieee")
                 for E in (2, 5, 8) for o in ("inf", "nan")]
        fmts += [FloatFormat(f"fn{E}", E, M, overflow="nan", top_code_reserved="nan")
                 for E in (3, 4) if M > 0]
        for fmt in fmts:
            a = round_float(x, fmt, method="split")
            for other in ("bits", "auto"):
                b = round_float(x, fmt, method=other)
                same = (a == b) & (torch.signbit(a) == torch.signbit(b)) | (a.isnan() & b.isnan())
                assert same.all(), (fmt, other, x[~same][:4])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mx_block_scale_formulas_agree(dtype):
    """The block scale's three formulas (float-only: compiled CPU; frexp/exp2: eager CPU;
    exponent bits: CUDA) are the same power of two, 2^clamp(⌊log2 amax⌋ − emax, −127, 127),
    for every magnitude."""
    from lawkit.quant.quantize import mx_scale, mx_scale_bits, mx_scale_eager

    rng = np.random.default_rng(4)
    lim = 126 if dtype == torch.float32 else 1000
    a = rng.uniform(1, 2, 20_000) * 2.0 ** rng.integers(-lim, lim, 20_000)
    edges = [0.0, 2.0**-149, 2.0**-127, 2.0**-126, 1.0, np.nextafter(2.0, 0), 2.0, 2.0**64,
             np.nextafter(2.0**64, np.inf), float(np.finfo(np.float32).max)]
    amax = torch.from_numpy(np.concatenate([a, edges])).to(dtype)[:, None]
    for emax in (0, 2, 4, 8, 15):
        s1 = mx_scale(amax, emax)
        assert torch.equal(s1, mx_scale_eager(amax, emax)), emax
        assert torch.equal(s1, mx_scale_bits(amax, emax)), emax
        k = torch.floor(torch.log2(amax.double())) - emax
        ref = 2.0 ** torch.clamp(torch.where(amax == 0, -emax, k), -127, 127)
        assert torch.equal(s1.double(), ref)


@pytest.mark.parametrize("fmt, kw", [
    ("int4", {"axis": 0}), ("uint3", {"block": 5}), ("float8_e4m3fn", {}), ("e8m7", {}),
    ("e5m2", {"scale": "absmax"}), ("e8m3", {"scale": "absmax", "axis": 1}),
    ("float4_e2m1fn", {}), ("mxfp4_e2m1", {}), ("mxint8", {}), ("mxfp8_e5m2", {})])
def test_every_code_path_gives_the_same_bits(fmt, kw):
    """The whole-tensor arithmetic with each rounding method — "bits" (what CUDA runs),
    "split" (compiled CPU) — equals the tiled eager result bit for bit, on values of every
    magnitude, specials included."""
    from lawkit.quant.checks import check_options, check_tensor
    from lawkit.quant.compiled import _values

    rng = np.random.default_rng(9)
    x = (rng.normal(size=(24, 70)) * np.exp(rng.normal(0, 6, size=(24, 70)))).astype(np.float32)
    x[0, :6] = [np.inf, -np.inf, np.nan, 0.0, -0.0, 3.4e38]
    x[1, :] = 1e-42
    t = torch.from_numpy(x)
    eager = quantize(t, fmt, **kw)
    opts = check_tensor(t, check_options(fmt, **kw))
    for method in ("bits", "split"):
        y, _ = _values(t, opts, method, False)
        assert same_bits(y.numpy(), eager.numpy()).all(), method
