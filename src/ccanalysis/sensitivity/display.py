"""The stage's outputs: the long CSV, and two display tables rendered as HTML and Markdown with
their method notes and the conclusions.

``tables/sensitivity.csv`` has one row per analysis and spec row, columns :data:`COLUMNS`:
``analysis, item, level, estimate, ci_low, ci_high, p, unit, method, note`` (every difference in
percentage points, ``unit`` = ``pp``, or a mean difference in the item's unit), then ``table,
label``, the two models' values under the analysis (``value_mn, value_isw``: percent or means),
their answering clinics (``n_mn, n_isw``), the clusters of a clustered analysis (care systems with
answers; the bootstrap's resampled systems), the exchangeable working correlation ``rho`` and the
bootstrap replicates of the row. Another grouping (``analyze(..., by=...)``) names its groups in
those four columns, ``value_<reference>, value_<comparison>, n_<reference>, n_<comparison>``
(:func:`columns`), and its groups' labels in the display tables and texts. A bootstrap p with no replicate on the far side of 0 is written
as its bound ``1/B`` (the note says so) and shown as ``<1/B``; it is never 0. The results frame
has one column more than the CSV: ``p_bound``, true where the p is that bound (as
:func:`ccanalysis.stats.bootstrap.bootstrap_p` reports it).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ccanalysis.io import write_csv, write_text
from ccanalysis.printing import format_p
from ccanalysis.sensitivity.analyses import ANALYSIS_NAMES
from ccanalysis.sensitivity.inputs import CARE_MODEL_GROUPS, Groups
from ccanalysis.sensitivity.standardization import FULL, Stratification
from ccanalysis.sensitivity.verdicts import fmt_diff, pair_changes, pick
from ccanalysis.vocab import SYNTHETIC_LABEL

__all__ = ["COLUMNS", "columns", "display_tables", "frame", "render", "texts", "write"]

_SLOTS = ("value_ref", "value_cmp", "n_ref", "n_cmp")
#: The analyses' records: the groups' values and answers in slots (reference, comparison).
_RECORD_COLUMNS: tuple[str, ...] = (
    "analysis",
    "item",
    "level",
    "estimate",
    "ci_low",
    "ci_high",
    "p",
    "unit",
    "method",
    "note",
    "table",
    "label",
    *_SLOTS,
    "clusters",
    "rho",
    "replicates",
)


def columns(groups: Groups = CARE_MODEL_GROUPS) -> tuple[str, ...]:
    """The output's columns for the compared ``groups`` (:data:`COLUMNS` for the care models)."""
    return tuple(groups.columns.get(c, c) for c in _RECORD_COLUMNS)


#: The columns of ``tables/sensitivity.csv`` (the care models' comparison).
COLUMNS: tuple[str, ...] = columns()
#: The results' flag after them (not written: the row's note says so): the p is the bound 1/B.
P_BOUND = "p_bound"
_FLOATS = ("estimate", "ci_low", "ci_high", "p", "value_ref", "value_cmp", "rho")
_INTS = ("n_ref", "n_cmp", "clusters", "replicates")


_TITLE_CLU = (
    "Sensitivity analysis: {what} ({c} - {r}) with clinics taken as independent "
    "and clustered by care system"
)
_TITLE_STD = "Sensitivity analysis: {what} ({c} - {r}) after direct standardization by {strata}"
_METHOD_CLU = (
    "Differences are {comparison} minus {reference} clinics, in "
    "percentage points (shares among clinics answering) or in the item's unit (means). Crude: "
    "clinics taken as independent; Newcombe's hybrid score interval (shares) or Student's t "
    "interval (means), p inverting the interval (shares) or Student's t test (means). Clustered: "
    "GEE with an independence working correlation, clustered by care system (same estimate as "
    "the crude difference), robust SE with the Mancl-DeRouen small-sample correction, t "
    "reference with K - 2 degrees of freedom (K care systems with answers; 2 mean parameters). "
    "Exchangeable: GEE with an exchangeable working correlation within care systems (rho), which "
    "weights a system's clinics less the larger the system: a cluster-weighted difference, not "
    "the crude one; same SE and reference. 'Changes': the sign-and-significance of the clustered "
    "difference differs from the crude one."
)
_METHOD_STD = (
    "Direct standardization by {strata}: 'Std. to {C}' reweights the {R} clinics to the {C} "
    "clinics' strata, 'Std. to total' both {word}s to all clinics'. 95% CI: cluster bootstrap by "
    "care system (whole systems resampled with their clinics), percentile interval; p is its "
    "inversion (2 x the smaller share of replicates on either side of 0; '<1/B' when no "
    "replicate crosses 0). 'Conclusion changes': the sign-and-significance differs from the "
    "clustered crude difference (first table)."
)
_STRATA_DEFINED = {
    "urban": "rurality (RUCA 1-3 urban)",
    "system_size": "care-system size (1-2, 3-9, >9 clinics)",
}


