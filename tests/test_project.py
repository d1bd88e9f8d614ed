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
    """The package and the README's snippet, as written, without any dev package.

    One interpreter for both (each start imports PyTorch, seconds on a busy machine).
    """
    script = (
        textwrap.dedent(
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
        + _readme_snippet_check()
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
    assert out.stdout.splitlines()[-1] == "README snippet: ok", out.stdout


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


def test_a_cache_that_cannot_be_written_names_the_folder_and_the_variable(tmp_path, monkeypatch):
    (tmp_path / "a_file").write_text("")
    cache = tmp_path / "a_file" / "cache"
    monkeypatch.setenv(rsna.CACHE_ENV, str(cache))
    with pytest.raises(
        NotADirectoryError,
        match=r"\$EDA_HELPERS_CACHE: cannot write the sample dataset into .*a_file/cache "
        r"\(Not a directory\); the cache must be a folder this user can write to: set "
        r"EDA_HELPERS_CACHE to another folder \(or point EDA_HELPERS_DATA at a dataset\)",
    ):
        rsna.find_dataset(n_studies=1, seed=5)


def test_a_read_only_cache_names_the_folder_not_the_work_folder(tmp_path, monkeypatch):
    """As root, chmod does not stop writes: mkdtemp plays the refusal of a read-only
    folder, so this proves the message (no internal folder named), not the OS check."""

    def refuse(prefix="", dir=None):
        raise PermissionError(13, "Permission denied", f"{dir}/{prefix}k3x9q1")

    monkeypatch.setenv(rsna.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr("eda_helpers.rsna.dataset.tempfile.mkdtemp", refuse)
    with pytest.raises(PermissionError, match=r"set EDA_HELPERS_CACHE to another") as info:
        rsna.find_dataset(n_studies=1, seed=5)
    assert f"into {tmp_path} (Permission denied)" in str(info.value)
    assert ".sample-" not in str(info.value) and info.value.__suppress_context__


def test_find_dataset_checks_its_arguments(sample_root):
    with pytest.raises(TypeError, match=r"root: expected a path \(str or os.PathLike\), got int"):
        rsna.find_dataset(3)
    with pytest.raises(ValueError, match=r"n_studies: expected an integer >= 1, got 0"):
        rsna.find_dataset(sample_root, n_studies=0)


HEAVY = ("torch", "matplotlib", "pandas", "ipywidgets", "pydicom")


def _imported_after(code: str) -> list[str]:
    """The heavy packages a fresh interpreter has imported after running ``code``."""
    report = f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    probe = f"import sys\n{code}\n{report}"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    return eval(out.stdout.strip().splitlines()[-1])


def test_import_eda_helpers_imports_no_heavy_library():
    # (The names are there all the same, imported on first use: the other tests use them.)
    assert _imported_after("import eda_helpers, eda_helpers.rsna") == []
    # A submodule not imported yet is an attribute as after an eager import.
    assert _imported_after("import eda_helpers as eh; eh.geometry.stack_facts") == []


def test_help_and_sample_parse_their_arguments_before_importing_anything_heavy():
    code = (
        "from eda_helpers.__main__ import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['--help']) == 0 and main(['sample', '--help']) == 0\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n"
        "    assert main(['sample', 'DIR', '--studies', '0']) == 2\n"
    )
    assert _imported_after(code) == []


@pytest.mark.parametrize("package", ["eda_helpers", "eda_helpers.rsna"])
def test_public_names_are_listed_and_resolve(package):
    import importlib

    module = importlib.import_module(package)
    assert sorted(dir(module)) == sorted(
        {*module.__all__, *(["__version__"] * (package == "eda_helpers"))}
    )
    for name in module.__all__:
        assert getattr(module, name) is not None
    assert not {"np", "pd", "os", "shutil", "torch"} & set(dir(module))
    with pytest.raises(AttributeError, match=rf"module '{package}' has no attribute 'nope'"):
        module.nope  # noqa: B018


def _readme_block(section: str) -> str:
    """The first python code block after the README heading ``section``."""
    text = (ROOT / "README.md").read_text()
    after = text.split(f"\n## {section}\n", 1)[1]
    m = re.search(r"```python\n(.*?)```", after, flags=re.S)
    assert m, f"README: no python block under '## {section}'"
    return m.group(1)


def _readme_snippet_check() -> str:
    """Code that runs the README's notebook snippet as written and checks what its last
    line shows against the comment on that line."""
    code = _readme_block("In a notebook")
    placeholders = [ln for ln in code.splitlines() if "<" in ln.split("#")[0]]
    assert not placeholders, f"README: placeholders to fill in: {placeholders}"
    last = code.strip().splitlines()[-1]
    shown = last.split("#", 1)[1].strip().removesuffix("...>")
    # The sample comes from this run's cache (EDA_HELPERS_CACHE is inherited).
    return (
        f"\n# ---- the README snippet, as written\n{code}\n"
        f"_shown = repr({last.split('#')[0].strip()})\n"
        f"assert _shown.startswith({shown!r}), (_shown, {shown!r})\n"
        f"print('README snippet: ok')\n"
    )


def test_the_run_caches_its_sample_in_a_temporary_folder(sample_root):
    """Set by conftest before collection; the notebooks' kernels inherit the variable."""
    import tempfile

    cache = rsna.sample_cache_dir()
    assert cache.is_relative_to(tempfile.gettempdir()) and "test-cache" in cache.name
    assert sample_root.parent == cache
    assert not cache.is_relative_to(Path.home() / ".cache")
