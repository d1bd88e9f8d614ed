"""The RSNA 2024 Lumbar Spine competition's data: where it is, its tables, labels, survey.

The data lives in ``train_images/<study_id>/<series_id>/`` beside
``train_series_descriptions.csv``, ``train.csv`` and ``train_label_coordinates.csv``.

- :mod:`~eda_helpers.rsna.dataset`: :func:`find_dataset` (the data, or the built-in
  sample written into a cache folder).
- :mod:`~eda_helpers.rsna.tables`: :func:`read_descriptions`, :func:`read_labels`,
  :func:`read_coordinates` (the CSV files as checked DataFrames) and :func:`find_series`.
- :mod:`~eda_helpers.rsna.labels`: :func:`label_points` (points for the pictures) and
  :func:`locate_labels` (labels on the slices of a series' Volumes).
- :mod:`~eda_helpers.rsna.scan`: :func:`scan_dataset` (one row per series from the
  headers, with its quirks).
- :mod:`~eda_helpers.rsna.checks`: :func:`check_labels` (the label coordinates against
  the slice geometry and train.csv, one row per finding).
- :mod:`~eda_helpers.rsna.gallery`: :func:`plot_label_crops` (crops around one label in
  every study, by grade) and :func:`plot_contact_sheet` (a thumbnail per series with its
  flags).

The competition's spellings (conditions, levels, grades, series descriptions) are in
:mod:`eda_helpers.vocabulary` and re-exported here.
"""

from ..vocabulary import (
    CONDITIONS,
    LABELLED_ON,
    LEVELS,
    SERIES_DESCRIPTIONS,
    SEVERITIES,
    condition_name,
    level_name,
)
from .checks import (
    CHECK_COLUMNS,
    LABEL_RULES,
    LEVEL_SPACING_MM,
    SIDE_TOLERANCE_MM,
    check_labels,
)
from .dataset import (
    CACHE_ENV,
    DATA_ENV,
    KAGGLE_ROOT,
    DatasetLocation,
    find_dataset,
    sample_cache_dir,
)
from .gallery import plot_contact_sheet, plot_label_crops
from .labels import label_points, locate_labels
from .scan import SCAN_COLUMNS, default_workers, scan_dataset
from .tables import (
    COORDINATE_COLUMNS,
    DESCRIPTION_COLUMNS,
    LABEL_COLUMNS,
    SEVERITY,
    find_series,
    read_coordinates,
    read_descriptions,
    read_labels,
)

__all__ = [
    "CACHE_ENV",
    "CHECK_COLUMNS",
    "CONDITIONS",
    "COORDINATE_COLUMNS",
    "DATA_ENV",
    "DESCRIPTION_COLUMNS",
    "KAGGLE_ROOT",
    "LABELLED_ON",
    "LABEL_COLUMNS",
    "LABEL_RULES",
    "LEVELS",
    "LEVEL_SPACING_MM",
    "SCAN_COLUMNS",
    "SERIES_DESCRIPTIONS",
    "SEVERITIES",
    "SEVERITY",
    "SIDE_TOLERANCE_MM",
    "DatasetLocation",
    "check_labels",
    "condition_name",
    "default_workers",
    "find_dataset",
    "find_series",
    "label_points",
    "level_name",
    "locate_labels",
    "plot_contact_sheet",
    "plot_label_crops",
    "read_coordinates",
    "read_descriptions",
    "read_labels",
    "sample_cache_dir",
    "scan_dataset",
]
