"""read_series / read_stacks: real scanner files and small files written here."""

from __future__ import annotations

import re
import shutil
import struct
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
import torch
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_fragmented_frames
from pydicom.multival import MultiValue
from pydicom.pixels import apply_modality_lut, get_decoder
from pydicom.sequence import Sequence as PydicomSequence
from pydicom.uid import (
    BasicTextSRStorage,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGLSLossless,
    MRImageStorage,
    RLELossless,
    generate_uid,
)

from eda_helpers import SeriesError, Volume, read_series, read_stacks
from eda_helpers.io import read_headers

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SERIES = "1.2.826.0.1.3680043.8.498.1"
STUDY = "1.2.826.0.1.3680043.8.498.2"


# --------------------------------------------------------------------------- helpers


def make_mr(
    path: Path,
    pixels: np.ndarray,
    *,
    instance: int | None = 1,
    position: tuple[float, float, float] | None = (0.0, 0.0, 0.0),
    orientation: tuple[float, ...] | None = AXIAL,
    pixel_spacing: tuple[float, float] = (0.5, 0.5),
    series_uid: str = SERIES,
    description: str = "Axial T2",
    bits_stored: int = 12,
    photometric: str = "MONOCHROME2",
    transfer_syntax: str = ExplicitVRLittleEndian,
    **tags: object,
) -> Path:
    """Write a minimal valid single-frame MR file (file meta, geometry, pixel data)."""
    pixels = np.asarray(pixels)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = (
        ExplicitVRLittleEndian if transfer_syntax == RLELossless else transfer_syntax
    )
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = STUDY
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "MR"
    ds.SeriesDescription = description
    if instance is not None:
        ds.InstanceNumber = instance
    if position is not None:
        ds.ImagePositionPatient = list(position)
    if orientation is not None:
        ds.ImageOrientationPatient = list(orientation)
    ds.PixelSpacing = list(pixel_spacing)
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 * pixels.dtype.itemsize
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = int(pixels.dtype.kind == "i")
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    ds.PixelData = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
    if transfer_syntax == RLELossless:
        ds.compress(RLELossless, pixels)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_stack(
    folder: Path,
    rng: np.random.Generator,
    offsets: list[float],
    *,
    orientation: tuple[float, ...] = AXIAL,
    instances: list[int] | None = None,
    names: list[str] | None = None,
    shape: tuple[int, int] = (8, 6),
    origin: tuple[float, float, float] = (-10.0, -20.0, 0.0),
    **kwargs: object,
) -> list[np.ndarray]:
    """Slices at ``origin + offset * normal``; returns the pixels in the order given."""
    normal = np.cross(orientation[:3], orientation[3:])
    instances = instances or list(range(1, len(offsets) + 1))
    names = names or [f"{i}.dcm" for i in instances]
    images = []
    for off, inst, name in zip(offsets, instances, names, strict=True):
        img = rng.integers(0, 4096, shape, dtype=np.uint16)
        pos = tuple(float(v) for v in np.round(np.add(origin, off * normal), 4))
        make_mr(folder / name, img, instance=inst, position=pos, orientation=orientation, **kwargs)
        images.append(img)
    return images


def tilted(degrees: float) -> tuple[float, ...]:
    """Axial orientation tilted about the x axis (as the RSNA per-disc stacks are)."""
    a = np.deg2rad(degrees)
    return (1.0, 0.0, 0.0, 0.0, round(float(np.cos(a)), 6), round(float(np.sin(a)), 6))


# --------------------------------------------------------------------------- real files


def _tags(folder: Path) -> list[Dataset]:
    return [pydicom.dcmread(f) for f in sorted(folder.iterdir())]


def test_real_ct_series_in_geometric_order(dicomdir_tests):
    folder = dicomdir_tests / "98892001" / "CT5N"
    vol = read_series(folder)

    # Independently: normal from the cosines, sort by position along it.
    dss = _tags(folder)
    iop = np.array(dss[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    dss.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, dtype=float), normal)))
    assert vol.instance_numbers == tuple(int(d.InstanceNumber) for d in dss)
    assert vol.instance_numbers == (10, 9, 8, 7, 6)  # InstanceNumber runs head to feet
    assert [f.name for f in vol.files] == [Path(d.filename).name for d in dss]

    z = [float(d.ImagePositionPatient[2]) for d in dss]
    assert vol.spacing == pytest.approx((2.5, *map(float, dss[0].PixelSpacing)))
    assert np.all(np.diff(z) == pytest.approx(2.5))
    expected = np.stack(
        [d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in dss]
    )
    np.testing.assert_array_equal(vol.pixels.numpy(), expected)
    assert vol.modality == "CT" and vol.series_uid == dss[0].SeriesInstanceUID
    assert vol.dicom_window == (float(dss[0].WindowCenter), float(dss[0].WindowWidth))

    # Affine: voxel (k, r, c) -> IPP_k + r * dr * column cosine + c * dc * row cosine.
    dr, dc = map(float, dss[0].PixelSpacing)
    for k, d in enumerate(dss):
        for r, c in [(0, 0), (3, 7), (15, 15)]:
            mm = np.array(d.ImagePositionPatient, dtype=float) + r * dr * iop[3:] + c * dc * iop[:3]
            np.testing.assert_allclose(vol.affine @ [k, r, c, 1], [*mm, 1], atol=1e-4)


def test_real_ct_series_with_a_gap_warns_and_keeps_order(dicomdir_tests):
    folder = dicomdir_tests / "77654033" / "CT2"
    with pytest.warns(
        UserWarning,
        match=r"irregular slice spacing: the median step is 1\.25 mm but there are "
        r"202\.5 mm between instance 18 and instance 180",
    ) as record:
        vol = read_series(folder)
    assert record[0].filename == __file__  # stacklevel points at the caller
    assert vol.instance_numbers == (18, 180, 181, 182)
    z = vol.positions[:, 2]
    assert np.all(np.diff(z) > 0)
    assert vol.spacing[0] == pytest.approx((z[-1] - z[0]) / 3)
    np.testing.assert_allclose(vol.affine[:3, 0], (vol.positions[-1] - vol.positions[0]) / 3)
    assert any("irregular" in n for n in vol.notes)


