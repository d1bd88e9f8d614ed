"""A survey of a whole dataset from the file headers: one row per series, with its quirks.

:func:`scan_dataset` reads the headers of every file (not the pixels), in parallel, and
returns one row per series with its geometry and its quirks.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import multiprocessing.context
import os
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _checks, geometry

if TYPE_CHECKING:
    import pandas as pd

    from .tables import Split

# The worker processes import this module to run _scan_chunk: it imports only numpy and
# the package's light modules at the top, and pandas, tqdm and the reader where they
# are used, so that a worker starts without them.

SCAN_COLUMNS = (
    "study_id",
    "series_id",
    "description",
    "n_files",
    "n_stacks",
    "sizes",
    "pixel_spacing",
    "slice_step_min",
    "slice_step_max",
    "orientation",
    "transfer_syntax",
    "first_instance",
    "last_instance",
    "instance_gaps",
    "instance_order",
    "order_disagrees",
    "n_unreadable",
    "unreadable",
    "notes",
    "odd",
)
"""The columns of :func:`scan_dataset`, in order."""

_STEP_DECIMALS = 4

POOL_MIN_SERIES = 1000
"""Series below which the default scan runs in this process: a pool of worker processes
takes seconds to start (each worker imports the reader), more than scanning this many
series takes in one process. ``benchmarks/bench_scan.py`` measures the break-even size:
540 to 900 series on 2 busy CPUs; the competition's 6,300 series are well above."""

_MAIN_GUARD = (
    'In a script, put the code that calls scan_dataset under `if __name__ == "__main__":` '
    "(the worker processes import the script again), or pass max_workers=1 to scan in "
    "this process."
)


def _natural(path: Path) -> tuple[int, int, str]:
    stem = path.stem
    return (0, int(stem), path.name) if stem.isdigit() else (1, 0, path.name)


def _joined(values: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(v for v in values if v))


def _hidden(path: Path) -> bool:
    # .DS_Store, macOS's ._<name> copies, .ipynb_checkpoints: not part of the data.
    return path.name.startswith(".")


def _stack_facts(stack: Sequence[Any]) -> dict[str, Any]:
    """The scan's view of :func:`eda_helpers.geometry.stack_facts` for one stack."""
    facts: dict[str, Any] = {"plane": "unknown", "steps": [], "order": "", "duplicates": 0}
    if any(h.position is None or h.orientation is None for h in stack):
        facts["missing"] = True
        return facts
    try:
        found = geometry.stack_facts(
            [h.position for h in stack],
            stack[0].orientation,
            [-1 if h.instance is None else h.instance for h in stack],
        )
    except ValueError:  # cosines that are parallel (or zero) define no plane
        facts["degenerate"] = True
        return facts
    facts["plane"] = found.plane
    facts["steps"] = [round(float(s), _STEP_DECIMALS) for s in found.steps]
    facts["duplicates"] = sum(len(r) - 1 for r in found.duplicate_runs)
    facts["irregular"] = bool(found.irregular.size)
    facts["order"] = found.numbering
    return facts


def _missing_numbers(distinct: Sequence[int], most: int) -> list[int]:
    """The first ``most`` numbers missing between the sorted ``distinct`` numbers."""
    # Walked gap by gap: one bad InstanceNumber (2**31 - 1) must not build a range of
    # two billion numbers.
    out: list[int] = []
    for a, b in itertools.pairwise(distinct):
        out.extend(range(a + 1, min(b, a + 1 + most - len(out))))
        if len(out) >= most:
            break
    return out


def _instance_notes(inst: list[int], n_headers: int) -> tuple[int, list[str]]:
    """Numbers missing between the first and last InstanceNumber, and notes on them."""
    notes: list[str] = []
    distinct = sorted(set(inst))
    gaps = (inst[-1] - inst[0] + 1 - len(distinct)) if inst else 0
    if inst and inst[0] != 1:
        notes.append(f"instances start at {inst[0]}")
    if gaps:
        missing = _missing_numbers(distinct, 5)
        shown = ", ".join(map(str, missing)) + (", ..." if gaps > 5 else "")
        notes.append(f"{gaps} instance number(s) missing ({shown})")
    if len(inst) != len(distinct):
        notes.append(f"{len(inst) - len(distinct)} duplicate instance number(s)")
    if len(inst) != n_headers:
        notes.append(f"{n_headers - len(inst)} file(s) without InstanceNumber")
    return gaps, notes


