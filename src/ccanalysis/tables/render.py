"""A grid in each format (:data:`FORMATS` by file extension) and the long CSV, byte for byte the
same on every run."""

from __future__ import annotations

import functools
import io
import math
import operator
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ccanalysis.tables.grid import Grid, GridRow
from ccanalysis.vocab import SYNTHETIC_LABEL

if TYPE_CHECKING:
    import jinja2

#: Fixed date written into Word files (their core properties and zip entries).
FIXED_DATE = datetime(2024, 1, 1, tzinfo=UTC)

#: The tables' stylesheet, inlined into every page showing one; ``table.html.j2`` beside it.
CSS = Path(__file__).with_name("table.css")
#: Where a standalone table (``tables/x.html``) links back to: the landing page of the run.
BACK = "../reports/index.html"


@functools.cache
def _html_template() -> jinja2.Template:
    import jinja2  # imported when a table is rendered: compiling takes longer than rendering
    import markupsafe

    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    env.filters["mark"] = lambda c: markupsafe.Markup(  # P's test marker raised
        MARK.sub(r"<sup>\1</sup>", str(markupsafe.escape(c)))
    )
    return env.from_string(CSS.with_name("table.html.j2").read_text(encoding="utf-8"))


def html(g: Grid) -> str:
    """A standalone HTML page of the grid (stylesheet, synthetic label, link back)."""
    notes = [n for n in g.notes if n != SYNTHETIC_LABEL]
    css = CSS.read_text(encoding="utf-8")
    return _html_template().render(g=g, label=SYNTHETIC_LABEL, notes=notes, css=css, back=BACK)


#: A P cell's test marker (``0.38a``), raised in each format.
MARK = re.compile(r"(?<=\d)([a-h])$")


def _label(r: GridRow, text: str, bold: str, indent: str) -> str:
    """A row's (escaped) label: a section header in ``bold``, an indented row after ``indent``."""
    return bold.format(text) if r.kind == "section" else indent * r.indent + text


def markdown(g: Grid) -> str:
    """A GitHub-flavoured Markdown table, title first and notes numbered below."""
    esc = operator.methodcaller("replace", "|", "\\|")
    lines = [f"**{SYNTHETIC_LABEL}**", ""] if g.synthetic else []
    lines += [f"**{esc(g.title)}**", "", "| " + " | ".join(map(esc, g.header)) + " |"]
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(g.header) - 1)) + "|")
    for r in g.rows:
        label = _label(r, esc(r.label), "**{}**", "\u2003")
        cells = (MARK.sub(r"<sup>\1</sup>", esc(c)) for c in r.cells)
        lines.append("| " + " | ".join([label, *cells]) + " |")
    lines += ["", *(f"{i}. {esc(n)}" for i, n in enumerate(g.notes, start=1))]
    return "\n".join(lines) + "\n"


