"""Damaged input: each finding of the mutation fuzzer, reproduced and answered.

Every damaged file must give a :class:`SeriesError` naming the file (and the tag and
the rule), or a documented warning and a note on the Volume, never a dependency's
exception, a silent default or a hang.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from pydicom.encaps import get_frame
from pydicom.uid import RLELossless
from test_io import write_stack

from eda_helpers import SeriesError, io, read_series, read_stacks
from eda_helpers._header import read_header
from eda_helpers.io import read_headers


def _patch(path: Path, old: bytes, new: bytes) -> None:
    """Replace a unique byte string of a file by one of the same length."""
    data = path.read_bytes()
    assert data.count(old) == 1 and len(old) == len(new), (old, new)
    path.write_bytes(data.replace(old, new))


def _series(folder: Path, rng: np.random.Generator, n: int = 3, **tags: object) -> list[Path]:
    write_stack(folder, rng, [3.0 * k for k in range(n)], **tags)
    return sorted(folder.iterdir())


# --------------------------------------------------------------------------- 1: decoder panics


def _panicking_flip(path: Path) -> bytes:
    """A copy of an RLE file with one bit flipped where pylibjpeg-rle panics.

    Searched with a seeded generator, so the test finds it on any version of the
    decoder that panics at all; the decoder's BaseException is checked, not assumed.
    """
    from rle.utils import decode_pixel_data

    (h,) = read_header(path)
    data = path.read_bytes()
    rng = np.random.default_rng(7)
    for _ in range(2000):
        pos = int(rng.integers(h.value_offset + 16, len(data)))
        damaged = bytearray(data)
        damaged[pos] ^= 1 << int(rng.integers(8))
        frame = get_frame(bytes(damaged[h.value_offset :]), 0, number_of_frames=1)
        try:
            decode_pixel_data(frame, version=2, rows=h.rows, columns=h.cols, bits_allocated=16)
        except Exception:
            continue
        except BaseException as exc:  # the panic under test
            assert type(exc).__name__ == "PanicException"
            return bytes(damaged)
    pytest.skip("this pylibjpeg-rle does not panic on a flipped bit")


def test_decoder_panic_becomes_a_series_error(tmp_path, sample_root):
    pytest.importorskip("rle")
    series = sorted((sample_root / "train_images").glob("*/*"))[0]
    files = sorted(series.iterdir())
    for f in files:
        (tmp_path / f.name).write_bytes(f.read_bytes())
    victim = tmp_path / files[0].name
    victim.write_bytes(_panicking_flip(victim))

    with pytest.raises(
        SeriesError,
        match=rf"{victim.name}: cannot decode its RLE Lossless pixel data with pylibjpeg "
        r"\(PanicException: .*decoding_plugin='pydicom' may still read it",
    ):
        read_series(tmp_path, on_damaged="error")
    with pytest.warns(UserWarning) as record:  # the missing slice may also leave a gap
        vol = read_series(tmp_path)
    assert any(f"skipped 1 damaged file(s): {victim.name}" in str(r.message) for r in record)
    assert len(vol) == len(files) - 1 and victim not in vol.files


def test_keyboard_interrupt_in_a_decoder_is_not_swallowed(tmp_path, rng, monkeypatch):
    write_stack(tmp_path, rng, [0.0, 3.0], transfer_syntax=RLELossless)

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(io, "_decode_frame", interrupted)
    with pytest.raises(KeyboardInterrupt):
        read_series(tmp_path)


# --------------------------------------------------------------------------- 2: pydicom's errors


def test_unknown_vr_in_a_tag_read_names_the_tag(tmp_path, rng):
    (path, *_) = _series(tmp_path, rng, 2, RescaleSlope="1.000000")
    _patch(path, b"DS\x08\x001.000000", b"QQ\x08\x001.000000")
    with pytest.raises(SeriesError, match=r"1\.dcm: .*\(0028,1053\) RescaleSlope cannot be read"):
        read_series(tmp_path, on_damaged="error")
    stacks, bad = read_headers(sorted(tmp_path.iterdir()))
    assert [len(s) for s in stacks] == [1] and "RescaleSlope cannot be read" in bad[0][1]


@pytest.mark.parametrize("vr", [b"SS", b"US", b"FD", b"AT", b"SQ"])
def test_transfer_syntax_of_the_wrong_vr(tmp_path, rng, vr):
    from eda_helpers._header import _scan_pydicom

    (path, *_) = _series(tmp_path, rng, 2)
    data = path.read_bytes()
    at = data.index(b"\x02\x00\x10\x00UI")
    path.write_bytes(data[: at + 4] + vr + data[at + 6 :])
    with (
        warnings.catch_warnings(),  # pydicom's own complaints about the value
        pytest.raises(SeriesError, match=r"1\.dcm: .*\(0002,0010\).*(not UI|VR 'FD')"),
    ):
        warnings.simplefilter("ignore")
        _scan_pydicom(path)  # the reader pydicom's exceptions came from
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # the quick reader takes the UID from the bytes, whatever the VR says
            vol = read_series(tmp_path, on_damaged="error")
        except SeriesError as exc:
            assert "1.dcm" in str(exc)
        else:
            assert len(vol) == 2


# --------------------------------------------------------------------------- 3: orientation


@pytest.mark.parametrize("iop", ["0\\0\\0\\0\\0\\0", "1\\0\\0\\1\\0\\0"], ids=["zero", "parallel"])
def test_degenerate_orientation_names_the_file(tmp_path, rng, iop):
    files = _series(tmp_path, rng, 4, orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0))
    for f in files:
        data = f.read_bytes()
        at = data.index(b"\x20\x00\x37\x00DS")
        n = int.from_bytes(data[at + 6 : at + 8], "little")
        value = iop.encode().ljust(n, b" ")
        f.write_bytes(data[: at + 8] + value + data[at + 8 + n :])
    with pytest.raises(SeriesError, match=r"1\.dcm: ImageOrientationPatient .* defines no plane"):
        read_series(tmp_path, on_damaged="error")
    with pytest.raises(SeriesError, match=r"defines no plane"):
        read_series(tmp_path)  # every file damaged: nothing to show
    stacks, bad = read_headers(files)  # documented never to fail on a file
    assert sum(map(len, stacks)) + len(bad) == 4 and sum(map(len, stacks)) == 4


@pytest.mark.parametrize(
    ("iop", "shown"),
    [
        ((1.0, 0.0, 0.0, 0.1, 1.0, 0.0), r"lengths 1 and 1\.005, dot product 0\.1"),
        ((1.0, 0.0, 0.0, 0.0, 1.02, 0.0), r"lengths 1 and 1\.02, dot product 0\)"),
    ],
    ids=["not orthogonal", "not unit"],
)
def test_orientation_that_is_not_orthonormal_names_the_file(tmp_path, rng, iop, shown):
    """Cosines a rounding cannot explain place the pixels nowhere: the file is damaged
    (the Volume's own geometry check is never reached)."""
    files = _series(tmp_path / "bad", rng, 3, orientation=iop)
    rule = r"ImageOrientationPatient .* is not two orthogonal unit vectors \(" + shown
    with pytest.raises(SeriesError, match=r"bad/1\.dcm: " + rule):
        read_series(files[0].parent)
    # One such file among sound ones is left out with a warning naming it.
    sound = _series(tmp_path / "mixed", rng, 4)
    files[0].replace(sound[0].parent / "9.dcm")
    with pytest.warns(UserWarning, match=r"9\.dcm .*" + rule):
        vol = read_series(sound[0].parent)
    assert len(vol) == 4
    # Rounded to 6 digits, as scanners write them: sound.
    rounded = (0.999237, 0.031038, 0.023716, -0.027692, 0.991089, -0.130293)
    assert (
        len(read_series(_series(tmp_path / "rounded", rng, 3, orientation=rounded)[0].parent)) == 3
    )


# --------------------------------------------------------------------------- 4: memory


def test_huge_rows_in_a_compressed_series_are_refused_before_allocating(tmp_path, rng):
    files = _series(tmp_path, rng, 4, transfer_syntax=RLELossless, Rows=8, Columns=6)
    for f in files:
        data = f.read_bytes()
        for tag in (b"\x28\x00\x10\x00US\x02\x00", b"\x28\x00\x11\x00US\x02\x00"):
            at = data.index(tag) + len(tag)
            data = data[:at] + b"\xff\xff" + data[at + 2 :]
        f.write_bytes(data)
    tracemalloc.start()
    try:
        with pytest.raises(
            SeriesError, match=r"1\.dcm: 65535x65535 pixels .* more than \d+ bytes of RLE"
        ):
            read_series(tmp_path, on_damaged="error")
        assert tracemalloc.get_traced_memory()[1] < 50 * 2**20
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- 5: too many bytes


def test_pixel_data_longer_than_rows_x_columns_is_refused(tmp_path, rng):
    (path, *_) = _series(tmp_path, rng, 2, shape=(8, 6))
    _patch(path, b"\x28\x00\x10\x00US\x02\x00\x08\x00", b"\x28\x00\x10\x00US\x02\x00\x01\x00")
    with pytest.raises(SeriesError, match=r"1\.dcm: PixelData holds 96 bytes, at least one frame"):
        read_series(tmp_path, on_damaged="error")


# --------------------------------------------------------------------------- 6: bad values


@pytest.mark.parametrize(
    ("tag", "old", "new", "message"),
    [
        ("RescaleSlope", b"1.000000", b"abc     ", r"RescaleSlope 'abc' is not a finite"),
        ("RescaleSlope", b"1.000000", b"NaN     ", r"RescaleSlope 'NaN' is not a finite"),
        ("RescaleSlope", b"1.000000", b"inf     ", r"RescaleSlope 'inf' is not a finite"),
        ("RescaleSlope", b"1.000000", b"0       ", r"RescaleSlope '0' maps every pixel"),
        ("RescaleIntercept", b"0.000000", b"-inf    ", r"RescaleIntercept '-inf' is not"),
        ("InstanceNumber", b"1 ", b"1.5", None),
        ("PixelSpacing", b"0.500000\\0.500000", b"0.000000\\0.500000", r"PixelSpacing .* not pos"),
        ("PixelSpacing", b"0.500000\\0.500000", b"-0.50000\\0.500000", r"PixelSpacing .* not pos"),
    ],
    ids=["slope-abc", "slope-nan", "slope-inf", "slope-0", "intercept", "instance", "ps0", "ps-"],
)
def test_values_the_standard_forbids_are_refused(tmp_path, rng, tag, old, new, message):
    tags = {"RescaleSlope": "1.000000", "RescaleIntercept": "0.000000"}
    (path, *_) = _series(tmp_path, rng, 2, pixel_spacing=("0.500000", "0.500000"), **tags)
    if tag == "InstanceNumber":  # "1 " -> "1.5" changes the length: rewrite the element
        data = path.read_bytes()
        at = data.index(b"\x20\x00\x13\x00IS\x02\x001 ")
        path.write_bytes(data[:at] + b"\x20\x00\x13\x00IS\x04\x001.5 " + data[at + 10 :])
        message = r"InstanceNumber '1\.5' is not a whole number"
    else:
        _patch(path, old, new)
    with pytest.raises(SeriesError, match=rf"1\.dcm: {message}"):
        read_series(tmp_path, on_damaged="error")
    with pytest.warns(UserWarning, match=r"skipped 1 damaged file"):
        assert len(read_series(tmp_path)) == 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"\x01\x01US\x02\x00\x0c\x00", b"\x01\x01US\x02\x00\x00\x00", r"BitsStored 0 is not"),
        (b"\x01\x01US\x02\x00\x0c\x00", b"\x01\x01US\x02\x00\x11\x00", r"BitsStored 17 is not"),
        (b"\x03\x01US\x02\x00\x00\x00", b"\x03\x01US\x02\x00\x02\x00", r"PixelRepresentation 2"),
    ],
    ids=["bits-stored-0", "bits-stored-17", "representation-2"],
)
def test_pixel_layout_values_are_refused_not_clamped(tmp_path, rng, old, new, message):
    (path, *_) = _series(tmp_path, rng, 2)
    _patch(path, b"\x28\x00" + old, b"\x28\x00" + new)
    with pytest.raises(SeriesError, match=rf"1\.dcm: {message}"):
        read_series(tmp_path, on_damaged="error")


