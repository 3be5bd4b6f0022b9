"""How a notebook shows a DataFrame: ``table(frame)``, without row numbers, p- and q-values as the
paper prints them, percentages to one decimal, other numbers to three significant digits, labels
left- and numbers right-aligned; a column repeating the synthetic label, or named ``_...`` (a key)
is left out; ``_id`` gives the rows their anchors (``<tr id>``)."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import pandas as pd

from ccanalysis.printing import format_p, round_half_up
from ccanalysis.vocab import SYNTHETIC_LABEL

#: Column names taken as p-values: ``p``, ``q``, ``p_value``, ``p_min``, ``level_p``, ``q_bh``...
P_COLUMN = re.compile(r"^(p|q)(_.*)?$|_(p|q)$|^(p|q)[ -]?value", re.IGNORECASE)
#: Column names taken as percentages (0-100): ``pct``, ``pct_equal``, ``value_pct``, ``percent``.
PCT_COLUMN = re.compile(r"(^|_)(pct|percent)(_|$)|%", re.IGNORECASE)


def significant(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits in fixed notation (an integral value as an integer):
    4.64038 -> 4.64, -0.006996 -> -0.007, 12345.6 -> 12346, 0.0954 (2 digits) -> 0.095."""
    if float(x).is_integer():
        return str(int(x))
    if not math.isfinite(x):
        return str(x)
    text = round_half_up(x, max(0, digits - 1 - math.floor(math.log10(abs(x)))))
    return text.rstrip("0").rstrip(".") if "." in text else text


def _shown(x: object, kind: str) -> str:
    """One cell as shown: a p-value, a percentage or another number (text as it is)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    if kind == "p" and 0 <= x <= 1:
        return format_p(x)
    return round_half_up(x, 1) if kind == "pct" else significant(x)


@dataclass(frozen=True)
class Table:
    """A frame's cells as shown: HTML in a notebook, aligned text in a terminal or nbval."""

    text: pd.DataFrame
    numeric: list[str]
    ids: tuple[str, ...] = ()  # the rows' anchors (a column ``_id``), for links to a row

    def _style(self, column: str) -> str:
        """Numbers right-aligned on one line; long text given room (a page squeezes a wide
        table's columns to their narrowest otherwise, one word per line)."""
        if column in self.numeric:
            return "text-align: right; white-space: nowrap;"
        longest = int(self.text[column].str.len().max()) if len(self.text) else 0
        return "min-width: 28em;" if longest > 100 else "min-width: 16em;" if longest > 40 else ""

    def _repr_html_(self) -> str:
        if self.text.empty:  # nothing to show: a line, not an empty grid
            return '<p class="muted">(no rows)</p>'
        # an id from the content: pandas' default is random, and nbval compares the HTML
        uid = hashlib.sha256(self.text.to_json().encode()).hexdigest()[:10]
        left = [{"selector": s, "props": "text-align: left;"} for s in ("th", "td")]
        by_column = {c: [{"selector": "", "props": s}] for c in self.text if (s := self._style(c))}
        styler = self.text.style.format(escape="html").format_index(escape="html", axis=1)
        styler = styler.hide(axis="index").set_uuid(uid).set_table_styles(left)
        styler = styler.set_table_styles(by_column, overwrite=False)  # a column's: .colN
        page = styler.set_table_attributes('class="cc-table"').to_html()
        if not self.ids:
            return page
        head, body = page.split("<tbody>", 1)
        ids = iter(self.ids)
        return head + "<tbody>" + re.sub("<tr>", lambda _: f'<tr id="{next(ids)}">', body)

    def __repr__(self) -> str:
        if self.text.empty:
            return "(no rows)" if len(self.text.columns) else "(empty)"
        return self.text.to_string(index=False)


#: The words of a snake_case column name that a header writes otherwise.
WORDS = {
    "p": "P",
    "q": "q",
    "pct": "%",
    "n": "n",
    "sd": "SD",
    "ci": "CI",
    "lo": "low",
    "hi": "high",
}


def header(name: str) -> str:
    """A column name as a header: ``p_min`` -> ``P min``, ``pct_equal`` -> ``% equal``,
    ``care_model`` -> ``Care model``; a name that is not snake_case is kept."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return name
    words = [WORDS.get(w, w) for w in name.split("_") if w]
    text = " ".join(words)
    return text if words[0] in WORDS else text[:1].upper() + text[1:]


def table(frame: pd.DataFrame) -> Table:
    """``frame`` as a formatted table; p-value and percentage columns are known by their names
    (:data:`P_COLUMN`, :data:`PCT_COLUMN`)."""
    index = frame.index  # an unnamed integer index is row numbers; any other holds data
    numbers = index.nlevels == 1 and index.name is None and pd.api.types.is_integer_dtype(index)
    data = frame.reset_index(drop=numbers)
    if isinstance(data.columns, pd.MultiIndex):
        data.columns = [" ".join(str(c) for c in col if str(c)).strip() for col in data.columns]
    data.columns = [str(c) for c in data.columns]
    ids = tuple(data["_id"].astype(str)) if "_id" in data else ()
    data = data[[c for c in data.columns if not c.startswith("_")]]  # keys such as "_id"
    if len(data):
        labelled = [c for c in data if (data[c].astype(str) == SYNTHETIC_LABEL).all()]
        data = data.drop(columns=labelled)
    text, numeric = pd.DataFrame(index=data.index), []
    for col in data.columns:
        kind = "p" if P_COLUMN.search(col) else "pct" if PCT_COLUMN.search(col) else "number"
        text[col] = [_shown(x, kind) for x in data[col].tolist()]
        if pd.api.types.is_numeric_dtype(data[col]) and not pd.api.types.is_bool_dtype(data[col]):
            numeric.append(col)
    words = {c: header(c) for c in text.columns}
    return Table(text.rename(columns=words), [words[c] for c in numeric], ids)
