"""Conclusions: the verdict of each row under each analysis, where they change, and sentences
written from the methods the rows actually used (their ``method`` column), never assumed.

A verdict is the sign and significance of the comparison - reference difference (isw - mn):
``higher`` (95% interval above 0), ``lower`` (below 0), ``no difference`` (it covers 0) or ``not
estimable``. Every analysis of
the stage reports a p that inverts its interval, so the verdict and ``p < 0.05`` agree.

Two comparisons carry the conclusions, each changing one thing at a time:

* clustering: ``unadjusted`` (clinics independent) against ``gee_care_system`` (same estimate,
  clustered inference);
* standardization: ``gee_care_system`` against ``standardized_<target>`` (both clustered by care
  system; only the confounding adjustment differs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from ccanalysis.sensitivity.inputs import CARE_MODEL_GROUPS, Groups
from ccanalysis.sensitivity.standardization import FULL, Stratification

__all__ = [
    "PAIRS",
    "changes",
    "conclusions",
    "fmt_diff",
    "pair_changes",
    "verdict",
    "verdict_texts",
]

_Key = tuple[str, str, str]
#: The comparisons (before, after) whose changes of verdict the stage reports.
PAIRS: tuple[tuple[str, str], ...] = (
    ("unadjusted", "gee_care_system"),
    ("gee_care_system", "standardized_isw"),
    ("gee_care_system", "standardized_total"),
    ("gee_care_system", "gee_care_system_exchangeable"),
)


def verdict_texts(groups: Groups = CARE_MODEL_GROUPS) -> dict[str, str]:
    """Each verdict in a sentence, naming the comparison group's clinics (``significantly higher
    in integrated social worker clinics``)."""
    where = groups.clinics(groups.comparison)
    return {
        "higher": f"significantly higher in {where}",
        "lower": f"significantly lower in {where}",
        "no difference": "no significant difference",
        "not estimable": "not estimable",
    }


#: The verdicts' sentences of the care models' comparison.
VERDICT_TEXT: dict[str, str] = verdict_texts()


def _target_text(t: str, groups: Groups, strata: Stratification) -> str:
    """``the integrated clinics' distribution of rurality x care-system size``."""
    whose = "all clinics'" if t == "total" else f"the {groups.strata_of(groups.comparison)}'"
    return f"{whose} distribution of {strata.long_text}"


def verdict(estimate: float, ci_low: float, ci_high: float) -> str:
    """Sign and significance: ``higher`` / ``lower`` (interval excludes 0), ``no difference``
    (it covers 0) or ``not estimable``."""
    if not (math.isfinite(estimate) and math.isfinite(ci_low) and math.isfinite(ci_high)):
        return "not estimable"
    if ci_low > 0:
        return "higher"
    if ci_high < 0:
        return "lower"
    return "no difference"


def _fmt(x: float, digits: int) -> str:
    """Signed, fixed decimals; a value that rounds to 0 keeps its sign (-0.0, +0.0)."""
    if not math.isfinite(x):
        return "NA"
    return f"{x:+.{digits}f}" if x != 0 else f"{0:.{digits}f}"


def fmt_diff(unit: str, est: float, lo: float, hi: float) -> str:
    """``+12.3 pp (4.5 to 20.1)``; a mean difference in its unit, 2 decimals when small."""
    if not math.isfinite(est):
        return "NA"
    if unit == "pp":
        return f"{_fmt(est, 1)} pp ({_fmt(lo, 1)} to {_fmt(hi, 1)})"
    small = max(abs(est), abs(lo), abs(hi)) < 1 if math.isfinite(lo) else abs(est) < 1
    digits = 2 if small else 1
    return f"{_fmt(est, digits)} {unit} ({_fmt(lo, digits)} to {_fmt(hi, digits)})"


def pick(results: pd.DataFrame, analysis: str) -> dict[_Key, dict[str, object]]:
    """The rows of one analysis by (table, item, level), as dicts of Python values."""
    sub = results[results["analysis"] == analysis]
    cols = list(sub.columns)
    # column lists zipped: DataFrame.to_dict("records") boxes value by value, several times slower
    values = zip(*(sub[c].tolist() for c in cols), strict=True)
    recs = (dict(zip(cols, v, strict=True)) for v in values)
    return {(r["table"], r["item"], r["level"]): r for r in recs}


def changes(results: pd.DataFrame, compare: tuple[str, str]) -> pd.DataFrame:
    """Per row present in both analyses: their verdicts and whether they disagree (``changed``;
    a row not estimable in either is never a change)."""
    a, b = (pick(results, x) for x in compare)
    rows = []
    for key, ra in a.items():
        if key not in b:
            continue
        rb = b[key]
        va = verdict(ra["estimate"], ra["ci_low"], ra["ci_high"])
        vb = verdict(rb["estimate"], rb["ci_low"], rb["ci_high"])
        rows.append(
            {
                "table": key[0],
                "item": key[1],
                "level": key[2],
                compare[0]: va,
                compare[1]: vb,
                "changed": va != vb and "not estimable" not in (va, vb),
            }
        )
    return pd.DataFrame(rows, columns=["table", "item", "level", *compare, "changed"])


