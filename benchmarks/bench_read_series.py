"""Benchmark: read_series against the naive loop and SimpleITK.

Run with ``python benchmarks/bench_read_series.py``. It writes two synthetic series
(60 slices of 512x512, 16 bits allocated, 12 stored: like the RSNA files), one
uncompressed and one RLE Lossless, into a temporary folder, then times, with the file
cache warm, the median of several repeats of:

(a) the naive loop found in most competition notebooks: files sorted by the number in
    their name, ``dcmread(f).pixel_array.astype(np.float32)`` per file with pydicom's
    own decoders only, and ``torch.stack`` of ``torch.tensor`` copies;
(b) SimpleITK's ``ImageSeriesReader`` (GDCM), a benchmark-only dependency;
(c) :func:`eda_helpers.read_series`, with the fast extra (pylibjpeg-rle) when it is
    installed, and with ``decoding_plugin="pydicom"`` (as if it were not).

It also measures the peak memory that one ``read_series`` call adds, as the growth of
the resident-set high-water mark of a fresh subprocess, against the bytes of the
returned pixels. It prints ratios measured in this run, with PASS/FAIL against the
targets of issue 3. It is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import torch
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, RLELossless, generate_uid

from eda_helpers import read_series

N_SLICES, SIZE = 60, 512


def write_series(folder: Path, *, rle: bool, seed: int = 0) -> None:
    """60 axial 512x512 slices, 12-bit unsigned, InstanceNumber as the file name."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    blob = 1500 * np.exp(-((yy - 256) ** 2 + (xx - 256) ** 2) / (2 * 120.0**2))
    series, study = generate_uid(), generate_uid()
    for k in range(N_SLICES):
        # Structured image plus noise: RLE compresses it about as badly as real MR.
        img = blob * (1 + 0.3 * np.sin(k / 5)) + rng.normal(0, 40, (SIZE, SIZE)) + 200
        arr = np.clip(img, 0, 4095).astype(np.uint16)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.SeriesDescription = "MR", "Axial T2"
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [-120.0, -120.0, 4.0 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.46875, 0.46875]
        ds.SliceThickness = 4.0
        ds.Rows = ds.Columns = SIZE
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.WindowCenter, ds.WindowWidth = 1000, 2000
        ds.PixelData = arr.tobytes()
        if rle:
            ds.compress(RLELossless, arr)
        ds.save_as(folder / f"{k + 1}.dcm", enforce_file_format=True)


def naive(folder: Path) -> torch.Tensor:
    """The most-copied baseline, with pydicom's own decoders only."""
    files = sorted(folder.glob("*.dcm"), key=lambda p: int(re.sub(r"\D", "", p.stem)))
    slices = []
    for f in files:
        ds = pydicom.dcmread(f)
        ds.pixel_array_options(decoding_plugin="pydicom")
        slices.append(torch.tensor(ds.pixel_array.astype(np.float32)))
    return torch.stack(slices)


def simpleitk(folder: Path) -> np.ndarray:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return sitk.GetArrayFromImage(reader.Execute())


