"""Volume geometry: world coordinates, their inverse, projection, and refused contradictions.

Expected values come from the DICOM tags read with pydicom (position + column x column
spacing x row cosine + row x row spacing x column cosine), or are worked out by hand.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
import torch

from eda_helpers import Volume, read_series, read_stacks
from eda_helpers.geometry import slice_normal, voxel_affine


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q


def _tags_world(path: Path, row: float, col: float) -> np.ndarray:
    """A pixel's patient position from the file's own tags (independent of the package)."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    iop = np.array(ds.ImageOrientationPatient, dtype=float)
    dr, dc = (float(v) for v in ds.PixelSpacing)
    return np.array(ds.ImagePositionPatient, dtype=float) + col * dc * iop[:3] + row * dr * iop[3:]


def _oblique(rng, offsets=(0.0, 4.0, 8.0, 20.0, 24.0), spacing=(0.5, 0.8), shape=(30, 20)):
    """An oblique stack with non-square pixels and a gap (12 mm after slice 2)."""
    rot = _rotation(rng)
    row, col = rot[:, 0], rot[:, 1]
    normal = np.cross(row, col)
    first = np.array([12.0, -40.0, 7.5])
    positions = first + np.outer(offsets, normal)
    vol = Volume.from_array(
        torch.zeros(len(offsets), *shape),
        positions=positions,
        orientation=np.r_[row, col],
        pixel_spacing=spacing,
    )
    return vol, row, col, normal, positions


# --------------------------------------------------------------------------- real files


