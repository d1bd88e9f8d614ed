"""The anatomy of a synthetic study: a lumbar spine phantom defined in patient space.

Patient coordinates in mm, LPS: +x to the patient's left, +y posterior, +z to the head.
A study's grades (drawn per condition and level) shape its phantom: the spinal canal of a
"Severe" level is narrowed, a narrowed foramen gets a spur, a subarticular stenosis a
thickened facet. :func:`sample_landmarks` gives the true 3-D points the label coordinates
are projected from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .. import _checks
from ..vocabulary import CONDITIONS, LEVELS, SEVERITIES, condition_name, level_name

__all__ = ["SpineLandmarks", "sample_landmarks"]

# P(Normal/Mild, Moderate, Severe) per condition kind and level, from L1/L2 to L5/S1.
# Shaped like the real data: mostly normal, worse at the lower levels; the spinal canal
# averages about 89 / 7 / 4 %.
_SEVERITY_P = {
    "spinal": [(0.96, 0.03, 0.01), (0.92, 0.05, 0.03), (0.86, 0.08, 0.06),
               (0.78, 0.12, 0.10), (0.94, 0.04, 0.02)],
    "foraminal": [(0.90, 0.08, 0.02), (0.82, 0.15, 0.03), (0.70, 0.24, 0.06),
                  (0.55, 0.35, 0.10), (0.55, 0.33, 0.12)],
    "subarticular": [(0.88, 0.09, 0.03), (0.75, 0.18, 0.07), (0.60, 0.27, 0.13),
                     (0.45, 0.33, 0.22), (0.65, 0.25, 0.10)],
}  # fmt: skip

# Tissue classes of the phantom and their signal (before noise) on T1 and T2.
_AIR, _FAT, _MUSCLE, _VISCERA, _MARROW, _CORTEX, _ANNULUS = range(7)
_NUCLEUS, _NUCLEUS_DRY, _CSF, _NERVE, _LIGAMENT, _BONE, _SPUR = range(7, 14)
_VERTEBRAE = ("T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1")
_FIRST_LABELLED_DISC = 2  # discs: T11/T12, T12/L1, L1/L2 ... L5/S1
_ENTROPY = "eda_helpers.sample"


def _rotation(about_x: float, about_y: float, about_z: float) -> NDArray[np.float64]:
    """Rotation matrix (radians), applied as Rz @ Ry @ Rx."""
    cx, sx = np.cos(about_x), np.sin(about_x)
    cy, sy = np.cos(about_y), np.sin(about_y)
    cz, sz = np.cos(about_z), np.sin(about_z)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


@dataclass(frozen=True)
class _Phantom:
    """One study's spine, in a local frame bent along a circular arc.

    Local coordinates are ``(x, t, s)``: ``x`` lateral (+ patient left), ``t`` posterior
    distance from the curve through the vertebral bodies' centres, ``s`` arc length along
    it (+ to the head). ``rotation`` and ``offset`` place the local frame in patient
    space: ``patient = rotation @ local_xyz + offset``.
    """

    radius: float  # of the lordotic curve, mm; its centre is posterior
    rotation: NDArray[np.float64]
    offset: NDArray[np.float64]
    s_vert: NDArray[np.float64]  # centre of each vertebra along s (T11..S1)
    h_vert: NDArray[np.float64]  # half height
    ax_vert: NDArray[np.float64]  # half width (x)
    at_vert: NDArray[np.float64]  # half depth (t)
    s_disc: NDArray[np.float64]  # centre of each disc (T11/T12 .. L5/S1)
    h_disc: NDArray[np.float64]
    canal_t: float  # centre of the canal behind the bodies
    canal_ax: float
    canal_at: float
    skin: tuple[float, float, float]  # half width, half depth, centre t of the outline
    fat: float  # subcutaneous fat thickness
    bulge: NDArray[np.float64]  # per labelled disc: posterior bulge into the canal
    flavum: NDArray[np.float64]  # per labelled disc: thickening of the ligamentum flavum
    spur: NDArray[np.float64]  # (5, 2) foraminal spur radius, (left, right)
    facet: NDArray[np.float64]  # (5, 2) facet thickening radius, (left, right)
    dry: NDArray[np.bool_]  # per disc: degenerated nucleus (dark on T2)

    def to_local(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Patient points (n, 3) -> local Cartesian points (n, 3), before the bend."""
        return (np.asarray(points, dtype=np.float64).reshape(-1, 3) - self.offset) @ self.rotation

    def bend(self, y: NDArray, z: NDArray) -> tuple[NDArray, NDArray]:
        """Local ``(y, z)`` -> ``(t, s)`` along the curve (whose centre is at y=R, z=0)."""
        dy = y - np.float32(self.radius)
        r = np.hypot(dy, z)
        return np.float32(self.radius) - r, np.float32(self.radius) * np.arctan2(z, -dy)

    def to_patient(self, x: float, t: float, s: float) -> NDArray[np.float64]:
        """Local ``(x, t, s)`` -> patient point (3,)."""
        theta = s / self.radius
        r = self.radius - t
        local = np.array([x, self.radius - r * np.cos(theta), r * np.sin(theta)])
        return self.rotation @ local + self.offset

    def axis(self, s: float) -> NDArray[np.float64]:
        """Unit vector along the spine (to the head) at arc length ``s``, patient frame."""
        theta = s / self.radius
        return self.rotation @ np.array([0.0, np.sin(theta), np.cos(theta)])

    def tissue(self, points: NDArray[np.float64]) -> NDArray[np.int8]:
        """The tissue class at each patient point (n, 3)."""
        xyz = self.to_local(points).astype(np.float32)
        return self.tissue_local(xyz[:, 0], xyz[:, 1], xyz[:, 2])[0]

    def tissue_local(self, x: NDArray, y: NDArray, z: NDArray) -> tuple[NDArray, NDArray]:
        """Tissue class (int8) and ``t`` at local Cartesian points (flat float32 arrays)."""
        t, s = self.bend(y, z)
        out = np.full(x.shape, _AIR, dtype=np.int8)

        # Soft tissue: the body outline is an elliptic cylinder along the local z axis.
        hw, hd, tc = self.skin
        y_skin = y - np.float32(tc)
        outer = (x / hw) ** 2 + (y_skin / hd) ** 2 <= 1
        inner = (x / (hw - self.fat)) ** 2 + (y_skin / (hd - self.fat)) ** 2 <= 1
        out[outer] = _FAT
        # Inside: fat between the muscles, the abdomen in front of the spine, the psoas
        # muscles beside the lumbar bodies and the paraspinal muscles behind the arches.
        out[inner] = _FAT
        at_mean = float(self.at_vert[2:7].mean())
        ax_mean = float(self.ax_vert[2:7].mean())
        out[inner & (t < -(at_mean + 8))] = _VISCERA
        ax_ = np.abs(x)
        psoas = ((ax_ - (ax_mean + 12)) / 11) ** 2 + ((t + 3) / 14) ** 2 <= 1
        out[inner & psoas & (s < self.s_vert[2])] = _MUSCLE
        back = self.canal_t + self.canal_at
        paraspinal = ((ax_ - (self.canal_ax + 16)) / 24) ** 2 + ((t - back - 20) / 24) ** 2 <= 1
        out[inner & paraspinal] = _MUSCLE
        deep = (x / (hw - self.fat - 12)) ** 2 + (y_skin / (hd - self.fat - 12)) ** 2 <= 1
        out[inner & ~deep & (t < 0)] = _MUSCLE  # the abdominal wall

        # The spine, worked out only near it (most of a slice is soft tissue or air).
        near = (
            inner & (np.abs(x) <= self.canal_ax + 30)
            & (t >= -(self.at_vert.max() + 8)) & (t <= back + 31)
        )  # fmt: skip
        idx = np.flatnonzero(near)
        sub = out[idx]
        self._spine(sub, x[idx], t[idx], s[idx])
        out[idx] = sub
        return out, t

    def _spine(self, out: NDArray, x: NDArray, t: NDArray, s: NDArray) -> None:
        """Paint the spine's tissues into ``out`` (in place)."""
        ax_ = np.abs(x)
        ct, cax, cat = self.canal_t, self.canal_ax, self.canal_at
        back = ct + cat
        at_mean = float(self.at_vert[2:7].mean())
        # Which vertebra's zone a point is in: zones change at the middle of each disc.
        zone = np.searchsorted(-self.s_disc, -s, side="right")
        sv, hv = self.s_vert[zone], self.h_vert[zone]
        ax, at = self.ax_vert[zone], self.at_vert[zone]
        ds = s - sv
        sacrum = zone == len(_VERTEBRAE) - 1
        lumbar = ~sacrum
        # Below the top of S1 the canal narrows and the arch is one fused plate.
        sacral = sacrum & (ds < hv - 12)
        cax_p = np.where(sacral, 0.6 * cax, cax)
        cat_p = np.where(sacral, 0.5 * cat, cat)

        # Fat around the dural sac and in the foramina.
        epidural = (x / (cax + 2.5)) ** 2 + ((t - ct) / (cat + 2.5)) ** 2 <= 1
        out[epidural | ((ax_ <= cax + 9) & (t > 0.6 * at) & (t <= back))] = _FAT

        # Posterior elements of each lumbar vertebra.
        facet = (ax_ >= cax) & (ax_ <= cax + 12) & (t >= back - 1.5) & (t <= back + 8)
        lam_band = (ax_ < cax) & (t >= back + 0.5) & (t <= back + 7)
        lamina = lam_band & (ds >= -hv - 2.5) & (ds <= hv - 3)
        spinous = (ax_ <= 3) & (t > back) & (t <= back + 30) & (ds >= -0.7 * hv) & (ds <= 0.5 * hv)
        transverse = (
            (ax_ >= cax + 6) & (ax_ <= cax + 28) & (np.abs(t - ct + 2) <= 3.5)
            & (ds >= 0) & (ds <= 0.55 * hv)
        )  # fmt: skip
        pedicle = (
            (ax_ >= cax + 0.5) & (ax_ <= cax + 7)
            & (((t - ct + 1) / 8.5) ** 2 + ((ds - 0.3 * hv) / (0.45 * hv)) ** 2 <= 1)
        )  # fmt: skip
        out[lumbar & lam_band] = _LIGAMENT
        out[lumbar & (facet | lamina | spinous | transverse | pedicle)] = _BONE
        out[sacral & (ax_ <= cax + 12) & (t >= ct) & (t <= back + 7)] = _BONE

        # The dural sac, the end of the cord, and the roots leaving through the foramina.
        out[(x / cax_p) ** 2 + ((t - ct) / cat_p) ** 2 <= 1] = _CSF
        cone = np.clip((s - self.s_vert[2]) / 15, 0, 1)
        cord = (x / 4.5) ** 2 + ((t - ct) / 3.5) ** 2 <= cone**2
        out[cord & (cone > 0)] = _NERVE
        root = (
            lumbar & (ax_ >= cax - 1) & (ax_ <= cax + 14)
            & (((t - ct + 2) / 2.8) ** 2 + ((ds + 0.35 * hv) / 2.8) ** 2 <= 1)
        )  # fmt: skip
        out[root] = _NERVE

        # Vertebral bodies (the sacrum narrows downwards) and their dark endplates.
        top = (zone == 0) & (ds > 0)  # above T11: its body goes on out of view
        scale = np.where(sacrum, 0.55 + 0.45 * np.clip((ds + hv) / (2 * hv), 0, 1), 1.0)
        ell = (x / (ax * scale)) ** 2 + (t / (at * scale)) ** 2
        body = (ell <= 1) & ((np.abs(ds) <= hv) | top)
        out[body] = _MARROW
        rim = (x / (ax * scale - 1.5)) ** 2 + (t / (at * scale - 1.5)) ** 2 > 1
        out[body & (rim | ((np.abs(ds) > hv - 1.2) & ~top))] = _CORTEX

        # Discs: between the bodies, with a posterior bulge where the canal is stenotic.
        in_gap = ((ds < -hv) & lumbar) | ((ds > hv) & (zone > 0))
        g = np.flatnonzero(in_gap)
        d = np.where(ds[g] < 0, zone[g], zone[g] - 1)
        xd, td, sd = x[g], t[g], s[g]
        axd = np.maximum(self.ax_vert[d], self.ax_vert[d + 1]) + 1
        atd = np.maximum(self.at_vert[d], self.at_vert[d + 1]) + 1
        bulge = np.zeros(len(_VERTEBRAE) - 1)
        bulge[_FIRST_LABELLED_DISC:] = self.bulge
        atd_p = atd + np.where(td > 0, bulge[d] * np.exp(-((xd / 7) ** 2)), 0)
        disc = (xd / axd) ** 2 + (td / atd_p) ** 2 <= 1
        nucleus = ((xd / (0.55 * axd)) ** 2 + ((td + 1) / (0.5 * atd)) ** 2 <= 1) & (
            np.abs(sd - self.s_disc[d]) <= 0.6 * self.h_disc[d]
        )
        gap_t = np.where(disc, _ANNULUS, out[g])
        gap_t = np.where(disc & nucleus, np.where(self.dry[d], _NUCLEUS_DRY, _NUCLEUS), gap_t)
        out[g] = gap_t

        # Degeneration at the labelled levels: a thick ligamentum flavum, spurs in the
        # foramina, thick facets.
        for i in range(len(LEVELS)):
            sd_i = self.s_disc[_FIRST_LABELLED_DISC + i]
            if self.flavum[i] > 0:
                reach = self.h_disc[_FIRST_LABELLED_DISC + i] + 3
                flavum = (np.abs(s - sd_i) <= reach) & (ax_ <= cax) & (t <= back)
                out[flavum & (t >= back - self.flavum[i] * np.cos(x / cax))] = _LIGAMENT
            for side, sign in enumerate((1.0, -1.0)):  # left (+x), right (-x)
                balls = (
                    (self.spur[i, side], sign * (cax + 4), at_mean - 1),
                    (self.facet[i, side], sign * (cax - 1), back + 1),
                )
                for radius, xc, tc in balls:
                    if radius > 0:
                        ball = (x - xc) ** 2 + (t - tc) ** 2 + (s - sd_i) ** 2 <= radius**2
                        out[ball] = _SPUR

    def landmark(self, condition: str, level_index: int) -> NDArray[np.float64]:
        """The point (patient mm) a label of ``condition`` marks at a disc.

        Spinal canal: the middle of the canal at the disc's mid-height. Foramina: the
        middle of the foramen at disc height. Subarticular: the lateral recess of the
        canal at disc height. All of them lie in the disc's mid-plane.
        """
        s = float(self.s_disc[_FIRST_LABELLED_DISC + level_index])
        sign = 1.0 if condition.startswith("left") else -1.0
        if condition == "spinal_canal_stenosis":
            return self.to_patient(0.0, self.canal_t, s)
        if "foraminal" in condition:
            return self.to_patient(sign * (self.canal_ax + 4.5), self.canal_t + 1, s)
        return self.to_patient(sign * 0.6 * self.canal_ax, self.canal_t - 4, s)


