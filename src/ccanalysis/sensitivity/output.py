"""The stage's outputs: the long results (``tables/sensitivity.csv``, :data:`COLUMNS`; the frame
adds ``p_bound``, a bootstrap p at its bound 1/B), the two comparison tables (text cells) and
their page (``tables/sensitivity.{html,md}``)."""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ccanalysis.io import write_csv, write_text
from ccanalysis.printing import format_p, signed
from ccanalysis.sensitivity.inputs import CARE_MODEL_GROUPS, Groups
from ccanalysis.sensitivity.verdicts import KEY
from ccanalysis.spec import SpecRow
from ccanalysis.stats import bh_qvalues, fisher_exact
from ccanalysis.tables.grid import anchor
from ccanalysis.tables.render import BACK, CSS
from ccanalysis.vocab import SYNTHETIC_LABEL


def analysis_names(
    comparison: str = "ISW", strata: str = "rurality x system size"
) -> dict[str, tuple[str, str]]:
    """Analysis id -> (table header, figure legend); ``comparison``: ``standardized_isw``'s."""
    return {
        "unadjusted": ("Crude", "Crude (Newcombe / Student t interval)"),
        "gee_care_system": (
            "Clustered",
            "Clustered by care system (crude difference; Newcombe on design-effect-adjusted "
            "counts for a share, CR2 SE for a mean; t with Satterthwaite df)",
        ),
        "gee_care_system_md": (
            "Clustered (MD)",
            "Clustered by care system (GEE, independence; Mancl-DeRouen SE, t(K - 2))",
        ),
        "gee_care_system_exchangeable": (
            "Exchangeable",
            "Clustered by care system, exchangeable correlation, rho truncated at 0 "
            "(cluster-weighted estimand)",
        ),
        "gee_coordinator": ("Coordinator", "Clustered by coordinator (GEE, independence)"),
        "standardized_isw": (
            f"Std. to {comparison}",
            f"Standardized to the {comparison} clinics' {strata} (cluster bootstrap)",
        ),
        "standardized_total": (
            "Std. to total",
            f"Standardized to all clinics' {strata} (cluster bootstrap)",
        ),
    }


#: The names of the care models' comparison (the stage's), in table order.
ANALYSIS_NAMES: dict[str, tuple[str, str]] = analysis_names()
#: Analysis ids, in table order.
ANALYSES: tuple[str, ...] = tuple(ANALYSIS_NAMES)

_RECORD_COLUMNS = (
    *("analysis", "item", "level", "estimate", "ci_low", "ci_high", "p", "unit", "method"),
    *("note", "table", "label", "value_ref", "value_cmp", "n_ref", "n_cmp", "clusters", "rho"),
    *("replicates", "df", "q", "flag"),
)
P_BOUND = "p_bound"
_FLOATS = ("estimate", "ci_low", "ci_high", "p", "value_ref", "value_cmp", "rho", "df", "q")
_INTS = ("n_ref", "n_cmp", "clusters", "replicates")


def columns(groups: Groups = CARE_MODEL_GROUPS) -> tuple[str, ...]:
    """The output's columns for the compared ``groups``."""
    return tuple(groups.columns.get(c, c) for c in _RECORD_COLUMNS)


#: The columns of ``tables/sensitivity.csv`` (the care models' comparison).
COLUMNS: tuple[str, ...] = columns()


