"""Law text before the grammar sees it: bytes → str, size limit, newlines.

Files are UTF-8 (a leading byte-order mark is allowed and dropped).  Anything else — UTF-16,
Latin-1, binary — is a :class:`~lawkit.errors.LawFileError` naming the file, the byte offset
and the line.  ``\\r\\n`` and lone ``\\r`` become ``\\n``; ``\\n`` is then the only line break,
for the grammar and for error messages alike (other Unicode line separators are ordinary,
unexpected characters).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import LawFileError, LawLimitError, Source, Span
from ._limits import MAX_FILE_BYTES

_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16",
         b"\xfe\xff": "UTF-16"}
_SAVE_AS_UTF8 = "save the file as UTF-8 (law files are UTF-8 text)"


def too_large(size: int, path: str, unit: str) -> LawLimitError:
    return LawLimitError(f"law text is too large: {size:,} {unit} (limit: MAX_FILE_BYTES = "
                         f"{MAX_FILE_BYTES:,} bytes)", None, Source("", path),
                         "split it into several files")


def normalize(text: str, path: str = "<string>") -> str:
    """Law text with a leading BOM dropped and ``\\r\\n``/``\\r`` turned into ``\\n``."""
    if len(text) > MAX_FILE_BYTES:
        raise too_large(len(text), path, "characters")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def decode(data: bytes, path: str) -> str:
    """UTF-8 bytes → text, or a :class:`LawFileError` that says where decoding failed."""
    if len(data) > MAX_FILE_BYTES:
        raise too_large(len(data), path, "bytes")
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            raise LawFileError(f"file is {name} (byte-order mark at offset 0), not UTF-8", None,
                               Source("", path), _SAVE_AS_UTF8)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nul = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _undecodable(data, err.start, path, f"byte 0x{data[err.start]:02X} at offset "
                           f"{err.start} is not UTF-8") from None
    if nul >= 0:
        raise _undecodable(data, nul, path, f"NUL byte at offset {nul}: not a text file",
                           "law files are UTF-8 text; if this one is UTF-16, save it as UTF-8")
    return normalize(text, path)


def _undecodable(data: bytes, offset: int, path: str, message: str,
                 hint: str = _SAVE_AS_UTF8) -> LawFileError:
    before = data[:offset].decode("utf-8", errors="replace")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    shown = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return LawFileError(message, Span(line, column, line, column + 1), Source(shown, path), hint)


def read_law_file(path: str | Path) -> str:
    """The text of law file ``path`` (checked against the size limit before it is read)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise too_large(size, str(path), "bytes")
        with p.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise LawFileError(f"cannot read law file: {err.strerror or err}", None,
                           Source("", str(path))) from None
    return decode(data, str(path))
