"""The Results in words from the stages' outputs (issue 23): ``specs/results.md``, Markdown with
Jinja2 references (``{{ t3.svc_social_needs.isw.pct }}``, ``s.ANALYSIS.ITEM.estimate``,
``d.DEFINITION.changed``). Each number is printed at its table's precision, linked to its row with
its method on hover, and withheld in privacy mode when it rests on a small count.
"""

from __future__ import annotations

import functools
import html
import math
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd

from ccanalysis import vocab
from ccanalysis.io import write_bytes, write_text
from ccanalysis.printing import format_p, round_half_up
from ccanalysis.privacy import is_small
from ccanalysis.sensitivity.output import row_anchor
from ccanalysis.sensitivity.verdicts import KEY, changes
from ccanalysis.spec import Spec, read_spec
from ccanalysis.tables.grid import TEST_TEXT, anchor
from ccanalysis.tables.paper import PCT_DECIMALS
from ccanalysis.tables.read import read_long

TEMPLATE = Path(__file__).parent / "specs" / "results.md"
#: The stated rule: two groups "differ" when the Benjamini-Hochberg q of the item is below it.
Q_LEVEL = 0.05
#: What a number stands for, shown on hover, by measure.
METHODS = {
    "n": "count of clinics (coordinators in Table 1)",
    "denom": "answers counted in the percentage",
    "pct": "percentage of the answers given",
    "mean": "mean of the answers given",
    "sd": "standard deviation",
    "q": "Benjamini-Hochberg q across the table's tests",
}
#: The difference's estimand and interval, by the measure it is a difference of.
DIFF_METHODS = {
    "pct": "difference of percentages (percentage points), Newcombe's hybrid score 95% CI",
    "mean": "difference of means, Student's t 95% CI",
    "mean welch_t": "difference of means, Welch's t 95% CI",
}
WITHHELD = "[withheld]"
SENSITIVITY_COLUMNS = ("analysis", "table", "item", "level", "estimate", "ci_low", "ci_high", "p")
DEFINITIONS = ("definition", "label")
#: Number markers of the plain edition (the docx and the sentence finder): key, then text.
_MARK = re.compile("\x02([^\x03]*)\x03([^\x04]*)\x04")


class ResultsError(ValueError):
    """A reference of the template that resolves to nothing, with the template's line."""


@dataclass(frozen=True)
class Number:
    """A printed number: value, text, cell ``key``, row anchor, method, ``withheld``."""

    value: float
    text: str
    key: tuple[str, ...]
    anchor: str
    method: str
    withheld: bool = False


