"""Traced programs kept on disk, so that a new process neither re-traces nor re-lowers a fit.

JAX's compilation cache skips XLA's compile, but every process still traces the Python
code (the Newton step, its Hessian, the vmaps: about a second for a small law) to find the
cache key.  :class:`Program` keeps the traced, lowered program of one function for one
argument signature as a serialized :mod:`jax.export` artifact (StableHLO in a flatbuffer:
data, not code; nothing is unpickled) in a directory (``<cache>/programs/`` for the command line):

    file name = sha256(function key, argument tree/shapes/dtypes, 64-bit mode, platform,
                       JAX version, sha256 of lawkit's own source)

so a changed law, loss, data shape, JAX or lawkit gives a new file and a stale program is
never used.  A function whose key is ``None`` (e.g. a law using a user-registered
function, whose implementation lawkit cannot fingerprint) is only jit-compiled.

The disk store is off until :func:`use_directory` turns it on (the ``lawkit`` command line
does, with :func:`lawkit.backends.jax.enable_compilation_cache`); library calls otherwise
write nothing.  Results are those of ``jax.jit(fn)``: the exported program is the same
StableHLO, compiled by the same XLA.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path

import jax

_STATE = {"dir": None}
KEEP = 512  # programs kept on disk; the least recently used beyond this are deleted
#: counts of this process: programs loaded from disk, exported to disk, unreadable files
STATS = {"loaded": 0, "exported": 0, "rejected": 0}
_LOCK = threading.Lock()


def use_directory(path: str | os.PathLike | None) -> None:
    """Keep traced programs under ``path`` (``None``: only in memory)."""
    _STATE["dir"] = None if path is None else Path(path)


@cache
def source_digest() -> str:
    """sha256 over lawkit's Python source: a new lawkit never reuses an old program."""
    return tree_digest(Path(__file__).resolve().parents[1])


def tree_digest(root: Path) -> str:
    """sha256 over the paths and bytes of every ``*.py`` under ``root``."""
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _signature(args) -> str:
    leaves, tree = jax.tree_util.tree_flatten(args)
    shapes = [(tuple(getattr(x, "shape", ())), str(getattr(x, "dtype", type(x).__name__)))
              for x in leaves]
    return f"{tree}|{shapes}|x64={jax.config.jax_enable_x64}|{jax.default_backend()}"


class Program:
    """``jax.jit(fn)``, with its traced program kept on disk per argument signature when a
    directory is set and ``key`` (a string naming everything ``fn`` closes over) is given."""

    def __init__(self, fn: Callable, key: str | None):
        self.key = key
        self._jit = jax.jit(fn)
        self._by_signature: dict[str, Callable] = {}

    def __call__(self, *args):
        where = _STATE["dir"]
        if where is None or self.key is None:
            return self._jit(*args)
        sig = _signature(args)
        run = self._by_signature.get(sig)
        if run is None:
            run = self._by_signature[sig] = self._load_or_export(where, sig, args)
        return run(*args)

    def _load_or_export(self, where: Path, sig: str, args) -> Callable:
        from jax import export

        digest = hashlib.sha256("\n".join(
            (self.key, sig, jax.__version__, source_digest())).encode()).hexdigest()
        path = where / f"{digest}.jaxexport"
        try:
            exported = export.deserialize(bytearray(path.read_bytes()))
            STATS["loaded"] += 1
            _touch(path)
            return jax.jit(exported.call)
        except FileNotFoundError:
            pass
        except Exception:  # a truncated or foreign file: trace again and overwrite it
            STATS["rejected"] += 1
        try:
            exported = export.export(self._jit)(*args)
            blob = exported.serialize()
        except Exception:  # a program JAX cannot serialize: jit it as usual
            return self._jit
        with _LOCK:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(blob)
                os.replace(tmp, path)  # atomic: a reader never sees half a file
                STATS["exported"] += 1
                _prune(where)
            except OSError:  # read-only cache: keep the program in memory only
                pass
        return jax.jit(exported.call)


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _prune(where: Path, keep: int | None = None) -> None:
    """Delete all but the ``keep`` most recently used programs (old lawkit or JAX versions
    leave programs nobody will load again)."""
    keep = KEEP if keep is None else keep
    files = []
    for f in where.glob("*.jaxexport"):
        try:
            files.append((f.stat().st_mtime, f))
        except OSError:
            continue
    for _, f in sorted(files, reverse=True)[keep:]:
        try:
            f.unlink()
        except OSError:
            pass


_MEMO: dict = {}


def _static_key(s) -> str | None:
    """A string for a static argument that is the same in every process, or None."""
    if callable(s):
        key = getattr(s, "cache_key", None)
        if key is None and "<locals>" not in getattr(s, "__qualname__", "<locals>"):
            key = f"{s.__module__}.{s.__qualname__}"  # a module-level function
        return key
    if s is None or isinstance(s, (bool, int, float, str, tuple)):
        return repr(s)
    return None


def program(impl: Callable, *static) -> Program:
    """The :class:`Program` of ``impl(*static, *args)``, one per (impl, statics) in this
    process.  Statics are plain values, module-level functions, or functions carrying a
    ``cache_key`` attribute; any other static keeps the program off the disk."""
    memo_key = (impl, static)
    found = _MEMO.get(memo_key)
    if found is None:
        parts = [_static_key(s) for s in static]
        key = None if None in parts else (
            f"{impl.__module__}.{impl.__qualname__}({', '.join(parts)})")
        if len(_MEMO) >= 256:
            _MEMO.clear()
        found = _MEMO[memo_key] = Program(partial(impl, *static), key)
    return found
