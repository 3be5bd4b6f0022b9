"""Rendering a table: HTML, Markdown, LaTeX (booktabs) and Word from its display grid, and the
long CSV.

Every renderer takes the :class:`~ccanalysis.tables.layout.Display` grid, so the four formats
print the same cells; :func:`write_display` writes every format of one grid atomically.
Output is deterministic byte for byte (Word files carry :data:`FIXED_DATE`).
"""

from __future__ import annotations

import csv
import functools
import io
import math
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ccanalysis.io import write_bytes, write_text
from ccanalysis.tables.layout import Display, DisplayRow, cells
from ccanalysis.vocab import SYNTHETIC_LABEL

if TYPE_CHECKING:
    import jinja2

#: Fixed date written into Word files (their core properties and zip entries).
FIXED_DATE = datetime(2024, 1, 1, tzinfo=UTC)
#: File extension of each format.
EXTENSIONS: dict[str, str] = {"html": "html", "markdown": "md", "latex": "tex", "docx": "docx"}

_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ d.title }}</title>
<style>
body { font-family: sans-serif; }
table { border-collapse: collapse; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.5em; }
th, td { padding: 2px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
thead th { border-top: 2px solid black; border-bottom: 1px solid black; }
tbody tr:last-child td { border-bottom: 2px solid black; }
td.section { font-weight: bold; }
td.indent { padding-left: 2em; }
p.synthetic { color: #b00; font-weight: bold; }
ol.notes { font-size: small; }
</style>
</head>
<body>
{% if d.synthetic %}<p class="synthetic">{{ label }}</p>
{% endif %}<table id="{{ d.table }}">
<caption>{% if d.synthetic %}{{ label }}<br>{% endif %}{{ d.title }}</caption>
<thead>
<tr>{% for h in d.header %}<th>{{ h }}</th>{% endfor %}</tr>
</thead>
<tbody>
{% for r in d.rows %}<tr class="{{ r.kind }}"><td class="{{ 'section' if r.kind == 'section' else ('indent' if r.indent else '') }}">{{ r.label }}</td>{% for c in cells(r) %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
<ol class="notes">
{% for n in d.notes %}<li>{{ n }}</li>
{% endfor %}</ol>
</body>
</html>
"""


@functools.cache
def _html_template() -> jinja2.Template:
    """The compiled HTML template (compiling it takes longer than rendering a table)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    return env.from_string(_HTML)


def _render_html(d: Display, has_p: bool) -> str:
    return _html_template().render(d=d, label=SYNTHETIC_LABEL, cells=lambda r: cells(r, has_p))


def _label(r: DisplayRow, escape: Callable[[str], str], bold: str, indent: str) -> str:
    """A row's label, escaped: a section header in ``bold`` (a format), an indented row after
    ``indent`` once per level."""
    label = escape(r.label)
    if r.kind == "section":
        return bold.format(label)
    return indent * r.indent + label


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _render_markdown(d: Display, has_p: bool) -> str:
    lines: list[str] = []
    if d.synthetic:
        lines += [f"**{SYNTHETIC_LABEL}**", ""]
    lines += [f"**{_md_escape(d.title)}**", ""]
    lines.append("| " + " | ".join(_md_escape(h) for h in d.header) + " |")
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(d.header) - 1)) + "|")
    for r in d.rows:
        label = _label(r, _md_escape, "**{}**", "\u2003")
        lines.append("| " + " | ".join([label] + [_md_escape(c) for c in cells(r, has_p)]) + " |")
    lines.append("")
    lines += [f"{i}. {_md_escape(n)}" for i, n in enumerate(d.notes, start=1)]
    return "\n".join(lines) + "\n"


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "–": "--",
    "†": r"\textdagger{}",
    "‡": r"\textdaggerdbl{}",
    "§": r"\S{}",
    "¶": r"\P{}",
}


def tex_escape(text: str) -> str:
    """Escape LaTeX's special characters (and < > for OT1 fonts)."""
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


def _render_latex(d: Display, has_p: bool) -> str:
    ncols = len(d.header)
    lines = []
    if d.synthetic:
        lines.append(f"% {SYNTHETIC_LABEL}")
    lines += ["% requires \\usepackage{booktabs}", "\\begin{table}[htbp]", "\\centering"]
    caption = tex_escape(d.title)
    if d.synthetic:
        caption = f"\\textbf{{{tex_escape(SYNTHETIC_LABEL)}}}\\\\ {caption}"
    lines += [
        f"\\caption{{{caption}}}",
        f"\\label{{tab:{d.table}}}",
        "\\small",
        "\\begin{tabular}{l" + "r" * (ncols - 1) + "}",
        "\\toprule",
    ]
    lines.append(" & ".join(tex_escape(h) for h in d.header) + " \\\\")
    lines.append("\\midrule")
    for r in d.rows:
        label = _label(r, tex_escape, "\\textbf{{{}}}", "\\quad ")
        lines.append(" & ".join([label] + [tex_escape(c) for c in cells(r, has_p)]) + " \\\\")
        if r.kind == "n":
            lines.append("\\midrule")
    lines += ["\\bottomrule", "\\end{tabular}", "", "\\smallskip", "\\footnotesize"]
    lines += [f"{i}. {tex_escape(n)}\\par" for i, n in enumerate(d.notes, start=1)]
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip (docx) with every entry dated :data:`FIXED_DATE` (byte-reproducible)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE.timetuple()[:6])
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            dst.writestr(new, src.read(info.filename))
    return buf.getvalue()