def test_real_mr_radial_scan_is_seven_stacks(dicomdir_tests):
    folder = dicomdir_tests / "98892003" / "MR700"
    with pytest.raises(SeriesError, match=r"holds 7 stacks .*use read_stacks\(\)"):
        read_series(folder)
    stacks = read_stacks(folder)
    assert [v.instance_numbers for v in stacks] == [(i,) for i in range(1, 8)]
    for vol in stacks:
        ds = pydicom.dcmread(vol.files[0])
        assert vol.shape == (1, ds.Rows, ds.Columns)
        assert vol.spacing[0] == pytest.approx(float(ds.SliceThickness))
        iop = np.array(ds.ImageOrientationPatient, dtype=float)
        normal = np.cross(iop[:3], iop[3:])
        np.testing.assert_allclose(
            vol.affine[:3, 0], normal / np.linalg.norm(normal) * float(ds.SliceThickness)
        )
        np.testing.assert_allclose(vol.affine[:3, 3], np.array(ds.ImagePositionPatient, float))
        assert vol.pixels.dtype == torch.int16
        np.testing.assert_array_equal(vol.pixels[0].numpy(), ds.pixel_array)


def test_real_mr_folder_with_several_series(dicomdir_tests):
    folder = dicomdir_tests / "98892003" / "MR2"
    with pytest.raises(
        SeriesError,
        match=r"holds 3 series: .*18148\.0\.136 'T/S/C RF FAST PILOT' \(3 files\).*"
        r"pass series_uid= to pick one",
    ):
        read_series(folder)
    uid = "1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.136"
    stacks = read_stacks(folder, series_uid=uid)  # a 3-plane localizer
    assert len(stacks) == 3
    assert {v.series_uid for v in stacks} == {uid}
    assert [v.instance_numbers for v in stacks] == [(1,), (2,), (3,)]
    with pytest.raises(SeriesError, match=r"series_uid='9\.9' is not in .*MR2, which holds"):
        read_stacks(folder, series_uid="9.9")


def test_real_folder_of_dicomdirs_only(dicomdir_tests):
    with (
        pytest.warns(UserWarning, match=r"skipped 8 file\(s\).*DICOMDIR \(DICOMDIR\).*README"),
        pytest.raises(SeriesError, match=r"no DICOM image found among 8 file.*recursive=True"),
    ):
        read_series(dicomdir_tests)


# --------------------------------------------------------------------------- finding files


def test_order_ignores_file_names_and_instance_numbers(tmp_path, rng):
    offsets = [9.0, 0.0, 15.0, 3.0, 12.0, 6.0]
    names = ["zz", "img_b.dcm", "0001", "a", "IM000010", "x.y"]
    instances = [3, 6, 1, 5, 2, 4]  # InstanceNumber runs against the position
    images = write_stack(tmp_path, rng, offsets, instances=instances, names=names)
    vol = read_series(tmp_path)
    order = np.argsort(offsets)
    assert vol.instance_numbers == (6, 5, 4, 3, 2, 1)
    assert [f.name for f in vol.files] == [names[i] for i in order]
    np.testing.assert_array_equal(vol.pixels.numpy(), np.stack([images[i] for i in order]))
    np.testing.assert_allclose(vol.positions[:, 2], np.sort(offsets))
    assert vol.spacing == (3.0, 0.5, 0.5)
    np.testing.assert_allclose(vol.affine[:3, 0], [0, 0, 3])
    np.testing.assert_allclose(vol.affine[:3, 3], [-10, -20, 0])
    assert isinstance(vol, Volume) and vol.notes == ()


def test_sagittal_sorted_along_the_normal(tmp_path, rng):
    # Row cosine +y, column cosine -z: the normal is -x (patient left to right).
    sagittal = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    write_stack(tmp_path, rng, [0.0, 4.0, 8.0], orientation=sagittal, instances=[2, 3, 1])
    vol = read_series(tmp_path)
    assert vol.instance_numbers == (2, 3, 1)
    np.testing.assert_allclose(vol.positions[:, 0], [-10.0, -14.0, -18.0])
    np.testing.assert_allclose(vol.affine[:3, 0], [-4.0, 0, 0])


def test_stray_files_are_skipped_with_one_warning(tmp_path, rng, dicomdir_tests):
    images = write_stack(tmp_path, rng, [0.0, 3.0])
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01" * 50)
    shutil.copy(dicomdir_tests / "DICOMDIR", tmp_path / "DICOMDIR")
    report = Dataset()
    report.file_meta = FileMetaDataset()
    report.file_meta.MediaStorageSOPClassUID = BasicTextSRStorage
    report.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    report.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    report.SOPClassUID = BasicTextSRStorage
    report.SeriesInstanceUID = SERIES
    report.save_as(tmp_path / "report.dcm", enforce_file_format=True)
    (tmp_path / "sub").mkdir()
    make_mr(tmp_path / "sub" / "other.dcm", images[0], instance=3, position=(-10, -20, 6.0))

    with pytest.warns(UserWarning, match="skipped 4 file") as record:
        vol = read_series(tmp_path)
    assert len(record) == 1
    message = str(record[0].message)
    for part in (".DS_Store (not DICOM)", "DICOMDIR (DICOMDIR)", "notes.txt (not DICOM)"):
        assert part in message
    assert "report.dcm (no pixel data)" in message
    assert vol.shape == (2, 8, 6)  # the subfolder is not searched

    with pytest.warns(UserWarning, match="skipped 4 file"):
        deep = read_series(tmp_path, recursive=True)
    assert deep.files[-1].name == "other.dcm" and len(deep) == 3


def test_truncated_pixel_data_names_the_file(tmp_path, rng):
    write_stack(tmp_path, rng, [0.0, 3.0, 6.0])
    data = (tmp_path / "2.dcm").read_bytes()
    (tmp_path / "2.dcm").write_bytes(data[:-40])
    with pytest.raises(SeriesError, match=r"2\.dcm: the pixel data is truncated: 8x6 pixels"):
        read_series(tmp_path, on_damaged="error")
    with pytest.warns(UserWarning, match=r"skipped 1 damaged file\(s\): 2\.dcm \(the pixel"):
        vol = read_series(tmp_path)
    assert vol.instance_numbers == (1, 3)
    assert any(n.startswith("damaged file skipped: 2.dcm (the pixel data") for n in vol.notes)


def test_truncated_header_names_the_file(tmp_path, rng):
    write_stack(tmp_path, rng, [0.0, 3.0])
    data = (tmp_path / "1.dcm").read_bytes()
    (tmp_path / "1.dcm").write_bytes(data[:400])
    with pytest.raises(SeriesError, match=r"1\.dcm: the DICOM file ends before its pixel data"):
        read_series(tmp_path, on_damaged="error")


