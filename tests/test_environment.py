"""pyproject.toml, environment.yml and the doctor's ranges must name the same packages."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import pytest
import yaml  # PyYAML comes with jupyter_server (jupyter_events)
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from teachkit import doctor

ROOT = Path(__file__).resolve().parent.parent
# conda-forge name -> pip name, where they differ
CONDA_TO_PIP = {"python-graphviz": "graphviz", "msgpack-python": "msgpack"}
# conda packages with no pip counterpart, and which the environment must have
CONDA_ONLY = {"python", "pip", "graphviz", "openjdk"}  # conda's `graphviz` is the dot binary; openjdk is Java
CHECKED_EXTRAS = ("test",)


def load_pyproject(path: Path = ROOT / "pyproject.toml") -> dict:
    return tomllib.loads(path.read_text())


def load_environment(path: Path = ROOT / "environment.yml") -> dict:
    return yaml.safe_load(path.read_text())


def pip_requirements(pyproject: dict) -> dict[str, SpecifierSet]:
    """Runtime + checked extras, by normalised name (extras like dask[dataframe] dropped)."""
    project = pyproject["project"]
    lines = list(project["dependencies"])
    for extra in CHECKED_EXTRAS:
        lines += project["optional-dependencies"][extra]
    reqs = [Requirement(line) for line in lines]
    return {_norm(r.name): r.specifier for r in reqs}


def conda_requirements(env: dict) -> tuple[dict[str, str], list[str]]:
    """conda name -> version spec text, and the pip section's lines."""
    conda, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep.get("pip", [])
            continue
        name, spec = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", dep.strip()).groups()
        conda[_norm(name)] = spec.strip()
    return conda, pip


def compare(pyproject: dict, env: dict) -> list[str]:
    """Every way the two files disagree, as sentences; [] when they agree."""
    problems = []
    pip = pip_requirements(pyproject)
    conda, pip_section = conda_requirements(env)
    as_pip = {CONDA_TO_PIP.get(n, n): s for n, s in conda.items() if n not in CONDA_ONLY}
    for name, spec in sorted(pip.items()):
        if name not in as_pip:
            problems.append(f"{name} is in pyproject.toml but not in environment.yml")
        elif SpecifierSet(as_pip[name]) != spec:
            problems.append(f"{name}: pyproject.toml says {spec} but environment.yml says {as_pip[name]}")
    for name in sorted(set(as_pip) - set(pip)):
        problems.append(f"{name} is in environment.yml but not in pyproject.toml")
    for name in sorted(CONDA_ONLY - set(conda)):
        problems.append(f"environment.yml lacks the conda-only package {name}")
    python = conda.get("python", "").lstrip("=")
    requires = SpecifierSet(pyproject["project"]["requires-python"])
    if python and not requires.contains(Version(python)):
        problems.append(f"environment.yml's python={python} is outside requires-python {requires}")
    wanted = "-e .[" + ",".join(CHECKED_EXTRAS) + "]"
    if wanted not in pip_section:
        problems.append(f"environment.yml's pip section should install {wanted!r}")
    return problems


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_environment_yml_matches_pyproject():
    assert compare(load_pyproject(), load_environment()) == []


@pytest.mark.parametrize("name", ["pandas", "pytest-playwright", "anywidget", "pyspark"])
def test_a_package_missing_from_environment_yml_is_reported(name):
    env = load_environment()
    env["dependencies"] = [d for d in env["dependencies"] if not (isinstance(d, str) and d.startswith(name))]
    assert any(name in p and "not in environment.yml" in p for p in compare(load_pyproject(), env))


@pytest.mark.parametrize("name", ["pandas", "graphviz", "anywidget", "pytest", "pyspark"])
def test_a_package_missing_from_pyproject_is_reported(name):
    pyproject = copy.deepcopy(load_pyproject())
    for key in ("dependencies",):
        pyproject["project"][key] = [d for d in pyproject["project"][key] if Requirement(d).name != name]
    test = pyproject["project"]["optional-dependencies"]["test"]
    pyproject["project"]["optional-dependencies"]["test"] = [d for d in test if Requirement(d).name != name]
    assert any(name in p and "not in pyproject.toml" in p for p in compare(pyproject, load_environment()))


def test_the_dot_binary_and_python_graphviz_are_told_apart():
    env = load_environment()
    without_binary = {**env, "dependencies": [d for d in env["dependencies"] if d != "graphviz"]}
    assert compare(load_pyproject(), without_binary) == [
        "environment.yml lacks the conda-only package graphviz"
    ]
    without_python_pkg = {
        **env,
        "dependencies": [d for d in env["dependencies"] if not str(d).startswith("python-graphviz")],
    }
    assert compare(load_pyproject(), without_python_pkg) == [
        "graphviz is in pyproject.toml but not in environment.yml"
    ]


def test_the_spark_comparison_gets_java_from_conda_too():
    env = load_environment()
    without_java = {**env, "dependencies": [d for d in env["dependencies"] if not str(d).startswith("openjdk")]}
    assert compare(load_pyproject(), without_java) == ["environment.yml lacks the conda-only package openjdk"]


def test_a_changed_version_range_is_reported():
    pyproject = copy.deepcopy(load_pyproject())
    deps = pyproject["project"]["dependencies"]
    deps[:] = ["pandas>=2.2,<5" if Requirement(d).name == "pandas" else d for d in deps]
    assert compare(pyproject, load_environment()) == [
        "pandas: pyproject.toml says <5,>=2.2 but environment.yml says >=2.2,<4"
    ]


def test_doctor_checks_the_ranges_pyproject_promises():
    pip = pip_requirements(load_pyproject())
    for dist, spec in doctor.SUPPORTED.items():
        promised = pip["dask" if dist == "distributed" else dist]
        assert SpecifierSet(spec) == promised, dist


def test_every_teachkit_subpackage_is_packaged():
    listed = set(load_pyproject()["tool"]["setuptools"]["packages"])
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "teachkit").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert folders <= listed, f"add to [tool.setuptools] packages: {sorted(folders - listed)}"


def test_the_installed_version_is_the_packaged_one():
    import importlib.metadata

    import teachkit

    version = load_pyproject()["project"]["version"]
    assert teachkit.__version__ == version == importlib.metadata.version("teachkit")
