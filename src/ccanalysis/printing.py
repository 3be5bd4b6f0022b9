"""How numbers are printed, as the paper does, and what a printed number stands for.

Half up on the shortest decimal representation (12.5 -> 13); p below 0.001 ``<0.001``, above 0.9
``>0.9``, else two significant digits, at most three decimals (0.0535 -> 0.054, 0.40 -> 0.4).
:func:`parse_printed` reads a printed number back as the interval of true values that print so.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

#: Slack when a closed end of a printed interval is compared with a computed number.
_EPS = 1e-9
_NUM = re.compile(r"^\s*([<>]=?)?\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*$")


def round_half_up(x: float | None, decimals: int) -> str:
    """``x`` rounded half up on its shortest decimal representation, as text (NaN -> "")."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    q = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if q == 0:
        q = abs(q)  # no "-0.0"
    return f"{q:f}"


def format_p(p: float | None) -> str:
    """A p-value as the paper prints it (see the module); missing -> ""."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    p = float(p)
    if p < 0 or p > 1 + 1e-12:
        raise ValueError(f"not a p-value: {p}")
    if p < 0.001:
        return "<0.001"
    if p > 0.9:
        return ">0.9"
    text = round_half_up(p, min(3, 1 - Decimal(repr(p)).adjusted()))  # two significant digits
    return text.rstrip("0").rstrip(".") if "." in text else text


def signed(x: float, digits: int = 1, missing: str = "") -> str:
    """A difference as every page prints it: ``+12.3``, ``-4.0``, rounded half up; one that rounds
    to zero unsigned (``0.0``, never ``-0.0``); ``missing`` for NaN or infinity."""
    if not math.isfinite(x):
        return missing
    text = round_half_up(x, digits)
    return text if text.startswith("-") or float(text) == 0 else f"+{text}"


@dataclass(frozen=True)
class Printed:
    """A printed number and the interval of true values it stands for (``kind``: ``"value"``,
    ``"lt"`` for ``<x`` or ``"gt"`` for ``>x``; ``decimals``: printed decimals)."""

    text: str
    kind: str
    value: float
    decimals: int
    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def holds(self, x: float | None) -> bool:
        """Does the true value ``x`` print as this text?"""
        return x is not None and self.meets(x, x)

    def meets(self, lo: float, hi: float) -> bool:
        """Does the closed range [lo, hi] of possible true values meet this interval?"""
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return False
        below_high = lo < self.high if self.high_open else lo <= self.high + _EPS
        above_low = hi > self.low if self.low_open else hi >= self.low - _EPS
        return bool(below_high and above_low)

    def counts(self, n: int, *, ties: bool = True) -> range:
        """The counts k of ``n`` whose percentage ``100 k / n`` prints so; ``ties=False`` leaves out
        a count on an end of the interval (it prints so only by the rounding rule)."""
        lo, hi = self.low * n / 100, self.high * n / 100
        if ties:
            first, last = math.ceil(lo - _EPS), math.floor(hi + _EPS)
        else:
            first, last = math.floor(lo + _EPS) + 1, math.ceil(hi - _EPS) - 1
        return range(max(first, 0), min(last, n) + 1)

    def difference(self, x: float) -> float:
        """reproduced - printed (plain numbers); 0 or the excess over the bound for ``<x``/``>x``."""
        if x is None or not np.isfinite(x):
            return math.nan
        return 0.0 if self.kind != "value" and self.holds(x) else float(x - self.value)


def parse_printed(text: object) -> Printed:
    """Parse a printed cell (``"15.8"``, ``"100"``, ``".002"``, ``"<0.001"``, ``">0.9"``)."""
    s = str(text).strip()
    m = _NUM.match(s)
    if not m:
        raise ValueError(f"not a printed number: {text!r}")
    op, num = m.group(1), m.group(2)
    value = float(num)
    decimals = len(num.split(".")[1]) if "." in num else 0
    if op in ("<", "<="):
        return Printed(s, "lt", value, decimals, 0.0, value, False, op == "<")
    if op in (">", ">="):
        return Printed(s, "gt", value, decimals, value, math.inf, op == ">", False)
    h = 0.5 * 10.0 ** (-decimals)
    return Printed(s, "value", value, decimals, value - h, value + h)


def printed_holds(text: object, x: float) -> bool:
    """True when the true value ``x`` is printed as ``text``."""
    return parse_printed(text).holds(x)
