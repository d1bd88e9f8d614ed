"""The saved-render building blocks of eda_helpers.frontend, without a browser."""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import pytest
from PIL import Image

from eda_helpers.frontend import Pane, encode_frames, frames_box, link_index, page, render_panes


def make_pane(n: int = 3, **kwargs) -> Pane:
    grey = np.stack([np.full((8, 12), 40 * k, np.uint8) for k in range(n)])
    options = {
        "frames": encode_frames(grey),
        "readouts": [f"slice {k}" for k in range(n)],
        "window": (0.0, 255.0),
        "data_range": (0.0, 255.0),
        "caption": "a caption",
        "still": encode_frames(grey[:1], fmt="png")[0],
        "shape": (8, 12),
    }
    options.update(kwargs)
    return Pane(**options)


def test_encode_frames_jpeg_and_png():
    grey = np.arange(2 * 16 * 16, dtype=np.uint32).reshape(2, 16, 16).astype(np.uint8)
    jpeg, png = encode_frames(grey), encode_frames(grey, fmt="png")
    assert [f[:3] for f in jpeg] == [b"\xff\xd8\xff"] * 2
    with Image.open(io.BytesIO(png[1])) as im:
        np.testing.assert_array_equal(np.asarray(im), grey[1])
    with pytest.raises(ValueError, match=r"grey: expected a \(slices, rows, cols\) uint8 array"):
        encode_frames(grey[0])
    with pytest.raises(ValueError, match=r"fmt: expected one of 'jpeg', 'png', got str 'gif'"):
        encode_frames(grey, fmt="gif")


def test_one_pane_is_the_root_and_several_are_wrapped():
    one = render_panes([make_pane(index=1)])
    assert one.count('data-eh-viewer=""') == 1 and '<div class="eh-viewer" data-eh-viewer=""' in one
    assert 'data-index="1"' in one and "data-eh-study" not in one
    two = render_panes(
        [make_pane(attrs={"data-series-id": "7", "data-stack": "0"}), make_pane()],
        root_attrs={"data-eh-study": ""},
    )
    assert two.count('data-eh-viewer=""') == 2 and 'data-series-id="7" data-stack="0"' in two
    assert '<div class="eh-panes" data-eh-study="">' in two
    assert two.count("<script>") == 1  # one script boots every pane


def test_pane_and_render_errors():
    with pytest.raises(ValueError, match=r"frames, readouts: expected one readout per frame"):
        make_pane(readouts=["only one"])
    with pytest.raises(ValueError, match=r"index: expected a slice index in 0\.\.2, got 3"):
        make_pane(index=3)
    with pytest.raises(ValueError, match=r"panes: expected at least one Pane, got none"):
        render_panes([])


def test_page_is_standalone():
    text = page(render_panes([make_pane()]), title="<T>")
    assert text.startswith("<!DOCTYPE html>") and "<title>&lt;T&gt;</title>" in text


def test_live_pieces_link_in_the_browser():
    slider, play = widgets.IntSlider(max=2), widgets.Play(max=2)
    box = frames_box([widgets.HTML(str(k)) for k in range(3)], index=1)
    links = link_index(slider, [play, box])
    assert box.selected_index == 1 and "eh-frames" in box._dom_classes
    assert [type(link).__name__ for link in links] == ["Link", "DirectionalLink"]
    assert links[1].target == (box, "selected_index")
    for w in [*links, slider, play, *box.children, box]:
        w.close()
