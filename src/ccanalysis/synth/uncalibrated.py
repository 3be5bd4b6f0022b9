"""Answers for items the paper prints no numbers for: drawn from a declared distribution, and flagged.

Every analysis item of the dictionary gets answers, so that an item added to the instrument (and to
the table specification) flows through the whole pipeline in synthetic mode. An item the printed
tables say nothing about cannot be calibrated; its answers are drawn from the distribution its
dictionary row declares in the ``Field Annotation`` column, in the style of ``@CC-LEVELS``:

``@CC-SYNTH="1=0.5 2=0.3 3=0.2"``
    a choice field (radio, dropdown, yes/no, true/false, a checkbox with ``@CC-LEVELS``): a weight
    per answer code (non-negative, scaled to add up to one; a code left out is never drawn);
``@CC-SYNTH="1=0.4 3=0.7"``
    a check-all-that-apply question with ``@CC-ITEMS``: the probability that each box is checked
    (boxes left out: 0.5);
``@CC-SYNTH="normal(20, 8)"`` or ``@CC-SYNTH="uniform(0, 60)"``
    a numeric field: the values are clipped to the field's validation range and rounded to its type
    (whole numbers for ``integer``, the validation's decimals for ``number``).

Without the tag the draw is uniform: over the choices, yes/no for a box, over the validation range
(on the type's grid) for a numeric field, which then needs both a minimum and a maximum. On an item
the paper prints, the tag is not used: the printed numbers decide.

Draws are independent between records (no coordinator effect, no dependence on other items, no
missing answers); a coordinator-form item is drawn once per coordinator. Each item draws from its
own random stream, seeded by the run's seed and the item's name, so that adding, removing or
reordering items leaves every other column of the export unchanged. A box added to a question whose
other boxes are calibrated is drawn only where that question is answered (its denominator is
calibrated); a new question whose draw checks no box is a question not answered. Branching logic of
the simple form ``[field] = 'code'`` (or ``[field(code)] = '1'`` for a checkbox) blanks the answer
where the condition fails; other branching is not applied, and the stand-in's notes say so.

The items are flagged: ``uncalibrated_items.csv`` (beside the export; columns :data:`COLUMNS`) lists
each with the distribution used, for the tables to footnote, and ``SYNTHETIC.md`` lists them too.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccanalysis.errors import ValidationError
from ccanalysis.instrument import Field, Instrument, checkbox_column
from ccanalysis.io import UNCALIBRATED_COLUMNS
from ccanalysis.synth.numeric import grid_of

#: The columns of ``uncalibrated_items.csv``: the analysis item, its dictionary field, whether it is
#: answered per ``clinic`` or per ``coordinator``, the distribution drawn from, and where that came
#: from (``@CC-SYNTH`` or ``uniform (default)``).
COLUMNS = UNCALIBRATED_COLUMNS
DECLARED = "@CC-SYNTH"
DEFAULT = "uniform (default)"
#: The field types whose answers are drawn (others are left blank).
CHOICE_TYPES = frozenset({"radio", "dropdown", "yesno", "truefalse", "checkbox"})

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)"
_FUNCTION = re.compile(rf"^(normal|uniform)\(\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\)$")
_WEIGHT = re.compile(rf"^([^=\s]+)=({_NUMBER})$")
_BRANCH = re.compile(r"^\[(\w+)(?:\((\w+)\))?\]\s*=\s*(['\"]?)(-?\w+)\3$")


@dataclass(frozen=True)
class Draw:
    """How one uncalibrated item is answered.

    ``kind``: ``choice`` (``weights`` per choice of the field, in the dictionary's order), ``box``
    (``weights`` = (probability checked,)), ``normal`` or ``uniform`` (``params`` = mean and SD, or
    low and high, in the field's unit).
    """

    item: str
    field: Field
    kind: str
    weights: tuple[float, ...] = ()
    params: tuple[float, float] = (0.0, 0.0)
    declared: bool = False

    @property
    def source(self) -> str:
        return DECLARED if self.declared else DEFAULT

    def describe(self) -> str:
        """The distribution, as ``uncalibrated_items.csv`` and ``SYNTHETIC.md`` state it."""
        f = self.field
        if self.kind == "box":
            return f"yes with probability {self.weights[0]:.3g}"
        if self.kind == "choice":
            levels = [f.levels.get(c, c) for c in f.choices]
            if not self.declared:
                return "uniform over " + ", ".join(levels)
            return ", ".join(
                f"{lv} {w:.3g}" for lv, w in zip(levels, self.weights, strict=True) if w > 0
            )
        _step, dec = grid_of(f)
        a, b = (_fmt(x, dec) for x in self.params)
        lo, hi = _bounds(f)
        within = (
            f" within {_fmt(lo, dec)}-{_fmt(hi, dec)}"
            if math.isfinite(lo) and math.isfinite(hi)
            else f" at least {_fmt(lo, dec)}"
            if math.isfinite(lo)
            else f" at most {_fmt(hi, dec)}"
            if math.isfinite(hi)
            else ""
        )
        unit = "whole numbers" if dec == 0 else f"{dec} decimal" + ("s" if dec > 1 else "")
        return f"{self.kind}({a}, {b}){within}, {unit}"


def _fmt(x: float, dec: int) -> str:
    return f"{x:.{dec}f}" if dec else f"{x:g}"


def _bounds(f: Field) -> tuple[float, float]:
    """The validation range of a numeric field, on its grid."""
    step, _dec = grid_of(f)
    lo = math.ceil(f.vmin / step - 1e-9) * step if f.vmin is not None else -math.inf
    hi = math.floor(f.vmax / step + 1e-9) * step if f.vmax is not None else math.inf
    return lo, hi


def _bad(source: str, f: Field, value: str, problem: str) -> ValidationError:
    return ValidationError(source, None, f.name, value, f"{DECLARED}: {problem}")


def parse(f: Field, item: str, source: str = "<dictionary>") -> Draw:
    """The :class:`Draw` of ``item`` (of field ``f``) from the field's ``@CC-SYNTH`` text.

    Raises :class:`~ccanalysis.errors.ValidationError` naming the dictionary ``source``, the field
    and the text when the text does not fit the field.
    """
    text = f.synth
    if f.is_numeric:
        lo, hi = _bounds(f)
        if not text:
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise _bad(
                    source,
                    f,
                    "",
                    "a numeric item without printed numbers needs a validation minimum and maximum "
                    "(or a declared distribution) to be synthesized",
                )
            return Draw(item, f, "uniform", params=(lo, hi))
        m = _FUNCTION.match(text)
        if m is None:
            raise _bad(
                source, f, text, "a numeric field takes normal(mean, sd) or uniform(low, high)"
            )
        kind, a, b = m.group(1), float(m.group(2)), float(m.group(3))
        if kind == "normal" and b <= 0:
            raise _bad(source, f, text, "the SD of normal(mean, sd) must be positive")
        if kind == "uniform" and not (a <= b and a <= hi and b >= lo):
            raise _bad(source, f, text, "uniform(low, high) needs low <= high, within the range")
        return Draw(item, f, kind, params=(a, b), declared=True)
    if f.field_type not in CHOICE_TYPES:
        raise _bad(source, f, text, f"a {f.field_type} field is not synthesized")
    boxes = f.field_type == "checkbox" and bool(f.items)
    if boxes:
        code = next(c for c, i in f.items.items() if i == item)
        weights = _weights(text, f, source, probabilities=True)
        p = weights.get(code, 0.5)
        return Draw(item, f, "box", weights=(p,), declared=code in weights)
    if not text:
        return Draw(item, f, "choice", weights=tuple(1 / len(f.choices) for _ in f.choices))
    weights = _weights(text, f, source, probabilities=False)
    total = sum(weights.values())
    if total <= 0:
        raise _bad(source, f, text, "the weights add up to zero")
    return Draw(
        item,
        f,
        "choice",
        weights=tuple(weights.get(c, 0.0) / total for c in f.choices),
        declared=True,
    )


def _weights(text: str, f: Field, source: str, *, probabilities: bool) -> dict[str, float]:
    """``code=weight`` pairs of a choice field's tag, checked against its choices."""
    out: dict[str, float] = {}
    for token in text.split():
        m = _WEIGHT.match(token)
        if m is None:
            raise _bad(source, f, text, f"{token!r} is not code=weight")
        code, w = m.group(1), float(m.group(2))
        if code not in f.choices:
            raise _bad(source, f, text, f"code {code!r} is not a choice of the field")
        if w < 0 or (probabilities and w > 1):
            what = "a probability from 0 to 1" if probabilities else "a non-negative weight"
            raise _bad(source, f, text, f"code {code!r}: {w:g} is not {what}")
        out[code] = w
    return out


def draws(instrument: Instrument, answered: set[str]) -> tuple[dict[str, Draw], list[str]]:
    """The draws of every analysis item not in ``answered`` (the calibrated and structural items),
    in dictionary order, and the fields left blank (types the synthesizer does not draw)."""
    out: dict[str, Draw] = {}
    blank: list[str] = []
    for item, f in instrument.analysis_items().items():
        if item in answered:
            continue
        if not (f.is_numeric or f.field_type in CHOICE_TYPES):
            if f.synth:
                parse(f, item, instrument.source)  # raises: the tag names a type not drawn
            blank.append(f"{f.name} ({f.field_type}{', ' + f.validation if f.validation else ''})")
            continue
        out[item] = parse(f, item, instrument.source)
    return out, blank


def stream(seed: int, item: str) -> np.random.Generator:
    """The item's own random stream: from the run's seed and the item's name only."""
    return np.random.default_rng([int(seed), zlib.crc32(item.encode("utf-8"))])


def draw(d: Draw, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` answers: choice indices (a box: 0 checked, 1 not) or values on the field's grid."""
    if d.kind == "choice":
        return rng.choice(len(d.weights), size=n, p=np.asarray(d.weights))
    if d.kind == "box":
        return np.where(rng.random(n) < d.weights[0], 0, 1).astype(np.int64)
    step, _dec = grid_of(d.field)
    lo, hi = (x / step for x in _bounds(d.field))
    a, b = d.params
    if d.kind == "uniform":  # on the grid: every value of [a, b] within the range equally likely
        first = math.ceil(max(a / step, lo) - 1e-9)
        last = math.floor(min(b / step, hi) + 1e-9)
        units = rng.integers(first, last + 1, size=n).astype(float)
    else:
        units = np.clip(np.round(rng.normal(a, b, size=n) / step), lo, hi)
    return units * step


def columns(d: Draw) -> list[str]:
    """The export columns of an item: its box's column, or every column of its field."""
    f = d.field
    if d.kind == "box":
        code = next(c for c, i in f.items.items() if i == d.item)
        return [checkbox_column(f.name, code)]
    return f.export_columns()


def apply_branching(export: pd.DataFrame, items: dict[str, Draw]) -> list[str]:
    """Blank the answers of ``items`` where their field's branching condition fails (in place).

    Only a single condition ``[field] = 'value'`` or ``[field(code)] = 'value'`` is evaluated;
    returns a note for each item whose branching logic is not applied.
    """
    notes = []
    for item, d in items.items():
        logic = d.field.branching.strip()
        if not logic:
            continue
        m = _BRANCH.match(logic)
        gate = None
        if m is not None:
            gate = checkbox_column(m.group(1), m.group(2)) if m.group(2) else m.group(1)
        if gate is None or gate not in export.columns:
            notes.append(f"{item}: branching logic {logic!r} not applied (every record answers)")
            continue
        shown = (export[gate].astype("string") == m.group(4)).fillna(False).to_numpy(dtype=bool)  # type: ignore[union-attr]
        for col in columns(d):
            if d.field.field_type == "checkbox":
                export.loc[~shown, col] = 0  # REDCap exports an unchecked box as 0
            elif d.field.is_numeric:
                export.loc[~shown, col] = ""
            else:
                export.loc[~shown, col] = pd.NA
    return notes


def table(items: dict[str, Draw], coordinator_form: str) -> pd.DataFrame:
    """``uncalibrated_items.csv``: one row per uncalibrated item (:data:`COLUMNS`)."""
    rows = [
        {
            "item": item,
            "field": d.field.name,
            "unit": "coordinator" if d.field.form == coordinator_form else "clinic",
            "distribution": d.describe(),
            "source": d.source,
        }
        for item, d in items.items()
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))
