"""The pipeline's outputs as the landing page reads them: one reader per file, columns by name.

Each function here is the only code of the report that knows the columns of its file; columns
the page does not use are ignored, so that a stage may add some without breaking the page.

* ``tables/table*.csv`` (long format: table, item, level, group, measure, value, diff, diff_lo,
  diff_hi, q, test, note), read by the tables stage's own reader
  (:func:`ccanalysis.tables.read.read_long`): :func:`long_tables`, :func:`tested_items`,
  :func:`largest_differences`;
* ``tables/replication_summary.csv``: :func:`replication_summary`;
* ``tables/replication_consistency.csv``: :func:`findings`;
* ``data/processed/clinics.parquet``: :func:`care_systems`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ccanalysis.display import significant
from ccanalysis.replication.rows import TEST_NAMES
from ccanalysis.tables.read import read_long
from ccanalysis.vocab import CLINIC_COMPARISON

if TYPE_CHECKING:
    import pandas as pd

    from ccanalysis.spec import Spec

#: Significance level of the headline's "differ after q" (q < Q_LEVEL).
Q_LEVEL = 0.05
#: Verdicts of the consistency check that mean a printed row cannot be right, with a heading.
INCONSISTENT: dict[str, str] = {
    "inconsistent": "Printed rows that no count table fits",
    "disagree": "Numbers in the text that disagree with the tables",
}


def long_tables(tables_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Every ``table*.csv`` of ``tables_dir`` by name (``table1`` ...), in name order."""
    return {p.stem: read_long(p) for p in sorted(Path(tables_dir).glob("table*.csv"))}


def _item_label(spec: Spec | None, table: str, item: str, level: str = "") -> str:
    """How the table prints an item (or one of its levels), its id when the spec lacks it."""
    if spec is None:
        return f"{item} ({level})" if level else item
    rows = spec.items(table).get(item, [])
    if level:
        row = next((r for r in rows if r.level == level), None)
        if row is not None:
            return row.row_label
    if len(rows) == 1:
        return rows[0].row_label
    if rows:
        return rows[0].section.strip().rstrip(":").strip() or rows[0].label
    return item


def tested_items(tables: dict[str, pd.DataFrame], spec: Spec | None = None) -> pd.DataFrame:
    """Every tested item: table, item, label, test, p, q (rows without a q are left out)."""
    import pandas as pd

    rows = []
    for name, long in tables.items():
        if "q" not in long.columns:
            continue
        p = long[(long["measure"] == "p") & long["q"].notna()]
        for r in p.itertuples(index=False):
            rows.append(
                {
                    "table": name,
                    "item": r.item,
                    "label": _item_label(spec, name, r.item),
                    "test": getattr(r, "test", ""),
                    "p": float(r.value),
                    "q": float(r.q),
                }
            )
    return pd.DataFrame(rows, columns=["table", "item", "label", "test", "p", "q"])


def largest_differences(
    tables: dict[str, pd.DataFrame],
    spec: Spec | None = None,
    count: int = 8,
    comparison: tuple[str, str] = CLINIC_COMPARISON,
) -> pd.DataFrame:
    """The ``count`` largest differences in percentage points between the models, with 95% CIs.

    Only tested tables count (a table whose items carry q-values: Table 2's criteria define the
    models, so their differences are not results). Columns: table, item, level, label, the
    reference and comparison percentages (named after the groups), diff, diff_lo, diff_hi, q.
    """
    import pandas as pd

    new, ref = comparison
    cols = ["table", "item", "level", "label", ref, new, "diff", "diff_lo", "diff_hi", "q"]
    rows = []
    for name, long in tables.items():
        if not {"diff", "diff_lo", "diff_hi", "q"} <= set(long.columns):
            continue
        q = long[(long["measure"] == "p") & long["q"].notna()].set_index("item")["q"]
        pct = long[long["measure"] == "pct"]
        base = pct[pct["group"] == ref].set_index(["item", "level"])["value"]
        diffs = pct[
            (pct["group"] == new)
            & pct["diff"].notna()
            & pct["value"].notna()
            & pct["item"].isin(q.index)
        ]
        for r in diffs.itertuples(index=False):
            rows.append(
                {
                    "table": name,
                    "item": r.item,
                    "level": r.level,
                    "label": _item_label(spec, name, r.item, r.level),
                    ref: float(base.get((r.item, r.level), float("nan"))),
                    new: float(r.value),
                    "diff": float(r.diff),
                    "diff_lo": float(r.diff_lo),
                    "diff_hi": float(r.diff_hi),
                    "q": float(q[r.item]),
                }
            )
    frame = pd.DataFrame(rows, columns=cols)
    order = frame["diff"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].head(count).reset_index(drop=True)


