"""Benchmark: quantization kernels on a 4096×4096 float32 tensor, as throughput relative to a
plain copy of the same tensor measured in the same run (ratio = t_copy / t_quantize; 1.0 =
as fast as a copy).

    python benchmarks/quant_speed.py [--device cuda]

How it is measured: outputs are preallocated (``out.copy_(x)`` for the copy; the compiled
quantizer writes into ``out``), because on this VM each fresh 64 MiB allocation costs tens of
milliseconds of page faults; the eager path allocates its temporaries as it must, and is
reported too.  Best of 7 runs after a warm-up; compile time is printed separately.
"""

from __future__ import annotations

import sys
import time

import torch

from lawkit.quant import compile_quantizer, quantize

CASES = [("int4 per-channel", "int4", {"axis": 0}), ("float8_e4m3fn", "float8_e4m3fn", {}),
         ("mxfp4_e2m1", "mxfp4_e2m1", {})]


def best(fn, device, n=7) -> float:
    fn()
    times = []
    for _ in range(n):
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    torch.manual_seed(0)
    x = torch.randn(4096, 4096, device=device)
    out = torch.empty_like(x)
    t_copy = best(lambda: out.copy_(x), device)
    print(f"device={device} threads={torch.get_num_threads()} copy: {t_copy * 1e3:.2f} ms "
          f"({2 * x.numel() * 4 / t_copy / 1e9:.1f} GB/s)")
    print(f"{'case':<18} {'eager ms':>9} {'ratio':>6} {'compiled ms':>12} {'ratio':>6} {'compile s':>10}")
    for label, fmt, kw in CASES:
        t_eager = best(lambda: quantize(x, fmt, **kw), device)
        q = compile_quantizer(fmt, **kw)
        t0 = time.perf_counter()
        q(x, out)
        compile_s = time.perf_counter() - t0
        assert torch.equal(out, quantize(x, fmt, **kw)), "compiled and eager paths disagree"
        t_comp = best(lambda: q(x, out), device)
        print(f"{label:<18} {t_eager * 1e3:9.2f} {t_copy / t_eager:6.2f} {t_comp * 1e3:12.2f} "
              f"{t_copy / t_comp:6.2f} {compile_s:10.1f}")
    print("target: compiled ratio >= 0.5 on CPU (>= 0.7 on CUDA)")


if __name__ == "__main__":
    main()
