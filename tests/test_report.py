"""The reviewer's edition: formatted DataFrames, the notebooks' two editions (nbconvert), the
landing page, the committed snapshot."""

from __future__ import annotations

import base64
import os
import re
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from PIL import Image

from ccanalysis.display import significant, table
from ccanalysis.report import landing, notebooks
from ccanalysis.report.__main__ import build, differences, write_docs
from ccanalysis.tables import render
from ccanalysis.tables.grid import Grid, GridRow
from ccanalysis.tables.read import group_sizes, read_long
from ccanalysis.vocab import SYNTHETIC_LABEL

ROOT = Path(__file__).resolve().parents[1]
LABEL = SYNTHETIC_LABEL
PARAMS = {
    "data_mode": "synthetic",
    "seed": 20240325,
    "scale": 1,
    "export": "data/raw/synthetic/cc_survey_export.csv",
    "dictionary": "data/raw/cc_survey_dictionary.csv",
    "frame": "data/raw/synthetic/clinic_frame.csv",
    "privacy": False,
    "min_cell": 11,
}
#: A table file as the tables stage writes it (the label once, above the embeddable part).
TABLE_HTML = render.html(
    Grid(
        "table3",
        "Table 3. Activities by Care Model",
        ["Characteristic", "Total", "P"],
        [GridRow("row", "Telephone", 0, ["89", "0.008a"], "t3-pt_comm_phone", ["8/9", ""])],
        [LABEL, "All numbers except N, P and mean (SD) are percentages."],
        True,
    )
)


# ---- display: how notebooks show a DataFrame ---------------------------------------------------


def test_significant_digits_without_exponents() -> None:
    assert significant(4.64038) == "4.64"
    assert significant(-0.006996) == "-0.007"
    assert significant(12345.6) == "12346"
    assert significant(0.0954, 2) == "0.095"
    assert significant(317.0) == "317"
    assert significant(0.1196490) == "0.12"


def test_table_formats_p_values_and_percentages_and_drops_row_numbers() -> None:
    frame = pd.DataFrame(
        {
            "item": ["svc_spiritual", "comm_initiator", "panel_size"],
            "p": [0.0000042726, 0.0535, 0.95],
            "pct_equal": [98.4472, 100.0, 41.31455],
            "difference": [-0.006996, 0.112649, 4.64038],
            "n": [139, 178, 317],
        },
        index=[53, 189, 394],  # what is left of 0..n-1 after filtering: row numbers, not data
    )
    shown = table(frame)
    assert list(shown.text.columns) == ["Item", "P", "% equal", "Difference", "n"]  # words
    assert list(shown.text["P"]) == ["<0.001", "0.054", ">0.9"]
    assert list(shown.text["% equal"]) == ["98.4", "100.0", "41.3"]
    assert list(shown.text["Difference"]) == ["-0.007", "0.113", "4.64"]
    assert list(shown.text["n"]) == ["139", "178", "317"]
    assert "189" not in repr(shown)  # no row numbers
    assert repr(shown).splitlines()[1].split() == [
        "svc_spiritual",
        "<0.001",
        "98.4",
        "-0.007",
        "139",
    ]


def test_table_keeps_a_meaningful_index_as_columns_and_hides_the_synthetic_column() -> None:
    cross = pd.DataFrame(
        {"rural": [12, 30], "urban": [40, 235], "synthetic": [LABEL, LABEL]},
        index=pd.Index(["small", "large"], name="system_size"),
    )
    shown = table(cross)
    assert list(shown.text.columns) == ["System size", "Rural", "Urban"]
    assert list(shown.text["System size"]) == ["small", "large"]
    assert LABEL not in shown._repr_html_()


def test_table_html_aligns_labels_left_and_numbers_right_and_is_reproducible() -> None:
    frame = pd.DataFrame({"table": ["table1", "all"], "cells": [99, 483], "q": [0.0004821, 0.13]})
    page = table(frame)._repr_html_()
    uid = re.search(r'id="(T_\w+)"', page).group(1)
    assert f"#{uid} td {{\n  text-align: left;" in page
    assert f"#{uid} .col1 {{\n  text-align: right;\n  white-space: nowrap;" in page  # cells
    assert f"#{uid} .col2 {{\n  text-align: right;" in page  # q
    assert ".col0 {\n  text-align: right" not in page  # table: a label
    assert "&lt;0.001" in page and ">0.13<" in page
    assert "row_heading" not in page  # no index column
    assert table(frame.copy())._repr_html_() == page  # nbval compares it: no random id


