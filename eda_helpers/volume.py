"""The Volume: one geometric stack of slices, with the metadata needed to show it.

A Volume is what :func:`eda_helpers.read_series` and :func:`eda_helpers.read_stacks`
return and what the intensity, plotting and viewer functions take. It holds no file
handles and no pydicom objects: everything it carries is plain numbers and strings.

Its geometry is one record, the affine, with the actual position of each slice (slices
need not be evenly spaced). The orientation and spacing it also carries are checked
against the affine when the Volume is built, so that no Volume holds two geometries
that disagree; :meth:`Volume.from_array` derives them from the affine or the positions.
:meth:`Volume.world`, :meth:`Volume.index_of` and :meth:`Volume.project` carry points
between voxel indices and patient coordinates (mm, LPS, as DICOM).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from . import _checks, geometry

__all__ = ["Point", "Volume"]

# Tolerances of the geometry checks: the readers' own (geometry's named tolerances),
# so that a stack the readers form is never one the Volume refuses. Spacings derived
# from the same tags agree to rounding.
_COSINE_ATOL = geometry.COSINE_ATOL
_SPACING_RTOL = 1e-3
_POSITION_ATOL = geometry.POSITION_ATOL
_LINE_ATOL = geometry.LINE_ATOL


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
        Voxel index ``(slice, row, col, 1)`` -> patient coordinates (mm): the one
        geometry record. Its columns are the mean slice step (between distinct
        positions), the row step (column cosine x row spacing), the column step (row
        cosine x column spacing) and the position of slice 0. All NaN (with NaN
        positions or orientation) when the files carry no geometry.
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
    notes : tuple of str
        What the reader changed or assumed (dropped duplicates, missing tags, ...).

    Raises
    ------
    ValueError
        If the fields disagree: a field of the wrong length or shape, an orientation
        whose cosines are not orthogonal unit vectors, a spacing or orientation other
        than the affine's, positions off the line of the stack or out of order, or an
        affine whose slice step is not the positions' mean step. The message names the
        field; :meth:`from_array` builds consistent ones.

    Notes
    -----
    PixelSpacing is (row spacing, column spacing): ``spacing[1]`` is the distance
    between rows (the step of the row index, along the column cosine), ``spacing[2]``
    the distance between columns. ``x``/``y`` pixel coordinates (competition labels,
    :class:`Point`) are (column, row).
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
        _check_geometry(self)

    @classmethod
    def from_array(
        cls,
        pixels: torch.Tensor | ArrayLike,
        *,
        affine: ArrayLike | None = None,
        positions: ArrayLike | None = None,
        orientation: ArrayLike | None = None,
        pixel_spacing: ArrayLike | None = None,
        slice_spacing: float | None = None,
        instance_numbers: Sequence[int] | None = None,
        files: Sequence[str | Path] | None = None,
        **fields: Any,
    ) -> Volume:
        """A Volume from an array and its geometry, for tests and users' own arrays.

        Give the geometry either as an affine (evenly spaced slices) or as the slices'
        positions with their orientation and pixel spacing (the DICOM tags; uneven
        spacing allowed). The other geometry fields are derived from it.

        Parameters
        ----------
        pixels : torch.Tensor or array_like, shape (slices, rows, cols)
            The slices, slice 0 first. An array is converted with
            :func:`torch.as_tensor` (no copy where possible).
        affine : array_like, shape (4, 4), optional
            Voxel index ``(slice, row, col, 1)`` -> patient mm. Its row and column
            steps must be orthogonal; slice ``i`` is at ``affine @ (i, 0, 0, 1)``.
        positions : array_like, shape (slices, 3), optional
            ImagePositionPatient of each slice, in order along the stack.
        orientation : array_like, shape (6,), optional
            ImageOrientationPatient (with ``positions``).
        pixel_spacing : array_like, shape (2,), optional
            PixelSpacing, (row spacing, column spacing) in mm (with ``positions``).
        slice_spacing : float, optional
            Distance between slices (mm), needed only when all positions coincide
            (a single slice).
        instance_numbers : sequence of int, optional
            One per slice; by default 1, 2, ...
        files : sequence of str or Path, optional
            One per slice; by default empty (no file).
        **fields
            The metadata fields of :class:`Volume` (``description``, ``modality``,
            ``window``, ``series_uid``, ``study_uid``, ...).

        Returns
        -------
        Volume

        Raises
        ------
        ValueError
            If neither or both forms of geometry are given, or the geometry is not
            that of a stack (as :class:`Volume` and
            :func:`eda_helpers.geometry.stack_affine`).

        Examples
        --------
        Three axial slices at z = 0, 4 and 12 mm (a gap), pixels 0.5 mm apart down a
        column and 0.8 mm along a row:

        >>> import numpy as np
        >>> v = Volume.from_array(np.zeros((3, 8, 10)), positions=[[0, 0, 0], [0, 0, 4],
        ...     [0, 0, 12]], orientation=[1, 0, 0, 0, 1, 0], pixel_spacing=[0.5, 0.8])
        >>> v.spacing, v.world([1.5, 2, 10])
        ((6.0, 0.5, 0.8), array([8., 1., 8.]))
        >>> Volume.from_array(np.zeros((2, 4, 4)), affine=np.diag([3.0, 1, 1, 1])).orientation
        array([0., 0., 1., 0., 1., 0.])
        """
        if isinstance(pixels, torch.Tensor):
            data = pixels
        else:
            array = np.asarray(pixels)
            if array.dtype.kind not in "biuf":
                raise TypeError(
                    f"pixels: expected real numbers (a tensor or an int/float array), got "
                    f"{type(pixels).__name__} of dtype {array.dtype}"
                )
            data = torch.as_tensor(array)
        n = int(data.shape[0]) if data.ndim == 3 else 0
        if (affine is None) == (positions is None):
            raise ValueError(
                "affine: expected the geometry either as affine= or as positions= with "
                "orientation= and pixel_spacing=, got "
                + ("both" if affine is not None else "neither")
            )
        if affine is not None:
            if orientation is not None or pixel_spacing is not None:
                raise ValueError(
                    "orientation: expected no orientation= or pixel_spacing= with "
                    "affine= (they come from the affine), got them; pass one form"
                )
            a = np.asarray(affine, dtype=np.float64)
            if a.shape != (4, 4):
                raise ValueError(f"affine: expected a 4x4 matrix, got shape {a.shape}")
            dr, dc = float(np.linalg.norm(a[:3, 1])), float(np.linalg.norm(a[:3, 2]))
            if dr == 0.0 or dc == 0.0:
                raise ValueError(
                    f"affine: expected non-zero row and column steps, got lengths {dr} and {dc} mm"
                )
            iop = np.r_[a[:3, 2] / dc, a[:3, 1] / dr]
            pos = a[:3, 3] + np.outer(np.arange(n), a[:3, 0])
        else:
            if orientation is None or pixel_spacing is None:
                raise ValueError(
                    "orientation: expected orientation= and pixel_spacing= with positions=, "
                    "got " + ("no orientation" if orientation is None else "no pixel_spacing")
                )
            iop = np.asarray(orientation, dtype=np.float64).reshape(-1)
            sp = np.asarray(pixel_spacing, dtype=np.float64).reshape(-1)
            if sp.shape != (2,) or not (sp[0] > 0 and sp[1] > 0):
                raise ValueError(
                    f"pixel_spacing: expected two positive numbers (row spacing, column "
                    f"spacing) in mm, got {sp.tolist()}"
                )
            pos = np.asarray(positions, dtype=np.float64)
            a = geometry.stack_affine(pos, iop, sp, slice_spacing=slice_spacing)
            dr, dc = float(sp[0]), float(sp[1])
        normal = geometry.slice_normal(iop)
        numbers = tuple(range(1, n + 1)) if instance_numbers is None else instance_numbers
        return cls(
            pixels=data,
            instance_numbers=tuple(map(int, numbers)),
            positions=pos,
            orientation=iop,
            files=(Path(),) * n if files is None else tuple(_checks.paths("files", files)),
            spacing=(abs(float(a[:3, 0] @ normal)), dr, dc),
            affine=a,
            **fields,
        )

    @property
    def has_geometry(self) -> bool:
        """Whether the affine is known (the files carried position and orientation)."""
        return bool(np.isfinite(self.affine).all())

    def _geometry(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if not self.has_geometry:
            raise ValueError(
                f"Volume.affine: {self._where()}has no geometry (its files lack "
                f"ImagePositionPatient or ImageOrientationPatient), so its voxels have no "
                f"patient coordinates"
            )
        return self.affine, self.positions

    def _where(self) -> str:
        folder = Path(self.files[0]).parent if self.files and str(self.files[0]) else None
        return f"the Volume of {folder} " if folder and str(folder) != "." else "this Volume "

    def world(self, index: ArrayLike) -> NDArray[np.float64]:
        """Patient coordinates (mm, LPS) of voxel indices ``(slice, row, col)``.

        Fractional indices are allowed; between two slices the point follows their
        actual positions (a gap stays where it is), beyond the ends the mean step
        (:func:`eda_helpers.geometry.index_to_patient`).

        Parameters
        ----------
        index : array_like, shape (..., 3)

        Returns
        -------
        ndarray, shape (..., 3)

        Raises
        ------
        ValueError
            If the Volume has no geometry, or ``index`` is not (..., 3) finite numbers.

        Examples
        --------
        >>> v = Volume.from_array(np.zeros((2, 4, 4)), positions=[[0, 0, 0], [0, 0, 5]],
        ...                       orientation=[1, 0, 0, 0, 1, 0], pixel_spacing=[0.5, 0.8])
        >>> v.world([[0, 0, 0], [1, 2, 3]])  # row 2 is 1 mm down +y, column 3 is 2.4 mm along +x
        array([[0. , 0. , 0. ],
               [2.4, 1. , 5. ]])
        """
        affine, positions = self._geometry()
        return geometry.index_to_patient(index, affine, positions)

    def index_of(self, points_mm: ArrayLike) -> NDArray[np.float64]:
        """Fractional voxel indices ``(slice, row, col)`` of patient points (mm).

        The inverse of :meth:`world`. A point between two slices gets a fractional
        slice index; how far it is from the nearest slice, and which slice and pixel
        that is, is :meth:`project`.

        Parameters
        ----------
        points_mm : array_like, shape (..., 3)

        Returns
        -------
        ndarray, shape (..., 3)

        Raises
        ------
        ValueError
            As :meth:`world`.

        Examples
        --------
        >>> v = Volume.from_array(np.zeros((2, 4, 4)), positions=[[0, 0, 0], [0, 0, 5]],
        ...                       orientation=[1, 0, 0, 0, 1, 0], pixel_spacing=[0.5, 0.8])
        >>> v.index_of([2.4, 1.0, 4.0])
        array([0.8, 2. , 3. ])
        """
        affine, positions = self._geometry()
        return geometry.patient_to_index(points_mm, affine, positions)

    def project(self, points_mm: ArrayLike) -> geometry.StackProjection:
        """Each point's nearest slice, its pixel ``(x, y)`` there and its distance.

        Parameters
        ----------
        points_mm : array_like, shape (..., 3)

        Returns
        -------
        eda_helpers.geometry.StackProjection
            ``slice_index``, ``x`` (column), ``y`` (row), ``distance_mm`` (signed, out
            of plane) and ``inside`` (on the image and within half a slice step).

        Raises
        ------
        ValueError
            As :meth:`world`.

        Examples
        --------
        >>> v = Volume.from_array(np.zeros((2, 4, 4)), positions=[[0, 0, 0], [0, 0, 5]],
        ...                       orientation=[1, 0, 0, 0, 1, 0], pixel_spacing=[0.5, 0.8])
        >>> p = v.project([[2.4, 1.0, 4.0]])
        >>> p.slice_index, np.round(p.x, 6), p.y, p.distance_mm, p.inside
        (array([1]), array([3.]), array([2.]), array([-1.]), array([ True]))
        """
        affine, positions = self._geometry()
        return geometry.project_to_stack(points_mm, affine, positions, self.shape[1:])

    def points_by_slice(self, points: Iterable[Point]) -> dict[int, list[Point]]:
        """Group points by the slice index of their instance number.

        Points whose instance number is not in this Volume (for example those of
        another stack of the same series) are left out.

        Examples
        --------
        >>> v = Volume.from_array(np.zeros((2, 4, 4)), affine=np.eye(4), instance_numbers=(7, 5))
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


