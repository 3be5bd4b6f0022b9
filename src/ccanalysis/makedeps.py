"""Make's prerequisites, derived from the code, printed for the Makefile (which evaluates them in
memory: ``make -n`` writes nothing). A stage's executed notebook depends on its notebook, the
package modules it and the runner import (read with :mod:`ast`), their :data:`MODULE_DATA`, and the
files it reads (:data:`STAGES`): the executed notebooks of the stages writing them. Standard library
only, Python 3.8 grammar: make runs it with the system's python3.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

#: The run's inputs, as they appear in :data:`STAGES` (``{export_dir}`` is the export's folder).
INPUTS = ("export", "dictionary", "frame")
RUNNER = "ccanalysis.pipeline"
REPORT = "ccanalysis.report.__main__"
#: Characters besides letters and digits of a path make can name as a prerequisite as it is.
SAFE = "_./+-*?"
#: Separates the rules on the one line ``$(shell)`` returns (the Makefile turns it into newlines).
NEWLINE = "@@"


@dataclass(frozen=True)
class Stage:
    """What a stage reads and writes (globs relative to the project; placeholders: the inputs)."""

    reads: tuple[str, ...]
    writes: tuple[str, ...]
    synthetic_only: bool = False
    synthetic_reads: tuple[str, ...] = ()


#: The pipeline's data flow: the one place that says which files each stage reads and writes.
STAGES: dict[str, Stage] = {
    "00_synthesize": Stage(
        reads=(
            "{dictionary}",
            "data/published/published_long.csv",
            "data/published/study_facts.csv",
        ),
        writes=("data/raw/synthetic/*",),
        synthetic_only=True,
    ),
    "01_clean": Stage(
        reads=("{export}", "{dictionary}", "{frame}"),
        writes=(
            "data/processed/clinics_clean.parquet",
            "data/processed/coordinators_clean.parquet",
            "data/processed/cleaning_log.csv",
        ),
    ),
    "02_classify": Stage(
        reads=("data/processed/clinics_clean.parquet", "data/processed/coordinators_clean.parquet"),
        writes=(
            "data/processed/clinics.parquet",
            "data/processed/coordinators.parquet",
            "data/processed/classification_log.csv",
        ),
    ),
    "03_tables": Stage(
        reads=(
            "{dictionary}",
            "data/processed/clinics.parquet",
            "data/processed/coordinators.parquet",
        ),
        writes=("tables/table?.*",),
        synthetic_reads=("{export_dir}/uncalibrated_items.csv",),
    ),
    "04_sensitivity": Stage(
        reads=("{dictionary}", "data/processed/clinics.parquet", "data/coverage/coverage.csv"),
        writes=("tables/sensitivity.*", "tables/definitions*"),
    ),
    "05_figures": Stage(
        reads=(
            "{dictionary}",
            "data/raw/recruitment_flow.csv",
            "data/processed/clinics.parquet",
            "data/processed/coordinators.parquet",
            "tables/table1.csv",
            "tables/table3.csv",
            "tables/sensitivity.csv",
        ),
        writes=("figures/*",),
    ),
    "06_replication": Stage(
        reads=(
            "{dictionary}",
            "data/published/*.csv",
            "tables/table?.csv",
            "tables/sensitivity.csv",
            "tables/definitions.csv",
        ),
        writes=("tables/replication*.csv",),
    ),
}
#: Files of the package that modules read (module -> globs relative to the project).
MODULE_DATA: dict[str, tuple[str, ...]] = {
    "ccanalysis.spec": ("src/ccanalysis/specs/tables.csv",),
    "ccanalysis.results": ("src/ccanalysis/specs/results.md",),
    "ccanalysis.classify": ("src/ccanalysis/specs/definitions.csv",),
    "ccanalysis.report.notebooks": ("src/ccanalysis/report/templates/*",),
    "ccanalysis.tables.render": ("src/ccanalysis/tables/table.*",),
}


def modules(src: Path) -> dict[str, Path]:
    """Every module of the package under ``src`` (the folder holding ``ccanalysis/``), by name."""
    out = {}
    for path in sorted((src / "ccanalysis").rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _statements(source: str):
    """The import statements of ``source`` at any depth, each parsed alone (a fifth of the time of
    parsing whole modules, which make pays on every run)."""
    lines = iter(source.splitlines())
    for line in lines:
        text = line.strip()
        if text.startswith(("import ", "from ")) and " import" in " " + text:
            while text.count("(") > text.count(")") or text.endswith("\\"):
                text = text.rstrip("\\") + " " + next(lines, ")").strip()
            try:
                yield from ast.parse(text).body
            except SyntaxError:  # prose in a docstring that begins like an import
                continue


def imports(source: str, module: str, known: dict[str, Path]) -> set[str]:
    """The package's modules ``source`` imports, with the packages above each (``a.b.c`` runs
    ``a`` and ``a.b`` first)."""
    names = []
    for node in _statements(source):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # the package imports by absolute names only
                sys.exit(f"makedeps: {module} has a relative import; write the absolute name")
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    parts = [n.split(".") for n in names]
    found = {".".join(p[:i]) for p in parts for i in range(1, len(p) + 1)}
    return {n for n in found if n in known}


def import_graph(src: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports directly."""
    known = modules(src)
    return {
        name: imports(path.read_text(encoding="utf-8"), name, known) - {name}
        for name, path in known.items()
    }


