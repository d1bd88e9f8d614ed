"""normalize + to_uint8 against the plain torch expressions a notebook would write.

Run: ``python benchmarks/bench_normalize.py [--repeats N]``. A report, not a test.

Data: one 60x512x512 volume (15.7 M voxels), MR-like (dark noisy background, tissue up
to ~3000), once as int16 (what read_series returns for 12-bit data) and once as float32
(the same values plus a fraction, so that they are not integers).

Compared, each producing a uint8 volume:

- min-max: ``to_uint8(normalize(x, method="minmax"))`` against
  ``y = (x - x.min()) / (x.max() - x.min())`` then
  ``(y * 255).round().clamp(0, 255).to(torch.uint8)``;
- percentile 0.5/99.5: ``to_uint8(normalize(x))`` (exact percentiles) against the same
  two steps after ``lo, hi`` from (a) ``torch.quantile`` on the whole volume (exact, but
  it sorts, and it refuses inputs over 16 M elements: shown below with 70 slices, which
  is 18.4 M), (b) ``numpy.percentile`` (exact; a partition on a float64 copy), and
  (c) ``torch.quantile`` on a strided 1/16 subsample (what one writes to get round the
  limit: approximate, its error is printed).

Time: every variant runs once per round, rounds alternate the variants (so that a busy
machine slows them alike); medians over the rounds are compared.

Peak memory: torch's CPU allocations are not seen by tracemalloc, so each variant runs
once in a fresh subprocess that reads its resident set size (VmRSS in
``/proc/self/status``) just before the call and its high-water mark (VmHWM) just after.
The growth is the most memory the call had at once, output included (the uint8 output
alone is 15.7 MB). VmHWM is used rather than ``resource.getrusage().ru_maxrss``: Linux
carries ru_maxrss over an exec, so a child started by a large parent reports the
parent's size. The volume is built slice by slice, so that building it leaves the
high-water mark within a few MB of the resident size (the "slack" printed: the
resolution of the measure).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

from eda_helpers import normalize, to_uint8

SHAPE = (60, 512, 512)
LOW, HIGH = 0.5, 99.5


def mr_like(dtype: str, shape: tuple[int, int, int] = SHAPE) -> torch.Tensor:
    """Built slice by slice: the temporaries stay at one slice."""
    n, rows, cols = shape
    gen = torch.Generator().manual_seed(0)
    axis_r, axis_c = torch.linspace(-1, 1, rows), torch.linspace(-1, 1, cols)
    yy, xx = torch.meshgrid(axis_r, axis_c, indexing="ij")
    body = ((xx / 0.7) ** 2 + (yy / 0.9) ** 2 < 1) * 900.0 + (xx.abs() < 0.1) * 1500.0
    out = torch.empty(shape, dtype=torch.int16 if dtype == "int16" else torch.float32)
    for i in range(n):
        noisy = (body * (1 + 0.3 * i / n) + torch.randn((rows, cols), generator=gen) * 30).abs()
        if dtype == "int16":
            out[i] = noisy.round().to(torch.int16)
        else:
            out[i] = noisy + torch.rand((rows, cols), generator=gen)
    return out


# ------------------------------------------------------------------------ variants


def plain_scale(x: torch.Tensor, lo, hi) -> torch.Tensor:
    y = ((x - lo) / (hi - lo)).clamp(0, 1)
    return (y * 255).round().clamp(0, 255).to(torch.uint8)


def ours_minmax(x: torch.Tensor) -> torch.Tensor:
    return to_uint8(normalize(x, method="minmax"))


def plain_minmax(x: torch.Tensor) -> torch.Tensor:
    y = (x - x.min()) / (x.max() - x.min())
    return (y * 255).round().clamp(0, 255).to(torch.uint8)


def ours_percentile(x: torch.Tensor) -> torch.Tensor:
    return to_uint8(normalize(x, method="percentile", low=LOW, high=HIGH))


def _q() -> torch.Tensor:
    return torch.tensor([LOW / 100, HIGH / 100])


def plain_quantile(x: torch.Tensor) -> torch.Tensor:
    lo, hi = torch.quantile(x.reshape(-1).float(), _q())
    return plain_scale(x, lo, hi)


def plain_np_percentile(x: torch.Tensor) -> torch.Tensor:
    lo, hi = np.percentile(x.numpy(), [LOW, HIGH])
    return plain_scale(x, float(lo), float(hi))


def plain_quantile_subsample(x: torch.Tensor) -> torch.Tensor:
    lo, hi = torch.quantile(x.reshape(-1)[::16].float(), _q())
    return plain_scale(x, lo, hi)


VARIANTS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "ours minmax": ours_minmax,
    "plain minmax": plain_minmax,
    "ours percentile": ours_percentile,
    "plain torch.quantile": plain_quantile,
    "plain np.percentile": plain_np_percentile,
    "plain quantile 1/16": plain_quantile_subsample,
}
PAIRS = [
    ("min-max", "ours minmax", "plain minmax"),
    ("percentile", "ours percentile", "plain torch.quantile"),
    ("percentile", "ours percentile", "plain np.percentile"),
    ("percentile", "ours percentile", "plain quantile 1/16"),
]


# -------------------------------------------------------------------------- memory


def _status_kb(field: str) -> int:
    """A memory line of /proc/self/status, in kB (VmRSS: now; VmHWM: high-water mark)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status (this needs Linux)")


