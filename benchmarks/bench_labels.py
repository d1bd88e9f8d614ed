"""Benchmark: check_labels against scan_dataset, plot_label_crops against the naive way.

Run with ``python benchmarks/bench_labels.py`` (``--studies N``, 40 by default). It
uses the cached sample dataset of ``bench_scan.py`` (written once, about a minute for
40 studies) and times, with the file cache warm, in this one run:

(a) ``scan_dataset(root, max_workers=1)``: the header scan of every series, one process;
(b) ``check_labels(root)``: the label checks, one process (the headers of the labelled
    files only);
(c) the naive crop gallery: for every study, ``read_series`` of the labelled series and
    one matplotlib subplot per crop (``imshow`` of the pixels around the point, titled),
    the figure drawn;
(d) ``plot_label_crops`` for the same condition, level and studies (its findings
    computed by ``check_labels`` inside the call), the figure drawn.

Each pair compared runs in turn (a, b, a, b, ...), the fastest run of each taken
(``bench_scan.interleaved`` says why), the medians shown beside. It prints the times, the
ratios measured in this run and PASS/FAIL against the targets of issue 11 (b at most
0.3x a, d at most 0.5x c). It is a script, not a test; the machine may be busy with other
work, so the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_scan import dataset, interleaved  # the one cached benchmark dataset

from eda_helpers import read_series, rsna

TARGET_CHECK_VS_SCAN = 0.3
TARGET_CROPS_VS_NAIVE = 0.5
CONDITION, LEVEL = "Spinal Canal Stenosis", "L4/L5"
SIZE_MM = 40.0


def naive_crops(root: Path) -> None:
    """The gallery as a notebook writes it: read each series, one subplot per crop."""
    coords = rsna.read_coordinates(root)
    rows = coords[(coords["condition"] == CONDITION) & (coords["level"] == LEVEL)]
    rows = rows.drop_duplicates("study_id")
    n = len(rows)
    cols = 8
    fig, axes = plt.subplots(-(-n // cols), cols, figsize=(cols * 1.3, -(-n // cols) * 1.3))
    for ax, r in zip(axes.flat, rows.itertuples(), strict=False):
        folder = root / "train_images" / str(r.study_id) / str(r.series_id)
        volume = read_series(folder)
        k = volume.instance_numbers.index(int(r.instance_number))
        half = int(SIZE_MM / 2 / volume.spacing[2])
        x, y = int(r.x), int(r.y)
        crop = volume.pixels[k, max(0, y - half) : y + half, max(0, x - half) : x + half]
        ax.imshow(crop.numpy(), cmap="gray")
        ax.set_title(str(r.study_id), fontsize=6)
        ax.set_axis_off()
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    fig.canvas.draw()


def gallery(root: Path) -> None:
    fig = rsna.plot_label_crops(
        root, condition=CONDITION, level=LEVEL, size_mm=SIZE_MM, per_grade=None, progress=False
    )
    fig.canvas.draw()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=40, help="sample studies (default 40)")
    parser.add_argument("--repeat", type=int, default=7, help="runs, in turn (the fastest counts)")
    args = parser.parse_args()

    root = dataset(args.studies)
    files = sum(1 for _ in (root / "train_images").glob("*/*/*.dcm"))
    load = os.getloadavg()
    print(f"dataset: {args.studies} studies, {files} files")
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    # Warm the file cache and the imports once; check what is being timed.
    rsna.scan_dataset(root, max_workers=1, progress=False)
    found = rsna.check_labels(root, progress=False)
    naive_crops(root)
    gallery(root)
    print(f"check_labels: {len(found)} findings, rules {sorted(set(found['rule']))}")

    scan, check = interleaved(
        {
            "scan": lambda: rsna.scan_dataset(root, max_workers=1, progress=False),
            "check": lambda: rsna.check_labels(root, progress=False),
        },
        args.repeat,
    ).values()
    naive, crops = interleaved(
        {"naive": lambda: naive_crops(root), "gallery": lambda: gallery(root)},
        args.repeat,
        after=lambda: plt.close("all"),
    ).values()

    print()
    print(f"fastest of {args.repeat} runs in turn (median):")
    print(f"(a) scan_dataset, one process            {scan.best:8.3f} s  ({scan.median:.3f})")
    print(f"(b) check_labels, one process            {check.best:8.3f} s  ({check.median:.3f})")
    print(f"(c) naive gallery, read_series + subplots {naive.best:7.3f} s  ({naive.median:.3f})")
    print(f"(d) plot_label_crops                     {crops.best:8.3f} s  ({crops.median:.3f})")
    t_scan, t_check, t_naive, t_gallery = scan.best, check.best, naive.best, crops.best
    print()
    ok = True
    for label, ratio, target in [
        ("(b) / (a), check_labels vs scan_dataset", t_check / t_scan, TARGET_CHECK_VS_SCAN),
        ("(d) / (c), plot_label_crops vs naive", t_gallery / t_naive, TARGET_CROPS_VS_NAIVE),
    ]:
        passed = bool(np.isfinite(ratio)) and ratio <= target
        ok &= passed
        print(f"{label}: {ratio:6.3f}x  (target <= {target}x)  {'PASS' if passed else 'FAIL'}")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
