"""The whole-row eager kernels (:mod:`lawkit.quant.rows`) against the whole-tensor arithmetic
("bits" and "split" methods), bit for bit, on views of many tiles — and the cases where they
must step aside (NaN/inf, extreme block scales) so that the per-tile path answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lawkit.quant import quantize
from lawkit.quant.checks import check_options, check_tensor
from lawkit.quant.compiled import _values
from lawkit.quant.rows import row_kernel
from lawkit.quant.tiles import TILE, group_view

CASES = [("int4", {"axis": 0}), ("int8", {"axis": 1}), ("e4m3", {"scale": "absmax", "axis": 0}),
         ("float8_e4m3fn", {"scale": "absmax", "axis": 0}), ("mxfp4_e2m1", {}),
         ("mxfp6_e3m2", {}), ("mxfp6_e2m3", {}), ("mxfp8_e4m3", {}), ("mxfp8_e5m2", {}),
         ("mxint8", {})]


def _bits(t: torch.Tensor) -> np.ndarray:
    a = t.double().numpy()
    return np.where(np.isnan(a), np.nan, a).view(np.int64)


def _reference(x, fmt, kw):
    """The whole-tensor arithmetic in the working dtype, returned in x's dtype."""
    w = x if x.dtype in (torch.float32, torch.float64) else x.float()
    opts = check_tensor(w, check_options(fmt, **kw))
    return [_values(w, opts, method, False)[0].to(x.dtype) for method in ("bits", "split")]


def _sample(rows, cols, dtype, seed):
    """Values of every magnitude, blocks of very different scales, zero blocks and rows,
    exact ties of every grid, subnormals."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, cols)) * np.exp(rng.normal(0, 4, size=(rows, 1)))
    x *= np.exp(rng.normal(0, 2, size=(rows, cols)))
    x[1] = 0.0
    x[2, :32] = -0.0
    x[3, :64] = np.ldexp(rng.integers(-64, 64, 64) + 0.5, -3)  # ties
    x[4, :16] = np.ldexp(1.0, -135) * rng.normal(size=16)  # float32 subnormals in a block
    x[4, 16:32] = rng.normal(size=16)  # whose max is normal
    return torch.from_numpy(x).to(dtype)


@pytest.mark.parametrize("fmt, kw", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_whole_row_kernels_equal_the_whole_tensor_arithmetic(fmt, kw, dtype):
    x = _sample(3 * TILE // 256 + 5, 256, dtype, 1)  # a few tiles and a partial one
    opts = check_tensor(x, check_options(fmt, **kw))
    view, _ = group_view(x, opts.axis, opts.block)
    wd = torch.float64 if dtype == torch.float64 else torch.float32
    assert row_kernel(opts, wd)(view, torch.empty(view.shape, dtype=dtype),
                                max(1, TILE // view.shape[1]))  # (not the fallback)
    got = quantize(x, fmt, **kw)
    for ref in _reference(x, fmt, kw):
        assert np.array_equal(_bits(got), _bits(ref))


@pytest.mark.parametrize("fmt, kw", CASES)
def test_whole_row_kernels_run_on_ordinary_values_and_step_aside_on_specials(fmt, kw):
    x = torch.randn(600, 64, generator=torch.Generator().manual_seed(2)) * 3
    x[1], x[2, :32] = 0.0, -0.0  # an all-zero row, an all-zero block
    opts = check_tensor(x, check_options(fmt, **kw))
    view, _ = group_view(x, opts.axis, opts.block)
    run = row_kernel(opts, torch.float32)
    assert run is not None and run(view, torch.empty_like(view), max(1, TILE // view.shape[1]))
    for special in (float("nan"), float("inf"), 3e38):
        y = x.clone()
        y[500, 7] = special  # one tile away from the first
        got = quantize(y, fmt, **kw)
        if special != 3e38:
            v, _ = group_view(y, opts.axis, opts.block)
            assert not run(v, torch.empty_like(v), max(1, TILE // v.shape[1]))
        for ref in _reference(y, fmt, kw):
            assert np.array_equal(_bits(got), _bits(ref)), special


@pytest.mark.parametrize("fmt", ["mxfp4_e2m1", "mxfp8_e5m2", "mxint8"])
def test_mx_blocks_with_extreme_scales_take_the_tile_path_with_the_same_bits(fmt):
    x = _sample(400, 64, torch.float32, 3)
    x[300, :32] *= 2.0**110  # block scale beyond 2^100
    x[10, :32] = torch.ldexp(torch.ones(32), torch.tensor(-140))  # subnormal block max
    opts = check_tensor(x, check_options(fmt))
    view, _ = group_view(x, opts.axis, opts.block)
    assert not row_kernel(opts, torch.float32)(view, torch.empty_like(view), 512)
    got = quantize(x, fmt)
    for ref in _reference(x, fmt, {}):
        assert np.array_equal(_bits(got), _bits(ref))


@pytest.mark.parametrize("elem, emax", [((6, 2), 32), ((4, 22), 8), ((7, 1), 64), ((2, 1), 2),
                                        ((5, 2), 15)])
@pytest.mark.parametrize("log2_scale", [-100, -60, 60, 100])
def test_custom_mx_elements_keep_their_steps_normal(elem, emax, log2_scale):
    """Custom MX elements whose smallest step at a tiny scale (or whose top at a huge one)
    would leave float32's normal range get the reference's bits (the tile path answers)."""
    from lawkit.quant.formats import FloatFormat, MXFormat

    e, m = elem
    fmt = MXFormat(f"mx_e{e}m{m}", FloatFormat(f"e{e}m{m}", e, m), emax_elem=emax)
    top = log2_scale + emax  # the block max's exponent
    if not -126 <= top <= 127:
        pytest.skip("no float32 block max gives this scale")
    x = torch.zeros(2, 32)
    x[0, :4] = torch.tensor([2.0**top, 1.75 * 2.0**top, -(2.0**-125), 2.0**-130])
    x[0, 4:] = torch.ldexp(torch.ones(28), torch.arange(top - 28, top).clamp(min=-149))
    x[1] = x[0] * -0.75
    got = quantize(x, fmt)
    for ref in _reference(x, fmt, {}):
        assert np.array_equal(_bits(got), _bits(ref))
