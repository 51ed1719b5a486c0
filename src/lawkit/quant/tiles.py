"""Grouping and tiled execution for the eager quantizer.

A tensor is viewed as (groups, group_len): one row per scale group (the whole tensor, one
slice along ``axis``, or one ``block``).  Eager mode walks that view in cache-sized tiles —
whole rows when a row is short, column chunks of one row (after a reduction pass for its
scale) when it is long — so each elementwise temporary lives in cache instead of costing a
fresh full-size allocation; results are written straight into the output.  Tiles stay
below torch's intra-op grain (32768 elements), so each op runs on one thread with no
barrier: OpenMP barriers on many small ops are what make a busy machine crawl (seconds
instead of 0.2 s for 16M elements), and worker threads lose more to the GIL than they gain.
The arithmetic per element is the same as on the whole tensor (the compiled path), so
results are identical whatever the tiling.  On CUDA the whole view is one tile.

A large CPU result is asked to live on transparent huge pages (Linux ``madvise``, what
torch does itself under ``THP_MEM_ALLOC_ENABLE=1``): first-touch page faults on a fresh
64 MiB result otherwise cost more than the quantization itself (16384 faults, ~50 ms on
a VM, against ~8 ms with 2 MiB pages).  Only that tensor's own pages are advised.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache

import torch
import torch.nn.functional as F

from .kernels import work_dtype

TILE = (1 << 15) - 64  # elements per tile on CPU: just under torch's GRAIN_SIZE (32768)
_HUGE = 1 << 21  # x86-64 / arm64 transparent huge page
_MADV_HUGEPAGE = 14


@cache
def _madvise():
    """libc's madvise, or None (not Linux, no libc)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int
    return fn


def empty_result(shape, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """torch.empty; on Linux CPU, results of 4 MiB and more are advised onto transparent huge
    pages (the whole 2 MiB pages inside the tensor; best effort, errors ignored)."""
    out = torch.empty(shape, dtype=dtype, device=device)
    nbytes = out.numel() * out.element_size()
    if device.type == "cpu" and nbytes >= 2 * _HUGE and (madvise := _madvise()) is not None:
        start = -(-out.data_ptr() // _HUGE) * _HUGE
        end = (out.data_ptr() + nbytes) // _HUGE * _HUGE
        if end > start:
            madvise(start, end - start, _MADV_HUGEPAGE)
    return out


def group_view(x: torch.Tensor, axis: int | None, block: int | None):
    """(view of x as (groups, group_len), function mapping such a tensor back to x's shape)."""
    if block is not None:
        if x.dim() == 0:  # a scalar is one block of one
            return x.reshape(1, 1), lambda t: t.reshape(())
        n = x.shape[-1]
        pad = (-n) % block
        xp = F.pad(x, (0, pad)) if pad else x
        view = xp.reshape(-1, block)

        def back(t):
            t = t.reshape(*x.shape[:-1], n + pad)
            return t[..., :n] if pad else t
        return view, back
    if axis is not None:
        moved = x.movedim(axis, 0)
        view = moved.reshape(moved.shape[0], x.numel() // max(1, moved.shape[0]))
        return view, lambda t: t.reshape(moved.shape).movedim(0, axis)
    return x.reshape(1, -1), lambda t: t.reshape(x.shape)


def run_tiles(x: torch.Tensor, opts, tile_fn: Callable, stats_fn: Callable, combine: Callable,
              with_stats: bool, *, method: str, mask: bool, generator=None, rows_fn=None):
    """Eager fake quantization of ``x`` (any float dtype): returns (y in x's dtype, mask).

    ``rows_fn(view, out, tile_rows) -> bool``, where given, first tries the whole view at
    once when its rows fit in a tile (:mod:`.rows`); False leaves it to the tiles.

    ``tile_fn(v, stats, noise=, method=, mask=, out=)`` → (y, mask tile): ``stats`` is None
    for whole-row tiles (the tile computes its rows' scales) or the row's statistics from a
    reduction pass; y may be ``out`` itself (already written) or a tensor to copy there."""
    view, back = group_view(x, opts.axis, opts.block)
    wd = work_dtype(x)
    rows, cols = view.shape
    out = empty_result(view.shape, x.dtype, x.device)
    inside = torch.empty(view.shape, dtype=torch.bool, device=x.device) if mask else None
    if view.numel() == 0:
        return back(out), (back(inside) if mask else None)
    noise = (torch.rand(view.shape, dtype=wd, device=x.device, generator=generator)
             if opts.stochastic else None)
    tile = TILE if x.device.type == "cpu" else view.numel()

    def apply(v, o, m, nz, stats):
        y, mm = tile_fn(v.to(wd), stats, noise=nz, method=method, mask=mask, out=o)
        if y is not o:
            o.copy_(y)
        if mask:
            m.copy_(mm)

    def parts(t, step, dim=0):  # tiles of t (None: no such tensor)
        return t.split(step, dim) if t is not None else [None] * -(-view.shape[dim] // step)

    if cols <= tile:  # whole rows per tile: the tile function computes their scales
        step = max(1, tile // cols)
        if rows_fn is not None and rows_fn(view, out, step):
            return back(out), None
        for v, o, m, nz in zip(*(parts(t, step) for t in (view, out, inside, noise))):
            apply(v, o, m, nz, None)
    else:  # long rows: a reduction pass for each row's scale, then column tiles
        for r in range(rows):
            row = [parts(t[r:r + 1] if t is not None else None, tile, 1)
                   for t in (view, out, inside, noise)]
            stats = None
            for v in row[0] if with_stats else ():
                part = stats_fn(v.to(wd), opts)
                stats = part if stats is None else combine(stats, part, opts)
            for v, o, m, nz in zip(*row):
                apply(v, o, m, nz, stats)
    return back(out), (back(inside) if mask else None)
