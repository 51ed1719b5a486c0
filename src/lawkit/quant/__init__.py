"""Quantization-noise kernels in torch: integer, floating-point (any E/M), microscaling.

>>> import torch
>>> from lawkit.quant import quantize
>>> quantize(torch.tensor([0.1, 1.0, 500.0]), "float8_e4m3fn").tolist()
[0.1015625, 1.0, nan]
"""

from .compiled import compile_quantizer as compile_quantizer
from .formats import FloatFormat as FloatFormat
from .formats import IntFormat as IntFormat
from .formats import MXFormat as MXFormat
from .formats import parse_format as parse_format
from .quantize import quantize as quantize
from .modules import QuantLinear as QuantLinear
from .modules import QuantSpec as QuantSpec
from .modules import quantize_kv as quantize_kv
from .modules import quantize_linears as quantize_linears
