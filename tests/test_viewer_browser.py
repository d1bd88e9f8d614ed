"""The SliceViewer in a real browser: JupyterLab + Debian's chromium, driven by Playwright.

Starts a JupyterLab server on a free localhost port (every Jupyter/IPython directory in a
temporary folder, no announcements, no update checks, no extension manager look-ups),
runs a small notebook that shows a SliceViewer, then presses ArrowRight on the focused
slice slider and checks that the image and the readout follow. The time from the key
press to the new image, measured in the page, is printed (``-s``) and kept in the test's
``user_properties`` (written by ``--junitxml`` with ``-o junit_family=xunit1``).

Needs chromium at /usr/bin/chromium (``apt-get install chromium``) and the ``playwright``
Python package; ``playwright install`` is not needed. Without them the test is skipped,
except when ``CI=true``, where it fails.

Run with::

    python -m pytest tests/test_viewer_browser.py -m browser -s
"""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eda_helpers.viewer import render_slice

pytestmark = [pytest.mark.browser, pytest.mark.skipif(sys.platform == "win32", reason="POSIX")]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 60  # s
N_SLICES, START, PRESSES = 16, 4, 8

# Run in the notebook's kernel and, to work out the expected frames, in this process.
PIXELS_CODE = f"""\
import torch

rows = torch.arange(96)[:, None]
cols = torch.arange(128)[None, :]
# A bright square that moves with the slice index, on a gradient.
pixels = torch.stack([
    cols * 20 + 2000 * ((abs(rows - 48) < 12) & (abs(cols - 10 - 9 * i) < 12))
    for i in range({N_SLICES})
]).to(torch.int16)
"""
WINDOW = (0.0, 4500.0)
NOTEBOOK_CELLS = [
    PIXELS_CODE,
    "from eda_helpers import Point, SliceViewer\n"
    "\n"
    f"viewer = SliceViewer(pixels, window={WINDOW}, index={START}, width=384,\n"
    "                     points=[Point(7, 64, 20, 'L4/L5')])\n"
    "viewer",
]
KERNEL_TIMEOUT_MS = 45_000  # kernel start, then the first run (imports torch)
STEP_TIMEOUT_MS = 10_000


def _fail_or_skip(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_notebook(path: Path) -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(NOTEBOOK_CELLS)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1))


