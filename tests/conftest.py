"""Shared fixtures: Agg backend, figures closed after each test, seeded data."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pydicom.data
import pytest

# A real dataset in the environment must never leak into the tests.
os.environ.pop("EDA_HELPERS_DATA", None)


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
def sample_root(tmp_path_factory) -> Path:
    """A 3-study sample dataset, written once per test session."""
    from eda_helpers import make_sample_dataset

    root = tmp_path_factory.mktemp("sample")
    make_sample_dataset(root, n_studies=3, seed=0)
    return root
