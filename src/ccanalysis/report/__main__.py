"""``python -m ccanalysis.report``: the commands the Makefile runs.

``build NB...``  render each executed notebook whose pages are older than it or than the report's
                 code and templates (both editions, :mod:`ccanalysis.report.notebooks`), then
                 write ``reports/index.html``
``docs``         write the snapshot of the synthetic run to ``docs/``
``docs --check`` say how ``docs/`` differs from what the code produces; exit 1 if it does
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ccanalysis.io import write_text
from ccanalysis.paths import project_root
from ccanalysis.report import landing, notebooks, site


def index(root: Path, executed: list[Path], links: landing.PageLinks) -> tuple[str, dict]:
    """The landing page of the executed notebooks, and the parameters of their run."""
    from ccanalysis.spec import read_spec

    runs = [json.loads(nb.read_text(encoding="utf-8")) for nb in executed]
    described = [notebooks.describe(nb, path.stem) for nb, path in zip(runs, executed, strict=True)]
    listed = [
        {"title": t, "summary": s, "stem": p.stem}
        for (t, s), p in zip(described, executed, strict=True)
    ]
    params = notebooks.parameters(runs[-1]) if runs else {}
    card = notebooks.run_card(params)
    return landing.landing_page(root, listed, card, links, read_spec()), params


def build(executed: list[Path], root: Path) -> Path:
    """Render the pages that are out of date, then write the landing page; return its path."""
    code = Path(notebooks.__file__).parent
    made_with = max(p.stat().st_mtime for p in code.rglob("*") if p.is_file())
    for nb in executed:
        pages = [notebooks.output_path(nb, e) for e in notebooks.EDITIONS]
        newest = max(nb.stat().st_mtime, made_with)
        if any(not p.exists() or p.stat().st_mtime < newest for p in pages):
            notebooks.render(nb)
    path = write_text(root / "reports" / "index.html", index(root, executed, landing.REPORTS)[0])
    os.utime(path)  # a rebuilt target even when its bytes did not change (make's time)
    return path


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
    try:
        found = site.differences(root) if args.check else site.build(root)
    except site.SnapshotError as err:
        sys.exit(f"docs/: {err}")
    if args.check and found:
        sys.exit(
            "docs/ differs from what the code produces (run `make docs` and commit docs/):\n  "
            + "\n  ".join(found)
        )
    print(f"docs/: {'matches the code' if args.check else f'{len(found)} file(s) updated'}")


if __name__ == "__main__":
    main()
