"""Exact percentiles: the hand-written radix selection against numpy's and torch's own.

Run: ``python benchmarks/bench_percentiles.py [--repeats N]``. A report, not a test.

Data: one 60x512x512 volume (15.7 M voxels), MR-like (the volume of
``bench_normalize.py``), as int16 (what ``read_series`` returns for 12-bit data) and as
float32 (values with a fraction). The percentiles are those of ``normalize``'s default,
0.5 and 99.5.

Compared, each giving the two numbers:

- ``radix``: the hand-written radix selection with ``bincount`` that ``percentiles``
  used before this benchmark chose ``np.partition`` (its code is kept below, as it was,
  so that the choice can be measured again);
- ``percentiles``: :func:`eda_helpers.intensity.percentiles` as it is now;
- ``np.percentile``: numpy's own (a partition of a copy, then numpy's interpolation);
- ``np.partition``: the two pairs of order statistics by one ``np.partition`` of a copy,
  then numpy's interpolation formula (what numpy does inside, without its overhead);
- ``torch.quantile``: torch's own (sorts a float copy; refuses more than 16 M values,
  and computes in float32 for float32 input, so its numbers may differ in the last bits);
- ``torch.kthvalue``: one selection per order statistic.

Time: every variant once per round, rounds alternating the variants (a busy machine
slows them alike); medians over the rounds. Peak memory: each variant once in a fresh
subprocess that reads its resident size (VmRSS) before the call and its high-water mark
(VmHWM) after, as in ``bench_normalize.py``. Ratios are against ``np.percentile``,
measured in the same run. "exact" says whether the numbers equal those of
``np.percentile`` on the values as float64 (the numbers ``percentiles`` promises; numpy
interpolates float32 input in float32).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from bench_normalize import measure_child, mr_like, peak_growth_mb

from eda_helpers.intensity import percentiles

QS = (0.5, 99.5)

# ----------------------------------------------- the former hand-written selection

_DIGITS = 1 << 16
_CHUNK = 1 << 20
_FLOAT_BITS: dict[torch.dtype, torch.dtype] = {
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
    torch.float32: torch.int32,
    torch.float64: torch.int64,
}


def _keys(chunk: torch.Tensor, nonneg: bool) -> torch.Tensor:
    """Integer keys that sort like the values of ``chunk`` (a contiguous 1-D tensor)."""
    dtype = chunk.dtype
    if not dtype.is_floating_point:
        # Narrow integers are widened so that the bucket arithmetic cannot overflow.
        return chunk.to(torch.int32) if chunk.element_size() < 4 else chunk
    bits = chunk.view(_FLOAT_BITS[dtype])
    if nonneg:
        # For floats >= 0 the bit patterns already sort like the values, except -0.0
        # (sign bit set, so the most negative integer), which is mapped onto +0.0.
        keys = bits.clamp(min=0)
    else:
        # IEEE 754 sign-magnitude to two's complement: flip the magnitude of negatives.
        nbits = 8 * chunk.element_size()
        keys = bits ^ ((bits >> (nbits - 1)) & ((1 << (nbits - 1)) - 1))
    return keys.to(torch.int32) if keys.element_size() < 4 else keys


def _key_of(value: float, dtype: torch.dtype, nonneg: bool) -> int:
    return int(_keys(torch.tensor([value], dtype=dtype), nonneg)[0])


def _value_of(key: int, dtype: torch.dtype) -> float:
    if not dtype.is_floating_point:
        return float(key)
    int_dtype = _FLOAT_BITS[dtype]
    nbits = torch.iinfo(int_dtype).bits
    # Keys of narrow floats were widened; the transform is its own inverse.
    bits = key ^ ((key >> (nbits - 1)) & ((1 << (nbits - 1)) - 1))
    return float(torch.tensor([bits], dtype=int_dtype).view(dtype)[0])


def _shift_for(kmin: int, kmax: int) -> int:
    """Smallest right shift that puts the keys kmin..kmax into at most _DIGITS buckets."""
    s = max(0, (kmax - kmin).bit_length() - 16)
    while (kmax >> s) - (kmin >> s) >= _DIGITS:
        s += 1
    return s


def _order_statistics(
    flat: torch.Tensor, ranks: Sequence[int], lo: float, hi: float
) -> dict[int, float]:
    """Exact values of the given 0-based ranks of the finite, 1-D, contiguous ``flat``.

    A radix selection: each pass counts the keys per bucket of 16 bits with bincount,
    finds the bucket holding each wanted rank and narrows to it, until a bucket is a
    single key. Integer data with a span under 65536 needs one pass.
    """
    dtype = flat.dtype
    nonneg = dtype.is_floating_point and lo >= 0.0
    if dtype.is_floating_point:
        # +/-1 so that -0.0 and +0.0 (neighbouring keys, equal values) are both in range.
        kmin = _key_of(lo, dtype, nonneg) - 1
        kmax = _key_of(hi, dtype, nonneg) + 1
    else:
        # Straight from the data: int64 values beyond 2**53 do not survive float().
        kmin, kmax = (int(v) for v in torch.aminmax(flat))
    # A group: (filter, kmin, kmax, {rank: rank inside the group}); filter=(shift, prefix)
    # keeps the keys with key >> shift == prefix.
    groups: list[tuple[tuple[int, int] | None, int, int, dict[int, int]]] = [
        (None, kmin, kmax, {r: r for r in ranks})
    ]
    found: dict[int, int] = {}
    while groups:
        plan = []
        for filt, gmin, gmax, _ in groups:
            s = _shift_for(gmin, gmax)
            base = gmin >> s
            plan.append((filt, s, base, (gmax >> s) - base + 1))
        counts = [torch.zeros(n, dtype=torch.int64, device=flat.device) for *_, n in plan]
        for chunk in flat.split(_CHUNK):
            keys = _keys(chunk, nonneg)
            for (filt, s, base, n), count in zip(plan, counts, strict=True):
                k = keys if filt is None else keys[(keys >> filt[0]) == filt[1]]
                count += torch.bincount((k >> s) - base, minlength=n)
        following: dict[tuple[int, int], tuple[int, int, dict[int, int]]] = {}
        for (_, gmin, gmax, rank_map), (_, s, base, _n), count in zip(
            groups, plan, counts, strict=True
        ):
            cum = np.cumsum(count.cpu().numpy())
            for rank, local in rank_map.items():
                b = int(np.searchsorted(cum, local, side="right"))
                before = int(cum[b - 1]) if b else 0
                if s == 0:
                    found[rank] = base + b
                    continue
                prefix = base + b
                key = (s, prefix)
                if key not in following:
                    following[key] = (
                        max(gmin, prefix << s),
                        min(gmax, ((prefix + 1) << s) - 1),
                        {},
                    )
                following[key][2][rank] = local - before
        groups = [(f, a, b, m) for f, (a, b, m) in following.items()]
    return {rank: _value_of(key, dtype) for rank, key in found.items()}


# -------------------------------------------------------------------------- variants


def _ranks(n: int) -> tuple[list[float], list[int]]:
    positions = [q / 100 * (n - 1) for q in QS]
    ranks = sorted({r for p in positions for r in (math.floor(p), min(math.floor(p) + 1, n - 1))})
    return positions, ranks


def _interpolate(positions: list[float], values: dict[int, float], n: int) -> tuple[float, ...]:
    out = []
    for p in positions:
        i = math.floor(p)
        a, b, t = values[i], values[min(i + 1, n - 1)], p - i
        out.append(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t)
    return tuple(out)


def radix(x: torch.Tensor) -> tuple[float, ...]:
    flat = x.reshape(-1)
    lo, hi = (float(v) for v in torch.aminmax(flat))
    positions, ranks = _ranks(flat.numel())
    values = _order_statistics(flat.contiguous(), ranks, lo, hi)
    return _interpolate(positions, values, flat.numel())


def ours(x: torch.Tensor) -> tuple[float, ...]:
    return percentiles(x, QS)


def np_percentile(x: torch.Tensor) -> tuple[float, ...]:
    return tuple(float(v) for v in np.percentile(x.numpy(), QS))


def np_partition(x: torch.Tensor) -> tuple[float, ...]:
    flat = x.numpy().reshape(-1)
    positions, ranks = _ranks(flat.size)
    part = np.partition(flat, ranks)
    return _interpolate(positions, {r: float(part[r]) for r in ranks}, flat.size)


def torch_quantile(x: torch.Tensor) -> tuple[float, ...]:
    q = torch.tensor([q / 100 for q in QS], dtype=torch.float64)
    return tuple(float(v) for v in torch.quantile(x.reshape(-1).double(), q))


def torch_kthvalue(x: torch.Tensor) -> tuple[float, ...]:
    flat = x.reshape(-1)
    positions, ranks = _ranks(flat.numel())
    values = {r: float(torch.kthvalue(flat, r + 1).values) for r in ranks}
    return _interpolate(positions, values, flat.numel())


VARIANTS: dict[str, Callable[[torch.Tensor], tuple[float, ...]]] = {
    "radix": radix,
    "percentiles": ours,
    "np.percentile": np_percentile,
    "np.partition": np_partition,
    "torch.quantile": torch_quantile,
    "torch.kthvalue": torch_kthvalue,
}
BASELINE = "np.percentile"


def child(variant: str, dtype: str) -> None:
    measure_child(VARIANTS[variant], dtype)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "DTYPE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"percentiles {QS} of a 60x512x512 volume ({60 * 512 * 512 / 1e6:.1f} M values)")
    print(
        f"torch {torch.__version__}, numpy {np.__version__}, {torch.get_num_threads()} threads, "
        f"{args.repeats} rounds (medians)"
    )
    for dtype in ("int16", "float32"):
        x = mr_like(dtype)
        reference = tuple(float(v) for v in np.percentile(x.numpy().astype(np.float64), QS))
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        results = {name: fn(x) for name, fn in VARIANTS.items()}  # warm-up
        for _ in range(args.repeats):
            for name, fn in VARIANTS.items():
                t0 = time.perf_counter()
                fn(x)
                times[name].append(time.perf_counter() - t0)
        med = {name: statistics.median(ts) * 1000 for name, ts in times.items()}
        print(f"\n== {dtype} ==")
        print(f"{'variant':<16}{'time ms':>9}{'x base':>8}{'peak MB':>9}{'x base':>8}  exact")
        peaks = {name: peak_growth_mb(name, dtype, script=__file__) for name in VARIANTS}
        for name in VARIANTS:
            growth, slack = peaks[name]
            print(
                f"{name:<16}{med[name]:>9.1f}{med[name] / med[BASELINE]:>8.2f}"
                f"{growth:>9.1f}{growth / max(peaks[BASELINE][0], 0.1):>8.2f}  "
                f"{results[name] == reference}  (slack {slack:.1f} MB)"
            )


if __name__ == "__main__":
    main()
