"""The landing page ``reports/index.html``: the study's supplement, from what the stages wrote.

In order: the title, the synthetic banner and the study in three lines; the headline results
(clinics per model, the items that differ after the q-value correction, the largest differences
with their intervals); the replication (cells matched per table, each printed row found
inconsistent with its reason); every table and figure inline; the notebooks; the downloads. The
same page is written to ``docs/index.html`` with links to the snapshot's copies (:data:`SNAPSHOT`).
Each reader of a file names the columns it uses, so that a stage may add others.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ccanalysis.display import significant
from ccanalysis.printing import format_p, round_half_up
from ccanalysis.tables.read import group_sizes, read_long
from ccanalysis.vocab import CLINIC_COMPARISON, GROUP_LABELS, SYNTHETIC_LABEL, TOTAL

#: The downloads of a table, in the order the page lists them: (suffix, name shown).
TABLE_FORMATS = (
    ("csv", "CSV"),
    ("docx", "Word"),
    ("tex", "LaTeX"),
    ("md", "Markdown"),
    ("html", "HTML"),
)
#: Significance level of the headline's "differ after correction" (q < Q_LEVEL).
Q_LEVEL = 0.05
#: Verdicts of the consistency check that mean a printed row cannot be right, with a heading.
INCONSISTENT = {
    "inconsistent": "Printed rows that no count table fits",
    "disagree": "Numbers in the text that disagree with the tables",
}


@dataclass(frozen=True)
class PageLinks:
    """Where a copy of the page finds the files it links (folders relative to the page), which
    figure files it links and whether the notebooks' editions with code are beside it."""

    tables: str = "../tables"
    figures: str = "../figures"
    figure_formats: tuple[tuple[str, str], ...] = (("pdf", "PDF"), ("png", "PNG"))
    code_editions: bool = True
    note: str = ""


REPORTS = PageLinks()
SNAPSHOT = PageLinks(
    tables="tables",
    figures="figures",
    figure_formats=(("pdf", "PDF"),),
    code_editions=False,
    note="This is the committed snapshot of the synthetic run (docs/): the reader's editions of "
    "the notebooks, the tables and the figures as PDF. make all writes the editions with code "
    "and the PNGs to reports/ and figures/.",
)


def _label(spec: Any, table: str, item: str, level: str = "") -> str:
    """How the table prints an item (or one of its levels); its id when the spec lacks it."""
    rows = spec.items(table).get(item, []) if spec is not None else []
    row = next((r for r in rows if r.level == level), None) if level else None
    if row is None and len(rows) == 1:
        row = rows[0]
    if row is not None:
        return row.row_label
    return (rows[0].section.strip().rstrip(":") or rows[0].label) if rows else item


def tested_items(tables: dict[str, pd.DataFrame], spec: Any = None) -> pd.DataFrame:
    """Every tested item (a p row with a q): table, item, label, p, q."""
    rows = [
        {"table": name, "item": r.item, "label": _label(spec, name, r.item), "p": r.value, "q": r.q}
        for name, long in tables.items()
        if "q" in long
        for r in long[(long["measure"] == "p") & long["q"].notna()].itertuples()
    ]
    return pd.DataFrame(rows, columns=["table", "item", "label", "p", "q"])


