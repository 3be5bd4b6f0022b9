"""Write environment.yml (for conda users) from requirements.lock, with the same pinned versions.

Run by `make lock` after the lock is regenerated; tests/test_environment.py checks that
pyproject.toml, requirements.lock and environment.yml agree.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_NAMES = {"pyarrow": "pyarrow", "python-docx": "python-docx"}


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].strip().lower()


def main() -> None:
    lock = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = [requirement_name(s) for s in project["dependencies"]]
    direct += [requirement_name(s) for s in project["optional-dependencies"]["dev"]]
    lines = [
        "# Generated from requirements.lock by tools/write_environment.py (make lock): same pins.",
        "name: ccanalysis",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
    ]
    lines += [f"  - {CONDA_NAMES.get(n, n)}={lock[n].strip()}" for n in direct]
    lines += ["  - pip:", "      - -e ."]
    (ROOT / "environment.yml").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
