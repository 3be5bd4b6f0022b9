"""The plans of every printed item of Tables 1, 3 and 4, solved once at scale 1, without randomness.

Numbers no data can meet are met as closely as possible (``IMPOSSIBLE`` in ``Calibration.notes``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import pandas as pd

from ccanalysis.instrument import Field, Instrument
from ccanalysis.printing import format_p
from ccanalysis.synth.categorical import (
    MAX_MISSING,
    MISSING_FRAC,
    CatPlan,
    Cell,
    denominators,
    fit_item,
    item_choices,
    p_note,
    solve_cells,
)
from ccanalysis.synth.numeric import NumPlan, solve_numeric
from ccanalysis.synth.targets import Targets
from ccanalysis.vocab import CLINIC_GROUPS, COORDINATOR_GROUPS, TOTAL

#: The tables whose items are calibrated, with the decimals of their printed percentages.
CALIBRATED_TABLES: dict[str, int] = {"table1": 1, "table3": 0, "table4": 0}


@dataclass
class Calibration:
    """The plans of the printed items, by item, and the notes on what the printed numbers need."""

    cat: dict[str, CatPlan]
    num: dict[str, NumPlan]
    notes: list[str] = field(default_factory=list)
    #: The printed numbers met only as closely as possible (Table, Row, Printed, Stand-in, Why).
    unmet: list[dict[str, str]] = field(default_factory=list)


def missing_answers(cal: Calibration) -> pd.DataFrame:
    """The missing answers the printed numbers need, by item and group."""
    plans = (*cal.cat.items(), *cal.num.items())
    rows = [{"table": p.table, "item": i, **p.missing} for i, p in plans if any(p.missing.values())]
    return pd.DataFrame(rows).sort_values(["table", "item"], kind="stable", ignore_index=True)


def calibrate(instrument: Instrument, targets: Targets) -> Calibration:
    """Counts, missing answers, sums and SDs of every printed item at the study's size."""
    items = instrument.analysis_items()
    cal = Calibration({}, {})
    for table, dec in CALIBRATED_TABLES.items():
        groups = COORDINATOR_GROUPS if table == "table1" else CLINIC_GROUPS
        sizes = {g: int(targets.get(table, "n", "", g, "n")) for g in groups}  # type: ignore[arg-type]
        questions: dict[str, dict[str, tuple[list[Cell], bool]]] = {}
        for item, all_rows in targets.spec.items(table).items():
            rows = [r for r in all_rows if targets.printed(table, item, r.level)]
            if not rows:
                continue
            f = items[item]
            if rows[0].continuous:
                mean, sd = (
                    {g: targets.get(table, item, "", g, m) for g in (*groups, TOTAL)}
                    for m in ("mean", "sd")
                )
                p_text = targets.p_text(table, item)
                plan = cal.num[item] = solve_numeric(table, f, sizes, mean, sd, p_text)  # type: ignore[arg-type]
                if any(plan.missing.values()):
                    cal.notes.append(
                        f"{item}: {plan.missing} missing answers needed for the printed mean/SD and p-value"
                    )
                continue
            cells = []
            for row in rows:
                get = functools.partial(targets.get, table, item, row.level)
                pct = {g: v for g in (*groups, TOTAL) if (v := get(g, "pct")) is not None}
                n = {g: int(c) for g in groups if (c := get(g, "n")) is not None}
                cells.append(Cell(list(row.levels), pct, n))
            full = rows[0].shown == "full" and rows == all_rows  # every level's count printed
            questions.setdefault(f.name, {})[item] = (cells, full)  # a question's boxes together
        for its in questions.values():
            _fit_question(cal, targets, items, table, dec, sizes, its)
    return cal


def _fit_question(
    cal: Calibration,
    targets: Targets,
    items: dict[str, Field],
    table: str,
    dec: int,
    sizes: dict[str, int],
    its: dict[str, tuple[list[Cell], bool]],
) -> None:
    """The plans of one question's items (one item, or the boxes of a question), into ``cal``."""
    groups = list(sizes)
    for item, (cells, full) in its.items():
        try:
            solve_cells({item: (cells, full)}, sizes, dec)
        except ValueError:
            for c in cells:
                c.relax_total = True
            cal.notes.append(
                f"IMPOSSIBLE {table} {item}: the printed total column cannot be met together "
                f"with the group columns with at most {MAX_MISSING} missing answers; group "
                "columns met, total as close as possible"
            )
    d = d_fewest = solve_cells(its, sizes, dec)
    f = items[next(iter(its))]
    levels = ["yes", "no"] if f.field_type == "checkbox" and f.items else f.level_order()
    for item, (cells, full) in its.items():
        idx = [[levels.index(x) for x in c.levels] for c in cells]
        p_text = targets.p_text(table, item)
        fit = fit_item(item_choices(cells, full, d, dec), idx, len(levels), d, p_text)
        if not fit.ok and len(its) == 1:
            # a single question: more missing answers (up to MISSING_FRAC) for the printed p
            caps = [math.floor(MISSING_FRAC * sizes[g] + 1e-9) for g in groups]
            first = sum(sizes[g] - d[g] for g in groups)
            tried = [fit]
            for m in (m for _, ds in denominators(sizes, caps, first) for m in ds):
                choices = item_choices(cells, full, m, dec) if m != d else []
                if choices:
                    tried.append(fit_item(choices, idx, len(levels), m, p_text))
                    if tried[-1].ok:
                        fit, d = tried[-1], m
                        break
            else:
                fit.ps = [p for t in tried for p in t.ps]
        if not fit.ok:
            cal.notes.append(p_note(table, item, cells, fit, p_text))
            why = "no count table that rounds to the printed percentages gives it (Fisher's test)"
            unmet = _unmet(targets, table, item, "") | {"Printed": f"P {p_text}"}
            cal.unmet.append(unmet | {"Stand-in": f"P {format_p(fit.p)}", "Why": why})
        plan = cal.cat[item] = CatPlan(table, levels, dict(sizes), fit.counts)
        for j, cell in enumerate(cells):
            if cell.relax_total and TOTAL in cell.pct:
                got = 100 * sum(int(fit.counts[g][idx[j]].sum()) for g in groups) / sum(d.values())
                cal.notes.append(
                    f"IMPOSSIBLE {table} {item} {'+'.join(cell.levels)}: total printed "
                    f"{cell.pct[TOTAL]:g}, reproduced {got:.1f} (groups "
                    + ", ".join(f"{g} {cell.pct[g]:g}" for g in groups)
                    + " met)"
                )
                why = "the Total column cannot be met together with the groups' (met)"
                unmet = _unmet(targets, table, item, "+".join(cell.levels))
                unmet |= {"Printed": f"Total {cell.pct[TOTAL]:g}%", "Stand-in": f"Total {got:.1f}%"}
                cal.unmet.append(unmet | {"Why": why})
        if any(plan.missing.values()):
            cal.notes.append(
                f"{item}: {plan.missing} missing answers needed for the printed percentages"
                + (" and p-value" if d != d_fewest else "")
            )


def _unmet(targets: Targets, table: str, item: str, level: str) -> dict:
    """The start of an unmet record: its ``_key``, table and row label."""
    rows = targets.spec.items(table).get(item, [])
    row = next((r for r in rows if r.level == level), rows[0] if len(rows) == 1 else None)
    label = row.row_label if row else rows[0].section.strip().rstrip(":") or rows[0].label
    return {"_key": (table, item, level), "Table": f"Table {table[5:]}", "Row": label}
