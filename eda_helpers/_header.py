"""The header parser: what one DICOM file says about its slice, without its pixels.

:func:`read_header` turns one file into :class:`SliceHeader` records (or a reason to
skip it). Each header is parsed up to PixelData by a small reader for the common
layout (little-endian, header under 64 kB); pydicom takes over for anything else.
pydicom spends most of a small file's read time on objects this reader never needs:
``benchmarks/bench_read_series.py`` measures the difference.

This module knows about bytes, tags and pydicom; grouping, ordering and decoding
live in :mod:`eda_helpers.io`.
"""

from __future__ import annotations

import functools
import math
import os
import stat
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom

#: The oldest pydicom this package runs on (it uses pydicom.pixels, new in 3.0).
PYDICOM_MIN = (3, 0)


def check_pydicom() -> None:
    """Refuse a pydicom older than :data:`PYDICOM_MIN` with one clear ImportError."""
    found = str(getattr(pydicom, "__version__", "0"))
    try:
        version = tuple(int(part) for part in found.split(".")[:2])
    except ValueError:
        return  # a development build: let it try
    if version < PYDICOM_MIN:
        raise ImportError(
            f"eda_helpers needs pydicom >= {'.'.join(map(str, PYDICOM_MIN))}, found pydicom "
            f"{found} ({getattr(pydicom, '__file__', '?')}); fix: pip install --upgrade "
            f"'pydicom>=3' and restart the kernel (offline on Kaggle: attach a dataset "
            f"holding the pydicom 3 wheel and pip install --no-index --find-links "
            f"/kaggle/input/<dataset> pydicom)"
        )


check_pydicom()

from pydicom.errors import InvalidDicomError  # noqa: E402  (after the version check)
from pydicom.uid import (  # noqa: E402
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
    RLELossless,
)

__all__ = [
    "DamagedFileError",
    "SeriesError",
    "SliceHeader",
    "encapsulated_problem",
    "read_header",
]

# Acquisition tags that may separate stacks sharing the same positions.
SPLIT_TAGS = ("EchoNumbers", "TemporalPositionIdentifier", "AcquisitionNumber", "StackID")


class SeriesError(ValueError):
    """A folder or list of files that cannot be read as the series asked for.

    Raised for: no DICOM images found, several series where one was expected, a stack
    split where one stack was expected, duplicate slice positions (by default), a
    truncated or unreadable file, and pixel data that no installed package can decode.
    The message names the folder or file, the rule, and what to do about it.
    """


@dataclass(frozen=True, eq=False)
class SliceHeader:
    """What the header of one file says about one slice (everything but the pixels).

    :func:`eda_helpers.io.read_headers` returns these records; records compare by
    identity.

    Attributes
    ----------
    path : Path
        The file.
    series_uid, study_uid, description, modality : str
        SeriesInstanceUID, StudyInstanceUID, SeriesDescription, Modality ("" if missing).
    instance : int or None
        InstanceNumber.
    position : tuple of 3 floats or None
        ImagePositionPatient (mm).
    orientation : tuple of 6 floats or None
        ImageOrientationPatient.
    rows, cols : int
        Rows and Columns of the slice.
    pixel_spacing : tuple of 2 floats or None
        PixelSpacing (row, column) in mm.
    spacing_between, thickness : float or None
        SpacingBetweenSlices and SliceThickness (mm).
    bits_allocated, bits_stored : int
        BitsAllocated and BitsStored.
    signed : bool
        PixelRepresentation is 1.
    photometric : str
        PhotometricInterpretation.
    slope, intercept : float
        RescaleSlope and RescaleIntercept (1 and 0 when missing).
    window : tuple of 2 floats or None
        (WindowCenter, WindowWidth), first values.
    transfer_syntax : pydicom.uid.UID
        TransferSyntaxUID.
    little_endian : bool
        Byte order of the pixel data.
    value_offset : int or None
        Where the PixelData value starts in the file, when it can be seeked.
    value_length : int
        Length of the PixelData value; -1 for undefined length (encapsulated data).
    split_tags : dict
        EchoNumbers, TemporalPositionIdentifier and AcquisitionNumber (for enhanced
        multi-frame files also StackID), where present.
    frame : int
        Index of this slice's frame in a multi-frame file, or of its tile in a
        Siemens MOSAIC image; 0 for a single-frame file.
    frames : int
        NumberOfFrames of the file.
    mosaic_tiles : int
        Tiles per row (and column) of a MOSAIC image, 0 for other images: ``rows``
        and ``cols`` are then those of one tile.
    notes : tuple of str
        Soft problems found in the header (a malformed window, padding after the
        pixel data), each naming the file; the Volume's notes repeat them.
    """

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
    split_tags: dict[str, str] = field(default_factory=dict)
    frame: int = 0
    frames: int = 1
    mosaic_tiles: int = 0
    notes: tuple[str, ...] = ()

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