def collect(
    records: Sequence[Mapping[str, object]],
    rows: Sequence[SpecRow],
    groups: Groups = CARE_MODEL_GROUPS,
    sparse: Mapping[tuple[str, str, str], str] | None = None,
) -> pd.DataFrame:
    """The records as one typed frame (:func:`columns`, ``p_bound``) in printed order; ``q``:
    Benjamini-Hochberg per analysis over Tables 3 and 4; ``sparse`` rows keep only the crude
    interval (a sandwich or bootstrap interval from so few events means nothing)."""
    out = pd.DataFrame.from_records(list(records), columns=[*_RECORD_COLUMNS, P_BOUND])
    out[P_BOUND] = out[P_BOUND].eq(True)  # only bootstrap records carry it
    text = [c for c in _RECORD_COLUMNS if c not in _FLOATS + _INTS]
    out[text] = out[text].astype("object").where(out[text].notna(), "").astype(str)
    out = out.astype(dict.fromkeys(_FLOATS, float) | dict.fromkeys(_INTS, "Int64"))
    out = out.rename(columns=groups.columns)
    for key, why in (sparse or {}).items():
        at = (out["table"] == key[0]) & (out["item"] == key[1]) & (out["level"] == key[2])
        out.loc[at, "flag"] = "sparse"
        drop = at & (out["analysis"] != "unadjusted")
        out.loc[drop, ["ci_low", "ci_high", "p", P_BOUND]] = (np.nan, np.nan, np.nan, False)
        note = f"sparse ({why}): interval and p not shown, see the crude row"
        out.loc[drop, "note"] = [f"{n}; {note}" if n else note for n in out.loc[drop, "note"]]
    out["q"] = out.groupby("analysis")["p"].transform(bh_qvalues)  # every row: Tables 3-4's
    rank = {r.key: i for i, r in enumerate(rows)}
    row = [rank.get(k, len(rank)) for k in zip(*(out[c] for c in KEY), strict=True)]
    analysis = out["analysis"].map({a: i for i, a in enumerate(ANALYSES)})
    return out.iloc[np.lexsort((analysis, row))].reset_index(drop=True)


def _p_text(r: Mapping, col: str = "p") -> str:
    if not math.isfinite(r[col]):
        return ""
    if r[P_BOUND] and col == "p":  # below the bound 1/B: "<0.001" as every p below it prints
        bound = 1 / int(r["replicates"])
        return "<0.001" if bound <= 0.001 else f"<{bound:g}"
    return format_p(r[col])


def _table_p(r: Mapping, g: Mapping[str, str]) -> str:
    """The p of Tables 3 and 4: Student's t (the crude p) or Fisher's exact test of the level."""
    if r["unit"] != "pp" or not math.isfinite(r["p"]):
        return _p_text(r)
    n = [int(r[g[c]]) for c in ("n_cmp", "n_ref")]
    k = [round(r[g[c]] * m / 100.0) for c, m in zip(("value_cmp", "value_ref"), n, strict=True)]
    return format_p(fisher_exact([k, [m - x for m, x in zip(n, k, strict=True)]]).p)


def _value(unit: str, v: float) -> str:
    if not math.isfinite(v):
        return "NA"
    return f"{v:.1f}%" if unit == "pp" else (f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}")


def _diff(r: Mapping) -> str:
    """``+12.3 pp (+4.5 to +20.1)``; a mean difference in its unit, 2 decimals when small."""
    unit, est, lo, hi = r["unit"], r["estimate"], r["ci_low"], r["ci_high"]
    if not math.isfinite(est):
        return "NA"
    small = max(abs(est), abs(lo), abs(hi)) < 1 if math.isfinite(lo) else abs(est) < 1
    d = 2 if unit != "pp" and small else 1
    est, lo, hi = (signed(x, d, "NA") for x in (est, lo, hi))
    return f"{est} {unit} ({lo} to {hi})"


def row_anchor(item: str, level: str, rows: int) -> str:
    """A sensitivity row's anchor, as the tables' (``t3-item[-level]``): ``s-item``, with its
    level where the item shows ``rows`` > 1 rows."""
    return anchor("s", item, level if rows > 1 else "")


