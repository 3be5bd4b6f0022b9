"""Tables 3 and 4 under every care model definition (``classify.DEFINITIONS``), tested as the
paper's tables. A row's *conclusion* is its own test at 0.05 (its level against all other answers
when the item has more than two) and the sign of isw - mn; it *changes* when it differs from the
reference definition's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ccanalysis.classify import (
    CLASS_COLUMNS,
    DEFINITIONS,
    Definition,
    classify_clinics,
    compare_definitions,
    get_definition,
)
from ccanalysis.io import write_csv, write_text
from ccanalysis.sensitivity.inputs import TABLES
from ccanalysis.sensitivity.output import page
from ccanalysis.sensitivity.verdicts import KEY
from ccanalysis.spec import Spec
from ccanalysis.tables.grid import anchor
from ccanalysis.tables.paper import from_spec
from ccanalysis.tables.render import BACK
from ccanalysis.vocab import (
    CLINIC_COMPARISON,
    DEFAULT_DEFINITION,
    DEFAULT_SEED,
    SYNTHETIC_LABEL,
)

ALPHA = 0.05
#: Columns of the per-row table.
ROW_COLUMNS = ("definition", *KEY, "n_mn", "n_isw", "estimate", "p", "conclusion", "changed")


def conclusion(p: float, estimate: float, alpha: float = ALPHA) -> str:
    """``higher`` / ``lower`` when p < ``alpha``, else ``no difference``; or ``not tested``."""
    if not np.isfinite(p):
        return "not tested"
    if p >= alpha or not np.isfinite(estimate) or estimate == 0:
        return "no difference"
    return "higher" if estimate > 0 else "lower"


def _rows_of(clinics: pd.DataFrame, spec: Spec, definition: Definition, seed: int | None) -> list:
    classified = classify_clinics(clinics, definition)
    comparison, reference = CLINIC_COMPARISON
    out = []
    for table in (t for t in TABLES if spec.of(t)):
        long = from_spec(spec, {"clinics": classified}, table, seed=seed, family="table").long
        p = long[long["measure"] == "p"].set_index("item")["value"]
        n = long[(long["item"] == "n") & (long["measure"] == "n")].set_index("group")["value"]
        rows = long[long["group"].eq(comparison) & long["measure"].isin(["pct", "mean"])]
        for r in rows.itertuples(index=False):
            # the level's own test where it ran (an item of more than two answers), else the item's
            pv = float(r.p_level) if r.test_level else float(p.get(r.item, np.nan))
            n_mn, n_isw = int(n.get(reference, 0)), int(n.get(comparison, 0))
            keys = (definition.id, table, r.item, r.level, n_mn, n_isw, float(r.diff), pv)
            out.append([*keys, conclusion(pv, float(r.diff))])
    return out


def definition_sensitivity(
    clinics: pd.DataFrame,
    spec: Spec,
    *,
    definitions: Mapping[str, Definition] = DEFINITIONS,
    reference: str = DEFAULT_DEFINITION,
    seed: int | None = DEFAULT_SEED,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(summary, rows)``: per definition, :func:`ccanalysis.classify.compare_definitions` and
    the rows differing at 0.05, changing conclusion and their ids; the rows' :data:`ROW_COLUMNS`."""
    base = clinics.drop(columns=[c for c in CLASS_COLUMNS if c in clinics.columns])
    reference = (ref_definition := get_definition(reference)).id  # an id, a file's row or a rule
    chosen = {reference: ref_definition} | dict(definitions)
    rows = pd.DataFrame(
        [r for d in chosen.values() for r in _rows_of(base, spec, d, seed)],
        columns=[c for c in ROW_COLUMNS if c != "changed"],
    )
    ref = rows[rows["definition"] == reference].set_index(["table", "item", "level"])["conclusion"]
    key = pd.MultiIndex.from_frame(rows[["table", "item", "level"]])
    rows["changed"] = rows["conclusion"].to_numpy() != ref.reindex(key).to_numpy()
    rows = rows[rows["definition"].isin(list(definitions))].reset_index(drop=True)

    summary = compare_definitions(base, dict(definitions), reference)
    ids = rows["item"] + np.where(rows["level"].astype(str) != "", "=" + rows["level"], "")
    rows_ids = rows["table"].str.replace("table", "T", regex=False) + " " + ids
    of = [rows["definition"].eq(d) for d in summary["definition"]]
    differ = rows["conclusion"].isin(["higher", "lower"])
    summary["rows_differ"] = [int((at & differ).sum()) for at in of]
    summary["rows_changed"] = [int((at & rows["changed"]).sum()) for at in of]
    summary["changed_rows"] = ["; ".join(rows_ids[at & rows["changed"]]) for at in of]
    return summary, rows[list(ROW_COLUMNS)]