def test_eight_bits_allocated_on_sixteen_bit_data_is_refused(tmp_path, rng):
    (path, *_) = _series(tmp_path, rng, 2, bits_stored=8)
    _patch(path, b"\x28\x00\x00\x01US\x02\x00\x10\x00", b"\x28\x00\x00\x01US\x02\x00\x08\x00")
    with pytest.raises(SeriesError, match=r"1\.dcm: PixelData holds 96 bytes, at least one frame"):
        read_series(tmp_path, on_damaged="error")


def test_malformed_window_is_a_note_not_an_error(tmp_path, rng):
    (path, *_) = _series(tmp_path, rng, 2, WindowCenter="1000.125", WindowWidth="2000")
    _patch(path, b"1000.125", b"abcdefgh")
    with pytest.warns(UserWarning, match=r"1\.dcm: WindowCenter 'abcdefgh' is not a number"):
        vol = read_series(tmp_path)
    assert vol.dicom_window is None and any("WindowCenter 'abcdefgh'" in n for n in vol.notes)


# --------------------------------------------------------------------------- 7: length past the end


def test_pixel_data_length_past_the_end_with_every_byte_present(tmp_path, rng):
    images = write_stack(tmp_path, rng, [0.0, 3.0])
    path = tmp_path / "1.dcm"
    data = path.read_bytes()
    at = data.index(b"\xe0\x7f\x10\x00OW") + 8
    length = int.from_bytes(data[at : at + 4], "little")
    path.write_bytes(data[:at] + (length + 2).to_bytes(4, "little") + data[at + 4 :])
    with pytest.warns(UserWarning, match=r"1\.dcm: PixelData length 98 runs past the end"):
        vol = read_series(tmp_path)
    np.testing.assert_array_equal(vol.pixels[0].numpy(), images[0])
    assert any("runs past the end" in n for n in vol.notes)