def _render_docx(d: Display, has_p: bool) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = docx.Document()
    props = doc.core_properties
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.last_printed = FIXED_DATE.replace(tzinfo=None)
    props.author = "ccanalysis"
    props.last_modified_by = "ccanalysis"
    props.revision = 1
    props.title = d.title
    props.comments = SYNTHETIC_LABEL if d.synthetic else ""
    if d.synthetic:
        para = doc.add_paragraph()
        run = para.add_run(SYNTHETIC_LABEL)
        run.bold = True
    doc.add_paragraph().add_run(d.title).bold = True
    table = doc.add_table(rows=1 + len(d.rows), cols=len(d.header))
    table.style = "Table Grid"
    # the cells row by row: Table.cell(i, j) rebuilds the whole grid on every call (quadratic)
    grid = [row.cells for row in table.rows]
    for cell, h in zip(grid[0], d.header, strict=True):
        cell.text = h
        cell.paragraphs[0].runs[0].bold = True
    for r, row_cells in zip(d.rows, grid[1:], strict=True):
        values = [r.label] + cells(r, has_p)
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
    for i, n in enumerate(d.notes, start=1):
        doc.add_paragraph(f"{i}. {n}").runs[0].font.size = Pt(8)
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue())


#: Renderer of each format, called with the display grid and whether it has a P column.
_RENDERERS = {
    "html": _render_html,
    "markdown": _render_markdown,
    "latex": _render_latex,
    "docx": _render_docx,
}


def render_display(d: Display, fmt: str = "html") -> str | bytes:
    """Render a display grid as ``html``, ``markdown`` (or ``md``), ``latex`` (or ``tex``) (str) or
    ``docx`` (bytes)."""
    fmt = {"md": "markdown", "tex": "latex"}.get(fmt, fmt)
    if fmt not in _RENDERERS:
        raise ValueError(f"unknown format {fmt!r} (html, markdown, latex, docx)")
    return _RENDERERS[fmt](d, "P" in d.header)


def _csv_value(v: float) -> str:
    if math.isnan(v):
        return ""
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def long_csv(table_long: pd.DataFrame, suppress_below: int | None = None) -> str:
    """The long CSV text: interface columns (docs/ARCHITECTURE.md) first, integers without ``.0``, floats at full precision.

    With ``suppress_below=k`` the counts 1 to k - 1 and what they reveal (percentage, difference,
    a mean of fewer than k answers) are blanked and noted ``<k``.
    """
    frame = table_long.copy()
    if suppress_below is not None:
        k = suppress_below
        key = ["item", "level", "group"]
        cnt = frame[frame["measure"].isin(["n", "denom"]) & (frame["item"] != "n")]
        small_n = cnt[(cnt["measure"] == "n") & cnt["value"].between(1, k - 1)]
        small_d = cnt[(cnt["measure"] == "denom") & cnt["value"].between(1, k - 1)]
        mark = set(map(tuple, small_n[key].to_numpy())) | set(map(tuple, small_d[key].to_numpy()))
        hit = np.array([tuple(r) in mark for r in frame[key].to_numpy()], dtype=bool)
        hit &= frame["measure"].isin(["n", "pct", "mean", "sd"]).to_numpy()
        n_row = (frame["item"] == "n") & frame["value"].between(1, k - 1)
        hit |= n_row.to_numpy()
        frame.loc[hit, ["value", "diff", "diff_lo", "diff_hi"]] = math.nan
        frame.loc[hit, "note"] = f"<{k}"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = list(frame.columns)
    w.writerow(cols)
    numeric = {c for c in cols if pd.api.types.is_float_dtype(frame[c])}
    for rec in frame.itertuples(index=False):
        w.writerow(
            [
                _csv_value(v) if c in numeric else ("" if pd.isna(v) else str(v))
                for c, v in zip(cols, rec, strict=True)
            ]
        )
    return buf.getvalue()


def write_display(
    d: Display,
    table_long: pd.DataFrame,
    outdir: str | Path,
    name: str,
    *,
    suppress_below: int | None = None,
) -> dict[str, Path]:
    """Write ``<name>.csv`` (long), ``.html``, ``.md``, ``.tex`` and ``.docx`` of one grid into
    ``outdir`` atomically; return the paths by extension."""
    outdir = Path(outdir)
    out = {"csv": write_text(outdir / f"{name}.csv", long_csv(table_long, suppress_below))}
    has_p = "P" in d.header
    for fmt, ext in EXTENSIONS.items():
        data, path = _RENDERERS[fmt](d, has_p), outdir / f"{name}.{ext}"
        out[ext] = write_bytes(path, data) if isinstance(data, bytes) else write_text(path, data)
    return out
