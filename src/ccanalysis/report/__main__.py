"""``python -m ccanalysis.report``: ``build NB...`` (the pages, ``reports/index.html``, the Results
in words); ``docs [--check]`` writes (or compares) ``docs/``, the synthetic run's snapshot."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ccanalysis import results
from ccanalysis.io import write_bytes, write_text
from ccanalysis.paths import project_root
from ccanalysis.report import landing, notebooks
from ccanalysis.tables.render import BACK

#: What the snapshot owns in ``docs/`` (anything else there, like ARCHITECTURE.md, is left alone).
OWNED = ("*.html", "tables/*", "figures/*", "synthetic/*")


def build(executed: list[Path], root: Path) -> Path:
    """Render the pages that are out of date, then write the landing page; return its path."""
    code = Path(notebooks.__file__).parent
    made_with = max(p.stat().st_mtime for p in code.rglob("*") if p.is_file())
    for nb in executed:
        newest = max(nb.stat().st_mtime, made_with)
        pages = [nb.with_suffix(suffix) for suffix in notebooks.EDITIONS]
        if any(not p.exists() or p.stat().st_mtime < newest for p in pages):
            notebooks.render(nb)
    if executed:
        write_text(root / "reports" / "codebook.html", landing.codebook_page(root, executed))
    page, params = landing.landing_page(root, executed, False)
    if context := _results(root, params):
        results.write(context, root / "reports", notebooks.stylesheet())
    path = write_text(root / "reports" / "index.html", page)
    os.utime(path)  # a rebuilt target even when its bytes did not change (make's time)
    return path


def _results(root: Path, params: dict) -> results.Context | None:
    """The Results' context from this run's tables (privacy as its parameters say), if complete."""
    if not results.complete(root / "tables"):
        return None
    min_cell = int(params.get("min_cell", 0)) if params.get("privacy") else None
    synthetic = params.get("data_mode") == "synthetic"
    return results.read_context(root / "tables", min_cell=min_cell, synthetic=synthetic)


def contents(root: Path) -> dict[str, bytes]:
    """The snapshot (path in ``docs/`` -> bytes); exits when this run cannot give it."""
    executed = sorted((root / "reports").glob("[0-9][0-9]_*.ipynb"))
    if not executed:
        raise SystemExit("docs/: no executed notebooks in reports/: run `make all` first")
    files = {}
    for nb, page in ((nb, nb.with_suffix(s)) for nb in executed for s in notebooks.EDITIONS):
        if not page.is_file() or page.stat().st_mtime < nb.stat().st_mtime:
            raise SystemExit(f"docs/: {page} is missing or older than its notebook: `make all`")
        # a table shown in the page links back to the landing page beside it in docs/
        files[page.name] = page.read_bytes().replace(BACK.encode(), b"index.html")
    text, params = landing.landing_page(root, executed, snapshot=True)
    if params.get("data_mode") != "synthetic":
        raise SystemExit("docs/ is the public snapshot of the synthetic stand-in only")
    files["index.html"] = text.encode("utf-8")
    if context := _results(root, params):
        text = results.render(context, "html", tables="tables/")  # docs/tables beside it
        page = results.html_page(text, True, notebooks.stylesheet())
        files["results.html"] = page.encode("utf-8")
    files["codebook.html"] = landing.codebook_page(root, executed).encode("utf-8")
    for path in sorted((root / "data" / "raw" / "synthetic").glob("[!.]*")):
        files[f"synthetic/{path.name}"] = path.read_bytes()  # the data the snapshot was run on
    tables = [p for ext in landing.TABLE_FORMATS for p in (root / "tables").glob(f"[!.]*.{ext}")]
    figures = [p for ext in ("pdf", "svg") for p in (root / "figures").glob(f"[!.]*.{ext}")]
    for path in tables + figures:
        data = path.read_bytes()  # a table's link back: the landing page beside the folder
        data = data.replace(BACK.encode(), b"../index.html") if path.suffix == ".html" else data
        files[f"{path.parent.name}/{path.name}"] = data
    return files


def _owned(docs: Path) -> set[str]:
    return {p.relative_to(docs).as_posix() for g in OWNED for p in docs.glob(g) if p.is_file()}


def differences(root: Path, files: dict | None = None) -> list[str]:
    """How ``docs/`` differs from what this run produces (nothing when it does not)."""
    docs, files = root / "docs", contents(root) if files is None else files
    found = [
        f"{rel}: {'differs' if (docs / rel).is_file() else 'missing'}"
        for rel, data in sorted(files.items())
        if not (docs / rel).is_file() or (docs / rel).read_bytes() != data
    ]
    return found + [f"{rel}: not produced any more" for rel in sorted(_owned(docs) - set(files))]


def write_docs(root: Path) -> list[str]:
    """Write the snapshot to ``docs/``; return how it differed."""
    docs, files = root / "docs", contents(root)
    changed = differences(root, files)
    for rel, data in files.items():
        write_bytes(docs / rel, data)
    for rel in _owned(docs) - set(files):
        (docs / rel).unlink()
    return changed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ccanalysis.report")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="render the notebooks, write reports/index.html").add_argument(
        "notebooks", nargs="*", type=Path
    )
    sub.add_parser("docs", help="write (or --check) the snapshot in docs/").add_argument(
        "--check", action="store_true"
    )
    args = parser.parse_args(argv)
    root = project_root()
    if args.cmd == "build":
        build([root / nb for nb in args.notebooks], root)
        return
    found = differences(root) if args.check else write_docs(root)
    if args.check and found:
        sys.exit(
            "docs/ differs from what the code produces (run `make docs` and commit docs/):\n  "
            + "\n  ".join(found)
        )
    print(f"docs/: {'matches the code' if args.check else f'{len(found)} file(s) updated'}")


if __name__ == "__main__":
    main()
