"""Benchmark: the header reader, with and without reading a file through the previous
file's layout, against pydicom.

Run with ``python benchmarks/bench_headers.py`` (``--studies N``, 40 by default). It
uses the cached sample dataset of ``bench_scan.py`` and times, with the file cache
warm, the fastest of several runs in turn (``bench_scan.interleaved``) of reading the
headers of every file, series by series:

(a) ``pydicom.dcmread(f, stop_before_pixels=True)`` per file (the usual notebook code,
    which reads fewer checks and no layout);
(b) :func:`eda_helpers.io.read_headers`, each header walked element by element (the
    layout of the previous file never tried);
(c) :func:`eda_helpers.io.read_headers` as shipped: a file laid out like the previous
    one is read from the same places, its element headers compared in one gather.

It prints the times per file and the ratios measured in this run, and checks that (b)
and (c) gave the same headers. It is a script, not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).parent))
from bench_scan import dataset, interleaved  # the one cached benchmark dataset

from eda_helpers import _header
from eda_helpers.io import read_headers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=40, help="sample studies (default 40)")
    parser.add_argument("--repeat", type=int, default=5, help="runs, in turn (the fastest counts)")
    args = parser.parse_args()
    root = dataset(args.studies)
    series = [sorted(s.iterdir()) for s in sorted((root / "train_images").glob("*/*"))]
    n_files = sum(map(len, series))
    walk_always = _header._Layout.values

    def with_pydicom() -> None:
        for files in series:
            for f in files:
                pydicom.dcmread(f, stop_before_pixels=True)

    def walked() -> list[object]:
        _header._Layout.values = lambda self, buf, size: None  # type: ignore[method-assign]
        try:
            return [read_headers(files) for files in series]
        finally:
            _header._Layout.values = walk_always  # type: ignore[method-assign]

    def shipped() -> list[object]:
        return [read_headers(files) for files in series]

    def as_values(result: list[object]) -> list[object]:
        return [
            ([[dataclasses.astuple(h) for h in s] for s in stacks], bad)
            for stacks, bad in result  # type: ignore[misc]
        ]

    same = as_values(walked()) == as_values(shipped())
    times = interleaved(
        {
            "(a) pydicom dcmread, stop_before_pixels": with_pydicom,
            "(b) read_headers, every header walked": walked,
            "(c) read_headers, through the layout": shipped,
        },
        args.repeat,
    )
    print(f"{len(series)} series, {n_files} files; (b) and (c) agree: {same}")
    for name, t in times.items():
        print(f"{name:<42}{t.best:8.3f} s  {t.best / n_files * 1e6:7.1f} us/file")
    a, b, c = (t.best for t in times.values())
    print(f"(a)/(c): {a / c:5.2f}x   (b)/(c): {b / c:5.2f}x")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