def median_times(readers: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each reader, the readers taking turns in every round.

    Taking turns spreads any change in machine load over all readers alike, so that
    the ratios stay fair on a shared machine.
    """
    for fn in readers.values():
        fn()  # warm the file cache and imports
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(repeats):
        for name, fn in readers.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(v) for name, v in times.items()}


_MEMORY_CHILD = """
import gc, json, sys
from eda_helpers import read_series

def status():
    d = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, value = line.split(":", 1)
            if key in ("VmHWM", "VmRSS"):
                d[key] = int(value.split()[0]) * 1024
    return d

read_series(sys.argv[1], progress=False)  # imports, lazy imports, warm file cache
gc.collect()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the high-water mark to the current RSS (Linux)
before = status()["VmRSS"]
vol = read_series(sys.argv[1], progress=False)
peak = status()["VmHWM"]
pixels = vol.pixels.numel() * vol.pixels.element_size()
print(json.dumps({"added": peak - before, "pixels": pixels}))
"""


def peak_memory(folder: Path) -> tuple[int, int]:
    """(peak bytes added by one read_series call, bytes of the returned pixels)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    d = json.loads(out)
    return d["added"], d["pixels"]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per reader")
    args = parser.parse_args()
    from pydicom.pixels import get_decoder

    have_fast = "pylibjpeg" in get_decoder(RLELossless).available_plugins
    with tempfile.TemporaryDirectory() as tmp:
        raw_dir, rle_dir = Path(tmp) / "raw", Path(tmp) / "rle"
        write_series(raw_dir, rle=False)
        write_series(rle_dir, rle=True)
        # The readers must agree before their speed means anything.
        for folder in (raw_dir, rle_dir):
            ours = read_series(folder, progress=False).pixels
            assert torch.equal(ours.float(), naive(folder)), folder
            assert np.array_equal(ours.numpy(), simpleitk(folder)), folder
        t = {}
        for name, folder in (("raw", raw_dir), ("rle", rle_dir)):
            readers = {
                "naive": lambda f=folder: naive(f),
                "sitk": lambda f=folder: simpleitk(f),
                "ours": lambda f=folder: read_series(f, progress=False),
                "ours_pydicom": lambda f=folder: read_series(
                    f, progress=False, decoding_plugin="pydicom"
                ),
            }
            for reader, seconds in median_times(readers, args.repeats).items():
                t[name, reader] = seconds
        memory = {
            name: peak_memory(folder) for name, folder in (("raw", raw_dir), ("rle", rle_dir))
        }

    ms = {k: v * 1e3 for k, v in t.items()}
    print(
        f"read_series benchmark: {N_SLICES} slices of {SIZE}x{SIZE}, 16 bits allocated "
        f"(12 stored); median of {args.repeats} runs, warm file cache; "
        f"fast extra (pylibjpeg-rle) {'installed' if have_fast else 'NOT installed'}"
    )
    print()
    print(
        f"{'series':<14}{'naive (a)':>11}{'SimpleITK (b)':>15}{'read_series':>13}"
        f"{'read_series':>13}"
    )
    print(f"{'':<14}{'':>11}{'':>15}{'(auto)':>13}{'(pydicom)':>13}")
    for name, label in (("raw", "uncompressed"), ("rle", "RLE Lossless")):
        print(
            f"{label:<14}{ms[name, 'naive']:>9.1f}ms{ms[name, 'sitk']:>13.1f}ms"
            f"{ms[name, 'ours']:>11.1f}ms{ms[name, 'ours_pydicom']:>11.1f}ms"
        )
    print()
    checks = [
        ("uncompressed: read_series vs naive", "raw", "naive", "ours", 3.0),
        ("uncompressed: read_series vs SimpleITK", "raw", "sitk", "ours", 1.0),
        ("RLE, fast extra: read_series vs naive", "rle", "naive", "ours", 6.0),
        ("RLE, fast extra: read_series vs SimpleITK", "rle", "sitk", "ours", 1.0),
        ("RLE, pydicom decoder: read_series vs naive", "rle", "naive", "ours_pydicom", 1.0),
    ]
    print(f"{'check':<45}{'speed-up':>10}{'target':>10}  result")
    for label, name, base, ours, target in checks:
        ratio = t[name, base] / t[name, ours]
        note = "" if have_fast or "fast" not in label else "  (extra missing: not measured)"
        print(
            f"{label:<45}{ratio:>9.2f}x{'>= ' + format(target, 'g') + 'x':>10}  "
            f"{verdict(ratio >= target)}{note}"
        )
    print()
    print(
        f"{'peak memory added by one call':<45}{'added':>10}{'pixels':>10}"
        "  ratio (target <= 1.5 + 1 MiB)"
    )
    for name, label in (("raw", "uncompressed"), ("rle", "RLE Lossless")):
        added, pixels = memory[name]
        ok = added <= 1.5 * pixels + 2**20
        print(
            f"{label:<45}{added / 2**20:>7.1f}MiB{pixels / 2**20:>7.1f}MiB  "
            f"{added / pixels:.2f}  {verdict(ok)}"
        )


if __name__ == "__main__":
    main()