def test_truncated_rle_file_names_the_file(tmp_path, rng):
    write_stack(tmp_path, rng, [0.0, 3.0], transfer_syntax=RLELossless, shape=(16, 16))
    data = (tmp_path / "2.dcm").read_bytes()
    (tmp_path / "2.dcm").write_bytes(data[:-60])
    for plugin in ("auto", "pydicom"):
        with pytest.raises(SeriesError, match=r"2\.dcm: cannot decode its RLE Lossless"):
            read_series(tmp_path, decoding_plugin=plugin, on_damaged="error")
    with pytest.warns(UserWarning, match=r"2\.dcm \(cannot decode .*decoding_plugin='pydicom'"):
        vol = read_series(tmp_path)
    assert vol.instance_numbers == (1,)


def test_empty_and_missing_paths(tmp_path):
    with pytest.raises(SeriesError, match=r"holds no files .*recursive=True"):
        read_series(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"path: '.*nowhere' does not exist"):
        read_series(tmp_path / "nowhere")
    with pytest.raises(SeriesError, match="the list of files is empty"):
        read_series([])
    with pytest.raises(FileNotFoundError, match=r"ghost\.dcm' does not exist; the list must"):
        read_series([tmp_path / "ghost.dcm"])
    with pytest.raises(FileNotFoundError, match="is a folder; the list must hold files"):
        read_series([tmp_path])
    (tmp_path / "a.txt").write_text("hello")
    with (
        pytest.warns(UserWarning, match=r"skipped 1 file\(s\).*a\.txt \(not DICOM\)"),
        pytest.raises(SeriesError, match="no DICOM image found among 1 file"),
    ):
        read_series(tmp_path)


def test_list_of_files(tmp_path, rng):
    images = write_stack(tmp_path, rng, [0.0, 3.0, 6.0, 9.0])
    picked = [tmp_path / "4.dcm", str(tmp_path / "2.dcm"), tmp_path / "3.dcm"]
    vol = read_series(picked)
    assert vol.instance_numbers == (2, 3, 4)
    np.testing.assert_array_equal(vol.pixels.numpy(), np.stack(images[1:]))
    single = read_series(tmp_path / "3.dcm")  # one file path works too
    assert single.instance_numbers == (3,)


# --------------------------------------------------------------------------- grouping


def test_two_series_error_and_pick(tmp_path, rng):
    t2 = write_stack(tmp_path, rng, [0.0, 3.0, 6.0])
    write_stack(
        tmp_path,
        rng,
        [0.0, 3.0],
        names=["s1.dcm", "s2.dcm"],
        series_uid="1.2.3.4",
        description="Sagittal T1",
    )
    with pytest.raises(
        SeriesError,
        match=r"holds 2 series: 1\.2\.3\.4 'Sagittal T1' \(2 files\); "
        rf"{SERIES} 'Axial T2' \(3 files\); pass series_uid= to pick one",
    ):
        read_series(tmp_path)
    vol = read_series(tmp_path, series_uid=SERIES)
    np.testing.assert_array_equal(vol.pixels.numpy(), np.stack(t2))
    assert read_series(tmp_path, series_uid="1.2.3.4").description == "Sagittal T1"


def test_multi_stack_axial_series(tmp_path, rng):
    # Three angled stacks of 5 slices under one SeriesInstanceUID, as in RSNA Axial T2.
    angles, origins = (-12.0, 0.0, 15.0), ((-10.0, -20.0, -40.0), (-10, -20, 0), (-10, -20, 35))
    for s, (angle, origin) in enumerate(zip(angles, origins, strict=True)):
        instances = [5 * s + i for i in (5, 4, 3, 2, 1)]  # acquired head to feet
        write_stack(
            tmp_path, rng, [0, 4, 8, 12, 16], orientation=tilted(angle), origin=origin,
            instances=instances,
        )  # fmt: skip
    with pytest.raises(
        SeriesError,
        match=r"holds 3 stacks with different orientation, slice size, pixel spacing or line of "
        r"positions \(5 slices of 8x6, instances 1-5; 5 slices of 8x6, instances 6-10; .*"
        r"use read_stacks\(\)",
    ):
        read_series(tmp_path)
    stacks = read_stacks(tmp_path)
    assert [v.instance_numbers for v in stacks] == [
        (5, 4, 3, 2, 1),
        (10, 9, 8, 7, 6),
        (15, 14, 13, 12, 11),
    ]
    for vol, angle in zip(stacks, angles, strict=True):
        np.testing.assert_allclose(vol.orientation, tilted(angle))
        assert vol.spacing[0] == pytest.approx(4.0, rel=1e-4)  # cosines rounded to 1e-6


def test_slices_off_the_line_of_their_stack_are_stacks_of_their_own(tmp_path, rng):
    """Same orientation, positions not on one line: two parallel stacks shifted within
    their plane, or one slice out of place. One affine cannot place them all."""
    parallel = tmp_path / "parallel"
    write_stack(parallel, rng, [0, 4, 8], origin=(-10.0, -20.0, 0.0))
    write_stack(parallel, rng, [2, 6, 10], origin=(25.0, -20.0, 0.0), instances=[4, 5, 6])
    stacks = read_stacks(parallel)
    assert [v.instance_numbers for v in stacks] == [(1, 2, 3), (4, 5, 6)]
    for v, x in zip(stacks, (-10.0, 25.0), strict=True):
        np.testing.assert_allclose(v.world([[2, 0, 0]])[0], [x, -20.0, 8.0 if x < 0 else 10.0])
    with pytest.raises(SeriesError, match=r"holds 2 stacks .* line of positions \(3 slices"):
        read_series(parallel)

    shifted = tmp_path / "shifted"
    write_stack(shifted, rng, [0, 3, 6, 9, 12])
    make_mr(
        shifted / "3.dcm",  # slice 3 moved 0.3 mm within its plane
        rng.integers(0, 4096, (8, 6), dtype=np.uint16),
        instance=3,
        position=(-9.7, -20.0, 6.0),
    )
    with pytest.warns(UserWarning, match=r"6 mm between instance 2 and instance 4"):
        stacks = read_stacks(shifted)  # the gap it leaves in the others is said
    assert [v.instance_numbers for v in stacks] == [(1, 2, 4, 5), (3,)]
    np.testing.assert_allclose(stacks[1].positions, [[-9.7, -20.0, 6.0]])

    # A tilted acquisition: positions on an oblique line, one stack.
    tilt = tmp_path / "tilt"
    for k in range(5):
        make_mr(
            tilt / f"{k}.dcm",
            rng.integers(0, 4096, (8, 6), dtype=np.uint16),
            instance=k + 1,
            position=(-10.0, -20.0 + 1.5 * k, 3.0 * k),
        )
    vol = read_series(tilt)
    np.testing.assert_allclose(vol.world([[4, 0, 0]])[0], [-10.0, -14.0, 12.0])