def _stack_notes(facts: Sequence[dict[str, Any]]) -> list[str]:
    """Notes on the geometry of the stacks, from :func:`_stack_facts`."""
    notes = []
    orders = [f["order"] for f in facts]
    if "against normal" in orders:
        notes.append("numbered against the slice normal")
    if "mixed" in orders:
        notes.append("instance order is not monotonic along the normal")
    if any(f.get("missing") for f in facts):
        notes.append("position or orientation tags missing")
    if any(f.get("degenerate") for f in facts):
        notes.append("ImageOrientationPatient defines no plane")
    duplicates = sum(f["duplicates"] for f in facts)
    if duplicates:
        notes.append(f"{duplicates} duplicate slice position(s)")
    if any(f.get("irregular") for f in facts):
        notes.append("irregular slice steps")
    return notes


def _scan_series(folder: Path) -> dict[str, Any]:
    """One row of the scan (without ids and description) from the headers of a folder."""
    from ..io import read_headers

    # A broken symbolic link is kept, to be reported as unreadable.
    files = sorted(
        (p for p in folder.iterdir() if not _hidden(p) and (p.is_file() or not p.exists())),
        key=_natural,
    )
    stacks, bad = read_headers(files)
    headers = [h for s in stacks for h in s]
    facts = [_stack_facts(s) for s in stacks]
    inst = sorted(h.instance for h in headers if h.instance is not None)
    sizes = sorted({(h.rows, h.cols) for h in headers})
    spacings = sorted(
        {tuple(round(v, 4) for v in h.pixel_spacing) for h in headers if h.pixel_spacing}
    )
    uids = {h.series_uid for h in headers}

    notes = []
    if not files:
        notes.append("empty folder")
    elif not headers:
        notes.append("no readable image")
    notes += [f"{len(stacks)} stacks"] if len(stacks) > 1 else []
    notes += [f"{len(uids)} SeriesInstanceUIDs"] if len(uids) > 1 else []
    gaps, instance_notes = _instance_notes(inst, len(headers))
    notes += instance_notes + _stack_notes(facts)
    notes += ["several slice sizes"] if len(sizes) > 1 else []
    notes += ["several pixel spacings"] if len(spacings) > 1 else []
    notes += ["PixelSpacing missing"] if any(h.pixel_spacing is None for h in headers) else []
    notes += [f"{len(bad)} unreadable file(s): {bad[0][1]}"] if bad else []

    steps = [abs(s) for f in facts for s in f["steps"]]
    orders = [f["order"] for f in facts]
    return {
        "n_files": len(files),
        "n_stacks": len(stacks),
        "sizes": ", ".join(f"{r}x{c}" for r, c in sizes),
        "pixel_spacing": ", ".join(f"{r:g}x{c:g}" for r, c in spacings),
        "slice_step_min": min(steps) if steps else float("nan"),
        "slice_step_max": max(steps) if steps else float("nan"),
        "orientation": _joined(f["plane"] for f in facts),
        "transfer_syntax": _joined(h.transfer_syntax.name for h in headers),
        "first_instance": inst[0] if inst else None,
        "last_instance": inst[-1] if inst else None,
        "instance_gaps": gaps,
        "instance_order": _joined(orders),
        "order_disagrees": any(o in ("against normal", "mixed") for o in orders),
        "n_unreadable": len(bad),
        "unreadable": ", ".join(p.name for p, _ in bad),
        "notes": notes,
        "header_description": headers[0].description if headers else "",
    }


