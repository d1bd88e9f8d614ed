"""eda_helpers: read, order, normalise and look at DICOM MRI series in Jupyter.

The path of the data: files -> :mod:`eda_helpers.io` -> :class:`Volume`
-> :mod:`eda_helpers.intensity` -> :mod:`eda_helpers.plotting` / :mod:`eda_helpers.viewer`.
"""

from . import rsna
from .intensity import normalize, to_uint8, value_range
from .io import SeriesError, read_series, read_stacks
from .plotting import plot_cross_reference, plot_grid, plot_histogram
from .sample import make_sample_dataset
from .viewer import SliceViewer, save_html
from .volume import Point, Volume

__all__ = [
    "Point",
    "SeriesError",
    "SliceViewer",
    "Volume",
    "make_sample_dataset",
    "normalize",
    "plot_cross_reference",
    "plot_grid",
    "plot_histogram",
    "read_series",
    "read_stacks",
    "rsna",
    "save_html",
    "to_uint8",
    "value_range",
]

__version__ = "0.1.0"