def _png(path: Path, size: tuple[int, int] = (2000, 800), title: str = "") -> Path:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if title:
        info.add_text("Title", title)
        info.add_text("Description", LABEL)
    Image.new("RGBA", size, (20, 90, 160, 255)).save(path, pnginfo=info)
    return path


def _executed(path: Path, params: dict | None = None, image: str | None = None) -> Path:
    """An executed notebook as papermill leaves it: both parameter cells, the setup cell's banner,
    a table output with the label three times, a DataFrame, a figure as figures.show embeds it."""
    params = params or PARAMS
    nb = nbformat.v4.new_notebook()
    defaults = nbformat.v4.new_code_cell('data_mode = "synthetic"\nseed = 1')
    defaults.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell(f"# Parameters\nseed = {params['seed']}\n")
    injected.metadata["tags"] = ["injected-parameters"]
    setup = nbformat.v4.new_code_cell("banner(params)")
    banner = f"> **{LABEL}.** Numbers below come from the synthetic stand-in."
    setup.outputs = [
        nbformat.v4.new_output(
            "execute_result", {"text/markdown": banner, "text/plain": "md"}, execution_count=1
        )
    ]
    shown = nbformat.v4.new_code_cell("display(HTML(tables.render(table3)))")
    shown.outputs = [
        nbformat.v4.new_output("display_data", {"text/html": TABLE_HTML, "text/plain": "t"})
    ]
    quiet = nbformat.v4.new_code_cell("x = 1  # shows nothing")
    cells = [
        nbformat.v4.new_markdown_cell(
            "# 03 · Tables 1–4\n\nThe paper's *tables* from the data. More."
        ),
        defaults,
        injected,
        setup,
        shown,
        quiet,
    ]
    if image:
        from ccanalysis.figures.theme import screen_png

        fig = nbformat.v4.new_code_cell("figures.show(saved)")
        file = Path(os.path.normpath(path.parent / image))
        if not file.exists():
            file.parent.mkdir(parents=True, exist_ok=True)
            _png(file, size=(40, 20))
        png = base64.b64encode(screen_png(file)).decode()
        fig.outputs = [
            nbformat.v4.new_output(
                "execute_result",
                {"image/png": png, "text/plain": "<IPython.core.display.Image object>"},
                metadata={"image/png": {"alt": "flow"}},
                execution_count=2,
            )
        ]
        cells.append(fig)
    for i, cell in enumerate(cells):
        cell.id = f"03-{i:02d}"  # as in the project's notebooks (nbformat would draw random ids)
    nb.cells = cells
    nb.metadata["papermill"] = {"parameters": params, "default_parameters": {}}
    nb.metadata["kernelspec"] = {"name": "ccanalysis", "display_name": "x", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


# ---- the notebook pages (nbconvert) ---------------------------------------------------------------


def test_the_reader_edition_has_no_code_no_parameter_cells_a_run_card_and_the_figure(
    tmp_path,
) -> None:
    (tmp_path / "figures").mkdir()
    _png(tmp_path / "figures" / "flow.png", title="Figure 1. Flow")
    executed = _executed(tmp_path / "reports" / "03_tables.ipynb", image="../figures/flow.png")
    notebooks.render(executed)
    reader = (tmp_path / "reports" / "03_tables.html").read_text()
    assert "seed = " not in reader and "banner(params)" not in reader  # no code at all
    assert "Numbers below come from" in reader  # the notebook's own banner
    assert "<dt>seed</dt><dd>20240325</dd>" in reader
    assert "<dt>data_mode</dt><dd>synthetic</dd>" in reader
    assert "Table 3. Activities by Care Model" in reader and ">Telephone</th>" in reader
    assert "x = 1" not in reader
    # self-contained: styles inline, the figure embedded, nothing fetched
    assert 'src="data:image/png;base64,' in reader and "../figures" not in reader
    assert "<script" not in reader and "<link" not in reader and 'src="http' not in reader
    assert str(tmp_path) not in reader


def test_the_code_edition_shows_the_code_highlighted_but_not_the_parameter_cells(tmp_path) -> None:
    executed = _executed(tmp_path / "reports" / "03_tables.ipynb")
    notebooks.render(executed)
    code = (tmp_path / "reports" / "03_tables.code.html").read_text()
    assert "banner</span><span" in code and "x</span> <span" in code  # highlighted by Pygments
    assert ".highlight .k" in code  # with its stylesheet
    assert "# Parameters" not in code and "seed = 1" not in code
    assert '<a href="03_tables.html">' in code  # to the reader's edition


def test_a_page_is_the_same_bytes_whoever_renders_it_where(tmp_path) -> None:
    first = _executed(tmp_path / "a" / "reports" / "03_tables.ipynb")
    second = _executed(tmp_path / "b" / "reports" / "03_tables.ipynb")
    notebooks.render(first)
    notebooks.render(second)
    for suffix in notebooks.EDITIONS:
        assert first.with_suffix(suffix).read_bytes() == second.with_suffix(suffix).read_bytes()


def test_the_title_and_summary_of_a_notebook() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 06 · Replication\n\nWhat a `reviewer` reads. Then.")
    ]
    assert notebooks.describe(nb, "06_replication") == (
        "06 · Replication",
        "What a reviewer reads.",
    )
    assert notebooks.describe(nbformat.v4.new_notebook(), "06_replication") == (
        "06_replication",
        "",
    )


