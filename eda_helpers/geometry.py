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

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "slice_normal",
    "slice_offsets",
    "voxel_affine",
    "patient_to_pixel",
]


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
            f"{list(np.round(np.r_[row, col], 6))} are parallel, so they define no plane"
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
    return np.stack(
        [rel @ row / dc, rel @ col / dr, rel @ slice_normal(orientation)], axis=1
    )