def comparison_tables(
    results: pd.DataFrame,
    labels: Mapping[tuple[str, str, str], str],
    changes: pd.DataFrame,
    groups: Groups = CARE_MODEL_GROUPS,
    names: Mapping[str, tuple[str, str]] = ANALYSIS_NAMES,
) -> dict[str, pd.DataFrame]:
    """The tables ``clustering`` (``Changes``: crude -> clustered) and ``standardization``
    (``Conclusion changes``: clustered -> standardized), all cells text."""
    g, r_, c_ = groups.columns, groups.short[groups.reference], groups.short[groups.comparison]
    by = {
        a: {tuple(k): row for k, row in sub.set_index(KEY, drop=False).iterrows()}
        for a, sub in results.groupby("analysis", sort=False)
    }
    keys = list(dict.fromkeys(zip(*(results[c] for c in KEY), strict=True)))
    rows_of = Counter(k[1] for k in keys)  # an item's rows: its levels or the item alone
    changed = {
        (c, tuple(k)) for c, *k in changes.loc[changes["changed"], ["comparison", *KEY]].to_numpy()
    }
    std = [a for a in ANALYSES if a in by and a.startswith("standardized")]
    clu = [a for a in ANALYSES if a in by and a not in std]  # crude and the GEEs
    out = {}
    for part, analyses in (("clustering", clu), ("standardization", std)):
        if not analyses:
            continue
        recs = []
        for key in keys:
            base = by[analyses[0]][key]
            unit = base["unit"]
            rec = {
                "_id": row_anchor(key[1], key[2], rows_of[key[1]]) * (part == "clustering"),
                "Table": key[0].replace("table", ""),
                "Item": labels.get(key) or f"{key[1]} {key[2]}".strip(),
                "Unit": unit,
            }
            if part == "clustering":
                rec |= {
                    r_: _value(unit, base[g["value_ref"]]),
                    c_: _value(unit, base[g["value_cmp"]]),
                }
            notes = []
            for a in analyses:
                name, r = names[a][0], by[a][key]  # every analysis has every row
                if part == "standardization":
                    rec[f"{r_} {name.lower()}"] = _value(unit, r[g["value_ref"]])
                    if a == "standardized_total":
                        rec[f"{c_} {name.lower()}"] = _value(unit, r[g["value_cmp"]])
                rec[f"{name} difference (95% CI)"] = _diff(r)
                rec[f"{name} p"] = _p_text(r)
                if a == "unadjusted":
                    rec["Tables 3-4 P"] = _table_p(r, g)
                if a == "gee_care_system":
                    rec[f"{name} q"] = _p_text(r, "q")
                    rec["df"] = "" if not r["df"] >= 0 else f"{r['df']:.1f}"
                    rec["K"] = "" if r["clusters"] is pd.NA else str(r["clusters"])
                if a == "gee_care_system_exchangeable":
                    rho = r["rho"]
                    text = f"{rho:.2f}" if rho != 0 else "0 (truncated)"
                    rec["rho"] = text if math.isfinite(rho) else "indep."
                if r["note"]:
                    notes.append(f"{name}: {r['note']}")
            if part == "clustering" and "gee_care_system" in by and "unadjusted" in by:
                rec["Changes"] = "yes" if ("unadjusted -> gee_care_system", key) in changed else ""
            if part == "standardization":
                rec["Conclusion changes"] = ", ".join(
                    {"standardized_isw": c_, "standardized_total": "total"}[a]
                    for a in analyses
                    if (f"gee_care_system -> {a}", key) in changed
                )
            recs.append(rec | {"Note": "; ".join(notes)})
        out[part] = pd.DataFrame(recs)
    return out


