"""Cross-reference lines and plane names: geometry worked out by hand, then the plot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eda_helpers import Point, Volume, read_stacks, rsna
from eda_helpers.geometry import (
    image_corners,
    patient_to_pixel,
    plane_name,
    reference_line,
    slice_normal,
    voxel_affine,
)
from eda_helpers.plotting import plot_cross_reference

SAGITTAL = [0, 1, 0, 0, 0, -1]  # columns run posterior (+y), rows run to the feet (-z)
AXIAL = [1, 0, 0, 0, 1, 0]


def _stack(first, iop, step, n, *, shape=(40, 40), spacing=(1.0, 1.0), first_instance=1):
    first = np.asarray(first, dtype=float)
    positions = np.array([first + k * np.asarray(step, dtype=float) for k in range(n)])
    return Volume(
        torch.zeros(n, *shape),
        tuple(range(first_instance, first_instance + n)),
        positions,
        np.asarray(iop, dtype=float),
        tuple(f"{k}.dcm" for k in range(n)),
        (float(np.linalg.norm(step)), *spacing),
        voxel_affine(first, iop, spacing, step),
    )


# --------------------------------------------------------------------------- plane_name


@pytest.mark.parametrize(
    ("iop", "name"),
    [
        (SAGITTAL, "sagittal"),
        (AXIAL, "axial"),
        ([1, 0, 0, 0, 0, -1], "coronal"),
        ([0, 0, -1, 1, 0, 0], "coronal"),  # another in-plane orientation of a coronal plane
        ([1, 0, 0, 0, np.cos(0.5), -np.sin(0.5)], "axial"),  # tilted 28.6 degrees
        ([1, 0, 0, 0, np.cos(0.6), -np.sin(0.6)], "oblique"),  # tilted 34.4 degrees
    ],
)
def test_plane_name(iop, name):
    assert plane_name(iop) == name


def test_plane_name_threshold():
    tilted = [1, 0, 0, 0, np.cos(0.6), -np.sin(0.6)]  # 34.4 degrees off axial
    assert plane_name(tilted, max_angle=35) == "axial"
    assert plane_name(AXIAL, max_angle=0) == "axial"
    with pytest.raises(ValueError, match=r"max_angle: expected degrees between 0 and 90, got 95"):
        plane_name(AXIAL, max_angle=95)


# --------------------------------------------------------------------------- corners and lines


def test_image_corners_by_hand():
    # Sagittal image, first pixel centre at (5, -20, 40), 2 mm rows and 0.5 mm columns.
    corners = image_corners([5, -20, 40], SAGITTAL, [2.0, 0.5], (10, 8))
    expected = [
        [5, -20 - 0.25, 40 + 1.0],  # (x, y) = (-0.5, -0.5)
        [5, -20 + 7.5 * 0.5, 40 + 1.0],  # (7.5, -0.5)
        [5, -20 + 7.5 * 0.5, 40 - 9.5 * 2],  # (7.5, 9.5)
        [5, -20 - 0.25, 40 - 9.5 * 2],  # (-0.5, 9.5)
    ]
    np.testing.assert_allclose(corners, expected)


def test_axial_plane_through_a_sagittal_image():
    """The example of the issue: an axial plane z = 10 on a sagittal image.

    Sagittal image at x = 0, first pixel at (0, -50, 60), 0.5 mm pixels: the row of
    z = 10 is (60 - 10) / 0.5 = 100. The axial image (256 x 200 pixels of 0.8 mm, first
    pixel at (-80, -30, 10)) spans y from -30.4 to -30.4 + 200 * 0.8 = 129.6, so the
    line runs from column (-30.4 + 50) / 0.5 = 39.2 to (129.6 + 50) / 0.5 = 359.2.
    """
    axial = image_corners([-80, -30, 10], AXIAL, [0.8, 0.8], (200, 256))
    line = reference_line(axial, [0, -50, 60], SAGITTAL, [0.5, 0.5])
    assert line is not None
    line = line[np.argsort(line[:, 0])]
    np.testing.assert_allclose(line, [[39.2, 100.0], [359.2, 100.0]], atol=1e-9)


def test_tilted_axial_plane_by_hand():
    """An axial image tilted about the patient's x axis cuts a sagittal one obliquely.

    Axial rows run +x, columns run along (0, cos a, sin a): a plane through (0, 0, 0)
    in which z = y tan a. On the sagittal image (first pixel at (0, -50, 50), 1 mm
    pixels) the point (y, z) is at column y + 50 and row 50 - z.
    """
    a = np.deg2rad(20)
    iop = [1, 0, 0, 0, np.cos(a), np.sin(a)]
    rows, cols = 100, 120  # the image is 100 mm along its columns' direction
    # First pixel centre such that the image spans column coordinates -40..60 mm.
    start = np.array([-60.0, 0.0, 0.0]) + (-40 + 0.5) * np.array([0, np.cos(a), np.sin(a)])
    corners = image_corners(start, iop, [1.0, 1.0], (rows, cols))
    line = reference_line(corners, [0, -50, 50], SAGITTAL, [1.0, 1.0])
    assert line is not None
    ends = []
    for t in (-40.0, 60.0):  # the axial image's extent along its columns
        y, z = t * np.cos(a), t * np.sin(a)
        ends.append([y + 50, 50 - z])
    line = line[np.argsort(line[:, 0])]
    np.testing.assert_allclose(line, ends, atol=1e-9)


def test_no_line_when_planes_do_not_meet_within_the_rectangle():
    # Parallel planes.
    other = image_corners([3, -20, 40], SAGITTAL, [1, 1], (10, 10))
    assert reference_line(other, [0, -20, 40], SAGITTAL, [1, 1]) is None
    # The same plane.
    assert reference_line(other, [3, 0, 0], SAGITTAL, [1, 1]) is None
    # An axial image that ends before it reaches the sagittal plane x = 0.
    short = image_corners([10, -20, 0], AXIAL, [1, 1], (10, 10))  # x from 9.5 to 19.5
    assert reference_line(short, [0, -20, 40], SAGITTAL, [1, 1]) is None
    # One that touches it with an edge: a line, along that edge.
    edge = image_corners([0.5, -20, 0], AXIAL, [1, 1], (10, 10))  # x from 0 to 10
    line = reference_line(edge, [0, -20, 40], SAGITTAL, [1, 1])
    assert line is not None
    np.testing.assert_allclose(sorted(line[:, 0]), [-0.5, 9.5])


def test_no_line_when_only_a_corner_touches():
    # A diamond in the plane z = 0 that meets the plane x = 0 at one corner only.
    corners = np.array([[0, 0, 0], [1, 1, 0], [2, 0, 0], [1, -1, 0]], dtype=float)
    assert reference_line(corners, [0, 0, 0], SAGITTAL, [1, 1]) is None
    # Moved 1 mm across, it is cut along its diagonal from (0, -1) to (0, 1).
    line = reference_line(corners - [1, 0, 0], [0, 0, 0], SAGITTAL, [1, 1])
    assert line is not None
    np.testing.assert_allclose(sorted(map(tuple, line)), [(-1.0, 0.0), (1.0, 0.0)])


def test_reference_line_rejects_bad_corners():
    with pytest.raises(ValueError, match=r"corners: expected 4 points of 3 coordinates, got"):
        reference_line(np.zeros((3, 3)), [0, 0, 0], SAGITTAL, [1, 1])


# --------------------------------------------------------------------------- the plot


def test_plot_lines_are_the_hand_computed_rows():
    sagittal = _stack([0, -20, 20], SAGITTAL, [4, 0, 0], 3)
    axial = _stack([-20, -10, -8], AXIAL, [0, 0, 4], 5)  # z = -8 .. 8, y from -10.5
    second = _stack([-20, -10, 12], AXIAL, [0, 0, 3], 2, first_instance=6)  # z = 12, 15
    ax = plot_cross_reference(sagittal, [axial, second], index=0, labels=True)
    lines = [ln for ln in ax.lines if ln.get_gid() == "reference-line"]
    assert len(lines) == 7
    # Row of z on the sagittal image: 20 - z; columns: y + 20 over y = -10.5 .. 29.5.
    for line, z in zip(lines, [-8, -4, 0, 4, 8, 12, 15], strict=True):
        np.testing.assert_allclose(line.get_ydata(), [20 - z, 20 - z])
        np.testing.assert_allclose(sorted(line.get_xdata()), [9.5, 49.5])
    assert [ln.get_color() for ln in lines] == ["C0"] * 5 + ["C1"] * 2
    assert [t.get_text() for t in ax.texts if t.get_gid() == "line-label"] == [
        f"#{n}" for n in range(1, 8)
    ]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["stack 0: #1–5", "stack 1: #6–7"]
    assert ax.get_xlim() == (-0.5, 39.5) and ax.get_ylim() == (39.5, -0.5)
    assert ax.get_title() == "slice 0 · #1"


def test_plot_marks_only_the_points_of_the_shown_slice():
    sagittal = _stack([0, -20, 20], SAGITTAL, [4, 0, 0], 3)
    axial = _stack([-20, -10, -8], AXIAL, [0, 0, 4], 5)
    points = [Point(2, 5.0, 6.0, "L4/L5"), Point(3, 7.0, 8.0, "L5/S1")]
    ax = plot_cross_reference(sagittal, axial, points=points)  # the middle slice: instance 2
    (marks,) = [c for c in ax.collections if c.get_gid() == "points"]
    assert marks.get_offsets().tolist() == [[5.0, 6.0]]
    assert [t.get_text() for t in ax.texts if t.get_gid() == "point-label"] == ["L4/L5"]
    assert ax.get_legend() is None  # one stack: nothing to tell apart


def test_plot_warns_when_nothing_cuts_the_slice():
    sagittal = _stack([0, -20, 20], SAGITTAL, [4, 0, 0], 3)
    other = _stack([50, -20, 20], SAGITTAL, [4, 0, 0], 2)
    with pytest.warns(UserWarning, match=r"others: none of the 2 slices cuts slice 1"):
        ax = plot_cross_reference(sagittal, other)
    assert not ax.lines


def test_plot_errors():
    sagittal = _stack([0, -20, 20], SAGITTAL, [4, 0, 0], 3)
    axial = _stack([-20, -10, -8], AXIAL, [0, 0, 4], 5)
    with pytest.raises(TypeError, match=r"volume: expected a Volume, got Tensor"):
        plot_cross_reference(torch.zeros(3, 4, 4), axial)
    with pytest.raises(ValueError, match=r"others: expected a Volume or a non-empty list"):
        plot_cross_reference(sagittal, [])
    with pytest.raises(TypeError, match=r"others: item 1 is a str, expected a Volume"):
        plot_cross_reference(sagittal, [axial, "axial"])
    with pytest.raises(ValueError, match=r"index: expected a slice index in 0\.\.2 .* got 3"):
        plot_cross_reference(sagittal, axial, index=3)


def test_plot_on_the_sample_study(sample_root):
    """Every axial slice of the sample crosses the mid-sagittal T2, at its own height."""
    study = 1521327889
    (t2,) = rsna.find_series(sample_root, study, "Sagittal T2/STIR")
    (axial,) = rsna.find_series(sample_root, study, "Axial T2")
    (sagittal,) = read_stacks(t2)
    stacks = read_stacks(axial)
    ax = plot_cross_reference(sagittal, stacks)
    lines = [ln for ln in ax.lines if ln.get_gid() == "reference-line"]
    assert len(lines) == sum(len(v) for v in stacks)
    i = len(sagittal) // 2
    _, dr, dc = sagittal.spacing
    for line, (k, j) in zip(
        lines, [(k, j) for k, v in enumerate(stacks) for j in range(len(v))], strict=True
    ):
        v = stacks[k]
        corners = image_corners(v.positions[j], v.orientation, v.spacing[1:], v.shape[1:])
        expected = reference_line(corners, sagittal.positions[i], sagittal.orientation, (dr, dc))
        np.testing.assert_allclose(np.c_[line.get_xdata(), line.get_ydata()], expected)
        assert line.get_color() == f"C{k}"
        # The point of the axial slice's centre row that lies in the sagittal plane is on
        # the line.
        row, col = v.orientation[:3], v.orientation[3:]
        _, vdr, vdc = v.spacing
        centre = (
            v.positions[j] + (v.shape[2] - 1) / 2 * vdc * row + (v.shape[1] - 1) / 2 * vdr * col
        )
        normal = slice_normal(sagittal.orientation)
        p = centre - ((centre - sagittal.positions[i]) @ normal) / (row @ normal) * row
        x, y, dist = patient_to_pixel(p, sagittal.positions[i], sagittal.orientation, (dr, dc))[0]
        assert abs(dist) < 1e-9
        a, b = expected
        cross = (b - a)[0] * (y - a[1]) - (b - a)[1] * (x - a[0])
        assert abs(cross) / np.linalg.norm(b - a) < 1e-6


# --------------------------------------------------------------------------- oblique planes


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q


def _line_by_plane_intersection(pos_o, iop_o, sp_o, shape_o, pos, iop, sp):
    """The same line another way: the two planes' common line, clipped to the rectangle.

    The line through both planes runs along n1 x n2; its points are clipped in the
    other image's own (row, column) millimetres (Liang-Barsky), and the two ends are
    then expressed in the pixels of the image it is drawn on.
    """
    r1, c1 = np.asarray(iop_o[:3]), np.asarray(iop_o[3:])
    r2, c2 = np.asarray(iop[:3]), np.asarray(iop[3:])
    n1, n2 = np.cross(r1, c1), np.cross(r2, c2)
    d = np.cross(n1, n2)
    p0 = np.linalg.solve(np.array([n1, n2, d]), [n1 @ pos_o, n2 @ pos, 0.0])
    (rows, cols), (dr, dc) = shape_o, sp_o
    lo, hi = -np.inf, np.inf
    for q0, dq, a, b in (
        ((p0 - pos_o) @ r1, d @ r1, -0.5 * dc, (cols - 0.5) * dc),
        ((p0 - pos_o) @ c1, d @ c1, -0.5 * dr, (rows - 0.5) * dr),
    ):
        t1, t2 = sorted(((a - q0) / dq, (b - q0) / dq))
        lo, hi = max(lo, t1), min(hi, t2)
    if lo >= hi:
        return None
    ends = [p0 + t * d for t in (lo, hi)]
    return np.array([[(e - pos) @ r2 / sp[1], (e - pos) @ c2 / sp[0]] for e in ends])


def test_oblique_planes_agree_with_an_independent_computation(rng):
    crossed = 0
    for _ in range(300):
        a, b = _rotation(rng), _rotation(rng)
        iop_o, iop = np.r_[a[:, 0], a[:, 1]], np.r_[b[:, 0], b[:, 1]]
        pos_o, pos = rng.uniform(-50, 50, 3), rng.uniform(-50, 50, 3)
        sp_o, sp = rng.uniform(0.3, 1.5, 2), rng.uniform(0.3, 1.5, 2)
        shape_o = tuple(int(n) for n in rng.integers(20, 300, 2))
        got = reference_line(image_corners(pos_o, iop_o, sp_o, shape_o), pos, iop, sp)
        expected = _line_by_plane_intersection(pos_o, iop_o, sp_o, shape_o, pos, iop, sp)
        assert (got is None) == (expected is None)
        if got is not None:
            crossed += 1
            order = np.lexsort(got.T[::-1]), np.lexsort(expected.T[::-1])
            np.testing.assert_allclose(got[order[0]], expected[order[1]], atol=1e-6)
    assert 50 < crossed < 300  # both outcomes were exercised


def test_parallel_oblique_planes_draw_no_line():
    a = np.deg2rad(17)
    iop = [np.cos(a), np.sin(a), 0, 0, 0, -1]  # a sagittal plane turned 17 degrees
    other = image_corners([0, 0, 0], iop, [0.7, 0.7], (200, 200))
    normal = slice_normal(iop)
    for shift in (2.5, 1e-3, 0.0):  # apart, almost touching, the same plane
        assert reference_line(other, normal * shift, iop, [0.5, 0.5]) is None
    # Tilted by 0.05 degrees about its row direction, it cuts along the first row.
    b = np.deg2rad(0.05)
    tilted = image_corners([-50, -50, 0], [1, 0, 0, 0, np.cos(b), np.sin(b)], [1, 1], (100, 100))
    line = reference_line(tilted, [-50, -50, 0], AXIAL, [1, 1])
    assert line is not None
    np.testing.assert_allclose(sorted(map(tuple, line)), [(-0.5, 0.0), (99.5, 0.0)], atol=1e-9)


def test_plot_refuses_stacks_of_another_study():
    sagittal = _stack([0, -20, 20], SAGITTAL, [4, 0, 0], 3)
    axial = _stack([-20, -10, -8], AXIAL, [0, 0, 4], 5)
    mine = Volume(**{**sagittal.__dict__, "study_uid": "1.2.3"})
    theirs = Volume(**{**axial.__dict__, "study_uid": "1.2.4"})
    with pytest.raises(
        ValueError,
        match=r"others: item 1 is of study 1\.2\.4, the shown volume of study 1\.2\.3; "
        r"cross-reference lines need series of one study",
    ):
        plot_cross_reference(mine, [Volume(**{**axial.__dict__, "study_uid": "1.2.3"}), theirs])
    plot_cross_reference(mine, axial)  # a Volume without StudyInstanceUID is not refused
