"""Modules for quantization-aware training and deployment.

A :class:`QuantSpec` says how one tensor kind is quantized (format, granularity, rounding);
:class:`QuantLinear` applies one to its weight and one to its input activations;
:func:`quantize_kv` is the hook for attention keys/values; :func:`quantize_linears` swaps
every ``nn.Linear`` of a model for a :class:`QuantLinear`.  Forward passes use the
fake-quantized values; gradients pass straight through (see :func:`lawkit.quant.quantize`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .checks import check_options
from .quantize import quantize


@dataclass(frozen=True)
class QuantSpec:
    """``fmt`` with its scale granularity: ``axis`` (per-channel) or ``block``; ``None``
    format means "leave in full precision"."""

    fmt: str | None
    axis: int | None = None
    block: int | None = None
    scale: str | None = None
    rounding: str = "nearest"

    def __post_init__(self):
        if self.fmt is not None:  # fail early on a bad name or option
            check_options(self.fmt, self.scale, self.axis, self.block, self.rounding)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.fmt is None:
            return x
        return quantize(x, self.fmt, scale=self.scale, axis=self.axis, block=self.block,
                        rounding=self.rounding, generator=generator)


FULL = QuantSpec(None)


class QuantLinear(nn.Linear):
    """``nn.Linear`` whose weight (e.g. per output channel: ``QuantSpec("int4", axis=0)``)
    and input activations (e.g. per tensor: ``QuantSpec("int8")``) are fake-quantized."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 weight: QuantSpec = FULL, activation: QuantSpec = FULL, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self.weight_spec, self.activation_spec = weight, activation

    @classmethod
    def from_linear(cls, linear: nn.Linear, *, weight: QuantSpec = FULL,
                    activation: QuantSpec = FULL) -> "QuantLinear":
        q = cls(linear.in_features, linear.out_features, linear.bias is not None, weight=weight,
                activation=activation, device=linear.weight.device, dtype=linear.weight.dtype)
        q.load_state_dict(linear.state_dict())
        return q

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(self.activation_spec(x), self.weight_spec(self.weight), self.bias)

    def extra_repr(self) -> str:
        return (f"{super().extra_repr()}, weight={self.weight_spec.fmt}, "
                f"activation={self.activation_spec.fmt}")


def quantize_kv(k: torch.Tensor, v: torch.Tensor, spec: QuantSpec) -> tuple[torch.Tensor, torch.Tensor]:
    """Fake-quantize attention keys and values (call inside an attention block)."""
    return spec(k), spec(v)


def quantize_linears(model: nn.Module, *, weight: QuantSpec = FULL, activation: QuantSpec = FULL,
                     skip: tuple[str, ...] = ()) -> nn.Module:
    """Replace every ``nn.Linear`` in ``model`` (in place) by a :class:`QuantLinear`;
    modules whose qualified name starts with an entry of ``skip`` are left alone."""
    for name, child in list(model.named_children()):
        if any(name.startswith(s) for s in skip):
            continue
        if isinstance(child, nn.Linear) and not isinstance(child, QuantLinear):
            setattr(model, name, QuantLinear.from_linear(child, weight=weight, activation=activation))
        else:
            quantize_linears(child, weight=weight, activation=activation,
                             skip=tuple(s[len(name) + 1:] for s in skip if s.startswith(name + ".")))
    return model
