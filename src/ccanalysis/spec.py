"""The table specification (``specs/tables.csv``), read and validated once, as typed rows: one per
printed row of Tables 1-4; denominator ``all``: a missing answer counts as not the level.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from ccanalysis.instrument import Instrument, read_dictionary
from ccanalysis.paths import DEFAULT_DICTIONARY, SPEC_FILE, project_root
from ccanalysis.vocab import DERIVED_ITEMS

#: The columns every specification has, in order, and the optional ones with their defaults.
COLUMNS: tuple[str, ...] = tuple("table section item level label stat shown combine test".split())
OPTIONAL: dict[str, str] = {"denominator": "answered", "footnote": "", "family": ""}
STATS = frozenset({"n_pct", "pct", "mean_sd"})
SHOWN = frozenset({"binary", "full", "collapsed", "mean_sd"})
CATEGORICAL_TESTS = frozenset({"fisher", "chisq", "chisq_yates"})
CONTINUOUS_TESTS = frozenset({"student_t", "welch_t", "anova", "welch_anova"})
TESTS = CATEGORICAL_TESTS | CONTINUOUS_TESTS | {"none"}
DENOMINATORS = frozenset({"answered", "all"})
#: A family name: letters, digits, ``_``, ``-``, ``.``.
FAMILY_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def parse_combine(text: str) -> tuple[str, ...]:
    """The answer levels of a ``combine`` cell: ``"always+mostly"`` -> ``("always", "mostly")``."""
    return tuple(lv.strip() for lv in str(text).split("+") if lv.strip())


@dataclass(frozen=True)
class SpecRow:
    """One printed row of a table; ``item_levels``: the item's answers (empty for a numeric item)."""

    line: int
    table: str
    section: str
    item: str
    level: str
    label: str
    stat: str
    shown: str
    combine: tuple[str, ...]
    test: str
    denominator: str
    footnote: str
    item_levels: tuple[str, ...] = ()
    family: str = ""
    #: A numeric item's unit (the dictionary's ``@CC-UNIT``; empty without one).
    unit: str = ""

    @property
    def q_family(self) -> str:
        """The family of the item's q-value: ``family``, else the table."""
        return self.family or self.table

    @property
    def continuous(self) -> bool:
        """A mean (SD) row of a numeric item."""
        return self.stat == "mean_sd"

    @property
    def levels(self) -> tuple[str, ...]:
        if self.continuous:
            return ()
        return self.combine if self.shown == "collapsed" else (self.level,)

    @property
    def all_denominator(self) -> bool:
        """Denominator ``all``: a missing answer counts as not the level."""
        return self.denominator == "all"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.table, self.item, self.level)

    @property
    def row_label(self) -> str:
        """The row's label after its section header."""
        section = self.section.strip().rstrip(":").strip()
        return f"{section}: {self.label}" if section else self.label


