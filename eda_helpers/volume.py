"""The Volume: one geometric stack of slices, with the metadata needed to show it.

A Volume is what :func:`eda_helpers.read_series` and :func:`eda_helpers.read_stacks`
return and what the intensity, plotting and viewer functions take. It holds no file
handles and no pydicom objects: everything it carries is plain numbers and strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray

__all__ = ["Point", "Volume"]


@dataclass(frozen=True)
class Point:
    """A point to mark on one slice, such as a label coordinate.

    Attributes
    ----------
    instance_number : int
        InstanceNumber of the slice the point belongs to.
    x, y : float
        Column and row in that slice's pixels (the competition's convention).
    text : str
        A short label drawn beside the marker, such as ``"L4/L5"``.
    """

    instance_number: int
    x: float
    y: float
    text: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class Volume:
    """One stack of slices in geometric order.

    Attributes
    ----------
    pixels : torch.Tensor, shape (slices, rows, cols)
        Pixel values after the modality LUT (RescaleSlope/RescaleIntercept), slice 0
        first along the slice normal.
    instance_numbers : tuple of int
        InstanceNumber of each slice, in slice order.
    positions : ndarray, shape (slices, 3)
        ImagePositionPatient of each slice (mm), in slice order.
    orientation : ndarray, shape (6,)
        ImageOrientationPatient shared by the slices.
    files : tuple of Path
        The file of each slice, in slice order.
    spacing : tuple of float
        (slice, row, col) spacing in mm. The slice spacing is the mean distance between
        neighbouring slices along the normal.
    affine : ndarray, shape (4, 4)
        Voxel index ``(slice, row, col, 1)`` -> patient coordinates (mm).
    series_uid, description, modality, photometric, transfer_syntax : str
        SeriesInstanceUID, SeriesDescription, Modality, the PhotometricInterpretation
        the files were stored with, and the TransferSyntaxUID of the first file.
    dicom_window : tuple of float or None
        (WindowCenter, WindowWidth) of the first slice, in the units of ``pixels``,
        or None when the files carry no window. A centre and a width, not the values
        shown black and white: ``eda_helpers.intensity.resolve_window(v, "dicom")``
        gives those.
    study_uid : str
        StudyInstanceUID.
    """

    pixels: torch.Tensor
    instance_numbers: tuple[int, ...]
    positions: NDArray[np.float64]
    orientation: NDArray[np.float64]
    files: tuple[Path, ...]
    spacing: tuple[float, float, float]
    affine: NDArray[np.float64]
    series_uid: str = ""
    description: str = ""
    modality: str = ""
    photometric: str = "MONOCHROME2"
    transfer_syntax: str = ""
    dicom_window: tuple[float, float] | None = None
    study_uid: str = ""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = self.pixels.shape[0] if self.pixels.ndim == 3 else -1
        if n < 1:
            raise ValueError(
                f"Volume.pixels: expected a (slices, rows, cols) tensor with at least one "
                f"slice, got shape {tuple(self.pixels.shape)}"
            )
        for name in ("instance_numbers", "positions", "files"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"Volume.{name}: expected one entry per slice ({n}), "
                    f"got {len(getattr(self, name))}"
                )

    def points_by_slice(self, points: Iterable[Point]) -> dict[int, list[Point]]:
        """Group points by the slice index of their instance number.

        Points whose instance number is not in this Volume (for example those of
        another stack of the same series) are left out.

        Examples
        --------
        >>> import numpy as np, torch
        >>> v = Volume(torch.zeros(2, 4, 4), (7, 5), np.zeros((2, 3)), np.eye(2, 3).ravel(),
        ...            ("a", "b"), (1.0, 1.0, 1.0), np.eye(4))
        >>> v.points_by_slice([Point(5, 1.0, 2.0, "L4/L5"), Point(9, 0.0, 0.0)])
        {1: [Point(instance_number=5, x=1.0, y=2.0, text='L4/L5')]}
        """
        index = {n: i for i, n in enumerate(self.instance_numbers)}
        out: dict[int, list[Point]] = {}
        for p in points:
            i = index.get(int(p.instance_number))
            if i is not None:
                out.setdefault(i, []).append(p)
        return out

    @property
    def shape(self) -> tuple[int, int, int]:
        """(slices, rows, cols)."""
        s, r, c = self.pixels.shape
        return int(s), int(r), int(c)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        s, r, c = self.shape
        ds, dr, dc = self.spacing
        desc = f" {self.description!r}" if self.description else ""
        return (
            f"<Volume{desc} {self.modality or '?'} {s}x{r}x{c} "
            f"{str(self.pixels.dtype).removeprefix('torch.')}, "
            f"spacing {ds:.3g}x{dr:.3g}x{dc:.3g} mm, "
            f"instances {self.instance_numbers[0]}..{self.instance_numbers[-1]}>"
        )
