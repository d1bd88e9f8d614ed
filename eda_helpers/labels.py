"""How label points are drawn: one style and one text layout for every picture.

The matplotlib figures (:mod:`eda_helpers.plotting`), the live viewer's frames and the
saved viewer's overlay (:mod:`eda_helpers.viewer`, :mod:`eda_helpers.frontend`) all draw
a label point the same way, legible on dark and on bright tissue:

- a thin ring with a small gap-free cross in a light colour, outlined in dark;
- the text in the same light colour with a dark halo, beside the marker on the outer
  side of the image (left of points in the left half, right of the others), so that a
  left/right pair such as the two subarticular zones of one disc spread apart and each
  text sits on its own side; the text itself is never mirrored or abbreviated, so
  "left"/"right" in a label always reads as written;
- texts on one side pushed apart vertically so that they never overlap.

:func:`layout` computes where each text goes, in the image's pixel coordinates; the
drawing code only renders what it says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["HALO", "HALO_RGB", "INK", "INK_RGB", "PlacedLabel", "layout", "marker_radius"]

# Light text and marker, dark halo: readable on black air and on bright fat alike.
INK = "#fff27a"
INK_RGB = (255, 242, 122)
HALO = "#000000"
HALO_RGB = (0, 0, 0)


class PlacedLabel(NamedTuple):
    """One label point and where its text goes (image pixels, column x and row y)."""

    x: float
    y: float
    text: str
    text_x: float
    text_y: float
    anchor: str  # "start": text begins at text_x; "end": text ends at text_x


def marker_radius(rows: int, cols: int) -> float:
    """Radius of the ring in image pixels: about 1/60 of the shorter side, at least 3."""
    return max(3.0, min(rows, cols) / 60.0)


def layout(
    points: Sequence[tuple[float, float, str]],
    rows: int,
    cols: int,
    *,
    text_height: float,
) -> list[PlacedLabel]:
    """Place the texts of label points beside their markers, kept apart.

    Parameters
    ----------
    points : sequence of (x, y, text)
        Column, row (image pixels) and text of each point, in one image.
    rows, cols : int
        Size of the image in pixels.
    text_height : float
        Height of one line of text in image pixels; texts on one side of the image are
        at least this far apart vertically.

    Returns
    -------
    list of PlacedLabel
        In the order of ``points``.

    Examples
    --------
    >>> [(p.anchor, p.text_y) for p in layout([(20, 50, "L"), (80, 50, "R")], 100, 100,
    ...                                        text_height=8)]
    [('end', 50.0), ('start', 50.0)]
    >>> [p.text_y for p in layout([(20, 50, "a"), (22, 52, "b")], 100, 100, text_height=8)]
    [50.0, 58.0]
    """
    r = marker_radius(rows, cols)
    placed: list[PlacedLabel | None] = [None] * len(points)
    for left_side in (True, False):
        mine = [
            (float(y), k)
            for k, (x, y, _) in enumerate(points)
            if (float(x) < (cols - 1) / 2) == left_side
        ]
        mine.sort()
        last = -float("inf")
        for y, k in mine:
            x, _, text = points[k]
            ty = max(y, last + text_height)
            last = ty
            gap = r + 2.0
            # Always outwards, even past the edge (the halo keeps it legible there):
            # a pair never crosses over, whatever the width of its texts.
            tx = float(x) - gap if left_side else float(x) + gap
            anchor = "end" if left_side else "start"
            placed[k] = PlacedLabel(float(x), y, str(text), tx, ty, anchor)
    return [p for p in placed if p is not None]
