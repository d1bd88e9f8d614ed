"""Geometry helpers, checked against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from eda_helpers import Volume, geometry
from eda_helpers.geometry import (
    duplicate_runs,
    irregular_steps,
    mean_step,
    patient_to_pixel,
    same_orientation,
    slice_normal,
    slice_offsets,
    slice_order,
    voxel_affine,
)

AXIAL = [1, 0, 0, 0, 1, 0]
SAGITTAL = [0, 1, 0, 0, 0, -1]  # rows run anterior -> posterior, columns head -> feet
CORONAL = [1, 0, 0, 0, 0, -1]
OBLIQUE = [0.6, 0.8, 0, 0, 0, 1]


@pytest.mark.parametrize(
    ("orientation", "normal"),
    [
        (AXIAL, [0, 0, 1]),  # (1,0,0) x (0,1,0)
        (SAGITTAL, [-1, 0, 0]),  # (0,1,0) x (0,0,-1) = (1*-1 - 0, 0 - 0, 0 - 0)
        (CORONAL, [0, 1, 0]),  # (1,0,0) x (0,0,-1) = (0, 0 - 1*-1, 0)
        (OBLIQUE, [0.8, -0.6, 0]),  # (0.6,0.8,0) x (0,0,1) = (0.8, -0.6, 0)
        ([2, 0, 0, 0, 2, 0], [0, 0, 1]),  # cosines not quite unit: normalised
    ],
)
def test_slice_normal(orientation, normal):
    np.testing.assert_allclose(slice_normal(orientation), normal, atol=1e-12)


def test_slice_normal_rejects_bad_orientation():
    with pytest.raises(ValueError, match="must hold 6 numbers, got 5"):
        slice_normal([1, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="are parallel, so they define no plane"):
        slice_normal([1, 0, 0, 1, 0, 0])


def test_slice_offsets_project_on_the_normal():
    # normal (0.8, -0.6, 0): 1*0.8 - 2*0.6 = -0.4 and 4*0.8 - 5*0.6 = 0.2
    np.testing.assert_allclose(slice_offsets([[1, 2, 3], [4, 5, 6]], OBLIQUE), [-0.4, 0.2])
    # sagittal normal -x: larger x (patient left) gives a smaller offset
    np.testing.assert_allclose(slice_offsets([[10, 0, 0], [-5, 3, 9]], SAGITTAL), [-10, 5])


def test_voxel_affine_sagittal():
    a = voxel_affine([10, -100, 50], SAGITTAL, [0.5, 0.25], [-4, 0, 0])
    expected = np.array(
        [
            [-4, 0, 0, 10],  # slice step
            [0, 0, 0.25, -100],  # columns along the row cosine (0,1,0) * 0.25
            [0, -0.5, 0, 50],  # rows along the column cosine (0,0,-1) * 0.5
            [0, 0, 0, 1],
        ]
    )
    np.testing.assert_allclose(a, expected)
    # slice 2, row 10, column 20: x 10 - 8, y -100 + 5, z 50 - 5
    np.testing.assert_allclose(a @ [2, 10, 20, 1], [2, -95, 45, 1])


def test_patient_to_pixel_inverts_the_affine():
    # The point of the last test, seen from slice 2 (position (2, -100, 50)) and slice 0.
    np.testing.assert_allclose(
        patient_to_pixel([2, -95, 45], [2, -100, 50], SAGITTAL, [0.5, 0.25]), [[20, 10, 0]]
    )
    # From slice 0 the point is 8 mm along the normal (-x): rel = (-8, 5, -5)
    np.testing.assert_allclose(
        patient_to_pixel([[2, -95, 45]], [10, -100, 50], SAGITTAL, [0.5, 0.25]), [[20, 10, 8]]
    )


def test_cosines_as_floats_from_tuples_and_arrays():
    tilted = (0.9962, 0.0872, 0, -0.0872, 0.9962, 0)
    assert geometry._cosine_floats(tilted) == np.asarray(tilted).tolist()
    assert geometry._cosine_floats(np.asarray(tilted)) == list(tilted)
    assert geometry._cosine_floats([[1, 0, 0], [0, 1, 0]]) == [1.0, 0, 0, 0, 1, 0]
    with pytest.raises(ValueError, match="must hold 6 numbers, got 3"):
        geometry._cosine_floats((1, 0, 0))
    with pytest.raises(ValueError, match="inhomogeneous"):  # numpy's words for a ragged one
        geometry._cosine_floats(((1, 0), 0, 0, 0, 1, 0))


def test_same_orientation_tolerance():
    assert same_orientation(AXIAL, [1, 0, 0, 0, 0.9991, 0.0009])
    assert not same_orientation(AXIAL, [1, 0, 0, 0, 0.9989, 0.0011])
    assert same_orientation(AXIAL, [1, 0, 0, 0, 0.99, 0.01], atol=0.02)
    assert not same_orientation(AXIAL, SAGITTAL)
    assert not same_orientation(AXIAL, [1, 0, 0, 0, 1, np.nan])  # as np.max(...) <= atol


def test_slice_order_without_ties_is_the_sort_by_offset():
    np.testing.assert_array_equal(slice_order([3.0, -1.0, 2.0], [1, 2, 3]), [1, 2, 0])
    # A NaN offset is no position of its own: it joins the run before it.
    np.testing.assert_array_equal(slice_order([0.0, 5.0, np.nan], [9, 2, 1]), [0, 2, 1])


def test_slice_order_ties_broken_by_instance_number():
    # Sorted offsets 0 | 5, 5, 5.005 (one position within 0.01 mm) | 10;
    # inside the tie the instance numbers 3 < 4 < 9 decide: indices 3, 4, 2.
    order = slice_order([0, 10, 5, 5.005, 5], [1, 2, 9, 3, 4])
    np.testing.assert_array_equal(order, [0, 3, 4, 2, 1])


def test_slice_order_instance_numbers_never_override_position():
    np.testing.assert_array_equal(slice_order([3, 1, 2], [1, 2, 3]), [1, 2, 0])
    np.testing.assert_array_equal(slice_order([-2.5, -7.5], [1, 2]), [1, 0])


def test_slice_order_checks_lengths():
    with pytest.raises(ValueError, match=r"instance_numbers: expected one per offset \(3\), got 2"):
        slice_order([0, 1, 2], [1, 2])


def test_duplicate_runs_of_lists_arrays_and_nested_numbers():
    # the readers pass a list of floats; other lists go through numpy as before
    assert duplicate_runs([0.0, 3.0, 6.0]) == []
    for offsets in ([[0.0], [3.0], [3.0]], np.array([0.0, 3.0, 3.0]), ["0", "3", "3"]):
        runs = duplicate_runs(offsets)
        assert [r.tolist() for r in runs] == [[1, 2]]


def test_duplicate_runs():
    runs = duplicate_runs([0, 0.005, 3, 6, 6])
    assert [r.tolist() for r in runs] == [[0, 1], [3, 4]]
    assert duplicate_runs([0, 3, 6]) == []
    assert duplicate_runs([1.0]) == []
    assert [r.tolist() for r in duplicate_runs([0, 0.05], atol=0.1)] == [[0, 1]]


def test_irregular_steps():
    np.testing.assert_array_equal(irregular_steps([0, 4, 8, 20, 24]), [2])
    np.testing.assert_array_equal(irregular_steps([0, 3, 6, 9]), [])
    # steps 3, 3.35, 3: median 3; 0.35 > 0.01 + 0.1 * 3 = 0.31, but 0.3 is not
    np.testing.assert_array_equal(irregular_steps([0, 3, 6.35, 9.35]), [1])
    np.testing.assert_array_equal(irregular_steps([0, 3, 6.3, 9.3]), [])
    np.testing.assert_array_equal(irregular_steps([0, 3]), [])


def test_mean_step():
    np.testing.assert_allclose(mean_step([[0, 0, 0], [1, 1, 1], [2, 2, 4]]), [1, 1, 2])
    with pytest.raises(ValueError, match="need at least 2 slices for a step, got 1"):
        mean_step([[0, 0, 0]])


# ------------------------------------------------------------------ stack facts


def test_stack_facts_of_a_stack_with_a_duplicate_and_a_gap():
    positions = [[0, 0, z] for z in (8.0, 0.0, 4.0, 4.0, 20.0)]
    facts = geometry.stack_facts(positions, [1, 0, 0, 0, 1, 0], [1, 5, 3, 4, 2])
    assert facts.plane == "axial"
    assert facts.order.tolist() == [1, 2, 3, 0, 4]
    assert facts.offsets.tolist() == [0.0, 4.0, 4.0, 8.0, 20.0]
    assert facts.steps.tolist() == [4.0, 0.0, 4.0, 12.0]
    assert [r.tolist() for r in facts.duplicate_runs] == [[1, 2]]
    assert facts.starts.tolist() == [0, 1, 3, 4] and facts.distinct.tolist() == [0, 4, 8, 20]
    assert facts.irregular.tolist() == [2]  # 12 mm against a median step of 4
    assert facts.numbering == "mixed"


@pytest.mark.parametrize(
    ("numbers", "numbering"),
    [
        ([1, 2, 3, 4], "along normal"),
        ([4, 3, 2, 1], "against normal"),
        ([1, 3, 2, 4], "mixed"),
        ([-1, -1, 7, -1], ""),  # one numbered slice says nothing about the direction
    ],
)
def test_stack_facts_numbering(numbers, numbering):
    positions = [[0, 0, 3.0 * k] for k in range(4)]
    assert geometry.stack_facts(positions, [1, 0, 0, 0, 1, 0], numbers).numbering == numbering


def test_stack_facts_use_the_shared_tolerances():
    # Within POSITION_ATOL: one position (numbered 2 then 1 is still "along normal" by
    # the lowest number); beyond it: two positions.
    near = geometry.POSITION_ATOL / 2
    facts = geometry.stack_facts(
        [[0, 0, 0], [0, 0, near], [0, 0, 5]], [1, 0, 0, 0, 1, 0], [2, 1, 3]
    )
    assert len(facts.duplicate_runs) == 1 and facts.order.tolist() == [1, 0, 2]
    far = geometry.POSITION_ATOL * 2
    facts = geometry.stack_facts([[0, 0, 0], [0, 0, far], [0, 0, 5]], [1, 0, 0, 0, 1, 0], [1, 2, 3])
    assert facts.duplicate_runs == [] and facts.numbering == "along normal"
    assert geometry.stack_facts([[1, 2, 3]], [0, 1, 0, 0, 0, -1], [1]).plane == "sagittal"


def test_stack_facts_refuse_bad_geometry():
    with pytest.raises(
        ValueError, match=r"positions: expected one ImagePositionPatient .* got shape \(2, 2\)"
    ):
        geometry.stack_facts([[0, 0], [0, 1]], [1, 0, 0, 0, 1, 0], [1, 2])
    with pytest.raises(ValueError, match=r"orientation: the two direction cosines .* are parallel"):
        geometry.stack_facts([[0, 0, 0]], [1, 0, 0, 1, 0, 0], [1])
    with pytest.raises(ValueError, match=r"instance_numbers: expected one per offset \(2\), got 3"):
        geometry.stack_facts([[0, 0, 0], [0, 0, 1]], [1, 0, 0, 0, 1, 0], [1, 2, 3])


# --------------------------------------------------------------------------- world coordinates


def test_stack_affine_uses_the_distinct_positions():
    from eda_helpers.geometry import stack_affine

    pos = [[0, 0, 0], [0, 0, 4], [0, 0, 4], [0, 0, 10]]  # one repeated, one gap
    a = stack_affine(pos, AXIAL, [0.5, 0.8])
    np.testing.assert_allclose(a[:3, 0], [0, 0, 5])  # 10 mm over 2 steps, not 3
    np.testing.assert_allclose(a[:3, 1], [0, 0.5, 0])  # row step: column cosine x row spacing
    np.testing.assert_allclose(a[:3, 2], [0.8, 0, 0])  # column step: row cosine x col spacing
    one = stack_affine([[1, 2, 3]], SAGITTAL, [1, 1], slice_spacing=3.0)
    np.testing.assert_allclose(one[:3, 0], [-3, 0, 0])  # along the normal -x
    with pytest.raises(ValueError, match=r"positions: expected an \(n, 3\) array .*shape \(2,\)"):
        stack_affine([1, 2], AXIAL, [1, 1])
    with pytest.raises(ValueError, match=r"slice_spacing: expected a positive distance"):
        stack_affine([[0, 0, 0], [0, 0, 0.001]], AXIAL, [1, 1], slice_spacing=0.0)


def test_index_patient_round_trip_with_hand_numbers():
    from eda_helpers.geometry import index_to_patient, patient_to_index, stack_affine

    # Sagittal: columns run +y by 0.8 mm, rows run -z by 0.5 mm, slices at x = 10, 6, 2.
    pos = [[10, -50, 40], [6, -50, 40], [2, -50, 40]]
    a = stack_affine(pos, SAGITTAL, [0.5, 0.8])
    mm = index_to_patient([[0, 0, 0], [1, 10, 5], [0.5, 2, 1]], a, pos)
    np.testing.assert_allclose(mm, [[10, -50, 40], [6, -46, 35], [8, -49.2, 39]])
    np.testing.assert_allclose(patient_to_index(mm, a, pos), [[0, 0, 0], [1, 10, 5], [0.5, 2, 1]])


def test_project_to_stack_with_hand_numbers():
    from eda_helpers.geometry import project_to_stack, stack_affine

    pos = [[10, -50, 40], [6, -50, 40], [2, -50, 40]]
    a = stack_affine(pos, SAGITTAL, [0.5, 0.8])
    p = project_to_stack([[5.0, -46, 35], [-3, -50, 40]], a, pos, (100, 100))
    np.testing.assert_array_equal(p.slice_index, [1, 2])
    np.testing.assert_allclose(np.c_[p.x, p.y], [[5, 10], [0, 0]])
    # The normal is -x: x = 5 is 1 mm beyond slice 1 (x = 6) along it; x = -3 is 5 mm.
    np.testing.assert_allclose(p.distance_mm, [1, 5])
    np.testing.assert_array_equal(p.inside, [True, False])


def _stacks_for_many():
    """Stacks of different lengths and kinds: a gap and non-square pixels, offsets that
    decrease along the normal, a single oblique slice, a position held twice."""
    from eda_helpers.geometry import stack_affine

    tilt = [0.9962, 0.0872, 0, -0.0872, 0.9962, 0]
    stacks = []
    for pos, iop, spacing, shape, step in [
        ([[0, 0, 0], [0, 0, 4], [0, 0, 12]], AXIAL, [0.5, 0.8], (40, 30), None),
        (
            [[10, -50, 40], [6, -50, 40], [2, -50, 40], [-2, -50, 40]],
            SAGITTAL,
            [1, 1],
            (60, 60),
            None,
        ),
        ([[3, 4, 20]], tilt, [0.7, 0.7], (50, 50), 3.0),
        ([[0, 0, 0], [0, 0, 0], [0, 0, 4]], AXIAL, [1, 1], (20, 20), None),
    ]:
        a = stack_affine(pos, iop, spacing, slice_spacing=step)
        stacks.append((a, np.asarray(pos, dtype=np.float64), shape))
    return stacks


def test_project_to_stacks_is_project_to_stack_of_each(rng):
    from eda_helpers.geometry import project_to_stack, project_to_stacks

    stacks = _stacks_for_many()
    on_slices = np.concatenate([pos for _, pos, _ in stacks])
    halfway = [[0, 0, 2.0], [0, 0, 8.0], [8.0, -50, 40], [0, 0, -9], [0, 0, 30]]
    points = np.concatenate([rng.normal(0, 15, (40, 3)), on_slices, halfway])
    many = project_to_stacks(points, stacks)
    assert many.slice_index.shape == (len(stacks), len(points))
    for t, (a, pos, shape) in enumerate(stacks):
        one = project_to_stack(points, a, pos, shape)
        np.testing.assert_array_equal(many.slice_index[t], one.slice_index)
        np.testing.assert_array_equal(many.inside[t], one.inside)
        for name in ("x", "y", "distance_mm"):
            np.testing.assert_allclose(getattr(many, name)[t], getattr(one, name), atol=1e-9)
    # on the stack with a position held twice, the first of the two is the one taken
    assert set(many.slice_index[3].tolist()) <= {0, 2}
    # a point between two slices goes to the nearer, the lower one on a tie
    np.testing.assert_array_equal(many.slice_index[0, -5:], [0, 1, 2, 0, 2])
    assert many.slice_index[1, -3] == 0  # x = 8, halfway between the sagittals at 10 and 6


def test_project_to_stacks_gives_the_same_for_many_points_as_for_few(rng):
    """Many points are searched stack by stack, few compared all at once: one answer."""
    from eda_helpers.geometry import project_to_stacks

    stacks = _stacks_for_many()
    points = rng.normal(0, 20, (6000, 3))
    many = project_to_stacks(points, stacks)
    few = [project_to_stacks(points[i : i + 50], stacks) for i in range(0, len(points), 50)]
    for name in ("slice_index", "x", "y", "distance_mm", "inside"):
        np.testing.assert_array_equal(
            getattr(many, name), np.concatenate([getattr(p, name) for p in few], axis=1)
        )
    with pytest.raises(ValueError, match=r"stacks: expected at least one stack, got none"):
        project_to_stacks(points, [])


def test_project_to_stacks_breaks_ties_as_project_to_stack(rng):
    """A point halfway between two slices is a tie that rounding decides: one stack or
    several in a call, the same rounding, the same slice."""
    from eda_helpers.geometry import project_to_stack, project_to_stacks, stack_affine

    for _ in range(20):
        row = rng.normal(size=3)
        row /= np.linalg.norm(row)
        col = np.cross(row, rng.normal(size=3))
        col /= np.linalg.norm(col)
        normal = np.cross(row, col)
        pos = rng.normal(0, 40, 3) + np.sort(rng.normal(0, 20, 8))[:, None] * normal
        stack = (stack_affine(pos, np.r_[row, col], [0.7, 0.9]), pos, (64, 64))
        halfway = (pos[:-1] + pos[1:]) / 2
        one = project_to_stack(halfway, *stack).slice_index
        many = project_to_stacks(halfway, [stack, *_stacks_for_many(), stack]).slice_index
        np.testing.assert_array_equal(many[0], one)
        np.testing.assert_array_equal(many[-1], one)


def test_a_stack_that_steps_back_within_the_tolerance_gives_the_nearest_slice():
    """A Volume's positions may step back by up to POSITION_ATOL: the nearest slice is
    still the nearest, for a few points and for many."""
    v = Volume.from_array(
        np.zeros((4, 4, 4)),
        positions=[[0, 0, 0], [0, 0, 5], [0, 0, 4.995], [0, 0, 10]],
        orientation=AXIAL,
        pixel_spacing=[1, 1],
    )
    assert v.project([[1, 1, 4.999]]).slice_index.tolist() == [1]
    assert set(v.project([[1, 1, 4.999]] * 20000).slice_index.tolist()) == {1}
    assert v.project([[1, 1, 2.6]]).slice_index.tolist() == [2]  # 2.395 mm from z = 4.995


def test_project_to_stacks_names_the_stack_it_refuses():
    from eda_helpers.geometry import project_to_stack, project_to_stacks

    good = _stacks_for_many()[0]
    with pytest.raises(ValueError, match=r"^stacks\[1\]: affine: expected a finite 4x4 matrix"):
        project_to_stacks([0, 0, 0], [good, (np.eye(3), good[1], (4, 4))])
    with pytest.raises(ValueError, match=r"^stacks\[0\]: shape: expected \(rows, columns\)"):
        project_to_stacks([0, 0, 0], [(good[0], good[1], (4, 4, 1)), good])
    with pytest.raises(ValueError, match=r"^shape: expected \(rows, columns\), two integers"):
        project_to_stack([0, 0, 0], good[0], good[1], (4.0, 4))
    stacks = (s for s in [good, good])  # any iterable of stacks
    assert project_to_stacks([[0, 0, 0]], stacks).slice_index.shape == (2, 1)


def test_world_functions_refuse_unknown_or_flat_geometry():
    from eda_helpers.geometry import index_to_patient, patient_to_index, project_to_stack

    pos = [[0, 0, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match=r"affine: expected a finite 4x4 matrix, got one with NaN"):
        index_to_patient([0, 0, 0], np.full((4, 4), np.nan), pos)
    with pytest.raises(
        ValueError, match=r"affine: expected a finite 4x4 matrix, got shape \(3, 3\)"
    ):
        patient_to_index([0, 0, 0], np.eye(3), pos)
    flat = np.eye(4)
    flat[:3, 1] = flat[:3, 2]
    with pytest.raises(ValueError, match=r"affine: its row and column steps are parallel"):
        project_to_stack([0, 0, 0], flat, pos, (4, 4))
    in_plane = voxel_affine([0, 0, 0], AXIAL, [1, 1], [1, 0, 0])
    with pytest.raises(ValueError, match=r"affine: its slice step lies in the image plane"):
        index_to_patient([0, 0, 0], in_plane, pos)
    with pytest.raises(ValueError, match=r"positions: expected a finite \(n, 3\) array"):
        index_to_patient([0, 0, 0], np.eye(4), [[np.nan, 0, 0]])
