"""Calibration: the plans of every printed item, solved once from the printed tables (scale 1).

For Tables 1, 3 and 4 each item of the table specification is solved against its printed numbers:
a continuous item by :func:`ccanalysis.synth.numeric.solve_numeric` (means, SDs, p), a categorical
one by :mod:`ccanalysis.synth.categorical` (percentages, p), the items of one check-all-that-apply
question together (they share their denominator). A printed number that no data can meet together
with the rest of its row is met as closely as possible and said so in ``Calibration.notes`` (the
``IMPOSSIBLE`` lines of ``SYNTHETIC.md``), as is every missing answer the printed numbers need.
Table 2 and the counts of the paper's text shape the structure (:mod:`ccanalysis.synth.structure`)
rather than a plan. A spec row that prints nothing (a level or an item added to the specification) is
no target: an item with no printed row at all is left to :mod:`ccanalysis.synth.uncalibrated`.
Deterministic: no randomness.
"""

from __future__ import annotations

from ccanalysis.instrument import Field, Instrument
from ccanalysis.synth.categorical import (
    MAX_MISSING,
    Cell,
    fit_item,
    fit_more_missing,
    item_choices,
    p_note,
    solve_cells,
)
from ccanalysis.synth.numeric import MeanTargets, solve_numeric
from ccanalysis.synth.plans import Calibration, CatPlan, NumPlan
from ccanalysis.synth.targets import Targets, structure_targets
from ccanalysis.vocab import CLINIC_GROUPS, COORDINATOR_GROUPS, TOTAL

#: The tables whose items are calibrated, with the decimals of their printed percentages.
CALIBRATED_TABLES: dict[str, int] = {"table1": 1, "table3": 0, "table4": 0}


def field_levels(f: Field, item: str) -> tuple[list[str], list[str]]:
    """(levels, codes) of an analysis item in instrument order; checkbox items are yes/no (1/0)."""
    if f.field_type == "checkbox" and f.items:
        return ["yes", "no"], ["1", "0"]
    codes = list(f.choices)
    return [f.levels[c] for c in codes], codes


def table_groups(table: str) -> tuple[str, ...]:
    """The groups of a table: coordinators' for Table 1, clinics' otherwise."""
    return COORDINATOR_GROUPS if table == "table1" else CLINIC_GROUPS


def calibrate(instrument: Instrument, targets: Targets) -> Calibration:
    """Solve counts, missing answers, sums and SDs of every printed item (scale 1).

    Parameters
    ----------
    instrument : Instrument
        The parsed data dictionary.
    targets : Targets
        The printed tables (:func:`load_targets`).
    """
    items = instrument.analysis_items()
    cat: dict[str, CatPlan] = {}
    num: dict[str, NumPlan] = {}
    notes: list[str] = []
    questions: dict[str, list[str]] = {}
    for table, dec in CALIBRATED_TABLES.items():
        groups = table_groups(table)
        sizes = targets.group_sizes(table, groups)
        # categorical items, check-all-that-apply items grouped by question
        pending: dict[str, dict[str, tuple[list[Cell], bool]]] = {}
        for item, all_rows in targets.spec.items(table).items():
            # rows printing nothing cannot be calibrated; an item without any is answered as
            # ccanalysis.synth.uncalibrated declares
            rows = [r for r in all_rows if targets.printed(table, item, r.level)]
            if not rows:
                continue
            f = items[item]
            shown = rows[0].shown
            if shown == "mean_sd" or rows[0].continuous:
                mean = {g: targets.get(table, item, "", g, "mean") for g in (*groups, TOTAL)}
                sd = {g: targets.get(table, item, "", g, "sd") for g in (*groups, TOTAL)}
                printed = MeanTargets(item, table, groups, sizes, mean, sd, f)  # type: ignore[arg-type]
                plan = solve_numeric(printed, targets.p_text(table, item))
                num[item] = plan
                if any(plan.missing.values()):
                    notes.append(
                        f"{item}: {plan.missing} missing answers needed for the printed "
                        "mean/SD and p-value"
                    )
                continue
            levels, _ = field_levels(f, item)
            cells = []
            for row in rows:
                lv = list(row.levels)
                pct = {}
                nn = {}
                for g in (*groups, TOTAL):
                    v = targets.get(table, item, row.level, g, "pct")
                    if v is not None:
                        pct[g] = v
                    c = targets.get(table, item, row.level, g, "n")
                    if c is not None and g != TOTAL:
                        nn[g] = int(c)
                cells.append(Cell(lv, pct, nn))
                unknown = [x for x in lv if x not in levels]
                if unknown:
                    raise ValueError(f"{table} {item}: levels {unknown} not in the instrument")
            key = f.name if (f.field_type == "checkbox" and f.items) else item
            # a full row set fixes every level's count: only if every row is printed
            pending.setdefault(key, {})[item] = (cells, shown == "full" and rows == all_rows)
        for key, its in pending.items():
            for item, (cells, full) in its.items():
                try:
                    solve_cells({item: (cells, full)}, groups, sizes, dec)
                except ValueError:
                    for c in cells:
                        c.relax_total = True
                    notes.append(
                        f"IMPOSSIBLE {table} {item}: the printed total column cannot be met together "
                        f"with the group columns with at most {MAX_MISSING} missing answers; group "
                        "columns met, total as close as possible"
                    )
            d, sol = solve_cells(its, groups, sizes, dec)
            f = items[next(iter(its))]
            if f.field_type == "checkbox" and f.items:
                questions[key] = list(f.items.values())
            for item, (cells, _full) in its.items():
                levels, codes = field_levels(f, item)
                idx = [[levels.index(x) for x in c.levels] for c in cells]
                p_text = targets.p_text(table, item)
                d_fewest = d
                choices = item_choices(cells, _full, groups, d, dec)
                fit = fit_item(choices, idx, len(levels), d, groups, p_text)
                if not fit.ok and len(its) == 1:
                    # a single question: more missing answers may allow the printed p
                    fit, d_item = fit_more_missing(
                        cells, _full, groups, sizes, d, dec, idx, len(levels), p_text, fit
                    )
                    if d_item != d:
                        d = d_item
                counts, spacing = fit.counts, fit.rule
                if p_text is not None and not fit.ok:
                    notes.append(p_note(table, item, cells, groups, fit, p_text))
                cat[item] = CatPlan(item, table, levels, codes, dict(sizes), counts, spacing)
                for j, cell in enumerate(cells):
                    if cell.relax_total and TOTAL in cell.pct:
                        got = (
                            100
                            * sum(int(counts[g][idx[j]].sum()) for g in groups)
                            / sum(d.values())
                        )
                        notes.append(
                            f"IMPOSSIBLE {table} {item} {'+'.join(cell.levels)}: total "
                            f"printed {cell.pct[TOTAL]:g}, reproduced {got:.1f} (groups "
                            + ", ".join(f"{g} {cell.pct[g]:g}" for g in groups)
                            + " met)"
                        )
                miss = cat[item].missing
                if any(miss.values()):
                    notes.append(
                        f"{item}: {miss} missing answers needed for the printed percentages"
                        + (" and p-value" if d != d_fewest else "")
                    )
    structure = structure_targets(targets)
    return Calibration(cat, num, structure, questions, notes)