def test_the_card_names_python_by_minor_version_and_hides_an_absolute_export_path() -> None:
    card = dict(notebooks.run_card({**PARAMS, "data_mode": "redcap", "export": "/home/me/x.csv"}))
    assert card["export"] == "x.csv" and card["data_mode"] == "redcap"
    assert card["packages"].startswith(
        f"Python {sys.version_info.major}.{sys.version_info.minor}, "
    )
    assert [p.split()[0] for p in card["packages"].split(", ")[1:]] == list(notebooks.PACKAGES)


# ---- what the landing page reads -----------------------------------------------------------------


def _long(rows: list[tuple]) -> pd.DataFrame:
    cols = ["table", "item", "level", "group", "measure", "value", "diff", "diff_lo", "diff_hi"]
    cols += ["q", "test", "note", "level_p"]  # a column the page does not know: ignored
    return pd.DataFrame([(*r, *[None] * (len(cols) - len(r))) for r in rows], columns=cols)


TABLE3 = _long(
    [
        ("table3", "n", "", "total", "n", 317),
        ("table3", "n", "", "mn", "n", 178),
        ("table3", "n", "", "isw", "n", 139),
        ("table3", "svc_financial", "yes", "mn", "pct", 60.11236),
        ("table3", "svc_financial", "yes", "isw", "pct", 89.208633, 29.096274, 19.781, 37.519),
        ("table3", "svc_financial", "", "all", "p", 2.9e-09, None, None, None, 1.17e-07, "fisher"),
        ("table3", "pt_comm_video", "always_mostly", "mn", "pct", 1.1),
        ("table3", "pt_comm_video", "always_mostly", "isw", "pct", 0.0, -1.12, -4.0, 1.6),
        ("table3", "pt_comm_video", "", "all", "p", 0.17, None, None, None, 0.24, "fisher"),
        ("table3", "svc_spiritual", "yes", "mn", "pct", 30.337079),
        ("table3", "svc_spiritual", "yes", "isw", "pct", 56.115108, 25.778, 14.846, 35.929),
        ("table3", "svc_spiritual", "", "all", "p", 4.27e-06, None, None, None, 0.0499, "fisher"),
    ]
)
TABLE2 = _long(
    [
        ("table2", "n", "", "mn", "n", 178),
        ("table2", "n", "", "isw", "n", 139),
        ("table2", "sw_on_team", "yes", "mn", "pct", 11.8),
        ("table2", "sw_on_team", "yes", "isw", "pct", 100.0, 88.2, 82.0, 92.2),
    ]
)


CONSISTENCY = [
    {
        "section": "pvalue",
        "table": "table3",
        "item": "comm_initiator",
        "level": "care_coordinator+patient+equal",
        "check": "p",
        "test": "fisher",
        "printed": "0.007",
        "reference": "",
        "p_min": "0.095412",
        "p_max": "0.210355",
        "verdict": "inconsistent",
        "explanation": "Fisher's exact test on the whole printed distribution. Fisher's exact p ...",
        "new_column": "ignored",
    },
    {
        "section": "grim",
        "table": "table3",
        "item": "panel_size",
        "level": "",
        "check": "total_sd",
        "printed": "72.8",
        "reference": "73.021-73.123",
        "verdict": "inconsistent",
        "explanation": "Total SD from the group means, SDs and N.",
    },
    {
        "section": "text",
        "check": "Broad Approaches",
        "printed": "80",
        "reference": "82",
        "verdict": "disagree",
        "explanation": '"Overall, 80% felt very or somewhat satisfied" (Broad Approaches): '
        "table 82 vs text 80: differs by +2 (tolerance 0.5). More detail.",
    },
    {"section": "pvalue", "table": "table1", "item": "degree", "verdict": "consistent"},
]


