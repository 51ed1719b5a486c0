"""Benchmark: quantization kernels on a 4096×4096 float32 tensor, as throughput relative to a
plain copy of the same tensor measured in the same run (ratio = t_copy / t_quantize; 1.0 =
as fast as a copy).

    python benchmarks/quant_speed.py [--device cuda] [--repeat 7] [--threads N]

How it is measured: outputs are preallocated (``out.copy_(x)`` for the copy; the compiled
quantizer writes into ``out``), because on this VM each fresh 64 MiB allocation costs tens of
milliseconds of page faults; the eager path allocates its result as it must, so its row
also shows the ratio against ``x.clone()`` (a copy into a fresh tensor, the same page
faults: ``vs clone``).  Copy and
quantizer runs alternate and each keeps its best of ``--repeat`` after a warm-up, so a busy
machine slows both alike; compile time is printed separately.  Every compiled result is
checked bit for bit against the eager one.  On a shared machine wall-clock ratios are noisy;
the ``cpu`` columns divide process CPU time instead (steadier under load, but with more than
one thread they also count OpenMP's spin-waiting).
"""

from __future__ import annotations

import sys
import time

import torch

from lawkit.quant import compile_quantizer, quantize

CASES = [("int4 per-channel", "int4", {"axis": 0}), ("float8_e4m3fn", "float8_e4m3fn", {}),
         ("e8m7 (bfloat16)", "e8m7", {}), ("mxfp4_e2m1", "mxfp4_e2m1", {})]
TARGETS = {"cpu": (0.1, 0.5), "cuda": (0.1, 0.7)}  # eager, compiled (MXFP4 is the hard one)


def _time(fn, device) -> tuple[float, float]:
    """(wall, process CPU) seconds of one call."""
    if device == "cuda":
        torch.cuda.synchronize()
    t, c = time.perf_counter(), time.process_time()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t, time.process_time() - c


def best_pair(copy, fn, device, n) -> tuple[tuple[float, float], tuple[float, float]]:
    """Best-of-n (wall, cpu) times of ``copy`` and ``fn``, run alternately."""
    copy(), fn()
    tc, tf = [], []
    for _ in range(n):
        tc.append(_time(copy, device))
        tf.append(_time(fn, device))
    best = lambda ts: (min(t[0] for t in ts), min(t[1] for t in ts))  # noqa: E731
    return best(tc), best(tf)


def _bits(t: torch.Tensor) -> torch.Tensor:
    """Bit patterns, −0 ≠ +0, all NaNs alike."""
    return torch.where(torch.isnan(t), float("nan"), t).view(torch.int32)


def main() -> None:
    device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    n = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 7
    if "--threads" in sys.argv:
        torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]))
    torch.manual_seed(0)
    x = torch.randn(4096, 4096, device=device)
    out = torch.empty_like(x)
    copy = lambda: out.copy_(x)  # noqa: E731
    t_copy = min(_time(copy, device)[0] for _ in range(n))
    print(f"device={device} threads={torch.get_num_threads()} copy: {t_copy * 1e3:.2f} ms "
          f"({2 * x.numel() * 4 / t_copy / 1e9:.1f} GB/s)")
    print(f"{'case':<18} {'eager ms':>9} {'ratio':>6} {'cpu':>5} {'vs clone':>9} "
          f"{'compiled ms':>12} {'ratio':>6} {'cpu':>5} {'compile s':>10}")
    eager_target, comp_target = TARGETS.get(device, TARGETS["cpu"])
    for label, fmt, kw in CASES:
        ce, te = best_pair(copy, lambda: quantize(x, fmt, **kw), device, max(3, n // 2))
        cl, te2 = best_pair(x.clone, lambda: quantize(x, fmt, **kw), device, max(3, n // 2))
        te = min(te, te2)
        q = compile_quantizer(fmt, **kw)
        t0 = time.perf_counter()
        q(x, out)
        compile_s = time.perf_counter() - t0
        assert torch.equal(_bits(out), _bits(quantize(x, fmt, **kw))), "compiled != eager"
        cc, tc = best_pair(copy, lambda: q(x, out), device, n)
        print(f"{label:<18} {te[0] * 1e3:9.2f} {ce[0] / te[0]:6.2f} {ce[1] / te[1]:5.2f} "
              f"{cl[0] / te[0]:9.2f} {tc[0] * 1e3:12.2f} {cc[0] / tc[0]:6.2f} {cc[1] / tc[1]:5.2f} {compile_s:10.1f}")
    print(f"targets: eager ratio >= {eager_target}, compiled ratio >= {comp_target} (MXFP4); "
          "ratios use the copy timed alongside each case")


if __name__ == "__main__":
    main()
