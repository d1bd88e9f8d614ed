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

import os
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
)

__all__ = ["SeriesError", "SliceHeader", "encapsulated_problem", "read_header"]

# Acquisition tags that may separate stacks sharing the same positions.
SPLIT_TAGS = ("EchoNumbers", "TemporalPositionIdentifier", "AcquisitionNumber")


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
        EchoNumbers, TemporalPositionIdentifier and AcquisitionNumber, where present.
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


def read_header(path: Path) -> SliceHeader | str:
    """Parse one file up to its pixel data; return a reason string to skip it."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        return "not a regular file"  # a FIFO would block the read forever
    try:
        values = _scan_fast(path)
    except (_Unparsed, struct.error, UnicodeDecodeError):
        values = _scan_pydicom(path)  # type: ignore[assignment]
    if isinstance(values, str):
        return values
    return _make_header(path, values)


def _make_header(path: Path, values: dict[str, Any]) -> SliceHeader:
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
    return SliceHeader(
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
        split_tags={k: _text(values, k) for k in SPLIT_TAGS if _text(values, k)},
    )


def encapsulated_problem(h: SliceHeader) -> str | None:
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
