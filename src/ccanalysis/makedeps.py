"""Make's prerequisites, derived from the code: a stage re-runs exactly when something it uses changes.

A stage's output (its executed notebook under ``reports/``) depends on

* its notebook, and every module of ``ccanalysis`` the notebook imports, directly or through other
  modules (all ``import`` statements count, those inside functions too, and importing
  ``ccanalysis.a.b`` runs ``ccanalysis/__init__.py`` and ``ccanalysis/a/__init__.py`` as well);
* the package data those modules read (:data:`MODULE_DATA`);
* the runner that executes it (:mod:`ccanalysis.pipeline` and what it imports);
* the files it reads (:data:`STAGES`, the one declaration of the pipeline's data flow): a run's
  inputs, the study's fixed inputs, and the outputs of earlier stages, which make it depend on those
  stages' executed notebooks.

``python -m ccanalysis.makedeps`` writes these rules as a make fragment (``.make/deps.mk``), which
the Makefile includes and regenerates whenever a module or notebook changes. Hand-written
prerequisites went stale as the code moved (a stage used a module its rule did not name); the module
edges here follow the code by themselves. The files a stage reads (:data:`STAGES`) and the package
data a module reads (:data:`MODULE_DATA`) are still declared by hand, and must be kept true when a
stage starts reading a new file. The module graph is read with :mod:`ast`, without importing
anything, so the fragment costs a few milliseconds to write.

This module imports nothing of ``ccanalysis``: the graph it reads includes its readers.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "ccanalysis"
#: The run's inputs, as they appear in :data:`STAGES` (make variables in the generated fragment).
INPUTS = ("export", "dictionary", "frame")
#: Where a path of :data:`STAGES` may start: a run input, or ``{export_dir}``, the export's folder.
PLACEHOLDERS = (*INPUTS, "export_dir")
#: The module that executes the notebooks: every stage depends on it and on what it imports.
RUNNER = "ccanalysis.pipeline"


@dataclass(frozen=True)
class Stage:
    """What a stage reads and writes, as paths relative to the project (``*`` globs allowed;
    ``{export}``, ``{dictionary}`` and ``{frame}`` are the run's inputs, ``{export_dir}`` the
    export's folder). ``synthetic_reads`` are read on synthetic data only (beside the stand-in);
    ``synthetic_only`` stages run on synthetic data only."""

    reads: tuple[str, ...]
    writes: tuple[str, ...]
    synthetic_only: bool = False
    synthetic_reads: tuple[str, ...] = ()

    def reads_in(self, data_mode: str) -> tuple[str, ...]:
        """The files the stage reads in a run on ``data_mode``."""
        return self.reads + (self.synthetic_reads if data_mode == "synthetic" else ())


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
        reads=("{dictionary}", "data/processed/clinics.parquet"),
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
        reads=("{dictionary}", "data/published/*.csv", "tables/table?.csv"),
        writes=("tables/replication*.csv",),
    ),
}
#: Files of the package that modules read (module -> paths relative to the project).
MODULE_DATA: dict[str, tuple[str, ...]] = {
    "ccanalysis.spec": ("src/ccanalysis/specs/tables.csv",),
    "ccanalysis.report.page": ("src/ccanalysis/report/templates/*",),
}
#: The module make runs to render the pages (``python -m ccanalysis.report``).
REPORT = "ccanalysis.report.__main__"


# ---------------------------------------------------------------------------------------------
# The module graph
# ---------------------------------------------------------------------------------------------


def modules(src: Path) -> dict[str, Path]:
    """Every module of the package under ``src`` (the folder holding ``ccanalysis/``), by name."""
    out: dict[str, Path] = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_package(name: str, known: Mapping[str, Path]) -> bool:
    return name in known and known[name].name == "__init__.py"


def _resolve(names: Iterable[str], known: Mapping[str, Path]) -> set[str]:
    """The modules that importing ``names`` executes: each, and every package above it."""
    found: set[str] = set()
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in known:
                found.add(prefix)
    return found


def _import_nodes(body: list[ast.stmt]) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement in ``body`` and the blocks nested in it (functions, classes, ifs,
    tries, loops, withs): statements only, since an import is never inside an expression."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(node, field, None)
            if inner:
                yield from _import_nodes(inner)


def imported_names(tree: ast.Module, module: str, known: Mapping[str, Path]) -> set[str]:
    """The package's modules an AST imports (anywhere in it), resolved against ``known``.

    ``from a import b`` counts as importing ``a.b`` when that is a module, else ``a``; relative
    imports are resolved against ``module`` (the importing module's name).
    """
    names: list[str] = []
    for node in _import_nodes(tree.body):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                here = module.split(".")
                if not _is_package(module, known):
                    here = here[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, base] if base else here)
            names.append(base)
            names += [f"{base}.{alias.name}" for alias in node.names]
    return _resolve((n for n in names if n.split(".")[0] == PACKAGE), known)


def import_graph(
    src: Path, cache: Path | None = None, known: Mapping[str, Path] | None = None
) -> dict[str, set[str]]:
    """Module -> the package's modules it imports directly.

    ``cache``: a JSON file of each module's imports by file time and size, so that a run parses
    only the modules that changed (parsing all of them costs ~0.2 s, on every ``make``).
    ``known``: :func:`modules` of ``src``, when the caller has it already.
    """
    known = modules(src) if known is None else known
    old: dict[str, list] = {}
    if cache is not None and cache.is_file():
        try:
            old = json.loads(cache.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
    new: dict[str, list] = {}
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        st = path.stat()
        stamp = [st.st_mtime_ns, st.st_size]
        hit = old.get(name)
        if hit is not None and hit[:2] == stamp and set(hit[2]) <= known.keys():
            found = set(hit[2])
        else:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            found = imported_names(tree, name, known) - {name}
        graph[name] = found
        new[name] = [*stamp, sorted(found)]
    if cache is not None and new != old:
        write_fragment(cache, json.dumps(new, indent=0, sort_keys=True))
    return graph


def code_graph(
    root: Path, cache: Path | None = None
) -> tuple[dict[str, Path], dict[str, set[str]]]:
    """The package's modules under ``root/src`` (:func:`modules`) and their import graph
    (:func:`import_graph`): read once, passed to :func:`stage_files` for every stage."""
    known = modules(root / "src")
    return known, import_graph(root / "src", cache, known)


def closure(start: Iterable[str], graph: Mapping[str, set[str]]) -> set[str]:
    """``start`` and every module reachable from it."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += graph.get(m, ())
    return seen


def notebook_code(path: Path) -> str:
    """The Python of a notebook's code cells (IPython magics and shell lines left out)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    for cell in nb.get("cells", []):
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        lines += [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        lines.append("")
    return "\n".join(lines)


def notebook_imports(path: Path, known: Mapping[str, Path]) -> set[str]:
    """The package's modules (of ``known``, from :func:`modules`) a notebook imports directly."""
    tree = ast.parse(notebook_code(path), filename=str(path))
    return imported_names(tree, "__main__", known)


# ---------------------------------------------------------------------------------------------
# Stages
# ---------------------------------------------------------------------------------------------


def _overlap(a: str, b: str) -> bool:
    """Can a path matching pattern ``a`` also match pattern ``b``?"""
    return a == b or fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a)


def _placeholder(pattern: str) -> tuple[str | None, str]:
    """The placeholder a pattern starts with and the rest: ``"{export_dir}/x.csv"`` ->
    ``("export_dir", "/x.csv")``, ``"{export}"`` -> ``("export", "")``; ``(None, pattern)`` else."""
    if pattern[:1] == "{":
        name, brace, rest = pattern[1:].partition("}")
        if brace and name in PLACEHOLDERS:
            return name, rest
    return None, pattern


def input_path(pattern: str, inputs: Mapping[str, str]) -> str:
    """A pattern with its placeholder replaced by the path (``inputs``: the run's input paths)."""
    name, rest = _placeholder(pattern)
    if name is None:
        return pattern
    if name == "export_dir":
        return os.path.join(os.path.dirname(inputs["export"]), rest.lstrip("/"))
    return inputs[name] + rest


def upstream(
    stage: str, inputs: Mapping[str, str], active: Iterable[str], data_mode: str = "synthetic"
) -> list[str]:
    """The active stages whose outputs ``stage`` reads (``inputs``: the run's input paths)."""
    reads = [input_path(p, inputs) for p in STAGES[stage].reads_in(data_mode)]
    order = list(STAGES)
    return [
        other
        for other in active
        if order.index(other) < order.index(stage)
        and any(_overlap(r, w) for r in reads for w in STAGES[other].writes)
    ]


def active_stages(data_mode: str) -> list[str]:
    """The stages of a run: all of them on synthetic data, all but the synthesizer on an export."""
    return [s for s, st in STAGES.items() if data_mode == "synthetic" or not st.synthetic_only]


def _stage_closure(
    root: Path, stage: str, graph: Mapping[str, set[str]], known: Mapping[str, Path]
) -> set[str]:
    """Every module of the package a stage's notebook (and the runner) executes; the runner's
    alone when the stage has no notebook."""
    notebook = root / "notebooks" / f"{stage}.ipynb"
    runner = closure([RUNNER], graph) if RUNNER in graph else set()
    if not notebook.is_file():
        return runner
    return closure(notebook_imports(notebook, known), graph) | runner


def stage_modules(
    root: Path,
    graph: Mapping[str, set[str]] | None = None,
    known: Mapping[str, Path] | None = None,
) -> dict[str, set[str]]:
    """Stage -> every module of the package its notebook (and the runner) executes."""
    if known is None or graph is None:
        known, graph = code_graph(root)
    return {stage: _stage_closure(root, stage, graph, known) for stage in STAGES}


@dataclass(frozen=True)
class Files:
    """What an output depends on, as paths relative to the project: the modules it executes, the
    package data they read (:data:`MODULE_DATA`, globs), and for a stage its notebook and the
    files it reads (:data:`STAGES`, placeholders kept: :func:`input_path` resolves them)."""

    modules: tuple[str, ...]
    data: tuple[str, ...]
    notebook: str | None = None
    reads: tuple[str, ...] = ()


def _files(
    root: Path,
    mods: Iterable[str],
    known: Mapping[str, Path],
    notebook: str | None = None,
    reads: tuple[str, ...] = (),
) -> Files:
    mods = set(mods)
    return Files(
        modules=tuple(sorted(str(known[m].relative_to(root)) for m in mods)),
        data=tuple(sorted({d for m in mods for d in MODULE_DATA.get(m, ())})),
        notebook=notebook,
        reads=reads,
    )


def stage_files(
    root: Path,
    stage: str,
    data_mode: str,
    graph: Mapping[str, set[str]],
    known: Mapping[str, Path],
) -> Files:
    """What a stage's executed notebook depends on in a run on ``data_mode``, as ``make`` sees it
    (the fragment) and as a page's run card hashes it (:mod:`ccanalysis.report.runcard`)."""
    return _files(
        root,
        _stage_closure(root, stage, graph, known),
        known,
        notebook=f"notebooks/{stage}.ipynb",
        reads=STAGES[stage].reads_in(data_mode),
    )


def matching(root: Path, pattern: str) -> set[Path]:
    """The paths a path or glob of :class:`Files` names (relative to ``root``, or absolute), as
    make's ``$(wildcard)`` finds them; a plain path whether it exists or not."""
    path = Path(pattern)
    base = path if path.is_absolute() else root / path
    return set(base.parent.glob(base.name)) if any(c in pattern for c in "*?[") else {base}


def report_files(root: Path, graph: Mapping[str, set[str]], known: Mapping[str, Path]) -> Files:
    """What the pages depend on: the modules ``python -m ccanalysis.report`` executes, with the
    package data (templates) they read."""
    return _files(root, closure([REPORT], graph) if REPORT in graph else set(), known)


def _make_path(path: str, inputs: Mapping[str, str]) -> str:
    """A path as a make prerequisite: a run input as its make variable; a glob, or a file beside
    the export (which may not be there), as ``$(wildcard)``."""
    name, rest = _placeholder(path)
    if name in INPUTS and not rest:
        return f"$(IN_{name.upper()})"
    if name is not None or any(ch in path for ch in "*?["):
        return f"$(wildcard {input_path(path, inputs)})"
    return path


def fragment(
    root: Path, data_mode: str, inputs: Mapping[str, str], cache: Path | None = None
) -> str:
    """The make rules of every active stage: notebook, modules, package data, files read, and
    the executed notebooks of the stages it reads from."""
    known, graph = code_graph(root, cache)
    active = active_stages(data_mode)
    produced = {input_path(p, inputs) for s in active for p in STAGES[s].writes}
    pages = report_files(root, graph, known)
    report = [*pages.modules, *sorted({_make_path(d, inputs) for d in pages.data})]
    key = "|".join([data_mode, *(inputs[k] for k in INPUTS)])
    lines = [
        f"# deps-key: {key}",
        "# Generated by `python -m ccanalysis.makedeps` from the notebooks' imports and",
        "# ccanalysis.makedeps.STAGES: do not edit (the Makefile regenerates it).",
        f"STAGES := {' '.join(active)}",
        f"REPORT_FILES := {' '.join(report)}",
        "",
    ]
    for stage in active:
        files = stage_files(root, stage, data_mode, graph, known)
        data = sorted({_make_path(d, inputs) for d in files.data})
        reads = [
            _make_path(p, inputs)
            for p in files.reads
            if not any(_overlap(input_path(p, inputs), w) for w in produced)
        ]
        after = [f"reports/{s}.ipynb" for s in upstream(stage, inputs, active, data_mode)]
        prereqs = [str(files.notebook), *files.modules, *data, *reads, *after]
        lines.append(f"reports/{stage}.ipynb: " + " \\\n  ".join(prereqs))
        lines.append("")
    return "\n".join(lines)


def write_fragment(path: Path, text: str) -> None:
    """Write a file atomically (a new time even for the same rules: the Makefile rewrites the
    fragment when a source is newer than it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ccanalysis.makedeps", description=__doc__)
    parser.add_argument("-o", "--output", type=Path, default=Path(".make/deps.mk"))
    parser.add_argument("--data", choices=("synthetic", "redcap"), default="synthetic")
    for name in INPUTS:
        parser.add_argument(f"--{name}", required=True, help=f"the run's {name} (project-relative)")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    inputs = {name: getattr(args, name) for name in INPUTS}
    cache = None if args.output == Path("-") else args.output.with_name("imports.json")
    text = fragment(args.root.resolve(), args.data, inputs, cache)
    if args.output == Path("-"):
        sys.stdout.write(text)
    else:
        write_fragment(args.output, text)


if __name__ == "__main__":
    main()
