"""Pure numbers for DICOM geometry: slice normal, slice order, spacing and affine.

No pydicom and no files here: every function takes plain arrays (the values of the
geometry tags) and returns arrays, so that it can be tested with numbers worked out by
hand.

Conventions (those of the DICOM standard, PS3.3 C.7.6.2.1.1):

- ``orientation`` is ImageOrientationPatient: six direction cosines, first the
  direction in which the *column index* grows along a row, then the direction in which
  the *row index* grows down a column.
- ``pixel_spacing`` is PixelSpacing: (distance between rows, distance between
  columns), in mm.
- ``position`` is ImagePositionPatient: the patient coordinates (mm) of the centre of
  the first transmitted pixel (row 0, column 0).
- A voxel index is ``(slice, row, col)``, the order of ``Volume.pixels``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, NoReturn

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "COSINE_ATOL",
    "LINE_ATOL",
    "ORIENTATION_ATOL",
    "POSITION_ATOL",
    "STEP_RTOL",
    "StackFacts",
    "StackProjection",
    "clip_to_image",
    "duplicate_runs",
    "image_corners",
    "index_to_patient",
    "irregular_steps",
    "line_groups",
    "mean_step",
    "orientation_problem",
    "patient_to_index",
    "patient_to_pixel",
    "pixel_to_patient",
    "plane_name",
    "project_to_stack",
    "project_to_stacks",
    "reference_line",
    "same_orientation",
    "slice_normal",
    "slice_offsets",
    "slice_order",
    "stack_affine",
    "stack_facts",
    "voxel_affine",
]

PlaneName = Literal["sagittal", "coronal", "axial", "oblique"]
Numbering = Literal["along normal", "against normal", "mixed", ""]

# The tolerances every reader of the geometry tags shares (one set, used as the
# defaults below): scanners write positions with a few decimals and cosines rounded to
# about 6 digits, so values closer than these are the same.
POSITION_ATOL = 0.01
"""Distance (mm) below which two slice positions count as the same."""
ORIENTATION_ATOL = 1e-3
"""Largest difference of direction cosines between slices of one stack."""
STEP_RTOL = 0.1
"""Relative departure from the median slice step that makes a step irregular."""
COSINE_ATOL = 1e-3
"""Largest departure of ImageOrientationPatient's cosines from unit length and from
orthogonal (rounding to 6 digits stays far below it)."""
LINE_ATOL = 0.05
"""Distance (mm) a slice may lie off the line of its stack: the line through the
stack's first and last slice along the normal."""


