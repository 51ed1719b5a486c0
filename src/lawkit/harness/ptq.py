"""Post-training quantization of the linear layers of any ``torch.nn.Module``.

* RTN: each weight rounded to nearest with :func:`lawkit.quant.quantize` (any format).
* GPTQ (Frantar et al. 2023): integer weights with per-output-channel absmax scales;
  columns are quantized in order and each one's error is spread over the columns not yet
  quantized, weighted by the inverse Hessian H = 2XᵀX/n of the layer's calibration inputs:

      q_i = Q(w_i),   e = (w_i − q_i)/[H⁻¹]_ii,   w_j −= e·[H⁻¹]_ij   (j > i)

  using the upper Cholesky factor of H⁻¹, in lazy batches of ``block`` columns, with
  dampening λ = ``damp``·mean(diag H) and optional activation order (largest diag H first).
  With H = I no error is spread, and GPTQ equals RTN (tested).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ..quant import quantize
from ..quant.formats import IntFormat, parse_format
from ..errors import QuantError


def linear_layers(model: nn.Module, skip: tuple[str, ...] = ("head",)) -> dict[str, nn.Linear]:
    return {n: m for n, m in model.named_modules()
            if isinstance(m, nn.Linear) and not any(n == s or n.startswith(s + ".") for s in skip)}


@torch.no_grad()
def rtn(model: nn.Module, fmt: str, *, axis: int | None = 0, block: int | None = None,
        skip: tuple[str, ...] = ("head",)) -> nn.Module:
    """Round every linear weight to nearest (in place); per output channel by default."""
    for layer in linear_layers(model, skip).values():
        layer.weight.copy_(quantize(layer.weight, fmt, axis=None if block else axis, block=block))
    return model


def _int_scale(w: torch.Tensor, fmt: IntFormat) -> torch.Tensor:
    s = w.abs().amax(dim=1, keepdim=True) / fmt.qmax
    return torch.where(s > 0, s, torch.ones_like(s))


def _q(col: torch.Tensor, scale: torch.Tensor, qmax: int) -> torch.Tensor:
    return torch.clamp(torch.round(col / scale), -qmax, qmax) * scale


@torch.no_grad()
def gptq_weight(w: torch.Tensor, H: torch.Tensor, fmt: str, *, damp: float = 0.01,
                block: int = 128, act_order: bool = False) -> torch.Tensor:
    """GPTQ-quantized copy of ``w`` (out × in) given the input Hessian ``H`` (in × in)."""
    f = parse_format(fmt)
    if not (isinstance(f, IntFormat) and f.signed):
        raise QuantError(f"GPTQ here supports symmetric int formats, not {fmt!r}; use RTN")
    W = w.detach().to(torch.float64).clone()
    H = H.to(torch.float64).clone()
    n = W.shape[1]
    dead = torch.diag(H) == 0
    H[dead, dead] = 1.0
    W[:, dead] = 0.0
    scale = _int_scale(W, f)
    perm = torch.argsort(torch.diag(H), descending=True) if act_order else torch.arange(n)
    W, H = W[:, perm], H[perm][:, perm]
    H += damp * torch.mean(torch.diag(H)) * torch.eye(n, dtype=H.dtype)
    Hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    Q = torch.zeros_like(W)
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        W1, Hinv1 = W[:, i0:i1].clone(), Hinv[i0:i1, i0:i1]
        Err = torch.zeros_like(W1)
        for j in range(i1 - i0):
            col = W1[:, j]
            q = _q(col, scale[:, 0], f.qmax)
            Q[:, i0 + j] = q
            e = (col - q) / Hinv1[j, j]
            W1[:, j:] -= e[:, None] * Hinv1[j, j:][None, :]
            Err[:, j] = e
        W[:, i1:] -= Err @ Hinv[i0:i1, i1:]
    inv = torch.argsort(perm)
    return Q[:, inv].to(w.dtype)


@torch.no_grad()
def gptq(model: nn.Module, calibration: Iterable[torch.Tensor], fmt: str, *, damp: float = 0.01,
         block: int = 128, act_order: bool = False, skip: tuple[str, ...] = ("head",)) -> nn.Module:
    """Quantize every linear layer of ``model`` in place with GPTQ.

    ``calibration``: input batches for ``model(batch)``; each layer's Hessian is accumulated
    from the inputs it sees (layers are quantized one after another, so later layers see
    the already-quantized earlier ones, as in the paper).
    """
    batches = list(calibration)
    for _name, layer in linear_layers(model, skip).items():
        H = torch.zeros(layer.in_features, layer.in_features, dtype=torch.float64)
        count = [0]

        def hook(_m, inputs, _out):
            x = inputs[0].detach().reshape(-1, inputs[0].shape[-1]).to(torch.float64)
            H.add_(2 * x.T @ x)
            count[0] += x.shape[0]

        handle = layer.register_forward_hook(hook)
        for b in batches:
            model(b)
        handle.remove()
        H /= max(count[0], 1)
        layer.weight.copy_(gptq_weight(layer.weight, H, fmt, damp=damp, block=block,
                                       act_order=act_order))
    return model