@dataclass(frozen=True)
class SpineLandmarks:
    """Where the discs and the labelled points of one sample study are.

    The ground truth of the phantom, for checking code that reads the sample data
    (for example that a label coordinate mapped back through the geometry tags lands
    on its disc).

    Attributes
    ----------
    study_id : int
    levels : tuple of str
        ``("L1/L2", ..., "L5/S1")``.
    disc_centres : ndarray, shape (5, 3)
        Centre of each labelled disc, patient coordinates (mm, LPS).
    disc_axes : ndarray, shape (5, 3)
        Unit vector along the spine (towards the head) at each disc: the normal of
        the disc's mid-plane.
    points : dict
        ``(condition, level) -> ndarray (3,)``, with ``condition`` and ``level`` as in
        the CSV files (``"Spinal Canal Stenosis"``, ``"L4/L5"``): the 3-D point each
        label marks, in the disc's mid-plane.
    """

    study_id: int
    levels: tuple[str, ...]
    disc_centres: NDArray[np.float64]
    disc_axes: NDArray[np.float64]
    points: dict[tuple[str, str], NDArray[np.float64]] = field(repr=False)


def sample_landmarks(study_id: int) -> SpineLandmarks:
    """The discs and labelled points of the sample study ``study_id``.

    A sample study is determined by its id alone, so the landmarks need no files.

    Parameters
    ----------
    study_id : int
        A study id of a dataset written by :func:`make_sample_dataset`.

    Returns
    -------
    SpineLandmarks

    Raises
    ------
    TypeError
        If ``study_id`` is not an integer.
    ValueError
        If ``study_id`` is not positive.

    Examples
    --------
    >>> marks = sample_landmarks(4003253)
    >>> marks.disc_centres.shape
    (5, 3)
    >>> bool(marks.disc_centres[0, 2] > marks.disc_centres[4, 2])  # L1/L2 above L5/S1
    True
    """
    study_id = _checks.identifier("study_id", study_id)
    if study_id < 1:
        raise ValueError(f"study_id: expected a positive id, got {study_id}")
    phantom = _make_phantom(study_id, _draw_severities(study_id))
    centres, axes, points = [], [], {}
    for i, level in enumerate(LEVELS):
        s = float(phantom.s_disc[_FIRST_LABELLED_DISC + i])
        centres.append(phantom.to_patient(0.0, 0.0, s))
        axes.append(phantom.axis(s))
        for condition in CONDITIONS:
            key = (condition_name(condition), level_name(level))
            points[key] = phantom.landmark(condition, i)
    return SpineLandmarks(
        study_id,
        tuple(level_name(lv) for lv in LEVELS),
        np.array(centres),
        np.array(axes),
        points,
    )