def test_mixed_slice_sizes_are_separate_stacks(tmp_path, rng):
    # Same field of view (4 mm x 3 mm), two matrices.
    write_stack(tmp_path, rng, [0.0, 3.0, 6.0], shape=(8, 6), pixel_spacing=(0.5, 0.5))
    write_stack(
        tmp_path, rng, [1.5, 4.5], shape=(4, 3), pixel_spacing=(1.0, 1.0),
        instances=[10, 11],
    )  # fmt: skip
    with pytest.raises(SeriesError, match=r"holds 2 stacks .*3 slices of 8x6.*2 slices of 4x3"):
        read_series(tmp_path)
    big, small = read_stacks(tmp_path)
    assert big.shape == (3, 8, 6) and big.spacing == (3.0, 0.5, 0.5)
    assert small.shape == (2, 4, 3) and small.spacing == (3.0, 1.0, 1.0)


def test_stacks_with_the_same_lowest_instance_come_in_the_order_of_their_files(tmp_path, rng):
    write_stack(tmp_path, rng, [0.0, 3.0], shape=(8, 6), names=["b1.dcm", "b2.dcm"])
    write_stack(tmp_path, rng, [1.5, 4.5], shape=(4, 3), names=["a1.dcm", "a2.dcm"])
    first, second = read_stacks(tmp_path)
    assert (first.shape, second.shape) == ((2, 4, 3), (2, 8, 6))
    assert [f.name for f in first.files] == ["a1.dcm", "a2.dcm"]


def test_a_stack_is_grouped_against_its_first_slice(tmp_path, rng):
    # Cosines 0.0006 apart stay one stack; a third 0.0012 from the first does not,
    # though it is within 0.001 of the second: each slice is compared with the first
    # slice of each stack, in the order of the files.
    for i, z in enumerate((0.0, 0.0006, 0.0012)):
        orientation = (1.0, 0.0, 0.0, 0.0, 1.0, z)
        write_stack(
            tmp_path, rng, [4.0 * i], orientation=orientation, instances=[i + 1],
            names=[f"{i + 1}.dcm"],
        )  # fmt: skip
    stacks, _ = read_headers(sorted(tmp_path.iterdir()))
    assert [sorted(h.instance for h in s) for s in stacks] == [[1, 2], [3]]


def test_interleaved_echoes_split_only_when_positions_repeat(tmp_path, rng):
    write_stack(tmp_path, rng, [0.0, 3.0, 6.0], instances=[1, 2, 3], EchoNumbers=1)
    write_stack(tmp_path, rng, [0.0, 3.0, 6.0], instances=[4, 5, 6], EchoNumbers=2)
    first, second = read_stacks(tmp_path)
    assert first.instance_numbers == (1, 2, 3) and second.instance_numbers == (4, 5, 6)

    # An acquisition tag that merely differs per slice must not split a stack.
    other = tmp_path / "other"
    write_stack(other, rng, [0.0, 3.0, 6.0])
    for k, f in enumerate(sorted(other.iterdir())):
        ds = pydicom.dcmread(f)
        ds.AcquisitionNumber = k + 1
        ds.save_as(f)
    assert len(read_stacks(other)) == 1


# --------------------------------------------------------------------------- order problems


def test_missing_positions_fall_back_to_instance_number(tmp_path, rng):
    imgs = [rng.integers(0, 4096, (4, 4), dtype=np.uint16) for _ in range(3)]
    for inst, img in zip((3, 1, 2), imgs, strict=True):
        make_mr(tmp_path / f"f{inst}", img, instance=inst, position=None, SliceThickness=5.0)
    with pytest.warns(
        UserWarning, match=r"3 of 3 slices .* lack ImagePositionPatient.*ordered by InstanceNumber"
    ) as record:
        vol = read_series(tmp_path)
    assert record[0].filename == __file__
    assert vol.instance_numbers == (1, 2, 3)
    np.testing.assert_array_equal(vol.pixels.numpy(), np.stack([imgs[1], imgs[2], imgs[0]]))
    assert vol.spacing == (5.0, 0.5, 0.5)
    assert np.isnan(vol.positions).all() and np.isnan(vol.affine[:3]).all()
    assert "ordered by InstanceNumber: position tags missing" in vol.notes


def test_missing_positions_and_instance_numbers_cannot_be_ordered(tmp_path, rng):
    img = rng.integers(0, 4096, (4, 4), dtype=np.uint16)
    make_mr(tmp_path / "a", img, instance=None, position=None)
    make_mr(tmp_path / "b", img, instance=2, position=None)
    with pytest.raises(SeriesError, match="some lack InstanceNumber, so the slices cannot be"):
        read_series(tmp_path)


def test_duplicate_positions(tmp_path, rng):
    images = write_stack(tmp_path, rng, [0.0, 3.0, 3.0, 6.0], instances=[1, 7, 2, 3])
    with pytest.raises(
        SeriesError,
        match=r"1 position\(s\) hold more than one slice \(instances 2/7 at 3 mm\); "
        r"pass duplicates='keep'",
    ):
        read_series(tmp_path)
    kept = read_series(tmp_path, duplicates="keep")
    assert kept.instance_numbers == (1, 2, 7, 3)
    assert kept.spacing[0] == 3.0
    np.testing.assert_array_equal(kept.pixels[1].numpy(), images[2])
    assert kept.notes == ("duplicate positions kept: instances 2/7 at 3 mm",)
    first = read_series(tmp_path, duplicates="first")
    assert first.instance_numbers == (1, 2, 3)
    last = read_series(tmp_path, duplicates="last")
    assert last.instance_numbers == (1, 7, 3)
    np.testing.assert_array_equal(last.pixels[1].numpy(), images[1])
    assert "dropped instances 2" in last.notes[0]


