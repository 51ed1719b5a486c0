"""Compiled programs kept on disk, so that a new process neither traces, lowers nor
compiles a fit again.

JAX's compilation cache skips XLA's compile, but every process still traces the Python
code (the Newton step, its Hessian, the vmaps: about a second for a small law) and lowers
it to find the cache key.  :class:`Program` keeps the compiled executable of one function
for one argument signature (:mod:`jax.experimental.serialize_executable`) in a directory
(``<cache>/programs/`` for the command line):

    file name = sha256(function key, argument tree/shapes/dtypes, 64-bit mode, default
                       device, matmul precision, JAX and jaxlib versions, the host CPU,
                       the XLA_*/JAX_* environment, sha256 of lawkit's own source)

so a changed law, loss, data shape, device, JAX, machine or lawkit gives a new file and a
stale program is never used; a stored program that fails on its first run is deleted and
compiled again.  A function whose key is ``None`` (e.g. a law using a
user-registered function, whose implementation lawkit cannot fingerprint) is only
jit-compiled.

An executable is machine code: like JAX's own compilation cache, the directory must be
trusted (it is created private to the user, and a file that another user owns is never
loaded).  The disk store is off until :func:`use_directory` turns it on (the ``lawkit``
command line does, with :func:`lawkit.backends.jax.enable_compilation_cache`); library
calls otherwise write nothing.  Results are those of ``jax.jit(fn)``: the same program,
compiled by the same XLA.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import threading
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path

import jax

from .lapack import initialize_lapack

_STATE = {"dir": None}
KEEP = 512  # programs kept on disk; the least recently used beyond this are deleted
SUFFIX = ".xla"
#: counts of this process: programs loaded from disk, compiled and stored, unreadable files
STATS = {"loaded": 0, "stored": 0, "rejected": 0}
_LOCK = threading.Lock()


def use_directory(path: str | os.PathLike | None) -> None:
    """Keep compiled programs under ``path`` (``None``: only in memory)."""
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


@cache
def host() -> str:
    """What an executable was compiled for, apart from the device: JAX and jaxlib, the CPU
    (model and instruction-set features: XLA compiles for the host's), ``XLA_FLAGS`` and
    the ``JAX_*`` settings of the environment."""
    import jaxlib

    cpu = [platform.machine(), platform.processor(), _numpy_cpu_features()]
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            lines = [ln for ln in fh.read(1 << 16).splitlines()
                     if ln.startswith(("model name", "flags", "Features", "CPU part"))]
        cpu += list(dict.fromkeys(lines))  # each distinct line once
    except OSError:
        pass
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(("XLA_", "JAX_")))
    return "\n".join((jax.__version__, getattr(jaxlib, "__version__", "?"), "|".join(cpu),
                      repr(env)))


def _numpy_cpu_features() -> str:
    """The instruction-set extensions NumPy found on this CPU (any OS)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as features
        except ImportError:
            return ""
    return ",".join(sorted(k for k, on in features.items() if on))


def _device():
    """The device a program without placed arguments runs on: JAX's default device (a
    device, a platform name, or unset: the first device)."""
    chosen = jax.config.jax_default_device
    if isinstance(chosen, jax.Device):
        return chosen
    return jax.devices(chosen)[0] if isinstance(chosen, str) else jax.devices()[0]


def _signature(args) -> str:
    leaves, tree = jax.tree_util.tree_flatten(args)
    shapes = [(tuple(getattr(x, "shape", ())), str(getattr(x, "dtype", type(x).__name__)),
               bool(getattr(x, "weak_type", False))) for x in leaves]
    d = _device()
    return (f"{tree}|{shapes}|x64={jax.config.jax_enable_x64}|{d.platform}:{d.id}:"
            f"{d.device_kind}:{d.client.platform_version}|"
            f"{jax.config.jax_default_matmul_precision}")


@cache
def usable() -> bool:
    """Whether this JAX can load stored executables safely (LAPACK set up first, and
    executables placed on one device); if not, programs are plain ``jax.jit``."""
    import inspect

    try:
        from jax.experimental import serialize_executable

        placed = "execution_devices" in inspect.signature(
            serialize_executable.deserialize_and_load).parameters
    except (ImportError, TypeError, ValueError):
        return False
    return placed and initialize_lapack()


class Program:
    """``jax.jit(fn)``, with its compiled program kept on disk per argument signature when a
    directory is set and ``key`` (a string naming everything ``fn`` closes over) is given."""

    def __init__(self, fn: Callable, key: str | None):
        self.key = key
        self._fn = fn
        self._jit = jax.jit(fn)
        self._by_signature: dict[str, Callable] = {}

    def __call__(self, *args):
        where = _STATE["dir"]
        if where is None or self.key is None or not usable():
            return self._jit(*args)
        sig = _signature(args)
        run = self._by_signature.get(sig)
        if run is not None:
            return run(*args)
        digest = hashlib.sha256("\n".join(
            (self.key, sig, host(), source_digest())).encode()).hexdigest()
        path = where / f"{digest}{SUFFIX}"
        stored = _run_stored(path, args)
        if stored is not None:
            self._by_signature[sig], out = stored
            return out
        run = self._by_signature[sig] = self._compile_and_store(path, digest, args)
        return run(*args)

    def _compile_and_store(self, path: Path, digest: str, args) -> Callable:
        fresh = _fresh(self._fn, digest)
        try:
            compiled = jax.jit(fresh).lower(*args).compile()
        except Exception:  # noqa: BLE001 — e.g. a program JAX cannot compile ahead: plain jit
            return self._jit
        finally:
            _drop_from_jax_cache(fresh.__name__)
        try:
            blob = _dump(compiled)
        except Exception:  # noqa: BLE001 — a program JAX cannot serialize: keep it in memory
            return compiled
        with _LOCK:
            try:
                _write(path, blob)
                STATS["stored"] += 1
                _prune(path.parent)
            except OSError:  # read-only cache: keep the program in memory only
                pass
        return compiled


_MAGIC = b"lawkit-xla-1\n"


def _run_stored(path: Path, args):
    """(the program stored at ``path``, its outputs on ``args``), or None when there is no
    usable one: missing, unreadable, foreign, or failing on this first run (then deleted,
    so that it is not left to fail every process)."""
    try:
        run = _load(path)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 — truncated, foreign or stale: compiled and overwritten
        STATS["rejected"] += 1
        return None
    try:
        out = jax.block_until_ready(run(*args))
    except Exception:  # noqa: BLE001
        STATS["rejected"] += 1
        _unlink(path)
        return None
    STATS["loaded"] += 1
    _touch(path)
    return run, out


def _fresh(fn: Callable, digest: str) -> Callable:
    """``fn`` under a name no compiled program had before, so that XLA compiles it afresh:
    an executable that JAX's compilation cache loaded does not survive serializing again
    (running it in the next process fails with "Function … not found")."""
    def run(*args):
        return fn(*args)

    run.__name__ = run.__qualname__ = f"lawkit_{digest[:16]}_{os.urandom(4).hex()}"
    return run


def _drop_from_jax_cache(name: str) -> None:
    """Delete what JAX's compilation cache wrote for the uniquely named ``name`` (nobody
    will ask for it again)."""
    where = jax.config.jax_compilation_cache_dir
    if where:
        for f in Path(where).glob(f"jit_{name}-*"):
            _unlink(f)


def _dump(compiled) -> bytes:
    from jax.experimental import serialize_executable

    payload, in_tree, out_tree = serialize_executable.serialize(compiled)
    return _MAGIC + pickle.dumps((payload, in_tree, out_tree), protocol=pickle.HIGHEST_PROTOCOL)


def _load(path: Path):
    """The compiled program stored at ``path`` (``FileNotFoundError`` when there is none;
    ``PermissionError`` for a file another user owns)."""
    from jax.experimental import serialize_executable

    with open(path, "rb") as fh:
        if hasattr(os, "getuid") and os.fstat(fh.fileno()).st_uid != os.getuid():
            raise PermissionError(f"{path} belongs to another user")
        blob = fh.read()
    if not blob.startswith(_MAGIC):
        raise ValueError("not a lawkit program")
    payload, in_tree, out_tree = pickle.loads(blob[len(_MAGIC):])
    device = _device()
    return serialize_executable.deserialize_and_load(payload, in_tree, out_tree,
                                                     backend=device.client,
                                                     execution_devices=[device])


def _write(path: Path, blob: bytes) -> None:
    """``blob`` at ``path``, atomically (a reader never sees half a file), in a directory
    private to this user."""
    import tempfile

    where = path.parent
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    if hasattr(os, "getuid") and where.stat().st_uid == os.getuid():
        os.chmod(where, 0o700)  # also a directory an earlier lawkit made readable to all
    fd, tmp = tempfile.mkstemp(dir=where, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except BaseException:
        _unlink(Path(tmp))
        raise


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _prune(where: Path, keep: int | None = None) -> None:
    """Delete all but the ``keep`` most recently used programs (old lawkit or JAX versions
    leave programs nobody will load again), an earlier lawkit's traced programs, and
    temporary files a killed process left over a day ago."""
    import time

    keep = KEEP if keep is None else keep
    for f in where.glob("*.jaxexport"):
        _unlink(f)
    files = []
    for f in [*where.glob(f"*{SUFFIX}"), *where.glob(".*.tmp")]:
        try:
            files.append((f.stat().st_mtime, f))
        except OSError:
            continue
    for t, f in files:
        if f.suffix == ".tmp" and t < time.time() - 86400:
            _unlink(f)
    for _, f in sorted((x for x in files if x[1].suffix == SUFFIX), reverse=True)[keep:]:
        _unlink(f)


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