def test_clinics_per_model_items_that_differ_and_the_largest_differences() -> None:
    head = landing.headline({"table2": TABLE2, "table3": TABLE3}, spec=None, count=2)
    assert head["sizes"] == {"mn": 178, "isw": 139}  # the first table with both models
    assert [t["label"] for t in head["tested"]] == [
        "svc_financial",
        "pt_comm_video",
        "svc_spiritual",
    ]
    # Table 2 defines the models (no q): its +88 points are not a result
    assert [r["label"] for r in head["largest"]] == ["svc_financial", "svc_spiritual"]
    first = head["largest"][0]
    assert (first["ref"], first["value"], first["diff"]) == (60.11236, 89.208633, 29.096274)
    assert (first["diff_lo"], first["diff_hi"], first["q"]) == (19.781, 37.519, 1.17e-07)


def test_a_cell_suppressed_in_privacy_mode_is_missing_and_shows_nothing(tmp_path) -> None:
    private = TABLE3.astype({"value": object, "diff": object})
    small = (private["item"] == "pt_comm_video") & (private["group"] == "isw")
    private.loc[small, ["value", "diff"]] = "<11"
    private.to_csv(tmp_path / "table3.csv", index=False)
    long = read_long(tmp_path / "table3.csv")
    assert long.loc[small.to_numpy(), "value"].isna().all()
    assert group_sizes(long) == {"total": 317, "mn": 178, "isw": 139}
    largest = landing.headline({"table3": long}, spec=None, count=5)["largest"]
    assert "pt_comm_video" not in {r["label"] for r in largest}


def test_each_inconsistent_row_gets_a_one_line_reason_and_an_anchor(tmp_path) -> None:
    path = tmp_path / "replication_consistency.csv"
    pd.DataFrame(CONSISTENCY).to_csv(path, index=False)
    found = landing.findings(path)
    assert [f["anchor"] for f in found] == ["finding-1", "finding-2", "finding-3"]
    p, sd, text = found
    assert (p["where"], p["what"]) == ("Table 3", "comm_initiator")  # a whole distribution
    assert (
        p["reason"]
        == "printed P = 0.007; the printed percentages allow P = 0.095–0.21 (Fisher's exact test)"
    )
    assert sd["reason"] == "printed 72.8; the other printed numbers imply 73.021-73.123"
    assert (text["where"], text["what"]) == (
        "Broad Approaches",
        "Overall, 80% felt very or somewhat satisfied",
    )
    assert text["reason"] == "table 82 vs text 80: differs by +2 (tolerance 0.5)."
    assert text["verdict"] == "disagree" and text["explanation"].endswith("More detail.")


# ---- the landing page and the snapshot -----------------------------------------------------------


def _outputs(root: Path, params: dict | None = None) -> Path:
    """A run's outputs: a long table and its rendering, the replication files, a figure, an
    executed notebook and its pages."""
    tables, figures = root / "tables", root / "figures"
    tables.mkdir(parents=True)
    figures.mkdir()
    TABLE3.to_csv(tables / "table3.csv", index=False)
    synthetic = (params or PARAMS)["data_mode"] == "synthetic"
    (tables / "table3.html").write_text(TABLE_HTML if synthetic else TABLE_HTML.replace(LABEL, ""))
    (tables / "table3.docx").write_bytes(b"docx")
    (tables / "table3.tex").write_text("\\begin{table}")
    pd.DataFrame(CONSISTENCY).to_csv(tables / "replication_consistency.csv", index=False)
    (tables / "replication_summary.csv").write_text(
        "table,cells,compared,equal,different,missing,pct_equal\n"
        "table3,184,184,181,3,0,98.4\nall,184,184,181,3,0,98.4\n"
    )
    _png(figures / "services_by_model.png", title="Services provided by care model (Table 3)")
    _png(figures / "flow.png", title="Figure 1. Participant flow")
    (figures / "flow.pdf").write_bytes(b"%PDF-1.4")
    nb = _executed(root / "reports" / "03_tables.ipynb", params, image="../figures/flow.png")
    (root / "notebooks").mkdir()
    (root / "notebooks" / "03_tables.ipynb").write_text("{}")
    return nb