def test_spacing_gap_warns_with_the_slices(tmp_path, rng):
    write_stack(tmp_path, rng, [0.0, 3.0, 6.0, 15.0, 18.0])
    with pytest.warns(
        UserWarning,
        match=r"the median step is 3 mm but there are 9 mm between instance 3 and instance 4 "
        r"\(slices 2-3\); the Volume's slice spacing is the mean step 4\.5 mm",
    ):
        vol = read_series(tmp_path)
    assert vol.spacing[0] == 4.5


def test_small_position_noise_is_not_a_gap(tmp_path, rng):
    write_stack(tmp_path, rng, [0.0, 3.001, 5.999, 9.0004])
    vol = read_series(tmp_path)  # no warning (filterwarnings = error)
    assert vol.spacing[0] == pytest.approx(3.0001333, abs=1e-6)


# --------------------------------------------------------------------------- values


def test_rescale_integer_gives_int16(tmp_path, rng):
    images = write_stack(
        tmp_path, rng, [0.0, 3.0], RescaleSlope=2, RescaleIntercept=-1024,
        WindowCenter=300, WindowWidth=800,
    )  # fmt: skip
    vol = read_series(tmp_path)
    assert vol.pixels.dtype == torch.int16
    np.testing.assert_array_equal(vol.pixels.numpy(), np.stack(images).astype(int) * 2 - 1024)
    assert vol.dicom_window == (300.0, 800.0)


def test_rescale_fraction_gives_float32(tmp_path, rng):
    images = write_stack(tmp_path, rng, [0.0, 3.0], RescaleSlope=0.5, RescaleIntercept=1.25)
    vol = read_series(tmp_path)
    assert vol.pixels.dtype == torch.float32
    np.testing.assert_allclose(vol.pixels.numpy(), np.stack(images) * 0.5 + 1.25)


def test_sixteen_stored_bits_give_float32(tmp_path, rng):
    img = rng.integers(0, 65536, (4, 4), dtype=np.uint16)
    img[0, 0] = 65535
    make_mr(tmp_path / "a", img, bits_stored=16)
    vol = read_series(tmp_path)
    assert vol.pixels.dtype == torch.float32
    np.testing.assert_array_equal(vol.pixels[0].numpy(), img.astype(np.float32))


def test_unused_high_bits_are_cleared(tmp_path, rng):
    img = rng.integers(0, 4096, (4, 4), dtype=np.uint16)
    make_mr(tmp_path / "a", img | 0x3000)  # garbage above BitsStored 12
    np.testing.assert_array_equal(read_series(tmp_path).pixels[0].numpy(), img)


def test_signed_pixels(tmp_path, rng):
    img = rng.integers(-2048, 2048, (4, 4), dtype=np.int16)
    raw = (img.view(np.uint16) & 0x0FFF).view(np.int16)  # 12-bit two's complement
    make_mr(tmp_path / "a", raw, RescaleIntercept=-100)
    vol = read_series(tmp_path)
    assert vol.pixels.dtype == torch.int16
    np.testing.assert_array_equal(vol.pixels[0].numpy(), img - 100)


def test_eight_bit_pixels(tmp_path, rng):
    img = rng.integers(0, 256, (4, 4), dtype=np.uint8)
    make_mr(tmp_path / "a", img, bits_stored=8, RescaleIntercept=-128)
    vol = read_series(tmp_path)
    assert vol.pixels.dtype == torch.int16
    np.testing.assert_array_equal(vol.pixels[0].numpy(), img.astype(int) - 128)


def test_monochrome1_inverted_by_default(tmp_path, rng):
    images = write_stack(
        tmp_path, rng, [0.0, 3.0], photometric="MONOCHROME1",
        WindowCenter=1000, WindowWidth=500,
    )  # fmt: skip
    vol = read_series(tmp_path)
    np.testing.assert_array_equal(vol.pixels.numpy(), 4095 - np.stack(images).astype(int))
    assert vol.photometric == "MONOCHROME1"
    assert vol.dicom_window == (3095.0, 500.0)
    kept = read_series(tmp_path, monochrome1="keep")
    np.testing.assert_array_equal(kept.pixels.numpy(), np.stack(images))
    assert kept.dicom_window == (1000.0, 500.0)


def test_implicit_vr_and_long_headers_read_alike(tmp_path, rng):
    img = rng.integers(0, 4096, (8, 6), dtype=np.uint16)
    make_mr(tmp_path / "a" / "1", img, transfer_syntax=ImplicitVRLittleEndian)
    # A 70 kB header is more than the quick header parser reads: pydicom takes over.
    make_mr(tmp_path / "b" / "1", img, TextValue="x" * 70_000)
    for sub in ("a", "b"):
        vol = read_series(tmp_path / sub)
        np.testing.assert_array_equal(vol.pixels[0].numpy(), img)
        assert vol.spacing[1:] == (0.5, 0.5)
    assert read_series(tmp_path / "a").transfer_syntax == ImplicitVRLittleEndian


# --------------------------------------------------------------------------- compression


def test_rle_lossless_round_trip(tmp_path, rng):
    images = write_stack(
        tmp_path, rng, [6.0, 0.0, 3.0], transfer_syntax=RLELossless, shape=(16, 12)
    )
    expected = np.stack([images[1], images[2], images[0]])
    for plugin in ("auto", "pydicom"):
        vol = read_series(tmp_path, decoding_plugin=plugin)
        assert vol.transfer_syntax == RLELossless
        assert vol.pixels.dtype == torch.int16
        np.testing.assert_array_equal(vol.pixels.numpy(), expected)


def test_compressed_without_plugin_says_what_to_install(tmp_path):
    if get_decoder(JPEGLSLossless).is_available:
        pytest.skip("a JPEG-LS decoder is installed here")
    src = get_testdata_file("MR_small_jpeg_ls_lossless.dcm")
    shutil.copy(src, tmp_path / "IM0001")
    with pytest.raises(
        SeriesError,
        match=r"IM0001: its pixel data is compressed as JPEG-LS Lossless Image Compression "
        r"\(1\.2\.840\.10008\.1\.2\.4\.80\) and no installed package can decode it; "
        r"fix: pip install pylibjpeg pylibjpeg-libjpeg",
    ):
        read_series(tmp_path)


def test_unavailable_plugin_choice(tmp_path, rng):
    write_stack(tmp_path, rng, [0.0], transfer_syntax=RLELossless)
    with pytest.raises(
        SeriesError, match=r"decoding_plugin='gdcm' cannot decode RLE Lossless .*available here"
    ):
        read_series(tmp_path, decoding_plugin="gdcm")