def _study_rng(study_id: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([study_id, stream])


def _draw_severities(study_id: int) -> dict[str, list[str]]:
    """The ``train.csv`` row of a study: condition -> severity at each level."""
    rng = _study_rng(study_id, 1)
    out = {}
    for condition in CONDITIONS:
        kind = next(k for k in _SEVERITY_P if k in condition)
        out[condition] = [
            SEVERITIES[int(rng.choice(3, p=_SEVERITY_P[kind][i]))] for i in range(len(LEVELS))
        ]
    return out


def _make_phantom(study_id: int, severities: dict[str, list[str]]) -> _Phantom:
    rng = _study_rng(study_id, 2)
    size = rng.uniform(0.92, 1.08)
    # Full heights (mm) of T11..L5 and of the sacrum, and of the discs T11/T12..L5/S1.
    body_h = np.array([22, 24, 25, 26, 27, 27, 26, 70.0]) * size
    body_h[:-1] *= rng.uniform(0.96, 1.04, 7)
    disc_h = np.array([6, 7, 8, 9, 10, 10.5, 9.0]) * rng.uniform(0.9, 1.1, 7)
    grade = {name: i for i, name in enumerate(SEVERITIES)}
    canal_grade = np.array([grade[v] for v in severities["spinal_canal_stenosis"]])
    disc_h[_FIRST_LABELLED_DISC:] -= 1.5 * canal_grade  # degenerated discs are thinner
    # Stack them from the top down; s = 0 lies near the middle of L3.
    s_top = 0.0
    s_vert, s_disc = [], []
    for i in range(len(_VERTEBRAE)):
        s_vert.append(s_top - body_h[i] / 2)
        s_top -= body_h[i]
        if i < len(disc_h):
            s_disc.append(s_top - disc_h[i] / 2)
            s_top -= disc_h[i]
    shift = s_vert[4] + rng.uniform(-8, 8)  # apex of the lordosis near L3
    s_vert_a = np.array(s_vert) - shift
    s_disc_a = np.array(s_disc) - shift
    ax = np.array([17, 18, 19, 20, 21, 22, 23, 25.0]) * size
    at = np.array([13, 13.5, 14, 14.5, 15, 15.5, 16, 17.0]) * size
    canal_ax = 11.0 * size
    canal_at = 7.5 * size
    canal_t = float(at[2:7].mean()) + 1.5 + canal_at
    # Keep the canal's centre free even when the disc bulges most.
    # A stenotic canal is pinched from the front (disc) and from the back (ligamentum
    # flavum), leaving CSF at the canal's centre where the label is.
    d = np.arange(_FIRST_LABELLED_DISC, _FIRST_LABELLED_DISC + len(LEVELS))
    room = canal_t - (np.maximum(at[d], at[d + 1]) + 1) - 2
    bulge = np.array([0, 3.0, 6.0])[canal_grade] + rng.uniform(-0.5, 0.5, 5)
    bulge = np.where(canal_grade > 0, np.minimum(bulge, room), 0.0)
    flavum = np.array([0, 2.5, 4.5])[canal_grade] * size

    def radii(left: str, right: str, sizes: tuple[float, float, float]) -> NDArray:
        pairs = zip(severities[left], severities[right], strict=True)
        g = np.array([[grade[a], grade[b]] for a, b in pairs])
        return np.array(sizes)[g]

    spur = radii(
        "left_neural_foraminal_narrowing", "right_neural_foraminal_narrowing", (0, 4.0, 6.5)
    )
    facet = radii("left_subarticular_stenosis", "right_subarticular_stenosis", (0, 4.0, 6.0))
    dry = np.zeros(len(disc_h), dtype=bool)
    dry[_FIRST_LABELLED_DISC:] = (canal_grade > 0) | (rng.random(5) < 0.15)
    rotation = _rotation(*np.deg2rad(rng.uniform(-3, 3, 3)))
    radius = float(rng.uniform(350, 500))
    # The body's centre at the apex of the lordosis sits a little in front of the origin.
    offset = np.array([rng.uniform(-6, 6), rng.uniform(-25, -5), rng.uniform(-20, 20)])
    skin_hd = float(rng.uniform(100, 125))
    skin = (float(rng.uniform(140, 170)), skin_hd, 85 + float(rng.uniform(-5, 10)) - skin_hd)
    return _Phantom(
        radius=radius,
        rotation=rotation,
        offset=offset,
        s_vert=s_vert_a,
        h_vert=body_h / 2,
        ax_vert=ax,
        at_vert=at,
        s_disc=s_disc_a,
        h_disc=disc_h / 2,
        canal_t=canal_t,
        canal_ax=canal_ax,
        canal_at=canal_at,
        skin=skin,
        fat=float(rng.uniform(12, 28)),
        bulge=bulge,
        flavum=flavum,
        spur=spur,
        facet=facet,
        dry=dry,
    )
