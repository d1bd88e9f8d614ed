"""Read DICOM series from files: find, group, sort and decode.

This is the only module that knows about files and pydicom. It turns a folder (or a
list of files) into :class:`~eda_helpers.volume.Volume` objects in four steps:

1. **Find**: every regular file in the folder that is DICOM and holds PixelData is a
   slice, whatever its name. DICOMDIR files, non-DICOM files and DICOM files without
   pixel data are skipped, with one warning that names them.
2. **Group**: by SeriesInstanceUID, then into *stacks*: slices that share the
   orientation (ImageOrientationPatient, within 0.001 per direction cosine), the slice
   size (Rows, Columns) and PixelSpacing. Slices of one geometry that sit at the same
   positions are split further by EchoNumbers, TemporalPositionIdentifier or
   AcquisitionNumber, but only when that tag is what makes the positions repeat: a tag
   that merely differs from slice to slice never splits a stack.
3. **Order**: ascending along the slice normal (row cosine x column cosine of
   ImageOrientationPatient), by the projection of ImagePositionPatient on it;
   InstanceNumber only breaks ties. File names never decide.
4. **Decode**: each file is read once and its pixels decoded straight into one
   preallocated array, which becomes the Volume's tensor without a copy.

Speed: each header is parsed up to PixelData by a small reader for the common layout
(little-endian, header under 64 kB), with pydicom taking over for anything else;
uncompressed pixel data is read from the file straight into the output array; RLE
Lossless data (the format of the RSNA competition files) is decoded by pylibjpeg-rle
when the ``fast`` extra is installed (``pip install "eda_helpers[fast]"``), else by
pydicom's own decoder, and other compressed data by pydicom's plugins. Decoding is
serial: the decoders hold the GIL, and a thread pool measured slower on two cores.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydicom
import torch
from numpy.typing import NDArray
from pydicom.encaps import get_frame
from pydicom.errors import InvalidDicomError
from pydicom.pixels import get_decoder
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000TransferSyntaxes,
    JPEGLSTransferSyntaxes,
    JPEGTransferSyntaxes,
    MediaStorageDirectoryStorage,
    RLELossless,
)
from tqdm.auto import tqdm

from . import geometry
from .volume import Volume

__all__ = ["SeriesError", "read_headers", "read_series", "read_stacks"]

PathInput = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
Duplicates = Literal["error", "keep", "first", "last"]
DecodingPlugin = Literal["auto", "pydicom", "pylibjpeg", "gdcm", "pillow", "pyjpegls"]

#: Number of files from which ``progress=None`` shows a progress bar.
PROGRESS_MIN_FILES = 200

# Tolerances (mm / direction cosines); see the module docstring and geometry.py.
_ORIENTATION_ATOL = 1e-3
_POSITION_ATOL = 0.01
_PIXEL_SPACING_RTOL = 1e-4
_STEP_RTOL = 0.1

# Acquisition tags that may separate stacks sharing the same positions.
_SPLIT_TAGS = ("EchoNumbers", "TemporalPositionIdentifier", "AcquisitionNumber")

_PIP_FIX = {
    **dict.fromkeys(JPEGLSTransferSyntaxes, "pip install pylibjpeg pylibjpeg-libjpeg"),
    **dict.fromkeys(JPEGTransferSyntaxes, "pip install pylibjpeg pylibjpeg-libjpeg"),
    **dict.fromkeys(JPEG2000TransferSyntaxes, "pip install pylibjpeg pylibjpeg-openjpeg"),
    RLELossless: 'pip install "eda_helpers[fast]"  (pylibjpeg and pylibjpeg-rle)',
}

_INT16 = np.iinfo(np.int16)


class SeriesError(ValueError):
    """A folder or list of files that cannot be read as the series asked for.

    Raised for: no DICOM images found, several series where one was expected, a stack
    split where one stack was expected, duplicate slice positions (by default), a
    truncated or unreadable file, and pixel data that no installed package can decode.
    The message names the folder or file, the rule, and what to do about it.
    """


@dataclass(eq=False)
class _Header:
    """What pass 1 learns about one file (everything except the pixel values)."""

    path: Path
    series_uid: str
    study_uid: str
    description: str
    modality: str
    instance: int | None
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    rows: int
    cols: int
    pixel_spacing: tuple[float, float] | None
    spacing_between: float | None
    thickness: float | None
    bits_allocated: int
    bits_stored: int
    signed: bool
    photometric: str
    slope: float
    intercept: float
    window: tuple[float, float] | None
    transfer_syntax: UID
    little_endian: bool
    value_offset: int | None  # where the PixelData value starts, when it can be seeked
    value_length: int  # -1 for undefined length (encapsulated data)
    split_tags: dict[str, Any] = field(default_factory=dict)

    @property
    def stored_range(self) -> tuple[int, int]:
        if self.signed:
            return -(1 << (self.bits_stored - 1)), (1 << (self.bits_stored - 1)) - 1
        return 0, (1 << self.bits_stored) - 1

    @property
    def output_range(self) -> tuple[float, float]:
        """Range of values after the modality LUT (RescaleSlope/Intercept)."""
        lo, hi = self.stored_range
        a, b = lo * self.slope + self.intercept, hi * self.slope + self.intercept
        return min(a, b), max(a, b)


# --------------------------------------------------------------------------- public


def read_series(
    path: PathInput,
    *,
    series_uid: str | None = None,
    recursive: bool = False,
    duplicates: Duplicates = "error",
    monochrome1: Literal["invert", "keep"] = "invert",
    decoding_plugin: DecodingPlugin = "auto",
    progress: bool | None = None,
) -> Volume:
    """Read the one stack of slices in a folder (or list of files) as a Volume.

    Parameters
    ----------
    path : str, path-like, or sequence of them
        A folder holding the files of one series (one DICOM file per slice; file names
        do not matter), or a list of files.
    series_uid : str, optional
        SeriesInstanceUID of the series to read when the folder holds several.
    recursive : bool, default False
        Also look for files in the folder's subfolders.
    duplicates : {"error", "keep", "first", "last"}, default "error"
        What to do when several slices sit at the same position: raise
        :class:`SeriesError`; keep them all (neighbours, in InstanceNumber order); or
        keep only the slice with the lowest ("first") or highest ("last")
        InstanceNumber at each position. Dropped and kept duplicates are listed in
        ``Volume.notes``.
    monochrome1 : {"invert", "keep"}, default "invert"
        MONOCHROME1 images (low values shown white) are inverted within their stored
        range by default, so that every Volume reads like MONOCHROME2 (high values
        bright); ``Volume.dicom_window`` is inverted with them. "keep" leaves the values as
        stored. ``Volume.photometric`` always holds the interpretation of the files.
    decoding_plugin : {"auto", "pydicom", "pylibjpeg", "gdcm", "pillow", "pyjpegls"}
        pydicom decoding plugin for compressed pixel data. "auto" uses pylibjpeg for
        RLE Lossless when it is installed (the ``fast`` extra) and otherwise pydicom's
        own choice; "pydicom" forces pydicom's pure-Python RLE decoder. Uncompressed
        data needs no plugin.
    progress : bool, optional
        Show a ``tqdm.auto`` progress bar. The default (None) shows one when there are
        at least ``PROGRESS_MIN_FILES`` (200) files.

    Returns
    -------
    Volume
        The pixels as a ``(slices, rows, cols)`` tensor, slice 0 first along the
        slice normal (see Notes), with the geometry and metadata of the series.

    Raises
    ------
    FileNotFoundError
        If ``path`` (or a file in the list) does not exist.
    SeriesError
        If no DICOM image is found; if the folder holds several series and
        ``series_uid`` is not given (or not there); if the series holds several stacks
        (use :func:`read_stacks`); if slices share a position and ``duplicates`` is
        "error"; if a file is truncated or unreadable; if the pixel data is compressed
        in a format that no installed package decodes (the message gives the
        ``pip install`` that fixes it); if a file's transfer syntax is unknown to
        pydicom, or its values go through a Modality LUT Sequence.
    ValueError
        If an option has a value not listed above.

    Warns
    -----
    UserWarning
        Once per call, naming the files skipped (not DICOM, DICOMDIR, no pixel data);
        when a stack is ordered by InstanceNumber because position tags are missing;
        when the step between neighbouring slices departs by more than 10 % (plus
        0.01 mm) from the median step (a gap), naming the slices on both sides.

    Notes
    -----
    **Order.** Slices are sorted by ``ImagePositionPatient @ n`` ascending, where ``n``
    is the unit normal ``row cosine x column cosine`` of ImageOrientationPatient
    (:func:`eda_helpers.geometry.slice_normal`): for axial slices with the usual
    orientation ``[1, 0, 0, 0, 1, 0]`` this is feet to head; for sagittal slices with
    ``[0, 1, 0, 0, 0, -1]``, patient left to right; for coronal slices with
    ``[1, 0, 0, 0, 0, -1]``, front to back. Another orientation of the same plane can
    flip the direction: the normal, not the anatomy, decides. Positions within 0.01 mm
    count as equal; InstanceNumber breaks those ties. When a stack lacks ImagePositionPatient or
    ImageOrientationPatient, it is ordered by InstanceNumber (with a warning), its
    ``positions``, ``orientation`` and ``affine`` hold NaN where the tags are missing.

    **Values and dtype.** Pixel values go through the modality LUT
    (``value * RescaleSlope + RescaleIntercept``). The tensor is ``torch.int16`` when
    every slice has an integer slope and intercept and the range its BitsStored and
    PixelRepresentation allow, once rescaled, fits int16 (12-bit unsigned MR data such
    as the competition's does); otherwise it is ``torch.float32`` (exact for integers
    up to 2**24). It is never uint16, which torch barely supports. Unused high bits
    (above BitsStored) are cleared, or carry the sign when PixelRepresentation is 1,
    as pydicom does. Unlike pydicom, which rescales only when both tags are present,
    a missing RescaleSlope counts as 1 and a missing RescaleIntercept as 0; a slope of
    0 counts as 1. A Modality LUT Sequence is not applied: such files raise
    :class:`SeriesError`.

    **Spacing.** ``Volume.spacing`` is (slice, row, col) in mm. The slice spacing is
    the mean distance between neighbouring distinct positions along the normal; for a
    single slice (or without position tags) it is SpacingBetweenSlices, else
    SliceThickness, else 1.0 (noted in ``Volume.notes``). The row and column spacing
    come from PixelSpacing (1.0 and a note when it is missing). The affine is
    :func:`eda_helpers.geometry.voxel_affine` with slice step
    ``(positions[-1] - positions[0]) / (n - 1)``.

    **Window.** ``Volume.dicom_window`` is (WindowCenter, WindowWidth) of slice 0, whose
    units are those of the rescaled values, or None.

    Examples
    --------
    >>> from pathlib import Path
    >>> import pydicom.data
    >>> folder = Path(pydicom.data.__file__).parent / "test_files/dicomdirtests/98892001/CT5N"
    >>> vol = read_series(folder)
    >>> vol.shape, vol.spacing[0], vol.instance_numbers
    ((5, 16, 16), 2.5, (10, 9, 8, 7, 6))
    """
    volumes = _read(
        path,
        series_uid=series_uid,
        recursive=recursive,
        duplicates=duplicates,
        monochrome1=monochrome1,
        decoding_plugin=decoding_plugin,
        progress=progress,
        one_stack=True,
    )
    return volumes[0]


def read_stacks(
    path: PathInput,
    *,
    series_uid: str | None = None,
    recursive: bool = False,
    duplicates: Duplicates = "error",
    monochrome1: Literal["invert", "keep"] = "invert",
    decoding_plugin: DecodingPlugin = "auto",
    progress: bool | None = None,
) -> list[Volume]:
    """Read every stack of one series, such as the separately angled axial stacks.

    A stack is a set of slices sharing orientation, slice size and pixel spacing (see
    the module docstring). The RSNA Axial T2 series often hold one stack of about five
    slices per intervertebral disc, all under one SeriesInstanceUID.

    Parameters
    ----------
    path : str, path-like, or sequence of them
        A folder holding the files of one series, or a list of files.
    series_uid, recursive, duplicates, monochrome1, decoding_plugin, progress
        As in :func:`read_series`.

    Returns
    -------
    list of Volume
        One Volume per stack, each ordered as by :func:`read_series`. The stacks come
        in the order of their lowest InstanceNumber (the order of acquisition), ties
        broken by file path.

    Raises
    ------
    FileNotFoundError, SeriesError, ValueError
        As in :func:`read_series`, except that several stacks are not an error.

    Warns
    -----
    UserWarning
        As in :func:`read_series`.

    Examples
    --------
    >>> from pathlib import Path
    >>> import pydicom.data
    >>> folder = Path(pydicom.data.__file__).parent / "test_files/dicomdirtests/98892003/MR700"
    >>> stacks = read_stacks(folder)  # a radial scan: 7 planes, one slice each
    >>> len(stacks), [v.instance_numbers[0] for v in stacks]
    (7, [1, 2, 3, 4, 5, 6, 7])
    """
    return _read(
        path,
        series_uid=series_uid,
        recursive=recursive,
        duplicates=duplicates,
        monochrome1=monochrome1,
        decoding_plugin=decoding_plugin,
        progress=progress,
        one_stack=False,
    )


def read_headers(
    files: Sequence[str | os.PathLike[str]],
) -> tuple[list[list[_Header]], list[tuple[Path, str]]]:
    """Read the headers of some files, without their pixel values, grouped into stacks.

    The cheap half of :func:`read_stacks`, for surveying many series: each header is
    parsed up to PixelData by the same reader, the files are grouped by
    SeriesInstanceUID and then into stacks exactly as :func:`read_stacks` groups them,
    and nothing is decoded. No file makes it fail: a file that holds no DICOM image,
    or cannot be read, is returned with the reason instead. For encapsulated
    (compressed) pixel data the item structure is followed to the end of the file, a
    few bytes read per fragment, so that a truncated file is caught without decoding.

    Parameters
    ----------
    files : sequence of str or path-like
        The files to read (the order does not matter).

    Returns
    -------
    stacks : list of list of header records
        One list per stack, in the order of :func:`read_stacks` (series by UID, then
        each series' stacks by lowest InstanceNumber); the slices of a stack are in
        the order of ``files``, not sorted. A record has, among others, the attributes
        ``path``, ``series_uid``, ``study_uid``, ``description``, ``instance`` (int or
        None), ``position`` and ``orientation`` (tuples or None), ``rows``, ``cols``,
        ``pixel_spacing`` (tuple or None) and ``transfer_syntax`` (a pydicom UID).
    unreadable : list of (Path, str)
        The files left out, each with the reason ("not DICOM", "no pixel data", or
        why it cannot be read, such as truncated pixel data), in the order of ``files``.

    Examples
    --------
    >>> from pathlib import Path
    >>> import pydicom.data
    >>> folder = Path(pydicom.data.__file__).parent / "test_files/dicomdirtests/98892001/CT5N"
    >>> stacks, unreadable = read_headers(sorted(folder.iterdir()))
    >>> [len(s) for s in stacks], sorted(h.instance for h in stacks[0]), unreadable
    ([5], [6, 7, 8, 9, 10], [])
    """
    by_uid: dict[str, list[_Header]] = {}
    unreadable: list[tuple[Path, str]] = []
    for f in map(Path, files):
        try:
            h = _read_header(f)
            reason = h if isinstance(h, str) else _encapsulated_problem(h)
        except Exception as exc:  # a survey reports a bad file, it never stops on one
            text = " ".join(str(exc).split())
            if isinstance(exc, SeriesError):
                reason = text.removeprefix(f"{f}: ")
            else:
                reason = f"unreadable ({type(exc).__name__}: {text})"
        if reason is None:
            by_uid.setdefault(h.series_uid, []).append(h)  # type: ignore[union-attr]
        else:
            unreadable.append((f, reason))
    stacks = [s for uid in sorted(by_uid) for s in _split_stacks(by_uid[uid])]
    return stacks, unreadable


def _encapsulated_problem(h: _Header) -> str | None:
    """Why the encapsulated pixel data of ``h`` is cut short or damaged, else None."""
    if h.value_offset is None or h.value_length >= 0:
        return None
    with open(h.path, "rb") as fp:
        size = os.fstat(fp.fileno()).st_size
        pos = h.value_offset
        while True:  # items of the encapsulated data: offset table, fragments, delimiter
            fp.seek(pos)
            head = fp.read(8)
            if len(head) < 8:
                return f"truncated pixel data: the file ends at byte {size}, inside it"
            group, elem, length = struct.unpack("<HHI", head)
            if (group, elem) == (0xFFFE, 0xE0DD):
                return None
            if (group, elem) != (0xFFFE, 0xE000):
                return (
                    f"damaged pixel data: ({group:04X},{elem:04X}) at byte {pos} where an "
                    f"item or the sequence delimiter should be"
                )
            pos += 8 + length
            if pos > size:
                return f"truncated pixel data: a fragment runs past the end ({size} bytes)"


# --------------------------------------------------------------------------- driver


def _check_choice(name: str, value: object, choices: Sequence[object]) -> None:
    if value not in choices:
        raise ValueError(
            f"{name}: expected one of {', '.join(repr(c) for c in choices)}, got {value!r}"
        )


def _read(
    path: PathInput,
    *,
    series_uid: str | None,
    recursive: bool,
    duplicates: str,
    monochrome1: str,
    decoding_plugin: str,
    progress: bool | None,
    one_stack: bool,
) -> list[Volume]:
    _check_choice("duplicates", duplicates, ("error", "keep", "first", "last"))
    _check_choice("monochrome1", monochrome1, ("invert", "keep"))
    _check_choice(
        "decoding_plugin",
        decoding_plugin,
        ("auto", "pydicom", "pylibjpeg", "gdcm", "pillow", "pyjpegls"),
    )
    files, where = _list_files(path, recursive=recursive)
    show = len(files) >= PROGRESS_MIN_FILES if progress is None else bool(progress)

    with tqdm(total=len(files), desc="headers", unit="file", disable=not show) as bar:
        headers: list[_Header] = []
        skipped: list[str] = []
        for f in files:
            h = _read_header(f)
            if isinstance(h, str):
                skipped.append(f"{f.name} ({h})")
            else:
                headers.append(h)
            bar.update()
        if skipped:
            shown = ", ".join(skipped[:10]) + (
                f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
            )
            warnings.warn(
                f"{where}: skipped {len(skipped)} file(s) that hold no DICOM image: {shown}",
                UserWarning,
                stacklevel=3,
            )
        if not headers:
            raise SeriesError(
                f"{where}: no DICOM image found among {len(files)} file(s)"
                + (" (subfolders are not searched; pass recursive=True)" if not recursive else "")
            )
        series = _select_series(headers, series_uid, where)
        stacks = _split_stacks(series)
        if one_stack and len(stacks) > 1:
            raise SeriesError(
                f"{where}: series {series[0].series_uid} {series[0].description!r} holds "
                f"{len(stacks)} stacks with different orientation, slice size or pixel "
                f"spacing ({_describe_stacks(stacks)}); read_series returns one stack: "
                f"use read_stacks() to get all of them as a list"
            )

        bar.reset(total=sum(len(s) for s in stacks))
        bar.set_description("pixels")
        volumes = []
        for stack in stacks:  # a loop, not a comprehension: keeps warnings' stacklevel
            volumes.append(
                _build_volume(
                    stack,
                    where=where,
                    duplicates=duplicates,
                    monochrome1=monochrome1,
                    decoding_plugin=decoding_plugin,
                    bar=bar,
                )
            )
        return volumes


def _list_files(path: PathInput, *, recursive: bool) -> tuple[list[Path], str]:
    if isinstance(path, str | os.PathLike):
        folder = Path(path)
        if not folder.exists():
            raise FileNotFoundError(f"path: {str(folder)!r} does not exist")
        if folder.is_file():
            return [folder], str(folder)
        found = folder.rglob("*") if recursive else folder.iterdir()
        files = sorted(p for p in found if p.is_file())
        if not files:
            raise SeriesError(
                f"{folder}: the folder holds no files"
                + ("" if recursive else " (subfolders are not searched; pass recursive=True)")
            )
        return files, str(folder)
    files = [Path(p) for p in path]
    if not files:
        raise SeriesError("path: the list of files is empty; pass at least one DICOM file")
    for f in files:
        if not f.is_file():
            what = "is a folder" if f.is_dir() else "does not exist"
            raise FileNotFoundError(f"path: {str(f)!r} {what}; the list must hold files")
    return files, f"the {len(files)} file(s) given"


def _select_series(headers: list[_Header], series_uid: str | None, where: str) -> list[_Header]:
    by_uid: dict[str, list[_Header]] = {}
    for h in headers:
        by_uid.setdefault(h.series_uid, []).append(h)

    def listing() -> str:
        return "; ".join(
            f"{uid or '(no SeriesInstanceUID)'} {hs[0].description!r} "
            f"({len(hs)} file{'s' if len(hs) != 1 else ''})"
            for uid, hs in sorted(by_uid.items())
        )

    if series_uid is not None:
        if series_uid not in by_uid:
            raise SeriesError(
                f"series_uid={series_uid!r} is not in {where}, which holds: {listing()}"
            )
        return by_uid[series_uid]
    if len(by_uid) > 1:
        raise SeriesError(
            f"{where} holds {len(by_uid)} series: {listing()}; pass series_uid= to pick one"
        )
    return headers


def _describe_stacks(stacks: list[list[_Header]]) -> str:
    parts = []
    for s in stacks:
        inst = [h.instance for h in s if h.instance is not None]
        span = f", instances {min(inst)}-{max(inst)}" if len(inst) > 1 else ""
        span = f", instance {inst[0]}" if len(inst) == 1 else span
        parts.append(f"{len(s)} slice{'s' if len(s) != 1 else ''} of {s[0].rows}x{s[0].cols}{span}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- pass 1

# The tags read from each header, with the VR used to interpret them (files written
# in implicit VR carry no VR, and anonymisers sometimes rewrite VRs as UN).
_TAGS: dict[int, tuple[str, str]] = {
    0x00080005: ("SpecificCharacterSet", "CS"),
    0x00080016: ("SOPClassUID", "UI"),
    0x00080060: ("Modality", "CS"),
    0x0008103E: ("SeriesDescription", "LO"),
    0x00180050: ("SliceThickness", "DS"),
    0x00180086: ("EchoNumbers", "IS"),
    0x00180088: ("SpacingBetweenSlices", "DS"),
    0x0020000D: ("StudyInstanceUID", "UI"),
    0x0020000E: ("SeriesInstanceUID", "UI"),
    0x00200012: ("AcquisitionNumber", "IS"),
    0x00200013: ("InstanceNumber", "IS"),
    0x00200032: ("ImagePositionPatient", "DS"),
    0x00200037: ("ImageOrientationPatient", "DS"),
    0x00200100: ("TemporalPositionIdentifier", "IS"),
    0x00280002: ("SamplesPerPixel", "US"),
    0x00280004: ("PhotometricInterpretation", "CS"),
    0x00280008: ("NumberOfFrames", "IS"),
    0x00280010: ("Rows", "US"),
    0x00280011: ("Columns", "US"),
    0x00280030: ("PixelSpacing", "DS"),
    0x00280100: ("BitsAllocated", "US"),
    0x00280101: ("BitsStored", "US"),
    0x00280103: ("PixelRepresentation", "US"),
    0x00281050: ("WindowCenter", "DS"),
    0x00281051: ("WindowWidth", "DS"),
    0x00281052: ("RescaleIntercept", "DS"),
    0x00281053: ("RescaleSlope", "DS"),
}
_PIXEL_DATA = 0x7FE00010
_MODALITY_LUT_SEQUENCE = 0x00283000
_LONG_VRS = frozenset(
    (b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UT", b"UN", b"UC", b"UR", b"SV", b"UV")
)
_SHORT_VRS = frozenset(b"AE AS AT CS DA DS DT FL FD IS LO LT PN SH SL SS ST TM UI UL US".split())
_PLAIN_CHARSETS = ("", "ISO_IR 6", "ISO_IR 100", "ISO_IR 192")
_FIRST_CHUNK = 1 << 13  # headers of MR files are a few kB ...
_FAST_CHUNK = 1 << 16  # ... and those longer than this are left to pydicom


class _Unparsed(Exception):
    """The fast header parser met something it leaves to pydicom."""


class _NeedMore(_Unparsed):
    """The header goes on past the bytes read so far."""


def _decode_value(raw: bytes, vr: str, little: bool, charset: str = "") -> int | list[str]:
    """A tag's value bytes as an int (US) or a list of strings (split at backslashes)."""
    if vr == "US":
        if len(raw) < 2:
            return []
        return struct.unpack("<H" if little else ">H", raw[:2])[0]
    encoding = "utf-8" if charset.strip() == "ISO_IR 192" else "latin-1"
    text = raw.decode(encoding, errors="replace").strip(" \0")
    return [t.strip(" \0") for t in text.split("\\")] if text else []


def _norm_value(value: Any) -> int | list[str]:
    """A value converted by pydicom, in the form of :func:`_decode_value`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None or value == "":
        return []
    if isinstance(value, pydicom.multival.MultiValue | list | tuple):
        return [str(v).strip() for v in value]
    return [str(value).strip()]


def _scan_fast(path: Path) -> dict[str, Any]:
    """Parse a file's header in pure Python, stopping at PixelData.

    Handles the common case (DICM preamble, little-endian explicit or implicit VR, a
    header shorter than 64 kB, PixelData present at top level) and raises
    :class:`_Unparsed` for anything else, which pydicom then reads: a data set whose
    first element contradicts the transfer syntax's VR encoding, top-level tags out
    of order, an unknown VR, undefined length on anything but SQ and the top-level
    PixelData, a tag read here stored under another VR than the dictionary's, a
    SeriesDescription in a character set other than ASCII, Latin-1 or UTF-8, and a
    Modality LUT Sequence. pydicom spends most of a small file's read time on
    objects this reader never needs.
    """
    with open(path, "rb") as fp:
        size = os.fstat(fp.fileno()).st_size
        buf = fp.read(_FIRST_CHUNK)
        try:
            return _parse_header(buf, size)
        except _NeedMore:
            if size <= len(buf):
                raise _Unparsed from None
            buf += fp.read(_FAST_CHUNK - len(buf))
        try:
            return _parse_header(buf, size)
        except _NeedMore:
            raise _Unparsed from None


def _parse_header(buf: bytes, size: int) -> dict[str, Any]:
    if len(buf) < 144 or buf[128:132] != b"DICM":
        raise _Unparsed
    unpack_from = struct.unpack_from
    # File meta: always explicit VR little endian.
    pos, meta = 132, {}
    while pos + 8 <= len(buf):
        group, elem = unpack_from("<HH", buf, pos)
        if group != 2:
            break
        vr = buf[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            (length,) = unpack_from("<I", buf, pos + 8)
            pos += 12
        else:
            (length,) = unpack_from("<H", buf, pos + 6)
            pos += 8
        if length == 0xFFFFFFFF:
            raise _Unparsed
        meta[elem] = buf[pos : pos + length].decode("latin-1").strip(" \0")
        pos += length
    ts = UID(meta.get(0x0010, ""))
    if ts == ImplicitVRLittleEndian:
        explicit = False
    elif ts.is_transfer_syntax and ts.is_little_endian and not ts.is_deflated:
        explicit = True
    else:
        raise _Unparsed
    if meta.get(0x0002) == MediaStorageDirectoryStorage:
        raise _Unparsed

    # pydicom reads the data set in the encoding its first element looks like, whatever
    # the transfer syntax says (its heuristic: bytes 4-5 are a VR in explicit VR).
    looks_explicit = all(0x40 < b < 0x5B for b in buf[pos + 4 : pos + 6])
    if looks_explicit != explicit:
        raise _Unparsed

    values: dict[str, Any] = {}
    depth = 0  # nesting of undefined-length sequences and items
    last = 0  # the previous top-level tag: they must ascend, else something is off
    end = len(buf)
    while True:
        if pos + 12 > end:
            raise _NeedMore  # header longer than the chunk, or no PixelData
        group, elem = unpack_from("<HH", buf, pos)
        tag = group << 16 | elem
        if group == 0xFFFE:  # item, item delimiter, sequence delimiter
            (length,) = unpack_from("<I", buf, pos + 4)
            pos += 8
            if elem == 0xE000:
                if length != 0xFFFFFFFF:
                    pos += length
                else:
                    depth += 1
            elif elem in (0xE00D, 0xE0DD):
                depth -= 1
            if depth < 0:
                raise _Unparsed
            continue
        if explicit:
            vr = buf[pos + 4 : pos + 6]
            if vr in _LONG_VRS:
                (length,) = unpack_from("<I", buf, pos + 8)
                header = 12
            elif vr in _SHORT_VRS:
                (length,) = unpack_from("<H", buf, pos + 6)
                header = 8
            else:
                raise _Unparsed
            # Undefined length is left to pydicom except for SQ and the top-level
            # PixelData: UN then holds implicit VR data, OB an encapsulated icon.
            if length == 0xFFFFFFFF and vr != b"SQ" and (depth or tag != _PIXEL_DATA):
                raise _Unparsed
        else:
            (length,) = unpack_from("<I", buf, pos + 4)
            header = 8
        if depth == 0:
            if tag <= last or tag == _MODALITY_LUT_SEQUENCE:
                raise _Unparsed
            last = tag
        if depth == 0 and tag >= _PIXEL_DATA:
            if tag != _PIXEL_DATA:
                raise _Unparsed
            values["_value_offset"] = pos + header
            values["_value_length"] = -1 if length == 0xFFFFFFFF else length
            break
        pos += header
        if length == 0xFFFFFFFF:  # an undefined-length sequence starts
            depth += 1
            continue
        if depth == 0 and tag in _TAGS:
            if pos + length > end:
                raise _NeedMore
            keyword, tag_vr = _TAGS[tag]
            if explicit and vr not in (tag_vr.encode(), b"UN"):
                raise _Unparsed  # pydicom decodes a value by the VR in the file
            charset = values.get("SpecificCharacterSet", [""])
            if keyword == "SeriesDescription" and any(c not in _PLAIN_CHARSETS for c in charset):
                raise _Unparsed
            values[keyword] = _decode_value(
                bytes(buf[pos : pos + length]), tag_vr, True, (charset or [""])[0]
            )
        pos += length
    values.update(
        _ts=ts,
        _implicit=not explicit,
        _little=True,
        _size=size,
        _sop=meta.get(0x0002, ""),
    )
    return values


def _scan_pydicom(path: Path) -> dict[str, Any] | str:
    """Read a header with pydicom; a reason string when the file holds no image."""
    with open(path, "rb") as fp:
        try:
            ds = pydicom.dcmread(fp, stop_before_pixels=True)
        except InvalidDicomError:
            return "not DICOM"
        except Exception as exc:
            raise SeriesError(
                f"{path}: unreadable DICOM file ({type(exc).__name__}: {exc}); it is "
                f"probably truncated or damaged: copy it again or leave it out"
            ) from exc
        offset = fp.tell()
        head = fp.read(12)
        size = os.fstat(fp.fileno()).st_size

    meta = getattr(ds, "file_meta", None) or pydicom.Dataset()
    sop = str(meta.get("MediaStorageSOPClassUID") or ds.get("SOPClassUID") or "")
    if sop == MediaStorageDirectoryStorage:
        return "DICOMDIR"
    ts = UID(meta.get("TransferSyntaxUID") or ExplicitVRLittleEndian)
    if not ts.is_transfer_syntax:
        raise SeriesError(
            f"{path}: its Transfer Syntax UID {str(ts)!r} is not one pydicom knows, so its "
            f"pixel data cannot be decoded; convert the file (e.g. with dcmtk or gdcm) "
            f"or leave it out"
        )
    # ds.original_encoding follows the transfer syntax, but pydicom reads a data set
    # in the VR encoding its first element shows; PixelData shows it again below.
    implicit, little = ts.is_implicit_VR, ts.is_little_endian

    value_offset: int | None = None
    value_length = -1
    has_pixels = False
    if ts.is_deflated:
        # The stream is compressed, so the pixel data cannot be found by seeking;
        # such files are rare: read them whole (once here, once when decoding).
        has_pixels = "PixelData" in pydicom.dcmread(path)
    elif len(head) >= 8:
        end = "<" if little else ">"
        group, elem = struct.unpack(end + "HH", head[:4])
        if (group, elem) == (0x7FE0, 0x0010):
            has_pixels = True
            # Every VR PixelData can have (OB, OW, UN) ends in an odd byte, which
            # the low bytes of a (necessarily even) implicit VR length cannot.
            implicit = head[4:6] not in (b"OB", b"OW", b"UN")
            if implicit:
                (value_length,) = struct.unpack(end + "I", head[4:8])
                value_offset = offset + 8
            elif len(head) == 12:
                (value_length,) = struct.unpack(end + "I", head[8:12])
                value_offset = offset + 12
            if value_length == 0xFFFFFFFF:
                value_length = -1

    if not has_pixels:
        looks_like_image = "Rows" in ds or "Image Storage" in UID(sop).name
        if len(ds) == 0 or (looks_like_image and offset >= size):
            raise SeriesError(
                f"{path}: the DICOM file ends before its pixel data; it is probably "
                f"truncated or damaged: copy it again or leave it out"
            )
        return "no pixel data"

    if _MODALITY_LUT_SEQUENCE in ds:
        raise SeriesError(
            f"{path}: its stored values are mapped by a Modality LUT Sequence, which "
            f"this reader does not apply; read the file with pydicom "
            f"(pydicom.pixels.apply_modality_lut) or leave it out"
        )
    values: dict[str, Any] = {}
    for tag, (keyword, vr) in _TAGS.items():
        item = ds.get_item(tag)
        if item is None:
            continue
        converted = not isinstance(item.value, bytes) or item.VR not in (None, vr, "UN")
        if keyword == "SeriesDescription" or converted:
            values[keyword] = _norm_value(ds[tag].value)  # converted by pydicom
        else:
            values[keyword] = _decode_value(item.value, vr, bool(little))
    values.update(
        _ts=ts,
        _implicit=bool(implicit),
        _little=bool(little),
        _size=size,
        _sop=sop,
        _value_offset=None if ts.is_deflated else value_offset,
        _value_length=value_length,
    )
    return values


def _floats(values: dict[str, Any], keyword: str, n: int) -> tuple[float, ...] | None:
    """The n numbers of a decimal tag, or None when missing, empty or malformed."""
    v = values.get(keyword)
    if not isinstance(v, list) or len(v) != n:
        return None
    try:
        out = tuple(float(x) for x in v)
    except ValueError:
        return None
    return out if all(np.isfinite(out)) else None


def _first_float(values: dict[str, Any], keyword: str) -> float | None:
    v = values.get(keyword)
    if isinstance(v, int):
        return float(v)
    try:
        out = float(v[0]) if v else None
    except ValueError:
        return None
    return out if out is not None and np.isfinite(out) else None


def _integer(values: dict[str, Any], keyword: str, default: int | None = None) -> int | None:
    v = values.get(keyword)
    if isinstance(v, int):
        return v
    try:
        return int(float(v[0])) if v else default
    except ValueError:
        return default


def _text(values: dict[str, Any], keyword: str) -> str:
    v = values.get(keyword)
    return "\\".join(v) if isinstance(v, list) else ""


def _read_header(path: Path) -> _Header | str:
    """Parse one file up to its pixel data; return a reason string to skip it."""
    try:
        values = _scan_fast(path)
    except (_Unparsed, struct.error, UnicodeDecodeError):
        values = _scan_pydicom(path)  # type: ignore[assignment]
    if isinstance(values, str):
        return values
    return _make_header(path, values)


def _make_header(path: Path, values: dict[str, Any]) -> _Header:
    rows, cols = _integer(values, "Rows"), _integer(values, "Columns")
    bits_allocated = _integer(values, "BitsAllocated")
    if not rows or not cols or not bits_allocated:
        raise SeriesError(
            f"{path}: the file holds PixelData but lacks Rows, Columns or BitsAllocated, "
            f"so its pixels cannot be laid out; the file is damaged"
        )
    frames = _integer(values, "NumberOfFrames", 1) or 1
    spp = _integer(values, "SamplesPerPixel", 1)
    photometric = _text(values, "PhotometricInterpretation") or "MONOCHROME2"
    if frames != 1:
        raise SeriesError(
            f"{path}: multi-frame files ({frames} frames) are not supported; "
            f"this reader expects one file per slice"
        )
    if spp != 1 or photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise SeriesError(
            f"{path}: only greyscale images (MONOCHROME1/2, one sample per pixel) are "
            f"supported, got PhotometricInterpretation {photometric!r} with "
            f"{spp} samples per pixel"
        )
    if bits_allocated not in (8, 16, 32):
        raise SeriesError(f"{path}: BitsAllocated {bits_allocated} is not supported (8, 16 or 32)")
    bits_stored = _integer(values, "BitsStored", bits_allocated) or bits_allocated
    bits_stored = min(max(bits_stored, 1), bits_allocated)

    value_offset, value_length, size = (
        values["_value_offset"],
        values["_value_length"],
        values["_size"],
    )
    if value_offset is not None and value_length < 0 and not values["_ts"].is_compressed:
        raise SeriesError(
            f"{path}: its PixelData has undefined length (encapsulated) but its transfer "
            f"syntax {values['_ts'].name} is uncompressed, so the pixels cannot be "
            f"located; the file is damaged: leave it out"
        )
    if value_offset is not None and value_length >= 0:
        need = rows * cols * bits_allocated // 8
        if value_offset + value_length > size or value_length < need:
            have = max(0, min(value_length, size - value_offset))
            raise SeriesError(
                f"{path}: the pixel data is truncated: {rows}x{cols} pixels of "
                f"{bits_allocated} bits need {need} bytes but the file holds {have}; "
                f"copy the file again or leave it out"
            )

    center = _first_float(values, "WindowCenter")
    width = _first_float(values, "WindowWidth")
    slope = _first_float(values, "RescaleSlope")
    intercept = _first_float(values, "RescaleIntercept")
    return _Header(
        path=path,
        series_uid=_text(values, "SeriesInstanceUID"),
        study_uid=_text(values, "StudyInstanceUID"),
        description=_text(values, "SeriesDescription"),
        modality=_text(values, "Modality"),
        instance=_integer(values, "InstanceNumber"),
        position=_floats(values, "ImagePositionPatient", 3),  # type: ignore[arg-type]
        orientation=_floats(values, "ImageOrientationPatient", 6),
        rows=rows,
        cols=cols,
        pixel_spacing=_floats(values, "PixelSpacing", 2),  # type: ignore[arg-type]
        spacing_between=_first_float(values, "SpacingBetweenSlices"),
        thickness=_first_float(values, "SliceThickness"),
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        signed=_integer(values, "PixelRepresentation", 0) == 1,
        photometric=photometric,
        slope=1.0 if slope is None or slope == 0 else slope,
        intercept=0.0 if intercept is None else intercept,
        window=None if center is None or width is None else (center, width),
        transfer_syntax=values["_ts"],
        little_endian=values["_little"],
        value_offset=value_offset,
        value_length=value_length,
        split_tags={k: _text(values, k) for k in _SPLIT_TAGS if _text(values, k)},
    )


# --------------------------------------------------------------------------- grouping


def _same_geometry(a: _Header, b: _Header) -> bool:
    if (a.rows, a.cols) != (b.rows, b.cols):
        return False
    if (a.pixel_spacing is None) != (b.pixel_spacing is None):
        return False
    if a.pixel_spacing is not None and not np.allclose(
        a.pixel_spacing, b.pixel_spacing, rtol=_PIXEL_SPACING_RTOL, atol=1e-6
    ):
        return False
    if (a.orientation is None) != (b.orientation is None):
        return False
    return a.orientation is None or geometry.same_orientation(
        a.orientation, b.orientation, atol=_ORIENTATION_ATOL
    )


def _has_duplicates(stack: list[_Header]) -> bool:
    if len(stack) < 2 or any(h.position is None or h.orientation is None for h in stack):
        return False
    off = np.sort(geometry.slice_offsets([h.position for h in stack], stack[0].orientation))
    return bool(np.any(np.diff(off) <= _POSITION_ATOL))


def _split_stacks(headers: list[_Header]) -> list[list[_Header]]:
    """Stacks of one series, in the order of their lowest InstanceNumber."""
    groups: list[list[_Header]] = []
    for h in headers:
        for g in groups:
            if _same_geometry(g[0], h):
                g.append(h)
                break
        else:
            groups.append([h])

    stacks: list[list[_Header]] = []
    for g in groups:
        parts = [g]
        if _has_duplicates(g):
            # Interleaved acquisitions (echoes, time points) repeat the positions:
            # split by the first tag whose values make every part duplicate-free.
            for tag in _SPLIT_TAGS:
                values: dict[str, list[_Header]] = {}
                for h in g:
                    values.setdefault(str(h.split_tags.get(tag, "")), []).append(h)
                if len(values) > 1 and not any(map(_has_duplicates, values.values())):
                    parts = list(values.values())
                    break
        stacks.extend(parts)

    def key(stack: list[_Header]) -> tuple[int, str]:
        inst = [h.instance for h in stack if h.instance is not None]
        return (min(inst) if inst else 2**31, str(min(h.path for h in stack)))

    return sorted(stacks, key=key)


# --------------------------------------------------------------------------- one stack


def _order(
    stack: list[_Header], *, where: str, duplicates: str
) -> tuple[list[_Header], NDArray[np.float64] | None, list[str]]:
    """Slices in order, their distinct offsets (None without geometry), and notes."""
    notes: list[str] = []
    inst = np.array([-1 if h.instance is None else h.instance for h in stack])
    missing = [h for h in stack if h.position is None or h.orientation is None]
    if missing:
        if len(stack) > 1:
            if any(h.instance is None for h in stack):
                raise SeriesError(
                    f"{where}: {len(missing)} of {len(stack)} slices (e.g. "
                    f"{missing[0].path.name}) lack ImagePositionPatient or "
                    f"ImageOrientationPatient and some lack InstanceNumber, so the slices "
                    f"cannot be ordered"
                )
            warnings.warn(
                f"{where}: {len(missing)} of {len(stack)} slices (e.g. "
                f"{missing[0].path.name}) lack ImagePositionPatient or "
                f"ImageOrientationPatient; ordered by InstanceNumber instead, slice "
                f"spacing taken from SpacingBetweenSlices/SliceThickness",
                UserWarning,
                stacklevel=5,
            )
            notes.append("ordered by InstanceNumber: position tags missing")
        order = np.argsort(inst, kind="stable")
        return [stack[i] for i in order], None, notes

    offsets = geometry.slice_offsets([h.position for h in stack], stack[0].orientation)
    order = geometry.slice_order(offsets, inst, atol=_POSITION_ATOL)
    stack = [stack[i] for i in order]
    offsets = offsets[order]

    runs = geometry.duplicate_runs(offsets, atol=_POSITION_ATOL)
    if runs:
        described = ", ".join(
            "instances "
            + "/".join(str(stack[i].instance) for i in run)
            + f" at {offsets[run[0]]:.4g} mm"
            for run in runs[:5]
        ) + (f" and {len(runs) - 5} more" if len(runs) > 5 else "")
        if duplicates == "error":
            raise SeriesError(
                f"{where}: {len(runs)} position(s) hold more than one slice ({described}); "
                f"pass duplicates='keep' to keep them all (in InstanceNumber order), or "
                f"'first'/'last' to keep the lowest/highest InstanceNumber at each position"
            )
        if duplicates == "keep":
            notes.append(f"duplicate positions kept: {described}")
        else:
            drop = {
                int(i) for run in runs for i in (run[1:] if duplicates == "first" else run[:-1])
            }
            notes.append(
                f"duplicate positions: kept the {duplicates} InstanceNumber, dropped instances "
                + ", ".join(str(stack[i].instance) for i in sorted(drop))
            )
            keep = [i for i in range(len(stack)) if i not in drop]
            stack = [stack[i] for i in keep]
            offsets = offsets[keep]

    distinct = offsets[np.r_[True, np.diff(offsets) > _POSITION_ATOL]]
    gaps = geometry.irregular_steps(distinct, rtol=_STEP_RTOL, atol=_POSITION_ATOL)
    if gaps.size:
        steps = np.diff(distinct)
        by_offset = {round(float(o), 3): h for o, h in zip(offsets, stack, strict=True)}

        def name(i: int) -> str:
            return f"instance {by_offset[round(float(distinct[i]), 3)].instance}"

        listed = ", ".join(
            f"{steps[i]:.4g} mm between {name(i)} and {name(i + 1)} (slices {i}-{i + 1})"
            for i in gaps[:5]
        ) + (f" and {gaps.size - 5} more" if gaps.size > 5 else "")
        mean = (distinct[-1] - distinct[0]) / (distinct.size - 1)
        warnings.warn(
            f"{where}: irregular slice spacing: the median step is {np.median(steps):.4g} mm "
            f"but there are {listed}; the Volume's slice spacing is the mean step "
            f"{mean:.4g} mm",
            UserWarning,
            stacklevel=5,
        )
        notes.append(f"irregular slice spacing: {listed}")
    return stack, distinct, notes


def _build_volume(
    stack: list[_Header],
    *,
    where: str,
    duplicates: str,
    monochrome1: str,
    decoding_plugin: str,
    bar: Any,
) -> Volume:
    stack, distinct, notes = _order(stack, where=where, duplicates=duplicates)
    first = stack[0]
    n = len(stack)

    # Geometry.
    if first.pixel_spacing is None:
        notes.append("PixelSpacing missing: row and column spacing set to 1.0")
    dr, dc = first.pixel_spacing or (1.0, 1.0)
    nan3 = np.full(3, np.nan)
    positions = np.array([nan3 if h.position is None else h.position for h in stack])
    orientation = np.array(first.orientation if first.orientation is not None else [np.nan] * 6)
    if distinct is not None and distinct.size >= 2:
        slice_spacing = float(abs(distinct[-1] - distinct[0]) / (distinct.size - 1))
        step = (positions[-1] - positions[0]) / (distinct.size - 1)
    else:
        tagged = first.spacing_between or first.thickness
        if not tagged:
            notes.append("slice spacing unknown (no SpacingBetweenSlices/SliceThickness): 1.0")
        slice_spacing = float(abs(tagged)) if tagged else 1.0
        if first.orientation is not None and n == 1 and first.position is not None:
            step = geometry.slice_normal(first.orientation) * slice_spacing
        else:
            step = nan3
    if first.orientation is not None and not np.isnan(positions[0]).any():
        affine = geometry.voxel_affine(positions[0], orientation, (dr, dc), step)
    else:
        affine = np.full((4, 4), np.nan)
        affine[3] = (0, 0, 0, 1)

    # Values: one output dtype for the stack, chosen before decoding.
    integer = all(float(h.slope).is_integer() and float(h.intercept).is_integer() for h in stack)
    fits = all(_INT16.min <= h.output_range[0] and h.output_range[1] <= _INT16.max for h in stack)
    dtype = np.dtype(np.int16 if integer and fits else np.float32)
    invert = monochrome1 == "invert"

    out = np.empty((n, first.rows, first.cols), dtype=dtype)
    for i, h in enumerate(stack):
        _decode_into(out[i], h, decoding_plugin=decoding_plugin)
        _apply_values(out[i], h, invert=invert and h.photometric == "MONOCHROME1")
        bar.update()

    window = first.window
    if window is not None and invert and first.photometric == "MONOCHROME1":
        lo, hi = first.output_range
        window = (lo + hi - window[0], window[1])
    if invert and any(h.photometric == "MONOCHROME1" for h in stack):
        notes.append("MONOCHROME1 inverted to read as MONOCHROME2")

    return Volume(
        pixels=torch.from_numpy(out),
        instance_numbers=tuple(-1 if h.instance is None else h.instance for h in stack),
        positions=positions,
        orientation=orientation,
        files=tuple(h.path for h in stack),
        spacing=(slice_spacing, float(dr), float(dc)),
        affine=affine,
        series_uid=first.series_uid,
        description=first.description,
        modality=first.modality,
        photometric=first.photometric,
        transfer_syntax=str(first.transfer_syntax),
        dicom_window=window,
        study_uid=first.study_uid,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- pass 2


def _raw_dtype(h: _Header) -> np.dtype:
    kind = "i" if h.signed else "u"
    return np.dtype(f"{'<' if h.little_endian else '>'}{kind}{h.bits_allocated // 8}")


def _fix_unused_bits(a: NDArray[Any], bits_stored: int, signed: bool) -> None:
    """Clear (or sign-extend over) the bits above BitsStored, in place."""
    shift = a.dtype.itemsize * 8 - bits_stored
    if shift <= 0:
        return
    if signed:
        np.left_shift(a, shift, out=a)
        np.right_shift(a, shift, out=a)
    else:
        np.bitwise_and(a, (1 << bits_stored) - 1, out=a)


def _store(target: NDArray[Any], raw: NDArray[Any], h: _Header) -> None:
    """Copy one decoded frame into its slot of the output, fixing unused bits."""
    raw = raw.reshape(target.shape)
    if target.dtype == np.int16 and raw.dtype.itemsize == 2 and raw.dtype.isnative:
        # Same bytes: copy, then clear the unused bits in the output itself. Unsigned
        # data with 16 bits stored only gets here when its intercept brings it into
        # int16, and the wrapping int16 arithmetic of _apply_values lands right.
        np.copyto(target.view(raw.dtype), raw)
        _fix_unused_bits(target, h.bits_stored, h.signed)
        return
    raw = raw.astype(raw.dtype.newbyteorder("="), copy=not raw.flags.writeable)
    _fix_unused_bits(raw, h.bits_stored, h.signed)
    np.copyto(target, raw, casting="unsafe")


def _decode_into(target: NDArray[Any], h: _Header, *, decoding_plugin: str) -> None:
    ts = h.transfer_syntax
    if not ts.is_compressed and h.value_offset is not None and h.little_endian:
        _read_native(target, h)
        return
    plugin = _choose_plugin(h, decoding_plugin)
    try:
        if ts == RLELossless and plugin == "pylibjpeg" and h.value_offset is not None:
            raw = _decode_rle_fast(h)
        else:
            ds = pydicom.dcmread(h.path)
            raw, _ = get_decoder(ts).as_array(ds, raw=True, decoding_plugin=plugin)
    except SeriesError:
        raise
    except Exception as exc:
        tried = plugin or ", ".join(get_decoder(ts).available_plugins)
        fix = _PIP_FIX.get(ts)
        raise SeriesError(
            f"{h.path}: cannot decode its {ts.name} pixel data with {tried} "
            f"({type(exc).__name__}: {' '.join(str(exc).split())}); the file may be "
            f"truncated or damaged"
            + (f", or need another decoder: {fix}" if fix and ts != RLELossless else "")
        ) from exc
    _store(target, raw, h)


def _read_native(target: NDArray[Any], h: _Header) -> None:
    raw_dtype = _raw_dtype(h)
    direct = target.dtype == np.int16 and raw_dtype.itemsize == 2
    buf = target.view(raw_dtype) if direct else np.empty(target.shape, dtype=raw_dtype)
    with open(h.path, "rb", buffering=0) as fp:
        fp.seek(h.value_offset)  # type: ignore[arg-type]
        got = fp.readinto(memoryview(buf).cast("B"))
    if got != buf.nbytes:
        raise SeriesError(
            f"{h.path}: the pixel data is truncated ({got} of {buf.nbytes} bytes); "
            f"copy the file again or leave it out"
        )
    if direct:
        _fix_unused_bits(target, h.bits_stored, h.signed)
    else:
        _store(target, buf, h)


def _decode_rle_fast(h: _Header) -> NDArray[Any]:
    from rle.utils import decode_pixel_data

    with open(h.path, "rb") as fp:
        fp.seek(h.value_offset)  # type: ignore[arg-type]
        data = fp.read()
    frame = get_frame(data, 0, number_of_frames=1)
    decoded = decode_pixel_data(
        frame, version=2, rows=h.rows, columns=h.cols, bits_allocated=h.bits_allocated
    )
    kind = "i" if h.signed else "u"
    return np.frombuffer(decoded, dtype=f"<{kind}{h.bits_allocated // 8}")


def _choose_plugin(h: _Header, decoding_plugin: str) -> str:
    ts = h.transfer_syntax
    if not ts.is_compressed:
        return ""
    try:
        decoder = get_decoder(ts)
    except NotImplementedError as exc:
        raise SeriesError(
            f"{h.path}: its pixel data is in {ts.name} ({ts}), which pydicom cannot decode"
        ) from exc
    available = decoder.available_plugins
    fix = _PIP_FIX.get(ts, "see pydicom's list of decoding plugins")
    if not available:
        raise SeriesError(
            f"{h.path}: its pixel data is compressed as {ts.name} ({ts}) and no installed "
            f"package can decode it; fix: {fix}, then restart the kernel"
        )
    if decoding_plugin == "auto":
        return "pylibjpeg" if ts == RLELossless and "pylibjpeg" in available else ""
    if decoding_plugin not in available:
        raise SeriesError(
            f"decoding_plugin={decoding_plugin!r} cannot decode {ts.name} ({ts}) in "
            f"{h.path}: the plugins available here are {', '.join(available)}; "
            f"pass decoding_plugin='auto', or {fix}"
        )
    return decoding_plugin


def _apply_values(target: NDArray[Any], h: _Header, *, invert: bool) -> None:
    """Modality LUT then MONOCHROME1 inversion, in place."""
    if h.slope != 1.0 or h.intercept != 0.0:
        if target.dtype == np.int16:
            np.multiply(target, np.int32(h.slope), out=target, casting="unsafe")
            np.add(target, np.int32(h.intercept), out=target, casting="unsafe")
        else:
            np.multiply(target, np.float32(h.slope), out=target)
            np.add(target, np.float32(h.intercept), out=target)
    if invert:
        lo, hi = h.output_range
        total = np.int32(lo + hi) if target.dtype == np.int16 else np.float32(lo + hi)
        np.subtract(total, target, out=target, casting="unsafe")