def largest_differences(
    tables: dict[str, pd.DataFrame], spec: Any = None, count: int = 8
) -> pd.DataFrame:
    """The ``count`` largest differences in percentage points between the models, in tested
    tables only (Table 2's criteria define the models: their differences are no results)."""
    new, ref = CLINIC_COMPARISON
    rows = []
    for name, long in tables.items():
        if not {"diff", "diff_lo", "diff_hi", "q"} <= set(long):
            continue
        q = long[(long["measure"] == "p") & long["q"].notna()].set_index("item")["q"]
        pct = long[long["measure"] == "pct"]
        base = pct[pct["group"] == ref].set_index(["item", "level"])["value"]
        shown = pct[(pct["group"] == new) & pct["diff"].notna() & pct["item"].isin(q.index)]
        for r in shown.itertuples():
            label = _label(spec, name, r.item, r.level)
            ref_pct = base.get((r.item, r.level), float("nan"))
            rows.append([name, label, ref_pct, r.value, r.diff, r.diff_lo, r.diff_hi, q[r.item]])
    cols = ["table", "label", ref, new, "diff", "diff_lo", "diff_hi", "q"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.loc[frame["diff"].abs().sort_values(ascending=False, kind="stable").index][:count]


def _signed(x: float) -> str:
    text = round_half_up(x, 1)
    return text if text.startswith("-") else f"+{text}"


def headline(tables: dict[str, pd.DataFrame], spec: Any) -> dict[str, Any]:
    """The numbers of the headline results section."""
    new, ref = CLINIC_COMPARISON
    sizes = next((s for t in tables.values() if {new, ref} <= set(s := group_sizes(t))), {})
    tested = tested_items(tables, spec)
    differ = tested[tested["q"] < Q_LEVEL]
    largest = [
        {
            "table": r["table"].removeprefix("table"),
            "label": r["label"],
            "ref": round_half_up(r[ref], 0),
            "new": round_half_up(r[new], 0),
            "diff": _signed(r["diff"]),
            "ci": f"{_signed(r['diff_lo'])} to {_signed(r['diff_hi'])}",
            "q": format_p(r["q"]),
        }
        for _, r in largest_differences(tables, spec).iterrows()
    ]
    by_table = [
        {
            "table": name.removeprefix("table"),
            "tested": int((tested["table"] == name).sum()),
            "items": [
                {"label": r.label, "q": format_p(r.q)}
                for r in differ[differ["table"] == name].itertuples()
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
        "q_level": significant(Q_LEVEL),
        "by_table": by_table,
        "largest": largest,
    }


@dataclass(frozen=True)
class Finding:
    """A printed row (or sentence) of the paper found inconsistent, with why."""

    anchor: str
    verdict: str
    where: str
    what: str
    reason: str
    explanation: str


def _first_sentence(text: str, limit: int = 160) -> str:
    head = re.split(r"(?<=[.;])\s", text.strip(), maxsplit=1)[0]
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def findings(path: Path, spec: Any = None) -> list[Finding]:
    """The rows of ``replication_consistency.csv`` whose verdict is in :data:`INCONSISTENT`: a
    sentence of the text by its quotation and section, a table row by its table and label."""
    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    out = []
    for i, row in enumerate(frame[frame["verdict"].isin(INCONSISTENT)].to_dict("records"), 1):
        text = row["explanation"]
        quote = re.match(r'^"(.+?)" \(([^)]*)\):\s*(.*)$', text, re.DOTALL)
        if quote:
            where, what, text = quote[2], _first_sentence(quote[1], 100), quote[3]
        else:
            level = "" if "+" in row["level"] else row["level"]  # a whole distribution
            where = f"Table {row['table'].removeprefix('table')}" if row["table"] else row["check"]
            what = _label(spec, row["table"], row["item"], level)
        reason = _first_sentence(text)
        out.append(Finding(f"finding-{i}", row["verdict"], where, what, reason, row["explanation"]))
    return out


def _table_views(tables_dir: Path) -> list[dict[str, Any]]:
    """Every ``tables/*.html`` (Tables 1-4 first) as the body of its document, for the page."""
    views = []
    for path in sorted(
        tables_dir.glob("*.html"), key=lambda p: (not p.stem.startswith("table"), p.stem)
    ):
        text = path.read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", text, re.DOTALL)
        body = re.search(r"<body[^>]*>(.*)</body>", text, re.DOTALL)
        html = body[1].strip() if body else text
        long = html.count("<tr") > 80
        views.append(
            {
                "id": path.stem,
                "title": title[1].strip() if title else path.stem,
                "html": html,
                "long": long,
            }
        )
    return views


def _linked(folder: Path, href: str, stem: str, formats) -> list[tuple[str, str]]:
    return [
        (name, f"{href}/{stem}.{ext}")
        for ext, name in formats
        if (folder / f"{stem}.{ext}").is_file()
    ]


def _figures(figures_dir: Path, links: PageLinks) -> list[dict[str, Any]]:
    """Every ``figures/*.png`` embedded, with the title and caption stored in the file; numbered
    figures first."""
    from PIL import Image

    found = []
    for png in sorted(figures_dir.glob("*.png")):
        with Image.open(png) as im:
            info = dict(getattr(im, "text", {}) or {})
        title = info.get("Title") or png.stem.replace("_", " ").capitalize()
        number = re.match(r"\s*Figure\s+(\d+)", title)
        found.append(
            {
                "order": (int(number[1]) if number else 10**6, png.stem),
                "id": f"figure-{png.stem}",
                "title": title,
                "caption": info.get("Caption", ""),
                "src": "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode(),
                "files": _linked(figures_dir, links.figures, png.stem, links.figure_formats),
            }
        )
    return sorted(found, key=lambda f: f["order"])


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


def landing_page(root: Path, notebooks: list[dict], card: list, links: PageLinks, spec: Any) -> str:
    """The landing page's HTML, from the outputs under ``root``. ``notebooks``: title, summary
    and stem of each executed notebook; ``card``: the run card's lines."""
    import jinja2

    tables_dir, synthetic = root / "tables", dict(card).get("data", "synthetic") == "synthetic"
    tables = {p.stem: read_long(p) for p in sorted(tables_dir.glob("table*.csv"))}
    head = headline(tables, spec)
    coordinators = group_sizes(tables["table1"]).get(TOTAL) if "table1" in tables else None
    clinics = root / "data" / "processed" / "clinics.parquet"
    systems = (
        pd.read_parquet(clinics, columns=["care_system_id"]).nunique().iloc[0]
        if clinics.is_file()
        else None
    )
    summary, consistency = (
        tables_dir / "replication_summary.csv",
        tables_dir / "replication_consistency.csv",
    )
    columns = ["table", "cells", "equal", "different", "missing", "pct_equal"]
    replication = pd.read_csv(summary)[columns].to_dict("records") if summary.is_file() else []
    found = findings(consistency, spec) if consistency.is_file() else []
    views = _table_views(tables_dir)
    downloads = [
        {"title": v["title"], "files": _linked(tables_dir, links.tables, v["id"], TABLE_FORMATS)}
        for v in views
    ]
    data = [p for p in sorted(tables_dir.glob("*.csv")) if p.stem not in {v["id"] for v in views}]
    if data:
        files = [(p.stem, f"{links.tables}/{p.name}") for p in data]
        downloads.append({"title": "Replication report and other data (CSV)", "files": files})
    for nb in notebooks:
        nb["links"] = [("reader's edition", f"{nb['stem']}.html")]
        nb["links"] += (
            [("edition with code", f"{nb['stem']}.code.html")] if links.code_editions else []
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    from ccanalysis.report.notebooks import stylesheet

    return env.get_template("landing.html.j2").render(
        label=SYNTHETIC_LABEL,
        css=stylesheet(),
        card=card,
        synthetic=synthetic,
        study=study_lines(head["sizes"], coordinators, systems),
        headline=head,
        replication=replication,
        findings={v: [f for f in found if f.verdict == v] for v in INCONSISTENT},
        finding_titles=INCONSISTENT,
        replication_page=next(
            (f"{nb['stem']}.html" for nb in notebooks if "replication" in nb["stem"]), None
        ),
        tables=views,
        figures=_figures(root / "figures", links),
        notebooks=notebooks,
        downloads=downloads,
        note=links.note,
    )