def _check_geometry(v: Volume) -> None:
    """Refuse a Volume whose geometry fields disagree (the messages name the field).

    Every Volume goes through here, so the checks of the affine, the orientation and
    the spacing are worked in plain floats (a few numbers each: numpy's per-call cost
    was most of the time of building a Volume), and those of the positions in a few
    array operations over all slices.
    """
    a = np.asarray(v.affine, dtype=np.float64)
    if a.shape != (4, 4):
        raise ValueError(f"Volume.affine: expected a 4x4 matrix{_of(v)}, got shape {a.shape}")
    rows = a.tolist()
    if not all(map(math.isfinite, rows[0] + rows[1] + rows[2] + rows[3])):
        return  # no geometry: nothing to contradict; world() and index_of() refuse
    x, y, z, w = rows[3]  # np.allclose(a[3], (0, 0, 0, 1)): |a - b| <= 1e-8 + 1e-5 |b|
    if not (abs(x) <= 1e-8 and abs(y) <= 1e-8 and abs(z) <= 1e-8 and abs(w - 1) <= 1e-8 + 1e-5):
        raise ValueError(
            f"Volume.affine: expected a last row (0, 0, 0, 1){_of(v)}, got {a[3].tolist()}"
        )
    fix = "; build it with Volume.from_array(...), which derives it from the geometry"
    iop = np.asarray(v.orientation, dtype=np.float64).reshape(-1)
    cosines = iop.tolist()
    if len(cosines) != 6 or not all(map(math.isfinite, cosines)):
        raise ValueError(
            f"Volume.orientation: expected 6 finite direction cosines{_of(v)}, got {cosines}"
        )
    row, col = cosines[:3], cosines[3:]
    problem = geometry.orientation_problem(cosines)
    if problem is not None:
        raise ValueError(
            f"Volume.orientation: expected two orthogonal unit direction cosines{_of(v)}, "
            f"got {np.round(iop, 6).tolist()}, which {problem}; pass a valid "
            f"ImageOrientationPatient"
        )
    spacing = v.spacing  # a tuple of floats, as from_array makes it: no array needed
    if isinstance(spacing, tuple) and all(type(x) is float for x in spacing):
        sp = list(spacing)
    else:
        sp = np.asarray(spacing, dtype=np.float64).reshape(-1).tolist()
    if len(sp) != 3 or not all(math.isfinite(x) and x > 0 for x in sp):
        raise ValueError(
            f"Volume.spacing: expected three positive (slice, row, col) spacings in mm"
            f"{_of(v)}, got {tuple(v.spacing)}"
        )
    columns = list(zip(*rows[:3], strict=True))  # the slice, row and col steps; the origin
    steps = {"row": (columns[1], col, sp[1]), "column": (columns[2], row, sp[2])}
    for name, (step, cosine, length_mm) in steps.items():
        length, unit = _norm(step), _norm(cosine)
        if abs(length - length_mm) > _SPACING_RTOL * length_mm:
            raise ValueError(
                f"Volume.spacing: the {name} spacing {length_mm:.6g} mm disagrees with the "
                f"affine's {name} step of {length:.6g} mm{_of(v)}{fix}"
            )
        if _max_gap([s / length for s in step], [c / unit for c in cosine]) > _COSINE_ATOL:
            shown = np.asarray(step) / length
            raise ValueError(
                f"Volume.orientation: the {name} direction "
                f"{np.round(cosine, 6).tolist()} disagrees with the affine's "
                f"{np.round(shown, 6).tolist()}{_of(v)}{fix}"
            )
    n0, n1, n2 = geometry._unit_normal(cosines)  # slice_normal, in plain floats
    slice_step = columns[0]
    along = slice_step[0] * n0 + slice_step[1] * n1 + slice_step[2] * n2
    if abs(along) < 1e-6:
        raise ValueError(
            f"Volume.affine: its slice step {list(slice_step)} lies in the image plane{_of(v)}; "
            f"slices must be apart along the normal{fix}"
        )
    if abs(abs(along) - sp[0]) > _SPACING_RTOL * sp[0] + 1e-6:
        raise ValueError(
            f"Volume.spacing: the slice spacing {sp[0]:.6g} mm disagrees with the "
            f"affine, whose slice step is {abs(along):.6g} mm along the normal{_of(v)}{fix}"
        )
    pos = np.asarray(v.positions, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3 or not np.isfinite(pos).all():
        raise ValueError(
            f"Volume.positions: expected finite (slices, 3) positions with a known "
            f"affine{_of(v)}, got shape {pos.shape}"
            + ("" if pos.ndim != 2 or not pos.size else " with NaN")
        )
    first = pos[0].tolist()
    if _max_gap(first, columns[3]) > _POSITION_ATOL:
        raise ValueError(
            f"Volume.positions: slice 0 is at {np.round(pos[0], 4).tolist()} mm but the "
            f"affine puts it at {np.round(a[:3, 3], 4).tolist()}{_of(v)}{fix}"
        )
    if pos.shape[0] < 2:
        return
    # Each slice's offset from slice 0 along the slice step and along the normal, in one
    # product; its distance from the line of the stack from |rel|^2 - along^2. That
    # rounds otherwise than the distance of the perpendicular, by a few micrometres at
    # most on a stack half a metre long: only a slice within that of LINE_ATOL is judged
    # otherwise.
    s0, s1, s2 = slice_step
    length = _norm(slice_step)
    rel = pos - pos[0]
    along = rel @ np.array(((s0 / length, n0), (s1 / length, n1), (s2 / length, n2)))
    off2 = np.add.reduce(rel * rel, axis=1) - along[:, 0] * along[:, 0]
    if off2.max() > _LINE_ATOL * _LINE_ATOL:
        i = int(np.argmax(off2))
        raise ValueError(
            f"Volume.positions: slice {i} is {math.sqrt(off2[i]):.3g} mm off the line of the "
            f"stack (the affine's slice step from slice 0){_of(v)}; the slices of one Volume "
            f"lie along one axis, so pass a stack split by position (or fix the positions)"
        )
    steps = along[1:] - along[:-1]  # np.diff, in fewer calls
    back = steps[:, 0] < -_POSITION_ATOL
    if back.any():
        i = int(np.argmax(back))
        raise ValueError(
            f"Volume.positions: slice {i + 1} lies before slice {i} along the stack{_of(v)}; "
            f"put the slices in order along the normal (as read_series does)"
        )
    distinct = 1 + int(np.count_nonzero(np.abs(steps[:, 1]) > _POSITION_ATOL))
    expected = (pos[-1] - pos[0]) / max(distinct - 1, 1)
    if distinct >= 2 and _max_gap(expected.tolist(), slice_step) > _POSITION_ATOL:
        raise ValueError(
            f"Volume.affine: its slice step {np.round(a[:3, 0], 4).tolist()} is not the mean "
            f"step {np.round(expected, 4).tolist()} of the {distinct} distinct positions"
            f"{_of(v)}{fix}"
        )


def _max_gap(u: Sequence[float], v: Sequence[float]) -> float:
    """``np.max(np.abs(u - v))`` of two 3-vectors of plain floats."""
    return max(abs(u[0] - v[0]), abs(u[1] - v[1]), abs(u[2] - v[2]))


def _norm(vector: Sequence[float]) -> float:
    """The length of a 3-vector of plain floats."""
    x, y, z = vector
    return math.sqrt(x * x + y * y + z * z)


def _of(v: Volume) -> str:
    """ " (of <folder>)" for the messages of :func:`_check_geometry` (worked out only
    when one is raised: it costs more than the checks)."""
    where = v._where().removeprefix("this Volume ").removeprefix("the Volume of ")
    return f" (of {where.strip()})" if where else ""