def pair_changes(results: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """:func:`changes` of every pair of :data:`PAIRS` whose two analyses the results hold,
    computed once for the display tables, the conclusions and the stage's table of changes."""
    present = set(results["analysis"])
    return {pair: changes(results, pair) for pair in PAIRS if set(pair) <= present}


def _name(labels: dict[_Key, str], key: _Key) -> str:
    return f"{labels.get(key, key[1])} ({key[1]}{'=' + key[2] if key[2] else ''})"


def _methods_used(results: pd.DataFrame, analysis: str) -> dict[str, int]:
    sub = results.loc[results["analysis"] == analysis, "method"]
    return {str(m): int(n) for m, n in sub.value_counts(sort=False).items()}


def _changed_sentences(
    results: pd.DataFrame,
    labels: dict[_Key, str],
    ch: pd.DataFrame,
    compare: tuple[str, str],
    names: tuple[str, str],
    verdict_text: dict[str, str] = VERDICT_TEXT,
) -> list[str]:
    """A sentence per changed row of ``ch`` (the :func:`changes` of ``compare``)."""
    a, b = (pick(results, x) for x in compare)
    out = []
    for r in ch[ch["changed"]].itertuples(index=False):
        key = (r.table, r.item, r.level)
        ra, rb = a[key], b[key]
        out.append(
            f"{_name(labels, key)}: {names[0]} "
            f"{fmt_diff(ra['unit'], ra['estimate'], ra['ci_low'], ra['ci_high'])}, "
            f"{verdict_text[getattr(r, compare[0])]}; {names[1]} "
            f"{fmt_diff(rb['unit'], rb['estimate'], rb['ci_low'], rb['ci_high'])}, "
            f"{verdict_text[getattr(r, compare[1])]}."
        )
    return out


def _significant(ch: pd.DataFrame, col: str) -> int:
    return int(ch[col].isin(["higher", "lower"]).sum())


def conclusions(
    results: pd.DataFrame,
    labels: dict[_Key, str] | None = None,
    notes: Sequence[str] = (),
    groups: Groups = CARE_MODEL_GROUPS,
    strata: Stratification = FULL,
    changed: Mapping[tuple[str, str], pd.DataFrame] | None = None,
) -> list[str]:
    """Sentences: what each comparison changes (a summary, then one per changed row), how the
    exchangeable analysis was actually fitted, and the stage's ``notes`` (coordinator nesting);
    ``groups`` and ``strata`` as the rows were computed; ``changed``: :func:`pair_changes` of
    the results (computed when not given)."""
    labels = labels or {}
    changed = pair_changes(results) if changed is None else changed
    present = set(results["analysis"])
    out: list[str] = []
    says = verdict_texts(groups)
    diff = f"{groups.id(groups.comparison)} - {groups.id(groups.reference)}"
    if {"unadjusted", "gee_care_system"} <= present:
        pair = ("unadjusted", "gee_care_system")
        ch = changed[pair]
        per_row = _changed_sentences(results, labels, ch, pair, ("crude", "clustered"), says)
        was = _significant(ch, "unadjusted")
        sig_a = ch["unadjusted"].isin(["higher", "lower"])
        kept = int((sig_a & (ch["unadjusted"] == ch["gee_care_system"])).sum())
        new = int(
            (
                (ch["unadjusted"] == "no difference")
                & ch["gee_care_system"].isin(["higher", "lower"])
            ).sum()
        )
        method = "; ".join(_methods_used(results, "gee_care_system"))
        out.append(
            f"With clinics clustered by care system ({method}), {kept} of the {was} differences "
            "significant with clinics taken as independent (Newcombe or t interval) remain "
            "significant"
            + (f", and {new} not significant before become significant." if new else ".")
        )
        out += per_row
    for t in ("isw", "total"):
        a = f"standardized_{t}"
        if a not in present or "gee_care_system" not in present:
            continue
        target = groups.id(groups.comparison) if t == "isw" else t
        ch = changed[("gee_care_system", a)]
        per_row = _changed_sentences(
            results,
            labels,
            ch,
            ("gee_care_system", a),
            ("clustered", f"standardized to the {target} strata"),
            says,
        )
        reps = results.loc[results["analysis"] == a, "replicates"]
        reps = pd.to_numeric(reps, errors="coerce").dropna()
        b_text = (
            f"{int(reps.min()):,} to {int(reps.max()):,} replicates"
            if len(reps) and reps.min() != reps.max()
            else (f"{int(reps.min()):,} replicates" if len(reps) else "")
        )
        out.append(
            f"Standardized to {_target_text(t, groups, strata)} (cluster bootstrap by care system, "
            f"percentile interval, {b_text}), the conclusion (sign and significance of the {diff} "
            f"difference) changes for {int(ch['changed'].sum())} of {len(ch)} rows of Tables 3 "
            "and 4 against the clustered crude comparison."
        )
        out += per_row
    ex = "gee_care_system_exchangeable"
    if ex in present:
        used = _methods_used(results, ex)
        n_exch = sum(n for m, n in used.items() if m.startswith("GEE, exchangeable"))
        n_fb = sum(n for m, n in used.items() if "fell back" in m)
        sub = results[results["analysis"] == ex]
        rho = pd.to_numeric(sub["rho"], errors="coerce").dropna()
        rho_text = f" (rho {rho.min():.2f} to {rho.max():.2f})" if len(rho) else ""
        text = (
            f"The secondary analysis with an exchangeable working correlation within care systems "
            f"estimates a cluster-weighted difference, not the crude one: it was fitted with the "
            f"exchangeable correlation for {n_exch} of {len(sub)} rows{rho_text}"
        )
        if n_fb:
            reasons = sub.loc[sub["method"].str.contains("fell back", regex=False), "note"]
            outside = int(reasons.str.contains("outside its valid range", regex=False).sum())
            other = n_fb - outside
            parts = []
            if outside:
                parts.append(f"{outside} with rho outside its valid range")
            if other:
                parts.append(f"{other} without convergence or without clusters of two")
            text += f"; {n_fb} fell back to independence ({', '.join(parts)})"
        ch = changed.get(("gee_care_system", ex))  # none without the primary clustered rows
        text += (
            f". Its conclusion differs from the primary clustered analysis for "
            f"{int(ch['changed'].sum()) if ch is not None else 0} rows."
        )
        out.append(text)
    out += list(notes)
    return out