def _cosines(orientation: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    iop = np.asarray(orientation, dtype=np.float64).reshape(-1)
    if iop.shape != (6,):
        raise ValueError(
            f"orientation: ImageOrientationPatient must hold 6 numbers, got {iop.shape[0]}"
        )
    return iop[:3], iop[3:]


def _cosine_floats(orientation: ArrayLike) -> list[float]:
    """The six cosines of :func:`_cosines` as plain floats: straight from a tuple or
    list of six numbers (what the header reader gives), else through numpy (a tenth of
    the time for the readers, which call this once per slice group)."""
    if type(orientation) is np.ndarray and orientation.dtype == np.float64:
        if orientation.shape == (6,):  # a Volume's
            return orientation.tolist()
    elif isinstance(orientation, tuple | list) and len(orientation) == 6:
        try:
            return [float(x) for x in orientation]
        except TypeError:  # nested, say: let numpy's reshape say what it holds
            pass
    row, col = _cosines(orientation)
    return row.tolist() + col.tolist()


def slice_normal(orientation: ArrayLike) -> NDArray[np.float64]:
    """Unit normal of the image plane: row cosine x column cosine.

    Parameters
    ----------
    orientation : array_like, shape (6,)
        ImageOrientationPatient.

    Returns
    -------
    ndarray, shape (3,)
        The unit vector along which slice positions are compared.

    Raises
    ------
    ValueError
        If ``orientation`` does not hold 6 numbers or its two cosines are parallel.

    Examples
    --------
    >>> slice_normal([1, 0, 0, 0, 1, 0])  # axial: rows run +x, columns run +y
    array([0., 0., 1.])
    """
    return np.array(_normal_floats(orientation))


def _normal_floats(orientation: ArrayLike) -> tuple[float, float, float]:
    """:func:`slice_normal` as plain floats (it raises as slice_normal does)."""
    return _unit_normal(_cosine_floats(orientation))


def _offset_floats(points: list[Any], orientation: ArrayLike) -> list[float]:
    """:func:`slice_offsets` of a few points (3 plain floats each) as plain floats: the
    readers call this once per slice group, where numpy's calls cost more than the
    arithmetic."""
    nx, ny, nz = _normal_floats(orientation)
    return [x * nx + y * ny + z * nz for x, y, z in points]


def _unit_normal(cosines: list[float]) -> tuple[float, float, float]:
    """:func:`slice_normal` of the six cosines as plain floats, as plain floats."""
    # The cross product of two 3-vectors in plain floats: np.cross costs ~20x more here,
    # and the readers call this once per slice group.
    a1, a2, a3, b1, b2, b3 = cosines
    normal = (a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1)
    norm = math.sqrt(normal[0] ** 2 + normal[1] ** 2 + normal[2] ** 2)
    if not norm >= 1e-6:  # also NaN
        raise ValueError(
            f"orientation: the two direction cosines of ImageOrientationPatient "
            f"{np.round(np.array(cosines), 6).tolist()} are parallel, so they define no plane"
        )
    return (normal[0] / norm, normal[1] / norm, normal[2] / norm)


def slice_offsets(positions: ArrayLike, orientation: ArrayLike) -> NDArray[np.float64]:
    """Distance of each slice along the slice normal (mm).

    Parameters
    ----------
    positions : array_like, shape (n, 3)
        ImagePositionPatient of each slice.
    orientation : array_like, shape (6,)
        ImageOrientationPatient shared by the slices.

    Returns
    -------
    ndarray, shape (n,)
        ``positions @ slice_normal(orientation)``; sorting by it gives the geometric
        order of the slices.

    Examples
    --------
    >>> slice_offsets([[0, 0, 5.0], [0, 0, -2.5]], [1, 0, 0, 0, 1, 0])
    array([ 5. , -2.5])
    """
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    return pos @ slice_normal(orientation)


def voxel_affine(
    first_position: ArrayLike,
    orientation: ArrayLike,
    pixel_spacing: ArrayLike,
    slice_step: ArrayLike,
) -> NDArray[np.float64]:
    """4x4 matrix taking a voxel index ``(slice, row, col, 1)`` to patient mm.

    Parameters
    ----------
    first_position : array_like, shape (3,)
        ImagePositionPatient of slice 0.
    orientation : array_like, shape (6,)
        ImageOrientationPatient.
    pixel_spacing : array_like, shape (2,)
        PixelSpacing (row spacing, column spacing) in mm.
    slice_step : array_like, shape (3,)
        Vector (mm) from one slice's position to the next one's. For a stack it is
        ``(positions[-1] - positions[0]) / (n - 1)``, which keeps a gantry tilt.

    Returns
    -------
    ndarray, shape (4, 4)

    Examples
    --------
    >>> A = voxel_affine([10, 20, 30], [1, 0, 0, 0, 1, 0], [0.5, 0.25], [0, 0, 4])
    >>> A @ [2, 1, 3, 1]  # slice 2, row 1, column 3
    array([10.75, 20.5 , 38.  ,  1.  ])
    """
    cosines = _cosine_floats(orientation)
    dr, dc = np.asarray(pixel_spacing, dtype=np.float64).reshape(2).tolist()
    step = np.asarray(slice_step, dtype=np.float64).reshape(3).tolist()
    origin = np.asarray(first_position, dtype=np.float64).reshape(3).tolist()
    r, c = cosines[:3], cosines[3:]
    # Built from plain floats in one call (the same products as col * dr and row * dc):
    # the row index grows along the column cosine, the column index along the row cosine.
    return np.array(
        [[step[i], c[i] * dr, r[i] * dc, origin[i]] for i in range(3)] + [[0.0, 0.0, 0.0, 1.0]]
    )


def patient_to_pixel(
    points: ArrayLike,
    position: ArrayLike,
    orientation: ArrayLike,
    pixel_spacing: ArrayLike,
) -> NDArray[np.float64]:
    """Project patient points (mm) into one image: ``(x, y, distance)`` per point.

    ``x`` is the column and ``y`` the row (the convention of the competition's label
    coordinates), both in pixels and possibly fractional; ``distance`` is the signed
    distance (mm) of the point from the image plane along its normal.

    Parameters
    ----------
    points : array_like, shape (n, 3) or (3,)
        Points in patient coordinates.
    position, orientation, pixel_spacing : array_like
        ImagePositionPatient, ImageOrientationPatient and PixelSpacing of the image.

    Returns
    -------
    ndarray, shape (n, 3)

    Examples
    --------
    >>> patient_to_pixel([10.75, 20.5, 38.0], [10, 20, 30], [1, 0, 0, 0, 1, 0], [0.5, 0.25])
    array([[3., 1., 8.]])
    """
    row, col = _cosines(orientation)
    dr, dc = np.asarray(pixel_spacing, dtype=np.float64).reshape(2)
    rel = np.asarray(points, dtype=np.float64).reshape(-1, 3) - np.asarray(
        position, dtype=np.float64
    ).reshape(3)
    return np.stack([rel @ row / dc, rel @ col / dr, rel @ slice_normal(orientation)], axis=1)


def pixel_to_patient(
    xy: ArrayLike,
    position: ArrayLike,
    orientation: ArrayLike,
    pixel_spacing: ArrayLike,
) -> NDArray[np.float64]:
    """Patient coordinates (mm) of pixel points ``(x, y)`` of one image, or of several.

    The inverse of :func:`patient_to_pixel` for points on the image plane: ``x`` is the
    column and ``y`` the row (the competition's label convention), fractional allowed.
    PixelSpacing is (row spacing, column spacing): ``x`` steps along the row cosine by
    the column spacing, ``y`` along the column cosine by the row spacing.

    Parameters
    ----------
    xy : array_like, shape (n, 2) or (2,)
        Column and row of each point.
    position, orientation, pixel_spacing : array_like
        ImagePositionPatient, ImageOrientationPatient and PixelSpacing of the image:
        shapes (3,), (6,) and (2,); or one of each per point, shapes (n, 3), (n, 6)
        and (n, 2), for points on several images (the labels of a series, say).

    Returns
    -------
    ndarray, shape (n, 3)

    Raises
    ------
    ValueError
        If ``orientation`` does not hold 6 numbers (per point).

    Examples
    --------
    >>> pixel_to_patient([3, 1], [10, 20, 30], [1, 0, 0, 0, 1, 0], [0.5, 0.25])
    array([[10.75, 20.5 , 30.  ]])
    >>> pixel_to_patient([[3, 1], [3, 1]], [[10, 20, 30], [0, 0, 0]],
    ...                  [[1, 0, 0, 0, 1, 0]] * 2, [[0.5, 0.25]] * 2)
    array([[10.75, 20.5 , 30.  ],
           [ 0.75,  0.5 ,  0.  ]])
    """
    iop = np.asarray(orientation, dtype=np.float64)
    dr: NDArray[np.float64] | np.float64
    dc: NDArray[np.float64] | np.float64
    origin: NDArray[np.float64]
    if iop.ndim == 2:  # an image per point: the same products, row by row
        if iop.shape[1] != 6:
            raise ValueError(
                f"orientation: ImageOrientationPatient must hold 6 numbers per point, got "
                f"{iop.shape[1]}"
            )
        row, col = iop[:, :3], iop[:, 3:]
        sp = np.asarray(pixel_spacing, dtype=np.float64).reshape(-1, 2)
        dr, dc = sp[:, :1], sp[:, 1:]
        origin = np.asarray(position, dtype=np.float64).reshape(-1, 3)
    else:
        row, col = _cosines(iop)
        dr, dc = np.asarray(pixel_spacing, dtype=np.float64).reshape(2)
        origin = np.asarray(position, dtype=np.float64).reshape(3)
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    return origin + pts[:, :1] * dc * row + pts[:, 1:] * dr * col


def same_orientation(a: ArrayLike, b: ArrayLike, *, atol: float = ORIENTATION_ATOL) -> bool:
    """Whether two ImageOrientationPatient values describe the same plane directions.

    Parameters
    ----------
    a, b : array_like, shape (6,)
        ImageOrientationPatient values.
    atol : float, optional
        Largest difference allowed in any of the six direction cosines. The default
        (0.001, about 0.06 degrees) absorbs the rounding of the decimal strings written
        by scanners while separating stacks angled a degree or more apart.

    Returns
    -------
    bool

    Examples
    --------
    >>> same_orientation([1, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0.99999, 0.0001])
    True
    >>> same_orientation([1, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0.9962, 0.0872])  # 5 degrees
    False
    """
    # The six differences in plain floats (np.r_ and np.max cost ten times more); a NaN
    # fails the test, as it does np.max(...) <= atol.
    return all(
        abs(x - y) <= atol for x, y in zip(_cosine_floats(a), _cosine_floats(b), strict=True)
    )


def slice_order(
    offsets: ArrayLike, instance_numbers: ArrayLike, *, atol: float = POSITION_ATOL
) -> NDArray[np.intp]:
    """Indices that sort slices by their offset along the normal, ascending.

    Slices whose offsets differ by at most ``atol`` count as being at the same
    position; among those, the lower instance number comes first. Instance numbers
    never override a real difference in position.

    Parameters
    ----------
    offsets : array_like, shape (n,)
        Offset of each slice along the slice normal (see :func:`slice_offsets`), in mm.
    instance_numbers : array_like, shape (n,)
        InstanceNumber of each slice.
    atol : float, optional
        Distance (mm) below which two positions count as the same.

    Returns
    -------
    ndarray of intp, shape (n,)

    Examples
    --------
    >>> slice_order([5.0, -2.5, 5.000001, 0.0], [1, 2, 0, 3])
    array([1, 3, 2, 0])
    """
    off = np.asarray(offsets, dtype=np.float64).reshape(-1)
    inst = np.asarray(instance_numbers).reshape(-1)
    if inst.shape != off.shape:
        raise ValueError(
            f"instance_numbers: expected one per offset ({off.shape[0]}), got {inst.shape[0]}"
        )
    order = np.argsort(off, kind="stable")
    ordered = off[order]
    apart = ordered[1:] - ordered[:-1] > atol  # np.diff, without its Python wrapper
    if apart.all():  # every slice at a position of its own: no tie to break
        return order
    # Runs of (nearly) equal offsets, each re-sorted by instance number.
    run_id = np.zeros(off.size, dtype=np.intp)
    np.cumsum(apart, out=run_id[1:])
    return order[np.lexsort((inst[order], run_id))]


def duplicate_runs(
    sorted_offsets: ArrayLike, *, atol: float = POSITION_ATOL
) -> list[NDArray[np.intp]]:
    """Groups of neighbouring slices that sit at the same position.

    Parameters
    ----------
    sorted_offsets : array_like, shape (n,)
        Slice offsets along the normal, sorted ascending.
    atol : float, optional
        Distance (mm) below which two positions count as the same.

    Returns
    -------
    list of ndarray
        One array of slice indices per position held by more than one slice; empty
        when all positions differ.

    Examples
    --------
    >>> duplicate_runs([0.0, 3.0, 3.0, 6.0, 9.0, 9.005])
    [array([1, 2]), array([4, 5])]
    """
    if isinstance(sorted_offsets, list) and all(type(x) is float for x in sorted_offsets):
        if all(b - a > atol for a, b in itertools.pairwise(sorted_offsets)):
            return []  # the common case, for the few plain floats the readers pass: no array
    off = np.asarray(sorted_offsets, dtype=np.float64).reshape(-1)
    if off.size < 2:
        return []
    apart = off[1:] - off[:-1] > atol
    if apart.all():  # the common case, in two array operations
        return []
    starts = np.flatnonzero(np.r_[True, apart])
    bounds = np.r_[starts, off.size]
    return [np.arange(a, b) for a, b in itertools.pairwise(bounds) if b - a > 1]


def irregular_steps(
    sorted_offsets: ArrayLike, *, rtol: float = STEP_RTOL, atol: float = POSITION_ATOL
) -> NDArray[np.intp]:
    """Where the step between neighbouring slices departs from the usual step.

    Parameters
    ----------
    sorted_offsets : array_like, shape (n,)
        Distinct slice offsets along the normal, sorted ascending.
    rtol, atol : float, optional
        A step ``offsets[i + 1] - offsets[i]`` is irregular when it differs from the
        median step by more than ``atol + rtol * median``.

    Returns
    -------
    ndarray of intp
        The indices ``i`` of the irregular steps (between slice ``i`` and ``i + 1``).

    Examples
    --------
    >>> irregular_steps([0.0, 4.0, 8.0, 20.0, 24.0])  # median step 4, one step of 12
    array([2])
    """
    off = np.asarray(sorted_offsets, dtype=np.float64).reshape(-1)
    if off.size < 3:
        return np.zeros(0, dtype=np.intp)
    steps = np.diff(off)
    median = float(np.median(steps))
    return np.flatnonzero(np.abs(steps - median) > atol + rtol * abs(median))


def _position_starts(sorted_offsets: NDArray[np.float64], atol: float) -> NDArray[np.intp]:
    """Index of the first slice at each distinct position of sorted offsets."""
    return np.flatnonzero(np.r_[True, np.diff(sorted_offsets) > atol])


@dataclass(frozen=True)
class StackFacts:
    """What the geometry tags of one stack say about its slices (see :func:`stack_facts`).

    Attributes
    ----------
    plane : {"sagittal", "coronal", "axial", "oblique"}
        :func:`plane_name` of the stack's orientation.
    order : ndarray of intp, shape (n,)
        Indices that put the slices in geometric order (:func:`slice_order`).
    offsets : ndarray of float64, shape (n,)
        The slice offsets along the normal in that order (ascending, mm).
    steps : ndarray of float64, shape (n - 1,)
        ``np.diff(offsets)``: 0 (or nearly) where two slices share a position.
    duplicate_runs : list of ndarray of intp
        :func:`duplicate_runs` of ``offsets``: indices (into the ordered slices) of the
        slices sharing each position held more than once.
    starts : ndarray of intp
        Index (into the ordered slices) of the first slice at each distinct position.
    irregular : ndarray of intp
        :func:`irregular_steps` of the distinct positions: ``i`` for an irregular step
        between ``distinct[i]`` and ``distinct[i + 1]``.
    numbering : {"along normal", "against normal", "mixed", ""}
        How InstanceNumber runs along the normal, judged from one distinct position to
        the next by the lowest and the highest number at each (slices sharing a position
        and slices without a number say nothing about the direction); "" when fewer than
        two distinct positions carry numbers.
    """

    plane: PlaneName
    order: NDArray[np.intp]
    offsets: NDArray[np.float64]
    steps: NDArray[np.float64]
    duplicate_runs: list[NDArray[np.intp]]
    starts: NDArray[np.intp]
    irregular: NDArray[np.intp]
    numbering: Numbering

    @property
    def distinct(self) -> NDArray[np.float64]:
        """The distinct positions (mm, ascending): the offset of each ``starts`` slice."""
        return self.offsets[self.starts]


def stack_facts(
    positions: ArrayLike, orientation: ArrayLike, instance_numbers: ArrayLike
) -> StackFacts:
    """Order, steps, duplicate positions, irregular steps and numbering of one stack.

    The one place these are computed from the geometry tags, with the tolerances
    :data:`POSITION_ATOL` and :data:`STEP_RTOL`: the reader orders and checks a stack
    with them and the dataset scan reports them.

    Parameters
    ----------
    positions : array_like, shape (n, 3)
        ImagePositionPatient of each slice, ``n >= 1``.
    orientation : array_like, shape (6,)
        ImageOrientationPatient shared by the slices.
    instance_numbers : array_like of int, shape (n,)
        InstanceNumber of each slice; a negative number stands for a missing one.

    Returns
    -------
    StackFacts

    Raises
    ------
    ValueError
        If ``positions`` is not of shape (n, 3), ``orientation`` does not hold 6 numbers
        or defines no plane, or the lengths of ``positions`` and ``instance_numbers``
        differ.

    Examples
    --------
    >>> facts = stack_facts([[0, 0, z] for z in (8.0, 0.0, 4.0, 4.0, 20.0)],
    ...                     [1, 0, 0, 0, 1, 0], [1, 5, 3, 4, 2])
    >>> facts.plane, facts.order.tolist(), facts.steps.tolist()
    ('axial', [1, 2, 3, 0, 4], [4.0, 0.0, 4.0, 12.0])
    >>> [r.tolist() for r in facts.duplicate_runs], facts.distinct.tolist()
    ([[1, 2]], [0.0, 4.0, 8.0, 20.0])
    >>> facts.irregular.tolist(), facts.numbering
    ([2], 'mixed')
    """
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3 or pos.shape[0] < 1:
        raise ValueError(
            f"positions: expected one ImagePositionPatient (3 numbers) per slice, shape "
            f"(n, 3) with n >= 1, got shape {pos.shape}"
        )
    inst = np.asarray(instance_numbers).reshape(-1)
    plane = plane_name(orientation)
    all_offsets = slice_offsets(pos, orientation)
    order = slice_order(all_offsets, inst)
    offsets = all_offsets[order]
    starts = _position_starts(offsets, POSITION_ATOL)
    return StackFacts(
        plane=plane,
        order=order,
        offsets=offsets,
        steps=np.diff(offsets),
        duplicate_runs=duplicate_runs(offsets),
        starts=starts,
        irregular=irregular_steps(offsets[starts]),
        numbering=_numbering(inst[order], starts),
    )


def _numbering(numbers: NDArray[np.integer], starts: NDArray[np.intp]) -> Numbering:
    """How instance numbers (in geometric order, < 0 for none) run along the normal."""
    position = np.zeros(numbers.size, dtype=np.intp)
    position[starts] = 1
    known = numbers >= 0
    position = np.cumsum(position)[known]
    numbers = numbers[known]
    first = np.flatnonzero(np.r_[True, np.diff(position) != 0]) if numbers.size else starts[:0]
    if first.size < 2:
        return ""
    rising = np.diff(
        np.c_[np.minimum.reduceat(numbers, first), np.maximum.reduceat(numbers, first)], axis=0
    )
    if np.all(rising > 0):
        return "along normal"
    if np.all(rising < 0):
        return "against normal"
    return "mixed"


def mean_step(positions: ArrayLike) -> NDArray[np.float64]:
    """Mean vector (mm) from one slice position to the next.

    Parameters
    ----------
    positions : array_like, shape (n, 3)
        ImagePositionPatient of each slice in slice order, ``n >= 2``.

    Returns
    -------
    ndarray, shape (3,)
        ``(positions[-1] - positions[0]) / (n - 1)``: the ``slice_step`` of
        :func:`voxel_affine`.

    Examples
    --------
    >>> mean_step([[0, 0, 0], [0, 0.1, 2], [0, 0, 6]])
    array([0., 0., 3.])
    """
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    if pos.shape[0] < 2:
        raise ValueError(f"positions: need at least 2 slices for a step, got {pos.shape[0]}")
    return (pos[-1] - pos[0]) / (pos.shape[0] - 1)


def plane_name(orientation: ArrayLike, *, max_angle: float = 30.0) -> PlaneName:
    """Name of the anatomical plane an image lies in, from its slice normal.

    Patient axes are DICOM's (LPS): the normal of a sagittal image runs along x
    (right-left), of a coronal image along y (front-back), of an axial image along z
    (foot-head).

    Parameters
    ----------
    orientation : array_like, shape (6,)
        ImageOrientationPatient.
    max_angle : float, optional
        Largest angle (degrees) between the normal and the nearest patient axis for the
        image to be named after that axis; beyond it, the image is "oblique". The default
        (30 degrees) names the usual disc-angled axial stacks "axial"; a stack along a
        steep L5/S1 disc can exceed it.

    Returns
    -------
    {"sagittal", "coronal", "axial", "oblique"}

    Raises
    ------
    ValueError
        If ``orientation`` does not hold 6 numbers or its cosines are parallel, or if
        ``max_angle`` is not between 0 and 90.

    Examples
    --------
    >>> plane_name([0, 1, 0, 0, 0, -1]), plane_name([1, 0, 0, 0, 0.94, -0.342])  # 20 deg
    ('sagittal', 'axial')
    >>> plane_name([1, 0, 0, 0, 0.707, -0.707])  # 45 degrees between axial and coronal
    'oblique'
    """
    if not 0.0 <= max_angle <= 90.0:
        raise ValueError(f"max_angle: expected degrees between 0 and 90, got {max_angle!r}")
    normal = np.abs(slice_normal(orientation))
    axis = int(np.argmax(normal))
    angle = float(np.degrees(np.arccos(min(1.0, float(normal[axis])))))
    if angle > max_angle:
        return "oblique"
    names: tuple[PlaneName, ...] = ("sagittal", "coronal", "axial")
    return names[axis]


def image_corners(
    position: ArrayLike,
    orientation: ArrayLike,
    pixel_spacing: ArrayLike,
    shape: tuple[int, int],
) -> NDArray[np.float64]:
    """Patient coordinates (mm) of the four corners of an image.

    The corners are those of the area the pixels cover, half a pixel outside the
    centres of the edge pixels (the extent ``imshow`` draws): pixel coordinates
    ``(x, y)`` = (-0.5, -0.5), (cols - 0.5, -0.5), (cols - 0.5, rows - 0.5),
    (-0.5, rows - 0.5), in that order (around the rectangle).

    Parameters
    ----------
    position, orientation, pixel_spacing : array_like
        ImagePositionPatient, ImageOrientationPatient and PixelSpacing of the image.
    shape : (int, int)
        (Rows, Columns) of the image.

    Returns
    -------
    ndarray, shape (4, 3)

    Examples
    --------
    >>> image_corners([0, 0, 0], [1, 0, 0, 0, 1, 0], [2.0, 1.0], (3, 4))
    array([[-0.5, -1. ,  0. ],
           [ 3.5, -1. ,  0. ],
           [ 3.5,  5. ,  0. ],
           [-0.5,  5. ,  0. ]])
    """
    row, col = _cosines(orientation)
    dr, dc = np.asarray(pixel_spacing, dtype=np.float64).reshape(2)
    rows, cols = shape
    xy = np.array([[-0.5, -0.5], [cols - 0.5, -0.5], [cols - 0.5, rows - 0.5], [-0.5, rows - 0.5]])
    origin = np.asarray(position, dtype=np.float64).reshape(3)
    return origin + np.outer(xy[:, 0] * dc, row) + np.outer(xy[:, 1] * dr, col)


def reference_line(
    corners: ArrayLike,
    position: ArrayLike,
    orientation: ArrayLike,
    pixel_spacing: ArrayLike,
    *,
    atol: float = 1e-6,
) -> NDArray[np.float64] | None:
    """Where a rectangle (another image) cuts the plane of an image, in its pixels.

    The cross-reference line of radiology viewers: the segment of the image's plane
    that the other image's rectangle covers, that is the intersection line of the two
    planes clipped to the other image's extent. It is given in the image's pixel
    coordinates ``(x, y)`` (column, row, as :func:`patient_to_pixel`) and is not clipped
    to the image's own extent.

    Parameters
    ----------
    corners : array_like, shape (4, 3)
        The other image's corners in patient coordinates, in order around the
        rectangle (see :func:`image_corners`).
    position, orientation, pixel_spacing : array_like
        ImagePositionPatient, ImageOrientationPatient and PixelSpacing of the image the
        line is drawn on.
    atol : float, optional
        Distance (mm) from the plane under which a corner counts as lying on it.

    Returns
    -------
    ndarray, shape (2, 2), or None
        ``[[x0, y0], [x1, y1]]``, the two ends of the segment; None when the rectangle
        does not cross the plane, touches it at a single point, or lies in it.

    Raises
    ------
    ValueError
        If ``corners`` is not 4 points, or as :func:`slice_normal`.

    Examples
    --------
    An axial image at z = 10 mm covering y = 0..50 mm, and a sagittal image at x = 0
    whose first pixel is at (0, -20, 40), its columns running +y and its rows -z, with
    1 mm pixels: the line is the row where z = 10 (row 30), from column 20 (y = 0) to
    column 70 (y = 50).

    >>> axial = image_corners([-30, 0.5, 10], [1, 0, 0, 0, 1, 0], [1, 1], (50, 100))
    >>> reference_line(axial, [0, -20, 40], [0, 1, 0, 0, 0, -1], [1, 1])
    array([[20., 30.],
           [70., 30.]])
    """
    pts = np.asarray(corners, dtype=np.float64)
    if pts.shape != (4, 3):
        raise ValueError(f"corners: expected 4 points of 3 coordinates, got shape {pts.shape}")
    proj = patient_to_pixel(pts, position, orientation, pixel_spacing)
    dist = np.where(np.abs(proj[:, 2]) <= atol, 0.0, proj[:, 2])
    if not np.any(dist):
        return None  # the rectangle lies in the plane: no line
    ends: list[NDArray[np.float64]] = []
    for i in range(4):
        j = (i + 1) % 4
        if dist[i] == 0.0:
            ends.append(proj[i, :2])
        elif dist[i] * dist[j] < 0.0:
            t = dist[i] / (dist[i] - dist[j])
            ends.append(proj[i, :2] + t * (proj[j, :2] - proj[i, :2]))
    if len(ends) < 2:
        return None
    # Of the crossings (two for a proper cut), the two farthest apart.
    far = max(
        itertools.combinations(range(len(ends)), 2),
        key=lambda ij: float(np.linalg.norm(ends[ij[0]] - ends[ij[1]])),
    )
    seg = np.array([ends[far[0]], ends[far[1]]])
    if np.linalg.norm(seg[0] - seg[1]) <= atol:
        return None
    return seg


# --------------------------------------------------------------------------- world coordinates
#
# A stack's geometry is its affine (voxel index -> patient mm, evenly spaced: slice 0's
# position plus the mean slice step) together with the actual position of each slice.
# The in-plane part of the affine is exact; along the stack, the functions below follow
# the actual positions, so that a gap between two slices is where it is and not spread
# over the stack. Beyond the first and last slice they continue with the mean step.


@dataclass(frozen=True)
class StackProjection:
    """Points projected onto the nearest slice of a stack.

    Every attribute is an array of the points' shape (the input's shape without its last
    axis of 3 coordinates).

    Attributes
    ----------
    slice_index : ndarray of intp
        The slice whose plane is nearest to the point (the lower index on a tie).
    x, y : ndarray of float
        Column and row of the point's foot on that slice, in its pixels (the
        competition's convention), possibly fractional or outside the image.
    distance_mm : ndarray of float
        Signed distance (mm) of the point from that slice's plane, along the slice
        normal (:func:`slice_normal`).
    inside : ndarray of bool
        Whether the foot falls on the image (within half a pixel of its edge pixels'
        centres) and the point lies within half a slice step of that slice's plane.
    """

    slice_index: NDArray[np.intp]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    distance_mm: NDArray[np.float64]
    inside: NDArray[np.bool_]


_PROJECTION_FIELDS = ("slice_index", "x", "y", "distance_mm", "inside")


def stack_affine(
    positions: ArrayLike,
    orientation: ArrayLike,
    pixel_spacing: ArrayLike,
    *,
    slice_spacing: float | None = None,
    atol: float = 0.01,
) -> NDArray[np.float64]:
    """The affine of a stack from its slices' positions, in slice order.

    The slice step is the mean step between *distinct* positions,
    ``(positions[-1] - positions[0]) / (k - 1)`` for ``k`` distinct positions along the
    normal (slices repeated at one position, as kept by ``duplicates="keep"``, do not
    shorten it). It keeps a gantry tilt. A stack with a single position needs
    ``slice_spacing`` (its SpacingBetweenSlices or SliceThickness): the step is then that
    distance along the normal.

    Parameters
    ----------
    positions : array_like, shape (n, 3)
        ImagePositionPatient of each slice, in slice order.
    orientation, pixel_spacing : array_like
        ImageOrientationPatient and PixelSpacing (row spacing, column spacing), mm.
    slice_spacing : float, optional
        Distance between slices (mm), used only when all positions coincide.
    atol : float, optional
        Distance (mm) along the normal below which two positions count as the same.

    Returns
    -------
    ndarray, shape (4, 4)
        As :func:`voxel_affine`.

    Raises
    ------
    ValueError
        If ``positions`` is not (n, 3) with n >= 1, or all positions coincide and
        ``slice_spacing`` is missing or not positive.

    Examples
    --------
    >>> stack_affine([[0, 0, 0], [0, 0, 4], [0, 0, 12]], [1, 0, 0, 0, 1, 0], [0.5, 0.8])[:3]
    array([[0. , 0. , 0.8, 0. ],
           [0. , 0.5, 0. , 0. ],
           [6. , 0. , 0. , 0. ]])
    """
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3 or pos.shape[0] < 1:
        raise ValueError(
            f"positions: expected an (n, 3) array of slice positions with n >= 1, "
            f"got shape {pos.shape}"
        )
    offsets = slice_offsets(pos, orientation)
    distinct = 1 + int(np.count_nonzero(np.abs(offsets[1:] - offsets[:-1]) > atol))
    if distinct >= 2:
        step = (pos[-1] - pos[0]) / (distinct - 1)
    else:
        if slice_spacing is None or not np.isfinite(slice_spacing) or slice_spacing <= 0:
            raise ValueError(
                f"slice_spacing: expected a positive distance (mm) between slices, got "
                f"{slice_spacing!r}; the {pos.shape[0]} slice(s) share one position, so "
                f"the step cannot come from the positions (pass SpacingBetweenSlices or "
                f"SliceThickness)"
            )
        step = slice_normal(orientation) * float(slice_spacing)
    return voxel_affine(pos[0], orientation, pixel_spacing, step)


class _Frames(NamedTuple):
    """The geometry of several stacks, padded to the longest (``S`` slices), as the
    projections need it: one array operation serves every stack of a study.

    ``positions`` repeats each stack's last position beyond its ``slices`` and
    ``offsets`` (along ``axis``) is +inf there, so that no search or gather picks a
    slice a stack does not have. ``normal`` is the unit slice normal (row cosine x
    column cosine of the affine); ``axis`` is that normal turned so that the slices'
    offsets along it do not decrease with the slice index; ``along`` is the length of
    the affine's slice step along it.
    """

    affine: NDArray[np.float64]  # (T, 4, 4)
    positions: NDArray[np.float64]  # (T, S, 3)
    slices: NDArray[np.intp]  # (T,) how many each stack has
    axis: NDArray[np.float64]  # (T, 3)
    offsets: NDArray[np.float64]  # (T, S)
    along: NDArray[np.float64]  # (T,)
    normal: NDArray[np.float64]  # (T, 3)


def _stack_frames(stacks: Sequence[tuple[ArrayLike, ArrayLike]]) -> _Frames:
    """The :class:`_Frames` of ``(affine, positions)`` pairs, each checked.

    The few numbers of each stack (its normal, its step along it) are worked in plain
    floats, the slices of all stacks in a few array operations: numpy's per-call cost
    is most of a projection's for a study's few stacks.
    """
    stacks = list(stacks)
    if not stacks:
        raise ValueError("stacks: expected at least one stack, got none")
    affines, arrays = [], []
    for t, (affine, positions) in enumerate(stacks):
        a = np.asarray(affine, dtype=np.float64)
        pos = np.asarray(positions, dtype=np.float64)
        if a.shape != (4, 4) or pos.ndim != 2 or pos.shape[1] != 3 or pos.shape[0] < 1:
            _no_frame(a, pos, _which(t, stacks))
        affines.append(a)
        arrays.append(pos)
    counts = [len(p) for p in arrays]
    longest = max(counts)
    af = np.stack(affines)
    if min(counts) == longest:
        pos = np.stack(arrays)
    else:
        pos = np.empty((len(arrays), longest, 3))
        for t, p in enumerate(arrays):
            pos[t, : len(p)] = p
            pos[t, len(p) :] = p[-1]
    if not (np.isfinite(af).all() and np.isfinite(pos).all()):
        for t, (a, p) in enumerate(zip(affines, arrays, strict=True)):
            if not (np.isfinite(a).all() and np.isfinite(p).all()):
                _no_frame(a, p, _which(t, stacks))
    normals, alongs = [], []
    for t, rows in enumerate(af[:, :3, :].tolist()):
        (s0, v0, u0, _), (s1, v1, u1, _), (s2, v2, u2, _) = rows
        # the column step (row cosine) x the row step (column cosine)
        n0, n1, n2 = u1 * v2 - u2 * v1, u2 * v0 - u0 * v2, u0 * v1 - u1 * v0
        norm = math.sqrt(n0 * n0 + n1 * n1 + n2 * n2)
        if norm == 0.0:
            raise ValueError(
                f"{_which(t, stacks)}affine: its row and column steps are parallel, so they "
                f"define no plane"
            )
        n0, n1, n2 = n0 / norm, n1 / norm, n2 / norm
        along = s0 * n0 + s1 * n1 + s2 * n2
        if along == 0.0:
            raise ValueError(
                f"{_which(t, stacks)}affine: its slice step lies in the image plane, so "
                f"slices cannot differ"
            )
        normals.append((n0, n1, n2))
        alongs.append(along)
    normal = np.array(normals)
    count = np.array(counts, dtype=np.intp)
    offsets = (pos @ normal[:, :, None])[..., 0]
    spans = (offsets[np.arange(len(counts)), count - 1] - offsets[:, 0]).tolist()
    signs = [
        -1.0 if span < 0 or (span == 0 and along < 0) else 1.0
        for span, along in zip(spans, alongs, strict=True)
    ]
    sign = np.array(signs)
    offsets *= sign[:, None]
    if min(counts) < longest:
        offsets[np.arange(longest) >= count[:, None]] = np.inf
    along_axis = np.array([abs(x) for x in alongs])
    return _Frames(af, pos, count, normal * sign[:, None], offsets, along_axis, normal)


def _which(t: int, stacks: Sequence[object]) -> str:
    """ "stacks[t]: " before a message about one stack of several, else nothing."""
    return f"stacks[{t}]: " if len(stacks) > 1 else ""


def _no_frame(a: NDArray[np.float64], pos: NDArray[np.float64], where: str = "") -> NoReturn:
    """Raise the error of a stack whose affine or positions are not a finite stack."""
    if a.shape != (4, 4) or not np.isfinite(a).all():
        raise ValueError(
            f"{where}affine: expected a finite 4x4 matrix, got "
            f"{'shape ' + str(a.shape) if a.shape != (4, 4) else 'one with NaN or inf'}"
            f"; the stack's geometry is unknown (position or orientation tags missing)"
        )
    raise ValueError(
        f"{where}positions: expected a finite (n, 3) array of slice positions with n >= 1, "
        f"got shape {pos.shape}"
    )


def _coords(name: str, value: ArrayLike) -> NDArray[np.float64]:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}: expected numbers, shape (..., 3), got {type(value).__name__} {value!r:.60}"
        ) from None
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ValueError(
            f"{name}: expected an array whose last axis holds 3 numbers, got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite numbers, got NaN or inf")
    return arr