def _sample_stacks(sample_root: Path) -> list[Volume]:
    study = sorted((sample_root / "train_images").iterdir())[0]
    out: list[Volume] = []
    for series in sorted(study.iterdir()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the sample's quirks warn on purpose
            out.extend(read_stacks(series, duplicates="keep"))
    return out


def test_world_matches_the_tags_on_the_sample_sagittal_and_axial_stacks(sample_root):
    stacks = _sample_stacks(sample_root)
    assert {v.description for v in stacks} == {"Sagittal T1", "Sagittal T2/STIR", "Axial T2"}
    assert sum(v.description == "Axial T2" for v in stacks) >= 2  # separately angled stacks
    for vol in stacks:
        _, rows, cols = vol.shape
        for k in (0, len(vol) // 2, len(vol) - 1):
            for r, c in [(0, 0), (rows - 1, 3), (17.25, cols - 1.5)]:
                expected = _tags_world(vol.files[k], r, c)
                np.testing.assert_allclose(vol.world([k, r, c]), expected, atol=1e-6)
                np.testing.assert_allclose(vol.index_of(expected), [k, r, c], atol=1e-6)


def test_world_matches_the_tags_on_real_ct_and_mr(dicomdir_tests):
    vol = read_series(dicomdir_tests / "98892001" / "CT5N")
    for k in range(len(vol)):
        expected = _tags_world(vol.files[k], 5.5, 100.0)
        np.testing.assert_allclose(vol.world([k, 5.5, 100.0]), expected, atol=1e-6)
    for vol in read_stacks(dicomdir_tests / "98892003" / "MR700"):  # seven single slices
        np.testing.assert_allclose(vol.world([0, 10, 20]), _tags_world(vol.files[0], 10, 20))
        np.testing.assert_allclose(
            vol.index_of(_tags_world(vol.files[0], 10, 20)), [0, 10, 20], atol=1e-9
        )


def test_fractional_slices_follow_the_actual_positions_across_a_gap(dicomdir_tests):
    with pytest.warns(UserWarning, match="irregular slice spacing"):
        vol = read_series(dicomdir_tests / "77654033" / "CT2")  # 202.5 mm, then 1.25 mm steps
    a, b = (_tags_world(vol.files[k], 3, 4) for k in (0, 1))
    np.testing.assert_allclose(vol.world([0.25, 3, 4]), 0.75 * a + 0.25 * b, atol=1e-6)
    np.testing.assert_allclose(vol.index_of(0.75 * a + 0.25 * b), [0.25, 3, 4], atol=1e-9)
    # The evenly spaced affine alone would put slice 1 a third of the way to the last one.
    assert np.linalg.norm(vol.affine @ [1, 3, 4, 1] - [*b, 1]) > 100
    c, d = (_tags_world(vol.files[k], 3, 4) for k in (2, 3))
    np.testing.assert_allclose(vol.world([2.5, 3, 4]), (c + d) / 2, atol=1e-6)


# --------------------------------------------------------------------------- hand-built


def test_non_square_pixels_row_spacing_first(rng):
    vol, row, col, _, positions = _oblique(rng)
    assert vol.spacing[1:] == (0.5, 0.8)
    # One row down is 0.5 mm along the column cosine; one column right is 0.8 mm along
    # the row cosine (swapping the two PixelSpacing values would exchange them).
    np.testing.assert_allclose(vol.world([0, 1, 0]) - positions[0], 0.5 * col, atol=1e-12)
    np.testing.assert_allclose(vol.world([0, 0, 1]) - positions[0], 0.8 * row, atol=1e-12)
    np.testing.assert_allclose(
        vol.world([3, 10, 7]), positions[3] + 10 * 0.5 * col + 7 * 0.8 * row, atol=1e-12
    )


def test_world_and_index_of_round_trip_on_an_oblique_stack(rng):
    vol, *_ = _oblique(rng)
    index = rng.uniform([-2, -5, -5], [6, 35, 25], size=(4, 50, 3))  # also beyond the ends
    mm = vol.world(index)
    assert mm.shape == (4, 50, 3)
    np.testing.assert_allclose(vol.index_of(mm), index, atol=1e-9)
    np.testing.assert_allclose(vol.world(vol.index_of(mm)), mm, atol=1e-9)


def test_beyond_the_ends_the_mean_step_continues(rng):
    vol, _, _, normal, positions = _oblique(rng)  # mean step 24 / 4 = 6 mm
    np.testing.assert_allclose(vol.world([-1, 0, 0]), positions[0] - 6 * normal, atol=1e-12)
    np.testing.assert_allclose(vol.world([5.5, 0, 0]), positions[-1] + 9 * normal, atol=1e-12)


def test_project_gives_the_nearest_slice_pixel_and_distance(rng):
    vol, row, col, normal, positions = _oblique(rng)
    foot = positions[2] + 11.0 * 0.5 * col + 4.0 * 0.8 * row  # row 11, column 4 of slice 2
    points = np.array([foot + t * normal for t in (0.0, 2.5, -2.9, 3.1, 5.9, 6.1)])
    p = vol.project(points)
    # Slices at offsets 0, 4, 8, 20, 24: 8 + 5.9 is nearer 8 than 20, 8 + 6.1 nearer 20.
    np.testing.assert_array_equal(p.slice_index, [2, 2, 1, 2, 2, 3])
    np.testing.assert_allclose(p.x, 4.0, atol=1e-9)
    np.testing.assert_allclose(p.y, 11.0, atol=1e-9)
    np.testing.assert_allclose(p.distance_mm, [0.0, 2.5, 1.1, 3.1, 5.9, -5.9], atol=1e-9)
    # Within half the mean step (3 mm) of a slice, and on the image.
    np.testing.assert_array_equal(p.inside, [True, True, True, False, False, False])


def test_inside_needs_the_point_on_the_image(rng):
    vol, row, col, _, positions = _oblique(rng, shape=(30, 20))
    corner = positions[0] + np.outer([-0.5, -0.51, 19.5, 19.51], 0.8 * row)
    assert vol.project(corner).inside.tolist() == [True, False, True, False]
    down = positions[0] + np.outer([29.5, 29.51], 0.5 * col)
    assert vol.project(down).inside.tolist() == [True, False]


def test_a_gantry_tilt_keeps_its_step(rng):
    # Positions step along the normal and 1 mm along the column cosine per slice.
    rot = _rotation(rng)
    row, col = rot[:, 0], rot[:, 1]
    normal = np.cross(row, col)
    positions = np.array([k * (3.0 * normal + 1.0 * col) for k in range(4)])
    vol = Volume.from_array(
        torch.zeros(4, 8, 8), positions=positions, orientation=np.r_[row, col], pixel_spacing=(1, 1)
    )
    assert vol.spacing[0] == pytest.approx(3.0)
    np.testing.assert_allclose(vol.world([2, 0, 0]), positions[2], atol=1e-12)
    np.testing.assert_allclose(vol.index_of(positions[2] + 0.5 * col), [2, 0.5, 0], atol=1e-12)
    p = vol.project(positions[1] + 1.0 * normal)
    assert int(p.slice_index) == 1 and float(p.distance_mm) == pytest.approx(1.0)


def test_repeated_positions_round_trip():
    positions = [[0, 0, 0], [0, 0, 4], [0, 0, 4], [0, 0, 8]]  # duplicates kept
    vol = Volume.from_array(
        torch.zeros(4, 4, 4),
        positions=positions,
        orientation=[1, 0, 0, 0, 1, 0],
        pixel_spacing=(1, 1),
    )
    assert vol.spacing[0] == 4.0  # the mean step between distinct positions
    np.testing.assert_allclose(vol.world([2.5, 0, 0]), [0, 0, 6])
    np.testing.assert_allclose(vol.index_of([[0, 0, 6], [0, 0, 2]]), [[2.5, 0, 0], [0.5, 0, 0]])
    assert vol.project([0, 0, 4.5]).slice_index == 1  # the first slice of the run


def test_from_array_with_an_affine_derives_the_other_fields():
    affine = voxel_affine([1, 2, 3], [0, 1, 0, 0, 0, -1], [0.5, 0.8], [-3, 0, 0])
    vol = Volume.from_array(np.zeros((3, 5, 6), dtype=np.float32), affine=affine, modality="MR")
    np.testing.assert_allclose(vol.orientation, [0, 1, 0, 0, 0, -1])
    assert vol.spacing == (3.0, 0.5, 0.8)
    np.testing.assert_allclose(vol.positions, [[1, 2, 3], [-2, 2, 3], [-5, 2, 3]])
    assert vol.instance_numbers == (1, 2, 3) and vol.modality == "MR"
    assert vol.pixels.dtype == torch.float32
    np.testing.assert_allclose(vol.world([2, 4, 5]), (affine @ [2, 4, 5, 1])[:3])


def test_a_single_slice_needs_its_spacing():
    one = Volume.from_array(
        torch.zeros(1, 4, 4),
        positions=[[0, 0, 0]],
        orientation=[1, 0, 0, 0, 1, 0],
        pixel_spacing=(1, 1),
        slice_spacing=5.0,
    )
    assert one.spacing[0] == 5.0
    assert one.project([[0, 0, 2.5], [0, 0, 2.6]]).inside.tolist() == [True, False]
    with pytest.raises(ValueError, match=r"slice_spacing: expected a positive distance .* share "):
        Volume.from_array(
            torch.zeros(1, 4, 4),
            positions=[[0, 0, 0]],
            orientation=[1, 0, 0, 0, 1, 0],
            pixel_spacing=(1, 1),
        )


def test_reader_volumes_keep_their_fields(sample_root):
    for vol in _sample_stacks(sample_root)[:2]:
        again = Volume(**vol.__dict__)  # a reader-built Volume is consistent
        np.testing.assert_array_equal(again.affine, vol.affine)


# --------------------------------------------------------------------------- refused


def _fields(**change):
    positions = np.array([[0.0, 0, 0], [0, 0, 4], [0, 0, 8]])
    fields = {
        "pixels": torch.zeros(3, 4, 4),
        "instance_numbers": (1, 2, 3),
        "positions": positions,
        "orientation": np.array([1.0, 0, 0, 0, 1, 0]),
        "files": ("a", "b", "c"),
        "spacing": (4.0, 0.5, 0.8),
        "affine": voxel_affine([0, 0, 0], [1, 0, 0, 0, 1, 0], [0.5, 0.8], [0, 0, 4]),
    }
    fields.update(change)
    return fields


def test_consistent_fields_build():
    vol = Volume(**_fields())
    np.testing.assert_allclose(vol.world([1, 2, 3]), [2.4, 1.0, 4.0])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"orientation": np.array([1.0, 0, 0, 0, 0.9, 0])},
            r"Volume\.orientation: expected two orthogonal unit",
        ),
        ({"orientation": np.array([1.0, 0, 0, 0.1, 0.995, 0])}, r"dot product 0\.1"),
        (
            {"orientation": np.array([0.0, 1, 0, 1, 0, 0])},
            r"Volume\.orientation: the row direction",
        ),
        ({"orientation": np.array([1.0, 0, 0])}, r"Volume\.orientation: expected 6 finite"),
        ({"spacing": (4.0, 0.8, 0.5)}, r"Volume\.spacing: the row spacing 0\.8 mm disagrees"),
        ({"spacing": (4.0, 0.5, 0.5)}, r"Volume\.spacing: the column spacing 0\.5 mm"),
        ({"spacing": (3.0, 0.5, 0.8)}, r"Volume\.spacing: the slice spacing 3 mm disagrees"),
        ({"spacing": (4.0, -0.5, 0.8)}, r"Volume\.spacing: expected three positive"),
        (
            {"positions": np.array([[0.0, 0, 0], [0.2, 0, 4], [0, 0, 8]])},
            r"Volume\.positions: slice 1 is 0\.2 mm off the line",
        ),
        (
            {"positions": np.array([[0.0, 0, 0], [0, 0, 8], [0, 0, 8]])},
            r"Volume\.affine: its slice step \[0\.0, 0\.0, 4\.0\] is not the mean step "
            r"\[0\.0, 0\.0, 8\.0\]",
        ),
        (
            {"positions": np.array([[0.0, 0, 0], [0, 0, 9], [0, 0, 8]])},
            r"Volume\.positions: slice 2 lies before slice 1",
        ),
        (
            {"positions": np.array([[1.0, 0, 0], [1, 0, 4], [1, 0, 8]])},
            r"Volume\.positions: slice 0 is at \[1\.0, 0\.0, 0\.0\] mm but the affine puts it at",
        ),
        ({"positions": np.full((3, 3), np.nan)}, r"Volume\.positions: expected finite"),
        ({"affine": np.eye(3)}, r"Volume\.affine: expected a 4x4 matrix, got shape \(3, 3\)"),
        ({"affine": np.ones((4, 4))}, r"Volume\.affine: expected a last row"),
        (
            {"affine": voxel_affine([0, 0, 0], [1, 0, 0, 0, 1, 0], [0.5, 0.8], [0, 4, 0])},
            r"slice step \[0\.0, 4\.0, 0\.0\] lies in the image plane",
        ),
        (
            {"positions": np.zeros((2, 3))},
            r"Volume\.positions: expected one entry per slice \(3\), got 2",
        ),
    ],
)
def test_contradicting_geometry_is_refused(change, match):
    with pytest.raises(ValueError, match=match):
        Volume(**_fields(**change))


