"""The landing page ``reports/index.html`` from what the stages wrote; each reader of a file names
the columns it uses, so that a stage may add others."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ccanalysis import vocab
from ccanalysis.display import significant
from ccanalysis.printing import format_p, round_half_up, signed
from ccanalysis.replication.compare import COMPARISON_COLUMNS, KEYS, cell_anchor
from ccanalysis.replication.rows import TEST_NAMES
from ccanalysis.report import notebooks
from ccanalysis.tables.grid import anchor
from ccanalysis.tables.read import group_sizes, read_long
from ccanalysis.tables.render import BACK

#: The downloads of a table, in the order the page lists them: (suffix, name shown).
TABLE_FORMATS = {"csv": "CSV", "docx": "Word", "tex": "LaTeX", "md": "Markdown", "html": "HTML"}
#: The paper's DOI (the project's early copy prints none; the journal's page gives it).
PAPER_DOI = "10.3122/jabfm.2024.240010R1"
#: Where each table file is built, by stem: its notebook and the heading of the section.
STAGE_OF = {
    "table": ("03", "Every table, and the family of tests"),
    "sensitivity": ("04", "Crude, clustered by care system, and exchangeable"),
    "definitions": ("04", "The care model definition"),
}
#: Significance level of the headline's "differ after correction" (q < Q_LEVEL).
Q_LEVEL = 0.05
#: Verdicts of the consistency check that mean a printed row cannot be right, with a heading.
INCONSISTENT = {
    "inconsistent": "Printed rows that no count table fits",
    "disagree": "Numbers in the text that disagree with the tables",
}
#: What a page of ``tables/`` marks as its embeddable part (the table and its notes, no label).
EMBED = re.compile(r"<!-- table -->\s*(.*?)\s*<!-- /table -->", re.DOTALL)


def _label(spec: Any, table: str, item: str, level: str = "") -> str:
    """How the table prints an item (or one of its levels); its id when the spec lacks it."""
    rows = spec.items(table).get(item, []) if spec is not None else []
    row = next((r for r in rows if r.level == level), None) if level else None
    if row is None and len(rows) == 1:
        row = rows[0]
    if row is not None:
        return row.row_label
    return (rows[0].section.strip().rstrip(":") or rows[0].label) if rows else item


def headline(tables: dict[str, pd.DataFrame], spec: Any, count: int = 8) -> dict[str, Any]:
    """Clinics per model, the tested items (with a q) and their ``count`` largest differences in
    percentage points (Table 2's criteria define the models: no result)."""
    new, ref = vocab.CLINIC_COMPARISON
    sizes = next((s for t in tables.values() if {new, ref} <= set(s := group_sizes(t))), {})
    tested, largest = [], []
    for name, long in tables.items():
        p = long[(long["measure"] == "p") & long["q"].notna()] if "q" in long else long[:0]
        number, q = name.removeprefix("table"), p.set_index("item")["q"]
        printed = spec.items(name) if spec is not None else {}  # an item's rows: its levels
        tested += [
            {"table": number, "label": _label(spec, name, i), "q": q[i], "anchor": anchor(name, i)}
            for i in p["item"]
        ]
        pct = long[(long["measure"] == "pct") & long["item"].isin(p["item"])]
        base = pct[pct["group"] == ref].set_index(["item", "level"])["value"]
        for r in pct[(pct["group"] == new) & pct["diff"].notna()].itertuples():
            level = r.level if len(printed.get(r.item, [])) > 1 else ""  # the row's anchor
            largest.append(
                r._asdict()
                | {"table": number, "label": _label(spec, name, r.item, r.level), "q": q[r.item]}
                | {"ref": base.get((r.item, r.level), float("nan"))}
                | {"anchor": anchor(name, r.item, level)}
            )
    largest = sorted(largest, key=lambda r: -abs(r["diff"]))[:count]
    return {"sizes": sizes, "tested": tested, "largest": largest}


def _first_sentence(text: str, limit: int = 160) -> str:
    head = re.split(r"(?<=[.;])\s", text.strip(), maxsplit=1)[0]
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def _reason(row: dict[str, str]) -> str:
    """One line on why a printed row is inconsistent, from the check's own columns."""
    if row["check"] == "p" and row["p_min"]:
        lo, hi = (significant(float(row[k]), 2) for k in ("p_min", "p_max"))
        allowed = lo if lo == hi else f"{lo}–{hi}"
        test = TEST_NAMES.get(row["test"], row["test"])
        return f"printed P = {row['printed']}; the printed percentages allow P = {allowed} ({test} test)"
    if row["reference"]:
        return f"printed {row['printed']}; the other printed numbers imply {row['reference']}"
    return _first_sentence(row["explanation"])


def findings(path: Path, spec: Any = None) -> list[dict[str, str]]:
    """The rows of ``replication_consistency.csv`` with a verdict in :data:`INCONSISTENT`."""
    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    out = []
    for i, row in enumerate(frame[frame["verdict"].isin(INCONSISTENT)].to_dict("records"), 1):
        quote = re.match(r'^"(.+?)" \(([^)]*)\):\s*(.*)$', row["explanation"], re.DOTALL)
        if quote:
            where, what = quote[2], _first_sentence(quote[1], 100)
            reason = _first_sentence(quote[3])
        else:
            level = "" if "+" in row["level"] else row["level"]  # a whole distribution
            where = f"Table {row['table'].removeprefix('table')}" if row["table"] else row["check"]
            what, reason = _label(spec, row["table"], row["item"], level), _reason(row)
        out.append(row | {"anchor": f"finding-{i}", "where": where, "what": what, "reason": reason})
    return out


def _linked(folder: Path, href: str, stem: str, formats: dict) -> list[tuple[str, str]]:
    """(format, link) of each file ``stem.ext`` in ``folder``, in the order of ``formats``."""
    return [
        (name, f"{href}/{stem}.{ext}")
        for ext, name in formats.items()
        if (folder / f"{stem}.{ext}").is_file()
    ]


#: The replication's names of a cell's printed and reproduced numbers (``replication.csv``).
REPRODUCED = "reproduced"
PRINTED = COMPARISON_COLUMNS[COMPARISON_COLUMNS.index(REPRODUCED) - 1]  # the column before it


def _num(text: str) -> str:
    """A reproduced number as the check shows it: four significant digits."""
    return significant(float(text), 4) if re.fullmatch(r"-?[\d.]+(e-?\d+)?", text) else text


def _marked(html: str, table: str, replication: pd.DataFrame, report: str) -> str:
    """Each reproduced cell marked ✓ (as printed) or ≠ (linked to its row of the replication
    report), both numbers on hover; columns by ``data-k``, rows by their anchors."""
    keys = re.findall(r'<th scope="col" data-k="([^"]*)"', html)[1:]
    found: dict[tuple[str, str, str], list[dict]] = {}
    for r in replication[replication["table"] == table].to_dict("records"):
        found.setdefault((r["item"], r["level"], r["group"]), []).append(r)
        found.setdefault((r["item"], "*", r["group"]), []).append(r)  # an item's only row

    def row(m: re.Match) -> str:
        item, _, level = m[2].partition("-")
        cells = iter(keys)

        def cell(c: re.Match) -> str:
            key = next(cells, "")
            rows = found.get((item, "", "all") if key == "p" else (item, level or "*", key), [])
            several = key != "p" and not level and len({r["level"] for r in rows}) > 1
            if not rows or several or not c[2].strip():  # nothing printed here, or not one row
                return c[0]
            counts = re.search(r'title="([^"]*)"', c[1])
            seen = [counts[1]] if counts else []
            seen += [
                f"{r['measure']}: printed {r[PRINTED]}, here {_num(r[REPRODUCED])}" for r in rows
            ]
            off = [cell_anchor(*(r[k] for k in KEYS)) for r in rows if r["verdict"] != "equal"]
            ok = '<span class="ok">✓</span>'
            mark = f'<a class="ne" href="{report}#{off[0]}">≠</a>' if off else ok
            return f'<td title="{"; ".join(seen)}">{c[2]}{mark}</td>'

        return m[1] + re.sub(r"<td([^>]*)>(.*?)</td>", cell, m[3]) + "</tr>"

    return re.sub(
        r'(<tr class="(?:row|section)" id="t\d+-([^"]+)">)(.*?)</tr>', row, html, flags=re.S
    )


def _tables(tables_dir: Path, href: str, report: str = "") -> list[dict[str, Any]]:
    """Every ``tables/*.html`` (Tables 1-4 first): its marked part, checked cells, downloads."""
    checked = tables_dir / "replication.csv"
    replication = (
        pd.read_csv(checked, keep_default_na=False, dtype=str) if checked.is_file() else None
    )
    views = []
    for path in sorted(tables_dir.glob("*.html"), key=lambda p: (p.stem[:5] != "table", p.stem)):
        text = path.read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", text, re.DOTALL)
        html = "\n".join(EMBED.findall(text))
        if replication is not None and path.stem.startswith("table"):
            html = _marked(html, path.stem, replication, report)
        stage, heading = next((v for k, v in STAGE_OF.items() if path.stem.startswith(k)), "  ")
        html = html.replace(BACK, "")  # a link to the landing page's own rows: #t3-item
        views.append(
            {"id": path.stem, "title": title[1].strip() if title else path.stem, "html": html}
            | {
                "long": html.count("<tr") > 80,
                "rows": html.count("<tr") - html.count("<thead"),
                "stage": stage,
                "built": notebooks.heading_id(heading),
                "files": _linked(tables_dir, href, path.stem, TABLE_FORMATS),
            }
        )
    return views


def _figures(figures_dir: Path, href: str, formats: dict) -> list[dict[str, Any]]:
    """Every ``figures/*.png`` at screen size with its stored title and caption, Figure N first."""
    from PIL import Image

    from ccanalysis.figures import title as numbered
    from ccanalysis.figures.theme import screen_png  # the notebooks' size too

    found = []
    for png in sorted(figures_dir.glob("*.png")):
        with Image.open(png) as im:
            info = dict(im.text)
        title = numbered(png.stem, info.get("Title") or png.stem.replace("_", " ").capitalize())
        found.append(
            {
                "id": f"figure-{png.stem}",
                "title": title,
                "caption": info.get("Caption", ""),
                "alt": info.get("Alt") or title,
                "src": "data:image/png;base64," + base64.b64encode(screen_png(png)).decode(),
                "files": _linked(figures_dir, href, png.stem, formats),
            }
        )
    return sorted(found, key=lambda f: (int(re.findall(r"\d+", f["title"])[0]), f["id"]))


def citation(root: Path) -> dict[str, str]:
    """Version and licence (metadata) and the last commit of what builds the outputs (not docs,
    tests or prose: the docs check needs a stable date; commit such a change, then ``make docs``)."""
    import subprocess
    from importlib import metadata

    meta = metadata.metadata("ccanalysis")
    built_by = ["src", "notebooks", "data", "pyproject.toml"]
    cmd = ["git", "-C", str(root), "log", "-1", "--format=%h %cs", "--", *built_by]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
    run = dict(zip(("commit", "date"), out if len(out) == 2 else ("", ""), strict=True))
    return run | {"version": meta["Version"], "licence": meta.get("License") or ""}


def _template(name: str) -> Any:
    """A page's template, the number formats as filters."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(notebooks.TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(p=format_p, signed=signed, round_half_up=round_half_up)
    return env.get_template(name)


def landing_page(root: Path, executed: list[Path], snapshot: bool) -> tuple[str, dict]:
    """The landing page and the run's parameters; ``snapshot``: ``docs/``'s, linking its copies."""
    from ccanalysis.spec import read_spec

    runs = {p: json.loads(p.read_text(encoding="utf-8")) for p in executed}
    params = notebooks.parameters(runs[executed[-1]]) if runs else {}
    tables_dir, spec, up = root / "tables", read_spec(), "" if snapshot else "../"
    figure_formats = {"pdf": "PDF", "svg": "SVG"} | ({} if snapshot else {"png": "PNG"})
    tested_rule = (
        f"Benjamini–Hochberg q < {Q_LEVEL:g} over each table's family of tests (its q footnote)"
    )
    tables = {p.stem: read_long(p) for p in sorted(tables_dir.glob("table*.csv"))}
    clinics = root / "data" / "processed" / "clinics.parquet"
    summary = tables_dir / "replication_summary.csv"
    consistency = tables_dir / "replication_consistency.csv"
    found = findings(consistency, spec) if consistency.is_file() else []
    report = next((f"{p.stem}.html" for p in executed if "replication" in p.stem), "")
    views = _tables(tables_dir, f"{up}tables", report)
    page = _template("landing.html.j2").render(
        css=notebooks.stylesheet(),
        card=notebooks.run_card(params),
        synthetic=params.get("data_mode") == "synthetic",
        vocab=vocab,
        q_level=Q_LEVEL,
        systems=pd.read_parquet(clinics, columns=["care_system_id"]).nunique().iloc[0]
        if clinics.is_file()
        else None,
        coordinators=group_sizes(tables["table1"]).get(vocab.TOTAL) if "table1" in tables else None,
        headline=headline(tables, spec),
        replication=pd.read_csv(summary).to_dict("records") if summary.is_file() else [],
        findings={v: [f for f in found if f["verdict"] == v] for v in INCONSISTENT},
        finding_titles=INCONSISTENT,
        tables=views,
        data=[
            (p.stem, f"{up}tables/{p.name}")
            for p in sorted(tables_dir.glob("*.csv"))
            if p.stem not in {v["id"] for v in views}
        ],
        figures=_figures(root / "figures", f"{up}figures", figure_formats),
        cite=citation(root),
        synthetic_files=[
            (p.name, f"{up}{'' if snapshot else 'data/raw/'}synthetic/{p.name}")
            for p in sorted((root / "data" / "raw" / "synthetic").glob("[!.]*"))
            if p.is_file()
        ],
        notebooks=[(p.stem, *notebooks.describe(nb, p.stem)) for p, nb in runs.items()],
        snapshot=snapshot,
        tested_rule=tested_rule,
        paper_doi=PAPER_DOI,
    )
    return page, params


def codebook_page(root: Path, executed: list[Path]) -> str:
    """``codebook.html``: the run's data dictionary as a codebook."""
    from ccanalysis.spec import as_instrument

    params = notebooks.parameters(json.loads(executed[-1].read_text(encoding="utf-8")))
    path = root / str(params.get("dictionary", ""))  # the run's, else the project's
    instrument = as_instrument(path if path.is_file() else None)
    return _template("codebook.html.j2").render(
        css=notebooks.stylesheet(), instrument=instrument, source=Path(instrument.source).name
    )