# --------------------------------------------------------------------------- 8: damaged files


def test_empty_and_garbage_dcm_files_are_reported_loudly(tmp_path, rng):
    _series(tmp_path, rng, 4)
    (tmp_path / "2.dcm").write_bytes(b"")
    (tmp_path / "3.dcm").write_bytes(os.urandom(3000))
    (tmp_path / "notes.txt").write_text("a stray file is not damage")
    with pytest.warns(UserWarning) as record:
        vol = read_series(tmp_path)
    messages = [str(r.message) for r in record]
    damaged = [m for m in messages if "damaged" in m]
    assert len(damaged) == 1, messages
    assert "skipped 2 damaged file(s): 2.dcm (the file is empty (0 bytes)" in damaged[0]
    assert "3.dcm (not DICOM, though named .dcm)" in damaged[0]
    assert "on_damaged='error'" in damaged[0]
    assert any("notes.txt (not DICOM)" in m for m in messages)
    assert vol.instance_numbers == (1, 4)
    assert [n.split(" (")[0] for n in vol.notes if n.startswith("damaged")] == [
        "damaged file skipped: 2.dcm",
        "damaged file skipped: 3.dcm",
    ]
    with pytest.raises(
        SeriesError, match=r"2\.dcm: the file is empty .*\(1 more damaged: 3\.dcm \(not DICOM"
    ):
        read_stacks(tmp_path, on_damaged="error")


