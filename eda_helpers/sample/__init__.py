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

The labels are noisy on purpose too, as the competition's are (unless
``make_sample_dataset(..., label_errors=False)``): one or more errors of each rule of
:func:`eda_helpers.rsna.check_labels` are planted in the CSV files, each at its own
study, series and level, spread over the first three studies (all in the one study of a
1-study dataset). :func:`planted_label_errors` lists them as ``check_labels`` reports
them:

=====================  ======  ============  ======================================
rule                   study   series        what is planted
=====================  ======  ============  ======================================
side                   1st     Sagittal T1   right foraminal L1/L2 moved to the
                                             patient's left of the canal
level_order            1st     Sagittal T2   canal L5/S1 put on the L3/L4 disc
missing_instance       1st     Axial T2      left subarticular L2/L3 on an instance
                                             one past the last file
same_slice (and side)  2nd     Sagittal T1   right foraminal L3/L4 on the left one's
                                             slice
level_spacing          2nd     Sagittal T1   left foraminal L5/S1 66 mm below L4/L5
outside_image          3rd     Axial T2      right subarticular L4/L5, x 25 pixels
                                             past the last column
wrong_series           3rd     Sagittal T1   canal L3/L4 labelled on the T1 series
point_without_grade    3rd     Axial T2      right subarticular L1/L2 without grade
duplicate              3rd     Sagittal T1   left foraminal L2/L3 labelled twice
grade_without_point    3rd     (none)        right foraminal L5/S1 point left out
=====================  ======  ============  ======================================

The number of coordinate rows stays 25 per study (one duplicated, one left out).
"""

from .phantom import SpineLandmarks, sample_landmarks
from .rle import rle_encode_frame
from .writer import PLANTED_COLUMNS, SAMPLE_FORMAT, make_sample_dataset, planted_label_errors

__all__ = [
    "PLANTED_COLUMNS",
    "SAMPLE_FORMAT",
    "SpineLandmarks",
    "make_sample_dataset",
    "planted_label_errors",
    "rle_encode_frame",
    "sample_landmarks",
]
