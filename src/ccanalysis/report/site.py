"""``docs/``: the committed reader's edition of the synthetic run, a static site.

The landing page (written again with links to the snapshot's own copies), the reader's edition of
every notebook, the tables and the figures as PDF: copies of what ``make all`` wrote, naming no
time or absolute path, so that the same code gives the same bytes. A run on a real export never
writes it (the snapshot is public). ``make test`` checks that it equals what the code produces.
"""

from __future__ import annotations

from pathlib import Path

from ccanalysis.io import write_bytes
from ccanalysis.report.landing import SNAPSHOT, TABLE_FORMATS
from ccanalysis.report.notebooks import READER, output_path

#: What the snapshot owns in ``docs/`` (anything else there, like ARCHITECTURE.md, is left alone).
OWNED = ("*.html", "tables/*", "figures/*")


class SnapshotError(RuntimeError):
    """The snapshot cannot be built from this run."""


def contents(root: Path) -> dict[str, bytes]:
    """Every file of the snapshot (path relative to ``docs/`` -> bytes), from this run's outputs."""
    from ccanalysis.report.__main__ import index

    executed = sorted((root / "reports").glob("[0-9][0-9]_*.ipynb"))
    if not executed:
        raise SnapshotError("no executed notebooks in reports/: run `make all` first")
    files = {}
    for nb in executed:
        page = output_path(nb, READER)
        if not page.is_file() or page.stat().st_mtime < nb.stat().st_mtime:
            raise SnapshotError(f"{page} is missing or older than its notebook: `make all`")
        files[page.name] = page.read_bytes()
    text, params = index(root, executed, SNAPSHOT)
    if params.get("data_mode") != "synthetic":
        raise SnapshotError("docs/ is the public snapshot of the synthetic stand-in only")
    files["index.html"] = text.encode("utf-8")
    suffixes = {f".{ext}" for ext, _ in TABLE_FORMATS}
    for path in sorted((root / "tables").glob("[!.]*")):
        if path.suffix in suffixes:
            files[f"tables/{path.name}"] = path.read_bytes()
    for path in sorted((root / "figures").glob("*.pdf")):
        files[f"figures/{path.name}"] = path.read_bytes()
    return files


def _owned(docs: Path) -> set[str]:
    return {p.relative_to(docs).as_posix() for g in OWNED for p in docs.glob(g) if p.is_file()}


def differences(root: Path, docs: Path | None = None) -> list[str]:
    """How ``docs/`` differs from what this run produces (nothing when it does not)."""
    docs, files = docs or root / "docs", contents(root)
    found = [
        f"{rel}: {'differs' if (docs / rel).is_file() else 'missing'}"
        for rel, data in sorted(files.items())
        if not (docs / rel).is_file() or (docs / rel).read_bytes() != data
    ]
    return found + [f"{rel}: not produced any more" for rel in sorted(_owned(docs) - set(files))]


def build(root: Path, docs: Path | None = None) -> list[str]:
    """Write the snapshot to ``docs/``; return how it differed."""
    docs, changed = docs or root / "docs", differences(root, docs)
    for rel, data in contents(root).items():
        write_bytes(docs / rel, data)
    for rel in _owned(docs) - set(contents(root)):
        (docs / rel).unlink()
    return changed
