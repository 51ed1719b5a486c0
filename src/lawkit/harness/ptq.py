"""Post-training quantization of the linear layers of any ``torch.nn.Module``.

**Semantics on a QAT-trained model** (as in Kumar et al. 2024, "Scaling laws for
precision"): the trained *latent* full-precision weights W are quantized to P_post, and the
layer's training weight quantizer is *replaced*, not stacked: after PTQ each
:class:`~lawkit.quant.QuantLinear` computes with Q_post(W) and its weight spec is full
precision.  Activation and K/V formats stay as they were trained.  So PTQ at the training
format (same scheme: per output channel, absmax — :func:`lawkit.harness.precision.weight_spec`)
changes nothing, and PTQ below it degrades.  The output head is left alone.

* RTN: each weight rounded to nearest with :func:`lawkit.quant.quantize` (any format).
* GPTQ (Frantar et al. 2023): per-output-channel absmax scales s = max|w_row|/q_max (integer
  or float formats); columns are quantized in order with ``quantize(col/s, fmt)·s`` and each
  one's error is spread over the columns not yet quantized, weighted by the inverse Hessian
  H = 2XᵀX/n of the layer's calibration inputs (as the layer sees them, i.e. after its
  activation quantizer):

      q_i = Q(w_i),   e = (w_i − q_i)/[H⁻¹]_ii,   w_j −= e·[H⁻¹]_ij   (j > i)

  using the upper Cholesky factor of H⁻¹, in lazy batches of ``block`` columns, with
  dampening λ = ``damp``·mean(diag H) and optional activation order (largest diag H first).
  With H = I no error is spread, and GPTQ equals RTN (tested).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ..errors import QuantError
from ..quant import QuantLinear, QuantSpec, parse_format, quantize
from ..quant.formats import FloatFormat, IntFormat
from .precision import weight_spec

FULL = QuantSpec(None)


def linear_layers(model: nn.Module, skip: tuple[str, ...] = ("head",)) -> dict[str, nn.Linear]:
    return {n: m for n, m in model.named_modules()
            if isinstance(m, nn.Linear) and not any(n == s or n.startswith(s + ".") for s in skip)}


def _install(layer: nn.Linear, w: torch.Tensor) -> None:
    """Write PTQ'd weights and replace (not stack) the training weight quantizer."""
    layer.weight.copy_(w)
    if isinstance(layer, QuantLinear):
        layer.weight_spec = FULL


def gptq_supports(fmt: str) -> bool:
    """GPTQ here handles symmetric integer and float formats (per-channel scales)."""
    f = parse_format(fmt)
    return isinstance(f, FloatFormat) or (isinstance(f, IntFormat) and f.signed)


@torch.no_grad()
def rtn(model: nn.Module, fmt: str, *, spec: QuantSpec | None = None,
        skip: tuple[str, ...] = ("head",)) -> nn.Module:
    """Round every linear weight to nearest (in place); by default with the training weight
    scheme (per output channel, absmax; MX: blocks of 32)."""
    spec = spec or weight_spec(fmt)
    for layer in linear_layers(model, skip).values():
        _install(layer, spec(layer.weight))
    return model


@torch.no_grad()
def gptq_weight(w: torch.Tensor, H: torch.Tensor, fmt: str, *, damp: float = 0.01,
                block: int = 128, act_order: bool = False) -> torch.Tensor:
    """GPTQ-quantized copy of ``w`` (out × in) given the input Hessian ``H`` (in × in);
    computed in float64 on ``H``'s device."""
    if not gptq_supports(fmt):
        raise QuantError(f"GPTQ here supports symmetric int and float formats, not {fmt!r}; "
                         f"use RTN")
    f = parse_format(fmt)
    limit = float(f.qmax) if isinstance(f, IntFormat) else float(f.max)
    dev = H.device
    W = w.detach().to(device=dev, dtype=torch.float64).clone()
    H = H.to(torch.float64).clone()
    n = W.shape[1]
    dead = torch.diag(H) == 0
    H[dead, dead] = 1.0
    W[:, dead] = 0.0
    scale = W.abs().amax(dim=1) / limit
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))

    def q(col):  # the format's own rounding on the scaled column, saturating
        return quantize(torch.clamp(col / scale, -limit, limit), f, scale="none") * scale

    perm = torch.argsort(torch.diag(H), descending=True) if act_order else torch.arange(n, device=dev)
    W, H = W[:, perm], H[perm][:, perm]
    H += damp * torch.mean(torch.diag(H)) * torch.eye(n, dtype=H.dtype, device=dev)
    Hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    Q = torch.zeros_like(W)
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        W1, Hinv1 = W[:, i0:i1].clone(), Hinv[i0:i1, i0:i1]
        Err = torch.zeros_like(W1)
        for j in range(i1 - i0):
            col = W1[:, j]
            qc = q(col)
            Q[:, i0 + j] = qc
            e = (col - qc) / Hinv1[j, j]
            W1[:, j:] -= e[:, None] * Hinv1[j, j:][None, :]
            Err[:, j] = e
        W[:, i1:] -= Err @ Hinv[i0:i1, i1:]
    inv = torch.argsort(perm)
    return Q[:, inv].to(device=w.device, dtype=w.dtype)


@torch.no_grad()
def gptq(model: nn.Module, calibration: Iterable[torch.Tensor], fmt: str, *, damp: float = 0.01,
         block: int = 128, act_order: bool = False, skip: tuple[str, ...] = ("head",),
         device: str | torch.device | None = None) -> nn.Module:
    """Quantize every linear layer of ``model`` in place with GPTQ.

    ``calibration``: input batches for ``model(batch)``; each layer's Hessian is accumulated
    (on ``device``, default the layer's) from the inputs it sees (layers are quantized one
    after another, so later layers see the already-quantized earlier ones, as in the paper).
    """
    if not gptq_supports(fmt):
        raise QuantError(f"GPTQ here supports symmetric int and float formats, not {fmt!r}; "
                         f"use RTN")
    batches = list(calibration)
    if not batches:
        raise QuantError("GPTQ needs at least one calibration batch")
    model_dev = next(model.parameters()).device
    batches = [b.to(model_dev) for b in batches]
    for _name, layer in linear_layers(model, skip).items():
        dev = torch.device(device) if device is not None else layer.weight.device
        H = torch.zeros(layer.in_features, layer.in_features, dtype=torch.float64, device=dev)
        count = [0]
        act = layer.activation_spec if isinstance(layer, QuantLinear) else None

        def hook(_m, inputs, _out, H=H, count=count, act=act):
            x = inputs[0].detach()
            x = act(x) if act is not None else x
            x = x.reshape(-1, x.shape[-1]).to(device=H.device, dtype=torch.float64)
            H.add_(2 * x.T @ x)
            count[0] += x.shape[0]

        handle = layer.register_forward_hook(hook)
        try:
            for b in batches:
                model(b)
        finally:
            handle.remove()
        H /= max(count[0], 1)
        _install(layer, gptq_weight(layer.weight, H, fmt, damp=damp, block=block,
                                    act_order=act_order))
    return model
