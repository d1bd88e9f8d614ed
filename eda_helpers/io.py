"""Read DICOM series from files: find, group, sort and decode.

This is the only module that knows about files and pydicom. It turns a folder (or a
list of files) into :class:`~eda_helpers.volume.Volume` objects in four steps:

1. **Find**: every regular file in the folder that is DICOM and holds PixelData is a
   slice, whatever its name; a Siemens MOSAIC image gives one slice per tile
   (:mod:`eda_helpers._mosaic`) and an enhanced multi-frame file one slice per frame
   (:mod:`eda_helpers._multiframe`). DICOMDIR files, non-DICOM files and DICOM files
   without pixel data are skipped, with one warning that names them; damaged files
   (empty, truncated, values the standard forbids) are skipped with another warning
   and noted on the Volume, or refused (``on_damaged="error"``). The headers are
   parsed by :mod:`eda_helpers._header` into :class:`SliceHeader` records.
2. **Group**: by SeriesInstanceUID, then into *stacks*: slices that share the
   orientation (ImageOrientationPatient, within 0.001 per direction cosine), the slice
   size (Rows, Columns) and PixelSpacing. Slices of one geometry that sit at the same
   positions are split further by EchoNumbers, TemporalPositionIdentifier,
   AcquisitionNumber or (enhanced files) StackID, but only when that tag is what
   makes the positions repeat: a tag that merely differs from slice to slice never
   splits a stack.
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

# First, before any other pydicom import: a pydicom older than 3.0 gets one clear
# ImportError that names the version found and the fix.
from . import _header  # noqa: F401

# isort: split

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydicom
import torch
from numpy.typing import NDArray
from pydicom.encaps import get_frame
from pydicom.pixels import get_decoder
from pydicom.uid import (
    UID,
    JPEG2000TransferSyntaxes,
    JPEGLSTransferSyntaxes,
    JPEGTransferSyntaxes,
    RLELossless,
)
from tqdm.auto import tqdm

from . import _checks, _mosaic, geometry
from ._header import (
    SPLIT_TAGS,
    DamagedFileError,
    SeriesError,
    SliceHeader,
    read_header,
)
from .volume import Volume

__all__ = ["SeriesError", "SliceHeader", "read_headers", "read_series", "read_stacks"]

PathInput = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
Duplicates = Literal["error", "keep", "first", "last"]
OnDamaged = Literal["warn", "error"]
DecodingPlugin = Literal["auto", "pydicom", "pylibjpeg", "gdcm", "pillow", "pyjpegls"]

#: Number of files from which ``progress=None`` shows a progress bar.
PROGRESS_MIN_FILES = 200

# PixelSpacing that differs by less than this (relative) is the same; the position,
# orientation and step tolerances are geometry's (POSITION_ATOL, ORIENTATION_ATOL, STEP_RTOL).
_PIXEL_SPACING_RTOL = 1e-4

_PIP_FIX = {
    **dict.fromkeys(JPEGLSTransferSyntaxes, "pip install pylibjpeg pylibjpeg-libjpeg"),
    **dict.fromkeys(JPEGTransferSyntaxes, "pip install pylibjpeg pylibjpeg-libjpeg"),
    **dict.fromkeys(JPEG2000TransferSyntaxes, "pip install pylibjpeg pylibjpeg-openjpeg"),
    RLELossless: 'pip install "eda_helpers[fast]"  (pylibjpeg and pylibjpeg-rle)',
}

_INT16 = np.iinfo(np.int16)


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
    on_damaged: OnDamaged = "warn",
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
    on_damaged : {"warn", "error"}, default "warn"
        What to do with a damaged file: one that is empty, is named like a DICOM file
        (``.dcm``, ``.dicom``, ``.dic``, ``.ima``) but is not one, is truncated, has a
        tag value the standard forbids (see Notes), or whose pixel data fails to
        decode. "warn" leaves it out, with one warning listing every such file, and
        a note per file in ``Volume.notes``; "error" raises :class:`SeriesError`
        naming the first and counting the others.

    Returns
    -------
    Volume
        The pixels as a ``(slices, rows, cols)`` tensor, slice 0 first along the
        slice normal (see Notes), with the geometry and metadata of the series.

    Raises
    ------
    FileNotFoundError
        If ``path`` (or a file in the list) does not exist.
    TypeError
        If ``path`` is not a path or a list of paths, or an option has the wrong type.
    SeriesError
        If a file is damaged and ``on_damaged`` is "error" (see Notes); if a path
        in the list is a FIFO, socket or device; if no DICOM image is found; if the
        folder holds several series and
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
        once per call, naming the damaged files left out (``on_damaged="warn"``);
        once per session, when RLE Lossless data is decoded by pydicom's own decoder
        because the fast extra is missing;
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
    a missing RescaleSlope counts as 1 and a missing RescaleIntercept as 0. A Modality
    LUT Sequence is not applied: such files raise :class:`SeriesError`.

    **Damaged files.** Values the standard forbids are never clamped or replaced by a
    default: a RescaleSlope or RescaleIntercept that is not a finite number, a slope
    of 0, BitsStored outside 1..BitsAllocated, a PixelRepresentation other than 0/1,
    a PixelSpacing that is not two positive numbers, an ImagePositionPatient or
    ImageOrientationPatient that is not 3 or 6 finite numbers or whose cosines define
    no plane, an InstanceNumber that is not whole, pixel data shorter than
    Rows x Columns x BitsAllocated/8 (x NumberOfFrames) or a frame or more longer, a
    compressed image larger than its data can hold (64 times the bytes for RLE), and
    a decoder's failure of any kind (a plugin's panic included) all make the file
    damaged: see ``on_damaged``. Soft problems (a malformed window, a PixelData length
    that runs past the end of a file holding every needed byte, padding after the
    pixels) are kept in ``Volume.notes``.

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
        on_damaged=on_damaged,
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
    on_damaged: OnDamaged = "warn",
) -> list[Volume]:
    """Read every stack of one series, such as the separately angled axial stacks.

    A stack is a set of slices sharing orientation, slice size and pixel spacing (see
    the module docstring). The RSNA Axial T2 series often hold one stack of about five
    slices per intervertebral disc, all under one SeriesInstanceUID.

    Parameters
    ----------
    path : str, path-like, or sequence of them
        A folder holding the files of one series, or a list of files.
    series_uid, recursive, duplicates, monochrome1, decoding_plugin, progress, on_damaged
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
        on_damaged=on_damaged,
    )


