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
- :mod:`~eda_helpers.rsna.study`: :func:`project_labels` (a study's label points on
  every stack of its series, in patient coordinates) and :func:`show_study` (its
  series side by side, linked in the browser).

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
from .dataset import (
    CACHE_ENV,
    DATA_ENV,
    KAGGLE_ROOT,
    DatasetLocation,
    find_dataset,
    sample_cache_dir,
)
from .labels import label_points, locate_labels
from .scan import SCAN_COLUMNS, default_workers, scan_dataset
from .study import PROJECTION_COLUMNS, StudyPane, StudyViewer, project_labels, show_study
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
    "CONDITIONS",
    "COORDINATE_COLUMNS",
    "DATA_ENV",
    "DESCRIPTION_COLUMNS",
    "KAGGLE_ROOT",
    "LABELLED_ON",
    "LABEL_COLUMNS",
    "LEVELS",
    "PROJECTION_COLUMNS",
    "SCAN_COLUMNS",
    "SERIES_DESCRIPTIONS",
    "SEVERITIES",
    "SEVERITY",
    "DatasetLocation",
    "StudyPane",
    "StudyViewer",
    "condition_name",
    "default_workers",
    "find_dataset",
    "find_series",
    "label_points",
    "level_name",
    "locate_labels",
    "project_labels",
    "read_coordinates",
    "read_descriptions",
    "read_labels",
    "sample_cache_dir",
    "scan_dataset",
    "show_study",
]
