"""Benchmark: project_labels against reading the same series' pixels with read_stacks.

Run with ``python benchmarks/bench_study.py`` (``--studies N``, 40 by default). It uses
the cached sample dataset of :mod:`bench_scan` (written once, about a minute for 40
studies), warms the file cache, then times, in one process:

(a) baseline: ``read_stacks(folder, duplicates="keep")`` for every series of every study
    (headers and pixels: what placing the labels costs when one reads the Volumes);
(b) ``rsna.project_labels(root, study_id)`` for every study (headers only; each call
    reads the two CSV files);
(c) the same with the tables read once and passed in;
(d) ``rsna.show_study`` for the first studies (``--viewers``, 3 by default): build time
    and HTML size, against (e) reading the same study's series with ``read_stacks``.

Each comparison runs its functions in turn (a, b, c, a, b, c, ...) and takes the
fastest run of each (``bench_scan.interleaved`` says why), the medians shown beside.
It prints the times, the ratios measured in this run, and PASS/FAIL against the targets
of issue 10 ((b) at most 0.2x of (a); a study viewer built in at most 2 s, at most 6 MB
of HTML). It is a script, not a test; the machine may be busy, so the load average is
printed too. How fast the saved page reacts (a key or a click: every pane within one
16 ms frame) is measured in chromium by ``tests/test_study.py -m browser -s``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_scan import dataset, interleaved

from eda_helpers import read_stacks, rsna

TARGET = 0.2
VIEWER_SECONDS = 2.0
VIEWER_BYTES = 6 * 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=40, help="sample studies (default 40)")
    parser.add_argument("--repeat", type=int, default=7, help="runs, in turn (the fastest counts)")
    parser.add_argument("--viewers", type=int, default=3, help="studies for show_study")
    args = parser.parse_args()

    root = dataset(args.studies)
    # The sample's planted label errors (a label on no slice) warn on every call; they
    # are the data, not the measurement.
    warnings.filterwarnings("ignore", message=r"study \d+ in .* on no single slice")
    descriptions = rsna.read_descriptions(root)
    coordinates = rsna.read_coordinates(root)
    studies = list(dict.fromkeys(descriptions["study_id"]))
    folders = [
        root / "train_images" / str(s) / str(r)
        for s, r in zip(descriptions["study_id"], descriptions["series_id"], strict=True)
    ]
    load = os.getloadavg()
    print(f"dataset: {len(studies)} studies, {len(folders)} series")
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    def baseline() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the sample's quirks warn on purpose
            for f in folders:
                read_stacks(f, duplicates="keep", progress=False)

    def projected() -> None:
        for s in studies:
            rsna.project_labels(root, s)

    def projected_tables() -> None:
        for s in studies:
            rsna.project_labels(root, s, coordinates=coordinates, descriptions=descriptions)

    baseline()  # warm the file cache and the imports
    projected()
    rows = sum(
        len(rsna.project_labels(root, s, coordinates=coordinates, descriptions=descriptions))
        for s in studies
    )
    a, b, c = interleaved(
        {"a": baseline, "b": projected, "c": projected_tables}, args.repeat
    ).values()
    print(f"fastest of {args.repeat} runs in turn (median):")
    print(f"(a) read_stacks, every series          {a.best:8.3f} s  ({a.median:.3f})")
    print(f"(b) project_labels, every study         {b.best:8.3f} s  ({b.median:.3f}; {rows} rows)")
    print(f"(c) project_labels, tables passed in    {c.best:8.3f} s  ({c.median:.3f})")
    ok = b.best / a.best <= TARGET
    print(
        f"(b)/(a): {b.best / a.best:6.3f}x  (target <= {TARGET}x)  {'PASS' if ok else 'FAIL'};"
        f" of the medians {b.median / a.median:6.3f}x"
    )
    print(f"(c)/(a): {c.best / a.best:6.3f}x  (information)")
    print()
    for s in studies[: args.viewers]:
        series = [f for f in folders if f.parent.name == str(s)]

        def read_study(series: list[Path] = series) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for f in series:
                    read_stacks(f, duplicates="keep", progress=False)

        def build(s: int = s) -> int:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return len(rsna.show_study(root, s).to_html())

        size = build()
        t_d, t_e = (
            t.best for t in interleaved({"d": build, "e": read_study}, args.repeat).values()
        )
        fits = t_d <= VIEWER_SECONDS and size <= VIEWER_BYTES
        ok &= fits
        print(
            f"(d) show_study {s}: {t_d:6.3f} s, {size / 2**20:5.2f} MB "
            f"(targets <= {VIEWER_SECONDS} s, <= {VIEWER_BYTES / 2**20:.0f} MB)  "
            f"{'PASS' if fits else 'FAIL'}; (e) read_stacks of its series {t_e:6.3f} s, "
            f"(d)/(e) {t_d / t_e:5.2f}x"
        )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
