"""How long the SliceViewer takes to show a new slice, against an interact-style frame.

Kernel-side time from ``viewer.slider.value = i`` to ``viewer.image.value`` holding the new
PNG (the slider's observer renders and encodes the slice), median over the slices of a
60x512x512 int16 volume: first with an empty cache (every slice visited for the first
time), then warm. The baseline, measured in the same run, is what a
``@interact``-decorated function usually does per frame: a new matplotlib figure,
``imshow``, ``savefig`` to PNG in memory, ``plt.close``.

Targets: cold median <= 5 ms and <= 0.1x the baseline. Run with::

    python benchmarks/bench_viewer.py
"""

from __future__ import annotations

import io
import platform
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch

from eda_helpers.viewer import SliceViewer, encode_png, render_slice

SLICES, ROWS, COLS = 60, 512, 512
TARGET_MS = 5.0
TARGET_RATIO = 0.1


def phantom(seed: int = 0) -> torch.Tensor:
    """A 12-bit MR-like volume: a bright ellipse with texture and noise on black air."""
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(
        np.linspace(-1, 1, SLICES),
        np.linspace(-1, 1, ROWS),
        np.linspace(-1, 1, COLS),
        indexing="ij",
    )
    body = (x / 0.8) ** 2 + (y / 0.9) ** 2 + (z / 1.2) ** 2 < 1
    tissue = 1200 + 500 * np.sin(9 * x + 3 * z) * np.cos(7 * y) + 900 * np.exp(-(x**2) * 40)
    vol = np.where(body, tissue, 0.0) + rng.normal(0, 25, body.shape) * (0.3 + body)
    return torch.from_numpy(np.clip(vol, 0, 4095).astype(np.int16))


def interact_frame(pixels: torch.Tensor, i: int, lo: float, hi: float) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(pixels[i].numpy(), cmap="gray", vmin=lo, vmax=hi)
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def time_visits(viewer: SliceViewer, order: list[int]) -> list[float]:
    out = []
    for i in order:
        before = viewer.image.value
        t0 = time.perf_counter()
        viewer.slider.value = i
        t1 = time.perf_counter()
        assert viewer.image.value is not before
        out.append((t1 - t0) * 1e3)
    return out


def median_ms(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main() -> int:
    pixels = phantom()
    viewer = SliceViewer(pixels, index=0, window=(0.0, 3000.0))
    lo, hi = viewer.window

    # Cold: empty cache, every slice visited once (0 last, since the viewer starts there).
    viewer.clear_cache()
    encodes_before = viewer.cache_info().encodes
    order = [*range(1, SLICES), 0]
    cold = time_visits(viewer, order)
    encodes_cold = viewer.cache_info().encodes - encodes_before
    # Warm: the same visits again, all from the cache.
    warm = time_visits(viewer, order)
    info = viewer.cache_info()

    # Pieces of a cold frame, for the record.
    s = pixels[SLICES // 2]
    grey = render_slice(s, lo, hi)
    t_map = median_ms(lambda: render_slice(s, lo, hi), 30)
    t_png = median_ms(lambda: encode_png(grey), 30)
    png_size = len(encode_png(grey))

    from PIL import Image

    def pillow_png() -> bytes:
        buf = io.BytesIO()
        Image.fromarray(grey).save(buf, format="PNG", compress_level=1)
        return buf.getvalue()

    t_pil = median_ms(pillow_png, 30)
    pil_size = len(pillow_png())

    # Baseline: interact-style matplotlib frame, over a spread of slices.
    base_slices = list(range(0, SLICES, 3))
    interact_frame(pixels, 0, lo, hi)  # warm up matplotlib's caches and font loading
    base = []
    for i in base_slices:
        t0 = time.perf_counter()
        interact_frame(pixels, i, lo, hi)
        base.append((time.perf_counter() - t0) * 1e3)
    viewer.close()

    cold_med, warm_med, base_med = map(statistics.median, (cold, warm, base))
    ratio = cold_med / base_med
    ok = cold_med <= TARGET_MS and ratio <= TARGET_RATIO

    print(
        f"eda_helpers SliceViewer benchmark ({platform.python_implementation()} "
        f"{platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads, {platform.machine()})"
    )
    print(f"volume: {SLICES}x{ROWS}x{COLS} int16, window ({lo:g}, {hi:g})")
    print(
        f"slider -> image, cold (empty cache): median {cold_med:.2f} ms, "
        f"p90 {np.percentile(cold, 90):.2f} ms, max {max(cold):.2f} ms "
        f"over {len(cold)} slices ({encodes_cold} PNG encodes)"
    )
    print(
        f"slider -> image, warm (cached):      median {warm_med:.3f} ms "
        f"(cache: {info.hits} hits, {info.frames} frames, {info.nbytes / 2**20:.1f} MiB)"
    )
    print(
        f"  of which: LUT mapping {t_map:.2f} ms, PNG encode {t_png:.2f} ms "
        f"({png_size / 1024:.0f} KiB); Pillow compress_level=1: {t_pil:.2f} ms "
        f"({pil_size / 1024:.0f} KiB)"
    )
    print(
        f"baseline interact-style matplotlib frame: median {base_med:.1f} ms "
        f"over {len(base)} slices"
    )
    print(
        f"ratio cold / baseline: {ratio:.3f} (target <= {TARGET_RATIO}); "
        f"warm / baseline: {warm_med / base_med:.4f}; "
        f"speed-up cold {base_med / cold_med:.0f}x, warm {base_med / warm_med:.0f}x"
    )
    print(
        f"{'PASS' if ok else 'FAIL'}: cold median {cold_med:.2f} ms "
        f"{'<=' if cold_med <= TARGET_MS else '>'} {TARGET_MS} ms, ratio {ratio:.3f} "
        f"{'<=' if ratio <= TARGET_RATIO else '>'} {TARGET_RATIO}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
