"""The landing page: the study's supplement, built from what the pipeline wrote.

In order: the title, one synthetic banner and the study in three lines; the headline results
(clinics per model, the items that differ after the q-value correction, the largest differences
with their confidence intervals); the replication (cells matched per table, each printed row found
inconsistent with a one-line reason linked to its explanation); every table inline with its title
and footnotes; every figure inline with its caption; the notebooks, one line each; the downloads.

The same page is written twice: ``reports/index.html`` (links into ``../tables`` and
``../figures``, both editions of each notebook) and ``docs/index.html`` (the snapshot's own
copies, the reader's editions only). :class:`Layout` holds the difference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccanalysis.display import significant
from ccanalysis.printing import format_p, round_half_up
from ccanalysis.report import html, outputs, page
from ccanalysis.report.notebooks import CODE, READER, Rendered, output_path
from ccanalysis.report.runcard import RunCard
from ccanalysis.tables.read import group_sizes
from ccanalysis.vocab import CLINIC_COMPARISON, GROUP_LABELS, SYNTHETIC_LABEL, TOTAL

#: The downloads of a table, in the order the page lists them: (suffix, name shown).
TABLE_FORMATS: tuple[tuple[str, str], ...] = (
    ("csv", "CSV"),
    ("docx", "Word"),
    ("tex", "LaTeX"),
    ("md", "Markdown"),
    ("html", "HTML"),
)
FIGURE_FORMATS: tuple[tuple[str, str], ...] = (("pdf", "PDF"), ("png", "PNG"))


@dataclass(frozen=True)
class Layout:
    """How a copy of the page reaches the files it links.

    ``tables`` and ``figures``: the folders of the linked files, relative to the page;
    ``figure_formats``: the figure files linked (the snapshot keeps the PDFs only: the screen
    versions are in the pages); ``code_editions``: whether the editions with code are there.
    """

    tables: str = "../tables"
    figures: str = "../figures"
    figure_formats: tuple[tuple[str, str], ...] = FIGURE_FORMATS
    code_editions: bool = True
    note: str = ""


#: ``reports/index.html`` beside the pipeline's ``tables/`` and ``figures/``.
REPORTS = Layout()
#: ``docs/index.html``, with its own copies in ``docs/tables`` and ``docs/figures``.
SNAPSHOT = Layout(
    tables="tables",
    figures="figures",
    figure_formats=(("pdf", "PDF"),),
    code_editions=False,
    note="This is the committed snapshot of the synthetic run (docs/): the reader's editions of "
    "the notebooks, the tables and the figures as PDF. make all writes the editions with code "
    "and the full-size PNGs to reports/ and figures/.",
)


def _pct(x: float) -> str:
    return round_half_up(x, 0)


def _diff(x: float) -> str:
    text = round_half_up(x, 1)
    return text if text.startswith("-") else f"+{text}"


def _headline(tables: dict, spec: Any) -> dict[str, Any]:
    new, ref = CLINIC_COMPARISON
    clinic_tables = [t for t in tables.values() if {new, ref} <= set(group_sizes(t))]
    sizes = group_sizes(clinic_tables[0]) if clinic_tables else {}
    tested = outputs.tested_items(tables, spec)
    differ = tested[tested["q"] < outputs.Q_LEVEL]
    largest = outputs.largest_differences(tables, spec, comparison=CLINIC_COMPARISON)
    rows = [
        {
            "table": r["table"].removeprefix("table"),
            "label": r["label"],
            "ref": _pct(r[ref]),
            "new": _pct(r[new]),
            "diff": _diff(r["diff"]),
            "ci": f"{_diff(r['diff_lo'])} to {_diff(r['diff_hi'])}",
            "q": format_p(r["q"]),
        }
        for _, r in largest.iterrows()
    ]
    by_table = [
        {
            "table": name.removeprefix("table"),
            "tested": int((tested["table"] == name).sum()),
            "items": [
                {"label": r.label, "q": format_p(r.q)}
                for r in differ[differ["table"] == name].itertuples(index=False)
            ],
        }
        for name in dict.fromkeys(tested["table"])
    ]
    return {
        "sizes": sizes,
        "new": new,
        "ref": ref,
        "new_label": GROUP_LABELS[new],
        "ref_label": GROUP_LABELS[ref],
        "tested": len(tested),
        "differ": len(differ),
        "q_level": significant(outputs.Q_LEVEL),
        "by_table": by_table,
        "largest": rows,
    }


def _table_views(tables_dir: Path, synthetic: bool) -> list[dict[str, str]]:
    """Every ``tables/*.html`` as a fragment for the page (Tables 1-4 first), label dropped."""
    files = sorted(
        tables_dir.glob("*.html"), key=lambda p: (not p.stem.startswith("table"), p.stem)
    )
    views = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        root = html.parse(html.fragment(text))
        if synthetic:
            html.drop_label(root, SYNTHETIC_LABEL)
        views.append(
            {
                "id": path.stem,
                "title": (title.group(1).strip() if title else path.stem),
                "html": html.serialize(root),
                "long": len(root.findall(".//tr")) > 80,
            }
        )
    return views


def _figure_number(title: str) -> float:
    m = re.match(r"\s*Figure\s+(\d+)", title)
    return float(m.group(1)) if m else float("inf")


def _linked(folder: Path, href: str, stem: str, formats: tuple[tuple[str, str], ...]) -> list:
    """(format name, link) of each ``stem.<ext>`` of ``formats`` that exists in ``folder``."""
    return [
        (name, f"{href}/{stem}.{ext}")
        for ext, name in formats
        if (folder / f"{stem}.{ext}").is_file()
    ]


def _figures(figures_dir: Path, layout: Layout) -> list[dict[str, Any]]:
    """Every ``figures/*.png``: its caption (the title stored in the file), the screen version,
    its downloads. Numbered figures first, then by name."""
    from PIL import Image

    found = []
    for png in sorted(figures_dir.glob("*.png")):
        with Image.open(png) as im:
            info = dict(getattr(im, "text", {}) or {})
        title = info.get("Title") or png.stem.replace("_", " ").capitalize()
        found.append(
            {
                "id": f"figure-{png.stem}",
                "title": title,
                "caption": info.get("Caption", ""),
                "src": html.data_uri(html.display_png(png)),
                "files": _linked(figures_dir, layout.figures, png.stem, layout.figure_formats),
            }
        )
    return sorted(found, key=lambda f: (_figure_number(f["title"]), f["id"]))


def _downloads(tables_dir: Path, layout: Layout, views: list[dict[str, str]]) -> list[dict]:
    """Each table's files (:data:`TABLE_FORMATS`), then the CSV files no table view shows."""
    rows = [
        {"title": v["title"], "files": _linked(tables_dir, layout.tables, v["id"], TABLE_FORMATS)}
        for v in views
    ]
    shown = {v["id"] for v in views}
    data = [p for p in sorted(tables_dir.glob("*.csv")) if p.stem not in shown]
    if data:
        rows.append(
            {
                "title": "Replication report and other data (CSV)",
                "files": [(p.stem, f"{layout.tables}/{p.name}") for p in data],
            }
        )
    return rows


def _notebooks(rendered: list[Rendered], layout: Layout) -> list[dict[str, Any]]:
    out = []
    for r in rendered:
        links = [(READER.title, output_path(r.executed, READER).name)]
        if layout.code_editions:
            links.append((CODE.title, output_path(r.executed, CODE).name))
        out.append({"title": r.title, "summary": r.summary, "links": links})
    return out


def study_lines(sizes: dict[str, int], coordinators: int | None, systems: int | None) -> list[str]:
    """The study in three lines, its numbers from the data."""
    new, ref = CLINIC_COMPARISON
    where = f" in {systems} care systems" if systems else ""
    who = f", answered by {coordinators} care coordinators" if coordinators else ""
    return [
        f"A survey of {sizes.get(TOTAL, '?')} Minnesota primary care clinics{where}{who}.",
        f"Each clinic is classified by its care model: {sizes.get(new, '?')} with an integrated "
        f"social worker on the care team, {sizes.get(ref, '?')} with a medical/nursing model "
        "(Table 2's four criteria).",
        "The two models are compared item by item (Tables 3–4: exact tests, differences with 95% "
        "confidence intervals, Benjamini–Hochberg q-values), and every number the paper prints is "
        "set beside the one reproduced here.",
    ]


def landing_page(
    root: Path, rendered: list[Rendered], card: RunCard | None, layout: Layout, spec: Any = None
) -> str:
    """The landing page's HTML, from the outputs under ``root`` and the rendered notebooks."""
    tables_dir, figures_dir = root / "tables", root / "figures"
    synthetic = card.synthetic if card is not None else True
    tables = outputs.long_tables(tables_dir)
    headline = _headline(tables, spec)
    coordinators = next(
        (group_sizes(t).get(TOTAL) for n, t in tables.items() if n == "table1"), None
    )
    systems = outputs.care_systems(root / "data" / "processed" / "clinics.parquet")
    summary_csv, consistency_csv = (
        tables_dir / "replication_summary.csv",
        tables_dir / "replication_consistency.csv",
    )
    replication = (
        outputs.replication_summary(summary_csv).to_dict("records") if summary_csv.is_file() else []
    )
    found = outputs.findings(consistency_csv, spec) if consistency_csv.is_file() else []
    views = _table_views(tables_dir, synthetic)
    replication_page = next((r for r in rendered if "replication" in r.executed.stem), None)
    return page.render(
        "landing.html.j2",
        css=page.stylesheet(),
        card=card,
        synthetic=synthetic,
        study=study_lines(headline["sizes"], coordinators, systems),
        headline=headline,
        replication=replication,
        findings={
            verdict: [f for f in found if f.verdict == verdict] for verdict in outputs.INCONSISTENT
        },
        finding_titles=outputs.INCONSISTENT,
        replication_page=(
            output_path(replication_page.executed, READER).name if replication_page else None
        ),
        tables=views,
        figures=_figures(figures_dir, layout),
        notebooks=_notebooks(rendered, layout),
        downloads=_downloads(tables_dir, layout, views),
        note=layout.note,
    )