#: The summary's columns as the page shows them.
SUMMARY_COLUMNS = {
    "definition": "Definition",
    "label": "What makes a clinic integrated",
    "integrated_sw": "ISW clinics",
    "medical_nursing": "MN clinics",
    "unclassified": "Neither",
    "changed": "Clinics changing class",
    "rows_differ": "Rows differing (p < 0.05)",
    "rows_changed": "Rows whose conclusion changes",
    "changed_rows": "Those rows",
}


def summary_table(
    summary: pd.DataFrame, labels: Mapping[tuple[str, str, str], str] | None = None
) -> pd.DataFrame:
    """The summary to read (anchors ``d-{definition}``), the changed rows named by ``labels`` and
    linked to their table rows (``_Those rows``)."""

    labels = labels or {}

    def linked(ids: str) -> list[tuple[str, str]]:
        out = []
        for s in filter(None, ids.split("; ")):
            n, item, level = re.match(r"T(\d+) ([^=]+)=?(.*)", s).groups()
            several = sum(k[:2] == (f"table{n}", item) for k in labels) > 1
            label = labels.get((f"table{n}", item, level)) or f"{item} {level}".strip()
            row = anchor(f"table{n}", item, level if several else "")
            out.append((f"Table {n}: {label}", f"{BACK}#{row}"))
        return out

    rows = summary["changed_rows"].map(linked)
    out = summary[list(SUMMARY_COLUMNS)].assign(
        changed_rows=rows.map(lambda r: "; ".join(text for text, _ in r)),
        _id="d-" + summary["definition"],
    )
    return out.rename(columns=SUMMARY_COLUMNS).assign(
        **{f"_{SUMMARY_COLUMNS['changed_rows']}": rows}
    )


TITLE = "Sensitivity to the care model definition: Tables 3 and 4 under every definition"
METHOD = (
    "Each definition reclassifies the clinics (classify.DEFINITIONS); every row of Tables 3 and 4 "
    "is tested again as in the paper's tables (Fisher's exact test; Student's t for means). A "
    "row's conclusion is its own unadjusted p < 0.05 or not and the sign of its difference "
    "(isw - mn): the test of the row's answer level (or the levels it adds up) against all other "
    "answers where the item has more than two answers, else the item's test. It changes when it "
    "differs from the conclusion under the reference definition ({reference})."
)


def write(
    summary: pd.DataFrame,
    rows: pd.DataFrame,
    outdir: Path,
    *,
    reference: str = DEFAULT_DEFINITION,
    synthetic: bool = False,
    labels: Mapping[tuple[str, str, str], str] | None = None,
) -> dict[str, Path]:
    """Write the summary, every row and the page atomically; ``synthetic``: the label in each."""
    label = {"synthetic": SYNTHETIC_LABEL} if synthetic else {}
    sections = [(TITLE, summary_table(summary, labels), METHOD.format(reference=reference))]
    text = page("Definitions", sections, synthetic=synthetic)
    return {
        "definitions_csv": write_csv(summary.assign(**label), outdir / "definitions.csv"),
        "definitions_rows_csv": write_csv(rows.assign(**label), outdir / "definitions_rows.csv"),
        "definitions_md": write_text(outdir / "definitions.md", text["markdown"]),
        "definitions_html": write_text(outdir / "definitions.html", text["html"]),
    }
