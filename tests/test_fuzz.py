"""A seeded mutation test: damaged copies of real files give only documented outcomes.

Copies of sample files (RLE, as the competition's), of pydicom's real files (native
CT and MR, RLE, big-endian, implicit VR), of a small enhanced MR file and of a
small Siemens MOSAIC (cut from nibabel's real one) are damaged at random (bits
flipped in the header or the pixel data, bytes overwritten, the file cut short, a
chunk deleted or repeated) and read. The only outcomes allowed are those the reader
documents:

- a Volume (notes and warnings allowed) whose tensor has the declared shape;
- a :class:`~eda_helpers.SeriesError` that names the file;

and :func:`~eda_helpers.io.read_headers` never raises. Anything else (a dependency's
exception, a BaseException other than KeyboardInterrupt, a read that takes
seconds) fails the test, listing the mutants that escaped.

The default run is small (``EDA_HELPERS_FUZZ_MUTANTS``, 300 mutants) so the suite
stays fast; ``EDA_HELPERS_FUZZ_MUTANTS=5000 pytest tests/test_fuzz.py -s`` runs a
longer campaign and prints the outcomes by class.
"""

from __future__ import annotations

import collections
import dataclasses
import faulthandler
import os
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file

from eda_helpers import SeriesError, Volume, read_series
from eda_helpers.io import read_headers

N_MUTANTS = int(os.environ.get("EDA_HELPERS_FUZZ_MUTANTS", "300"))
SEED = int(os.environ.get("EDA_HELPERS_FUZZ_SEED", "20261201"))
SLOW_SECONDS = 5.0

PYDICOM_FILES = (
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_RLE.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_implicit.dcm",
)


def _seeds(sample_root: Path, folder: Path) -> list[tuple[str, bytes]]:
    series = sorted((sample_root / "train_images").glob("*/*"))
    sample = [sorted(s.iterdir(), key=lambda p: int(p.stem))[0] for s in series[:2]]
    real = [Path(get_testdata_file(name)) for name in PYDICOM_FILES]
    return [(p.name, p.read_bytes()) for p in (*sample, *real, *_multi_slice_files(folder))]


def _multi_slice_files(folder: Path) -> list[Path]:
    """A small enhanced MR file and a small MOSAIC cut from nibabel's real one."""
    try:
        from test_io_formats import AXIAL, NIBABEL_DATA, write_enhanced
    except pytest.skip.Exception:  # nibabel is not installed
        return []
    import gzip

    import pydicom

    rng = np.random.default_rng(SEED)
    frames = rng.integers(0, 4096, (3, 12, 10), dtype=np.uint16)
    positions = [(0.0, 0.0, 2.5 * k) for k in (2, 0, 1)]
    enhanced = write_enhanced(folder / "enhanced.dcm", frames, positions, [AXIAL] * 3)
    ds = pydicom.dcmread(gzip.open(NIBABEL_DATA / "siemens_dwi_1000.dcm.gz"))
    ds.Rows = ds.Columns = 64  # 4 x 4 tiles of 16 x 16
    ds[0x0019, 0x100A].value = 16
    ds.PixelData = rng.integers(0, 4096, (64, 64), dtype=np.uint16).tobytes()
    mosaic = folder / "mosaic.dcm"
    ds.save_as(mosaic)
    return [enhanced, mosaic]


def _pixel_start(data: bytes) -> int:
    at = data.rfind(b"\xe0\x7f\x10\x00")
    return at if at > 0 else len(data) // 2