def html_table(tab: pd.DataFrame) -> str:
    """A ``<table>`` of text cells: ``Item`` as row headers, ``Note`` as numbered footnotes, a
    column ``_X`` of (text, href) pairs shows X's cells as lists of links."""
    e, notes = html.escape, list(dict.fromkeys(n for n in tab.get("Note", []) if n))
    cols = [c for c in tab.columns if not (c == "Note" and notes) and not c.startswith("_")]
    text = {"Item", "Description", "Those rows", "Table", "Rule"}
    text |= {c for c in cols if tab[c].astype(str).str.len().max() > 40}  # prose wraps, left
    first = "Item" if "Item" in cols else cols[0]  # short names as row headers: no label's width
    key = ' class="key"' if tab[first].astype(str).str.len().max() < 24 else ""
    klass = {c: ' class="text"' if c in text else "" for c in cols}

    def cell(c: str, v: object, row: Mapping) -> str:
        mark = f" <sup>{notes.index(row['Note']) + 1}</sup>" if notes and row.get("Note") else ""
        if c == "Item" or (c == cols[0] and "Item" not in cols):
            return f'<th scope="row"{key}>{e(str(v))}{mark}</th>'
        if links := row.get(f"_{c}"):  # the cell as a list of links: (text, href) pairs
            items = "".join(f'<li><a href="{e(h)}">{e(x)}</a></li>' for x, h in links)
            return f'<td{klass[c]}><ul class="rows">{items}</ul></td>'
        return f"<td{klass[c]}>{e(str(v))}</td>"

    head = "".join(f'<th scope="col"{klass[c]}>{e(str(c))}</th>' for c in cols)
    body = "\n".join(
        (f'<tr id="{e(row["_id"])}">' if row.get("_id") else "<tr>")  # the row's anchor (s-item)
        + "".join(cell(c, row[c], row) for c in cols)
        + "</tr>"
        for row in tab.to_dict("records")
    )
    foot = "".join(f"<li>{e(n)}</li>" for n in notes)
    return (
        f'<div class="table-wrap" tabindex="0"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        f"{body}\n</tbody>\n</table></div>" + (f'\n<ol class="notes">{foot}</ol>' if notes else "")
    )


def md_table(tab: pd.DataFrame) -> str:
    """A pipe table of text cells (``|`` escaped)."""

    def line(cells: Sequence[object]) -> str:
        text = (str(v).replace("|", "\\|").replace("\n", " ") for v in cells)
        return "| " + " | ".join(text) + " |"

    tab = tab[[c for c in tab.columns if not str(c).startswith("_")]]  # keys, not for reading
    rows = [line(list(row)) for row in tab.itertuples(index=False)]
    return "\n".join(
        [line(list(tab.columns)), "|" + "|".join("---" for _ in tab.columns) + "|", *rows]
    )


def page(
    title: str,
    sections: Sequence[tuple[str, pd.DataFrame, str]],
    *,
    synthetic: bool = False,
    notes: Sequence[str] = (),
    footer: bool = False,
    intro: str = "",
) -> dict[str, str]:
    """The page in ``html`` and ``markdown``: ``intro``, per section heading, table and note, then
    ``notes``; ``synthetic``: the label on top (and at the end with ``footer``)."""
    label, e = synthetic and SYNTHETIC_LABEL, html.escape
    md = [f"**{label}**"] if label else []
    md += [intro] if intro else []
    for heading, tab, note in sections:
        md += [f"## {heading}", md_table(tab), note]
    if notes:
        md.append("## Notes\n\n" + "\n".join(f"- {s}" for s in notes))
    md += [f"*{label}*"] if label and footer else []
    stem = "definitions" if title == "Definitions" else "sensitivity"
    parts = [
        f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">\n<meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{e(title)}</title>\n<style>\nbody '
        "{ font-family: system-ui, sans-serif; margin: 1rem auto; padding: 0 1rem; max-width: "
        f"72rem; }}\n{CSS.read_text(encoding='utf-8')}</style></head>\n<body>\n"
        f'<p><a href="{BACK}#view-{stem}">← All tables and figures</a></p>'
    ]
    parts += [f'<p class="synthetic">{e(label)}</p>'] if label else []
    parts += [f"<h1>{e(title)}</h1>\n<!-- table -->"]
    parts += [f"<p>{e(intro)}</p>"] if intro else []
    for heading, tab, note in sections:
        parts += [f"<h3>{e(heading)}</h3>", html_table(tab), f'<p class="notes">{e(note)}</p>']
    if notes:
        items = "\n".join(f"<li>{e(s)}</li>" for s in notes)
        parts.append(f"<h3>Conclusions</h3>\n<ul>\n{items}\n</ul>")
    parts.append("<!-- /table -->\n</body>\n</html>")
    return {"html": "\n".join(parts) + "\n", "markdown": "\n\n".join(md) + "\n"}


