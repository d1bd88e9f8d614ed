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
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ORIENTATION_ATOL",
    "POSITION_ATOL",
    "STEP_RTOL",
    "StackFacts",
    "duplicate_runs",
    "image_corners",
    "irregular_steps",
    "mean_step",
    "patient_to_pixel",
    "pixel_to_patient",
    "plane_name",
    "reference_line",
    "same_orientation",
    "slice_normal",
    "slice_offsets",
    "slice_order",
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


def _cosines(orientation: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    iop = np.asarray(orientation, dtype=np.float64).reshape(-1)
    if iop.shape != (6,):
        raise ValueError(
            f"orientation: ImageOrientationPatient must hold 6 numbers, got {iop.shape[0]}"
        )
    return iop[:3], iop[3:]


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
    row, col = _cosines(orientation)
    normal = np.cross(row, col)
    norm = float(np.linalg.norm(normal))
    if norm < 1e-6:
        raise ValueError(
            f"orientation: the two direction cosines of ImageOrientationPatient "
            f"{np.round(np.r_[row, col], 6).tolist()} are parallel, so they define no plane"
        )
    return normal / norm


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
    row, col = _cosines(orientation)
    dr, dc = np.asarray(pixel_spacing, dtype=np.float64).reshape(2)
    affine = np.eye(4)
    affine[:3, 0] = np.asarray(slice_step, dtype=np.float64).reshape(3)
    affine[:3, 1] = col * dr  # the row index grows along the column cosine
    affine[:3, 2] = row * dc  # the column index grows along the row cosine
    affine[:3, 3] = np.asarray(first_position, dtype=np.float64).reshape(3)
    return affine


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
    """Patient coordinates (mm) of pixel points ``(x, y)`` of one image.

    The inverse of :func:`patient_to_pixel` for points on the image plane: ``x`` is the
    column and ``y`` the row (the competition's label convention), fractional allowed.
    PixelSpacing is (row spacing, column spacing): ``x`` steps along the row cosine by
    the column spacing, ``y`` along the column cosine by the row spacing.

    Parameters
    ----------
    xy : array_like, shape (n, 2) or (2,)
        Column and row of each point.
    position, orientation, pixel_spacing : array_like
        ImagePositionPatient, ImageOrientationPatient and PixelSpacing of the image.

    Returns
    -------
    ndarray, shape (n, 3)

    Examples
    --------
    >>> pixel_to_patient([3, 1], [10, 20, 30], [1, 0, 0, 0, 1, 0], [0.5, 0.25])
    array([[10.75, 20.5 , 30.  ]])
    """
    row, col = _cosines(orientation)
    dr, dc = np.asarray(pixel_spacing, dtype=np.float64).reshape(2)
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    origin = np.asarray(position, dtype=np.float64).reshape(3)
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
    ra, ca = _cosines(a)
    rb, cb = _cosines(b)
    return bool(np.max(np.abs(np.r_[ra - rb, ca - cb])) <= atol)


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
    # Runs of (nearly) equal offsets, each re-sorted by instance number.
    run_start = np.r_[True, np.diff(off[order]) > atol]
    run_id = np.cumsum(run_start)
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
    off = np.asarray(sorted_offsets, dtype=np.float64).reshape(-1)
    if off.size < 2:
        return []
    starts = np.flatnonzero(np.r_[True, np.diff(off) > atol])
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