def mutate(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """One damaged copy of ``data`` and the name of the damage."""
    out = bytearray(data)
    pixels = _pixel_start(data)
    kind = str(
        rng.choice(
            ["header-bit", "header-byte", "pixel-bit", "pixel-byte", "cut", "delete", "repeat"],
            p=[0.25, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05],
        )
    )
    if kind in ("header-bit", "header-byte"):
        lo, hi = 128, max(pixels + 12, 129)
    else:
        lo, hi = min(pixels, len(data) - 1), len(data)
    for _ in range(int(rng.integers(1, 4))):
        pos = int(rng.integers(lo, hi))
        if kind.endswith("bit"):
            out[pos] ^= 1 << int(rng.integers(8))
        elif kind.endswith("byte"):
            out[pos] = int(rng.choice([0x00, 0xFF, 0x7F, 0x80, int(rng.integers(256))]))
    if kind == "cut":
        out = out[: int(rng.integers(0, len(out)))]
    elif kind in ("delete", "repeat"):
        pos = int(rng.integers(128, len(out)))
        size = int(rng.integers(1, 64))
        chunk = out[pos : pos + size]
        out = out[:pos] + (chunk + chunk if kind == "repeat" else b"") + out[pos + size :]
    return kind, bytes(out)


def _classify(path: Path) -> tuple[str, float]:
    """Read one file; the outcome class, or raise AssertionError for an escape."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stacks, unreadable = read_headers([path])  # must never raise
        assert sum(map(len, stacks)) > 0 or unreadable, "read_headers lost the file"
        try:
            vol = read_series(path)
        except SeriesError as exc:
            text = str(exc)
            assert path.name in text or text.startswith(str(path)), f"unnamed: {text}"
            damaged = "damaged" in text or "cannot decode" in text
            outcome = "SeriesError (damaged)" if damaged else "SeriesError (refused)"
        else:
            assert isinstance(vol, Volume)
            assert vol.pixels.ndim == 3 and vol.pixels.numel() > 0
            ours = [w for w in caught if "eda_helpers" in str(w.filename) or w.filename == __file__]
            outcome = "Volume with notes" if vol.notes or ours else "Volume"
    return outcome, time.perf_counter() - start


def test_damaged_copies_give_only_documented_outcomes(tmp_path, sample_root):
    seeds = _seeds(sample_root, tmp_path)
    rng = np.random.default_rng(SEED)
    outcomes: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[tuple[str, str]] = collections.Counter()
    escaped: list[str] = []
    slowest = 0.0
    faulthandler.dump_traceback_later(600, exit=True)  # a hang ends the run with a trace
    try:
        for i in range(N_MUTANTS):
            name, data = seeds[i % len(seeds)]
            kind, damaged = mutate(data, rng)
            path = tmp_path / f"m{i}_{name}"
            path.write_bytes(damaged)
            try:
                outcome, seconds = _classify(path)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # an escape: record it, keep going
                escaped.append(f"{path.name} ({kind}): {type(exc).__name__}: {exc}"[:300])
                outcome, seconds = "ESCAPED", 0.0
            else:
                path.unlink()
            outcomes[outcome] += 1
            kinds[kind, outcome] += 1
            slowest = max(slowest, seconds)
    finally:
        faulthandler.cancel_dump_traceback_later()
    print(f"\n{N_MUTANTS} mutants (seed {SEED}), slowest read {slowest:.2f} s")
    for outcome, count in outcomes.most_common():
        by_kind = ", ".join(f"{k} {c}" for (k, o), c in sorted(kinds.items()) if o == outcome)
        print(f"  {outcome:<24}{count:>6}   ({by_kind})")
    assert not escaped, f"{len(escaped)} mutants escaped:\n" + "\n".join(escaped[:20])
    assert slowest < SLOW_SECONDS
    assert outcomes["Volume"] + outcomes["Volume with notes"] > 0, "every mutant refused?"
    assert outcomes["SeriesError (damaged)"] > 0, "no mutant refused as damaged?"


def test_a_damaged_file_in_a_series_is_skipped_or_refused(tmp_path, sample_root):
    """The same damage inside a series folder: a Volume a slice short, or an error."""
    series = sorted((sample_root / "train_images").glob("*/*"))[0]
    rng = np.random.default_rng(SEED + 1)
    files = sorted(series.iterdir(), key=lambda p: int(p.stem))
    for i in range(20):
        folder = tmp_path / f"s{i}"
        shutil.copytree(series, folder)
        victim = folder / files[int(rng.integers(len(files)))].name
        _, damaged = mutate(victim.read_bytes(), rng)
        victim.write_bytes(damaged)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                vol = read_series(folder)
            except SeriesError as exc:
                assert victim.name in str(exc) or str(folder) in str(exc), str(exc)
                continue
        skipped = [n for n in vol.notes if n.startswith("damaged file skipped")]
        if skipped:
            assert len(vol) == len(files) - 1 and victim not in vol.files
            assert any("on_damaged='error'" in str(w.message) for w in caught)
            with pytest.raises(SeriesError, match=victim.name):
                read_series(folder, on_damaged="error")
        else:
            messages = [str(w.message) for w in caught]
            assert len(vol) == len(files), (victim.name, vol.notes, messages)


def _header_outcome(path: Path, fresh: bool) -> object:
    """read_header of one file as comparable values, or its error; ``fresh`` walks
    the header without the previous file's layout."""
    from eda_helpers import _header

    if fresh:
        _header._last_layout = None
        _header._last_made = None
    try:
        found = _header.read_header(path)
    except SeriesError as exc:
        return type(exc).__name__, str(exc)
    if isinstance(found, str):
        return found
    return [dataclasses.astuple(h) for h in found]


def _series_in_both_encodings(folder: Path) -> list[Path]:
    """Files of one series written in implicit and in explicit VR, whose values change
    length from file to file (position, instance number, window)."""
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
    from test_io import make_mr

    rng = np.random.default_rng(SEED)
    files = []
    for syntax in (ImplicitVRLittleEndian, ExplicitVRLittleEndian):
        for k in range(12):
            files.append(
                make_mr(
                    folder / f"{syntax.name[:8]}_{k}.dcm",
                    rng.integers(0, 4096, (6, 5), dtype=np.uint16),
                    instance=1 + 5 * k,
                    position=(-12.5, 3.25 * k, round(float(rng.normal(0, 40)), int(k % 5))),
                    transfer_syntax=syntax,
                    WindowCenter=str(10**k),
                    WindowWidth="400",
                )
            )
    return files


def test_a_header_longer_than_the_bytes_a_layout_reads_is_walked(tmp_path):
    """Through a layout the reader takes its header's bytes and a margin; a file laid
    out alike whose values run past that is walked, reading on, as if fresh."""
    from test_io import make_mr

    from eda_helpers import _header

    rng = np.random.default_rng(SEED)
    files = [
        make_mr(
            tmp_path / f"{k}.dcm",
            rng.integers(0, 4096, (6, 5), dtype=np.uint16),
            instance=k + 1,
            ImageComments="x" * n,
        )
        for k, n in enumerate((2, 4, 4 + 2 * _header._LAYOUT_MARGIN, 6))
    ]
    _header._last_layout = _header._last_made = None
    through = [_header_outcome(f, fresh=False) for f in files]
    assert through == [_header_outcome(f, fresh=True) for f in files]
    assert [h[0][5] for h in through] == [1, 2, 3, 4]  # SliceHeader.instance


def test_a_header_over_64_kb_goes_to_pydicom_even_after_a_short_one(tmp_path, monkeypatch):
    """Headers longer than _FAST_CHUNK are pydicom's, whatever layout the file before
    left: the first read through a layout never runs past that bound."""
    from test_io import make_mr

    from eda_helpers import _header

    rng = np.random.default_rng(SEED)

    def write(name: str, n: int) -> Path:
        pixels = rng.integers(0, 4096, (6, 5), dtype=np.uint16)
        return make_mr(tmp_path / name, pixels, TextValue="x" * n)  # UT: no length limit

    probe = write("probe.dcm", 0)
    rest = probe.stat().st_size - 60  # the header without the text (60 bytes of pixels)
    # Headers 300 bytes each side of the bound: the second within the margin that a
    # read through the first one's layout takes.
    files = [write(f"{k}.dcm", _header._FAST_CHUNK - rest + d) for k, d in enumerate((-300, 300))]
    assert 600 < _header._LAYOUT_MARGIN
    seen = []
    original = _header._scan_pydicom
    monkeypatch.setattr(_header, "_scan_pydicom", lambda p: seen.append(p) or original(p))
    _header._last_layout = _header._last_made = None
    through = [_header_outcome(f, fresh=False) for f in files]
    assert seen == [files[1]]
    assert through == [_header_outcome(f, fresh=True) for f in files]


def test_reading_through_the_previous_layout_equals_a_fresh_walk(tmp_path, sample_root):
    """The fast reader skips the walk of a header laid out like the previous one; it
    must give what walking it gives, for sound series and for damaged copies read
    right after their sound original (the layout then almost matches)."""
    from eda_helpers import _header

    calls = {"_parse_header": 0, "_make_header": 0}
    originals = {name: getattr(_header, name) for name in calls}

    def counting(name: str) -> object:
        def count(*args: object, **kwargs: object) -> object:
            calls[name] += 1
            return originals[name](*args, **kwargs)

        return count

    series = sorted((sample_root / "train_images").glob("*/*"))
    files = [f for s in series[:6] for f in sorted(s.iterdir(), key=lambda p: int(p.stem))]
    files += _series_in_both_encodings(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _header._last_layout = _header._last_made = None
        with pytest.MonkeyPatch.context() as patch:
            for name in calls:
                patch.setattr(_header, name, counting(name))
            through = [_header_outcome(f, fresh=False) for f in files]
        assert through == [_header_outcome(f, fresh=True) for f in files]
        # Walked or made anew: the first file of a series, and where a length changes.
        for name, n in calls.items():
            assert n < len(files) // 4, f"{name} ran for {n} of {len(files)} files"

        seeds = _seeds(sample_root, tmp_path)
        rng = np.random.default_rng(SEED + 2)
        for i in range(max(N_MUTANTS, 300)):
            name, data = seeds[i % len(seeds)]
            original_file, mutant = tmp_path / f"o{i}_{name}", tmp_path / f"m{i}_{name}"
            original_file.write_bytes(data)
            kind, damaged = mutate(data, rng)
            mutant.write_bytes(damaged)
            _header._last_layout = _header._last_made = None
            _header_outcome(original_file, fresh=False)  # its layout is the one tried
            assert _header_outcome(mutant, fresh=False) == _header_outcome(mutant, fresh=True), (
                f"{mutant.name} ({kind})"
            )
            original_file.unlink()
            mutant.unlink()
