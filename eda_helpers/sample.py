"""The built-in sample dataset: a small synthetic copy of the competition's layout.

:func:`make_sample_dataset` writes ``train_images/<study_id>/<series_id>/<n>.dcm`` and the
three CSV files of the RSNA 2024 Lumbar Spine competition for a few synthetic studies,
so that every notebook and test runs without the 35 GB of real data.

Each study is a simple phantom of the lumbar spine defined in patient coordinates (mm,
LPS: +x to the patient's left, +y posterior, +z to the head): vertebral bodies T11 to L5
and the sacrum on a mild lordotic curve, the discs between them, the spinal canal (CSF
with the end of the cord), pedicles, laminae, facets and spinous processes, the neural
foramina with their exiting roots, muscles, fat and the body outline. Every slice is
sampled from the phantom through its own geometry tags, so the tags are right by
construction, and the label coordinates are the phantom's points at each disc projected
into the slice nearest to them. Degeneration follows the labels: spinal canal stenosis
is a disc bulging into the canal and a thick ligamentum flavum behind it (the canal of a
"Severe" level is about a third as deep), foraminal narrowing a spur in the foramen,
subarticular stenosis a thickened facet. Every dataset has at least one "Severe" spinal
canal level.

The sample keeps, on purpose, the quirks of the real data that break naive code:

- every Axial T2 series holds 2 or 3 separately angled stacks (one SeriesInstanceUID,
  several ImageOrientationPatient values, jumps in position between stacks);
- some series number their instances from a value other than 1;
- sagittal series are numbered either way: in some, InstanceNumber order is the reverse
  of the order along the slice normal (numbered from the patient's right to left);
- Axial T2 instances are numbered from head to foot, against their slice normal.

Every dataset holds each quirk at least once, whatever its size and seed.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import MRImageStorage, RLELossless, generate_uid

from .geometry import patient_to_pixel, slice_normal

__all__ = [
    "CONDITIONS",
    "LEVELS",
    "SAMPLE_FORMAT",
    "SERIES_DESCRIPTIONS",
    "SEVERITIES",
    "SpineLandmarks",
    "condition_name",
    "level_name",
    "make_sample_dataset",
    "rle_encode_frame",
    "sample_landmarks",
]

SAMPLE_FORMAT = 1
"""Version of what :func:`make_sample_dataset` writes; raised whenever its output changes."""

CONDITIONS = (
    "spinal_canal_stenosis",
    "left_neural_foraminal_narrowing",
    "right_neural_foraminal_narrowing",
    "left_subarticular_stenosis",
    "right_subarticular_stenosis",
)
"""The five conditions, in the column order of ``train.csv``."""

LEVELS = ("l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1")
"""The five disc levels, in the column order of ``train.csv``."""

SEVERITIES = ("Normal/Mild", "Moderate", "Severe")
"""The values of ``train.csv``."""

SERIES_DESCRIPTIONS = ("Sagittal T1", "Sagittal T2/STIR", "Axial T2")
"""The three series of each sample study, in the order they are written."""

# Which series carries the label points of which condition (the competition's rule).
_LABELLED_ON = {
    "spinal_canal_stenosis": "Sagittal T2/STIR",
    "left_neural_foraminal_narrowing": "Sagittal T1",
    "right_neural_foraminal_narrowing": "Sagittal T1",
    "left_subarticular_stenosis": "Axial T2",
    "right_subarticular_stenosis": "Axial T2",
}

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
_SIGNAL = {
    "T1": np.array([0, 1000, 330, 420, 720, 120, 260, 300, 280, 150, 360, 140, 560, 150.0]),
    "T2": np.array([0, 640, 230, 380, 420, 80, 320, 1050, 520, 1500, 420, 110, 340, 110.0]),
}
_NOISE_SD = 18.0

_VERTEBRAE = ("T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1")
_FIRST_LABELLED_DISC = 2  # discs: T11/T12, T12/L1, L1/L2 ... L5/S1
_ENTROPY = "eda_helpers.sample"


def level_name(level: str) -> str:
    """A level as the label coordinates spell it.

    Examples
    --------
    >>> level_name("l4_l5")
    'L4/L5'
    """
    return level.upper().replace("_", "/")


def condition_name(condition: str) -> str:
    """A condition as the label coordinates spell it.

    Examples
    --------
    >>> condition_name("left_neural_foraminal_narrowing")
    'Left Neural Foraminal Narrowing'
    """
    return condition.replace("_", " ").title()


# --------------------------------------------------------------------------- RLE


def rle_encode_frame(frame: NDArray[np.uint16]) -> bytes:
    """Encode one 16-bit frame as DICOM RLE Lossless (PS3.5 Annex G), vectorised.

    Gives the same bytes as pydicom's native RLE encoder (``encoding_plugin="pydicom"``),
    which works a byte at a time in Python and takes about ten times longer. The sample
    dataset is thus byte-identical whether or not pylibjpeg is installed.

    Parameters
    ----------
    frame : ndarray of uint16, shape (rows, cols)
        The pixel values, in either byte order.

    Returns
    -------
    bytes
        One RLE frame: the 64-byte header and two segments (high bytes, then low bytes),
        ready for :func:`pydicom.encaps.encapsulate`.

    Raises
    ------
    ValueError
        If ``frame`` is not a 2-D uint16 array.

    Examples
    --------
    >>> import numpy as np
    >>> frame = rle_encode_frame(np.array([[7, 7, 7, 1]], dtype=np.uint16))
    >>> frame[64:]  # high bytes: 4 zeros; low bytes: three 7s, then a literal 1
    b'\\xfd\\x00\\xfe\\x07\\x00\\x01'
    """
    arr = np.asarray(frame)
    if arr.ndim != 2 or arr.dtype.kind != "u" or arr.dtype.itemsize != 2:
        raise ValueError(
            f"frame: expected a 2-D uint16 array, got {arr.ndim}-D {arr.dtype}; "
            f"convert it with arr.astype(np.uint16)"
        )
    le = arr.astype("<u2", copy=False)
    segments = [_rle_segment((le >> 8).astype(np.uint8)), _rle_segment(le.astype(np.uint8))]
    header = np.zeros(16, dtype="<u4")
    header[0] = 2
    header[1] = 64
    header[2] = 64 + len(segments[0])
    return header.tobytes() + segments[0] + segments[1]


def _rle_segment(plane: NDArray[np.uint8]) -> bytes:
    """PackBits of each row of a byte plane, as pydicom's native encoder does it.

    pydicom's rules: a run of 2 or more equal bytes is a replicate run (split in pieces
    of 128; a leftover single byte is a literal run of one); the bytes between runs form
    literal runs of at most 128; every row is encoded on its own; an odd-length segment
    is padded with one zero byte.
    """
    cols = plane.shape[1]
    b = plane.reshape(-1)
    n = b.size
    pos = np.arange(n)
    starts_run = np.ones(n, dtype=bool)
    starts_run[1:] = (b[1:] != b[:-1]) | (pos[1:] % cols == 0)
    run_start = np.flatnonzero(starts_run)
    run_len = np.diff(np.append(run_start, n))

    # Replicate runs, cut into pieces of at most 128 bytes.
    rep_start = run_start[run_len >= 2]
    rep_len = run_len[run_len >= 2]
    n_pieces = (rep_len + 127) // 128
    piece_of = np.repeat(np.arange(rep_len.size), n_pieces)
    k = np.arange(piece_of.size) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    rep_pos = rep_start[piece_of] + 128 * k
    rep_plen = np.minimum(128, rep_len[piece_of] - 128 * k)

    # Literal bytes: the runs of length 1, grouped into spans broken by replicate runs and
    # row ends, then cut into chunks of at most 128.
    single = np.repeat(run_len == 1, run_len)
    lit = np.flatnonzero(single)
    new_span = np.ones(lit.size, dtype=bool)
    new_span[1:] = (lit[1:] != lit[:-1] + 1) | (lit[1:] % cols == 0)
    span_id = np.cumsum(new_span) - 1
    span_first = lit[new_span]
    span_len = np.diff(np.append(np.flatnonzero(new_span), lit.size))
    offset = lit - span_first[span_id]
    new_chunk = offset % 128 == 0
    chunk_pos = lit[new_chunk]
    chunk_len = np.minimum(128, span_len[span_id[new_chunk]] - offset[new_chunk])

    piece_pos = np.concatenate([rep_pos, chunk_pos])
    piece_len = np.concatenate([rep_plen, chunk_len])
    is_lit = np.concatenate([np.zeros(rep_pos.size, bool), np.ones(chunk_pos.size, bool)])
    order = np.argsort(piece_pos, kind="stable")
    piece_pos, piece_len, is_lit = piece_pos[order], piece_len[order], is_lit[order]
    out_len = np.where(is_lit, piece_len + 1, 2)
    out_at = np.cumsum(out_len) - out_len
    total = int(out_len.sum())
    out = np.zeros(total + total % 2, dtype=np.uint8)
    out[out_at] = np.where(is_lit | (piece_len == 1), piece_len - 1, 257 - piece_len).astype(
        np.uint8
    )
    out[out_at[~is_lit] + 1] = b[piece_pos[~is_lit]]
    chunk_id = np.cumsum(new_chunk) - 1
    lit_out_at = out_at[is_lit]
    out[lit_out_at[chunk_id] + 1 + (lit - chunk_pos[chunk_id])] = b[lit]
    return out.tobytes()


# ----------------------------------------------------------------------- phantom


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
    study_id = _check_int("study_id", study_id, 1)
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


# ------------------------------------------------------------------ acquisition


def _ds_str(value: float, decimals: int) -> str:
    """A DS value with at most ``decimals`` decimals, no trailing zeros, no "-0"."""
    text = f"{round(float(value), decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class _Slice:
    position: list[str]  # ImagePositionPatient as written
    orientation: list[str]  # ImageOrientationPatient as written
    stack: int = 0
    instance_number: int = 0

    @property
    def ipp(self) -> NDArray[np.float64]:
        return np.array([float(v) for v in self.position])

    @property
    def iop(self) -> NDArray[np.float64]:
        return np.array([float(v) for v in self.orientation])


@dataclass
class _Series:
    description: str
    series_id: int
    series_number: int
    contrast: str  # "T1" or "T2"
    rows: int
    cols: int
    pixel_spacing: tuple[float, float]
    thickness: float
    step: float
    slices: list[_Slice]  # in geometric order within each stack
    first_instance: int = 1
    reversed_numbering: bool = False

    def number(self) -> None:
        """Assign InstanceNumbers from ``first_instance`` in acquisition order."""
        if self.description == "Axial T2":
            # Stacks from the head down, each stack from head to foot.
            order = sorted(
                range(len(self.slices)),
                key=lambda i: (self.slices[i].stack, -i),
            )
        else:
            order = list(range(len(self.slices)))
            if self.reversed_numbering:
                order.reverse()
        for n, i in enumerate(order):
            self.slices[i].instance_number = self.first_instance + n


def _plane(
    centre: NDArray, row: NDArray, col: NDArray, rows: int, cols: int, spacing: tuple
) -> tuple[list[str], list[str]]:
    """Tags of a slice whose image centre is at ``centre``."""
    dr, dc = spacing
    ipp = centre - (cols - 1) / 2 * dc * row - (rows - 1) / 2 * dr * col
    return [_ds_str(v, 4) for v in ipp], [_ds_str(v, 6) for v in np.r_[row, col]]


def _plan_sagittal(
    phantom: _Phantom, rng: np.random.Generator, description: str, series_id: int, number: int
) -> _Series:
    rows, cols, ps = [(384, 384, 0.6875), (320, 320, 0.75), (384, 320, 0.6875)][
        int(rng.integers(3))
    ]
    step = float(rng.choice([3.3, 3.6, 4.0]))
    thickness = round(step - float(rng.choice([0.0, 0.3])), 1)
    n = int(rng.integers(15, 18))
    tilt = _rotation(0.0, *np.deg2rad(rng.uniform(-3, 3, 2)))
    row = tilt @ np.array([0.0, 1.0, 0.0])  # anterior -> posterior
    col = tilt @ np.array([0.0, 0.0, -1.0])  # head -> foot
    normal = np.cross(row, col)  # about -x: towards the patient's right
    s_mid = (phantom.s_disc[2] + phantom.s_disc[-1]) / 2
    centre = phantom.to_patient(rng.uniform(-1.5, 1.5), 15 + rng.uniform(-5, 5), s_mid)
    centre = centre + rng.uniform(-5, 5) * col
    frac = rng.uniform(-0.3, 0.3)
    slices = []
    for k in range(n):
        c = centre + (k - (n - 1) / 2 + frac) * step * normal
        slices.append(_Slice(*_plane(c, row, col, rows, cols, (ps, ps))))
    contrast = "T1" if description == "Sagittal T1" else "T2"
    return _Series(description, series_id, number, contrast, rows, cols, (ps, ps),
                   thickness, step, slices)  # fmt: skip


def _plan_axial(
    phantom: _Phantom, rng: np.random.Generator, series_id: int, number: int
) -> _Series:
    rows, cols, ps = [(256, 256, 0.703125), (320, 320, 0.5625), (320, 320, 0.625)][
        int(rng.integers(3))
    ]
    step = 4.0
    thickness = float(rng.choice([3.5, 4.0]))
    # Consecutive discs grouped into 2 or 3 stacks, each angled to its discs.
    partitions = [(2, 3), (3, 2), (1, 2, 2), (2, 1, 2), (2, 2, 1), (1, 1, 3), (3, 1, 1)]
    sizes = partitions[int(rng.integers(len(partitions)))]
    slices: list[_Slice] = []
    first = 0
    for stack, size in enumerate(sizes):
        discs = range(_FIRST_LABELLED_DISC + first, _FIRST_LABELLED_DISC + first + size)
        first += size
        s_discs = [float(phantom.s_disc[d]) for d in discs]
        normal = np.mean([phantom.axis(s) for s in s_discs], axis=0)
        normal /= np.linalg.norm(normal)
        lateral = phantom.rotation[:, 0]
        row = lateral - (lateral @ normal) * normal
        row /= np.linalg.norm(row)
        col = np.cross(normal, row)  # anterior -> posterior
        centres = [phantom.to_patient(0.0, 0.0, s) for s in s_discs]
        offsets = [float(c @ normal) for c in centres]
        lo, hi = min(offsets) - 8, max(offsets) + 8
        n = round((hi - lo) / step) + 1
        mid = (lo + hi) / 2 + rng.uniform(-1, 1)
        fov = phantom.to_patient(rng.uniform(-3, 3), 18 + rng.uniform(-4, 4), np.mean(s_discs))
        for k in range(n):
            o = mid + (k - (n - 1) / 2) * step
            c = fov + (o - fov @ normal) * normal
            slices.append(_Slice(*_plane(c, row, col, rows, cols, (ps, ps)), stack=stack))
    return _Series("Axial T2", series_id, number, "T2", rows, cols, (ps, ps), thickness,
                   step, slices)  # fmt: skip


@dataclass
class _Study:
    study_id: int
    severities: dict[str, list[str]]
    phantom: _Phantom
    series: list[_Series]


def _plan_study(study_id: int, series_ids: Sequence[int]) -> _Study:
    severities = _draw_severities(study_id)
    phantom = _make_phantom(study_id, severities)
    rng = _study_rng(study_id, 3)
    numbers = sorted(int(v) for v in rng.choice(np.arange(1, 13), 3, replace=False))
    series = [
        _plan_sagittal(phantom, rng, "Sagittal T1", series_ids[0], numbers[0]),
        _plan_sagittal(phantom, rng, "Sagittal T2/STIR", series_ids[1], numbers[1]),
        _plan_axial(phantom, rng, series_ids[2], numbers[2]),
    ]
    for s in series:
        if rng.random() < 0.25:
            s.first_instance = int(rng.integers(2, 20))
        if s.description != "Axial T2":
            s.reversed_numbering = bool(rng.random() < 0.35)
    return _Study(study_id, severities, phantom, series)


def _has_severe_canal(study_id: int) -> bool:
    return "Severe" in _draw_severities(study_id)["spinal_canal_stenosis"]


def _plan_dataset(n_studies: int, seed: int) -> list[_Study]:
    rng = np.random.default_rng([seed, 20240508])
    ids = np.unique(rng.integers(4_000_000, 4_290_000_000, size=4 * n_studies))
    study_ids = [int(v) for v in rng.permutation(ids)[:n_studies]]
    # Every dataset shows a severe spinal canal stenosis (about 1 study in 5 has one): the
    # last study is swapped for the next id drawn that has one. A study's content depends
    # on its id alone, so this choice of ids leaves sample_landmarks() right.
    if not any(_has_severe_canal(v) for v in study_ids):
        while True:
            candidate = int(rng.integers(4_000_000, 4_290_000_000))
            if candidate not in study_ids and _has_severe_canal(candidate):
                study_ids[-1] = candidate
                break
    study_ids.sort()
    series_ids = rng.permutation(
        np.unique(rng.integers(1_000_000, 4_290_000_000, size=6 * n_studies))
    )[: 3 * n_studies]
    studies = [
        _plan_study(sid, [int(v) for v in series_ids[3 * i : 3 * i + 3]])
        for i, sid in enumerate(study_ids)
    ]
    # Every dataset shows every quirk at least once, whatever its size and seed.
    all_series = [s for st in studies for s in st.series]
    if all(s.first_instance == 1 for s in all_series):
        all_series[int(rng.integers(len(all_series)))].first_instance = int(rng.integers(2, 20))
    sagittal = [s for s in all_series if s.description != "Axial T2"]
    flags = [s.reversed_numbering for s in sagittal]
    if not any(flags) or all(flags):
        sagittal[int(rng.integers(len(sagittal)))].reversed_numbering = not flags[0]
        if all(s.reversed_numbering == flags[0] for s in sagittal):  # pragma: no cover
            sagittal[0].reversed_numbering = not flags[0]
    for s in all_series:
        s.number()
    return studies


# ---------------------------------------------------------------------- rendering


def _render(phantom: _Phantom, series: _Series, sl: _Slice, rng: np.random.Generator) -> NDArray:
    rows, cols = series.rows, series.cols
    dr, dc = series.pixel_spacing
    iop = sl.iop
    # The slice is a plane, so its local coordinates are sums of a row and a column term.
    origin = phantom.to_local(sl.ipp)[0]
    along_row = phantom.rotation.T @ iop[:3] * dc
    along_col = phantom.rotation.T @ iop[3:] * dr
    r = np.arange(rows, dtype=np.float32)[:, None]
    c = np.arange(cols, dtype=np.float32)[None, :]
    x, y, z = (
        (
            np.float32(origin[i]) + c * np.float32(along_row[i]) + r * np.float32(along_col[i])
        ).reshape(-1)
        for i in range(3)
    )
    tissue, t = phantom.tissue_local(x, y, z)
    img = _SIGNAL[series.contrast][tissue.reshape(rows, cols)].astype(np.float32)
    # A little partial volume: a [1, 2, 1] blur along rows and columns.
    p = np.pad(img, 1, mode="edge")
    img = (p[:-2, 1:-1] + 2 * p[1:-1, 1:-1] + p[2:, 1:-1]) / 4
    p = np.pad(img, 1, mode="edge")
    img = (p[1:-1, :-2] + 2 * p[1:-1, 1:-1] + p[1:-1, 2:]) / 4
    # The spine coil lies under the patient's back: posterior tissue is brighter.
    img = img * (0.85 + 0.3 / (1 + np.exp(-(t.reshape(rows, cols) - 20) / 40)))
    # Magnitude images: Rician noise.
    noise = rng.normal(0, _NOISE_SD, (2, rows, cols)).astype(np.float32)
    return np.clip(np.rint(np.hypot(img + noise[0], noise[1])), 0, 4095).astype(np.uint16)


# ------------------------------------------------------------------------ writing


def _uid(*parts: object) -> str:
    return generate_uid(entropy_srcs=[_ENTROPY, *map(str, parts)])


def _dataset(study: _Study, series: _Series, sl: _Slice, window: tuple[int, int]) -> Dataset:
    sop_uid = _uid("sop", study.study_id, series.series_id, sl.instance_number)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = RLELossless
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ""
    ds.StudyTime = ""
    ds.AccessionNumber = ""
    ds.Modality = "MR"
    ds.Manufacturer = "eda_helpers synthetic phantom"
    ds.ReferringPhysicianName = ""
    ds.SeriesDescription = series.description
    ds.PatientName = ""
    ds.PatientID = str(study.study_id)
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.BodyPartExamined = "LSPINE"
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = "SK"
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "2D"
    ds.SliceThickness = _ds_str(series.thickness, 3)
    ds.RepetitionTime = "600" if series.contrast == "T1" else "3500"
    ds.EchoTime = "10" if series.contrast == "T1" else "100"
    ds.EchoTrainLength = 3 if series.contrast == "T1" else 17
    ds.MagneticFieldStrength = "1.5"
    ds.SpacingBetweenSlices = _ds_str(series.step, 3)
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = _uid("study", study.study_id)
    ds.SeriesInstanceUID = _uid("series", study.study_id, series.series_id)
    ds.StudyID = ""
    ds.SeriesNumber = series.series_number
    ds.InstanceNumber = sl.instance_number
    ds.ImagePositionPatient = sl.position
    ds.ImageOrientationPatient = sl.orientation
    ds.FrameOfReferenceUID = _uid("frame of reference", study.study_id)
    ds.PositionReferenceIndicator = ""
    centre = sl.ipp + (series.cols - 1) / 2 * series.pixel_spacing[1] * sl.iop[:3]
    centre = centre + (series.rows - 1) / 2 * series.pixel_spacing[0] * sl.iop[3:]
    ds.SliceLocation = _ds_str(centre @ slice_normal(sl.iop), 4)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = series.rows
    ds.Columns = series.cols
    ds.PixelSpacing = [_ds_str(v, 6) for v in series.pixel_spacing]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = str(window[0])
    ds.WindowWidth = str(window[1])
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    return ds


def _write_series(study: _Study, series: _Series, folder: Path) -> None:
    rng = _study_rng(study.study_id, 10 + SERIES_DESCRIPTIONS.index(series.description))
    images = [_render(study.phantom, series, sl, rng) for sl in series.slices]
    mid = images[len(images) // 2]
    lo, hi = np.percentile(mid, [1, 99.5])
    window = (round((lo + hi) / 2), max(1, round(hi - lo)))
    folder.mkdir(parents=True)
    for sl, img in zip(series.slices, images, strict=True):
        ds = _dataset(study, series, sl, window)
        ds.PixelData = encapsulate([rle_encode_frame(img)])
        elem = ds["PixelData"]
        elem.VR = "OB"
        elem.is_undefined_length = True
        ds.save_as(folder / f"{sl.instance_number}.dcm", enforce_file_format=True)


def _label_rows(study: _Study) -> list[list[object]]:
    """Label coordinates: each landmark projected into the slice nearest to it."""
    by_desc = {s.description: s for s in study.series}
    rows = []
    for condition in CONDITIONS:
        series = by_desc[_LABELLED_ON[condition]]
        for i, level in enumerate(LEVELS):
            point = study.phantom.landmark(condition, i)
            best = (np.inf, 0, 0.0, 0.0)
            for sl in series.slices:
                x, y, dist = patient_to_pixel(point, sl.ipp, sl.iop, series.pixel_spacing)[0]
                if abs(dist) < best[0]:
                    best = (abs(dist), sl.instance_number, x, y)
            _, instance, x, y = best
            rows.append([
                study.study_id, series.series_id, instance,
                condition_name(condition), level_name(level),
                round(float(x), 6), round(float(y), 6),
            ])  # fmt: skip
    return rows


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


_OUTPUTS = (
    "train_images",
    "train_series_descriptions.csv",
    "train.csv",
    "train_label_coordinates.csv",
)


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{name}: expected an int, got {type(value).__name__} {value!r}; pass a whole "
            f"number such as {minimum}"
        )
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    return int(value)


def make_sample_dataset(
    root: str | os.PathLike[str],
    *,
    n_studies: int = 3,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = False,
) -> Path:
    """Write a small synthetic dataset in the layout of the competition.

    Writes into ``root``::

        train_images/<study_id>/<series_id>/<instance_number>.dcm
        train_series_descriptions.csv   study_id, series_id, series_description
        train.csv                       study_id + 25 <condition>_<level> columns
        train_label_coordinates.csv     study_id, series_id, instance_number,
                                        condition, level, x, y

    Each study has a "Sagittal T1" (foraminal labels), a "Sagittal T2/STIR" (spinal
    canal labels) and an "Axial T2" series (subarticular labels) of a synthetic lumbar
    spine; the files are 12-bit MONOCHROME2 MR images stored as RLE Lossless. The
    quirks of the real data are there on purpose; see the module's docstring. The
    output depends only on ``n_studies`` and ``seed``: two runs give identical bytes
    with the same numpy and pydicom. (numpy keeps the streams of ``Generator`` methods fixed only
    within one version; the tests pin the digests of the CSV files of ``seed=0``, so
    that a numpy whose streams differ is noticed and :data:`SAMPLE_FORMAT` raised.)

    The files are written into a hidden temporary folder inside ``root`` and moved
    into place at the end, the CSV files last, so a run cut short leaves no dataset that
    looks complete (at worst a hidden ``.sample-*`` folder to delete).

    Parameters
    ----------
    root : path-like
        Folder to write into; created if missing.
    n_studies : int, default 3
        Number of studies (at least 1). Three take a few seconds.
    seed : int, default 0
        Seed (at least 0) of the study and series ids, the anatomy, the labels and the
        noise.
    overwrite : bool, default False
        Replace an existing ``train_images/`` and CSV files in ``root``. Without it,
        finding any of them is an error.
    progress : bool, default False
        Show a progress bar (``tqdm.auto``) over the studies.

    Returns
    -------
    Path
        ``root``.

    Raises
    ------
    TypeError
        If ``n_studies`` or ``seed`` is not an integer.
    ValueError
        If ``n_studies < 1`` or ``seed < 0``.
    FileExistsError
        If ``root`` holds a non-empty ``train_images/`` or one of the CSV files and
        ``overwrite`` is False, or if ``root`` is a file.

    See Also
    --------
    sample_landmarks : the true 3-D positions of the discs and labelled points.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1, seed=0)
    ...     sorted(p.name for p in root.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['train.csv', 'train_images', 'train_label_coordinates.csv',
     'train_series_descriptions.csv']
    """
    n_studies = _check_int("n_studies", n_studies, 1)
    seed = _check_int("seed", seed, 0)
    root = Path(root).expanduser()
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"root: {root} is a file, not a folder; pass a folder path")
    root.mkdir(parents=True, exist_ok=True)
    images = root / "train_images"
    found = [
        name
        for name in _OUTPUTS
        if (root / name).exists()
        and not (name == "train_images" and images.is_dir() and not any(images.iterdir()))
    ]
    if found and not overwrite:
        raise FileExistsError(
            f"root: {root} already holds {', '.join(found)}; refusing to write the sample "
            f"dataset over it. Pass overwrite=True (--overwrite on the command line) to "
            f"replace them, or choose an empty folder."
        )

    studies = _plan_dataset(n_studies, seed)
    tmp = Path(tempfile.mkdtemp(prefix=".sample-", dir=root))
    try:
        iterator = studies
        if progress:
            from tqdm.auto import tqdm

            iterator = tqdm(studies, desc="sample studies", unit="study")
        for study in iterator:
            for series in study.series:
                folder = tmp / "train_images" / str(study.study_id) / str(series.series_id)
                _write_series(study, series, folder)
        _write_csv(
            tmp / "train_series_descriptions.csv",
            ["study_id", "series_id", "series_description"],
            [[st.study_id, s.series_id, s.description] for st in studies for s in st.series],
        )
        _write_csv(
            tmp / "train.csv",
            ["study_id"] + [f"{c}_{lv}" for c in CONDITIONS for lv in LEVELS],
            [[st.study_id] + [v for c in CONDITIONS for v in st.severities[c]] for st in studies],
        )
        _write_csv(
            tmp / "train_label_coordinates.csv",
            ["study_id", "series_id", "instance_number", "condition", "level", "x", "y"],
            [row for st in studies for row in _label_rows(st)],
        )
        # Swap in: the old images aside, the new ones in place, the CSV files last.
        if images.exists() or images.is_symlink():
            os.replace(images, tmp / "old_train_images")
        os.replace(tmp / "train_images", images)
        for name in _OUTPUTS[1:]:
            os.replace(tmp / name, root / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
