"""Privacy on the real export: small cells suppressed for display, and a last check that no
record id of the export appears under ``reports/``, ``tables/`` or ``figures/``.
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ccanalysis.instrument import COORDINATOR_ID, read_cells, read_dictionary

#: Text files worth scanning (binary figures carry no ids; .docx is a zip of XML, scanned inside).
TEXT_SUFFIXES = frozenset({".csv", ".html", ".md", ".tex", ".ipynb", ".txt", ".json", ".svg"})


def checkable_ids(ids: Iterable[str], min_length: int = 3) -> list[str]:
    """Ids distinctive enough to search for: a numeric id shorter than ``min_length`` ("7") cannot
    be told apart from a count in a table."""
    return sorted({i for i in map(str, ids) if i and not (i.isdigit() and len(i) < min_length)})


def _texts(path: Path) -> Iterable[str]:
    if path.suffix == ".docx":
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith(".xml"):
                    yield z.read(name).decode("utf-8", errors="replace")
    elif path.suffix in TEXT_SUFFIXES:
        yield path.read_text(encoding="utf-8", errors="replace")


def find_ids(ids: Iterable[str], paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """Every (file, id) where an id occurs as a whole token in a file under ``paths``."""
    wanted = checkable_ids(ids)
    if not wanted:
        return []
    alternatives = "|".join(re.escape(i) for i in sorted(wanted, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.-])({alternatives})(?![\w-])")
    hits: list[tuple[Path, str]] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            found = {m.group(1) for text in _texts(f) for m in pattern.finditer(text)}
            hits += [(f, i) for i in sorted(found)]
    return hits


def export_ids(export: Path, dictionary: Path) -> list[str]:
    """Record ids and coordinator ids of an export (its first column and ``coordinator_id``),
    read as the pipeline reads it (:func:`ccanalysis.instrument.redcap.read_cells`)."""
    cells = read_cells(export, read_dictionary(dictionary))[0]
    return [*cells.iloc[:, 0], *cells.get(COORDINATOR_ID, [])]


def is_small(n: float, min_cell: int | None) -> bool:
    """Is ``n`` a count of 1 to ``min_cell - 1``, which privacy mode never shows (``None``: no
    suppression)? The one rule of the tables, the figures and :func:`suppress_small`."""
    return min_cell is not None and 1 <= n < min_cell


def suppress_small(counts: pd.DataFrame, min_cell: int | None) -> pd.DataFrame:
    """Counts for display, cells of 1 to ``min_cell - 1`` shown as ``<min_cell`` (zeros stay
    visible); ``None``: unchanged."""
    if not min_cell:
        return counts
    return counts.apply(
        lambda col: (
            col.map(lambda v: f"<{min_cell}" if is_small(v, min_cell) else v)
            if pd.api.types.is_numeric_dtype(col)
            else col
        )
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m ccanalysis.privacy --dictionary DICT EXPORT DIR...``: exit 1 if an id of EXPORT
    (read with its data dictionary DICT) is in a DIR."""
    parser = argparse.ArgumentParser(prog="python -m ccanalysis.privacy", description=__doc__)
    parser.add_argument("--dictionary", type=Path, required=True, help="the export's dictionary")
    parser.add_argument("export", type=Path)
    parser.add_argument("dirs", type=Path, nargs="*")
    args = parser.parse_args(argv)
    ids = export_ids(args.export, args.dictionary)
    hits = find_ids(ids, [d for d in args.dirs if d.exists()])
    skipped = len(set(ids)) - len(checkable_ids(ids))
    if hits:
        for f, i in hits[:20]:
            print(
                f"privacy check: record id {i!r} of {args.export} appears in {f}", file=sys.stderr
            )
        print(
            f"privacy check FAILED: {len(hits)} occurrence(s); remove them before sharing.",
            file=sys.stderr,
        )
        return 1
    note = f" ({skipped} short numeric ids not checkable)" if skipped else ""
    print(
        f"privacy check passed: no record id of the export in {', '.join(map(str, args.dirs))}{note}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
