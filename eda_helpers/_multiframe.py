"""Multi-frame files: one record per frame, from the per-frame functional groups.

Enhanced MR/CT files (Philips, Siemens XA and others) hold a whole acquisition in one
file: NumberOfFrames frames, with each frame's geometry and values in
PerFrameFunctionalGroupsSequence, falling back on SharedFunctionalGroupsSequence:
PlanePositionSequence (ImagePositionPatient), PlaneOrientationSequence
(ImageOrientationPatient), PixelMeasuresSequence (PixelSpacing, SliceThickness,
SpacingBetweenSlices), PixelValueTransformationSequence (RescaleSlope,
RescaleIntercept), FrameVOILUTSequence (WindowCenter, WindowWidth) and
FrameContentSequence (StackID, TemporalPositionIndex). Each frame becomes a
:class:`~eda_helpers._header.SliceHeader` whose ``instance`` is its frame number
(1-based), so that the grouping, ordering and value rules of single-frame series apply
unchanged; frames without any position fall back on frame order, as slices without
position tags fall back on InstanceNumber.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pydicom

from ._header import (
    DamagedFileError,
    SeriesError,
    SliceHeader,
    _first_float,
    _floats,
    _get,
    _norm_value,
)

__all__ = ["expand"]

_SPACING_TAGS = (("SliceThickness", "thickness"), ("SpacingBetweenSlices", "spacing_between"))

# (functional group sequence, attribute, keyword used by the header rules)
_FRAME_TAGS = (
    ("PlanePositionSequence", "ImagePositionPatient", "ImagePositionPatient"),
    ("PlaneOrientationSequence", "ImageOrientationPatient", "ImageOrientationPatient"),
    ("PixelMeasuresSequence", "PixelSpacing", "PixelSpacing"),
    ("PixelMeasuresSequence", "SliceThickness", "SliceThickness"),
    ("PixelMeasuresSequence", "SpacingBetweenSlices", "SpacingBetweenSlices"),
    ("PixelValueTransformationSequence", "RescaleSlope", "RescaleSlope"),
    ("PixelValueTransformationSequence", "RescaleIntercept", "RescaleIntercept"),
    ("FrameVOILUTSequence", "WindowCenter", "WindowCenter"),
    ("FrameVOILUTSequence", "WindowWidth", "WindowWidth"),
    ("FrameContentSequence", "StackID", "StackID"),
    ("FrameContentSequence", "TemporalPositionIndex", "TemporalPositionIdentifier"),
    ("MREchoSequence", "EffectiveEchoTime", "EchoNumbers"),
)


def _joined(value: Any) -> str:
    return "\\".join(value) if isinstance(value, list) else str(value)


def _group_value(groups: list[Any], sequence: str, attribute: str, path: Any) -> Any:
    """The first value of ``sequence[0].attribute`` among ``groups`` (per-frame first)."""
    for group in groups:
        try:
            items = group.get(sequence) if group is not None else None
            if items:
                tag = pydicom.datadict.tag_for_keyword(attribute)
                assert tag is not None, attribute  # keywords of the dictionary
                value = _get(items[0], tag, path)
                if value is not None and value != "":
                    return value
        except DamagedFileError:
            raise
        except Exception as exc:
            raise DamagedFileError(
                f"{path}: {sequence} cannot be read ({type(exc).__name__}: {exc}); the "
                f"file is damaged: copy it again or leave it out"
            ) from exc
    return None


def expand(header: SliceHeader, ds: pydicom.Dataset) -> list[SliceHeader]:
    """One record per frame of a multi-frame file.

    Raises
    ------
    SeriesError
        If a multi-frame file has no per-frame functional groups (its frames may be
        anything: a cine loop, several planes), or if their number is not
        NumberOfFrames; a damaged value raises as in a single-frame header.
    """
    path = header.path
    try:
        per_frame = ds.get("PerFrameFunctionalGroupsSequence")
        shared_seq = ds.get("SharedFunctionalGroupsSequence")
    except Exception as exc:
        raise DamagedFileError(
            f"{path}: its functional groups cannot be read ({type(exc).__name__}: {exc}); "
            f"the file is damaged: copy it again or leave it out"
        ) from exc
    shared = shared_seq[0] if shared_seq else None
    if per_frame is None and shared is None and "SharedFunctionalGroupsSequence" not in ds:
        if "Enhanced" not in pydicom.uid.UID(str(ds.get("SOPClassUID", ""))).name:
            raise SeriesError(
                f"{path}: a multi-frame file ({header.frames} frames) without per-frame "
                f"functional groups, so the place of each frame is unknown; this reader "
                f"reads single-frame series and enhanced multi-frame files"
            )
    if per_frame is not None and len(per_frame) != header.frames:
        raise DamagedFileError(
            f"{path}: PerFrameFunctionalGroupsSequence holds {len(per_frame)} items but "
            f"NumberOfFrames is {header.frames}; the file is damaged: copy it again or "
            f"leave it out"
        )
    out = []
    for k in range(header.frames):
        groups = [per_frame[k] if per_frame is not None else None, shared]
        values: dict[str, Any] = {}
        for sequence, attribute, keyword in _FRAME_TAGS:
            value = _group_value(groups, sequence, attribute, path)
            if value is not None:
                values[keyword] = _norm_value(value)
        notes: list[str] = list(header.notes)
        changes: dict[str, Any] = {
            "frame": k,
            "instance": k + 1,
            "split_tags": {
                key: _joined(values[key])
                for key in ("StackID", "TemporalPositionIdentifier", "EchoNumbers")
                if key in values
            },
        }
        if "ImagePositionPatient" in values:
            changes["position"] = _floats(values, "ImagePositionPatient", 3, path)
        if "ImageOrientationPatient" in values:
            changes["orientation"] = _floats(values, "ImageOrientationPatient", 6, path)
        if "PixelSpacing" in values:
            spacing = _floats(values, "PixelSpacing", 2, path)
            if spacing is not None and min(spacing) <= 0:
                raise DamagedFileError(
                    f"{path}: PixelSpacing {spacing} of frame {k + 1} is not positive; "
                    f"the file is damaged: copy it again or leave it out"
                )
            changes["pixel_spacing"] = spacing
        for keyword, name in _SPACING_TAGS:
            if keyword in values:
                changes[name] = _first_float(values, keyword, path, notes)
        if "RescaleSlope" in values:
            slope = _first_float(values, "RescaleSlope", path)
            if slope == 0:
                raise DamagedFileError(
                    f"{path}: RescaleSlope 0 of frame {k + 1} maps every pixel to one "
                    f"value; the file is damaged: copy it again or leave it out"
                )
            changes["slope"] = 1.0 if slope is None else slope
        if "RescaleIntercept" in values:
            intercept = _first_float(values, "RescaleIntercept", path)
            changes["intercept"] = 0.0 if intercept is None else intercept
        if "WindowCenter" in values and "WindowWidth" in values:
            center = _first_float(values, "WindowCenter", path, notes)
            width = _first_float(values, "WindowWidth", path, notes)
            if center is not None and width is not None and width > 0:
                changes["window"] = (center, width)
        changes["notes"] = tuple(notes)
        out.append(dataclasses.replace(header, **changes))
    return out
