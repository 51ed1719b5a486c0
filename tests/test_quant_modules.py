"""QAT modules: QuantLinear, KV hook, model conversion; training through the STE."""

from __future__ import annotations

import torch
from torch import nn

from lawkit.quant import QuantLinear, QuantSpec, quantize, quantize_kv, quantize_linears


def test_quant_linear_matches_manual_fake_quant():
    torch.manual_seed(0)
    lin = nn.Linear(16, 8)
    q = QuantLinear.from_linear(lin, weight=QuantSpec("int4", axis=0), activation=QuantSpec("int8"))
    x = torch.randn(5, 16)
    expected = nn.functional.linear(quantize(x, "int8"), quantize(lin.weight, "int4", axis=0), lin.bias)
    assert torch.equal(q(x), expected)
    full = QuantLinear.from_linear(lin)
    assert torch.equal(full(x), lin(x))


def test_quantize_linears_converts_nested_and_skips():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 2)))
    quantize_linears(model, weight=QuantSpec("e2m1", scale="absmax", block=2), skip=("0",))
    assert type(model[0]) is nn.Linear and isinstance(model[2][0], QuantLinear)


def test_kv_hook_and_training_step_moves_weights():
    torch.manual_seed(1)
    k, v = torch.randn(2, 3, 8), torch.randn(2, 3, 8)
    qk, qv = quantize_kv(k, v, QuantSpec("float8_e4m3fn"))
    assert torch.equal(qk, quantize(k, "float8_e4m3fn")) and qv.shape == v.shape
    model = QuantLinear(8, 1, weight=QuantSpec("int4", axis=0), activation=QuantSpec("int8"))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(64, 8), torch.randn(64, 1)
    before = model.weight.detach().clone()
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert not torch.equal(before, model.weight) and losses[-1] < losses[0]


def _bits(t: torch.Tensor) -> torch.Tensor:
    """Bit patterns (so −0 ≠ +0), with every NaN mapped to one pattern (NaN payloads and
    signs carry no meaning)."""
    t = torch.where(torch.isnan(t), float("nan"), t)
    return t.view(torch.int32) if t.dtype == torch.float32 else t.view(torch.int64)


def _mx_inside(x: torch.Tensor, emax: int, elem_max: float) -> torch.Tensor:
    """Independent clipped-STE mask for MX: |x| ≤ elem_max·2^(⌊log2 amax⌋ − emax) per block."""
    b = x.reshape(-1, 32).double()
    amax = b.abs().amax(dim=1, keepdim=True)
    s = 2.0 ** (torch.floor(torch.log2(amax)) - emax)
    return (b.abs() <= elem_max * s).reshape(x.shape)


def test_compiled_quantizer_equals_eager():
    from lawkit.quant import compile_quantizer

    torch.manual_seed(0)
    x = torch.randn(64, 96) * torch.exp(torch.randn(64, 96))
    x[3, :32] = 0.0
    x[5, 40:43] = torch.tensor([1000.0, -600.0, 450.0])  # beyond float8_e4m3fn's 448
    for fmt, kw in [("int4", {"axis": 0}), ("mxfp4_e2m1", {}), ("float8_e4m3fn", {}),
                    ("e8m7", {}), ("e3m2", {"scale": "absmax", "axis": 1})]:
        q = compile_quantizer(fmt, **kw)
        out = torch.empty_like(x)
        eager = quantize(x, fmt, **kw)
        assert torch.equal(_bits(q(x, out)), _bits(eager)), fmt  # bit-identical, −0 included
        assert torch.equal(_bits(q(x)), _bits(eager)), fmt
        xg = x.clone().requires_grad_(True)
        q(xg).sum().backward()
        if fmt == "mxfp4_e2m1":  # elements beyond ±6·scale are clipped: their gradient is 0
            expected = _mx_inside(x, 2, 6.0)
            assert 0 < (~expected).sum() < expected.sum()  # both kinds occur
        elif fmt == "float8_e4m3fn":
            expected = x.abs() <= 448
            assert (~expected).any()
        else:  # absmax scales and bfloat16's range: nothing is clipped
            expected = torch.ones_like(x, dtype=torch.bool)
        assert torch.equal(xg.grad, expected.to(x.dtype)), fmt
        xe = x.clone().requires_grad_(True)
        quantize(xe, fmt, **kw).sum().backward()
        assert torch.equal(xe.grad, xg.grad)
