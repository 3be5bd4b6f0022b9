"""pyproject.toml, requirements.lock and environment.yml agree on the dependencies and pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].strip().lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, version = line.partition("==")
            pins[name.lower()] = version.strip()
    return pins


def _direct() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [_name(s) for s in project["dependencies"] + project["optional-dependencies"]["dev"]]


def _conda() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.fullmatch(r"  - ([A-Za-z0-9_.\-]+)=([^=\s]+)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_every_dependency_is_pinned_exactly_in_the_lock() -> None:
    lock = _lock()
    required = {
        "jupyterlab",
        "pandas",
        "scipy",
        "statsmodels",
        "matplotlib",
        "seaborn",
        "papermill",
        "nbval",
        "pyarrow",
        "pytest",
        "ruff",
    }
    assert required <= set(_direct())
    missing = [n for n in _direct() if n not in lock]
    assert not missing, f"not pinned in requirements.lock: {missing}"
    assert all(re.fullmatch(r"\d+(\.\d+)*([a-z]+\d+)?(\.post\d+)?", v) for v in lock.values())


def test_environment_yml_has_the_same_versions_as_the_lock() -> None:
    lock, conda = _lock(), _conda()
    assert conda.pop("python") == "3.11"
    assert set(conda) == set(_direct())
    different = {n: (v, lock[n]) for n, v in conda.items() if lock[n] != v}
    assert not different, f"environment.yml and requirements.lock disagree: {different}"


def test_the_lock_targets_the_projects_python() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"].startswith(">=3.11")
    header = (ROOT / "requirements.lock").read_text().splitlines()[:3]
    assert any("--python-version 3.11" in line for line in header)
