"""Precisions of a run: format names → :class:`lawkit.quant.QuantSpec` for training (QAT)
and post-training quantization, and their bit counts P.

One scheme per tensor kind, shared by QAT and PTQ (so PTQ at the training format reproduces
the training forward pass exactly):

* weights: one absmax scale per output channel (``axis=0``) for integer and float formats,
  s = max|w_row| / q_max (q_max = 2^(k−1)−1 for ``int{k}``, the largest finite value for a
  float format); MX formats use their own blocks of 32 along the input axis;
* input activations and K/V: one absmax scale per tensor (MX: blocks of 32).

Bits P: ``int{k}``/``uint{k}`` → k, a float ``e{E}m{M}`` → 1 + E + M, an MX format → its
element's bits (the shared 8-bit scale per 32 elements is not counted), ``"none"`` → 16
(full precision, the reference of a precision law).
"""

from __future__ import annotations

from ..quant import QuantSpec, parse_format
from ..quant.formats import FloatFormat, IntFormat, MXFormat
from .tinylm import QATConfig

FULL_PRECISION = "none"
FULL_BITS = 16.0


def bits_of(fmt: str | None) -> float:
    """Bits of a format: int4 → 4, e2m1 / float4_e2m1fn → 4, mxfp4_e2m1 → 4, none → 16."""
    if fmt is None or fmt == FULL_PRECISION:
        return FULL_BITS
    f = parse_format(fmt)
    if isinstance(f, MXFormat):
        f = f.element
    if isinstance(f, IntFormat):
        return float(f.bits)
    assert isinstance(f, FloatFormat)
    return float(1 + f.exp_bits + f.man_bits)


def weight_spec(fmt: str | None) -> QuantSpec:
    """How a weight (out × in) is quantized to ``fmt``: per output channel, absmax."""
    if fmt is None or fmt == FULL_PRECISION:
        return QuantSpec(None)
    if isinstance(parse_format(fmt), MXFormat):
        return QuantSpec(fmt)
    return QuantSpec(fmt, axis=0, scale="absmax")


def tensor_spec(fmt: str | None) -> QuantSpec:
    """How an activation or K/V tensor is quantized to ``fmt``: one absmax scale per tensor."""
    if fmt is None or fmt == FULL_PRECISION:
        return QuantSpec(None)
    if isinstance(parse_format(fmt), MXFormat):
        return QuantSpec(fmt)
    return QuantSpec(fmt, scale="absmax")


def qat_config(formats: dict) -> QATConfig:
    """A :class:`QATConfig` from ``{"weight", "activation", "kv"}``
    format names ("none" = full precision)."""
    return QATConfig(weight=weight_spec(formats["weight"]),
                     activation=tensor_spec(formats["activation"]), kv=tensor_spec(formats["kv"]))