def replication_summary(path: str | Path) -> pd.DataFrame:
    """Printed cells per table: table, cells, equal, different, missing, pct_equal (``all`` last)."""
    import pandas as pd

    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return frame[["table", "cells", "equal", "different", "missing", "pct_equal"]]


@dataclass(frozen=True)
class Finding:
    """A printed row (or sentence) of the paper found inconsistent, with why."""

    anchor: str  #: id of its explanation on the page
    verdict: str  #: a key of INCONSISTENT
    where: str  #: "Table 3" or the paper's section
    what: str  #: the row's label, or the sentence's subject
    reason: str  #: one line
    explanation: str  #: the arithmetic, in full


def _first_sentence(text: str, limit: int = 160) -> str:
    head = re.split(r"(?<=[.;])\s", text.strip(), maxsplit=1)[0]
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


_QUOTE = re.compile(r'^"(?P<quote>.+?)" \((?P<section>[^)]*)\):\s*(?P<rest>.*)$', re.DOTALL)


def _reason(row: dict) -> str:
    """One line on why a printed row is inconsistent, from the check's own columns."""
    printed, ref = row.get("printed", ""), row.get("reference", "")
    if row.get("check") == "p" and row.get("p_min"):
        test = TEST_NAMES.get(row.get("test", ""), row.get("test", ""))
        lo, hi = (significant(float(row[k]), 2) for k in ("p_min", "p_max"))
        span = lo if lo == hi else f"{lo}–{hi}"
        return f"printed P = {printed}; the printed percentages allow P = {span} ({test} test)"
    if ref:
        return f"printed {printed}; the other printed numbers imply {ref}"
    return _first_sentence(row.get("explanation", ""))


def findings(path: str | Path, spec: Spec | None = None) -> list[Finding]:
    """The rows of ``replication_consistency.csv`` whose verdict is in :data:`INCONSISTENT`.

    A sentence of the text is named by its quotation and section (its explanation begins
    ``"quote" (Section): ...``), a table row by its table and label.
    """
    import pandas as pd

    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    frame = frame[frame["verdict"].isin(INCONSISTENT)]
    out = []
    for i, row in enumerate(frame.to_dict("records"), start=1):
        explanation = row.get("explanation", "")
        quoted = _QUOTE.match(explanation)
        if quoted:
            where, what = quoted["section"], _first_sentence(quoted["quote"], 100)
            reason = _first_sentence(quoted["rest"])
        else:
            table = row.get("table", "")
            level = row.get("level", "")
            level = "" if "+" in level else level  # a whole distribution, not one level
            where = f"Table {table.removeprefix('table')}" if table else row.get("check", "")
            what = _item_label(spec, table, row.get("item", ""), level)
            reason = _reason(row)
        out.append(Finding(f"finding-{i}", row["verdict"], where, what, reason, explanation))
    return out


def care_systems(clinics: str | Path) -> int | None:
    """The number of care systems of the processed clinics (None when the file is missing)."""
    import pandas as pd

    path = Path(clinics)
    if not path.is_file():
        return None
    return int(pd.read_parquet(path, columns=["care_system_id"])["care_system_id"].nunique())
