"""A tiny decoder-only language model (RMSNorm, RoPE, SwiGLU), with optional fake
quantization of weights, input activations and attention K/V (QAT, straight-through).

Non-embedding parameters (what scaling laws call N), for width d, depth L, MLP hidden h:

    N = L·(4d² + 3dh + 2d) + d        (attention q,k,v,o; SwiGLU gate, up, down; 2 norms
                                       per block; the final norm — no biases)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..quant import QuantLinear, QuantSpec, quantize_kv
from ..quant.modules import FULL


@dataclass(frozen=True)
class ModelConfig:
    width: int = 64
    depth: int = 2
    heads: int = 4
    vocab: int = 256
    seq: int = 64
    mlp_ratio: float = 8 / 3  # SwiGLU hidden = ratio·width, rounded to a multiple of 8

    @property
    def hidden(self) -> int:
        return int(math.ceil(self.mlp_ratio * self.width / 8) * 8)

    @property
    def n_params(self) -> int:
        """Non-embedding parameters (formula in the module docstring)."""
        d, h = self.width, self.hidden
        return self.depth * (4 * d * d + 3 * d * h + 2 * d) + d


@dataclass(frozen=True)
class QATConfig:
    """Formats for training: weights, input activations of linear layers, attention K/V."""

    weight: QuantSpec = FULL
    activation: QuantSpec = FULL
    kv: QuantSpec = FULL


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding on (batch, heads, seq, head_dim)."""
    _, _, t, hd = x.shape
    half = hd // 2
    freqs = 10000.0 ** (-torch.arange(half, device=x.device, dtype=x.dtype) / half)
    ang = torch.arange(t, device=x.device, dtype=x.dtype)[:, None] * freqs[None, :]
    cos, sin = ang.cos(), ang.sin()
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, qat: QATConfig):
        super().__init__()
        d = cfg.width

        def lin(i, o):
            return QuantLinear(i, o, bias=False, weight=qat.weight, activation=qat.activation)

        self.heads, self.kv = cfg.heads, qat.kv
        self.norm1, self.norm2 = RMSNorm(d), RMSNorm(d)
        self.q, self.k, self.v, self.o = lin(d, d), lin(d, d), lin(d, d), lin(d, d)
        self.gate, self.up, self.down = lin(d, cfg.hidden), lin(d, cfg.hidden), lin(cfg.hidden, d)

    def forward(self, x):
        b, t, d = x.shape
        h = self.norm1(x)

        def split(z):
            return z.view(b, t, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        q, k = rope(q), rope(k)
        k, v = quantize_kv(k, v, self.kv)
        a = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, t, d))
        h = self.norm2(x)
        return x + self.down(nn.functional.silu(self.gate(h)) * self.up(h))


class TinyLM(nn.Module):
    """Byte-level decoder LM; ``forward(tokens) -> logits``; ``loss(tokens)`` is next-token CE."""

    def __init__(self, cfg: ModelConfig, qat: QATConfig | None = None):
        super().__init__()
        qat = qat or QATConfig()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab, cfg.width)
        self.blocks = nn.ModuleList(Block(cfg, qat) for _ in range(cfg.depth))
        self.norm = RMSNorm(cfg.width)
        self.head = nn.Linear(cfg.width, cfg.vocab, bias=False)  # full precision (as Kumar et al.)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def non_embedding_params(self) -> int:
        return sum(p.numel() for n, p in self.named_parameters()
                   if not n.startswith(("embed.", "head.")))

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))

    def loss(self, tokens):
        logits = self(tokens[:, :-1])
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           tokens[:, 1:].reshape(-1))