def test_the_landing_page_reads_like_a_supplement_in_order(tmp_path) -> None:
    _outputs(tmp_path)
    index = build([tmp_path / "reports" / "03_tables.ipynb"], tmp_path)
    page = index.read_text()
    assert index == tmp_path / "reports" / "index.html"
    order = [
        "<h1>Care Coordination",
        'class="synthetic-banner"',
        "A survey of 317 Minnesota primary care clinics",
        'id="reproduces"',
        "A match by construction",
        'id="paper"',
        "True whatever the data",
        'id="beyond"',
        "Not the study's findings",
        'id="tables"',
        'id="figures"',
        'id="notebooks"',
        'id="downloads"',
        'id="cite"',
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    # headline: clinics per model, items after q, largest differences with CIs
    assert "<b>139</b><span>clinics with the integrated social worker model" in page
    assert "<b>2 of 3</b>" in page
    assert "<td>60</td><td>89</td><td>+29.1</td><td>+19.8 to +37.5</td><td>&lt;0.001</td>" in page
    # replication: cells per table, each finding with its reason linked to its explanation
    assert '<a href="#view-table3">Table 3</a></th><td>184</td><td>181</td><td>3</td>' in page
    assert '<a href="#finding-1">printed P = 0.007;' in page and 'id="finding-1"' in page
    assert 'id="finding-3"' in page and "Broad Approaches" in page
    # every table inline with title and footnotes, every figure with its caption, Figure 1 first
    assert "Table 3. Activities by Care Model</caption>" in page and page.count(LABEL) == 1
    assert '<tr class="row" id="t3-pt_comm_phone"><th scope="row">Telephone</th>' in page
    assert "are percentages.</li>" in page
    assert page.index("<b>Figure 1. Participant flow.</b>") < page.index("<b>Figure 2. Services")
    # the codebook, the synthetic data, the citation (version and licence from the metadata)
    assert 'href="codebook.html"' in page and "version 0.1.0" in page and "<dd>MIT (" in page
    assert '<a href="../figures/flow.pdf">PDF</a>' in page
    # the notebooks, one line each, both editions; the downloads
    assert '<a href="03_tables.html">reader' in page and '<a href="03_tables.code.html">' in page
    assert "The paper&#39;s tables from the data." in page
    for href in ("../tables/table3.csv", "../tables/table3.docx", "../tables/table3.tex"):
        assert f'href="{href}"' in page
    assert 'href="../tables/replication_summary.csv"' in page
    assert str(tmp_path) not in page


def test_landing_page_on_a_real_export_has_no_synthetic_label(tmp_path) -> None:
    _outputs(tmp_path, {**PARAMS, "data_mode": "redcap", "privacy": True})
    page = build([tmp_path / "reports" / "03_tables.ipynb"], tmp_path).read_text()
    assert "SYNTHETIC" not in page and 'class="synthetic-banner"' not in page
    assert "Evidence from the study" in page and "A match by construction" not in page
    assert "Not the study" not in page  # the synthesizer's caveat is for synthetic data only
    assert "Table 3. Activities by Care Model" in page


def test_the_landing_page_is_rebuilt_even_when_its_bytes_do_not_change(tmp_path) -> None:
    _outputs(tmp_path)
    index = build([tmp_path / "reports" / "03_tables.ipynb"], tmp_path)
    os.utime(index, (1_000_000, 1_000_000))
    assert build([tmp_path / "reports" / "03_tables.ipynb"], tmp_path).stat().st_mtime > 1_000_000


def test_snapshot_holds_both_editions_tables_and_figure_pdfs_and_nothing_else(tmp_path) -> None:
    _outputs(tmp_path)
    build([tmp_path / "reports" / "03_tables.ipynb"], tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ARCHITECTURE.md").write_text("# map\n")  # not the snapshot's: left alone
    (docs / "99_gone.html").write_text("stale")  # the snapshot's, not produced any more
    changed = write_docs(tmp_path)
    assert "index.html: missing" in changed and "99_gone.html: not produced any more" in changed
    names = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file())
    assert names == [
        "03_tables.code.html",
        "03_tables.html",
        "ARCHITECTURE.md",
        "codebook.html",
        "figures/flow.pdf",
        "index.html",
        "tables/replication_consistency.csv",
        "tables/replication_summary.csv",
        "tables/table3.csv",
        "tables/table3.docx",
        "tables/table3.html",
        "tables/table3.tex",
    ]
    reader = (tmp_path / "reports" / "03_tables.html").read_bytes()
    assert b'href="../reports/index.html#view-table3"' in reader  # the table's link back
    assert (docs / "03_tables.html").read_bytes() == reader.replace(
        b"../reports/index.html", b"index.html"
    )
    index = (docs / "index.html").read_text()
    assert 'href="tables/table3.csv"' in index and 'href="figures/flow.pdf"' in index
    assert 'href="03_tables.code.html#Every-table,-and-the-family-of-tests"' in index  # built
    assert ">PNG</a>" not in index
    assert differences(tmp_path) == []
    (docs / "tables" / "table3.csv").write_text("edited")
    (docs / "figures" / "flow.pdf").unlink()
    assert differences(tmp_path) == ["figures/flow.pdf: missing", "tables/table3.csv: differs"]


def test_a_run_on_a_real_export_never_writes_the_snapshot(tmp_path) -> None:
    _outputs(tmp_path, {**PARAMS, "data_mode": "redcap", "privacy": True})
    build([tmp_path / "reports" / "03_tables.ipynb"], tmp_path)
    with pytest.raises(SystemExit, match="synthetic stand-in"):
        write_docs(tmp_path)
    assert not (tmp_path / "docs").exists()


# ---- the committed snapshot ------------------------------------------------------------------------

DOCS = ROOT / "docs"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\b\d+(\.\d+)? ?(s|ms|seconds)\b")


def test_the_committed_snapshot_names_no_time_duration_or_absolute_path() -> None:
    pages = sorted(DOCS.glob("*.html"))
    names = [p.name for p in pages]
    assert {"00_synthesize.html", "00_synthesize.code.html", "index.html"} <= set(names)
    for page in pages:
        text = page.read_text()
        assert not STAMP.search(re.sub(r"data:image/png;base64,[^\"]+", "", text)), page.name
        assert not re.search(r"(/home/|/work/|/tmp/|/root/|/Users/|[A-Z]:\\\\)", text), page.name
        assert "<script" not in text and 'src="http' not in text, page.name


def test_the_committed_snapshot_links_only_files_it_holds() -> None:
    index = (DOCS / "index.html").read_text()
    for href in re.findall(r'href="([^"#][^"]*)"', index):
        path, _, anchor = href.partition("#")  # a section of another page: its heading's id
        assert (DOCS / path).is_file(), href
        assert not anchor or f'id="{anchor}"' in (DOCS / path).read_text(), href
    for anchor in re.findall(r'href="#([^"]+)"', index):
        assert f'id="{anchor}"' in index, anchor
    assert not list((DOCS / "figures").glob("*.png"))  # the pages embed them; the files are PDFs


def test_table_shows_an_empty_frame_as_a_line_not_an_empty_grid() -> None:
    empty = table(pd.DataFrame({"item": [], "p": []}))
    assert empty._repr_html_() == '<p class="muted">(no rows)</p>' and repr(empty) == "(no rows)"


def test_each_reproduced_cell_is_marked_against_the_printed_value() -> None:
    """✓ where every number of the cell is as printed, ≠ (linked to its row of the replication
    report) where one is not; the printed and reproduced numbers join the counts on hover."""
    grid = Grid(
        "table3",
        "Table 3",
        ["Characteristic", "Total", "P"],
        [GridRow("row", "Telephone", 0, ["89", "0.008a"], "t3-pt_comm_phone", ["8/9", ""])],
        [],
        False,
        ["", "total", "p"],
    )
    checked = pd.DataFrame(
        {
            "table": ["table3", "table3"],
            "item": ["pt_comm_phone", "pt_comm_phone"],
            "level": ["always_mostly", ""],
            "group": ["total", "all"],
            "measure": ["pct", "p"],
            "published": ["89", "0.007"],
            "reproduced": ["88.88888", "0.0081234"],
            "verdict": ["equal", "different"],
        }
    )
    html = landing._marked(render.html(grid), "table3", checked, "06_replication.html")
    assert '<td title="8/9; pct: printed 89, here 88.89">89<span class="ok">✓</span></td>' in html
    assert 'title="p: printed 0.007, here 0.008123">0.008<sup>a</sup>' in html
    assert '<a class="ne" href="06_replication.html#r-t3-pt_comm_phone-all-p">≠</a>' in html


# ---- one number per fact: what the committed pages print against the files they come from ------


def _soup(name: str):
    from bs4 import BeautifulSoup  # nbconvert's own dependency

    return BeautifulSoup((DOCS / name).read_text(encoding="utf-8"), "html.parser")


def _texts(row) -> list[str]:
    return [c.get_text(" ", strip=True) for c in row.find_all(["th", "td"])]


@pytest.fixture(scope="module")
def source() -> dict[str, pd.DataFrame]:
    """The files the committed pages print from: docs/tables/ (the snapshot's own copies)."""
    files = {p.stem: read_long(p) for p in sorted((DOCS / "tables").glob("table?.csv"))}
    for name in ("replication", "replication_consistency"):
        files[name] = pd.read_csv(DOCS / "tables" / f"{name}.csv", keep_default_na=False, dtype=str)
    return files


def _cell(long: pd.DataFrame, item: str, level: str, group: str, measure: str) -> pd.Series:
    sel = long[(long["item"] == item) & (long["group"] == group) & (long["measure"] == measure)]
    return sel[sel["level"] == level].iloc[0] if level else sel.iloc[0]


def test_the_landing_page_prints_the_numbers_of_its_files(source) -> None:
    """The clinics per model, the count of items that differ (q < 0.05), the largest differences
    and every checked cell of Tables 1-4, each as its file holds it at the printed precision."""
    from ccanalysis.printing import format_p, round_half_up, signed
    from ccanalysis.vocab import CLINIC_COMPARISON

    page = _soup("index.html")
    tables = {k: v for k, v in source.items() if k.startswith("table")}
    stats = [s.get_text(" ", strip=True) for s in page.select("#beyond .stat")]
    sizes = group_sizes(tables["table3"])
    new, ref = CLINIC_COMPARISON
    assert stats[0].startswith(f"{sizes[new]} clinics") and stats[1].startswith(f"{sizes[ref]} ")
    tested = pd.concat([t[(t["measure"] == "p") & t["q"].notna()] for t in tables.values()])
    assert stats[2].startswith(f"{(tested['q'] < 0.05).sum()} of {len(tested)} tested items")
    rows = page.select("#beyond table tbody tr")
    assert len(rows) == 8
    for row in rows:
        table, item, *level = row.th.a["href"].removeprefix("#t").split("-")
        long, level = tables[f"table{table}"], level[0] if level else ""
        cells = _texts(row)[1:]
        at = _cell(long, item, level, new, "pct")
        p = _cell(long, item, "", "all", "p")
        assert cells == [
            table,
            round_half_up(_cell(long, item, level, ref, "pct")["value"], 0),
            round_half_up(at["value"], 0),
            signed(at["diff"]),
            f"{signed(at['diff_lo'])} to {signed(at['diff_hi'])}",
            format_p(p["q"]),
        ], item
    checked = source["replication"].set_index(["table", "item", "level", "group", "measure"])
    marked = page.select("article td[title]")
    assert len(marked) > 300
    for td in marked:
        table = td.find_parent("article")["id"].removeprefix("view-")
        for measure, printed, here in re.findall(
            r"(\w+): printed ([^,]+), here ([^;]+)", td["title"]
        ):
            rows = checked.loc[table].xs(measure, level="measure")
            rows = rows[rows["published"] == printed]
            assert here in {significant(float(x), 4) for x in rows["reproduced"]}, td["title"]
        ok = td.select_one(".ok") is not None
        assert ok != (td.select_one(".ne") is not None)


def test_the_paper_s_p_ranges_are_one_computation_on_every_page(source) -> None:
    """The range of P the printed percentages allow comes from the replication's check alone: the
    landing page prints it (two significant digits), 06 (four), and 00 prints none of its own."""
    from ccanalysis.replication.rows import fmt_range

    checks = source["replication_consistency"]
    flagged = checks[checks["verdict"].isin(landing.INCONSISTENT)]
    items = _soup("index.html").select("ol.findings li")
    assert len(items) == len(flagged)
    for li, (_, row) in zip(items, flagged.iterrows(), strict=True):
        if row["check"] == "p" and row["p_min"]:
            lo, hi = (significant(float(row[k]), 2) for k in ("p_min", "p_max"))
            assert f"allow P = {lo if lo == hi else f'{lo}–{hi}'} " in li.get_text(), li
    report = _soup("06_replication.html").get_text(" ")
    for _, row in flagged[flagged["p_min"] != ""].iterrows():
        shown = fmt_range(float(row["p_min"]), float(row["p_max"]))
        assert f"Fisher's exact p {shown}" in report, row["item"]
    synthesize = _soup("00_synthesize.html").get_text(" ")
    assert " lies in " not in synthesize and "Fisher's exact p" not in synthesize


def test_what_the_stand_in_cannot_meet_is_what_the_replication_finds_different(source) -> None:
    """00's table of the printed numbers the stand-in misses and 06's cells that differ are the
    same cells, with the same numbers (the P as the tables print it; a total to one decimal),
    and each ≠ of the landing page links to its row of 06."""
    from ccanalysis.printing import format_p, round_half_up
    from ccanalysis.spec import read_spec

    spec, diff = read_spec(), source["replication"]
    diff = diff[diff["verdict"] != "equal"]
    expected = set()
    for _, r in diff.iterrows():
        row = (f"Table {r['table'][5:]}", landing._label(spec, r["table"], r["item"], r["level"]))
        x = float(r["reproduced"])
        shown = f"P {format_p(x)}" if r["measure"] == "p" else f"Total {round_half_up(x, 1)}%"
        printed = f"{'P' if r['measure'] == 'p' else 'Total'} {r['published']}"
        expected.add((*row, printed + ("%" if r["measure"] == "pct" else ""), shown))
    page = _soup("00_synthesize.html")
    unmet = next(t for t in page.find_all("table") if "Stand-in" in t.get_text())
    shown = {tuple(_texts(tr)[:4]) for tr in unmet.tbody.find_all("tr")}
    assert shown == expected
    report = _soup("06_replication.html")
    ids = {tr["id"] for tr in report.select("tr[id^=r-]")}
    links = {a["href"].split("#")[1] for a in _soup("index.html").select("a.ne")}
    assert links == ids and len(ids) == len(diff)
    for tr in report.select("tr[id^=r-]"):
        t, item, level, group, measure, published, reproduced = _texts(tr)[:7]
        at = (diff["table"] == t) & (diff["item"] == item) & (diff["level"] == level)
        r = diff[at & (diff["group"] == group) & (diff["measure"] == measure)].iloc[0]
        assert published == r["published"] and reproduced == significant(float(r["reproduced"]))


def test_a_definition_row_has_its_anchor_and_names_its_changed_rows_by_their_labels() -> None:
    """``d-{definition}`` on each summary row (the page has no per-row content), the changed rows
    by their labels, each linked to its table row (its level only where the item has several)."""
    from ccanalysis.sensitivity.definitions import summary_table
    from ccanalysis.sensitivity.output import html_table

    summary = pd.DataFrame(
        {
            "definition": ["sw_on_team"],
            "label": ["A social worker on the team"],
            **dict.fromkeys(["integrated_sw", "medical_nursing", "unclassified", "changed"], [1]),
            **dict.fromkeys(["rows_differ", "rows_changed"], [2]),
            "changed_rows": ["T3 panel_judgement=too_few; T4 support_space=yes"],
        }
    )
    labels = {
        ("table3", "panel_judgement", "too_few"): "Patient panel seems: too few",
        ("table3", "panel_judgement", "too_many"): "Patient panel seems: too many",
        ("table4", "support_space", "yes"): "Clinic supports for CC: Dedicated space",
    }
    shown = summary_table(summary, labels)
    assert shown["Those rows"].iloc[0] == (
        "Table 3: Patient panel seems: too few; Table 4: Clinic supports for CC: Dedicated space"
    )
    page = html_table(shown)
    assert '<tr id="d-sw_on_team"><th scope="row" class="key">sw_on_team</th>' in page
    assert f'<a href="{render.BACK}#t3-panel_judgement-too_few">Table 3: Patient' in page
    assert f'<a href="{render.BACK}#t4-support_space">Table 4: Clinic' in page
    assert "_id" not in repr(table(shown)) and "Those rows" in repr(table(shown))


def test_a_bootstrap_p_below_its_bound_prints_as_every_small_p() -> None:
    """One p format: a bootstrap p below 1/B is ``<0.001`` for B of 10,000 (not ``<0.0001``); a
    larger bound is printed as it is (``<0.005``), never rounded down into a claim it cannot make."""
    from ccanalysis.sensitivity.output import P_BOUND, _p_text

    assert _p_text({"p": 1e-4, P_BOUND: True, "replicates": 10_000}) == "<0.001"
    assert _p_text({"p": 0.005, P_BOUND: True, "replicates": 200}) == "<0.005"
    assert _p_text({"p": 0.0123, P_BOUND: False, "replicates": 200}) == "0.012"


def test_a_frame_s_anchor_column_gives_its_rows_ids() -> None:
    """``_id`` is not shown: it becomes each row's ``id``, for a link to the row (06's cells)."""
    shown = table(pd.DataFrame({"item": ["a", "b"], "p": [0.5, 0.01], "_id": ["r-a", "r-b"]}))
    html = shown._repr_html_()
    assert html.count('<tr id="r-') == 2 and '<tr id="r-b">' in html and "_id" not in html
