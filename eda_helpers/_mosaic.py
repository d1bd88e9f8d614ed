"""Siemens MOSAIC images: one file whose image is a grid of tiles, one tile per slice.

Siemens scanners store EPI acquisitions (fMRI, diffusion) as MOSAIC: ImageType holds
"MOSAIC", and the slices of the volume are laid out as a square grid of tiles in one
(Rows x Columns) image, row by row. The private tags say how many tiles are real
(NumberOfImagesInMosaic, in the CSA image header (0029,1010) and in (0019,100A)), and
the CSA header gives the SliceNormalVector, the direction in which the tiles step
(it may point against row cosine x column cosine).

The geometry follows nibabel's ``MosaicWrapper`` and dcm2niix: ImagePositionPatient
of a mosaic is that of the whole tiled image, so the first tile sits half the unused
width and height further along the row and column cosines; tile ``k`` sits ``k``
slice steps (SpacingBetweenSlices, else SliceThickness) along the slice normal.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray

from ._header import DamagedFileError, SeriesError, SliceHeader

__all__ = ["csa_tags", "expand", "tile"]

_CSA_IMAGE_HEADER = "CSA Image Header Info"
_SIEMENS_CSA = "SIEMENS CSA HEADER"
_SIEMENS_MR = "SIEMENS MR HEADER"
_MAX_ITEMS = 1000  # a sound CSA header has far fewer tags and items


def csa_tags(data: bytes) -> dict[str, list[str]]:
    """The tags of a Siemens CSA header (format CSA1 or CSA2 "SV10"), as strings.

    Parameters
    ----------
    data : bytes
        The value of (0029,1010) or (0029,1020).

    Returns
    -------
    dict
        Tag name -> its non-empty items, stripped of NUL padding.

    Raises
    ------
    ValueError
        If the bytes are not a CSA header.

    Examples
    --------
    >>> csa_tags(b"not a header")
    Traceback (most recent call last):
    ...
    ValueError: not a Siemens CSA header (12 bytes)
    """
    csa2 = data[:4] == b"SV10"
    pos = 8 if csa2 else 0
    try:
        n_tags, _ = struct.unpack_from("<2I", data, pos)
        if not 0 < n_tags <= _MAX_ITEMS:
            raise ValueError
        pos += 8
        out: dict[str, list[str]] = {}
        first_items = 0
        for number in range(n_tags):
            name, vm, _vr, _syngodt, n_items, _ = struct.unpack_from("<64si4s3i", data, pos)
            pos += 84
            if not 0 <= n_items <= _MAX_ITEMS:
                raise ValueError
            if number == 1:
                first_items = n_items
            items = []
            for _ in range(n_items):
                x0, x1, _, _ = struct.unpack_from("<4i", data, pos)
                pos += 16
                length = x1 if csa2 else x0 - first_items
                if length < 0 or pos + length > len(data):
                    if csa2:
                        raise ValueError
                    break  # CSA1 lengths are often inconsistent after the values
                text = data[pos : pos + length].split(b"\0", 1)[0].decode("latin-1").strip()
                if text:
                    items.append(text)
                pos += length + (-length % 4)
            out[name.split(b"\0", 1)[0].decode("latin-1")] = items[: max(vm, 0) or None]
        return out
    except (struct.error, ValueError):
        raise ValueError(f"not a Siemens CSA header ({len(data)} bytes)") from None


def _private(ds: pydicom.Dataset, creator: str, group: int, offset: int) -> Any:
    """The value of a private tag, found through its private creator; None if absent."""
    try:
        block = ds.private_block(group, creator)
        return block[offset].value if block.get_tag(offset) in ds else None
    except KeyError:
        return None


def expand(header: SliceHeader, ds: pydicom.Dataset) -> list[SliceHeader]:
    """One record per real tile of a MOSAIC file.

    Raises
    ------
    SeriesError
        If the number of tiles, the slice normal or the geometry cannot be found.
    """
    path = header.path
    csa: dict[str, list[str]] = {}
    raw = _private(ds, _SIEMENS_CSA, 0x0029, 0x10)
    if isinstance(raw, bytes):
        try:
            csa = csa_tags(raw)
        except ValueError as exc:
            raise DamagedFileError(
                f"{path}: its CSA image header (0029,1010) is damaged ({exc}), so the "
                f"tiles of its MOSAIC image cannot be placed; copy it again or leave it out"
            ) from None
    count: Any = _private(ds, _SIEMENS_MR, 0x0019, 0x0A)
    if count is None and csa.get("NumberOfImagesInMosaic"):
        count = csa["NumberOfImagesInMosaic"][0]
    try:
        n = int(float(count))
    except (TypeError, ValueError):
        raise SeriesError(
            f"{path}: ImageType says MOSAIC but neither (0019,100A) nor the CSA header "
            f"gives NumberOfImagesInMosaic, so the tiles cannot be told apart; read it "
            f"with dcm2niix or nibabel, or leave it out"
        ) from None
    tiles = math.ceil(math.sqrt(n)) if n > 0 else 0
    if n < 1 or header.rows % tiles or header.cols % tiles:
        raise DamagedFileError(
            f"{path}: NumberOfImagesInMosaic {count!r} does not tile its "
            f"{header.rows}x{header.cols} MOSAIC image (a square grid of "
            f"{tiles}x{tiles} tiles); copy it again or leave it out"
        )
    rows, cols = header.rows // tiles, header.cols // tiles
    if header.position is None or header.orientation is None or header.pixel_spacing is None:
        raise SeriesError(
            f"{path}: a MOSAIC image without ImagePositionPatient, "
            f"ImageOrientationPatient or PixelSpacing: its tiles cannot be placed; "
            f"read it with dcm2niix, or leave it out"
        )
    iop = np.asarray(header.orientation, dtype=np.float64)
    row_cos, col_cos = iop[:3], iop[3:]
    normal = np.cross(row_cos, col_cos)
    listed = csa.get("SliceNormalVector", [])
    if len(listed) == 3:
        try:
            normal = np.array([float(v) for v in listed])
        except ValueError:
            pass
    norm = float(np.linalg.norm(normal))
    if norm < 1e-6:
        return [header]  # read_series refuses the degenerate orientation by name
    normal = normal / norm
    step = header.spacing_between or header.thickness or 1.0
    dr, dc = header.pixel_spacing
    first = (
        np.asarray(header.position)
        + col_cos * dr * (header.rows - rows) / 2
        + row_cos * dc * (header.cols - cols) / 2
    )
    return [
        dataclasses.replace(
            header,
            rows=rows,
            cols=cols,
            position=tuple(float(v) for v in first + k * step * normal),  # type: ignore[arg-type]
            frame=k,
            mosaic_tiles=tiles,
            instance=k + 1,
        )
        for k in range(n)
    ]


def tile(image: NDArray[Any], h: SliceHeader) -> NDArray[Any]:
    """Tile ``h.frame`` of a whole decoded MOSAIC image (tiles laid out row by row)."""
    image = image.reshape(h.rows * h.mosaic_tiles, h.cols * h.mosaic_tiles)
    r, c = divmod(h.frame, h.mosaic_tiles)
    return image[r * h.rows : (r + 1) * h.rows, c * h.cols : (c + 1) * h.cols]