# --------------------------------------------------------------------------- other rules


def test_single_slice_spacing_from_tags(tmp_path, rng):
    img = rng.integers(0, 4096, (4, 4), dtype=np.uint16)
    make_mr(tmp_path / "a" / "1", img, SpacingBetweenSlices=4.4, SliceThickness=4.0)
    make_mr(tmp_path / "b" / "1", img, SliceThickness=4.0)
    make_mr(tmp_path / "c" / "1", img)
    assert read_series(tmp_path / "a").spacing == (4.4, 0.5, 0.5)
    vol = read_series(tmp_path / "b")
    assert vol.spacing == (4.0, 0.5, 0.5)
    np.testing.assert_allclose(vol.affine[:3, 0], [0, 0, 4.0])
    bare = read_series(tmp_path / "c")
    assert bare.spacing[0] == 1.0 and any("slice spacing unknown" in n for n in bare.notes)


def test_unsupported_images(tmp_path, rng):
    img = rng.integers(0, 4096, (4, 4), dtype=np.uint16)
    make_mr(tmp_path / "a" / "mf", np.stack([img, img]).reshape(8, 4), NumberOfFrames=2, Rows=4)
    with pytest.raises(SeriesError, match=r"mf: a multi-frame file \(2 frames\) without per-frame"):
        read_series(tmp_path / "a")
    make_mr(tmp_path / "b" / "rgb", img, photometric="PALETTE COLOR")
    with pytest.raises(SeriesError, match="rgb: only greyscale images"):
        read_series(tmp_path / "b")


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="duplicates: expected one of 'error', 'keep'"):
        read_series(tmp_path, duplicates="drop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="monochrome1: expected one of 'invert', 'keep'"):
        read_series(tmp_path, monochrome1="raw")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decoding_plugin: expected one of 'auto'"):
        read_stacks(tmp_path, decoding_plugin="fast")  # type: ignore[arg-type]


def test_progress_bar_is_quiet_by_default_and_on_when_asked(tmp_path, rng, capsys):
    write_stack(tmp_path, rng, [0.0, 3.0])
    read_series(tmp_path)
    assert capsys.readouterr() == ("", "")
    read_series(tmp_path, progress=True)
    assert "pixels" in capsys.readouterr().err


# --------------------------------------------------------------------------- damaged files


def test_unreadable_dicom_names_the_file(tmp_path, rng):
    write_stack(tmp_path, rng, [0.0, 3.0])
    data = bytearray((tmp_path / "2.dcm").read_bytes())
    data[138:140] = (3).to_bytes(2, "little")  # FileMetaInformationGroupLength: 3 bytes
    (tmp_path / "2.dcm").write_bytes(bytes(data))
    with pytest.raises(SeriesError, match=r"2\.dcm: unreadable DICOM file \(.*copy it again"):
        read_series(tmp_path, on_damaged="error")


def test_pixel_data_without_image_attributes(tmp_path, rng):
    path = make_mr(tmp_path / "a.dcm", rng.integers(0, 4096, (4, 4), dtype=np.uint16))
    ds = pydicom.dcmread(path)
    del ds.Rows
    ds.save_as(path)
    with pytest.raises(SeriesError, match=r"a\.dcm: the file holds PixelData but lacks Rows"):
        read_series(tmp_path)


def test_one_bit_pixels_are_refused(tmp_path):
    shutil.copy(get_testdata_file("liver_1frame.dcm"), tmp_path / "liver")
    with pytest.raises(SeriesError, match=r"liver: BitsAllocated 1 is not supported"):
        read_series(tmp_path)


def test_transfer_syntax_without_any_decoder(tmp_path, rng):
    from pydicom.encaps import encapsulate
    from pydicom.uid import MPEG2MPML

    path = make_mr(tmp_path / "movie", rng.integers(0, 4096, (4, 4), dtype=np.uint16))
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = MPEG2MPML
    ds.PixelData = encapsulate([b"\x00" * 16])
    ds["PixelData"].VR = "OB"
    ds.save_as(path)
    with pytest.raises(SeriesError, match=r"movie: its pixel data is in MPEG2 .*pydicom cannot"):
        read_series(tmp_path)


def test_failed_decoder_suggests_another(tmp_path):
    from pydicom.uid import JPEGExtended12Bit

    plugins = get_decoder(JPEGExtended12Bit).available_plugins
    if plugins != ("pillow",):
        pytest.skip("needs Pillow as the only JPEG decoder (it cannot read 12-bit JPEG)")
    shutil.copy(get_testdata_file("JPGExtended.dcm"), tmp_path / "jpg12")
    with pytest.raises(
        SeriesError,
        match=r"jpg12: cannot decode its JPEG Extended .* with pillow .*"
        r"need another decoder: pip install pylibjpeg pylibjpeg-libjpeg",
    ):
        read_series(tmp_path)


def test_file_cut_between_header_and_pixel_reads(tmp_path, rng):
    from eda_helpers._header import read_header
    from eda_helpers.io import _DecodeFailure, _read_native

    path = make_mr(tmp_path / "a.dcm", rng.integers(0, 4096, (4, 4), dtype=np.uint16))
    (header,) = read_header(path)
    path.write_bytes(path.read_bytes()[:-10])  # another process truncates it meanwhile
    with pytest.raises(_DecodeFailure) as failure:
        _read_native(np.empty((4, 4), np.int16), header)
    assert isinstance(failure.value.error, SeriesError)
    assert re.search(r"a\.dcm: the pixel data is truncated \(22 of 32", str(failure.value.error))


# --------------------------------------------------------------------------- fast reader vs pydicom
# The quick header parser must give what pydicom gives, or leave the file to pydicom.
# Each layout below is written with pydicom (and, where pydicom cannot write the
# layout, patched byte by byte), then read_series is compared with pydicom itself.


def _explicit(tag: int, vr: bytes, value: bytes, *, undefined: bool = False) -> bytes:
    """One explicit VR little endian element."""
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr
    length = 0xFFFFFFFF if undefined else len(value)
    if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT"):
        return head + b"\0\0" + struct.pack("<I", length) + value
    return head + struct.pack("<H", length) + value


def _implicit(tag: int, value: bytes, *, length: int | None = None) -> bytes:
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(value) if length is None else length)


_ITEM, _ITEM_END, _SEQ_END = (
    struct.pack("<HHI", 0xFFFE, e, n) for e, n in ((0xE000, 0xFFFFFFFF), (0xE00D, 0), (0xE0DD, 0))
)