def _scan_chunk(folders: Sequence[str]) -> list[dict[str, Any]]:
    """The work unit of :func:`scan_dataset`: a few series folders, scanned in turn."""
    rows = []
    for f in folders:
        try:
            rows.append(_scan_series(Path(f)))
        except Exception as exc:  # one series that cannot be scanned is a row, not a crash
            note = f"scan failed ({type(exc).__name__}: {exc})"
            rows.append(_failed_row(note, n_files=_count_files(Path(f))))
    return rows


def _count_files(folder: Path) -> int:
    """The files of a series folder, counted as the scan counts them (0 if unlistable)."""
    try:
        return sum(1 for p in folder.iterdir() if not _hidden(p) and not p.is_dir())
    except OSError:
        return 0


def _failed_row(note: str, *, n_files: int = 0) -> dict[str, Any]:
    """The row of a series that has no scan: a missing folder, or one that failed. A
    folder that failed still says how many files it holds."""
    return {
        "n_files": n_files, "n_stacks": 0, "sizes": "", "pixel_spacing": "",
        "slice_step_min": float("nan"), "slice_step_max": float("nan"),
        "orientation": "", "transfer_syntax": "", "first_instance": None,
        "last_instance": None, "instance_gaps": 0, "instance_order": "",
        "order_disagrees": False, "n_unreadable": 0, "unreadable": "",
        "notes": [" ".join(note.split())], "header_description": "",
    }  # fmt: skip


def _mp_context() -> multiprocessing.context.BaseContext:
    """How the default pool starts its workers: from a forkserver, or spawn.

    fork is never used: forking a process whose other threads hold locks can leave the
    child stuck, and a Jupyter kernel runs Python threads while numpy's BLAS and
    torch's OpenMP pools add threads of their own (Python 3.12 and later warn about
    it). The forkserver forks the workers from a clean process that imported this
    module once per session. Where there is no forkserver (Windows): spawn.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["__main__", __name__])
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def default_workers() -> int:
    """The number of worker processes :func:`scan_dataset` starts by default.

    The CPUs this process may run on (at most 32).

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        n = os.cpu_count() or 1
    return max(1, min(32, n))


def _main_is_a_script() -> bool:
    """True when ``__main__`` is a script file, which worker processes import again."""
    main = sys.modules.get("__main__")
    return bool(getattr(main, "__file__", None)) and not hasattr(sys, "ps1")