def texts(groups: Groups = CARE_MODEL_GROUPS, strata: Stratification = FULL) -> dict[str, str]:
    """The display's titles and method notes (``title_clu``, ``title_std``, ``method_clu``,
    ``method_std``) for the compared ``groups`` and the ``strata``."""
    c, r = groups.compare
    short_c, short_r = groups.short[c], groups.short[r]
    what, ids = groups.topic, (groups.id(c), groups.id(r))
    names = (groups.description(c), groups.description(r))
    defined = " x ".join(_STRATA_DEFINED[v] for v in strata.variables)
    if strata.variables != FULL.variables:
        defined += f" only (the grouping, {groups.by}, is not stratified on)"
    return {
        "title_clu": _TITLE_CLU.format(what=what, c=ids[0], r=ids[1]),
        "title_std": _TITLE_STD.format(what=what, c=ids[0], r=ids[1], strata=strata.long_text),
        "method_clu": _METHOD_CLU.format(comparison=names[0], reference=names[1]),
        "method_std": _METHOD_STD.format(strata=defined, C=short_c, R=short_r, word=groups.word),
    }


def frame(
    records: Sequence[Mapping[str, object]], groups: Groups = CARE_MODEL_GROUPS
) -> pd.DataFrame:
    """The results frame (:func:`columns` of ``groups``, typed, then :data:`P_BOUND`) from the
    analyses' records (their group values in the slots ``value_ref, value_cmp, n_ref, n_cmp``)."""
    out = pd.DataFrame.from_records(list(records), columns=[*_RECORD_COLUMNS, P_BOUND])
    out[P_BOUND] = out[P_BOUND].eq(True)  # only bootstrap records carry it
    for c in _FLOATS:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    for c in _INTS:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("Int64")
    for c in ("analysis", "item", "level", "unit", "method", "note", "table", "label"):
        out[c] = out[c].astype("object").where(out[c].notna(), "").astype(str)
    return out.rename(columns=groups.columns)


def _num(v: object) -> str:
    if v is None or v is pd.NA:
        return ""
    x = float(v)  # type: ignore[arg-type]
    return "" if not math.isfinite(x) else repr(x)


def csv_frame(
    results: pd.DataFrame, *, groups: Groups = CARE_MODEL_GROUPS, synthetic: bool = False
) -> pd.DataFrame:
    """The CSV's text cells: floats as ``repr`` (round-trip exact), NaN as an empty cell;
    ``groups``: the compared groups, whose columns the results have (:func:`columns`)."""
    g = groups.columns
    out = results[[g.get(c, c) for c in _RECORD_COLUMNS]].copy()
    for c in (g.get(c, c) for c in _FLOATS):
        out[c] = [_num(v) for v in out[c].tolist()]
    for c in (g.get(c, c) for c in _INTS):
        out[c] = ["" if v is None or v is pd.NA else str(int(v)) for v in out[c].tolist()]
    if synthetic:
        out["synthetic"] = SYNTHETIC_LABEL
    return out


def _p_text(r: Mapping[str, object]) -> str:
    p = float(r["p"])  # type: ignore[arg-type]
    if not math.isfinite(p):
        return ""
    if r.get(P_BOUND):  # no replicate crossed 0: the bound 1/B
        return f"<{1 / int(r['replicates']):g}"  # type: ignore[call-overload]
    return format_p(p)


def _value(unit: str, v: float) -> str:
    if not math.isfinite(v):
        return "NA"
    if unit == "pp":
        return f"{v:.1f}%"
    return f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}"


def _diff(r: Mapping[str, object]) -> str:
    return fmt_diff(str(r["unit"]), float(r["estimate"]), float(r["ci_low"]), float(r["ci_high"]))  # type: ignore[arg-type]


