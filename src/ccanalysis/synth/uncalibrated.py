"""Answers for items the paper prints no numbers for: drawn as the dictionary declares, flagged.

The ``Field Annotation`` declares the distribution: ``@CC-SYNTH="1=0.5 2=0.3 3=0.2"`` (a weight per
choice code; for a box of a ``@CC-ITEMS`` question, the probability it is checked, default 0.5),
``@CC-SYNTH="normal(20, 8)"`` or ``"uniform(0, 60)"`` (numeric: clipped to the validation range,
on the field's grid). Without it, uniform. Each item from its own stream (seed and name), so
adding an item changes no other column; branching ``[field] = 'code'`` is applied.
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

DECLARED = "@CC-SYNTH"
DEFAULT = "uniform (default)"
#: The field types whose answers are drawn (others are left blank).
CHOICE_TYPES = frozenset({"radio", "dropdown", "yesno", "truefalse", "checkbox"})

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)"
_FUNCTION = re.compile(rf"^(normal|uniform)\(\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\)$")
_WEIGHT = re.compile(rf"^([^=\s]+)=({_NUMBER})$")
_BRANCH = re.compile(r"^\[(\w+)\]\s*=\s*(['\"]?)(-?\w+)\2$")


@dataclass(frozen=True)
class Draw:
    """How one item is drawn: ``choice``, ``box`` (``weights``), ``normal``, ``uniform``."""

    field: Field
    kind: str
    weights: tuple[float, ...] = ()
    params: tuple[float, float] = (0.0, 0.0)
    declared: bool = False

    def describe(self) -> str:
        """The distribution, as ``uncalibrated_items.csv`` and ``SYNTHETIC.md`` state it."""
        f = self.field
        if self.kind == "box":
            return f"yes with probability {self.weights[0]:.3g}"
        if self.kind == "choice":
            levels = [f.levels.get(c, c) for c in f.choices]
            if not self.declared:
                return "uniform over " + ", ".join(levels)
            pairs = zip(levels, self.weights, strict=True)
            return ", ".join(f"{lv} {w:.3g}" for lv, w in pairs if w > 0)
        dec = grid_of(f)[1]
        fmt = lambda x: f"{x:.{dec}f}" if dec else f"{x:g}"  # noqa: E731
        lo, hi = _bounds(f)
        within = f" within {fmt(lo)}-{fmt(hi)}" if math.isfinite(lo + hi) else ""
        unit = "whole numbers" if dec == 0 else f"{dec} decimal" + ("s" if dec > 1 else "")
        return f"{self.kind}({fmt(self.params[0])}, {fmt(self.params[1])}){within}, {unit}"


def _bounds(f: Field) -> tuple[float, float]:
    """The validation range of a numeric field, on its grid."""
    step = grid_of(f)[0]
    lo = math.ceil(f.vmin / step - 1e-9) * step if f.vmin is not None else -math.inf
    hi = math.floor(f.vmax / step + 1e-9) * step if f.vmax is not None else math.inf
    return lo, hi


def parse(f: Field, item: str, source: str = "<dictionary>") -> Draw:
    """The :class:`Draw` of ``item`` from ``f``'s ``@CC-SYNTH`` text (or a ValidationError)."""
    text = f.synth

    def bad(problem: str) -> ValidationError:
        return ValidationError(source, None, f.name, text, f"{DECLARED}: {problem}")

    if f.is_numeric:
        lo, hi = _bounds(f)
        if not text:
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise bad(
                    "a numeric item without printed numbers needs a validation minimum and maximum "
                    "(or a declared distribution) to be synthesized"
                )
            return Draw(f, "uniform", params=(lo, hi))
        m = _FUNCTION.match(text)
        if m is None:
            raise bad("a numeric field takes normal(mean, sd) or uniform(low, high)")
        kind, a, b = m.group(1), float(m.group(2)), float(m.group(3))
        if kind == "normal" and b <= 0:
            raise bad("the SD of normal(mean, sd) must be positive")
        if kind == "uniform" and not (a <= b and a <= hi and b >= lo):
            raise bad("uniform(low, high) needs low <= high, within the range")
        return Draw(f, kind, params=(a, b), declared=True)
    if f.field_type not in CHOICE_TYPES:
        raise bad(f"a {f.field_type} field is not synthesized")
    boxes = f.field_type == "checkbox" and bool(f.items)
    weights: dict[str, float] = {}
    for token in text.split():  # code=weight pairs, checked against the choices
        m = _WEIGHT.match(token)
        if m is None:
            raise bad(f"{token!r} is not code=weight")
        code, w = m.group(1), float(m.group(2))
        if code not in f.choices:
            raise bad(f"code {code!r} is not a choice of the field")
        if w < 0 or (boxes and w > 1):
            raise bad(
                f"code {code!r}: {w:g} is not "
                + ("a probability from 0 to 1" if boxes else "a non-negative weight")
            )
        weights[code] = w
    if boxes:
        code = next(c for c, i in f.items.items() if i == item)
        return Draw(f, "box", weights=(weights.get(code, 0.5),), declared=code in weights)
    if not text:
        return Draw(f, "choice", weights=tuple(1 / len(f.choices) for _ in f.choices))
    total = sum(weights.values())
    if total <= 0:
        raise bad("the weights add up to zero")
    shares = tuple(weights.get(c, 0.0) / total for c in f.choices)
    return Draw(f, "choice", weights=shares, declared=True)


