"""The MRI files other readers take: Siemens MOSAIC and enhanced multi-frame MR.

Real files no one here wrote (nibabel's test data: Siemens DTI MOSAIC images and a
Philips enhanced MR MPRAGE) are compared with nibabel's and SimpleITK's reading of
the same files. Their stored pixels are all zero, so the pixel tests write a marker
into a copy of each file first: every tile or frame gets its own values.
"""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as PydicomSequence
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

from eda_helpers import SeriesError, read_series, read_stacks
from eda_helpers._mosaic import csa_tags

nibabel = pytest.importorskip("nibabel")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "The DICOM readers are highly experimental"
    from nibabel.nicom import dicomwrappers

NIBABEL_DATA = Path(nibabel.__file__).parent / "nicom" / "tests" / "data"
ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"


def _unzipped(name: str, folder: Path) -> Path:
    out = folder / name.removesuffix(".gz")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.open(NIBABEL_DATA / name).read())
    return out


def _nibabel(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """nibabel's (rows, cols, slices) array and its affine, (row, col, slice) -> mm."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "highly experimental", Philips scale factors
        wrapper = dicomwrappers.wrapper_from_file(path)
        return np.asarray(wrapper.get_data()), np.asarray(wrapper.affine)


def _same_voxels(vol, data: np.ndarray, affine: np.ndarray) -> None:
    """Our (slice, row, col) volume and nibabel's (row, col, slice) one hold the same
    values at the same places in the patient, whatever the order of the slices."""
    ours = vol.pixels.numpy()
    assert ours.shape == (data.shape[2], data.shape[0], data.shape[1])
    # Slice k of ours is slice j of nibabel's where their centres coincide.
    centre = np.array([(ours.shape[1] - 1) / 2, (ours.shape[2] - 1) / 2])
    mine = [vol.affine @ [k, *centre, 1] for k in range(ours.shape[0])]
    theirs = [affine @ [*centre, j, 1] for j in range(data.shape[2])]
    match = [int(np.argmin([np.linalg.norm(m - t) for t in theirs])) for m in mine]
    for k, j in enumerate(match):
        np.testing.assert_allclose(mine[k], theirs[j], atol=0.01)  # mean vs nominal step
        np.testing.assert_array_equal(ours[k], data[..., j])
    assert sorted(match) == list(range(data.shape[2]))
    # The in-plane axes agree too: row and column steps.
    for ax_ours, ax_theirs in ((1, 0), (2, 1)):
        np.testing.assert_allclose(vol.affine[:3, ax_ours], affine[:3, ax_theirs], atol=1e-4)


# --------------------------------------------------------------------------- MOSAIC


def _marked_mosaic(path: Path) -> Path:
    """The file with each tile of its mosaic filled with its own values."""
    ds = pydicom.dcmread(path)
    n = int(ds[0x0019, 0x100A].value)
    tiles = int(np.ceil(np.sqrt(n)))
    rows, cols = ds.Rows // tiles, ds.Columns // tiles
    image = np.zeros((ds.Rows, ds.Columns), np.uint16)
    yy, xx = np.mgrid[:rows, :cols]
    for k in range(tiles * tiles):
        r, c = divmod(k, tiles)
        # Under 4096: the files store 12 bits.
        image[r * rows : (r + 1) * rows, c * cols : (c + 1) * cols] = 50 * k + (yy + 2 * xx) % 47
    ds.PixelData = image.tobytes()
    out = path.with_name("marked_" + path.name)
    ds.save_as(out)
    return out


@pytest.mark.parametrize("name", ["siemens_dwi_0.dcm.gz", "siemens_dwi_1000.dcm.gz"])
def test_mosaic_is_unpacked_like_nibabel(tmp_path, name):
    path = _marked_mosaic(_unzipped(name, tmp_path))
    vol = read_series(path)
    n = int(pydicom.dcmread(path, stop_before_pixels=True)[0x0019, 0x100A].value)
    assert vol.shape == (n, 128, 128) and vol.shape[0] == 48
    assert any("Siemens MOSAIC" in note for note in vol.notes)
    _same_voxels(vol, *_nibabel(path))
    # The tiles are distinct: tile k holds 50 k + a pattern, tile number k + 1.
    assert [int(v) // 50 for v in vol.pixels[:, 0, 0]] == [i - 1 for i in vol.instance_numbers]


@pytest.mark.parametrize("plugin", ["auto", "pydicom"])
def test_rle_mosaic_reads_like_the_uncompressed_one(tmp_path, plugin):
    native = _marked_mosaic(_unzipped("siemens_dwi_1000.dcm.gz", tmp_path))
    ds = pydicom.dcmread(native)
    ds.compress(RLELossless, ds.pixel_array)
    rle = tmp_path / "rle" / "mosaic.dcm"
    rle.parent.mkdir()
    ds.save_as(rle)
    expected, got = read_series(native), read_series(rle, decoding_plugin=plugin)
    assert got.transfer_syntax == RLELossless
    np.testing.assert_array_equal(got.pixels.numpy(), expected.pixels.numpy())
    np.testing.assert_array_equal(got.affine, expected.affine)


def test_mosaic_positions_follow_the_tags(tmp_path):
    path = _unzipped("siemens_dwi_1000.dcm.gz", tmp_path)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    csa = csa_tags(ds[0x0029, 0x1010].value)
    normal = np.array([float(v) for v in csa["SliceNormalVector"]])
    assert int(csa["NumberOfImagesInMosaic"][0]) == int(ds[0x0019, 0x100A].value)
    vol = read_series(path)
    iop = np.array(ds.ImageOrientationPatient, float)
    dr, dc = map(float, ds.PixelSpacing)
    # The first tile sits half the unused mosaic further along rows and columns.
    first = (
        np.array(ds.ImagePositionPatient, float)
        + iop[3:] * dr * (ds.Rows - 128) / 2
        + iop[:3] * dc * (ds.Columns - 128) / 2
    )
    step = float(ds.SpacingBetweenSlices)
    expected = first + np.outer(np.arange(48), normal * step)
    got = vol.positions[np.argsort(vol.instance_numbers)]
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_mosaic_with_a_count_that_does_not_tile_is_refused(tmp_path):
    path = _unzipped("siemens_dwi_1000.dcm.gz", tmp_path / "a")
    ds = pydicom.dcmread(path)
    ds[0x0019, 0x100A].value = 500  # 23 x 23 tiles do not divide 896 x 896
    ds.save_as(path)
    with pytest.raises(SeriesError, match=r"dwi_1000\.dcm: NumberOfImagesInMosaic 500 does"):
        read_series(path, on_damaged="error")


def test_csa_header_parser_refuses_garbage():
    with pytest.raises(ValueError, match=r"not a Siemens CSA header \(4 bytes\)"):
        csa_tags(b"SV10")
    valid = (NIBABEL_DATA / "csa2_b0.bin").read_bytes()
    assert "SliceNormalVector" in csa_tags(valid)


# --------------------------------------------------------------------------- enhanced MR


def _marked_frames(path: Path) -> Path:
    ds = pydicom.dcmread(path)
    n, rows, cols = int(ds.NumberOfFrames), ds.Rows, ds.Columns
    yy, xx = np.mgrid[:rows, :cols]
    frames = np.stack([(7 * k + (yy + 3 * xx) % 89) for k in range(n)]).astype(np.uint16)
    ds.PixelData = frames.tobytes()
    out = path.with_name("marked_" + path.name)
    ds.save_as(out)
    return out


def test_philips_enhanced_mr_reads_like_simpleitk_and_nibabel(tmp_path):
    sitk = pytest.importorskip("SimpleITK")
    path = _marked_frames(_unzipped("philips_mprage.dcm.gz", tmp_path))
    vol = read_series(path)
    assert vol.shape == (176, 256, 256)
    assert any("enhanced multi-frame" in note for note in vol.notes)
    image = sitk.ReadImage(str(path))
    np.testing.assert_allclose(vol.pixels.numpy(), sitk.GetArrayFromImage(image), rtol=1e-6)
    np.testing.assert_allclose(vol.positions[0], image.GetOrigin(), atol=1e-4)
    direction = np.array(image.GetDirection()).reshape(3, 3)
    np.testing.assert_allclose(vol.affine[:3, [2, 1, 0]] / vol.spacing[::-1], direction, atol=1e-4)
    data, affine = _nibabel(path)
    # nibabel applies no Philips scale here; compare the stored values, ordered alike.
    stored = (vol.pixels.numpy() - _intercept(path)) / _slope(path)
    _same_voxels(_with_pixels(vol, np.rint(stored)), data, affine)


def _slope(path: Path) -> float:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    item = ds.PerFrameFunctionalGroupsSequence[0].PixelValueTransformationSequence[0]
    return float(item.RescaleSlope)


def _intercept(path: Path) -> float:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    item = ds.PerFrameFunctionalGroupsSequence[0].PixelValueTransformationSequence[0]
    return float(item.RescaleIntercept)


def _with_pixels(vol, pixels: np.ndarray):
    import dataclasses

    import torch

    return dataclasses.replace(vol, pixels=torch.from_numpy(pixels.astype(np.float64)))


def write_enhanced(
    path: Path,
    frames: np.ndarray,
    positions: list[tuple[float, float, float]],
    orientations: list[tuple[float, ...]],
    *,
    slopes: list[float] | None = None,
    stack_ids: list[str] | None = None,
    rle: bool = False,
) -> Path:
    """An enhanced MR file with one functional group item per frame."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ENHANCED_MR
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = ENHANCED_MR, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.SeriesDescription, ds.InstanceNumber = "MR", "enhanced", 1
    n, rows, cols = frames.shape
    ds.NumberOfFrames, ds.Rows, ds.Columns = n, rows, cols
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing, measures.SliceThickness = [0.8, 0.6], 3.0
    shared.PixelMeasuresSequence = PydicomSequence([measures])
    ds.SharedFunctionalGroupsSequence = PydicomSequence([shared])
    items = []
    for k in range(n):
        item = Dataset()
        plane = Dataset()
        plane.ImagePositionPatient = list(positions[k])
        item.PlanePositionSequence = PydicomSequence([plane])
        orient = Dataset()
        orient.ImageOrientationPatient = list(orientations[k])
        item.PlaneOrientationSequence = PydicomSequence([orient])
        if slopes is not None:
            values = Dataset()
            values.RescaleSlope, values.RescaleIntercept = slopes[k], -10
            values.RescaleType = "US"
            item.PixelValueTransformationSequence = PydicomSequence([values])
        if stack_ids is not None:
            content = Dataset()
            content.StackID = stack_ids[k]
            item.FrameContentSequence = PydicomSequence([content])
        items.append(item)
    ds.PerFrameFunctionalGroupsSequence = PydicomSequence(items)
    ds.PixelData = frames.astype("<u2").tobytes()
    if rle:
        ds.compress(RLELossless, frames)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


@pytest.mark.parametrize("rle", [False, True], ids=["native", "rle"])
@pytest.mark.parametrize("plugin", ["auto", "pydicom"])
def test_enhanced_mr_frames_in_geometric_order_with_rescale(tmp_path, rng, rle, plugin):
    frames = rng.integers(0, 4096, (5, 6, 4), dtype=np.uint16)
    z = [6.0, 0.0, 12.0, 3.0, 9.0]  # frames stored out of order
    path = write_enhanced(
        tmp_path / "mf.dcm",
        frames,
        [(-5.0, -5.0, v) for v in z],
        [AXIAL] * 5,
        slopes=[2.0] * 5,
        rle=rle,
    )
    vol = read_series(path, decoding_plugin=plugin)
    order = np.argsort(z)
    assert vol.instance_numbers == tuple(int(i) + 1 for i in order)
    np.testing.assert_array_equal(vol.pixels.numpy(), frames[order].astype(np.int32) * 2 - 10)
    assert vol.spacing == (3.0, 0.8, 0.6) and vol.pixels.dtype.is_floating_point is False
    np.testing.assert_allclose(vol.positions[:, 2], np.sort(z))
    expected = pydicom.dcmread(path).pixel_array[order]  # pydicom's decoding of each frame
    np.testing.assert_array_equal((vol.pixels.numpy() + 10) // 2, expected)


def test_enhanced_mr_with_two_stacks(tmp_path, rng):
    frames = rng.integers(0, 4096, (6, 4, 4), dtype=np.uint16)
    positions = [(0.0, 0.0, 3.0 * k) for k in range(3)] + [(2.0 * k, 0.0, 0.0) for k in range(3)]
    path = write_enhanced(
        tmp_path / "mf.dcm",
        frames,
        positions,
        [AXIAL] * 3 + [SAGITTAL] * 3,
        stack_ids=["1"] * 3 + ["2"] * 3,
    )
    with pytest.raises(SeriesError, match=r"holds 2 stacks .*use read_stacks"):
        read_series(path)
    axial, sagittal = read_stacks(path)
    # The sagittal normal points to -x: ascending along it is frames 6, 5, 4.
    assert axial.instance_numbers == (1, 2, 3) and sagittal.instance_numbers == (6, 5, 4)
    np.testing.assert_array_equal(sagittal.pixels.numpy(), frames[3:][::-1])


def test_read_headers_gives_one_record_per_frame_and_per_tile(tmp_path, rng):
    from eda_helpers.io import SliceHeader, read_headers

    frames = rng.integers(0, 4096, (4, 6, 5), dtype=np.uint16)
    enhanced = write_enhanced(
        tmp_path / "mf.dcm", frames, [(0.0, 0.0, 2.0 * k) for k in range(4)], [AXIAL] * 4
    )
    mosaic = _unzipped("siemens_dwi_0.dcm.gz", tmp_path)
    stacks, unreadable = read_headers([enhanced, mosaic])
    assert unreadable == [] and sorted(len(s) for s in stacks) == [4, 48]
    records = [h for s in stacks for h in s]
    assert all(isinstance(h, SliceHeader) for h in records)
    assert {h.path for h in records} == {enhanced, mosaic}  # two files
    tiles = [h for h in records if h.path == mosaic]
    assert {(h.rows, h.cols, h.mosaic_tiles) for h in tiles} == {(128, 128, 7)}
    assert sorted(h.frame for h in records if h.path == enhanced) == [0, 1, 2, 3]


def test_enhanced_mr_with_the_wrong_number_of_frame_items(tmp_path, rng):
    frames = rng.integers(0, 4096, (3, 4, 4), dtype=np.uint16)
    path = write_enhanced(tmp_path / "mf.dcm", frames, [(0, 0, k) for k in range(3)], [AXIAL] * 3)
    ds = pydicom.dcmread(path)
    del ds.PerFrameFunctionalGroupsSequence[2]
    ds.save_as(path)
    with pytest.raises(SeriesError, match=r"mf\.dcm: PerFrameFunctionalGroupsSequence holds 2"):
        read_series(path, on_damaged="error")


@pytest.mark.parametrize(
    "name", ["emri_small.dcm", "emri_small_big_endian.dcm", "emri_small_RLE.dcm"]
)
def test_pydicom_data_enhanced_mr_reads_like_simpleitk(name):
    sitk = pytest.importorskip("SimpleITK")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns when it cannot download
        path = get_testdata_file(name, download=False) if _has_download_arg() else None
    if path is None:
        pytest.skip(f"{name} comes with pydicom-data, which is not installed")
    with pytest.warns(UserWarning, match=r"lack ImagePositionPatient"):
        vol = read_series(path)  # these files carry no per-frame geometry
    np.testing.assert_array_equal(vol.pixels.numpy(), sitk.GetArrayFromImage(sitk.ReadImage(path)))


def _has_download_arg() -> bool:
    import inspect

    return "download" in inspect.signature(get_testdata_file).parameters