@pytest.fixture
def chromium() -> Path:
    """Debian's chromium, checked before any server is started."""
    if not CHROMIUM.exists():
        _fail_or_skip(f"{CHROMIUM} not found: apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _fail_or_skip("the playwright Python package is not installed")
    return CHROMIUM


@pytest.fixture
def lab_server(chromium: Path, tmp_path: Path) -> Iterator[str]:
    """A JupyterLab server on a free localhost port; yields the notebook's URL."""
    root = tmp_path / "root"
    root.mkdir()
    _write_notebook(root / "viewer.ipynb")
    dirs = {
        name: tmp_path / name.lower()
        for name in (
            "JUPYTER_CONFIG_DIR",
            "JUPYTER_DATA_DIR",
            "JUPYTER_RUNTIME_DIR",
            "IPYTHONDIR",
            "MPLCONFIGDIR",
        )
    }
    for d in dirs.values():
        d.mkdir()
    # The announcements plugin asks to fetch news; turn it off in this server's config.
    (dirs["JUPYTER_CONFIG_DIR"] / "labconfig").mkdir()
    (dirs["JUPYTER_CONFIG_DIR"] / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env = {**os.environ, **{k: str(v) for k, v in dirs.items()}}
    env.pop("JUPYTER_PATH", None)  # kernels and lab extensions come from sys.prefix
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        f"--LabApp.user_settings_dir={tmp_path / 'user-settings'}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
    ]  # fmt: skip
    if os.geteuid() == 0:  # CI containers often run as root
        cmd.append("--allow-root")
    log_path = tmp_path / "jupyterlab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        status = f"http://127.0.0.1:{port}/api/status?token={token}"
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(status, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in {SERVER_START_TIMEOUT} s")
            time.sleep(0.25)
        yield f"http://127.0.0.1:{port}/lab/tree/viewer.ipynb?token={token}"
    finally:
        # The server and its kernels are in their own process group (start_new_session).
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue


def test_viewer_steps_with_the_keyboard_in_jupyterlab(chromium, lab_server, tmp_path, request):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.set_default_timeout(STEP_TIMEOUT_MS)
            page.goto(lab_server, timeout=KERNEL_TIMEOUT_MS)
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=KERNEL_TIMEOUT_MS)
            # Run > Run All Cells, once the kernel is up.
            # The indicator also says "idle" before a kernel is attached ("No Kernel").
            page.wait_for_function(
                """() => {
                    const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
                    const name = document.querySelector('.jp-Toolbar-kernelName');
                    return status && name && status.dataset.status === 'idle'
                        && !name.innerText.includes('No Kernel');
                }""",
                timeout=KERNEL_TIMEOUT_MS,
            )
            page.locator(".lm-MenuBar-item", has_text="Run").first.click()
            page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()

            viewer = page.locator(".eda-slice-viewer")
            img = viewer.locator("img").first
            error = page.locator(".jp-OutputArea-output[data-mime-type$='stderr']")
            img.or_(error).first.wait_for(state="visible", timeout=KERNEL_TIMEOUT_MS)
            if error.count():
                pytest.fail(f"the notebook cell failed:\n{error.first.inner_text()}")
            readout = viewer.locator(".widget-html-content").first
            assert f"slice {START} of 0–{N_SLICES - 1}" in readout.inner_text()

            # Record, in the page, when a key goes down and when the image src changes.
            page.evaluate(
                """(img) => {
                    window.__keyAt = [];
                    window.__imgAt = [];
                    document.addEventListener('keydown', () => {
                        window.__keyAt.push(performance.now());
                    }, true);
                    new MutationObserver(() => window.__imgAt.push(performance.now()))
                        .observe(img, {attributes: true, attributeFilter: ['src']});
                }""",
                img.element_handle(),
            )
            handle = viewer.locator(".widget-slider .noUi-handle").first
            handle.focus()
            latencies = []
            texts = {START: readout.inner_text()}
            for k in range(1, PRESSES + 1):
                src_before = img.get_attribute("src")
                page.keyboard.press("ArrowRight")
                page.wait_for_function(f"window.__imgAt.length >= {k}")
                page.wait_for_function(
                    "([el, text]) => el.innerText.includes(text)",
                    arg=[readout.element_handle(), f"slice {START + k} of"],
                )
                assert img.get_attribute("src") != src_before
                latencies.append(
                    page.evaluate(f"window.__imgAt[{k - 1}] - window.__keyAt[{k - 1}]")
                )
                texts[START + k] = readout.inner_text()
                # One key press at a time, as a person stepping through slices does; back
                # to back, each press also waits for the previous one's messages to settle.
                page.wait_for_timeout(250)
            # The label point is on instance 7, slice 6, and only there.
            assert [i for i, text in texts.items() if "labels: L4/L5" in text] == [6]
            # The browser shows exactly the frame of the slice it says.
            shown = base64.b64decode(
                page.evaluate(
                    """async (img) => {
                        const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
                        let s = '';
                        for (const b of bytes) s += String.fromCharCode(b);
                        return btoa(s);
                    }""",
                    img.element_handle(),
                )
            )
            namespace: dict = {}
            exec(PIXELS_CODE, namespace)
            with Image.open(io.BytesIO(shown)) as im:
                np.testing.assert_array_equal(
                    np.asarray(im), render_slice(namespace["pixels"][START + PRESSES], *WINDOW)
                )

            shot = tmp_path / "jupyterlab-slice-viewer.png"
            page.screenshot(path=str(shot))
            img.screenshot(path=str(tmp_path / "slice.png"))

            # The play button steps the slider in the browser, up to the last slice.
            viewer.locator(".widget-play button").first.click()
            page.wait_for_function(
                "([el, text]) => el.innerText.includes(text)",
                arg=[readout.element_handle(), f"slice {N_SLICES - 1} of"],
            )
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print(
                f"\nscreenshot at failure: {tmp_path / 'failure.png'}; server log: "
                f"{tmp_path / 'jupyterlab.log'}"
            )
            raise
        finally:
            browser.close()

    median = statistics.median(latencies)
    # Kept with the test report (record_property would warn under junit_family=xunit2).
    request.node.user_properties += [
        ("key_to_image_ms", [round(x, 1) for x in latencies]),
        ("key_to_image_median_ms", round(median, 1)),
        ("screenshot", str(shot)),
    ]
    print(
        f"\nArrowRight -> new image in the browser: {', '.join(f'{x:.1f}' for x in latencies)}"
        f" ms (median {median:.1f} ms); screenshot {shot}"
    )
    for path in (shot, tmp_path / "slice.png"):
        with Image.open(path) as im:
            pixels = np.asarray(im.convert("L"), dtype=np.float64)
        assert pixels.std() > 10, f"{path.name} looks blank (std {pixels.std():.1f})"