class Row:
    """An item or one of its levels in a long table; attributes: a level, a group (then ``.pct``,
    ``.n`` ...), ``p``, ``q``, ``diff``, ``diff_lo``, ``diff_hi``, ``label``, ``differs``."""

    def __init__(self, ctx: Context, table: str, item: str, level: str = "", group: str = ""):
        self.ctx, self.table, self.item, self.level, self.group = ctx, table, item, level, group
        if (table, item) not in ctx.records:
            raise ResultsError(f"{table} has no item {item!r}")
        self.records = ctx.records[(table, item)]
        self.levels = sorted({r["level"] for r in self.records} - {""})

    def _find(self, level: str, column: str) -> list[dict]:
        """The records of ``level`` with a number in ``column``."""
        return [r for r in self.records if r["level"] == level and not math.isnan(r[column])]

    def _number(self, level: str, group: str, measure: str, column: str = "value") -> Number:
        hit = [
            r
            for r in self.records
            if (r["level"], r["group"], r["measure"]) == (level, group, measure)
        ]
        if not hit or column not in hit[0]:
            raise ResultsError(f"{self.table} {self.item} has no {level}/{group}/{measure}")
        value, measure = float(hit[0][column]), measure if column == "value" else column
        # a difference rests on both compared groups' counts, a share on its group's
        groups = ("isw", "mn", "isw_only", "mn_only") if measure.startswith("diff") else (group,)
        counts = [
            r["value"]
            for r in self.records
            if r["level"] == level and r["measure"] in ("n", "denom") and r["group"] in groups
        ]
        min_cell = self.ctx.min_cell
        small = min_cell is not None and (
            math.isnan(value) or any(is_small(v, min_cell) or math.isnan(v) for v in counts)
        )
        if measure in ("p", "q"):
            text = format_p(value)
        elif measure in ("n", "denom") and not math.isnan(value):
            text = str(int(value))
        else:  # NaN: ""
            text = round_half_up(value, PCT_DECIMALS.get(self.table, 1) if measure == "pct" else 1)
            text += "%" if measure == "pct" and text else ""
        return Number(
            value,
            text,
            (self.table, self.item, level, group, measure),
            anchor(self.table, self.item, level if len(self.levels) > 1 else ""),
            self._method(measure, hit[0]["measure"]),
            bool(small) and measure not in ("p", "q"),
        )

    def _method(self, measure: str, of: str) -> str:
        """What the number is (``of``: the measure a difference is of)."""
        test = next((r["test"] for r in self.records if r["measure"] == "p"), "")
        if measure == "p":
            return f"p: {TEST_TEXT.get(test, test)}"
        if measure.startswith("diff"):
            of = "mean" if of in ("mean", "sd") else "pct"
            return DIFF_METHODS.get(f"{of} {test}", DIFF_METHODS[of])
        return METHODS[measure]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in ("p", "q"):
            return self._number("", "all", "p", "value" if name == "p" else "q")
        if name in self.levels and not self.level:
            return Row(self.ctx, self.table, self.item, name)
        level = self.level or (self.levels[0] if self.levels else "")
        if len(self.levels) > 1 and not self.level:
            raise ResultsError(f"{self.table} {self.item} has levels {self.levels}: name one")
        if self.group:
            return self._number(level, self.group, name)
        if name in ("diff", "diff_lo", "diff_hi"):
            # the row holding the difference (its value blanked in privacy mode)
            hit = self._find(level, name) or [
                r
                for r in self.records
                if r["level"] == level and r["group"] in ("isw", "isw_only") and r["diff"] != 0
            ]
            if not hit:
                raise ResultsError(f"{self.table} {self.item} has no {name}")
            return self._number(level, hit[0]["group"], hit[0]["measure"], name)
        if name in {r["group"] for r in self.records}:
            return Row(self.ctx, self.table, self.item, level, name)
        raise ResultsError(f"{self.table} {self.item} has no {name!r}")

    def _spec_row(self):
        level = self.level or (self.levels[0] if len(self.levels) == 1 else "")
        rows = self.ctx.spec.items(self.table).get(self.item, [])
        return next((r for r in rows if r.level == level), rows[0] if rows else None)

    @property
    def label(self) -> str:
        """The row's label with its section header (``name``: without)."""
        row = self._spec_row()
        return row.row_label if row is not None else self.item

    @property
    def name(self) -> str:
        row = self._spec_row()
        return row.label if row is not None else self.item

    @property
    def differs(self) -> bool:
        q = self.q.value
        return not math.isnan(q) and q < Q_LEVEL

    @property
    def more(self) -> bool | None:
        """Is ISW above MN (``None``: the difference is withheld)?"""
        return None if self.diff.withheld or math.isnan(self.diff.value) else self.diff.value > 0

    @property
    def often(self) -> str:
        return {True: "more often", False: "less often"}.get(self.more, "at a different rate")

    @property
    def higher(self) -> str:
        return {True: "higher", False: "lower"}.get(self.more, "different")