# The tags read from each header, with the VR used to interpret them (files written
# in implicit VR carry no VR, and anonymisers sometimes rewrite VRs as UN).
_TAGS: dict[int, tuple[str, str]] = {
    0x00080005: ("SpecificCharacterSet", "CS"),
    0x00080008: ("ImageType", "CS"),
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
# Multi-frame SOP classes whose geometry lives in per-frame functional groups.
_ENHANCED_SOP_CLASSES = frozenset(
    (
        "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image Storage
        "1.2.840.10008.5.1.4.1.1.2.2",  # Legacy Converted Enhanced CT
        "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image Storage
        "1.2.840.10008.5.1.4.1.1.4.4",  # Legacy Converted Enhanced MR
        "1.2.840.10008.5.1.4.1.1.130",  # Enhanced PET Image Storage
        "1.2.840.10008.5.1.4.1.1.128.1",  # Legacy Converted Enhanced PET
    )
)
_MODALITY_LUT_SEQUENCE = 0x00283000
_LONG_VRS = frozenset(
    (b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UT", b"UN", b"UC", b"UR", b"SV", b"UV")
)
_SHORT_VRS = frozenset(b"AE AS AT CS DA DS DT FL FD IS LO LT PN SH SL SS ST TM UI UL US".split())
_PLAIN_CHARSETS = ("", "ISO_IR 6", "ISO_IR 100", "ISO_IR 192")
_FIRST_CHUNK = 1 << 13  # headers of MR files are a few kB ...
_FAST_CHUNK = 1 << 16  # ... and those longer than this are left to pydicom
_LAYOUT_MARGIN = 1 << 10  # bytes read beyond a layout's header (see _scan_fast)


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
    if "\\" not in text:
        return [text] if text else []
    return [t.strip(" \0") for t in text.split("\\")]


def _norm_value(value: Any) -> int | list[str]:
    """A value converted by pydicom, in the form of :func:`_decode_value`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None or value == "":
        return []
    if isinstance(value, pydicom.multival.MultiValue | list | tuple):
        return [str(v).strip() for v in value]
    return [str(value).strip()]


_ELEMENT = struct.Struct("<HH2sH").unpack_from  # explicit VR: tag, VR, 2-byte length
_IMPLICIT = struct.Struct("<HHI").unpack_from  # implicit VR, and items: tag, 4-byte length
_UINT16 = struct.Struct("<H").unpack_from
_UINT32 = struct.Struct("<I").unpack_from


@dataclass
class _Walk:
    """What the fast reader looked at in one header, element by element.

    ``elements`` holds, for every element and item header met, ``(position, header
    size, where its length field starts, the length)``; the bytes before the length
    field (tag, VR) are its key. ``plain`` marks the top-level elements of defined
    length whose value is skipped or read but never walked into; ``spans`` lists the
    values that steer the walk (the DICM magic, the transfer syntax, the SOP class,
    the character set, the first bytes of the data set) as ``(element, offset from
    its start, length)``; ``fields`` the tags of :data:`_TAGS` as ``(keyword, VR,
    element)``; ``pixel`` the element index of PixelData.
    """

    elements: list[tuple[int, int, int, int]] = field(default_factory=list)
    plain: set[int] = field(default_factory=set)
    spans: list[tuple[int, int, int]] = field(default_factory=list)
    fields: list[tuple[str, str, int]] = field(default_factory=list)
    pixel: int = -1


class _Layout:
    """Where the fast reader found everything in one header, to read the next one faster.

    The files of a series are written alike: the same elements in the same order, and
    the same lengths except in a few (the instance's UID, its number, its position).
    The walk up to PixelData is steered only by the element and item headers (tag, VR,
    length) and the values listed in :class:`_Walk`. A file whose bytes at all those
    places equal this one's, once the lengths of the elements seen to vary are read
    and the positions after each shifted by the difference, is walked exactly as this
    one was: its values are read from those positions without walking it. Anything
    else is walked as usual. ``benchmarks/bench_headers.py`` measures the gain.

    Two checks, the first tried first: (1) every byte of the header equals this file's
    except the values seen to differ between files (the holes), compared as a few
    slices; the values outside the holes are then this file's. (2) The bytes that
    steer the walk equal this file's, compared in one gather; every value is then read
    and the values that differ from this file's become holes.
    """

    __slots__ = (
        "at_element",
        "base",
        "charset",
        "elements",
        "expected",
        "fields",
        "holeable",
        "index",
        "keys",
        "lengths",
        "quick",
        "ref",
        "required",
        "seen",
        "segment",
        "variable",
        "varying",
    )
    at_element: list[int]
    base: dict[str, Any]
    charset: str
    elements: list[tuple[int, int, int, int]]
    expected: bytes
    fields: list[tuple[int, str, str, int, int, int, int]]
    holeable: set[int]
    index: np.ndarray
    keys: list[bytes]
    lengths: list[int]
    # (gaps, values outside the holes, fields in the holes, the holes, the keywords in
    # the holes other than those of _PER_FILE), replaced whole
    quick: tuple[
        list[tuple[int, int, int, bytes]],
        dict[str, Any],
        list[tuple[int, str, str, int, int, int, int]],
        frozenset[int],
        tuple[str, ...],
    ]
    ref: bytes
    required: int
    seen: list[tuple[bytes, Any]]
    segment: np.ndarray
    variable: set[int]
    varying: list[tuple[int, int, int, int]]

    def __init__(
        self,
        buf: bytes,
        walk: _Walk,
        values: dict[str, Any],
        charset: str,
        previous: _Layout | None,
    ) -> None:
        elements = walk.elements
        self.elements = elements
        self.keys = [buf[p : p + at] for p, _, at, _ in elements]
        self.lengths = [n for _, _, _, n in elements]
        fixed = {k for k, _, _ in walk.spans}
        variable: set[int] = set()
        holes: frozenset[int] = frozenset()
        same = previous is not None and previous.keys == self.keys
        if previous is not None and same:
            # The same elements as the previous file: those whose length changed vary.
            pairs = zip(previous.lengths, self.lengths, strict=True)
            changed = {k for k, (a, b) in enumerate(pairs) if a != b}
            variable = (changed | previous.variable) & walk.plain - fixed
            holes = previous.quick[3]
        self.variable = variable
        # The bytes compared, as spans with the number of varying elements before them.
        spans: list[tuple[int, int, int]] = [(128, 4, 0)]  # the DICM magic
        before = 0
        at_element: list[int] = []
        for k, (p, header, at, _) in enumerate(elements):
            at_element.append(before)
            spans.append((p, at if k in variable else header, before))
            before += k in variable
        self.at_element = at_element
        spans += [(elements[k][0] + off, n, at_element[k]) for k, off, n in walk.spans if k >= 0]
        starts = np.array([s for s, _, _ in spans], dtype=np.intp)
        sizes = np.array([n for _, n, _ in spans], dtype=np.intp)
        ends = np.cumsum(sizes)
        self.index = np.repeat(starts - (ends - sizes), sizes) + np.arange(ends[-1])
        self.segment = np.repeat(np.array([s for _, _, s in spans], dtype=np.intp), sizes)
        self.expected = np.frombuffer(buf, np.uint8)[self.index].tobytes()
        self.required = elements[walk.pixel][0] + 12
        self.ref = buf[: self.required]
        # (index, keyword, VR, element, where its value starts, how many varying elements
        # come before it, which varying element it is or -1)
        self.fields = [
            (
                i,
                keyword,
                vr,
                k,
                elements[k][0] + elements[k][1],
                at_element[k],
                at_element[k] if k in variable else -1,
            )
            for i, (keyword, vr, k) in enumerate(walk.fields)
        ]
        # The last value seen of each field, raw and decoded, as one tuple (replaced
        # whole, so that a thread never sees the bytes of one file with the value of
        # another): the files of a series repeat most values.
        self.seen = [
            (buf[o : o + elements[k][3]], values[keyword])
            for _, keyword, _, k, o, _, _ in self.fields
        ]
        self.varying = [elements[k] for k in sorted(variable)]
        self.base = {k: v for k, v in values.items() if k.startswith("_")}
        self.charset = charset
        # Values that may differ between files: defined lengths, never walked into,
        # not one of the values that steer the walk.
        self.holeable = {
            k for k, (_, _, _, n) in enumerate(elements) if n != 0xFFFFFFFF and k != walk.pixel
        } - fixed
        self._set_holes(values, holes | variable)

    def _set_holes(self, values: dict[str, Any], holes: frozenset[int] | set[int]) -> None:
        """The slices compared by the first check, for these holes."""
        cut = []  # the bytes not compared: values in holes, lengths that vary
        for k in holes:
            p, header, at, length = self.elements[k]
            cut.append((p + (at if k in self.variable else header), p + header + length))
        gaps, start = [], 128
        lengths_at = [self.elements[k][0] + self.elements[k][2] for k in sorted(self.variable)]
        for a, b in [*sorted(cut), (self.required, self.required)]:
            if a > start:  # with its bytes, sliced once here rather than once per file
                gaps.append((start, a, sum(x < start for x in lengths_at), self.ref[start:a]))
            start = max(start, b)
        in_holes = [f for f in self.fields if f[3] in holes]
        stable = dict(self.base)
        stable.update((f[1], values[f[1]]) for f in self.fields if f[3] not in holes)
        keywords = tuple(f[1] for f in in_holes if f[1] not in _PER_FILE)
        self.quick = (gaps, stable, in_holes, frozenset(holes), keywords)

    def values(self, buf: bytes, size: int) -> dict[str, Any] | None:
        """The header values of ``buf`` when it is laid out like this one, else None."""
        shifts = [0]
        lengths: list[int] = []  # of the varying elements, in their order
        shift = 0
        end = len(buf)
        for p, header, at, length in self.varying:
            p += shift
            if p + header > end:
                return None
            (n,) = _UINT16(buf, p + at) if at == 6 else _UINT32(buf, p + at)  # short VRs
            if n == 0xFFFFFFFF:
                return None
            lengths.append(n)
            shift += n - length
            shifts.append(shift)
        if end < self.required + shift:
            return None
        quick = self.quick
        gaps, stable, in_holes, holes, _ = quick
        for a, b, s, same in gaps:
            d = shifts[s]
            if buf[a + d : b + d] != same:
                break
        else:  # (1): the same bytes but in the holes
            values = dict(stable)
            values["_quick"] = quick  # what else is the same as the last file's
            self._read_fields(values, buf, shifts, lengths, in_holes)
            return self._finish(values, shift, size)
        index = (
            self.index + np.array(shifts, dtype=np.intp)[self.segment] if lengths else self.index
        )
        if np.frombuffer(buf, np.uint8)[index].tobytes() != self.expected:
            return None
        # (2): walked the same way; the values that differ from this file's are holes
        ref = self.ref
        values = dict(self.base)
        self._read_fields(values, buf, shifts, lengths, self.fields)
        differ = set()
        for k in self.holeable - holes:
            p, header, _, length = self.elements[k]
            a = p + header
            d = shifts[self.at_element[k]]
            if buf[a + d : a + d + length] != ref[a : a + length]:
                differ.add(k)
        if differ:
            ours = dict(self.base)
            ours.update(zip((f[1] for f in self.fields), self._ref_values(), strict=True))
            self._set_holes(ours, holes | differ)
        return self._finish(values, shift, size)

    def _ref_values(self) -> list[Any]:
        """The decoded values of this file's fields."""
        ref, charset = self.ref, self.charset
        return [
            _decode_value(ref[o : o + self.elements[k][3]], vr, True, charset)
            for _, _, vr, k, o, _, _ in self.fields
        ]

    def _read_fields(
        self,
        values: dict[str, Any],
        buf: bytes,
        shifts: list[int],
        lengths: list[int],
        fields: list[tuple[int, str, str, int, int, int, int]],
    ) -> None:
        seen, charset = self.seen, self.charset
        for i, keyword, vr, _, offset, before, v in fields:
            raw, decoded = seen[i]
            offset += shifts[before]
            value = buf[offset : offset + (len(raw) if v < 0 else lengths[v])]
            if value != raw:
                decoded = _decode_value(value, vr, True, charset)
                seen[i] = (value, decoded)
            values[keyword] = decoded

    @staticmethod
    def _finish(values: dict[str, Any], shift: int, size: int) -> dict[str, Any]:
        values["_value_offset"] += shift
        values["_size"] = size
        return values


# The layout of the last header the fast reader walked (one slot; see _Layout).
_last_layout: _Layout | None = None


@functools.lru_cache(maxsize=64)
def _compressed(ts: UID) -> bool:
    """``ts.is_compressed``, cached: pydicom works it out anew on every call."""
    return bool(ts.is_compressed)


@functools.lru_cache(maxsize=64)
def _transfer_syntax(raw: bytes) -> tuple[UID, bool | None]:
    """The UID of a TransferSyntaxUID value and whether its data set is explicit VR
    (None: not one the fast reader parses). Cached: pydicom validates every UID it
    builds, which costs more than parsing the rest of a header."""
    ts = UID(raw.decode("latin-1").strip(" \0"))
    if ts == ImplicitVRLittleEndian:
        return ts, False
    if ts.is_transfer_syntax and ts.is_little_endian and not ts.is_deflated:
        return ts, True
    return ts, None


def _read(fd: int, n: int) -> bytes:
    """Up to ``n`` bytes from ``fd``: fewer only at the end of the file."""
    first = os.read(fd, n)
    if len(first) == n or not first:
        return first  # the common case: no copy
    chunks = [first]
    while chunks[-1] and (n := n - len(chunks[-1])) > 0:
        chunks.append(os.read(fd, n))
    return b"".join(chunks)


def _scan_fast(
    path: Path, fragments: bool = False, name: str | None = None
) -> dict[str, Any] | str:
    """Parse a file's header in pure Python, stopping at PixelData.

    Handles the common case (DICM preamble, little-endian explicit or implicit VR, a
    header shorter than 64 kB, PixelData present at top level) and raises
    :class:`_Unparsed` for anything else, which pydicom then reads: a data set whose
    first element contradicts the transfer syntax's VR encoding, top-level tags out
    of order, an unknown VR, undefined length on anything but SQ and the top-level
    PixelData, a tag read here stored under another VR than the dictionary's, a
    SeriesDescription in a character set other than ASCII, Latin-1 or UTF-8, and a
    Modality LUT Sequence. pydicom spends most of a small file's read time on
    objects this reader never needs. A file laid out like the previous one
    (:class:`_Layout`) is read without walking it.

    With ``fragments``, encapsulated pixel data is followed to its end while the file
    is open (``"_fragments"``: the problem found, or None).

    ``name`` is ``path`` as a string, when the caller has it (see
    :func:`read_header`): it is opened rather than ``path``, whose string would be
    formatted anew.

    Returns "not a regular file" for a FIFO, socket or device, which it opens without
    blocking and never reads; an empty file raises :class:`DamagedFileError`.
    """
    global _last_layout
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = os.open(path if name is None else name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        size = st.st_size
        if size == 0:
            raise DamagedFileError(f"{path}: the file is empty (0 bytes); {_FIX}")
        layout = _last_layout
        # With a layout, what it reads and room for longer values (a file that needs
        # more is walked, reading on): copying a whole first chunk costs more than the
        # bytes of the header that the layout compares.
        first = _FIRST_CHUNK if layout is None else layout.required + _LAYOUT_MARGIN
        buf = _read(fd, min(first, _FAST_CHUNK))  # longer headers are pydicom's
        values = None if layout is None else layout.values(buf, size)
        while values is None:
            try:
                values, _last_layout = _parse_header(buf, size, layout)
            except _NeedMore:
                if size <= len(buf) or len(buf) >= _FAST_CHUNK:
                    raise _Unparsed from None
                buf += _read(fd, _FAST_CHUNK - len(buf))
        if fragments and values["_value_length"] < 0:
            values["_fragments"] = _fragments_problem(fd, values["_value_offset"], size, buf)
        return values
    finally:
        os.close(fd)


def _parse_header(
    buf: bytes, size: int, previous: _Layout | None = None
) -> tuple[dict[str, Any], _Layout]:
    """The values of the tags in :data:`_TAGS` and where PixelData starts, with the
    layout of ``buf`` (learning from ``previous`` which lengths vary) for the next file."""
    if len(buf) < 144 or buf[128:132] != b"DICM":
        raise _Unparsed
    walk = _Walk()
    elements, plain, spans = walk.elements, walk.plain, walk.spans
    # File meta: always explicit VR little endian.
    pos, end = 132, len(buf)
    ts_raw = sop_raw = b""
    while pos + 8 <= end:
        group, elem, vr, length = _ELEMENT(buf, pos)
        if group != 2:
            break
        if vr in _LONG_VRS:
            (length,) = _UINT32(buf, pos + 8)
            elements.append((pos, 12, 8, length))
            pos += 12
        else:
            elements.append((pos, 8, 6, length))
            pos += 8
        if length == 0xFFFFFFFF:
            raise _Unparsed
        k = len(elements) - 1
        plain.add(k)
        if elem == 0x0010:
            ts_raw = buf[pos : pos + length]
            spans.append((k, elements[k][1], len(ts_raw)))
        elif elem == 0x0002:
            sop_raw = buf[pos : pos + length]
            spans.append((k, elements[k][1], len(sop_raw)))
        pos += length
    ts, explicit = _transfer_syntax(ts_raw)
    sop = sop_raw.decode("latin-1").strip(" \0")
    if explicit is None or sop == MediaStorageDirectoryStorage:
        raise _Unparsed

    # pydicom reads the data set in the encoding its first element looks like, whatever
    # the transfer syntax says (its heuristic: bytes 4-5 are a VR in explicit VR).
    if pos + 6 > end:
        raise _NeedMore
    spans.append((len(elements), 0, 6))  # the first element of the data set, next
    looks_explicit = all(0x40 < b < 0x5B for b in buf[pos + 4 : pos + 6])
    if looks_explicit != explicit:
        raise _Unparsed

    values: dict[str, Any] = {}
    fields = walk.fields
    depth = 0  # nesting of undefined-length sequences and items
    last = 0  # the previous top-level tag: they must ascend, else something is off
    while True:
        if pos + 12 > end:
            raise _NeedMore  # header longer than the chunk, or no PixelData
        if explicit:
            group, elem, vr, length = _ELEMENT(buf, pos)
        else:
            group, elem, length = _IMPLICIT(buf, pos)
        if group == 0xFFFE:  # item, item delimiter, sequence delimiter
            if explicit:
                (length,) = _UINT32(buf, pos + 4)
            elements.append((pos, 8, 4, length))
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
        tag = group << 16 | elem
        if not explicit:
            elements.append((pos, 8, 4, length))
            header = 8
        elif vr in _LONG_VRS:
            (length,) = _UINT32(buf, pos + 8)
            elements.append((pos, 12, 8, length))
            header = 12
        elif vr in _SHORT_VRS:
            elements.append((pos, 8, 6, length))
            header = 8
        else:
            raise _Unparsed
        # Undefined length is left to pydicom except for SQ and the top-level
        # PixelData: UN then holds implicit VR data, OB an encapsulated icon.
        if explicit and length == 0xFFFFFFFF and vr != b"SQ" and (depth or tag != _PIXEL_DATA):
            raise _Unparsed
        if depth == 0:
            if tag <= last or tag == _MODALITY_LUT_SEQUENCE:
                raise _Unparsed
            last = tag
            if tag >= _PIXEL_DATA:
                if tag != _PIXEL_DATA:
                    raise _Unparsed
                walk.pixel = len(elements) - 1
                values["_value_offset"] = pos + header
                values["_value_length"] = -1 if length == 0xFFFFFFFF else length
                break
        pos += header
        if length == 0xFFFFFFFF:  # an undefined-length sequence starts
            depth += 1
            continue
        if depth == 0:
            k = len(elements) - 1
            plain.add(k)
            if tag in _TAGS:
                if pos + length > end:
                    raise _NeedMore
                keyword, tag_vr = _TAGS[tag]
                if explicit and vr != tag_vr.encode() and vr != b"UN":
                    raise _Unparsed  # pydicom decodes a value by the VR in the file
                fields.append((keyword, tag_vr, k))
                if keyword == "SpecificCharacterSet":
                    spans.append((k, header, length))  # it decides how text is decoded
        pos += length
    charset = ""  # SpecificCharacterSet comes first: tags ascend
    for keyword, tag_vr, k in fields:
        offset = elements[k][0] + elements[k][1]
        values[keyword] = _decode_value(
            buf[offset : offset + elements[k][3]], tag_vr, True, charset
        )
        if keyword == "SpecificCharacterSet":
            charset = (values[keyword] or [""])[0]
    if "SeriesDescription" in values and any(
        c not in _PLAIN_CHARSETS for c in values.get("SpecificCharacterSet", [""])
    ):
        raise _Unparsed
    values.update(_ts=ts, _implicit=not explicit, _little=True, _size=size, _sop=sop)
    return values, _Layout(buf, walk, values, charset, previous)


def _scan_pydicom(path: Path) -> dict[str, Any] | str:
    """Read a header with pydicom; a reason string when the file holds no image."""
    with open(path, "rb") as fp:
        try:
            ds = pydicom.dcmread(fp, stop_before_pixels=True)
        except InvalidDicomError:
            return "not DICOM"
        except Exception as exc:
            raise DamagedFileError(
                f"{path}: unreadable DICOM file ({type(exc).__name__}: {exc}); it is "
                f"probably truncated or damaged: copy it again or leave it out"
            ) from exc
        offset = fp.tell()
        head = fp.read(12)
        size = os.fstat(fp.fileno()).st_size

    meta = getattr(ds, "file_meta", None) or pydicom.Dataset()
    sop = str(_get(ds, 0x00080016, path, meta, 0x00020002) or "")
    if sop == MediaStorageDirectoryStorage:
        return "DICOMDIR"
    raw_ts = _get(meta, 0x00020010, path) or ExplicitVRLittleEndian
    if not isinstance(raw_ts, str):
        vr = meta[0x00020010].VR
        raise DamagedFileError(
            f"{path}: (0002,0010) TransferSyntaxUID is stored with VR {vr}, not UI, so "
            f"the encoding of the file is unknown; {_FIX}"
        )
    ts = UID(raw_ts)
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
        classes = {sop, str(_get(ds, 0x00080016, path) or "")}
        image_class = next((c for c in classes if "Image Storage" in UID(c).name), "")
        looks_like_image = "Rows" in ds or bool(image_class)
        if len(ds) == 0 or (looks_like_image and offset >= size):
            raise DamagedFileError(
                f"{path}: the DICOM file ends before its pixel data; it is probably "
                f"truncated or damaged: copy it again or leave it out"
            )
        if image_class and "PixelDataProviderURL" not in ds:
            # An image storage SOP class requires PixelData: a damaged tag or length
            # hid it, which is not the same as a report or presentation state.
            raise DamagedFileError(
                f"{path}: an {UID(image_class).name} file without PixelData (7FE0,0010); {_FIX}"
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
            values[keyword] = _norm_value(_get(ds, tag, path))  # converted by pydicom
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


class DamagedFileError(SeriesError):
    """A file that claims to be a DICOM image but whose bytes or values are damaged.

    :func:`eda_helpers.read_series` skips such files with a warning by default
    (``on_damaged="warn"``) and refuses them with ``on_damaged="error"``; files that
    are sound but unsupported raise a plain :class:`SeriesError` instead.
    """


_FIX = "the file is damaged: copy it again or leave it out"


def _damaged(path: Path, keyword: str, raw: Any, rule: str) -> DamagedFileError:
    shown = "\\".join(raw) if isinstance(raw, list) else raw
    return DamagedFileError(f"{path}: {keyword} {shown!r} {rule}; {_FIX}")


def _get(
    ds: pydicom.Dataset,
    tag: int,
    path: Path,
    fallback: pydicom.Dataset | None = None,
    fallback_tag: int = 0,
) -> Any:
    """A tag's value converted by pydicom; a damaged value (an unknown VR, a value of
    the wrong VR) is a :class:`DamagedFileError` naming the tag, not pydicom's error."""
    for where, t in ((fallback, fallback_tag), (ds, tag)) if fallback is not None else ((ds, tag),):
        try:
            value = where.get(t)
            value = None if value is None else value.value
        except Exception as exc:
            keyword = pydicom.datadict.keyword_for_tag(t) or "a tag"
            raise DamagedFileError(
                f"{path}: ({t >> 16:04X},{t & 0xFFFF:04X}) {keyword} cannot be read "
                f"({type(exc).__name__}: {' '.join(str(exc).split())}); {_FIX}"
            ) from exc
        if value:
            return value
    return None


def _floats(values: dict[str, Any], keyword: str, n: int, path: Path) -> tuple[float, ...] | None:
    """The n finite numbers of a decimal tag; None when missing or empty, else an error."""
    v = values.get(keyword)
    if v is None or v == []:
        return None
    try:
        out = tuple(map(float, v)) if isinstance(v, list) else ()
    except ValueError:
        out = ()
    if len(out) != n or not all(map(math.isfinite, out)):
        raise _damaged(path, keyword, v, f"is not {n} finite decimal numbers (DS)")
    return out


def _first_float(
    values: dict[str, Any], keyword: str, path: Path, notes: list[str] | None = None
) -> float | None:
    """The first number of a decimal tag; None when missing or empty.

    A malformed value is an error, or, when ``notes`` is given (tags that only
    inform the display), None with a note.
    """
    v = values.get(keyword)
    if isinstance(v, int):
        return float(v)
    if not v:
        return None
    try:
        out = float(v[0])
    except ValueError:
        out = float("nan")
    if math.isfinite(out):
        return out
    if notes is None:
        raise _damaged(path, keyword, v, "is not a finite decimal number (DS)")
    shown = "\\".join(v)
    notes.append(f"{path.name}: {keyword} {shown!r} is not a number: ignored")
    return None


def _integer(
    values: dict[str, Any], keyword: str, path: Path, default: int | None = None
) -> int | None:
    """A whole-number tag (IS or US); ``default`` when missing, an error when not whole."""
    v = values.get(keyword)
    if isinstance(v, int):
        return v
    if not v:
        return default
    try:
        out = float(v[0])
    except ValueError:
        out = float("nan")
    if not out.is_integer():  # also NaN and inf
        raise _damaged(path, keyword, v, "is not a whole number (IS)")
    return int(out)


def _text(values: dict[str, Any], keyword: str) -> str:
    v = values.get(keyword)
    return "\\".join(v) if isinstance(v, list) else ""


def read_header(
    path: Path, *, fragments: bool = False, name: str | None = None
) -> list[SliceHeader] | str:
    """The slices of one file (one, or one per frame or mosaic tile), or why it is skipped.

    ``name``, when given, is ``str(path)``, as a folder listing has it at hand: the file
    is opened by it. Formatting a fresh Path as a string costs about a twentieth of
    reading a header through a layout.

    Returns a reason string for files that hold no image ("not DICOM", "no pixel
    data", "DICOMDIR", "not a regular file") and, with ``fragments``, for encapsulated
    pixel data cut short or damaged (:func:`encapsulated_problem`, checked while the
    file is open). Raises :class:`DamagedFileError` for a damaged file,
    :class:`SeriesError` for one that is sound but unsupported.
    """
    global _last_made
    try:
        values = _scan_fast(path, fragments, name)
    except (_Unparsed, struct.error, UnicodeDecodeError):
        values = _scan_pydicom(path)
    if isinstance(values, str):
        return values
    try:
        header = _header_like_last(path, values) or _make_header(path, values)
        _last_made = (values, header)
    except SeriesError:
        raise
    except Exception as exc:  # a value no rule above foresaw: still the file's fault
        raise DamagedFileError(
            f"{path}: unreadable header ({type(exc).__name__}: {exc}); {_FIX}"
        ) from exc
    if fragments:
        problem = values["_fragments"] if "_fragments" in values else encapsulated_problem(header)
        if problem is not None:
            return problem
    image_type = values.get("ImageType") or []
    if header.frames > 1 or values["_sop"] in _ENHANCED_SOP_CLASSES:
        from . import _multiframe

        return _multiframe.expand(header, _dataset(path))
    if _is_mosaic(image_type):
        from . import _mosaic

        return _mosaic.expand(header, _dataset(path))
    return [header]


# The last ImageType looked at, and whether it holds MOSAIC.
_last_image_type: tuple[object, bool] = (None, False)


def _is_mosaic(image_type: list[Any]) -> bool:
    """Whether ImageType holds MOSAIC (Siemens' slices tiled in one image). The files
    of a series hand on one decoded value (see :class:`_Layout`), so the answer for
    the last value is kept: the test costs more than the rest of the check."""
    global _last_image_type
    seen, answer = _last_image_type
    if image_type is not seen:
        answer = "MOSAIC" in [t.upper() for t in image_type if isinstance(t, str)]
        _last_image_type = (image_type, answer)
    return answer


# The values and header of the last file made into a SliceHeader by _make_header.
_last_made: tuple[dict[str, Any], SliceHeader] | None = None
# What differs between the files of a series: these are checked again file by file.
_PER_FILE = frozenset(
    (
        "InstanceNumber",
        "ImagePositionPatient",
        # The cosines of one series may differ in their last digits from file to file.
        "ImageOrientationPatient",
        "_fragments",
        "_size",
        "_value_offset",
        "_quick",
    )
)


def _header_like_last(path: Path, values: dict[str, Any]) -> SliceHeader | None:
    """The header of ``values`` made from the last one's, when only the instance number,
    the position, the orientation, the file size and where PixelData starts differ (the
    common case in a series), else None.

    :func:`_make_header` is a function of the values and the path alone, and the path
    only appears in its notes and errors: with the other values equal and no note, the
    header is the last one with its path, instance, position, orientation and pixel
    offset replaced, each checked as :func:`_make_header` checks it. It costs half of
    making it.
    """
    last = _last_made
    if last is None or last[1].notes:
        return None
    before, h = last
    quick: Any = values.get("_quick")
    keys: Iterable[str]
    same_layout = quick is not None and before.get("_quick") is quick
    if same_layout:
        keys = quick[4]  # read by one layout: the rest is the same
    else:
        keys = values.keys() - _PER_FILE
        if keys != before.keys() - _PER_FILE:
            return None
    for k in keys:
        v, w = values[k], before[k]
        if v is not w and v != w:
            return None
    if _pixel_data_notes(path, values, h.rows, h.cols, h.bits_allocated, h.frames):
        return None  # the notes name the file: made anew
    instance = _integer(values, "InstanceNumber", path)
    position = _floats(values, "ImagePositionPatient", 3, path)
    iop = values.get("ImageOrientationPatient")
    # The same decoded value as the last file's (the layout hands it on when the bytes
    # are the same): the same cosines, already checked.
    same_iop = iop is not None and iop is before.get("ImageOrientationPatient")
    orientation = h.orientation if same_iop else _floats(values, "ImageOrientationPatient", 6, path)
    # The frozen record without its __init__: every field is set, as it would set them.
    header = object.__new__(SliceHeader)
    fields = header.__dict__
    fields.update(h.__dict__)
    fields["path"] = path
    fields["value_offset"] = values["_value_offset"]
    fields["instance"] = instance
    fields["position"] = position
    fields["orientation"] = orientation
    return header


def _dataset(path: Path) -> pydicom.Dataset:
    """The whole header of a file, for the rare layouts that need more than the tags."""
    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except Exception as exc:
        raise DamagedFileError(
            f"{path}: unreadable DICOM header ({type(exc).__name__}: {exc}); {_FIX}"
        ) from exc


def _pixel_data_notes(
    path: Path, values: dict[str, Any], rows: int, cols: int, bits_allocated: int, frames: int
) -> list[str]:
    """Check that the pixel data holds what Rows, Columns, BitsAllocated and
    NumberOfFrames say (the rules that depend on the file's size and where its
    PixelData starts); the notes on it, or a :class:`DamagedFileError`."""
    ts: UID = values["_ts"]
    notes: list[str] = []
    value_offset, value_length, size = (
        values["_value_offset"],
        values["_value_length"],
        values["_size"],
    )
    need = rows * cols * bits_allocated // 8 * frames
    compressed = _compressed(ts)

    def laid_out() -> str:  # for the messages only: most files pass every rule
        return (
            f"{rows}x{cols} pixels of {bits_allocated} bits"
            + (f" x {frames} frames" if frames > 1 else "")
            + f" need {need} bytes"
        )

    if value_offset is not None and value_length < 0 and not compressed:
        raise DamagedFileError(
            f"{path}: its PixelData has undefined length (encapsulated) but its transfer "
            f"syntax {ts.name} is uncompressed, so the pixels cannot be located; {_FIX}"
        )
    if value_offset is not None and value_length >= 0:
        have = max(0, min(value_length, size - value_offset))
        if have < need:
            raise DamagedFileError(
                f"{path}: the pixel data is truncated: {laid_out()} but the file holds "
                f"{have}; {_FIX}"
            )
        if have - need >= need // frames:
            raise DamagedFileError(
                f"{path}: PixelData holds {have} bytes, at least one frame more than "
                f"Rows x Columns x BitsAllocated/8 x NumberOfFrames: {laid_out()}; Rows, "
                f"Columns, BitsAllocated or NumberOfFrames is wrong: {_FIX}"
            )
        if have - need > 1:  # one byte pads an odd length to an even one
            notes.append(f"{path.name}: {have - need} bytes after the pixel data ignored")
        if value_length > size - value_offset:
            notes.append(
                f"{path.name}: PixelData length {value_length} runs past the end of the "
                f"file, which holds every byte of the pixels"
            )
    if value_length < 0 and compressed:
        # Memory is reserved before decoding: refuse sizes the data cannot hold. An RLE
        # byte pair decodes to at most 128 bytes; other codecs get a generous bound.
        data = size - (value_offset or 0)
        bound = 64 * data if ts == RLELossless else max(1024 * data, 1 << 30)
        if need > bound:
            raise DamagedFileError(
                f"{path}: {laid_out()}, more than {data} bytes of {ts.name} data can hold "
                f"(at most {bound}); Rows, Columns or NumberOfFrames is wrong: {_FIX}"
            )
    return notes


def _make_header(path: Path, values: dict[str, Any]) -> SliceHeader:
    rows = _integer(values, "Rows", path)
    cols = _integer(values, "Columns", path)
    bits_allocated = _integer(values, "BitsAllocated", path)
    if not rows or not cols or not bits_allocated:
        raise DamagedFileError(
            f"{path}: the file holds PixelData but lacks Rows, Columns or BitsAllocated "
            f"(or one of them is 0), so its pixels cannot be laid out; {_FIX}"
        )
    frames = _integer(values, "NumberOfFrames", path, 1)
    if frames is None or frames < 1:
        raise _damaged(path, "NumberOfFrames", values.get("NumberOfFrames"), "is not >= 1")
    spp = _integer(values, "SamplesPerPixel", path, 1)
    photometric = _text(values, "PhotometricInterpretation") or "MONOCHROME2"
    if spp != 1 or photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise SeriesError(
            f"{path}: only greyscale images (MONOCHROME1/2, one sample per pixel) are "
            f"supported, got PhotometricInterpretation {photometric!r} with "
            f"{spp} samples per pixel"
        )
    if bits_allocated not in (8, 16, 32):
        raise SeriesError(f"{path}: BitsAllocated {bits_allocated} is not supported (8, 16 or 32)")
    bits_stored = _integer(values, "BitsStored", path, bits_allocated)
    if bits_stored is None or not 1 <= bits_stored <= bits_allocated:
        raise _damaged(
            path,
            "BitsStored",
            values.get("BitsStored"),
            f"is not between 1 and BitsAllocated ({bits_allocated})",
        )
    representation = _integer(values, "PixelRepresentation", path, 0)
    if representation not in (0, 1):
        raise _damaged(
            path,
            "PixelRepresentation",
            values.get("PixelRepresentation"),
            "is neither 0 (unsigned) nor 1 (signed)",
        )

    ts: UID = values["_ts"]
    notes = _pixel_data_notes(path, values, rows, cols, bits_allocated, frames)

    slope = _first_float(values, "RescaleSlope", path)
    if slope == 0:
        raise _damaged(
            path, "RescaleSlope", values.get("RescaleSlope"), "maps every pixel to one value"
        )
    intercept = _first_float(values, "RescaleIntercept", path)
    spacing = _floats(values, "PixelSpacing", 2, path)
    if spacing is not None and min(spacing) <= 0:
        raise _damaged(path, "PixelSpacing", values.get("PixelSpacing"), "is not positive")
    center = _first_float(values, "WindowCenter", path, notes)
    width = _first_float(values, "WindowWidth", path, notes)
    if width is not None and width <= 0:
        notes.append(f"{path.name}: WindowWidth {width} is not positive: ignored")
        width = None
    return SliceHeader(
        path=path,
        series_uid=_text(values, "SeriesInstanceUID"),
        study_uid=_text(values, "StudyInstanceUID"),
        description=_text(values, "SeriesDescription"),
        modality=_text(values, "Modality"),
        instance=_integer(values, "InstanceNumber", path),
        position=_floats(values, "ImagePositionPatient", 3, path),  # type: ignore[arg-type]
        orientation=_floats(values, "ImageOrientationPatient", 6, path),
        rows=rows,
        cols=cols,
        pixel_spacing=spacing,  # type: ignore[arg-type]
        spacing_between=_first_float(values, "SpacingBetweenSlices", path, notes),
        thickness=_first_float(values, "SliceThickness", path, notes),
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        signed=representation == 1,
        photometric=photometric,
        slope=1.0 if slope is None else slope,
        intercept=0.0 if intercept is None else intercept,
        window=None if center is None or width is None else (center, width),
        transfer_syntax=ts,
        little_endian=values["_little"],
        value_offset=values["_value_offset"],
        value_length=values["_value_length"],
        split_tags={k: t for k in SPLIT_TAGS if (t := _text(values, k))},
        frames=frames,
        notes=tuple(notes),
    )


def encapsulated_problem(h: SliceHeader) -> str | None:
    """Why the encapsulated pixel data of ``h`` is cut short or damaged, else None."""
    if h.value_offset is None or h.value_length >= 0:
        return None
    fd = os.open(h.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        return _fragments_problem(fd, h.value_offset, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def _fragments_problem(fd: int, pos: int, size: int, start: bytes = b"") -> str | None:
    """Follow the items of encapsulated pixel data from ``pos`` (the offset table, the
    fragments, the delimiter), a few bytes read per item (or taken from ``start``, the
    first bytes of the file when they are at hand): why they are cut short or damaged,
    else None."""
    while True:
        head = start[pos : pos + 8] if pos + 8 <= len(start) else os.pread(fd, 8, pos)
        if len(head) < 8:
            return f"truncated pixel data: the file ends at byte {size}, inside it"
        group, elem, length = _IMPLICIT(head, 0)
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
