"""The project's own consistency: dependencies, notebook pairs, runtime-only import."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest
import tomllib
import yaml

from eda_helpers import rsna

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name
# A PyPI requirement with extras is several conda-forge packages of the same version.
CONDA_EXTRAS = {("dask", "distributed"): ["dask", "distributed"]}


def _requirement(spec: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", spec)
    assert m, spec
    name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
    return CONDA_NAMES.get(name, name), m.group(2).replace(" ", "")


def _requirements(spec: str) -> set[tuple[str, str]]:
    """A pyproject requirement as conda-forge (name, version) pairs."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\[([^\]]*)\]\s*(.*?)\s*", spec)
    if not m:
        return {_requirement(spec)}
    key = (m.group(1).lower(), *sorted(e.strip().lower() for e in m.group(2).split(",")))
    assert key in CONDA_EXTRAS, f"{spec}: add its conda-forge names to CONDA_EXTRAS"
    return {_requirement(name + m.group(3)) for name in CONDA_EXTRAS[key]}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_environment_yml_lists_the_pyproject_packages():
    project = _pyproject()
    wanted = {r for s in project["dependencies"] for r in _requirements(s)}
    for extra in project["optional-dependencies"].values():
        wanted |= {r for s in extra for r in _requirements(s)}
    wanted.add(("python", project["requires-python"]))

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_requirement(s) for s in env["dependencies"] if isinstance(s, str)} - {("pip", "")}
    pip_section = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert pip_section == [["-e ."]], "environment.yml installs the package itself with pip"
    assert conda == wanted, (
        f"environment.yml and pyproject.toml disagree: only in environment.yml "
        f"{sorted(conda - wanted)}, only in pyproject.toml {sorted(wanted - conda)}"
    )


def test_constraints_pin_the_cpu_torch_that_pyproject_allows():
    pins = {
        _requirement(line)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert ("torch", "==2.13.0") in pins
    assert any(s.startswith("torch") for s in _pyproject()["dependencies"])


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_pair_in_sync_and_executed(ipynb: Path):
    source = ipynb.with_suffix(".py")
    assert source.exists(), f"{ipynb.name} has no paired {source.name}"
    as_py = jupytext.writes(jupytext.read(ipynb), fmt="py:percent")
    assert as_py == source.read_text(), (
        f"{ipynb.name} and {source.name} differ: edit the .py, then `make notebooks` "
        f"(jupytext --sync and re-execute) and commit both"
    )
    nb = nbformat.read(ipynb, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{ipynb.name} has no code cells"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{ipynb.name} was not executed top to bottom in one run (execution counts "
        f"{counts}): run `make notebooks`"
    )
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{ipynb.name} holds an error output"


def test_every_notebook_source_has_its_ipynb():
    for source in (ROOT / "notebooks").glob("*.py"):
        assert source.with_suffix(".ipynb").exists(), f"{source.name} has no .ipynb"


# Packages that eda_helpers must not need: the fast-decoding extra, the dev tools and
# what Kaggle's image lacks.
NOT_RUNTIME = (
    "pylibjpeg rle openjpeg libjpeg dask distributed jupytext nbval nbformat pytest yaml "
    "SimpleITK playwright jupyterlab nbconvert nibabel"
).split()


def test_package_works_with_only_the_runtime_dependencies(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        BLOCKED = {NOT_RUNTIME!r}

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)")

        sys.meta_path.insert(0, Block())
        import eda_helpers
        from eda_helpers import make_sample_dataset
        root = make_sample_dataset(sys.argv[1], n_studies=1, seed=3)
        if hasattr(eda_helpers, "read_series"):
            import pathlib
            series = sorted(pathlib.Path(root, "train_images").glob("*/*"))[0]
            eda_helpers.read_stacks(series)
        if hasattr(eda_helpers.rsna, "scan_dataset"):
            scan = eda_helpers.rsna.scan_dataset(root, max_workers=1, progress=False)
            coords = eda_helpers.rsna.read_coordinates(root)
            assert len(scan) == 3 and len(coords) == 25
        print("ok", len(eda_helpers.__all__))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


def test_find_dataset_prefers_argument_then_environment(sample_root, tmp_path, monkeypatch):
    monkeypatch.setenv(rsna.CACHE_ENV, str(tmp_path / "cache"))
    assert rsna.find_dataset(sample_root) == rsna.DatasetLocation(sample_root, "argument")
    monkeypatch.setenv(rsna.DATA_ENV, str(sample_root))
    assert rsna.find_dataset().source == "environment"
    assert not (tmp_path / "cache").exists()


def test_find_dataset_rejects_a_folder_without_the_layout(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"root: .* has no train_images"):
        rsna.find_dataset(tmp_path)
    monkeypatch.setenv(rsna.DATA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"\$EDA_HELPERS_DATA: .*not a dataset"):
        rsna.find_dataset()


def test_find_dataset_falls_back_on_a_cached_sample(tmp_path, monkeypatch):
    monkeypatch.delenv(rsna.DATA_ENV, raising=False)
    monkeypatch.setenv(rsna.CACHE_ENV, str(tmp_path / "cache"))
    first = rsna.find_dataset(n_studies=1, seed=5)
    assert first.is_sample
    assert first.root.parent == tmp_path / "cache"
    assert (first.root / "train_images").is_dir()
    stamp = (first.root / "train_series_descriptions.csv").stat().st_mtime_ns
    again = rsna.find_dataset(n_studies=1, seed=5)
    assert again == first, "the cached sample is reused"
    assert (again.root / "train_series_descriptions.csv").stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.root.name]


def test_find_dataset_uses_kaggle_input_when_attached(sample_root, monkeypatch):
    monkeypatch.delenv(rsna.DATA_ENV, raising=False)
    monkeypatch.setattr(rsna.dataset, "KAGGLE_ROOT", sample_root)
    assert rsna.find_dataset() == rsna.DatasetLocation(sample_root, "kaggle")