class Lookup:
    """A frame's rows by successive names (``s.analysis.item.level``), then a numeric column."""

    def __init__(self, ctx: Context, kind: str, frame: pd.DataFrame, keys: tuple, path: tuple = ()):
        self.ctx, self.kind, self.frame, self.keys, self.path = ctx, kind, frame, keys, path

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        f, depth = self.frame, len(self.path)
        if depth < len(self.keys) and name in set(f[self.keys[depth]]):
            at = f[self.keys[depth]] == name
            return Lookup(self.ctx, self.kind, f[at], self.keys, (*self.path, name))
        rows = f[f[self.keys[depth]] == ""] if depth < len(self.keys) else f
        if len(rows) != 1 or name not in rows or not pd.api.types.is_numeric_dtype(rows[name]):
            raise ResultsError(f"{self.kind} {'.'.join(self.path)} has no {name!r}")
        value, row = float(rows[name].iloc[0]), rows.iloc[0]
        if self.kind == "s":
            rows_of = self.ctx.sensitivity.loc[self.ctx.sensitivity["item"] == row["item"], "level"]
            anchor = row_anchor(row["item"], row["level"], rows_of.nunique())
            key = ("sensitivity", row["analysis"], row["item"], row["level"], name)
            method = str(row["method"])
            try:  # withheld with the table row's difference
                withheld = Row(self.ctx, row["table"], row["item"], row["level"]).diff.withheld
            except ResultsError:
                withheld = False
            text = format_p(value) if name == "p" else round_half_up(value, 1)
        else:
            anchor, method = f"d-{self.path[0]}", str(row["label"])
            key, withheld = ("definitions", *self.path, name), False
            text = str(int(value)) if not math.isnan(value) else ""
        return Number(value, text, key, anchor, method, withheld)

    def __bool__(self) -> bool:
        return not self.frame.empty


@dataclass
class Context:
    """What the template reads: the tables' long rows, the sensitivity and definitions frames,
    the spec (labels) and the privacy threshold (``None``: nothing withheld)."""

    cells: pd.DataFrame
    sensitivity: pd.DataFrame
    definitions: pd.DataFrame
    spec: Spec | None = None
    min_cell: int | None = None
    synthetic: bool = False

    def __post_init__(self) -> None:
        self.spec = read_spec() if self.spec is None else self.spec
        cells = self.cells.reindex(columns=[*self.cells.columns.union(["diff", "q"], sort=False)])
        groups = cells.groupby(["table", "item"], sort=False)
        self.records = {key: rows.to_dict("records") for key, rows in groups}

    def namespace(self) -> dict:
        ns = {f"t{t[-1]}": {} for t in sorted(set(self.cells["table"]))}  # t3: its rows by item
        for t, item in self.records:
            ns[f"t{t[-1]}"][item] = Row(self, t, item)
        ns["s"] = Lookup(self, "s", self.sensitivity, ("analysis", "item", "level"))
        ns["d"] = Lookup(self, "d", self.definitions, ("definition",))
        ns.update(largest=self.largest, changed=self.changed, synthetic=self.synthetic)
        ns["q_level"] = format_p(Q_LEVEL)
        return ns

    def largest(self, *tables: dict[str, Row]) -> list[Row]:
        """The three rows of ``tables`` (``t3``: rows by item) with the largest differences among
        the items that differ (q < 0.05)."""
        rows = []
        for r in (r for t in tables for r in t.values() if r._find("", "q") and r.differs):
            levels = dict.fromkeys(x["level"] for x in r.records if x["measure"] == "pct")
            rows += [Row(self, r.table, r.item, lv) for lv in levels if r._find(lv, "diff")]
        return sorted(rows, key=lambda r: -abs(r.diff.value))[:3]

    def changed(self, analysis: str, reference: str = "unadjusted") -> list[str]:
        """Labels of the rows whose verdict changes from ``reference`` to ``analysis``."""
        found = changes(self.sensitivity, [(reference, analysis)])
        rows = found.loc[found["changed"], [*KEY, "before", "after"]].to_numpy()
        return [f"{Row(self, t, i, lv).label} ({b} to {a})" for t, i, lv, b, a in rows]


def complete(tables_dir: Path) -> bool:
    """Has the run written the four tables the template reads?"""
    return all((tables_dir / f"table{i}.csv").is_file() for i in range(1, 5))


def read_context(
    tables_dir: Path, spec: Spec | None = None, min_cell: int | None = None, synthetic=False
) -> Context:
    """The context from ``tables_dir`` (``sensitivity.csv``, ``definitions.csv`` may be absent)."""
    cells = pd.concat([read_long(p) for p in sorted(tables_dir.glob("table?.csv"))])
    frames = []
    for name, columns in (("sensitivity", SENSITIVITY_COLUMNS), ("definitions", DEFINITIONS)):
        path, keys = tables_dir / f"{name}.csv", {"item": "", "level": ""}
        read = path.is_file() and pd.read_csv(path, dtype=dict.fromkeys(keys, str))
        frames.append(read.fillna(keys) if path.is_file() else pd.DataFrame(columns=columns))
    return Context(cells, *frames, spec, min_cell, synthetic)


