"""eda_helpers: read, order, normalise and look at DICOM MRI series in Jupyter.

The path of the data: files -> :mod:`eda_helpers.io` -> :class:`Volume`
-> :mod:`eda_helpers.intensity` -> :mod:`eda_helpers.plotting` / :mod:`eda_helpers.viewer`.

The public names are imported on first use (``eh.read_series`` imports the reader,
``eh.SliceViewer`` ipywidgets), so that ``import eda_helpers`` and the command line start
quickly.
"""

from typing import TYPE_CHECKING

from ._lazy import attach

if TYPE_CHECKING:
    from . import rsna
    from .intensity import normalize, to_uint8, value_range
    from .io import SeriesError, read_series, read_stacks
    from .plotting import plot_cross_reference, plot_grid, plot_histogram
    from .sample import make_sample_dataset
    from .viewer import SliceViewer, save_html
    from .volume import Point, Volume

_WHERE = {
    "Point": ".volume",
    "SeriesError": ".io",
    "SliceViewer": ".viewer",
    "Volume": ".volume",
    "make_sample_dataset": ".sample",
    "normalize": ".intensity",
    "plot_cross_reference": ".plotting",
    "plot_grid": ".plotting",
    "plot_histogram": ".plotting",
    "read_series": ".io",
    "read_stacks": ".io",
    "save_html": ".viewer",
    "rsna": ".rsna",
    "to_uint8": ".intensity",
    "value_range": ".intensity",
}

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

__getattr__, _dir = attach(__name__, _WHERE)


def __dir__() -> list[str]:
    return sorted({*_dir(), "__version__"})


__version__ = "0.1.0"