def measure_child(fn: Callable[[torch.Tensor], object], dtype: str) -> None:
    """In the child process: print the peak memory growth of ``fn`` on the volume."""
    fn(mr_like(dtype, (1, 8, 8)))  # load the kernels and libraries first
    x = mr_like(dtype)
    before = _status_kb("VmRSS")
    peak_before = _status_kb("VmHWM")
    out = fn(x)
    peak_after = _status_kb("VmHWM")
    print(json.dumps({"growth_kb": peak_after - before, "slack_kb": peak_before - before}))
    del out


def child(variant: str, dtype: str) -> None:
    measure_child(VARIANTS[variant], dtype)


def peak_growth_mb(variant: str, dtype: str, script: str = __file__) -> tuple[float, float]:
    """Peak memory growth (MB) and slack of ``variant`` in a fresh run of ``script``
    (which calls :func:`measure_child` when given ``--child VARIANT DTYPE``)."""
    run = subprocess.run(
        [sys.executable, script, "--child", variant, dtype],
        capture_output=True,
        text=True,
        check=True,
    )
    numbers = json.loads(run.stdout.strip().splitlines()[-1])
    return numbers["growth_kb"] / 1024, numbers["slack_kb"] / 1024


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "DTYPE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    print(f"volume {SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]} = {np.prod(SHAPE) / 1e6:.1f} M voxels")
    print(
        f"torch {torch.__version__}, numpy {np.__version__}, {torch.get_num_threads()} threads, "
        f"{args.repeats} rounds (medians)"
    )
    try:
        torch.quantile(torch.zeros(70 * 512 * 512), 0.5)
        print("torch.quantile on 70x512x512 (18.4 M): works in this torch version")
    except RuntimeError as error:
        print(f"torch.quantile on 70x512x512 (18.4 M): RuntimeError: {error}")

    for dtype in ("int16", "float32"):
        x = mr_like(dtype)
        exact = ours_percentile(x)
        for fn in VARIANTS.values():
            fn(x)  # warm-up
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(args.repeats):
            for name, fn in VARIANTS.items():
                t0 = time.perf_counter()
                fn(x)
                times[name].append(time.perf_counter() - t0)
        med = {name: statistics.median(ts) * 1000 for name, ts in times.items()}

        print(f"\n== {dtype} ==")
        print(f"{'variant':<24}{'time ms':>10}{'peak MB':>10}   (slack MB)")
        peaks = {}
        for name in VARIANTS:
            growth, slack = peak_growth_mb(name, dtype)
            peaks[name] = growth
            print(f"{name:<24}{med[name]:>10.1f}{growth:>10.1f}   ({slack:.1f})")
        print("ratios ours / plain (time, peak memory):")
        for what, ours, plain in PAIRS:
            print(
                f"  {what:<11} vs {plain:<22} time {med[ours] / med[plain]:.2f}   "
                f"memory {peaks[ours] / peaks[plain]:.2f}"
            )
        same_mm = (ours_minmax(x) == plain_minmax(x)).float().mean().item()
        same_q = (plain_quantile(x) == exact).float().mean().item()
        approx = plain_quantile_subsample(x).int() - exact.int()
        print(
            f"identical pixels: min-max {same_mm:.4%}, percentile vs torch.quantile "
            f"{same_q:.4%}; quantile 1/16 subsample: {(approx != 0).float().mean().item():.2%} "
            f"of pixels differ, by up to {approx.abs().max().item()} grey levels"
        )


if __name__ == "__main__":
    main()