#: The page holding each kind of row anchor (``tables``: the tables' folder from the page).
PAGES = {"t": "index.html", "s": "{tables}sensitivity.html", "d": "{tables}definitions.html"}


@functools.lru_cache
def _environment(kind: str, folder: Path, tables: str) -> jinja2.Environment:
    """Jinja's environment of an edition (cached: it keeps the compiled template); ``show``: how
    a number is written in it."""

    def show(value):
        if not isinstance(value, Number):
            return value
        text = WITHHELD if value.withheld else value.text
        if kind == "plain":
            return f"\x02{'|'.join(value.key)}\x03{text}\x04"
        link = PAGES[value.anchor[0]].format(tables=tables) + "#" + value.anchor
        if kind == "md":
            title = value.method.replace('"', "'")
            return f'[{text}]({link} "{title}")'
        cell = html.escape("|".join(value.key))
        return (
            f'<a href="{link}" title="{html.escape(value.method)}" '
            f'data-cell="{cell}">{html.escape(text)}</a>'
        )

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        finalize=show,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(
    ctx: Context, kind: str = "md", template: Path = TEMPLATE, tables: str = "../tables/"
) -> str:
    """The template in the edition ``kind``: ``md``, ``html`` (HTML links) or ``plain`` (numbers
    marked); a reference to nothing raises :class:`ResultsError` naming the template's line."""
    env = _environment(kind, template.parent, tables)
    try:
        text = env.get_template(template.name).render(ctx.namespace())
    except (jinja2.UndefinedError, ResultsError, TypeError) as e:
        frames = traceback.extract_tb(e.__traceback__)
        lines = [f.lineno for f in frames if f.filename == str(template)]
        where = f"{template}, line {lines[-1]}" if lines else str(template)
        raise ResultsError(f"{where}: {e}") from None
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def sentences(plain: str) -> list[dict]:
    """The sentences of the plain edition, each with its section, text and the cells it states."""
    out, section = [], ""
    for block in plain.split("\n\n"):
        if block.startswith("#"):
            section = block.lstrip("#").strip()
            continue
        for s in re.split(r"(?<=\.)\s+(?=[A-Z(\x02])", block.replace("\n", " ")):
            keys = {tuple(m.group(1).split("|")) for m in _MARK.finditer(s)}
            out.append({"section": section, "text": _MARK.sub(r"\2", s).strip(), "cells": keys})
    return [s for s in out if s["text"]]


def html_page(markdown_text: str, synthetic: bool, css: str = "") -> str:
    """The HTML edition: the Markdown by mistune, in a page of its own."""
    import mistune

    body = mistune.html(markdown_text)
    banner = f'<p class="synthetic"><b>{vocab.SYNTHETIC_LABEL}</b></p>\n' if synthetic else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Results</title>\n"
        f"<style>{css}</style>\n</head>\n<body>\n<main>\n"
        f'<nav class="topnav"><a href="index.html">← Supplement</a></nav>\n{banner}{body}'
        "</main>\n</body>\n</html>\n"
    )


def write(ctx: Context, outdir: Path, css: str = "") -> list[Path]:
    """``results.md``, ``results.html`` and ``results.docx`` (headings and paragraphs of the plain
    edition, numbers as text) in ``outdir``; returns their paths."""
    from ccanalysis.tables.render import word_bytes, word_document

    banner = f"**{vocab.SYNTHETIC_LABEL}**\n\n" if ctx.synthetic else ""
    text = {kind: render(ctx, kind) for kind in ("md", "html", "plain")}
    doc = word_document("Results", ctx.synthetic)
    for block in _MARK.sub(r"\2", text["plain"]).split("\n\n"):
        level = len(block) - len(block.lstrip("#"))
        line = re.sub(r"\*\*?([^*]+)\*\*?", r"\1", block.lstrip("#").strip().replace("\n", " "))
        if level:
            doc.add_heading(line, level=min(level, 3))
        elif line:
            doc.add_paragraph(line)
    return [
        write_text(outdir / "results.md", banner + text["md"]),
        write_text(outdir / "results.html", html_page(text["html"], ctx.synthetic, css)),
        write_bytes(outdir / "results.docx", word_bytes(doc)),
    ]