# --------------------------------------------------------------------------- 9: FIFO


def test_a_fifo_never_blocks(tmp_path, rng):
    _series(tmp_path, rng, 2)
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    stacks, bad = read_headers([fifo, tmp_path / "1.dcm"])
    assert bad == [(fifo, "not a regular file")] and len(stacks[0]) == 1
    with pytest.raises(SeriesError, match=r"path: '.*pipe\.dcm' is not a regular file"):
        read_series([fifo])
    assert len(read_series(tmp_path)) == 2  # a folder's FIFO is not a file of the series


# --------------------------------------------------------------------------- 10: arguments


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"path": None}, TypeError, r"path: expected a folder or a list of files"),
        ({"path": 5}, TypeError, r"path: expected a folder or a list of files .*, got int 5"),
        ({"path": [None]}, TypeError, r"path: expected paths .*item 0 is NoneType"),
        ({"recursive": "yes"}, TypeError, r"recursive: expected True or False, got str"),
        ({"progress": 1}, TypeError, r"progress: expected True, False or None, got int"),
        ({"series_uid": 5}, TypeError, r"series_uid: expected a SeriesInstanceUID string"),
        ({"on_damaged": "skip"}, ValueError, r"on_damaged: expected one of 'warn', 'error'"),
        ({"duplicates": "all"}, ValueError, r"duplicates: expected one of 'error', 'keep'"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_bad_arguments_name_the_parameter(tmp_path, rng, kwargs, error, message):
    _series(tmp_path, rng, 1)
    kwargs = {"path": tmp_path, **kwargs}
    with pytest.raises(error, match=message):
        read_series(kwargs.pop("path"), **kwargs)


def test_read_headers_wants_a_list_of_files(tmp_path):
    with pytest.raises(TypeError, match=r"files: expected a list of paths, got str"):
        read_headers(str(tmp_path))


# --------------------------------------------------------------------------- versions, plugins


def test_old_pydicom_gives_one_clear_import_error(tmp_path):
    # The reader's first use imports pydicom, and a pydicom 2 gets one ImportError saying
    # which version was found and how to fix it (not "cannot import name 'get_frame'").
    fake = tmp_path / "pydicom"
    fake.mkdir()
    (fake / "__init__.py").write_text('__version__ = "2.4.4"\n')
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        import eda_helpers  # imports no pydicom yet: the public names load on first use
        try:
            eda_helpers.read_series
        except ImportError as exc:
            print("ImportError:", exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "ImportError: eda_helpers needs pydicom >= 3.0, found pydicom 2.4.4" in out.stdout
    assert "pip install --upgrade" in out.stdout


def test_slow_rle_decoding_warns_once_per_session(tmp_path, rng, monkeypatch):
    write_stack(tmp_path, rng, [0.0, 3.0], transfer_syntax=RLELossless)
    monkeypatch.setattr(io, "_fast_rle_available", lambda: False)
    monkeypatch.setattr(io, "_slow_rle_warned", False)
    monkeypatch.setattr(io, "_choose_plugin", lambda h, plugin: "")
    with pytest.warns(UserWarning, match=r"about \d+x slower than pylibjpeg-rle") as record:
        first = read_series(tmp_path)
    assert len(record) == 1 and "--find-links /kaggle/input/" in str(record[0].message)
    second = read_series(tmp_path)  # no warning: filterwarnings=error would raise
    assert np.array_equal(first.pixels, second.pixels)
    read_series(tmp_path, decoding_plugin="pydicom")  # asked for: no warning either