def _slice_origins(
    f: _Frames, which: NDArray[np.intp], s: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Position of the (fractional) slice ``s[i]`` of stack ``which[i]``: between the
    actual positions, else by the mean step beyond the ends."""
    n = f.slices[which]
    step = f.affine[which, :3, 0]
    # np.minimum/np.maximum rather than np.clip, and np.where only where a point lies
    # beyond an end: the same numbers, a fraction of the calls for a few points.
    k = np.minimum(np.maximum(np.floor(s), 0), np.maximum(n - 2, 0)).astype(np.intp)
    below, above = s < 0, s > n - 1
    lower = f.positions[which, k]
    upper = f.positions[which, np.minimum(k + 1, n - 1)]
    out = lower + (s - k)[:, None] * (upper - lower)
    if below.any():
        out = np.where(below[:, None], f.positions[which, 0] + s[:, None] * step, out)
    if above.any():
        last = f.positions[which, n - 1]
        out = np.where(above[:, None], last + (s - (n - 1))[:, None] * step, out)
    return out


def _in_plane(
    rel: NDArray[np.float64], steps: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(row, col) of in-plane offsets ``rel`` (mm, shape (T, M, 3)) from a slice's
    position, for the row and column steps ``steps`` (T, 3, 2) of each stack.

    Solved against the affine's two in-plane steps rather than projected on them, so
    that it inverts :func:`index_to_patient` exactly even where the rounded cosines of
    the files are not quite orthogonal.
    """
    # The 2x2 normal equations, inverted by hand (np.linalg.solve's per-call cost is
    # most of a projection's): the steps are near orthogonal, so well apart.
    inverses = []
    for (g00, g01), (_, g11) in (np.swapaxes(steps, 1, 2) @ steps).tolist():
        det = g00 * g11 - g01 * g01
        inverses.append(((g11 / det, -g01 / det), (-g01 / det, g00 / det)))
    rc = rel @ (steps @ np.array(inverses))
    return rc[..., 0], rc[..., 1]


def _world(f: _Frames, which: NDArray[np.intp], index: NDArray[np.float64]) -> NDArray[np.float64]:
    """Patient mm of indices ``index`` (M, 3), each of stack ``which``: see
    :func:`index_to_patient`."""
    a = f.affine[which]
    origin = _slice_origins(f, which, index[:, 0])
    return origin + index[:, 1:2] * a[:, :3, 1] + index[:, 2:3] * a[:, :3, 2]


def _shape(name: str, shape: object) -> tuple[int, int]:
    """(rows, columns) of a slice, checked."""
    try:
        rows, cols = shape  # type: ignore[misc]
    except (TypeError, ValueError):
        rows = cols = None
    whole = [isinstance(n, int | np.integer) and not isinstance(n, bool) for n in (rows, cols)]
    if not all(whole):
        raise ValueError(f"{name}: expected (rows, columns), two integers, got {shape!r:.60}")
    return int(rows), int(cols)  # type: ignore[call-overload]


def _below(offsets: NDArray[np.float64], values: NDArray[np.float64]) -> NDArray[np.intp]:
    """How many of each stack's offsets (rows of ``offsets``, each sorted ascending) lie
    below each of its ``values`` (rows of ``values``): ``np.searchsorted(row, values,
    "left")``. Compared all at once where that takes little memory (a study's few
    stacks and label points), else searched stack by stack: on sorted rows the two
    are the same count."""
    stacks, slices = offsets.shape
    if stacks * values.shape[1] * slices <= 1 << 16:
        return (offsets[:, None, :] < values[:, :, None]).sum(axis=2)
    return np.stack(
        [np.searchsorted(r, v, side="left") for r, v in zip(offsets, values, strict=True)]
    )


def _project(
    f: _Frames, points: NDArray[np.float64], shapes: Sequence[tuple[int, int]]
) -> StackProjection:
    """:func:`project_to_stack` of ``points`` (M, 3) onto every stack of ``f``: arrays
    of shape (T, M)."""
    # Each point's offset along each stack's axis, element by element: a matrix product
    # would round by another path for one stack than for several, and move exact ties.
    axis = f.axis
    o = points[:, 0] * axis[:, 0:1] + points[:, 1] * axis[:, 1:2] + points[:, 2] * axis[:, 2:3]
    t = np.arange(len(axis))[:, None]  # (fancy indexing: take_along_axis costs more)
    # The slices by offset (a Volume's may step back within POSITION_ATOL), stably: a
    # run of equal offsets keeps its lowest slice first. The padding (+inf) stays last.
    order = np.argsort(f.offsets, axis=1, kind="stable")
    off = f.offsets[t, order]
    k = np.minimum(_below(off, o), f.slices[:, None] - 1)  # np.searchsorted(off, o, "left")
    lower = np.maximum(k - 1, 0)
    gap_lower, gap_k = np.abs(o - off[t, lower]), np.abs(o - off[t, k])
    # the nearer of the two neighbours, the lower slice on a tie
    take = (gap_lower < gap_k) | ((gap_lower == gap_k) & (order[t, lower] < order[t, k]))
    k = np.where(take, lower, k)
    # The first slice of a run of repeated positions is the one taken.
    nearest = order[t, _below(off, off[t, k])]
    rel = points[None] - f.positions[t, nearest]
    y, x = _in_plane(rel, f.affine[:, :3, 1:3])
    distance = (rel @ f.normal[:, :, None])[..., 0]
    size = np.array(shapes, dtype=np.float64).reshape(-1, 2)
    rows, cols = size[:, :1], size[:, 1:]
    eps = 1e-6  # rounding of a point placed exactly on an edge or half a step away
    inside = (
        (x >= -0.5 - eps)
        & (x <= cols - 0.5 + eps)
        & (y >= -0.5 - eps)
        & (y <= rows - 0.5 + eps)
        & (np.abs(distance) <= f.along[:, None] / 2 + eps)
    )
    return StackProjection(slice_index=nearest, x=x, y=y, distance_mm=distance, inside=inside)


def index_to_patient(
    index: ArrayLike, affine: ArrayLike, positions: ArrayLike
) -> NDArray[np.float64]:
    """Patient coordinates (mm, LPS) of voxel indices ``(slice, row, col)`` of a stack.

    Fractional indices are allowed. Within a slice the affine is exact; between two
    slices the point moves on the straight line between their actual positions (so a
    gap in the stack stays where it is); before slice 0 and after the last slice it
    continues by the affine's mean slice step.

    Parameters
    ----------
    index : array_like, shape (..., 3)
        ``(slice, row, col)`` indices.
    affine : array_like, shape (4, 4)
        The stack's affine (:func:`stack_affine`).
    positions : array_like, shape (n, 3)
        ImagePositionPatient of each slice, in slice order.

    Returns
    -------
    ndarray, shape (..., 3)

    Raises
    ------
    ValueError
        If ``index`` is not (..., 3) or not finite, or the affine or positions are not
        a finite stack geometry.

    Examples
    --------
    Slices at z = 0, 4 and 12 (a gap after slice 1), rows 0.5 mm and columns 0.8 mm:

    >>> pos = [[0, 0, 0], [0, 0, 4], [0, 0, 12]]
    >>> a = stack_affine(pos, [1, 0, 0, 0, 1, 0], [0.5, 0.8])
    >>> index_to_patient([[1.5, 2, 10], [0, 0, 0]], a, pos)
    array([[8., 1., 8.],
           [0., 0., 0.]])
    """
    f = _stack_frames([(affine, positions)])
    idx = _coords("index", index)
    flat = idx.reshape(-1, 3)
    return _world(f, np.zeros(len(flat), dtype=np.intp), flat).reshape(idx.shape)


def patient_to_index(
    points: ArrayLike, affine: ArrayLike, positions: ArrayLike
) -> NDArray[np.float64]:
    """Fractional voxel indices ``(slice, row, col)`` of patient points (mm) in a stack.

    The inverse of :func:`index_to_patient`: the slice index comes from where the point
    lies between the planes of the actual slices, the row and column from its foot on
    that (interpolated) plane. A point beyond the stack gets a slice index below 0 or
    above ``n - 1``; its distance from the nearest slice is in :func:`project_to_stack`.

    Parameters
    ----------
    points : array_like, shape (..., 3)
        Points in patient coordinates (mm).
    affine, positions : array_like
        As :func:`index_to_patient`.

    Returns
    -------
    ndarray, shape (..., 3)

    Raises
    ------
    ValueError
        As :func:`index_to_patient`.

    Examples
    --------
    >>> pos = [[0, 0, 0], [0, 0, 4], [0, 0, 12]]
    >>> a = stack_affine(pos, [1, 0, 0, 0, 1, 0], [0.5, 0.8])
    >>> patient_to_index([8.0, 1.0, 8.0], a, pos)
    array([ 1.5,  2. , 10. ])
    """
    f = _stack_frames([(affine, positions)])
    p = _coords("points", points).reshape(-1, 3)
    o = p @ f.axis[0]
    n, off, along = int(f.slices[0]), f.offsets[0], float(f.along[0])
    if n == 1:
        s = (o - off[0]) / along
    else:
        # The last slice at or below o and the next one: a segment of non-zero length,
        # except at the very end of a stack that ends in repeated positions.
        k = np.clip(np.searchsorted(off, o, side="right") - 1, 0, n - 2)
        d = off[k + 1] - off[k]
        t = np.divide(o - off[k], d, out=np.zeros_like(o), where=d > 0)
        s = k + t
        s = np.where(o < off[0], (o - off[0]) / along, s)
        s = np.where(o > off[-1], n - 1 + (o - off[-1]) / along, s)
    rel = p - _slice_origins(f, np.zeros(len(p), dtype=np.intp), s)
    r, c = _in_plane(rel[None], f.affine[:, :3, 1:3])
    return np.stack([s, r[0], c[0]], axis=-1).reshape(np.shape(points))


def project_to_stack(
    points: ArrayLike,
    affine: ArrayLike,
    positions: ArrayLike,
    shape: tuple[int, int],
) -> StackProjection:
    """Each point's nearest slice of a stack, its pixel there and its distance from it.

    Parameters
    ----------
    points : array_like, shape (..., 3)
        Points in patient coordinates (mm).
    affine, positions : array_like
        As :func:`index_to_patient`.
    shape : (int, int)
        (Rows, Columns) of the slices.

    Returns
    -------
    StackProjection
        ``inside`` is true where the foot is on the image and the point within half
        the mean slice step of the slice's plane (for a single slice, half its
        spacing).

    Raises
    ------
    ValueError
        As :func:`index_to_patient`.

    Examples
    --------
    >>> pos = [[0, 0, 0], [0, 0, 4], [0, 0, 12]]
    >>> a = stack_affine(pos, [1, 0, 0, 0, 1, 0], [0.5, 0.8])
    >>> p = project_to_stack([[8.0, 1.0, 8.5], [8.0, 1.0, 6.0]], a, pos, (20, 20))
    >>> p.slice_index, p.x, p.y, p.distance_mm  # the mean step is 6 mm
    (array([2, 1]), array([10., 10.]), array([2., 2.]), array([-3.5,  2. ]))
    >>> p.inside
    array([False,  True])
    """
    one = project_to_stacks(points, [(affine, positions, shape)])
    return StackProjection(**{k: getattr(one, k)[0] for k in _PROJECTION_FIELDS})


def project_to_stacks(
    points: ArrayLike,
    stacks: Sequence[tuple[ArrayLike, ArrayLike, tuple[int, int]]],
) -> StackProjection:
    """:func:`project_to_stack` of the same points onto several stacks at once.

    One pass of array operations serves every stack, so that projecting a study's
    label points onto its five or so stacks costs little more than onto one. Row ``t``
    of the result is exactly :func:`project_to_stack` onto ``stacks[t]``.

    Parameters
    ----------
    points : array_like, shape (..., 3)
        Points in patient coordinates (mm).
    stacks : sequence of (affine, positions, shape)
        Each stack as :func:`project_to_stack` takes it.

    Returns
    -------
    StackProjection
        Each attribute of shape ``(len(stacks), ...)``: row ``t`` is
        :func:`project_to_stack` of the points onto ``stacks[t]``.

    Raises
    ------
    ValueError
        As :func:`index_to_patient` (the message names the stack, ``stacks[t]``), if
        ``stacks`` is empty or a shape is not two integers.

    Examples
    --------
    >>> axial = stack_affine([[0, 0, 0], [0, 0, 4]], [1, 0, 0, 0, 1, 0], [0.5, 0.5])
    >>> sagittal = stack_affine([[0, 0, 0], [3, 0, 0]], [0, 1, 0, 0, 0, -1], [1, 1])
    >>> p = project_to_stacks([[3.0, 1.0, 3.0]], [
    ...     (axial, [[0, 0, 0], [0, 0, 4]], (20, 20)),
    ...     (sagittal, [[0, 0, 0], [3, 0, 0]], (10, 10))])
    >>> p.slice_index.tolist(), p.x.tolist(), p.y.tolist(), p.distance_mm.tolist()
    ([[1], [1]], [[6.0], [1.0]], [[2.0], [-3.0]], [[-1.0], [0.0]])
    """
    stacks = list(stacks)
    f = _stack_frames([(a, pos) for a, pos, _ in stacks])
    p = _coords("points", points)
    shapes = [_shape(f"{_which(t, stacks)}shape", shape) for t, (_, _, shape) in enumerate(stacks)]
    many = _project(f, p.reshape(-1, 3), shapes)
    lead = (len(stacks), *p.shape[:-1])
    return StackProjection(**{k: getattr(many, k).reshape(lead) for k in _PROJECTION_FIELDS})


def clip_to_image(segment: ArrayLike, shape: tuple[int, int]) -> NDArray[np.float64] | None:
    """The part of a segment (pixel coordinates) that lies on an image.

    The image covers ``x`` (column) from -0.5 to ``cols - 0.5`` and ``y`` (row) from
    -0.5 to ``rows - 0.5``, the extent :func:`image_corners` describes. Used to keep a
    :func:`reference_line` on the image it is drawn on.

    Parameters
    ----------
    segment : array_like, shape (2, 2)
        ``[[x0, y0], [x1, y1]]``.
    shape : (int, int)
        (Rows, Columns) of the image.

    Returns
    -------
    ndarray, shape (2, 2), or None
        The clipped segment, None when no part of it is on the image.

    Examples
    --------
    >>> clip_to_image([[-10.0, 5.0], [30.0, 5.0]], (10, 20))
    array([[-0.5,  5. ],
           [19.5,  5. ]])
    >>> clip_to_image([[0.0, -3.0], [5.0, -1.0]], (10, 20)) is None
    True
    """
    seg = np.asarray(segment, dtype=np.float64).reshape(2, 2)
    rows, cols = shape
    start, delta = seg[0], seg[1] - seg[0]
    t0, t1 = 0.0, 1.0
    # Liang-Barsky: each image edge cuts the parameter range [t0, t1] of the segment.
    for p, q in (
        (-delta[0], start[0] + 0.5),
        (delta[0], cols - 0.5 - start[0]),
        (-delta[1], start[1] + 0.5),
        (delta[1], rows - 0.5 - start[1]),
    ):
        if p == 0.0:
            if q < 0.0:
                return None
            continue
        t = q / p
        if p < 0.0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return np.array([start + t0 * delta, start + t1 * delta])


def orientation_problem(orientation: ArrayLike) -> str | None:
    """Why ImageOrientationPatient is not two orthogonal unit vectors, else None.

    Cosines off by more than :data:`COSINE_ATOL` place the pixels of a slice nowhere
    in particular: a damaged tag, not a rounding.

    Examples
    --------
    >>> orientation_problem([1, 0, 0, 0, 0.999999, 0.001414])  # rounded: fine
    >>> orientation_problem([1, 0, 0, 0, 1.02, 0])
    'is not two orthogonal unit vectors (lengths 1 and 1.02, dot product 0)'
    """
    a0, a1, a2, b0, b1, b2 = _cosine_floats(orientation)
    lengths = (math.sqrt(a0 * a0 + a1 * a1 + a2 * a2), math.sqrt(b0 * b0 + b1 * b1 + b2 * b2))
    dot = a0 * b0 + a1 * b1 + a2 * b2
    if max(abs(lengths[0] - 1), abs(lengths[1] - 1), abs(dot)) <= COSINE_ATOL:
        return None  # NaN compares False: a problem too
    return (
        f"is not two orthogonal unit vectors (lengths {lengths[0]:.4g} and "
        f"{lengths[1]:.4g}, dot product {dot:.4g})"
    )


def line_groups(positions: ArrayLike, orientation: ArrayLike) -> list[list[int]]:
    """The slices of one orientation grouped into stacks whose positions lie on a line.

    The slices of a stack lie on one line (along the normal, or oblique for a tilted
    acquisition): every position within :data:`LINE_ATOL` of the line through the
    first and last slice along the normal. When they do not, two parallel stacks share
    the orientation (shifted within their plane), or a slice is out of place: the
    slices are grouped by their position within the image plane instead, each group
    on a line along the normal.

    Parameters
    ----------
    positions : array_like, shape (n, 3)
        ImagePositionPatient of each slice (mm).
    orientation : array_like, shape (6,)
        Their common ImageOrientationPatient.

    Returns
    -------
    list of list of int
        Indices into ``positions``, each list in increasing order, the lists in the
        order of their first index; one list holding every index when the slices are
        on one line.

    Examples
    --------
    >>> line_groups([(0, 0, 0), (0, 0, 4), (0, 0.01, 8)], [1, 0, 0, 0, 1, 0])
    [[0, 1, 2]]
    >>> line_groups([(0, 0, 0), (30, 0, 4), (0, 0, 8), (30, 0, 12)], [1, 0, 0, 0, 1, 0])
    [[0, 2], [1, 3]]
    """
    # The line test in plain floats: a series' stacks are short, and numpy's calls on a
    # few slices cost more than the arithmetic. The readers pass tuples of 3 floats.
    if isinstance(positions, list) and all(
        type(p) is tuple and len(p) == 3 and type(p[0]) is type(p[1]) is type(p[2]) is float
        for p in positions
    ):
        points: list[Any] = positions
    else:
        points = np.asarray(positions, dtype=np.float64).reshape(-1, 3).tolist()
    if len(points) < 3:
        return [list(range(len(points)))]
    offsets = _offset_floats(points, orientation)
    first = points[offsets.index(min(offsets))]
    last = points[offsets.index(max(offsets))]
    fx, fy, fz = first
    ax, ay, az = last[0] - fx, last[1] - fy, last[2] - fz
    length = math.sqrt(ax * ax + ay * ay + az * az)
    ux, uy, uz = (ax / length, ay / length, az / length) if length > POSITION_ATOL else (0, 0, 0)
    worst = 0.0  # the largest squared distance from the line (positions are finite)
    for x, y, z in points:
        rx, ry, rz = x - fx, y - fy, z - fz
        along = rx * ux + ry * uy + rz * uz
        dx, dy, dz = rx - along * ux, ry - along * uy, rz - along * uz
        d2 = dx * dx + dy * dy + dz * dz
        if d2 > worst:
            worst = d2
    if not math.sqrt(worst) > LINE_ATOL:
        return [list(range(len(points)))]
    # By position in the plane, half the tolerance each side of a group's first slice,
    # so that every group is on its own line within LINE_ATOL.
    row, col = _cosines(orientation)
    pos = np.asarray(points, dtype=np.float64)
    plane = np.c_[pos @ row, pos @ col]
    groups: list[list[int]] = []
    anchors: list[NDArray[np.float64]] = []
    for i, p in enumerate(plane):
        for g, anchor in zip(groups, anchors, strict=True):
            if float(np.hypot(*(p - anchor))) <= LINE_ATOL / 2:
                g.append(i)
                break
        else:
            groups.append([i])
            anchors.append(p)
    return groups
