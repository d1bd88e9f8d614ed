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

from .phantom import SpineLandmarks, sample_landmarks
from .rle import rle_encode_frame
from .writer import SAMPLE_FORMAT, make_sample_dataset

__all__ = [
    "SAMPLE_FORMAT",
    "SpineLandmarks",
    "make_sample_dataset",
    "rle_encode_frame",
    "sample_landmarks",
]
