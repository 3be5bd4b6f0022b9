"""``python -m ccanalysis.report``: the commands the Makefile runs.

``build NB...``  render each executed notebook whose pages are older than it (or than the code
                 make rebuilds the pages on: :func:`rendering`), then write
                 ``reports/index.html``; one process for all, since importing nbconvert costs
                 about 2 s
``html NB``      render one executed notebook (both editions), whatever its pages' age
``docs``         write the snapshot of the synthetic run to ``docs/``
``docs --check`` say how ``docs/`` differs from what the code produces; exit 1 if it does
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ccanalysis import makedeps
from ccanalysis.io import write_text
from ccanalysis.paths import project_root
from ccanalysis.report import page, site
from ccanalysis.report.landing import REPORTS, landing_page
from ccanalysis.report.notebooks import EDITIONS, Renderer, output_path
from ccanalysis.report.runcard import Code, run_card


def rendering(root: Path, code: Code) -> list[Path]:
    """The files the pages are made with, as make sees them (``REPORT_FILES``,
    :func:`ccanalysis.makedeps.report_files`): every module ``python -m ccanalysis.report`` executes
    (``makedeps`` among them, whose declarations each card hashes) and the templates."""
    known, graph = code
    files = makedeps.report_files(root, graph, known)
    found = {root / m for m in files.modules}
    for pattern in files.data:
        found |= makedeps.matching(root, pattern)
    return sorted(p for p in found if p.is_file())


def _stale(executed: Path, made_with: list[Path]) -> bool:
    """Is a page of ``executed`` missing, or older than it or than the code that renders it?"""
    newest = max([executed.stat().st_mtime, *(p.stat().st_mtime for p in made_with)])
    outs = [output_path(executed, e) for e in EDITIONS]
    return any(not o.exists() or o.stat().st_mtime < newest for o in outs)


def build(executed: list[Path], root: Path) -> Path:
    """Render what is out of date, then write the landing page; return its path."""
    from ccanalysis.spec import read_spec

    renderer = Renderer(root)
    made_with = rendering(root, renderer.code)
    rendered = [
        renderer.render(nb) if _stale(nb, made_with) else renderer.summary(nb) for nb in executed
    ]
    card = run_card(root, rendered[-1].card.params, code=renderer.code) if rendered else None
    text = landing_page(root, rendered, card, REPORTS, read_spec())
    return page.touch(write_text(root / "reports" / "index.html", text))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ccanalysis.report")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_build = sub.add_parser("build", help="render the notebooks, write reports/index.html")
    p_build.add_argument("notebooks", nargs="*", type=Path)
    p_html = sub.add_parser("html", help="render one executed notebook (both editions)")
    p_html.add_argument("notebook", type=Path)
    p_docs = sub.add_parser("docs", help="write (or --check) the snapshot in docs/")
    p_docs.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    root = project_root()
    if args.cmd == "build":
        build([root / nb for nb in args.notebooks], root)
    elif args.cmd == "html":
        Renderer(root).render(root / args.notebook)
    elif args.cmd == "docs":
        try:
            found = site.differences(root) if args.check else site.build(root)
        except site.SnapshotError as err:
            sys.exit(f"docs/: {err}")
        if args.check and found:
            sys.exit(
                "docs/ differs from what the code produces (run `make docs` and commit docs/):\n  "
                + "\n  ".join(found)
            )
        verb = "matches the code" if args.check else f"{len(found)} file(s) updated"
        print(f"docs/: {verb}")


if __name__ == "__main__":
    main()