def closure(start, graph: dict[str, set[str]]) -> set[str]:
    """``start`` and every module reachable from it."""
    seen: set[str] = set(start)
    while more := {m for name in seen for m in graph.get(name, ())} - seen:
        seen |= more
    return seen


def notebook_code(path: Path) -> str:
    """The Python of a notebook's code cells (IPython magics and shell lines left out)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    lines = [ln for s in sources for ln in s.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def stage_modules(root: Path, graph=None) -> dict[str, set[str]]:
    """Stage -> every module of the package its notebook and the runner execute."""
    known, graph = modules(root / "src"), graph or import_graph(root / "src")
    code = {s: notebook_code(root / "notebooks" / f"{s}.ipynb") for s in STAGES}
    return {s: closure({RUNNER} | imports(c, "__main__", known), graph) for s, c in code.items()}


def active_stages(data_mode: str) -> list[str]:
    """The stages of a run: all on synthetic data, all but the synthesizer on an export."""
    return [s for s, st in STAGES.items() if data_mode == "synthetic" or not st.synthetic_only]


def stage_reads(stage: str, inputs: dict[str, str], data_mode: str) -> list[str]:
    """The files ``stage`` reads in a run: its placeholders replaced by the run's inputs."""
    st = STAGES[stage]
    declared = st.reads + (st.synthetic_reads if data_mode == "synthetic" else ())
    export_dir = os.path.dirname(inputs["export"]) or "."
    return [p.format(export_dir=export_dir, **inputs) for p in declared]


def _produced(path: str, stages) -> bool:
    """Does a stage of ``stages`` write a file that ``path`` (a path or glob) names?"""
    writes = [w for s in stages for w in STAGES[s].writes]
    return any(fnmatch.fnmatchcase(path, w) or fnmatch.fnmatchcase(w, path) for w in writes)


def upstream(stage: str, inputs: dict[str, str], active, data_mode: str = "synthetic") -> list[str]:
    """The active stages before ``stage`` whose outputs it reads."""
    before = list(STAGES)[: list(STAGES).index(stage)]
    reads = stage_reads(stage, inputs, data_mode)
    return [s for s in active if s in before and any(_produced(r, [s]) for r in reads)]


def _prerequisite(path: str, target: Path) -> str:
    """A file as make names it; one it cannot (a space or #) as ``FORCE`` when newer than the
    target."""
    if all(c.isalnum() or c in SAFE for c in path):
        return f"$(wildcard {path})" if "*" in path or "?" in path else path
    newer = not target.exists() or os.path.getmtime(path) > target.stat().st_mtime
    return "FORCE" if newer else ""


def rules(root: Path, data_mode: str, inputs: dict[str, str]) -> list[str]:
    """The make rules of every active stage and ``REPORT_FILES``, the pages' code and templates."""
    src = root / "src"
    known, graph = modules(src), import_graph(src)
    active = active_stages(data_mode)
    mods = stage_modules(root, graph)

    def files(names) -> list[str]:
        data = [d for m in sorted(names) for d in MODULE_DATA.get(m, ())]
        return [known[m].relative_to(root).as_posix() for m in sorted(names)] + data

    report = files(closure([REPORT], graph))
    report = " ".join(_prerequisite(p, root) for p in report)
    out = [f"STAGES := {' '.join(active)}", f"REPORT_FILES := {report}"]
    for stage in active:
        target = root / "reports" / f"{stage}.ipynb"
        own = [r for r in stage_reads(stage, inputs, data_mode) if not _produced(r, active)]
        after = [f"reports/{s}.ipynb" for s in upstream(stage, inputs, active, data_mode)]
        made = [f"notebooks/{stage}.ipynb", *files(mods[stage]), *own]
        prereqs = [_prerequisite(p, target) for p in made] + after
        out.append(f"reports/{stage}.ipynb: " + " ".join(p for p in prereqs if p))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ccanalysis.makedeps", description=__doc__)
    parser.add_argument("--data", choices=("synthetic", "redcap"), default="synthetic")
    for name in INPUTS:
        parser.add_argument(f"--{name}", required=True)
    args = parser.parse_args(argv)
    inputs = {name: getattr(args, name) for name in INPUTS}
    sys.stdout.write(NEWLINE.join(rules(Path.cwd(), args.data, inputs)) + "\n")


if __name__ == "__main__":
    main()