def _element_span(data: bytes, tag: int, vr: bytes) -> tuple[int, int]:
    """Start and end of a top-level short-VR element of an explicit VR LE file."""
    start = data.index(struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr)
    return start, start + 8 + struct.unpack_from("<H", data, start + 6)[0]


def _insert_before(path: Path, tag: int, blob: bytes) -> None:
    data = path.read_bytes()
    at = data.index(struct.pack("<HH", tag >> 16, tag & 0xFFFF))
    path.write_bytes(data[:at] + blob + data[at:])


def _replace_element(path: Path, tag: int, vr: bytes, new: bytes) -> None:
    data = path.read_bytes()
    start, end = _element_span(data, tag, vr)
    path.write_bytes(data[:start] + new + data[end:])


def _rewrite(path: Path, edit, **encoding: bool) -> None:
    ds = pydicom.dcmread(path)
    edit(ds)
    if encoding:
        pydicom.dcmwrite(path, ds, force_encoding=True, **encoding)
    else:
        ds.save_as(path)


def _private_sequence_implicit(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, instance=6, transfer_syntax=ImplicitVRLittleEndian)

    def edit(ds: Dataset) -> None:
        inner = Dataset()
        inner.InstanceNumber = 99
        inner.add_new(0x7FE00010, "OB", b"\0" * 10)  # a PixelData that is not the image's
        ds.add_new(0x00090010, "LO", "PRIVATE")
        ds.add_new(0x00091001, "SQ", PydicomSequence([inner]))
        ds[0x00091001].is_undefined_length = True

    _rewrite(path, edit)


def _icon_with_encapsulated_pixels(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, instance=5)

    def edit(ds: Dataset) -> None:
        icon = Dataset()
        icon.Rows = icon.Columns = 2
        icon.BitsAllocated, icon.SamplesPerPixel = 8, 1
        icon.add_new(0x7FE00010, "OB", encapsulate([b"\x01\x02\x03\x04"]))
        icon["PixelData"].is_undefined_length = True
        ds.IconImageSequence = PydicomSequence([icon])
        ds["IconImageSequence"].is_undefined_length = True

    _rewrite(path, edit)


def _un_sequence_of_undefined_length(path: Path, img: np.ndarray) -> None:
    # An anonymiser's private sequence kept as explicit VR UN of undefined length,
    # which holds implicit VR items (the quick parser leaves it to pydicom).
    make_mr(path, img, instance=3)
    nested = _implicit(0x00291010, b"1.5 ") + b"1.5 "
    blob = (
        _explicit(0x00290010, b"LO", b"PRIVATE ")
        + _explicit(0x00291002, b"UN", b"", undefined=True)
        + _ITEM + nested + _ITEM_END + _SEQ_END
    )  # fmt: skip
    _insert_before(path, 0x7FE00010, blob)


def _big_endian_signed(path: Path, img: np.ndarray) -> None:
    signed = (img.astype(np.int16) - 2048).astype(np.int16)
    make_mr(path, signed, instance=4, RescaleSlope=2, RescaleIntercept=-5)
    garbage = (signed.view(np.uint16) & 0x0FFF) | 0x5000  # set bits above BitsStored 12

    def edit(ds: Dataset) -> None:
        ds.PixelData = garbage.astype(">u2").tobytes()
        ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian

    _rewrite(path, edit, implicit_vr=False, little_endian=False)


def _little_endian_signed(path: Path, img: np.ndarray) -> None:
    signed = (img.astype(np.int16) - 2048).astype(np.int16)
    raw = ((signed.view(np.uint16) & 0x0FFF) | 0xA000).view(np.int16)
    make_mr(path, raw, instance=4, RescaleSlope=1, RescaleIntercept=-1024)


def _odd_and_padded_numbers(path: Path, img: np.ndarray) -> None:
    make_mr(
        path, img, instance=12, position=(" -10.5", "20 ", "3.25"),
        WindowCenter=["40", " 400"], WindowWidth=["80 ", "2000"],
        RescaleSlope="1 ", RescaleIntercept=" -1024",
    )  # fmt: skip
    _replace_element(path, 0x00200013, b"IS", _explicit(0x00200013, b"IS", b"7"))  # odd length


def _rows_as_is(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, instance=2)
    rows = _explicit(0x00280010, b"IS", f"{img.shape[0]} ".encode())
    _replace_element(path, 0x00280010, b"US", rows)


def _instance_as_us(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, instance=3)
    _replace_element(path, 0x00200013, b"IS", _explicit(0x00200013, b"US", struct.pack("<H", 7)))


def _tags_out_of_order(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, instance=3)
    data = path.read_bytes()
    start, end = _element_span(data, 0x00200013, b"IS")
    moved = data[:start] + data[end:]
    path.write_bytes(moved)
    _insert_before(path, 0x00080060, _explicit(0x00200013, b"IS", b"8 "))


def _iso2022_description(path: Path, img: np.ndarray) -> None:
    make_mr(path, img)

    def edit(ds: Dataset) -> None:
        ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
        ds.SeriesDescription = "Yamada^Tarou=山田^太郎"

    _rewrite(path, edit)


def _explicit_syntax_implicit_data(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, instance=4)
    _rewrite(path, lambda ds: None, implicit_vr=True, little_endian=True)


def _implicit_syntax_explicit_data(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, instance=4, transfer_syntax=ImplicitVRLittleEndian)
    _rewrite(path, lambda ds: None, implicit_vr=False, little_endian=True)


def _pixel_data_ob_and_padding(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, instance=2)

    def edit(ds: Dataset) -> None:
        ds["PixelData"].VR = "OB"
        ds.add_new(0xFFFCFFFC, "OB", b"\0" * 64)  # trailing padding

    _rewrite(path, edit)


def _rle_fragments_offsets_padding(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, instance=2, transfer_syntax=RLELossless)

    def edit(ds: Dataset) -> None:
        frame = b"".join(next(generate_fragmented_frames(ds.PixelData, number_of_frames=1)))
        ds.PixelData = encapsulate([frame], fragments_per_frame=3, has_bot=True)
        ds.add_new(0xFFFCFFFC, "OB", b"\xfe\xff\x00\xe0" + b"\0" * 60)

    _rewrite(path, edit)


def _deflated(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, instance=2, transfer_syntax=DeflatedExplicitVRLittleEndian)