#: The headings and method notes of the stage's page (the care models' comparison).
TITLES = {
    "clustering": "Care model differences (isw - mn), clinics independent and clustered by care "
    "system",
    "standardization": "Care model differences (isw - mn) standardized by rurality x care-system "
    "size",
    "changes": "Rows whose verdict changes between analyses",
}
METHODS = {
    "clustering": "Integrated social worker (ISW) minus medical/nursing (MN) clinics, in "
    "percentage points (shares among clinics answering) or the item's unit (means). Crude: "
    "Newcombe hybrid score interval and the p inverting it (shares), Student t (means). Tables "
    "3-4 P: the p Tables 3 and 4 give the row, Fisher's exact test of the level against the "
    "item's other answers (printed as P for a two-level item; p_level, unadjusted, for a level of "
    "a longer item, whose printed P tests all its levels) or Student's t (means); it tests "
    "independence, the crude p the difference itself, so near 0.05 the two can fall on opposite "
    "sides. Clustered (primary): the crude difference, clinics clustered by care system; for a "
    "share, Newcombe's hybrid score interval on design-effect-adjusted counts (each model's "
    "clinics and events divided by its CR2 design effect, Wilson limits at the t quantile with "
    "the Satterthwaite df) and the p inverting it; for a mean, the CR2 robust SE and t with the "
    "Satterthwaite df (df: each row's; K: care systems with answers); q: Benjamini-Hochberg over "
    "the rows of Tables 3 and 4. Clustered (MD): the same estimate, Mancl-DeRouen SE, t(K - 2). "
    "Exchangeable: exchangeable working correlation "
    "rho, truncated at 0 (a cluster-weighted difference; at rho 0 independence weights). Rows "
    "flagged sparse (a group with at most 2 events or non-events, or the events or non-events in "
    "fewer than 3 care systems) show the crude interval only. Changes: the verdict differs from "
    "the crude one.",
    "standardization": "Direct standardization by rurality (RUCA 1-3 urban) x care-system size "
    "(1-2, 3-9, >9 surveyed clinics of the system in the clinic frame) to the ISW clinics' "
    "strata or all clinics'; strata with fewer than 5 answers of a model are merged with their "
    "neighbour, and each row's method names the strata used. Cluster bootstrap by care system, "
    "percentile interval, p its inversion (below 1/B when no replicate crosses 0: '<0.001' for "
    "B of 1,000 or more). Conclusion changes: "
    "the verdict differs from the clustered one.",
    "changes": "Verdict: higher or lower (95% interval above or below 0) or no difference. "
    "Each comparison changes one thing: the clustering, the standardization or the working "
    "correlation.",
}
#: What the page's results are: the paper's tests confirmatory, the rest exploratory.
READING = (
    "Confirmatory: the paper's own tests, Fisher's exact and Student's t per item of Tables 3 "
    "and 4 (Tables 3-4 P here), with q-values over that pre-specified family in the tables. "
    "Exploratory: everything else on this page (the crude differences and their intervals, the "
    "clustered, exchangeable, coordinator and standardized analyses). Their p-values are "
    "unadjusted, as is p_level in tables/table3.csv and table4.csv; the primary clustered "
    "analysis has q-values over the rows of Tables 3 and 4 (q in sensitivity.csv)."
)


def write(
    results: pd.DataFrame,
    outdir: str | Path,
    tables: Mapping[str, pd.DataFrame],
    notes: Sequence[str] = (),
    *,
    synthetic: bool = False,
) -> dict[str, Path]:
    """Write ``sensitivity.csv``, ``.html`` and ``.md`` atomically; ``synthetic``: the label."""
    outdir = Path(outdir)
    sections = [(TITLES[k], tables[k], METHODS[k]) for k in TITLES if k in tables]
    text = page(
        "Sensitivity analyses",
        sections,
        synthetic=synthetic,
        notes=notes,
        footer=True,
        intro=READING,
    )
    table = results[list(COLUMNS)]  # pandas writes floats round-trip exact, NaN and <NA> empty
    return {
        "csv": write_csv(
            table.assign(synthetic=SYNTHETIC_LABEL) if synthetic else table,
            outdir / "sensitivity.csv",
        ),
        "html": write_text(outdir / "sensitivity.html", text["html"]),
        "markdown": write_text(outdir / "sensitivity.md", text["markdown"]),
    }