#: LaTeX's special characters (and < > for OT1 fonts), the dash and the footnote signs.
TEX = str.maketrans(
    {c: "\\" + c for c in "&%$#_{}"}
    | {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    | {"<": r"\textless{}", ">": r"\textgreater{}", "–": "--", "†": r"\textdagger{}"}
    | {"‡": r"\textdaggerdbl{}", "§": r"\S{}", "¶": r"\P{}"}
)


def latex(g: Grid) -> str:
    """A booktabs ``table`` environment, notes below the rule."""
    caption = g.title.translate(TEX)
    lines = [f"% {SYNTHETIC_LABEL}"] if g.synthetic else []
    if g.synthetic:
        caption = f"\\textbf{{{SYNTHETIC_LABEL.translate(TEX)}}}\\\\ {caption}"
    lines += ["% requires \\usepackage{booktabs}", "\\begin{table}[htbp]", "\\centering"]
    lines += [f"\\caption{{{caption}}}", f"\\label{{tab:{g.table}}}", "\\small"]
    lines += ["\\begin{tabular}{l" + "r" * (len(g.header) - 1) + "}", "\\toprule"]
    lines += [" & ".join(h.translate(TEX) for h in g.header) + " \\\\", "\\midrule"]
    for r in g.rows:
        label = _label(r, r.label.translate(TEX), "\\textbf{{{}}}", "\\quad ")
        cells = [MARK.sub(r"\\textsuperscript{\1}", c.translate(TEX)) for c in r.cells]
        lines.append(" & ".join([label, *cells]) + " \\\\")
        if r.kind == "n":
            lines.append("\\midrule")
    lines += ["\\bottomrule", "\\end{tabular}", "", "\\smallskip", "\\footnotesize"]
    lines += [f"{i}. {n.translate(TEX)}\\par" for i, n in enumerate(g.notes, start=1)]
    return "\n".join([*lines, "\\end{table}"]) + "\n"


def word_document(title: str, synthetic: bool):
    """A new Word document with fixed core properties and, on synthetic data, the label."""
    import docx as word

    doc = word.Document()
    props = doc.core_properties
    props.created = props.modified = props.last_printed = FIXED_DATE.replace(tzinfo=None)
    props.author = props.last_modified_by = "ccanalysis"
    props.revision, props.title = 1, title
    props.comments = SYNTHETIC_LABEL if synthetic else ""
    if synthetic:
        doc.add_paragraph().add_run(SYNTHETIC_LABEL).bold = True
    return doc


def word_bytes(doc) -> bytes:
    """``doc`` saved with every zip entry dated :data:`FIXED_DATE` (byte-reproducible)."""
    data = io.BytesIO()
    doc.save(data)
    src = zipfile.ZipFile(data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE.timetuple()[:6])
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            dst.writestr(new, src.read(info.filename))
    return buf.getvalue()


def docx(g: Grid) -> bytes:
    """A Word document: the title, the table (header bold, numbers right-aligned), the notes."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = word_document(g.title, g.synthetic)
    doc.add_paragraph().add_run(g.title).bold = True
    table = doc.add_table(rows=1 + len(g.rows), cols=len(g.header))
    table.style = "Table Grid"
    # the cells row by row: Table.cell(i, j) rebuilds the whole grid on every call (quadratic)
    grid = [row.cells for row in table.rows]
    for cell, h in zip(grid[0], g.header, strict=True):
        cell.text = h
        cell.paragraphs[0].runs[0].bold = True
    for r, row_cells in zip(g.rows, grid[1:], strict=True):
        values = [r.label, *r.cells]
        for j, (cell, v) in enumerate(zip(row_cells, values, strict=True)):
            cell.text = v
            para = cell.paragraphs[0]
            if j == 0:
                if r.kind == "section" and para.runs:
                    para.runs[0].bold = True
                if r.indent:
                    para.paragraph_format.left_indent = Pt(12 * r.indent)
            else:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for i, n in enumerate(g.notes, start=1):
        doc.add_paragraph(f"{i}. {n}").runs[0].font.size = Pt(8)
    return word_bytes(doc)


#: The entry point of each format, by file extension.
FORMATS = {"html": html, "md": markdown, "tex": latex, "docx": docx}


def _csv_value(v: float) -> str:
    """A float as the CSV writes it: integers without ``.0``, others at full precision."""
    if math.isnan(v):
        return ""
    return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)


def long_csv(long: pd.DataFrame, suppress_below: int | None = None) -> str:
    """The long table as CSV text; ``suppress_below=k``: a count below k and what it reveals
    (percentage, difference, a mean of fewer than k answers) blanked, noted ``<k``."""
    frame = long.copy()
    if (k := suppress_below) is not None:
        small = frame["value"].between(1, k - 1)
        key = ["item", "level", "group"]
        counts = frame[small & frame["measure"].isin(["n", "denom"]) & (frame["item"] != "n")]
        hit = frame.set_index(key).index.isin(counts.set_index(key).index)
        hit = (hit & frame["measure"].isin(["n", "pct", "mean", "sd"])) | (
            small & (frame["item"] == "n")
        )
        frame.loc[hit, ["value", "diff", "diff_lo", "diff_hi"]] = math.nan
        frame.loc[hit, "note"] = f"<{k}"
    floats = frame.select_dtypes("float").columns
    frame[floats] = frame[floats].map(_csv_value)
    return frame.to_csv(index=False, lineterminator="\n")