def read_headers(
    files: Sequence[str | os.PathLike[str]],
) -> tuple[list[list[SliceHeader]], list[tuple[Path, str]]]:
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
    stacks : list of list of SliceHeader
        One list per stack, in the order of :func:`read_stacks` (series by UID, then
        each series' stacks by lowest InstanceNumber); the slices of a stack are in
        the order of ``files``, not sorted. A file gives one record, except a Siemens
        MOSAIC (one per tile) and a multi-frame file (one per frame): count distinct
        ``path`` values to count files. Records whose ImageOrientationPatient defines
        no plane are kept (``read_series`` refuses them).
    unreadable : list of (Path, str)
        The files left out, each with the reason ("not DICOM", "no pixel data", "not
        a regular file", or why it cannot be read, such as truncated pixel data or a
        forbidden tag value), in the order of ``files``. Every file given is either in
        a stack or here.

    Examples
    --------
    >>> from pathlib import Path
    >>> import pydicom.data
    >>> folder = Path(pydicom.data.__file__).parent / "test_files/dicomdirtests/98892001/CT5N"
    >>> stacks, unreadable = read_headers(sorted(folder.iterdir()))
    >>> [len(s) for s in stacks], sorted(h.instance for h in stacks[0]), unreadable
    ([5], [6, 7, 8, 9, 10], [])
    """
    headers, unreadable = _read_each(files)
    return _stacks_of(headers), unreadable


def _stacks_of(headers: list[SliceHeader]) -> list[list[SliceHeader]]:
    """The grouping half of :func:`read_headers`: by SeriesInstanceUID, then stacks."""
    by_uid: dict[str, list[SliceHeader]] = {}
    for h in headers:
        by_uid.setdefault(h.series_uid, []).append(h)
    return [s for uid in sorted(by_uid) for s in _split_stacks(by_uid[uid])]


def _read_each(
    files: Sequence[str | os.PathLike[str]], names: Sequence[str] | None = None
) -> tuple[list[SliceHeader], list[tuple[Path, str]]]:
    """The reading half of :func:`read_headers`: every record of ``files`` in their
    order, and the files left out with the reason, without grouping them into stacks
    (for callers that look slices up by instance and need no stacks).

    ``names`` are the files as strings, one per file, when a listing has them
    (:func:`_folder_listing`): the files are opened by them (see :func:`read_header`).
    """
    headers: list[SliceHeader] = []
    unreadable: list[tuple[Path, str]] = []
    paths = _checks.paths("files", files)
    if names is not None and len(names) != len(paths):
        raise ValueError(f"names: expected one per file ({len(paths)}), got {len(names)}")
    for i, f in enumerate(paths):
        found: list[SliceHeader] | str = []
        try:
            found = read_header(f, fragments=True, name=None if names is None else names[i])
            reason = found if isinstance(found, str) else None
        except Exception as exc:  # a survey reports a bad file, it never stops on one
            text = " ".join(str(exc).split())
            if isinstance(exc, SeriesError):
                reason = text.removeprefix(f"{f}: ")
            else:
                reason = f"unreadable ({type(exc).__name__}: {text})"
        if reason is None and not isinstance(found, str):
            headers.extend(found)
        elif reason is not None:
            unreadable.append((f, reason))
    return headers, unreadable


# --------------------------------------------------------------------------- driver


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
    on_damaged: str = "warn",
) -> list[Volume]:
    _checks.choice("duplicates", duplicates, ("error", "keep", "first", "last"))
    _checks.choice("on_damaged", on_damaged, ("warn", "error"))
    _checks.choice("monochrome1", monochrome1, ("invert", "keep"))
    _checks.choice(
        "decoding_plugin",
        decoding_plugin,
        ("auto", "pydicom", "pylibjpeg", "gdcm", "pillow", "pyjpegls"),
    )
    if series_uid is not None and not isinstance(series_uid, str):
        raise TypeError(
            f"series_uid: expected a SeriesInstanceUID string or None, got "
            f"{type(series_uid).__name__} {series_uid!r:.80}; pass it as a str"
        )
    _checks.boolean("recursive", recursive)
    _checks.boolean("progress", progress, none=True)
    files, where = _list_files(path, recursive=recursive)
    show = len(files) >= PROGRESS_MIN_FILES if progress is None else bool(progress)

    with tqdm(total=len(files), desc="headers", unit="file", disable=not show) as bar:
        headers: list[SliceHeader] = []
        skipped: list[str] = []
        damaged: list[tuple[Path, str]] = []
        planes: dict[tuple[float, ...], str | None] = {}  # a series shares a few
        for f in files:
            try:
                found = read_header(f)
            except DamagedFileError as exc:
                damaged.append((f, _reason(exc, f)))
                found = []
            if isinstance(found, str):
                if found == "not DICOM" and f.suffix.lower() in _DICOM_SUFFIXES:
                    damaged.append((f, f"not DICOM, though named {f.suffix}"))
                else:
                    skipped.append(f"{f.name} ({found})")
            else:
                for h in found:
                    if h.orientation is not None and h.orientation not in planes:
                        planes[h.orientation] = _orientation_problem(h.orientation)
                    problem = None if h.orientation is None else planes[h.orientation]
                    if problem is not None:
                        damaged.append((f, _bad_orientation(h, problem)))
                        break
                else:
                    headers.extend(found)
            bar.update()
        if damaged and on_damaged == "error":
            raise _refusal(damaged)
        if skipped:
            shown = ", ".join(skipped[:10]) + (
                f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
            )
            _checks.warn(
                f"{where}: skipped {len(skipped)} file(s) that hold no DICOM image: {shown}"
            )
        if not headers:
            if damaged:  # nothing left to show: an error, not a warning
                raise _refusal(damaged)
            raise SeriesError(
                f"{where}: no DICOM image found among {len(files)} file(s)"
                + (" (subfolders are not searched; pass recursive=True)" if not recursive else "")
            )
        series = _select_series(headers, series_uid, where)
        stacks = _split_stacks(series)
        if one_stack and len(stacks) > 1:
            raise SeriesError(
                f"{where}: series {series[0].series_uid} {series[0].description!r} holds "
                f"{len(stacks)} stacks with different orientation, slice size, pixel "
                f"spacing or line of positions ({_describe_stacks(stacks)}); read_series "
                f"returns one stack: "
                f"use read_stacks() to get all of them as a list"
            )

        bar.reset(total=sum(len(s) for s in stacks))
        bar.set_description("pixels")
        volumes = []
        for stack in stacks:
            while True:
                try:
                    vol = _build_volume(
                        stack,
                        where=where,
                        duplicates=duplicates,
                        monochrome1=monochrome1,
                        decoding_plugin=decoding_plugin,
                        bar=bar,
                    )
                    break
                except _DecodeFailure as failure:
                    if on_damaged == "error":
                        raise failure.error from failure.error.__cause__
                    # Skip the slice and build the stack again: rare, so decoding twice
                    # costs less than bookkeeping for a partly filled array.
                    damaged.append(
                        (failure.header.path, _reason(failure.error, failure.header.path))
                    )
                    stack = [h for h in stack if h.path != failure.header.path]
                    if not stack:  # nothing left to show: an error, not a warning
                        raise _refusal(damaged) from None
            volumes.append(vol)
    if damaged:
        _checks.warn(
            f"{where}: skipped {len(damaged)} damaged file(s): {_listing(damaged)}; they "
            f"are left out of the Volume (and listed in Volume.notes): copy them again, "
            f"or pass on_damaged='error' to refuse the series"
        )
        extra = tuple(f"damaged file skipped: {p.name} ({why})" for p, why in damaged)
        volumes = [dataclasses.replace(v, notes=v.notes + extra) for v in volumes]
    return volumes


# Names that claim a DICOM file: one that is not DICOM is damaged, not a stray file.
_DICOM_SUFFIXES = (".dcm", ".dicom", ".dic", ".ima")


def _reason(exc: BaseException, f: Path) -> str:
    return " ".join(str(exc).split()).removeprefix(f"{f}: ")


def _listing(damaged: list[tuple[Path, str]]) -> str:
    shown = "; ".join(f"{p.name} ({why})" for p, why in damaged[:5])
    return shown + (f"; and {len(damaged) - 5} more" if len(damaged) > 5 else "")


def _refusal(damaged: list[tuple[Path, str]]) -> SeriesError:
    """The error for ``on_damaged="error"``: the first file's reason, the others named."""
    path, why = damaged[0]
    more = (
        f" ({len(damaged) - 1} more damaged: {_listing(damaged[1:])})" if len(damaged) > 1 else ""
    )
    return DamagedFileError(f"{path}: {why}{more}")


def _defines_plane(orientation: tuple[float, ...]) -> bool:
    try:
        geometry._normal_floats(orientation)  # slice_normal's test, without an array
    except ValueError:
        return False
    return True


def _orientation_problem(orientation: tuple[float, ...]) -> str | None:
    """Why a slice's ImageOrientationPatient places its pixels nowhere, else None."""
    if not _defines_plane(orientation):
        return "defines no plane (its row and column cosines are zero or parallel)"
    return geometry.orientation_problem(orientation)


def _bad_orientation(h: SliceHeader, problem: str) -> str:
    shown = "\\".join(f"{v:g}" for v in h.orientation or ())
    return (
        f"ImageOrientationPatient {shown!r} {problem}; the file is damaged: copy it again "
        f"or leave it out"
    )


class _DecodeFailure(Exception):
    """Pass 2 could not decode one slice; carries the SeriesError for it."""

    def __init__(self, header: SliceHeader, error: SeriesError) -> None:
        super().__init__(str(error))
        self.header, self.error = header, error


def _list_files(path: object, *, recursive: bool) -> tuple[list[Path], str]:
    if isinstance(path, str | os.PathLike):
        folder = _checks.path("path", path)
        if not folder.exists():
            raise FileNotFoundError(f"path: {str(folder)!r} does not exist")
        if not folder.is_dir():
            _require_regular("path", folder)
            return [folder], str(folder)
        if recursive:
            files = sorted(p for p in folder.rglob("*") if p.is_file())
        else:
            files = _folder_files(folder)
        if not files:
            raise SeriesError(
                f"{folder}: the folder holds no files"
                + ("" if recursive else " (subfolders are not searched; pass recursive=True)")
            )
        return files, str(folder)
    if path is None or not isinstance(path, Sequence):
        raise TypeError(
            f"path: expected a folder or a list of files (str or os.PathLike), got "
            f"{type(path).__name__} {path!r:.80}; pass the series folder, such as "
            f"'train_images/<study_id>/<series_id>'"
        )
    files = _checks.paths("path", path)
    if not files:
        raise SeriesError("path: the list of files is empty; pass at least one DICOM file")
    for f in files:
        if not f.exists():
            raise FileNotFoundError(f"path: {str(f)!r} does not exist; the list must hold files")
        if f.is_dir():
            raise FileNotFoundError(f"path: {str(f)!r} is a folder; the list must hold files")
        _require_regular("path", f)
    return files, f"the {len(files)} file(s) given"


def _folder_files(folder: Path) -> list[Path]:
    """The regular files in ``folder`` (symbolic links followed), sorted as Paths sort.

    What ``sorted(p for p in folder.iterdir() if p.is_file())`` gives, without a stat
    per file: the entries of ``os.scandir`` know their type.
    """
    return _folder_listing(folder)[0]


def _folder_listing(folder: Path) -> tuple[list[Path], list[str]]:
    """:func:`_folder_files`, with each file's path as a string too (the readers open
    those: see :func:`read_header`)."""
    with os.scandir(folder) as entries:
        found = [(e.name, e.path) for e in entries if e.is_file()]
    if os.name == "posix":  # the Paths of one folder sort as their names
        found.sort()
        return [folder / n for n, _ in found], [p for _, p in found]
    paths = sorted((folder / n, p) for n, p in found)  # Windows paths sort without case
    return [f for f, _ in paths], [p for _, p in paths]


def _require_regular(name: str, f: Path) -> None:
    """Refuse a FIFO, socket or device: reading one would block or never end."""
    if not f.is_file():
        raise SeriesError(
            f"{name}: {str(f)!r} is not a regular file (a FIFO, socket or device), which "
            f"cannot hold a DICOM image; pass the files of the series"
        )


def _select_series(
    headers: list[SliceHeader], series_uid: str | None, where: str
) -> list[SliceHeader]:
    by_uid: dict[str, list[SliceHeader]] = {}
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


def _describe_stacks(stacks: list[list[SliceHeader]]) -> str:
    parts = []
    for s in stacks:
        inst = [h.instance for h in s if h.instance is not None]
        span = f", instances {min(inst)}-{max(inst)}" if len(inst) > 1 else ""
        span = f", instance {inst[0]}" if len(inst) == 1 else span
        parts.append(f"{len(s)} slice{'s' if len(s) != 1 else ''} of {s[0].rows}x{s[0].cols}{span}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- grouping


def _same_geometry(a: SliceHeader, b: SliceHeader) -> bool:
    if (a.rows, a.cols) != (b.rows, b.cols):
        return False
    if a.pixel_spacing == b.pixel_spacing and a.orientation == b.orientation:
        return True  # the same tag values, the common case: no tolerance to apply
    if (a.pixel_spacing is None) != (b.pixel_spacing is None):
        return False
    if (
        a.pixel_spacing is not None
        and b.pixel_spacing is not None
        # np.allclose(a, b, rtol=_PIXEL_SPACING_RTOL, atol=1e-6) on two numbers each, in
        # plain floats (the same test, infinities included, a twentieth of the time)
        and not all(
            x == y or abs(x - y) <= 1e-6 + _PIXEL_SPACING_RTOL * abs(y)
            for x, y in zip(a.pixel_spacing, b.pixel_spacing, strict=True)
        )
    ):
        return False
    if a.orientation is None or b.orientation is None:
        return a.orientation is None and b.orientation is None
    return geometry.same_orientation(a.orientation, b.orientation)


def _has_duplicates(stack: list[SliceHeader]) -> bool:
    if len(stack) < 2 or any(h.position is None or h.orientation is None for h in stack):
        return False
    orientation = stack[0].orientation
    assert orientation is not None
    try:
        offsets = geometry._offset_floats([h.position for h in stack], orientation)
    except ValueError:  # no plane: read_headers keeps such records; read_series refuses them
        return False
    return bool(geometry.duplicate_runs(sorted(offsets)))


def _on_lines(stack: list[SliceHeader]) -> list[list[SliceHeader]]:
    """A stack split where its slices do not lie on one line (geometry.line_groups):
    parallel stacks shifted within their plane, or a slice out of place."""
    positions = [p for h in stack if (p := h.position) is not None]
    orientation = stack[0].orientation
    if len(stack) < 3 or len(positions) < len(stack) or orientation is None:
        return [stack]
    if not _defines_plane(orientation):
        return [stack]
    groups = geometry.line_groups(positions, orientation)
    return [stack] if len(groups) == 1 else [[stack[i] for i in g] for g in groups]


def _split_stacks(headers: list[SliceHeader]) -> list[list[SliceHeader]]:
    """Stacks of one series, in the order of their lowest InstanceNumber."""
    # Each slice joins the first group whose first slice has its geometry (within the
    # tolerances of _same_geometry). That depends only on the slice's exact tag values,
    # so the search runs once per distinct set of values, not once per slice.
    groups: list[list[SliceHeader]] = []
    by_tags: dict[tuple[Any, ...], list[SliceHeader]] = {}
    for h in headers:
        tags = (h.rows, h.cols, h.pixel_spacing, h.orientation)
        group = by_tags.get(tags)
        if group is None:
            group = next((g for g in groups if _same_geometry(g[0], h)), None)
            if group is None:
                group = []
                groups.append(group)
            by_tags[tags] = group
        group.append(h)

    stacks: list[list[SliceHeader]] = []
    for g in groups:
        parts = [g]
        if _has_duplicates(g):
            # Interleaved acquisitions (echoes, time points) repeat the positions:
            # split by the first tag whose values make every part duplicate-free.
            for tag in SPLIT_TAGS:
                values: dict[str, list[SliceHeader]] = {}
                for h in g:
                    values.setdefault(str(h.split_tags.get(tag, "")), []).append(h)
                if len(values) > 1 and not any(map(_has_duplicates, values.values())):
                    parts = list(values.values())
                    break
        stacks.extend(q for p in parts for q in _on_lines(p))

    def lowest(stack: list[SliceHeader]) -> int:
        inst = [h.instance for h in stack if h.instance is not None]
        return min(inst) if inst else 2**31

    first = [lowest(s) for s in stacks]
    if len(set(first)) == len(first):  # no tie for the path to break (comparing paths is slow)
        return [stacks[i] for i in sorted(range(len(stacks)), key=first.__getitem__)]
    return sorted(stacks, key=lambda s: (lowest(s), str(min(h.path for h in s))))


# --------------------------------------------------------------------------- one stack


def _order(
    stack: list[SliceHeader], *, where: str, duplicates: str
) -> tuple[list[SliceHeader], NDArray[np.float64] | None, list[str]]:
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
            by = "frame number" if stack[0].frames > 1 else "InstanceNumber"
            _checks.warn(
                f"{where}: {len(missing)} of {len(stack)} slices (e.g. "
                f"{missing[0].path.name}) lack ImagePositionPatient or "
                f"ImageOrientationPatient; ordered by {by} instead, slice "
                f"spacing taken from SpacingBetweenSlices/SliceThickness"
            )
            notes.append(f"ordered by {by}: position tags missing")
        order = np.argsort(inst, kind="stable")
        return [stack[i] for i in order], None, notes

    positions = [h.position for h in stack if h.position is not None]
    orientation = stack[0].orientation
    assert orientation is not None and len(positions) == len(stack)  # checked just above
    facts = geometry.stack_facts(positions, orientation, inst)
    stack = [stack[i] for i in facts.order]
    offsets, distinct, gaps = facts.offsets, facts.distinct, facts.irregular
    runs = facts.duplicate_runs
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
            offsets = distinct = offsets[keep]
            gaps = geometry.irregular_steps(distinct)
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
        _checks.warn(
            f"{where}: irregular slice spacing: the median step is {np.median(steps):.4g} mm "
            f"but there are {listed}; the Volume's slice spacing is the mean step "
            f"{mean:.4g} mm"
        )
        notes.append(f"irregular slice spacing: {listed}")
    return stack, distinct, notes


def _build_volume(
    stack: list[SliceHeader],
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
    if first.mosaic_tiles:
        notes.append(
            f"Siemens MOSAIC {first.path.name} unpacked into {n} slices; instance_numbers "
            f"are tile numbers (1 = the first tile)"
        )
    elif first.frames > 1:
        notes.append(
            f"enhanced multi-frame {first.path.name}: instance_numbers are frame numbers "
            f"(1 = the first frame)"
        )
    soft = list(dict.fromkeys(note for h in stack for note in h.notes))
    if soft:
        _checks.warn(f"{where}: " + "; ".join(soft[:5]) + (" ..." if len(soft) > 5 else ""))
        notes.extend(soft)

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
    cache: dict[str, Any] = {}  # the last file's dataset or mosaic, for its other frames
    for i, h in enumerate(stack):
        _decode_into(out[i], h, decoding_plugin=decoding_plugin, cache=cache)
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


def _raw_dtype(h: SliceHeader) -> np.dtype:
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


def _store(target: NDArray[Any], raw: NDArray[Any], h: SliceHeader) -> None:
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


def _decode_into(
    target: NDArray[Any], h: SliceHeader, *, decoding_plugin: str, cache: dict[str, Any]
) -> None:
    """Decode the pixels of ``h`` into ``target``; a damaged file raises _DecodeFailure."""
    ts = h.transfer_syntax
    if not ts.is_compressed and h.value_offset is not None and h.little_endian:
        if not h.mosaic_tiles:
            _read_native(target, h)
            return
    plugin = _choose_plugin(h, decoding_plugin)
    if ts == RLELossless and not plugin:
        _warn_slow_rle()  # outside the try: under -W error it must not look like damage
    try:
        if h.mosaic_tiles:
            full = cache.get("mosaic") if cache.get("path") == h.path else None
            if full is None:
                tiles = h.mosaic_tiles
                full = _decode_frame(h, plugin, cache, h.rows * tiles, h.cols * tiles)
                cache.update(path=h.path, mosaic=full)
            raw = _mosaic.tile(full, h)
        else:
            raw = _decode_frame(h, plugin, cache, h.rows, h.cols)
        if raw.size != target.size:
            raise SeriesError(
                f"decoded {raw.size} pixels where Rows x Columns is {h.rows}x{h.cols} = "
                f"{target.size}"
            )
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # pylibjpeg-rle panics with a BaseException
        tried = plugin or ", ".join(get_decoder(ts).available_plugins)
        fix = _PIP_FIX.get(ts)
        text = " ".join(str(exc).split())
        error = DamagedFileError(
            f"{h.path}: cannot decode its {ts.name} pixel data with {tried} "
            f"({type(exc).__name__}: {text}); the file may be truncated or damaged"
            + (f", or need another decoder: {fix}" if fix and ts != RLELossless else "")
            + (
                "; decoding_plugin='pydicom' may still read it"
                if tried != "pydicom" and "pydicom" in _available(ts)
                else ""
            )
        )
        error.__cause__ = exc if isinstance(exc, Exception) else None
        raise _DecodeFailure(h, error) from None
    _store(target, raw, h)


def _available(ts: UID) -> tuple[str, ...]:
    try:
        return tuple(get_decoder(ts).available_plugins)
    except NotImplementedError:
        return ()


def _decode_frame(
    h: SliceHeader, plugin: str, cache: dict[str, Any], rows: int, cols: int
) -> NDArray[Any]:
    """The stored values of frame ``h.frame`` of the file (a whole mosaic image)."""
    ts = h.transfer_syntax
    if ts == RLELossless and plugin == "pylibjpeg" and h.value_offset is not None:
        return _decode_rle_fast(h, rows, cols, cache)
    if not ts.is_compressed and h.value_offset is not None and h.little_endian:
        # An uncompressed mosaic: the whole image, read from the file.
        buf = np.empty((rows, cols), dtype=_raw_dtype(h))
        _read_into(buf, h, h.value_offset)
        return buf
    ds = cache.get("dataset") if cache.get("path") == h.path else None
    if ds is None:
        ds = pydicom.dcmread(h.path)
        cache.clear()
        cache.update(path=h.path, dataset=ds)
    index = h.frame if h.frames > 1 else None
    raw, _ = get_decoder(ts).as_array(ds, raw=True, index=index, decoding_plugin=plugin)
    return raw


#: Measured by benchmarks/bench_read_series.py: pydicom's RLE decoder against
#: pylibjpeg-rle on 512x512 slices (8.5x on Kaggle's image).
SLOW_RLE_FACTOR = 10
_slow_rle_warned = False


def _fast_rle_available() -> bool:
    return "pylibjpeg" in _available(RLELossless)


def _warn_slow_rle() -> None:
    global _slow_rle_warned
    if _slow_rle_warned or _fast_rle_available():
        return
    _slow_rle_warned = True
    _checks.warn(
        f"RLE Lossless pixel data is decoded by pydicom's own decoder, about "
        f"{SLOW_RLE_FACTOR}x slower than pylibjpeg-rle, which is not installed: "
        f'pip install "eda_helpers[fast]" (or pip install pylibjpeg pylibjpeg-rle), then '
        f"restart the kernel. Offline on Kaggle: on a machine with internet, "
        f"pip download pylibjpeg pylibjpeg-rle -d wheels, upload the folder as a "
        f"dataset, add it to the notebook and pip install --no-index --find-links "
        f"/kaggle/input/<dataset> pylibjpeg pylibjpeg-rle. "
        f"(This warning is shown once per session.)"
    )


def _read_into(buf: NDArray[Any], h: SliceHeader, offset: int) -> None:
    with open(h.path, "rb", buffering=0) as fp:
        fp.seek(offset)
        got = fp.readinto(memoryview(buf).cast("B"))  # type: ignore[arg-type]
    if got != buf.nbytes:
        raise DamagedFileError(
            f"{h.path}: the pixel data is truncated ({got} of {buf.nbytes} bytes); "
            f"copy the file again or leave it out"
        )


def _read_native(target: NDArray[Any], h: SliceHeader) -> None:
    raw_dtype = _raw_dtype(h)
    direct = target.dtype == np.int16 and raw_dtype.itemsize == 2
    buf = target.view(raw_dtype) if direct else np.empty(target.shape, dtype=raw_dtype)
    try:
        _read_into(buf, h, h.value_offset + h.frame * buf.nbytes)  # type: ignore[operator]
    except DamagedFileError as exc:
        raise _DecodeFailure(h, exc) from None
    if direct:
        _fix_unused_bits(target, h.bits_stored, h.signed)
    else:
        _store(target, buf, h)


def _decode_rle_fast(h: SliceHeader, rows: int, cols: int, cache: dict[str, Any]) -> NDArray[Any]:
    from rle.utils import decode_pixel_data

    data = cache.get("encapsulated") if cache.get("path") == h.path else None
    if data is None:
        with open(h.path, "rb") as fp:
            fp.seek(h.value_offset)  # type: ignore[arg-type]
            data = fp.read()
        if h.frames > 1:  # kept for the file's other frames
            cache.clear()
            cache.update(path=h.path, encapsulated=data)
    # A mosaic's tiles share its one frame; frames of a multi-frame file are indexed.
    index = 0 if h.mosaic_tiles else h.frame
    frame = get_frame(data, index, number_of_frames=h.frames)
    decoded = decode_pixel_data(
        frame, version=2, rows=rows, columns=cols, bits_allocated=h.bits_allocated
    )
    kind = "i" if h.signed else "u"
    return np.frombuffer(decoded, dtype=f"<{kind}{h.bits_allocated // 8}")


def _choose_plugin(h: SliceHeader, decoding_plugin: str) -> str:
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


def _apply_values(target: NDArray[Any], h: SliceHeader, *, invert: bool) -> None:
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