def _narrow_signed(path: Path, img: np.ndarray) -> None:
    make_mr(path, (img.astype(np.int32) - 2048) * 64, bits_stored=20, instance=2)


def _sixteen_bits_into_int16(path: Path, img: np.ndarray) -> None:
    # All 16 bits stored, shifted into int16 by the intercept: the int16 arithmetic
    # wraps on the way and must land on the right values.
    full = (img.astype(np.uint16) << 4) | 0xF
    make_mr(path, full, bits_stored=16, RescaleSlope=1, RescaleIntercept=-32768)


def _fractional_slope(path: Path, img: np.ndarray) -> None:
    make_mr(path, img, RescaleSlope=0.25, RescaleIntercept=-3.5)


LAYOUTS = {
    "implicit VR, private sequence holding a PixelData": _private_sequence_implicit,
    "icon sequence with encapsulated pixel data": _icon_with_encapsulated_pixels,
    "UN sequence of undefined length": _un_sequence_of_undefined_length,
    "big endian, signed 12 of 16 bits, garbage high bits": _big_endian_signed,
    "signed 12 of 16 bits, garbage high bits": _little_endian_signed,
    "padded DS/IS, two windows, odd length": _odd_and_padded_numbers,
    "Rows written as IS": _rows_as_is,
    "InstanceNumber written as US": _instance_as_us,
    "tags out of order": _tags_out_of_order,
    "ISO 2022 description": _iso2022_description,
    "explicit VR syntax, implicit VR data": _explicit_syntax_implicit_data,
    "implicit VR syntax, explicit VR data": _implicit_syntax_explicit_data,
    "PixelData as OB, trailing padding": _pixel_data_ob_and_padding,
    "RLE in fragments with offset table": _rle_fragments_offsets_padding,
    "deflated": _deflated,
    "signed 20 of 32 bits": _narrow_signed,
    "16 of 16 bits, intercept -32768": _sixteen_bits_into_int16,
    "fractional slope": _fractional_slope,
}


def assert_reads_like_pydicom(path: Path, **kwargs: object) -> Volume:
    """read_series of one file against pydicom's own reading of it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about some of these layouts
        vol = read_series(path, monochrome1="keep", **kwargs)
        ds = pydicom.dcmread(path)
        expected = apply_modality_lut(ds.pixel_array, ds)

    def first(keyword: str) -> float:
        value = ds[keyword].value
        return float(value[0] if isinstance(value, MultiValue) else value)

    np.testing.assert_array_equal(vol.pixels[0].numpy(), expected)
    assert vol.instance_numbers == (ds.get("InstanceNumber", -1),)
    np.testing.assert_array_equal(vol.positions[0], [float(v) for v in ds.ImagePositionPatient])
    assert vol.spacing[1:] == tuple(float(v) for v in ds.PixelSpacing)
    has_window = "WindowCenter" in ds
    assert vol.dicom_window == (
        (first("WindowCenter"), first("WindowWidth")) if has_window else None
    )
    assert vol.description == ds.SeriesDescription
    return vol


@pytest.mark.parametrize("layout", LAYOUTS)
def test_header_reader_agrees_with_pydicom(tmp_path, rng, layout):
    path = tmp_path / "IM1"
    LAYOUTS[layout](path, rng.integers(0, 4096, (8, 6), dtype=np.uint16))
    for plugin in ("auto", "pydicom"):
        vol = assert_reads_like_pydicom(path, decoding_plugin=plugin)
    wide = "fractional" in layout or "32 bits" in layout
    assert vol.pixels.dtype == (torch.float32 if wide else torch.int16)


def test_unknown_transfer_syntax_names_the_file(tmp_path, rng):
    path = make_mr(tmp_path / "IM1", rng.integers(0, 4096, (4, 4), dtype=np.uint16))
    _rewrite(path, lambda ds: setattr(ds.file_meta, "TransferSyntaxUID", "1.2.3.4"))
    with pytest.raises(SeriesError, match=r"IM1: its Transfer Syntax UID '1\.2\.3\.4' is not one"):
        read_series(tmp_path)


def test_encapsulated_pixel_data_in_uncompressed_syntax(tmp_path, rng):
    img = rng.integers(0, 4096, (4, 4), dtype=np.uint16)
    path = make_mr(tmp_path / "IM1", img)
    data = path.read_bytes()
    at = data.index(struct.pack("<HH", 0x7FE0, 0x0010))
    blob = _explicit(0x7FE00010, b"OB", encapsulate([img.tobytes()]) + _SEQ_END, undefined=True)
    path.write_bytes(data[:at] + blob)
    with pytest.raises(SeriesError, match=r"IM1: its PixelData has undefined length .*uncompr"):
        read_series(tmp_path)


def test_modality_lut_sequence_is_refused(tmp_path, rng):
    path = make_mr(tmp_path / "IM1", rng.integers(0, 4096, (4, 4), dtype=np.uint16))

    def edit(ds: Dataset) -> None:
        lut = Dataset()
        lut.LUTDescriptor = [4096, 0, 16]
        lut.ModalityLUTType = "HU"
        lut.add_new(0x00283006, "US", list(range(4096)))
        ds.ModalityLUTSequence = PydicomSequence([lut])

    _rewrite(path, edit)
    with pytest.raises(SeriesError, match=r"IM1: its stored values are mapped by a Modality LUT"):
        read_series(tmp_path)


def test_every_pydicom_test_file_reads_like_pydicom():
    """Each single-frame greyscale file pydicom decodes is read with the same values."""
    root = Path(pydicom.data.__file__).parent / "test_files"
    refused = {"liver_1frame.dcm", "liver_expb_1frame.dcm"}  # BitsAllocated 1
    compared = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deliberately odd files make pydicom warn
            try:
                ds = pydicom.dcmread(path)
                grey = ds.get("PhotometricInterpretation") in ("MONOCHROME1", "MONOCHROME2")
                if "PixelData" not in ds or not grey or int(ds.get("NumberOfFrames") or 1) != 1:
                    continue
                expected = apply_modality_lut(ds.pixel_array, ds)
            except Exception:
                continue  # pydicom cannot read or decode it
            if path.name in refused:
                with pytest.raises(SeriesError):
                    read_stacks([path])
                continue
            vol = read_stacks([path], monochrome1="keep")[0]
        np.testing.assert_allclose(vol.pixels[0].numpy(), expected, rtol=1e-6, err_msg=path.name)
        compared += 1
    assert compared >= 40