def test_the_message_names_the_folder():
    with pytest.raises(ValueError, match=r"\(of /data/123\); build it with Volume\.from_array"):
        Volume(**_fields(files=tuple(Path("/data/123") / f"{k}.dcm" for k in range(3)),
                         spacing=(5.0, 0.5, 0.8)))  # fmt: skip


def test_no_geometry_builds_but_has_no_world_coordinates():
    vol = Volume(**_fields(affine=np.full((4, 4), np.nan), positions=np.full((3, 3), np.nan)))
    assert not vol.has_geometry
    for method in (vol.world, vol.index_of, vol.project):
        with pytest.raises(ValueError, match=r"Volume\.affine: this Volume has no geometry"):
            method([0, 0, 0])


def test_index_and_points_are_checked():
    vol = Volume(**_fields())
    with pytest.raises(ValueError, match=r"index: expected an array whose last axis holds 3"):
        vol.world([1, 2])
    with pytest.raises(ValueError, match=r"index: expected finite numbers, got NaN"):
        vol.world([np.nan, 0, 0])
    with pytest.raises(ValueError, match=r"points: expected an array whose last axis holds 3"):
        vol.index_of(5.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, r"affine: expected the geometry either as affine= or as positions=.*got neither"),
        ({"affine": np.eye(4), "positions": np.zeros((2, 3))}, r"got both"),
        (
            {"affine": np.eye(4), "orientation": [1, 0, 0, 0, 1, 0]},
            r"orientation: expected no orientation= or pixel_spacing= with affine=",
        ),
        ({"affine": np.eye(3)}, r"affine: expected a 4x4 matrix, got shape \(3, 3\)"),
        (
            {"affine": np.diag([1.0, 0.0, 1.0, 1.0])},
            r"affine: expected non-zero row and column steps",
        ),
        (
            {"positions": np.zeros((2, 3)), "pixel_spacing": (1, 1)},
            r"orientation: expected orientation= and pixel_spacing= with positions=, "
            r"got no orientation",
        ),
        (
            {"positions": np.zeros((2, 3)), "orientation": [1, 0, 0, 0, 1, 0]},
            r"got no pixel_spacing",
        ),
        (
            {
                "positions": [[0, 0, 0], [0, 0, 1]],
                "orientation": [1, 0, 0, 0, 1, 0],
                "pixel_spacing": (0, 1),
            },
            r"pixel_spacing: expected two positive numbers",
        ),
        (
            {"positions": [0, 0, 0], "orientation": [1, 0, 0, 0, 1, 0], "pixel_spacing": (1, 1)},
            r"positions: expected an \(n, 3\) array",
        ),
    ],
)
def test_from_array_checks_its_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Volume.from_array(torch.zeros(2, 4, 4), **kwargs)


def test_normal_convention_of_the_derived_orientation():
    # np.eye(4): rows run +y, columns run +z, so the slice normal z x y = -x and the
    # slice step +x lies against it (slice spacing 1).
    vol = Volume.from_array(torch.zeros(2, 3, 3), affine=np.eye(4))
    np.testing.assert_allclose(slice_normal(vol.orientation), [-1, 0, 0])
    assert vol.spacing == (1.0, 1.0, 1.0)


def test_wrong_kinds_of_input_are_named():
    with pytest.raises(TypeError, match=r"pixels: expected real numbers .* got str of dtype <U1"):
        Volume.from_array("x", affine=np.eye(4))
    v = Volume.from_array(
        np.zeros((2, 4, 4)),
        positions=[[0, 0, 0], [0, 0, 5]],
        orientation=[1, 0, 0, 0, 1, 0],
        pixel_spacing=[0.5, 0.8],
    )
    with pytest.raises(TypeError, match=r"index: expected numbers, shape \(\.\.\., 3\), got str"):
        v.world("x")