def _importing_main() -> bool:
    """True in a worker process that is importing the parent's main module."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def _pool_failure(pool: type[Executor], exc: BaseException, what: str) -> RuntimeError:
    """The error for an executor that failed, ending with what to do about it."""
    failed = (
        f"executor: {what} failed in {pool.__name__} "
        f"({type(exc).__name__}: {' '.join(str(exc).split()) or 'no message'})"
    )
    if issubclass(pool, ProcessPoolExecutor) and _main_is_a_script():
        # A script without a main guard is the usual cause: the last line says so.
        return RuntimeError(
            f"{failed}; the worker processes stopped (or have too little memory).\n{_MAIN_GUARD}"
        )
    return RuntimeError(
        f"{failed}; its workers must be able to import eda_helpers (install it where they "
        f"run) and have memory to spare. Pass max_workers=1 to scan in this process."
    )


def _run_in_process(chunks: list[list[str]], bar: Any) -> list[list[dict[str, Any]]]:
    results = []
    for chunk in chunks:
        results.append(_scan_chunk(chunk))
        if bar is not None:
            bar.update(len(chunk))
    return results


def _run_chunks(
    chunks: list[list[str]],
    *,
    executor: Executor | None,
    workers: int,
    progress: bool,
    total: int,
) -> list[list[dict[str, Any]]]:
    # No tqdm object at all without a bar: even a disabled one starts tqdm's monitor thread.
    if progress:
        from tqdm.auto import tqdm

        bar_context: Any = tqdm(total=total, desc="scan", unit="series")
    else:
        bar_context = contextlib.nullcontext()
    with bar_context as bar:
        if executor is None and (workers == 1 or len(chunks) <= 1):
            return _run_in_process(chunks, bar)
        results: list[list[dict[str, Any]] | None] = [None] * len(chunks)
        pool = executor
        futures: dict[Future[list[dict[str, Any]]], int] = {}
        k = 0
        try:
            if pool is None:
                pool = ProcessPoolExecutor(
                    max_workers=min(workers, len(chunks)), mp_context=_mp_context()
                )
            for k, chunk in enumerate(chunks):
                futures[pool.submit(_scan_chunk, chunk)] = k
            for fut in as_completed(futures):
                k = futures[fut]
                results[k] = fut.result()
                if bar is not None:
                    bar.update(len(chunks[k]))
        except Exception as exc:
            # _scan_chunk turns the failure of a series into a row, so this is the
            # executor failing: a worker killed, one that lacks the package, or a
            # script whose workers cannot import it.
            what = f"the task scanning {len(chunks[k])} series from {chunks[k][0]}"
            used = ProcessPoolExecutor if pool is None else type(pool)
            raise _pool_failure(used, exc, what) from exc
        finally:
            for fut in futures:
                fut.cancel()
            if executor is None and pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    return results  # type: ignore[return-value]


def _study_ids(studies: object) -> set[int]:
    if isinstance(studies, int | np.integer | str | os.PathLike):
        items: list[object] = [studies]
    elif isinstance(studies, Iterable):
        items = list(studies)
    else:
        items = [studies]
    ids = set()
    for s in items:
        try:
            ids.add(_checks.identifier("studies", s))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{exc}; pass one study id or a list of them") from None
    return ids


def scan_dataset(
    root: str | os.PathLike[str],
    *,
    split: Split = "train",
    studies: int | Iterable[int] | None = None,
    executor: Executor | None = None,
    max_workers: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Survey every series of the dataset from the file headers: one row per series.

    Only the headers are read (no pixel data is decoded), by the reader of
    :func:`eda_helpers.read_stacks`, and the files are grouped into stacks as it
    groups them. No file stops the scan: unreadable files (truncated, damaged, not
    DICOM) are counted and named in their series' row.

    Parameters
    ----------
    root : path-like
        The dataset root (a :class:`DatasetLocation` works too).
    split : {"train", "test"}
        Scan ``train_images/`` (descriptions from ``train_series_descriptions.csv``) or
        ``test_images/``.
    studies : int, str or iterable of them, optional
        Scan only this study id, or these (ints or strings of digits).
    executor : concurrent.futures.Executor, optional
        Where the work runs, one task per chunk of series. By default a
        ``ProcessPoolExecutor`` of ``max_workers`` processes, created and shut down by
        this call, which starts its workers from a forkserver (spawn on Windows); the
        forkserver imports this module once per Python session. Any other executor
        is used as
        given and left running, such as a Dask cluster's ``client.get_executor()``.
        The table does not depend on the executor.
    max_workers : int, optional
        Processes of the default executor. By default: none (the scan runs in this
        process) for fewer than :data:`POOL_MIN_SERIES` series, where a pool would take
        longer to start than the scan takes, else :func:`default_workers`. 1 always
        scans in this process, without a pool.
    progress : bool, default True
        Show a ``tqdm.auto`` progress bar over the series.

    Returns
    -------
    pandas.DataFrame
        One row per series folder (and per series of the descriptions file that has no
        folder), sorted by ``study_id`` then ``series_id``, with the columns of
        :data:`SCAN_COLUMNS`:

        - ``study_id``, ``series_id`` (int64), ``description`` (from the descriptions
          file, else the files' SeriesDescription);
        - ``n_files`` (files in the folder), ``n_stacks`` (as :func:`read_stacks`
          would return);
        - ``sizes`` ("rows x cols" of the slices, every size found), ``pixel_spacing``
          (every PixelSpacing, "row x col" mm);
        - ``slice_step_min``, ``slice_step_max`` (float, mm): the smallest and largest
          step between neighbouring slices along the normal within a stack (NaN when no
          stack has two slices); 0 means duplicate positions;
        - ``orientation``: "sagittal", "coronal", "axial", "oblique" or "unknown" per
          stack (:func:`eda_helpers.geometry.plane_name`), the distinct ones joined;
        - ``transfer_syntax``: the transfer syntax names found;
        - ``first_instance``, ``last_instance`` (nullable int), ``instance_gaps``
          (numbers missing between them);
        - ``instance_order``: per stack, whether InstanceNumber grows "along normal"
          (the geometric order of :func:`read_stacks`), "against normal", or is
          "mixed"; ``order_disagrees`` (bool): some stack is not "along normal";
        - ``n_unreadable``, ``unreadable``: how many files could not be read as DICOM
          images and their names;
        - ``notes``: the quirks of the series in words ("3 stacks; instances start at
          11; numbered against the slice normal"), and ``odd`` (bool): it has notes.

    Raises
    ------
    FileNotFoundError
        If ``root`` has no ``<split>_images`` folder.
    ValueError
        If ``split`` is unknown, ``max_workers < 1``, a study id is not a whole number,
        or the descriptions file has a missing column.
    TypeError
        If ``executor`` is not a ``concurrent.futures.Executor``, ``max_workers`` not an
        integer, or a study id neither an int nor a string.
    RuntimeError
        If the executor fails to start or to run a task (a worker killed, workers that
        cannot import eda_helpers, a script without a main guard: see Notes). A series
        that cannot be scanned does not raise: its row says "scan failed (...)" in
        ``notes``.

    Warns
    -----
    UserWarning
        If folders under ``<split>_images`` are not named by numbers, or files lie
        directly in a study folder (both are skipped), or some of ``studies`` are
        nowhere. Hidden files and folders (".DS_Store", "._1.dcm") are skipped silently.

    Notes
    -----
    The workers of the default executor are started by a forkserver, which, like
    spawn, imports the main module again: in a script, call ``scan_dataset`` under
    ``if __name__ == "__main__":`` (the error says so when a script lacks it). A
    notebook needs nothing of the kind. The workers import only this module at first
    (no pandas, no plotting).

    Examples
    --------
    >>> from eda_helpers.rsna import find_dataset
    >>> scan = scan_dataset(find_dataset(), studies=1521327889, progress=False)
    >>> for row in scan.itertuples():
    ...     print(f"{row.description:17} {row.n_stacks} {row.orientation:9} {row.notes}".strip())
    Sagittal T2/STIR  1 sagittal  instances start at 11
    Axial T2          3 axial     3 stacks; numbered against the slice normal
    Sagittal T1       1 sagittal
    """
    if _importing_main():
        # This is a worker process importing a script that calls scan_dataset at its
        # top level: starting a pool from here would fail with a less helpful error.
        raise RuntimeError(f"scan_dataset: called while a worker process starts. {_MAIN_GUARD}")
    from .tables import _check_split, _csv_name, _path, read_descriptions

    _check_split(split)
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(
            f"executor: expected a concurrent.futures.Executor (such as a "
            f"ProcessPoolExecutor or a Dask client.get_executor()), got "
            f"{type(executor).__name__}; pass None for the default process pool"
        )
    if max_workers is not None:
        max_workers = _checks.integer("max_workers", max_workers, minimum=1)
    base = _path(root)
    images = base / f"{split}_images"
    if not images.is_dir():
        raise FileNotFoundError(
            f"root: {base} has no {split}_images/ folder; pass the dataset root (the folder "
            f"that holds {split}_images/ and the CSV files)"
        )
    wanted = None if studies is None else _study_ids(studies)

    found = _series_folders(images, wanted)
    csv_name = _csv_name(split, "series_descriptions")
    has_csv = (base / csv_name).exists()
    listed = _descriptions(read_descriptions(base, split=split), wanted) if has_csv else {}
    if wanted is not None:
        absent = sorted(wanted - {k[0] for k in found} - {k[0] for k in listed})
        if absent:
            _checks.warn(
                f"studies: {len(absent)} of the {len(wanted)} study id(s) asked for are "
                f"neither in {split}_images/ nor in {csv_name}: "
                f"{', '.join(map(str, absent[:10]))}; they have no rows"
            )

    keys = sorted(found)
    size = max(1, -(-len(keys) // 64))
    chunks = [[str(found[k]) for k in keys[i : i + size]] for i in range(0, len(keys), size)]
    if max_workers is not None:
        workers = max_workers
    elif executor is None and len(keys) < POOL_MIN_SERIES:
        workers = 1  # a pool would take longer to start than the scan takes here
    else:
        workers = default_workers()
    results = _run_chunks(
        chunks, executor=executor, workers=workers, progress=progress, total=len(keys)
    )
    scanned = dict(zip(keys, (row for chunk in results for row in chunk), strict=True))
    return _table(found, listed, scanned, csv_name if has_csv else None)


def _series_folders(images: Path, wanted: set[int] | None) -> dict[tuple[int, int], Path]:
    """The series folders under ``images`` by (study_id, series_id); warns about others."""
    found: dict[tuple[int, int], Path] = {}
    skipped: list[str] = []
    stray: list[str] = []
    for study in images.iterdir():
        if _hidden(study) or not study.is_dir():
            continue
        if not study.name.isdigit():
            skipped.append(study.name)
            continue
        if wanted is not None and int(study.name) not in wanted:
            continue
        for series in study.iterdir():
            if _hidden(series):
                continue
            if not series.is_dir():
                stray.append(f"{study.name}/{series.name}")
            elif series.name.isdigit():
                found[int(study.name), int(series.name)] = series
            else:
                skipped.append(f"{study.name}/{series.name}")
    if skipped:
        _checks.warn(
            f"{images}: skipped {len(skipped)} folder(s) not named by a study or series id: "
            f"{', '.join(sorted(skipped)[:10])}"
        )
    if stray:
        _checks.warn(
            f"{images}: skipped {len(stray)} file(s) lying directly in a study folder, "
            f"where only series folders belong: {', '.join(sorted(stray)[:10])}; move them "
            f"into <study_id>/<series_id>/ to scan them"
        )
    return found


def _descriptions(table: pd.DataFrame, wanted: set[int] | None) -> dict[tuple[int, int], str]:
    """The descriptions file as {(study_id, series_id): description}, for ``wanted``."""
    import pandas as pd

    listed: dict[tuple[int, int], str] = {}
    for st, se, d in zip(
        table["study_id"], table["series_id"], table["series_description"], strict=True
    ):
        if wanted is None or int(st) in wanted:
            listed[int(st), int(se)] = "" if pd.isna(d) else str(d)
    return listed


def _table(
    found: dict[tuple[int, int], Path],
    listed: dict[tuple[int, int], str],
    scanned: dict[tuple[int, int], dict[str, Any]],
    csv_name: str | None,
) -> pd.DataFrame:
    """The scan's table: a row per series folder or per series of the descriptions file."""
    import pandas as pd

    rows = []
    for key in sorted(set(found) | set(listed)):
        row = scanned.get(key) or _failed_row("folder missing")
        notes = list(row["notes"])
        if key in listed:
            description = listed[key]
        else:
            description = row["header_description"]
            if csv_name is not None:
                notes.append(f"not in {csv_name}")
        rows.append(
            {
                "study_id": key[0],
                "series_id": key[1],
                "description": description,
                **{k: v for k, v in row.items() if k not in ("notes", "header_description")},
                "notes": "; ".join(notes),
                "odd": bool(notes),
            }
        )
    out = pd.DataFrame(rows, columns=list(SCAN_COLUMNS))
    return out.astype(
        {
            "study_id": np.int64,
            "series_id": np.int64,
            "n_files": np.int64,
            "n_stacks": np.int64,
            "slice_step_min": np.float64,
            "slice_step_max": np.float64,
            "first_instance": "Int64",
            "last_instance": "Int64",
            "instance_gaps": np.int64,
            "order_disagrees": bool,
            "n_unreadable": np.int64,
            "odd": bool,
        }
    )
