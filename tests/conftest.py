"""Shared fixtures: Agg backend, figures closed after each test, seeded data.

The whole run (tests, doctests and the notebooks' kernels, which inherit this process's
environment) caches the sample dataset in one temporary folder, set here before anything
is collected: never in the user's ``~/.cache/eda_helpers``. The sample is written once,
by the first doctest, test or notebook that asks :func:`eda_helpers.rsna.find_dataset`
for it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pydicom.data
import pytest

# A real dataset in the environment must never leak into the tests.
os.environ.pop("EDA_HELPERS_DATA", None)
_CACHE = tempfile.mkdtemp(prefix="eda_helpers-test-cache-")
os.environ["EDA_HELPERS_CACHE"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20241008)


@pytest.fixture(scope="session")
def dicomdir_tests() -> Path:
    """pydicom's real CT/MR series (written by scanners, not by us)."""
    return Path(pydicom.data.__file__).parent / "test_files" / "dicomdirtests"


@pytest.fixture(scope="session")
def sample_root() -> Path:
    """The 3-study sample dataset (seed 0) of ``find_dataset()``, written once per run
    into the run's temporary cache and shared with the doctests and notebooks."""
    from eda_helpers.rsna.dataset import _cached_sample

    return _cached_sample(3, 0)
