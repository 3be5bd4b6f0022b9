"""How a notebook shows a DataFrame: a formatted table, not pandas' raw repr.

A notebook ends a display cell with ``table(frame)`` instead of ``frame``. The reader then sees no
row numbers (a meaningful index becomes the first columns), p- and q-values as the paper prints
them (:func:`~ccanalysis.printing.format_p`), percentages rounded, other numbers to three
significant digits, labels left-aligned and numbers right-aligned. A column that repeats the
synthetic label on every row is left out: the page shows the label once, in its banner, and the
file the frame came from still carries it.

Which columns are p-values and which percentages is read from their names (:data:`P_COLUMN`,
:data:`PCT_COLUMN`); ``p=`` and ``pct=`` name them explicitly where a name does not say it.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ccanalysis.printing import format_p, round_half_up
from ccanalysis.vocab import SYNTHETIC_LABEL

if TYPE_CHECKING:
    import pandas as pd

#: Column names taken as p-values: ``p``, ``q``, ``p_value``, ``p_min``, ``level_p``, ``q_bh``...
P_COLUMN = re.compile(r"^(p|q)(_.*)?$|_(p|q)$|^(p|q)[ -]?value", re.IGNORECASE)
#: Column names taken as percentages (0-100): ``pct``, ``pct_equal``, ``value_pct``, ``percent``.
PCT_COLUMN = re.compile(r"(^|_)(pct|percent)(_|$)|%", re.IGNORECASE)
#: Significant digits of any other non-integer number.
DIGITS = 3


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def significant(x: float, digits: int = DIGITS) -> str:
    """``x`` to ``digits`` significant digits in fixed notation (an integral value as an integer):
    4.64038 -> 4.64, -0.006996 -> -0.007, 12345.6 -> 12346, 0.0954 (2 digits) -> 0.095."""
    if float(x).is_integer():
        return str(int(x))
    if not math.isfinite(x):
        return str(x)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    text = round_half_up(x, decimals)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _formatter(kind: str, pct_decimals: int):
    def fmt(x: object) -> str:
        if _is_missing(x):
            return ""
        if isinstance(x, bool) or not isinstance(x, int | float):
            return str(x)
        if kind == "p":
            return format_p(x) if 0 <= x <= 1 else significant(x)
        if kind == "pct":
            return round_half_up(x, pct_decimals)
        return significant(x)

    return fmt


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with a meaningful index turned into columns and row numbers dropped.

    An unnamed integer index (0..n-1, or what is left of it after filtering) is row numbers; any
    other index (named, labels, several levels) holds data and becomes the first columns.
    """
    import pandas as pd

    index = frame.index
    row_numbers = index.nlevels == 1 and index.name is None and pd.api.types.is_integer_dtype(index)
    frame = frame.reset_index(drop=row_numbers)
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [" ".join(str(c) for c in col if str(c)).strip() for col in frame.columns]
    frame.columns = [str(c) for c in frame.columns]
    labelled = [
        c
        for c in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[c]) and (frame[c] == SYNTHETIC_LABEL).all()
    ]
    return frame.drop(columns=labelled) if len(frame) else frame


class Table:
    """A formatted view of a frame: HTML in a notebook, aligned text in a terminal or nbval."""

    def __init__(self, frame: pd.DataFrame, text: pd.DataFrame, numeric: list[str]) -> None:
        self.frame = frame  #: the data, index turned into columns
        self.text = text  #: every cell as shown
        self.numeric = numeric  #: right-aligned columns

    def _repr_html_(self) -> str:
        # pandas' Styler, with an id derived from the content: the default is random, which would
        # make every run's notebook differ (nbval compares the HTML).
        uid = hashlib.sha256(self.text.to_json().encode()).hexdigest()[:10]
        styler = self.text.style.format(escape="html").format_index(escape="html", axis=1)
        styler = styler.hide(axis="index").set_uuid(uid)
        styler = styler.set_table_attributes('class="cc-table"').set_table_styles(
            [
                {"selector": "th", "props": "text-align: left;"},
                {"selector": "td", "props": "text-align: left;"},
                *(
                    {"selector": f".col{i}", "props": self._column_style(c)}
                    for i, c in enumerate(self.text.columns)
                    if self._column_style(c)
                ),
            ]
        )
        return styler.to_html()

    def _column_style(self, column: str) -> str:
        """Numbers right-aligned on one line; long text given room (a page squeezes a wide
        table's columns to their narrowest otherwise, one word per line)."""
        if column in self.numeric:
            return "text-align: right; white-space: nowrap;"
        longest = int(self.text[column].str.len().max()) if len(self.text) else 0
        if longest > 100:
            return "min-width: 28em;"
        if longest > 40:
            return "min-width: 16em;"
        return ""

    def __repr__(self) -> str:
        if self.text.empty:
            return "(no rows)" if len(self.text.columns) else "(empty)"
        return self.text.to_string(index=False)


def table(
    frame: pd.DataFrame,
    *,
    p: Iterable[str] | None = None,
    pct: Iterable[str] | None = None,
    pct_decimals: int = 1,
) -> Table:
    """``frame`` as a formatted table (see the module docstring).

    ``p``: the columns holding p- or q-values (default: those :data:`P_COLUMN` matches);
    ``pct``: the percentage columns (default: :data:`PCT_COLUMN`), shown to ``pct_decimals``.
    """
    import pandas as pd

    data = _plain(frame)
    p_cols = set(p) if p is not None else {c for c in data.columns if P_COLUMN.search(c)}
    pct_cols = set(pct) if pct is not None else {c for c in data.columns if PCT_COLUMN.search(c)}
    text = pd.DataFrame(index=data.index)
    numeric = []
    for col in data.columns:
        kind = "p" if col in p_cols else "pct" if col in pct_cols else "number"
        values = data[col]
        text[col] = [_formatter(kind, pct_decimals)(x) for x in values.tolist()]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numeric.append(col)
    return Table(data, text, numeric)