_Key = tuple[str, str, str]


def display_tables(
    results: pd.DataFrame,
    labels: Mapping[_Key, str] | None = None,
    groups: Groups = CARE_MODEL_GROUPS,
    names: Mapping[str, tuple[str, str]] = ANALYSIS_NAMES,
    changed: Mapping[tuple[str, str], pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """The two display tables (all cells text): ``clustering`` (crude, clustered, exchangeable,
    coordinator when present) and ``standardization``; ``groups`` head the groups' columns,
    ``names`` the analyses' (:func:`~ccanalysis.sensitivity.analyses.analysis_names`);
    ``changed``: :func:`~ccanalysis.sensitivity.verdicts.pair_changes` of the results (computed
    when not given)."""
    labels = labels or {}
    changed_pairs = pair_changes(results) if changed is None else changed
    g = groups.columns
    short_r, short_c = groups.short[groups.reference], groups.short[groups.comparison]
    keys = list(
        dict.fromkeys(zip(results["table"], results["item"], results["level"], strict=True))
    )
    present = set(results["analysis"])
    out: dict[str, pd.DataFrame] = {}

    def label(key: _Key) -> str:
        return labels.get(key) or f"{key[1]} {key[2]}".strip()

    clu_cols = [
        (a, names[a][0])
        for a in (
            "unadjusted",
            "gee_care_system",
            "gee_care_system_exchangeable",
            "gee_coordinator",
        )
        if a in present
    ]
    changed_rows: dict[_Key, bool] = {}
    if {"unadjusted", "gee_care_system"} <= present:
        ch = changed_pairs[("unadjusted", "gee_care_system")]
        changed_rows = dict(
            zip(zip(ch["table"], ch["item"], ch["level"], strict=True), ch["changed"], strict=True)
        )
    if clu_cols:
        picks = {a: pick(results, a) for a, _ in clu_cols}
        first = clu_cols[0][0]
        recs = []
        for key in keys:
            if key not in picks[first]:
                continue
            base = picks[first][key]
            rec = {
                "Table": key[0].replace("table", ""),
                "Item": label(key),
                "Unit": base["unit"],
                short_r: _value(str(base["unit"]), float(base[g["value_ref"]])),  # type: ignore[arg-type]
                short_c: _value(str(base["unit"]), float(base[g["value_cmp"]])),  # type: ignore[arg-type]
            }
            notes = []
            for a, name in clu_cols:
                r = picks[a].get(key)
                rec[f"{name} difference (95% CI)"] = _diff(r) if r else ""
                rec[f"{name} p"] = _p_text(r) if r else ""
                if a == "gee_care_system":
                    k = r["clusters"] if r else None
                    rec["K"] = "" if k is None or k is pd.NA else str(int(k))  # type: ignore[arg-type]
                if a == "gee_care_system_exchangeable":
                    rho = float(r["rho"]) if r else math.nan  # type: ignore[arg-type]
                    rec["rho"] = f"{rho:.2f}" if math.isfinite(rho) else "indep."
                if r and r["note"]:
                    notes.append(f"{name}: {r['note']}")
            if changed_rows:
                rec["Changes"] = "yes" if changed_rows.get(key) else ""
            rec["Note"] = "; ".join(notes)
            recs.append(rec)
        out["clustering"] = pd.DataFrame(recs)
    std = [(a, names[a][0]) for a in ("standardized_isw", "standardized_total") if a in present]
    if std:
        picks = {a: pick(results, a) for a, _ in std}
        ch_std: dict[str, dict[_Key, bool]] = {}
        if "gee_care_system" in present:
            for a, _ in std:
                c = changed_pairs[("gee_care_system", a)]
                ck = zip(c["table"], c["item"], c["level"], strict=True)
                ch_std[a] = dict(zip(ck, c["changed"], strict=True))
        recs = []
        for key in keys:
            if key not in picks[std[0][0]]:
                continue
            unit = str(picks[std[0][0]][key]["unit"])
            rec = {"Table": key[0].replace("table", ""), "Item": label(key), "Unit": unit}
            notes = []
            for a, name in std:
                r = picks[a][key]
                rec[f"{short_r} {name.lower()}"] = _value(unit, float(r[g["value_ref"]]))  # type: ignore[arg-type]
                if a == "standardized_total":
                    rec[f"{short_c} {name.lower()}"] = _value(unit, float(r[g["value_cmp"]]))  # type: ignore[arg-type]
                rec[f"{name} difference (95% CI)"] = _diff(r)
                rec[f"{name} p"] = _p_text(r)
                if r["note"]:
                    notes.append(f"{name}: {r['note']}")
            rec["Conclusion changes"] = ", ".join(
                {"standardized_isw": short_c, "standardized_total": "total"}[a]
                for a, _ in std
                if ch_std.get(a, {}).get(key)
            )
            rec["Note"] = "; ".join(notes)
            recs.append(rec)
        out["standardization"] = pd.DataFrame(recs)
    return out


def _html_table(tab: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in tab.columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in tab.itertuples(index=False)
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _md_cell(v: object) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _md_table(tab: pd.DataFrame) -> str:
    lines = [
        "| " + " | ".join(_md_cell(c) for c in tab.columns) + " |",
        "|" + "|".join("---" for _ in tab.columns) + "|",
    ]
    lines += [
        "| " + " | ".join(_md_cell(v) for v in row) + " |" for row in tab.itertuples(index=False)
    ]
    return "\n".join(lines)


def render(
    tabs: Mapping[str, pd.DataFrame],
    sentences: Sequence[str],
    *,
    fmt: str = "html",
    synthetic: bool = False,
    headings: Mapping[str, str] | None = None,
) -> str:
    """Both display tables with titles, method notes, conclusions and (``synthetic``) the label;
    ``headings``: the titles and method notes (:func:`texts`; default the care models')."""
    if fmt not in ("html", "markdown"):
        raise ValueError("fmt must be 'html' or 'markdown'")
    parts: list[str] = []
    h = texts() if headings is None else headings
    sections = [
        ("clustering", h["title_clu"], h["method_clu"]),
        ("standardization", h["title_std"], h["method_std"]),
    ]
    if fmt == "html":
        parts.append(
            '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
            "<title>Sensitivity analyses</title></head>\n<body>"
        )
        if synthetic:
            parts.append(
                f'<p class="synthetic-label"><strong>{html.escape(SYNTHETIC_LABEL)}</strong></p>'
            )
        for key, title, method in sections:
            if key in tabs:
                parts += [
                    f"<h2>{html.escape(title)}</h2>",
                    _html_table(tabs[key]),
                    f"<p>{html.escape(method)}</p>",
                ]
        if sentences:
            parts.append(
                "<h2>Conclusions</h2>\n<ul>\n"
                + "\n".join(f"<li>{html.escape(s)}</li>" for s in sentences)
                + "\n</ul>"
            )
        if synthetic:
            parts.append(f"<p><em>{html.escape(SYNTHETIC_LABEL)}</em></p>")
        parts.append("</body>\n</html>")
        return "\n".join(parts) + "\n"
    if synthetic:
        parts.append(f"**{SYNTHETIC_LABEL}**")
    for key, title, method in sections:
        if key in tabs:
            parts += [f"## {title}", _md_table(tabs[key]), method]
    if sentences:
        parts.append("## Conclusions\n\n" + "\n".join(f"- {s}" for s in sentences))
    if synthetic:
        parts.append(f"*{SYNTHETIC_LABEL}*")
    return "\n\n".join(parts) + "\n"


def write(
    results: pd.DataFrame,
    outdir: str | Path,
    tabs: Mapping[str, pd.DataFrame],
    sentences: Sequence[str],
    *,
    synthetic: bool = False,
    headings: Mapping[str, str] | None = None,
    groups: Groups = CARE_MODEL_GROUPS,
) -> dict[str, Path]:
    """Write ``sensitivity.csv``, ``sensitivity.html`` and ``sensitivity.md`` atomically (with
    ``synthetic`` the CSV gets a ``synthetic`` column holding the label on every row);
    ``headings``: as :func:`render`; ``groups``: the compared groups of ``results``."""
    outdir = Path(outdir)

    def page(fmt: str) -> str:
        return render(tabs, sentences, fmt=fmt, synthetic=synthetic, headings=headings)

    table = csv_frame(results, groups=groups, synthetic=synthetic)
    return {
        "csv": write_csv(table, outdir / "sensitivity.csv"),
        "html": write_text(outdir / "sensitivity.html", page("html")),
        "markdown": write_text(outdir / "sensitivity.md", page("markdown")),
    }
