"""The kernel side of the SliceViewer on a 60x512x512 int16 volume, against matplotlib.

- **Live frames**: building a viewer renders every frame once (grey levels through the
  lookup table, PNG) and makes its widgets; a new window renders every frame again. The
  time per frame of the latter against what an ``@interact``-decorated
  function usually does per frame (a new matplotlib figure, ``imshow``, ``savefig`` to
  PNG, ``plt.close``), measured in the same run. Target: <= 0.1x the baseline.
- **Saved render**: the time ``viewer.to_html()`` takes (target <= 1 s) and its size
  against ``FuncAnimation(...).to_jshtml()`` of the same frames at figsize 6x6, dpi 100
  (target <= 0.35x).

The browser side (key press to new slice, with the kernel busy) is measured by
``benchmarks/bench_viewer_browser.py``. Run with::

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

from eda_helpers.viewer import SliceViewer

SLICES, ROWS, COLS = 60, 512, 512
TARGET_RATIO = 0.1
TARGET_HTML_S = 1.0
TARGET_SIZE_RATIO = 0.35


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


def jshtml_size(pixels: torch.Tensor, lo: float, hi: float) -> tuple[int, float]:
    """Bytes and seconds of matplotlib's to_jshtml for the frames, figsize 6x6, dpi 100."""
    from matplotlib import animation

    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ax.set_axis_off()
    image = ax.imshow(pixels[0].numpy(), cmap="gray", vmin=lo, vmax=hi)

    def step(i: int):
        image.set_data(pixels[i].numpy())
        return (image,)

    anim = animation.FuncAnimation(fig, step, frames=len(pixels), interval=100)
    t0 = time.perf_counter()
    text = anim.to_jshtml(default_mode="once")
    seconds = time.perf_counter() - t0
    plt.close(fig)
    return len(text.encode()), seconds


def main() -> int:
    pixels = phantom()
    lo, hi = 0.0, 3000.0
    t0 = time.perf_counter()
    viewer = SliceViewer(pixels, index=SLICES // 2, window=(lo, hi))
    build = time.perf_counter() - t0
    per_frame = build * 1e3 / SLICES
    t0 = time.perf_counter()
    viewer.window = (100.0, 2500.0)
    rewindow = time.perf_counter() - t0
    viewer.window = (lo, hi)

    # Baseline: interact-style matplotlib frame, over a spread of slices.
    interact_frame(pixels, 0, lo, hi)  # warm up matplotlib's caches and font loading
    base = []
    for i in range(0, SLICES, 3):
        t0 = time.perf_counter()
        interact_frame(pixels, i, lo, hi)
        base.append((time.perf_counter() - t0) * 1e3)
    base_med = statistics.median(base)

    viewer.to_html()  # warm up
    html_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        html = viewer.to_html()
        html_times.append(time.perf_counter() - t0)
    html_s = statistics.median(html_times)
    html_size = len(html.encode())
    js_size, js_s = jshtml_size(pixels, lo, hi)
    viewer.close()

    render = rewindow * 1e3 / SLICES  # a new window renders every frame again
    ratio = render / base_med
    size_ratio = html_size / js_size
    ok = ratio <= TARGET_RATIO and html_s <= TARGET_HTML_S and size_ratio <= TARGET_SIZE_RATIO
    print(
        f"eda_helpers SliceViewer benchmark ({platform.python_implementation()} "
        f"{platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads, {platform.machine()})"
    )
    print(f"volume: {SLICES}x{ROWS}x{COLS} int16, window ({lo:g}, {hi:g})")
    print(
        f"live: building the viewer (every frame rendered): {build * 1e3:.0f} ms, "
        f"{per_frame:.2f} ms per slice with its widgets; a new window re-renders every "
        f"frame: {rewindow * 1e3:.0f} ms, {render:.2f} ms per frame"
    )
    print(f"baseline interact-style matplotlib frame: median {base_med:.1f} ms")
    print(f"ratio render per frame / baseline: {ratio:.3f} (target <= {TARGET_RATIO})")
    print(
        f"saved: to_html {html_s * 1e3:.0f} ms (target <= {TARGET_HTML_S * 1e3:.0f} ms), "
        f"{html_size / 2**20:.2f} MiB; to_jshtml {js_size / 2**20:.2f} MiB "
        f"({js_s:.1f} s); size ratio {size_ratio:.3f} (target <= {TARGET_SIZE_RATIO})"
    )
    print(f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
