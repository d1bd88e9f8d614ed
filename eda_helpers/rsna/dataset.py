"""Where the data is: the competition's folder layout, found or replaced by the sample.

The RSNA 2024 Lumbar Spine data lives in ``train_images/<study_id>/<series_id>/`` beside
``train_series_descriptions.csv``, ``train.csv`` and ``train_label_coordinates.csv``.
:func:`find_dataset` looks for it where a user keeps it and, when there is none, writes
the built-in sample dataset into a cache folder (never into the repository or into a
data folder of the user's).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .. import _checks

DATA_ENV = "EDA_HELPERS_DATA"
"""Environment variable naming the root of a dataset in the competition's layout."""

CACHE_ENV = "EDA_HELPERS_CACHE"
"""Environment variable naming the folder the sample dataset is cached in."""

KAGGLE_ROOT = Path("/kaggle/input/rsna-2024-lumbar-spine-degenerative-classification")
"""Where a Kaggle notebook finds the competition data when it is attached."""

REQUIRED = ("train_images", "train_series_descriptions.csv")


@dataclass(frozen=True)
class DatasetLocation:
    """A dataset root and how it was found.

    Attributes
    ----------
    root : Path
        The folder holding ``train_images/`` and the CSV files.
    source : {"argument", "environment", "kaggle", "sample"}
        Where it came from: the ``root`` argument, the ``EDA_HELPERS_DATA`` variable,
        Kaggle's input folder, or the built-in sample dataset.
    """

    root: Path
    source: Literal["argument", "environment", "kaggle", "sample"]

    def __fspath__(self) -> str:
        return str(self.root)

    @property
    def is_sample(self) -> bool:
        """True for the built-in synthetic sample dataset."""
        return self.source == "sample"


def _check_layout(root: Path, what: str) -> Path:
    missing = [name for name in REQUIRED if not (root / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"{what}: {root} is not a dataset in the competition's layout: it has no "
            f"{' and no '.join(missing)}. Point it at the folder that holds train_images/ "
            f"and train_series_descriptions.csv."
        )
    return root


def sample_cache_dir() -> Path:
    """The folder the built-in sample dataset is cached in.

    ``$EDA_HELPERS_CACHE`` if set, else ``$XDG_CACHE_HOME/eda_helpers``, else
    ``~/.cache/eda_helpers``.
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "eda_helpers"


def find_dataset(
    root: str | os.PathLike[str] | None = None, *, n_studies: int = 3, seed: int = 0
) -> DatasetLocation:
    """Find the dataset to explore, falling back on the built-in sample dataset.

    In order: ``root`` if given; the folder named by ``$EDA_HELPERS_DATA``; Kaggle's
    competition folder when it is attached; else the sample dataset (``n_studies``
    studies from ``seed``), written once into :func:`sample_cache_dir` and reused.

    Parameters
    ----------
    root : path-like, optional
        A dataset root in the competition's layout.
    n_studies, seed : int
        The sample dataset to use when no real one is found.

    Returns
    -------
    DatasetLocation

    Raises
    ------
    FileNotFoundError
        If ``root`` or ``$EDA_HELPERS_DATA`` names a folder without the competition's
        layout (an explicit choice that is wrong is an error, not a silent fallback).
    OSError
        If the sample is needed and the cache folder cannot be written to; the message
        names the folder and ``$EDA_HELPERS_CACHE``.
    TypeError, ValueError
        If ``root`` is not a path, or ``n_studies`` / ``seed`` not integers >= 1 / >= 0.
    """
    n_studies = _checks.integer("n_studies", n_studies, minimum=1)
    seed = _checks.integer("seed", seed, minimum=0)
    if root is not None:
        path = _checks.path("root", root).expanduser()
        return DatasetLocation(_check_layout(path, "root"), "argument")
    if os.environ.get(DATA_ENV):
        path = Path(os.environ[DATA_ENV]).expanduser()
        return DatasetLocation(_check_layout(path, f"${DATA_ENV}"), "environment")
    if all((KAGGLE_ROOT / name).exists() for name in REQUIRED):
        return DatasetLocation(KAGGLE_ROOT, "kaggle")
    return DatasetLocation(_cached_sample(n_studies, seed), "sample")


def _cached_sample(n_studies: int, seed: int) -> Path:
    from ..sample import SAMPLE_FORMAT, make_sample_dataset

    cache = sample_cache_dir()
    final = cache / f"sample-v{SAMPLE_FORMAT}-{n_studies}studies-seed{seed}"
    if (final / "train_series_descriptions.csv").exists():
        return final
    try:
        cache.mkdir(parents=True, exist_ok=True)
        # Written beside its final place and renamed: a run cut short leaves no dataset
        # that looks complete, and two notebooks starting at once do not mix their files.
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=cache))
    except OSError as exc:
        where = f"${CACHE_ENV}" if os.environ.get(CACHE_ENV) else "the sample cache"
        raise type(exc)(
            exc.errno,
            f"{where}: cannot write the sample dataset into {cache} "
            f"({exc.strerror or type(exc).__name__}); the cache must be a folder this user "
            f"can write to: set {CACHE_ENV} to another folder (or point {DATA_ENV} at a "
            f"dataset)",
        ) from None
    try:
        make_sample_dataset(tmp, n_studies=n_studies, seed=seed)
        try:
            tmp.rename(final)
        except OSError:
            if not (final / "train_series_descriptions.csv").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
