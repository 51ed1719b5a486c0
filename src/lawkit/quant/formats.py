"""Number formats for fake quantization, and their names.

* ``int{k}``: symmetric integers, levels −(2^(k−1)−1) … 2^(k−1)−1.
* ``uint{k}``: asymmetric (affine) integers, levels 0 … 2^k−1 with a zero point.
* ml_dtypes floats with exactly its semantics: ``float8_e4m3fn`` (overflow → NaN),
  ``float8_e5m2`` and ``bfloat16`` (IEEE-like: overflow → ±inf), ``float6_e3m2fn``,
  ``float6_e2m3fn``, ``float4_e2m1fn`` (no inf/NaN codes: overflow saturates, NaN → zero of the opposite sign).
* ``e{E}m{M}`` (1 ≤ E ≤ 7, 0 ≤ M ≤ 23): generic float with E exponent and M mantissa bits,
  bias 2^(E−1)−1, every code a finite number (no inf/NaN), subnormals, saturating; NaN passes
  through.
* ``e8m{M}`` (0 ≤ M ≤ 23): float32's exponent field (bias 127) with M mantissa bits and
  IEEE specials — the top exponent is inf/NaN, overflow rounds to ±inf, NaN stays NaN —
  so ``e8m7`` is bfloat16 and ``e8m23`` is float32 (a generic all-finite e8 format would
  reach 2^128, beyond float32).
* OCP MX v1.0 block formats ``mxfp8_e4m3``, ``mxfp8_e5m2``, ``mxfp6_e3m2``, ``mxfp6_e2m3``,
  ``mxfp4_e2m1``, ``mxint8``: blocks of 32 along the last axis share a scale
  2^(⌊log2 amax⌋ − emax_elem); elements round to nearest even and saturate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import QuantError


def _need_int(value, what: str, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise QuantError(f"{what} must be an integer from {lo} to {hi}, got {value!r}")


@dataclass(frozen=True)
class IntFormat:
    bits: int
    signed: bool = True  # False: asymmetric uint with a zero point

    def __post_init__(self):
        _need_int(self.bits, "fmt: integer format bits", 2, 24)

    @property
    def name(self) -> str:
        return f"{'int' if self.signed else 'uint'}{self.bits}"

    @property
    def qmax(self) -> int:
        return 2 ** (self.bits - 1) - 1 if self.signed else 2**self.bits - 1


@dataclass(frozen=True)
class FloatFormat:
    """Sign + ``exp_bits`` exponent + ``man_bits`` mantissa, with subnormals.

    ``overflow``: what a value beyond ``max`` becomes — "nan", "inf" or "saturate";
    ``nan``: what NaN becomes — "nan" or "neg_zero" (ml_dtypes' rule for formats with no NaN).
    """

    name: str
    exp_bits: int
    man_bits: int
    overflow: str = "saturate"
    nan: str = "nan"
    top_code_reserved: str = "none"  # "none" | "nan" (e4m3fn's S.1111.111) | "ieee" (whole top binade)

    def __post_init__(self):
        _need_int(self.exp_bits, "fmt: exponent bits E", 1, 8)
        _need_int(self.man_bits, "fmt: mantissa bits M", 0, 23)
        for field, allowed in (("overflow", ("nan", "inf", "saturate")), ("nan", ("nan", "neg_zero")),
                               ("top_code_reserved", ("none", "nan", "ieee"))):
            if getattr(self, field) not in allowed:
                raise QuantError(f"fmt: FloatFormat.{field} must be one of {allowed}, "
                                 f"got {getattr(self, field)!r}")
        if self.exp_bits == 8 and self.top_code_reserved != "ieee":
            raise QuantError("fmt: 8 exponent bits need IEEE specials (top_code_reserved='ieee'); "
                             "all-finite codes would exceed float32")
        if self.top_code_reserved == "nan" and self.man_bits == 0:
            raise QuantError("fmt: top_code_reserved='nan' needs at least one mantissa bit")

    @property
    def bias(self) -> int:
        return 2 ** (self.exp_bits - 1) - 1

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal number."""
        return 1 - self.bias

    @property
    def emax(self) -> int:
        top = 2**self.exp_bits - 1 - self.bias
        return top - 1 if self.top_code_reserved == "ieee" else top

    @property
    def max(self) -> float:
        frac = 2 - 2.0 ** (1 - self.man_bits) if self.top_code_reserved == "nan" else 2 - 2.0**-self.man_bits
        return frac * 2.0**self.emax


@dataclass(frozen=True)
class MXFormat:
    """OCP MX: ``element`` values sharing one power-of-two scale per ``block`` elements."""

    name: str
    element: FloatFormat | IntFormat
    emax_elem: int
    block: int = 32

    def __post_init__(self):
        if not isinstance(self.element, (FloatFormat, IntFormat)):
            raise QuantError(f"fmt: MX element must be a FloatFormat or IntFormat, got {self.element!r}")
        _need_int(self.emax_elem, "fmt: MX emax_elem", -127, 127)
        _need_int(self.block, "fmt: MX block", 1, 2**31)


ML_DTYPES = {
    "float8_e4m3fn": FloatFormat("float8_e4m3fn", 4, 3, overflow="nan", top_code_reserved="nan"),
    "float8_e5m2": FloatFormat("float8_e5m2", 5, 2, overflow="inf", top_code_reserved="ieee"),
    "float6_e3m2fn": FloatFormat("float6_e3m2fn", 3, 2, nan="neg_zero"),
    "float6_e2m3fn": FloatFormat("float6_e2m3fn", 2, 3, nan="neg_zero"),
    "float4_e2m1fn": FloatFormat("float4_e2m1fn", 2, 1, nan="neg_zero"),
    "bfloat16": FloatFormat("bfloat16", 8, 7, overflow="inf", top_code_reserved="ieee"),  # = e8m7
}


def _mx_elem(fmt: FloatFormat) -> FloatFormat:
    """MX elements saturate (OCP MX v1.0 §6.3) and keep NaN."""
    return FloatFormat(fmt.name, fmt.exp_bits, fmt.man_bits, overflow="saturate", nan="nan",
                       top_code_reserved=fmt.top_code_reserved)


MX = {
    "mxfp8_e4m3": MXFormat("mxfp8_e4m3", _mx_elem(ML_DTYPES["float8_e4m3fn"]), 8),
    "mxfp8_e5m2": MXFormat("mxfp8_e5m2", _mx_elem(ML_DTYPES["float8_e5m2"]), 15),
    "mxfp6_e3m2": MXFormat("mxfp6_e3m2", _mx_elem(ML_DTYPES["float6_e3m2fn"]), 4),
    "mxfp6_e2m3": MXFormat("mxfp6_e2m3", _mx_elem(ML_DTYPES["float6_e2m3fn"]), 2),
    "mxfp4_e2m1": MXFormat("mxfp4_e2m1", _mx_elem(ML_DTYPES["float4_e2m1fn"]), 2),
    "mxint8": MXFormat("mxint8", IntFormat(8), 0),
}

Format = IntFormat | FloatFormat | MXFormat


def parse_format(fmt: str | Format) -> Format:
    """A format object from its name (or the object itself); :class:`QuantError` naming
    ``fmt`` for anything else."""
    if isinstance(fmt, (IntFormat, FloatFormat, MXFormat)):
        return fmt
    if not isinstance(fmt, str):
        raise QuantError(f"fmt must be a format name or format object, got {type(fmt).__name__} "
                         f"{fmt!r:.60}")
    name = fmt.strip().lower()
    if name in ML_DTYPES:
        return ML_DTYPES[name]
    if name in MX:
        return MX[name]
    m = re.fullmatch(r"(u?)int([+-]?\d{1,12})", name)
    if m:
        bits = int(m.group(2))
        if not 2 <= bits <= 24:
            raise QuantError(f"fmt {fmt!r}: integer formats need 2 to 24 bits, got {bits}")
        return IntFormat(bits, signed=not m.group(1))
    m = re.fullmatch(r"e([+-]?\d{1,12})m([+-]?\d{1,12})", name)
    if m:
        e, mant = int(m.group(1)), int(m.group(2))
        if not (1 <= e <= 8 and 0 <= mant <= 23):
            raise QuantError(f"fmt {fmt!r}: e{{E}}m{{M}} needs 1 ≤ E ≤ 8 and 0 ≤ M ≤ 23")
        if e == 8:  # float32's exponent: IEEE inf/NaN codes (e8m7 = bfloat16)
            return FloatFormat(name, e, mant, overflow="inf", top_code_reserved="ieee")
        return FloatFormat(name, e, mant)
    known = ", ".join([*ML_DTYPES, *MX])
    raise QuantError(f"fmt: unknown format {fmt!r:.80}; use int{{k}}, uint{{k}}, e{{E}}m{{M}}, "
                     f"or one of {known}")
