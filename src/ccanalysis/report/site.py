"""``docs/``: the committed reader's edition of the synthetic run, a static site.

It holds the landing page, the reader's edition of every notebook, the tables (CSV, Word, LaTeX,
Markdown, HTML) and the figures (PDF; the pages embed their screen versions), so that a reviewer
reads the study in the repository or on any static host without installing anything. Everything
in it is a copy of what ``make all`` wrote to ``reports/``, ``tables/`` and ``figures/`` (only
the landing page is written again, with links to the snapshot's own copies), and nothing in it
names a time, a duration or an absolute path: the same code gives the same bytes.

:func:`build` refuses a run on a real export: the snapshot is public, it is there for the
synthetic stand-in only. :func:`differences` is what ``make test`` checks: the committed snapshot
equals what the code produces.
"""

from __future__ import annotations

import json
from pathlib import Path

from ccanalysis.io import write_bytes
from ccanalysis.report.landing import SNAPSHOT, TABLE_FORMATS, landing_page
from ccanalysis.report.notebooks import READER, Renderer, output_path
from ccanalysis.report.runcard import parameters, run_card

#: What the snapshot owns in ``docs/`` (anything else there, like ARCHITECTURE.md, is left alone).
OWNED = ("*.html", "tables/*", "figures/*")


class SnapshotError(RuntimeError):
    """The snapshot cannot be built from this run."""


def _executed(reports: Path) -> list[Path]:
    return sorted(reports.glob("[0-9][0-9]_*.ipynb"))


def _synthetic_params(executed: list[Path]) -> dict[str, object]:
    """The run's parameters, after checking that every notebook ran on the synthetic stand-in."""
    if not executed:
        raise SnapshotError("no executed notebooks in reports/: run `make all` first")
    runs = {nb.name: parameters(json.loads(nb.read_text(encoding="utf-8"))) for nb in executed}
    real = sorted(name for name, p in runs.items() if p.get("data_mode") != "synthetic")
    if real:
        raise SnapshotError(
            "docs/ is the public snapshot of the synthetic stand-in; these notebooks ran on "
            f"another data mode and are never copied there: {', '.join(real)}"
        )
    values = {json.dumps(p, sort_keys=True) for p in runs.values()}
    if len(values) > 1:
        raise SnapshotError("the notebooks in reports/ come from runs with different parameters")
    return next(iter(runs.values()))


def contents(root: Path) -> dict[str, bytes]:
    """Every file of the snapshot (path relative to ``docs/`` -> bytes), from this run's outputs."""
    reports, tables, figures = root / "reports", root / "tables", root / "figures"
    executed = _executed(reports)
    params = _synthetic_params(executed)
    files: dict[str, bytes] = {}
    renderer = Renderer(root)
    rendered = []
    for nb_path in executed:
        page_path = output_path(nb_path, READER)
        if not page_path.is_file() or page_path.stat().st_mtime < nb_path.stat().st_mtime:
            raise SnapshotError(f"{page_path} is missing or older than its notebook: `make all`")
        files[page_path.name] = page_path.read_bytes()
        rendered.append(renderer.summary(nb_path))
    suffixes = {f".{ext}" for ext, _ in TABLE_FORMATS}
    for path in sorted(tables.iterdir()):
        if path.is_file() and path.suffix in suffixes and not path.name.startswith("."):
            files[f"tables/{path.name}"] = path.read_bytes()
    for ext, _ in SNAPSHOT.figure_formats:
        for path in sorted(figures.glob(f"*.{ext}")):
            files[f"figures/{path.name}"] = path.read_bytes()
    card = run_card(root, params, code=renderer.code)
    index = landing_page(root, rendered, card, SNAPSHOT, _spec())
    files["index.html"] = index.encode("utf-8")
    return files


def _spec() -> object:
    from ccanalysis.spec import read_spec

    return read_spec()


def _owned(docs: Path) -> set[str]:
    return {
        p.relative_to(docs).as_posix()
        for pattern in OWNED
        for p in docs.glob(pattern)
        if p.is_file()
    }


def build(root: Path, docs: Path | None = None) -> list[str]:
    """Write the snapshot to ``docs/`` (default ``root/docs``); return the files it changed."""
    docs = docs or root / "docs"
    files = contents(root)
    changed = []
    for rel, data in files.items():
        target = docs / rel
        if not target.is_file() or target.read_bytes() != data:
            write_bytes(target, data)
            changed.append(rel)
    for rel in sorted(_owned(docs) - set(files)):
        (docs / rel).unlink()
        changed.append(rel)
    return sorted(changed)


def differences(root: Path, docs: Path | None = None) -> list[str]:
    """How the committed snapshot differs from what this run produces ("" when it does not)."""
    docs = docs or root / "docs"
    files = contents(root)
    found = [
        f"{rel}: {'missing' if not (docs / rel).is_file() else 'differs'}"
        for rel, data in sorted(files.items())
        if not (docs / rel).is_file() or (docs / rel).read_bytes() != data
    ]
    found += [f"{rel}: not produced any more" for rel in sorted(_owned(docs) - set(files))]
    return found