def draws(instrument: Instrument, answered: set[str]) -> tuple[dict[str, Draw], list[str]]:
    """The draws of the analysis items not in ``answered``, and the fields left blank."""
    out: dict[str, Draw] = {}
    blank: list[str] = []
    for item, f in instrument.analysis_items().items():
        if item in answered:
            continue
        if f.is_numeric or f.field_type in CHOICE_TYPES or f.synth:
            out[item] = parse(f, item, instrument.source)  # raises on a tag of a type not drawn
            continue
        blank.append(f"{f.name} ({f.field_type}{', ' + f.validation if f.validation else ''})")
    return out, blank


def draw(d: Draw, seed: int, item: str, n: int) -> np.ndarray:
    """``n`` answers from the item's own stream: choice indices (box: 0 checked) or grid values."""
    rng = np.random.default_rng([int(seed), zlib.crc32(item.encode("utf-8"))])
    if d.kind == "choice":
        return rng.choice(len(d.weights), size=n, p=np.asarray(d.weights))
    if d.kind == "box":
        return np.where(rng.random(n) < d.weights[0], 0, 1).astype(np.int64)
    step = grid_of(d.field)[0]
    lo, hi = (x / step for x in _bounds(d.field))
    a, b = d.params
    if d.kind == "uniform":  # on the grid: every value of [a, b] within the range equally likely
        first = math.ceil(max(a / step, lo) - 1e-9)
        last = math.floor(min(b / step, hi) + 1e-9)
        return rng.integers(first, last + 1, size=n).astype(float) * step
    return np.clip(np.round(rng.normal(a, b, size=n) / step), lo, hi) * step


def apply_branching(export: pd.DataFrame, items: dict[str, Draw]) -> list[str]:
    """Blank ``items`` where their branching fails (in place); notes on logic not applied."""
    notes = []
    for item, d in items.items():
        f = d.field
        logic = f.branching.strip()
        if not logic:
            continue
        m = _BRANCH.match(logic)
        gate = m.group(1) if m else None
        if gate not in export.columns:
            notes.append(f"{item}: branching logic {logic!r} not applied (every record answers)")
            continue
        shown = (export[gate].astype("string") == m.group(3)).fillna(False).to_numpy(dtype=bool)  # type: ignore[union-attr]
        if d.kind == "box":
            cols = [checkbox_column(f.name, next(c for c, i in f.items.items() if i == item))]
        else:
            cols = f.export_columns()
        # REDCap exports an unchecked box as 0, a blank number as text
        blank = 0 if f.field_type == "checkbox" else "" if f.is_numeric else pd.NA
        export.loc[~shown, cols] = blank
    return notes


def table(items: dict[str, Draw], coordinator_form: str) -> pd.DataFrame:
    """``uncalibrated_items.csv``: one row per uncalibrated item."""
    rows = [
        {
            "item": item,
            "field": d.field.name,
            "unit": "coordinator" if d.field.form == coordinator_form else "clinic",
            "distribution": d.describe(),
            "source": DECLARED if d.declared else DEFAULT,
        }
        for item, d in items.items()
    ]
    return pd.DataFrame(rows, columns=list(UNCALIBRATED_COLUMNS))
