"""The competition's vocabulary: its conditions, levels, grades and series descriptions.

One place for the spellings of the RSNA 2024 Lumbar Spine data, used both by
:mod:`eda_helpers.rsna` (to read and check the real tables) and by
:mod:`eda_helpers.sample` (to write the synthetic ones).
"""

from __future__ import annotations

__all__ = [
    "CONDITIONS",
    "LABELLED_ON",
    "LEVELS",
    "SERIES_DESCRIPTIONS",
    "SEVERITIES",
    "condition_name",
    "level_name",
]

CONDITIONS = (
    "spinal_canal_stenosis",
    "left_neural_foraminal_narrowing",
    "right_neural_foraminal_narrowing",
    "left_subarticular_stenosis",
    "right_subarticular_stenosis",
)
"""The five conditions, in the column order of ``train.csv``."""

LEVELS = ("l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1")
"""The five disc levels, in the column order of ``train.csv``."""

SEVERITIES = ("Normal/Mild", "Moderate", "Severe")
"""The values of ``train.csv``."""

SERIES_DESCRIPTIONS = ("Sagittal T1", "Sagittal T2/STIR", "Axial T2")
"""The competition's three series descriptions, in the order a sample study writes them."""

LABELLED_ON = {
    "spinal_canal_stenosis": "Sagittal T2/STIR",
    "left_neural_foraminal_narrowing": "Sagittal T1",
    "right_neural_foraminal_narrowing": "Sagittal T1",
    "left_subarticular_stenosis": "Axial T2",
    "right_subarticular_stenosis": "Axial T2",
}
"""Which series description carries the label points of each condition (the competition's
rule; a few studies break it)."""


def level_name(level: str) -> str:
    """A level as the label coordinates spell it.

    Examples
    --------
    >>> level_name("l4_l5")
    'L4/L5'
    """
    return level.upper().replace("_", "/")


def condition_name(condition: str) -> str:
    """A condition as the label coordinates spell it.

    Examples
    --------
    >>> condition_name("left_neural_foraminal_narrowing")
    'Left Neural Foraminal Narrowing'
    """
    return condition.replace("_", " ").title()