class Spec(tuple[SpecRow, ...]):
    """The rows of a specification, in printed order."""

    @property
    def rows(self) -> tuple[SpecRow, ...]:
        return tuple(self)

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables, in order of first appearance."""
        return tuple(dict.fromkeys(r.table for r in self))

    def of(self, *tables: str) -> tuple[SpecRow, ...]:
        """The rows of ``tables``, in printed order."""
        return tuple(r for r in self if r.table in tables)

    def items(self, table: str) -> dict[str, list[SpecRow]]:
        """The rows of one table by item, items in order of first appearance."""
        out: dict[str, list[SpecRow]] = {}
        for r in self.of(table):
            out.setdefault(r.item, []).append(r)
        return out

    def row(self, table: str, item: str, level: str = "") -> SpecRow | None:
        """The row printing ``level`` of ``item`` in ``table`` (``None`` if none does)."""
        return next((r for r in self if r.key == (table, item, level)), None)

    @functools.cached_property
    def frame(self) -> pd.DataFrame:
        """The specification as a frame of text columns (``combine`` joined with ``+``)."""
        frame = pd.DataFrame([vars(r) for r in self], columns=[*COLUMNS, *OPTIONAL])
        return frame.assign(
            combine=frame["combine"].map("+".join), family=[r.q_family for r in self]
        )


def _text(value: object) -> str:
    return "" if value is None or value != value else str(value).strip()  # NaN != NaN


def levels_of(item: str, instrument: Instrument) -> tuple[tuple[str, ...], bool] | None:
    """(answers, numeric) of an analysis item (or of a derived one), ``None`` if there is none."""
    if item in DERIVED_ITEMS:
        return DERIVED_ITEMS[item], False
    f = instrument.analysis_items().get(item)
    if f is None:
        return None
    if f.is_numeric:
        return (), True
    levels = ("yes", "no") if f.field_type == "checkbox" and f.items else tuple(f.level_order())
    return levels, False


def from_records(
    records: Iterable[dict[str, object]],
    *,
    instrument: Instrument | None = None,
    source: str = "<specification>",
) -> Spec:
    """Rows given as mappings validated into a :class:`Spec`; ``ValueError`` lists every problem."""
    rows: list[SpecRow] = []
    problems: list[str] = []
    for i, rec in enumerate(records):
        missing = [c for c in COLUMNS if c not in rec]
        if missing:
            raise ValueError(f"{source}: the table specification lacks the columns {missing}")
        v = {c: _text(rec.get(c)) for c in (*COLUMNS, *OPTIONAL)}
        v["denominator"] = v["denominator"] or OPTIONAL["denominator"]
        continuous, collapsed = v["stat"] == "mean_sd", v["shown"] == "collapsed"
        combine = parse_combine(v["combine"])
        fields = instrument.analysis_items() if instrument is not None else {}
        found = levels_of(v["item"], instrument) if instrument is not None else ((), continuous)
        item_levels, numeric = found or ((), continuous)
        choices = {"stat": STATS, "shown": SHOWN, "test": TESTS, "denominator": DENOMINATORS}
        rules = [(v[c] not in allowed, f"unknown {c} {v[c]!r}") for c, allowed in choices.items()]
        wrong_tests = CATEGORICAL_TESTS if continuous else CONTINUOUS_TESTS
        rules += [
            (
                bool(v["family"]) and not FAMILY_RE.match(v["family"]),
                f"family {v['family']!r} is not a name (letters, digits, _ - .)",
            ),
            (
                not (v["table"] and v["item"] and v["label"]),
                "table, item and label must not be empty",
            ),
            (
                v["test"] in wrong_tests,
                f"a {'mean (SD)' if continuous else 'categorical'} row cannot have the test "
                f"{v['test']!r}",
            ),
            (
                collapsed and not v["combine"],
                "a collapsed row needs combine (the levels it adds up)",
            ),
            (not collapsed and bool(v["combine"]), "combine is only for collapsed rows"),
            (not continuous and not v["level"], "a categorical row needs a level"),
            (found is None, "the item is not in the data dictionary"),
            (continuous and not numeric, "a mean (SD) row needs a numeric item"),
            (numeric and not continuous, "a numeric item needs stat mean_sd"),
        ]
        if item_levels and not continuous:
            rules += [
                (
                    lv not in item_levels,
                    f"level {lv!r} is not an answer of the item (answers: {list(item_levels)})",
                )
                for lv in (combine if collapsed else (v["level"],))
            ]
        problems += [
            f"line {i + 2} ({v['table']}, {v['item']}): {msg}" for bad, msg in rules if bad
        ]
        unit = fields[v["item"]].unit if v["item"] in fields else ""
        rows.append(SpecRow(i + 2, **v | {"combine": combine}, item_levels=item_levels, unit=unit))
    frame = pd.DataFrame([vars(r) for r in rows], columns=[*COLUMNS, *OPTIONAL])
    # a blank family is the one the table's other rows name, else the table itself
    named = frame[frame["family"] != ""].groupby("table", sort=False)["family"].unique()
    problems += [
        f"{t}: rows of one table disagree on family {sorted(f)}"
        for t, f in named.items()
        if len(f) > 1
    ]
    rows = [r if r.family else replace(r, family=min(named.get(r.table, [r.table]))) for r in rows]
    for (table, item), rs in frame.groupby(["table", "item"], sort=False):
        cols = [c for c in ("stat", "shown", "test", "denominator") if rs[c].nunique() > 1]
        problems += [f"{table}, {item}: rows of one item disagree on {c}" for c in cols]
        if rs["level"].duplicated().any():
            problems.append(f"{table}, {item}: a level is printed twice")
        if (rs["shown"] == "binary").any() and len(rs) > 1:
            problems.append(f"{table}, {item}: a binary item has one row")
    if problems:
        raise ValueError(f"invalid table specification {source}:\n  " + "\n  ".join(problems))
    return Spec(rows)


def from_frame(
    frame: pd.DataFrame, *, instrument: Instrument | None = None, source: str = "<frame>"
) -> Spec:
    """A :class:`Spec` from a frame with the specification's columns."""
    return from_records(frame.to_dict("records"), instrument=instrument, source=source)


def as_spec(spec: Spec | pd.DataFrame) -> Spec:
    """``spec`` itself, or the :class:`Spec` of a frame with the specification's columns."""
    return spec if isinstance(spec, Spec) else from_frame(spec)


@functools.cache
def default_instrument() -> Instrument:
    """The project's data dictionary (``data/raw/cc_survey_dictionary.csv``), read once."""
    return read_dictionary(project_root() / DEFAULT_DICTIONARY)


def as_instrument(instrument: Instrument | str | Path | None) -> Instrument:
    """``instrument`` itself, the dictionary at a path, or (``None``) :func:`default_instrument`."""
    if instrument is None:
        return default_instrument()
    return instrument if isinstance(instrument, Instrument) else read_dictionary(instrument)


def read_spec(
    path: str | Path | None = None, *, instrument: Instrument | str | Path | None = None
) -> Spec:
    """Read and validate the specification (default: the package's) against ``instrument``."""
    p = Path(path) if path is not None else SPEC_FILE
    records = list(csv.DictReader(io.StringIO(p.read_text(encoding="utf-8"))))
    return from_records(records, instrument=as_instrument(instrument), source=str(p))
