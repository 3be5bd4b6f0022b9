"""The Results in words (ccanalysis.results): every number a link to a cell of equal value, the
wording following the numbers, privacy, the three editions, the template's errors, the claims.

The fixture is the committed snapshot's tables (docs/tables: what the code produced for the
synthetic run); the checks resolve each link through the tables' CSVs by its anchor id and cell,
independent of how the landing page renders the rows.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

import docx
import pandas as pd
import pytest

from ccanalysis import results
from ccanalysis.paths import project_root
from ccanalysis.printing import printed_holds
from ccanalysis.replication import beside_results, load_text_claims
from ccanalysis.tables.read import read_long
from ccanalysis.tables.render import long_csv

ROOT = project_root()
SNAPSHOT = ROOT / "docs" / "tables"
LINK = re.compile(
    r'<a href="(?:[\w./]+\.html)#([^"]+)" title="[^"]*" data-cell="([^"]*)">([^<]*)</a>', re.S
)
HREF = re.compile(r'<a href="([\w./]+\.html)#([^"]+)" title="[^"]*" data-cell=')


@pytest.fixture(scope="module")
def context() -> results.Context:
    return results.read_context(SNAPSHOT, synthetic=True)


@functools.lru_cache
def _csv(path: Path) -> pd.DataFrame:
    if path.name.startswith("table"):
        return read_long(path)
    return pd.read_csv(path, dtype={"item": str, "level": str}).fillna({"item": "", "level": ""})


def cell_value(tables: Path, anchor: str, key: list[str]) -> float:
    """The value of the cell a link names, read from the CSVs, after checking that its anchor is
    the cell's row (``t3-item[-level]``, ``s-item[-level]``, ``d-definition``)."""
    kind, _, rest = anchor.partition("-")
    if kind == "d":
        defs = _csv(tables / "definitions.csv").set_index("definition")
        assert key[:2] == ["definitions", rest]
        return float(defs.loc[rest, key[2]])
    if kind == "s":
        source, analysis, item, level, measure = key
        assert source == "sensitivity"
        s = _csv(tables / "sensitivity.csv")
        one = s.loc[s["item"] == item, "level"].nunique() == 1  # one row: anchored by the item
        assert rest == "-".join(p for p in (item, "" if one else level) if p), (anchor, key)
        row = s[(s["analysis"] == analysis) & (s["item"] == item) & (s["level"] == level)]
        assert len(row) == 1, key
        return float(row[measure].iloc[0])
    table, item, level, group, measure = key
    long = _csv(tables / f"{table}.csv")
    long = long[long["item"] == item]
    levels = set(long["level"]) - {""}
    assert kind == f"t{table[-1]}"
    assert rest == (f"{item}-{level}" if len(levels) > 1 and level else item), (anchor, key)
    if measure == "q":
        return float(long[long["measure"] == "p"]["q"].iloc[0])
    if measure.startswith("diff"):
        row = long[(long["level"] == level) & (long["group"] == group) & long[measure].notna()]
        return float(row[measure].iloc[0])
    row = long[(long["level"] == level) & (long["group"] == group) & (long["measure"] == measure)]
    assert len(row) == 1, key
    return float(row["value"].iloc[0])


def check_links(page: str, tables: Path) -> int:
    """Follow every link of a Results page: each number equals its cell at print precision."""
    links = LINK.findall(page)
    assert links and page.count('data-cell="') == len(links)
    for anchor, cell, text in links:
        value, text = (
            cell_value(tables, anchor, html.unescape(cell).split("|")),
            html.unescape(text),
        )
        assert printed_holds(text.rstrip("%"), value), f"{anchor} {cell}: {text} vs {value}"
    return len(links)


def test_every_number_links_to_a_cell_of_equal_value(context) -> None:
    page = results.html_page(results.render(context, "html"), True)
    assert check_links(page, SNAPSHOT) > 100
    numbers = re.findall(r"\d+\.?\d*%?", re.sub(r"<[^>]+>", " ", LINK.sub("", page)))
    assert set(numbers) <= {"1", "2", "3", "4", "95%", "0.05"}  # table names, CI level, the rule


@pytest.mark.slow
@pytest.mark.built
def test_the_built_results_link_to_their_cells() -> None:
    """What `make all` wrote: reports/results.html against tables/, the landing page linking it,
    and every link's target row on its page (the landing page's tables, the sensitivity and
    definitions table pages)."""
    page = ROOT / "reports" / "results.html"
    if not page.is_file():
        pytest.fail("reports/results.html is missing: run `make all` first")
    text = page.read_text(encoding="utf-8")
    check_links(text, ROOT / "tables")
    landing = (ROOT / "reports" / "index.html").read_text("utf-8")
    assert 'href="results.html"' in landing
    missing = []
    for target, anchor in set(HREF.findall(text)):
        found = (page.parent / target).read_text("utf-8")
        missing += [] if f'id="{anchor}"' in found else [f"{target}#{anchor}"]
    assert not missing, missing


def flipped(context: results.Context, item: str, q: float) -> results.Context:
    """The context with ``item``'s two compared groups swapped (the difference reversed) and its
    q set to ``q``."""
    cells = context.cells.copy()
    rows = cells["item"] == item
    swap = {"isw": "mn", "mn": "isw"}
    cells.loc[rows, "group"] = cells.loc[rows, "group"].map(lambda g: swap.get(g, g))
    moved = rows & cells["diff"].notna()  # the difference sits on the isw row: move it back
    diffs = cells.loc[moved, ["diff", "diff_lo", "diff_hi"]].to_numpy()
    cells.loc[moved, ["diff", "diff_lo", "diff_hi"]] = float("nan")
    target = rows & (cells["group"] == "isw") & cells["measure"].isin(["pct", "mean"])
    cells.loc[target, ["diff", "diff_lo", "diff_hi"]] = -diffs[:, [0, 2, 1]]
    cells.loc[rows & (cells["measure"] == "p"), "q"] = q
    return results.Context(cells, context.sensitivity, context.definitions, context.spec)


def social_needs(ctx: results.Context) -> str:
    found = [
        s["text"]
        for s in results.sentences(results.render(ctx, "plain"))
        if "assessed and referred for social needs" in s["text"]
    ]
    return found[0]


def test_the_wording_flips_when_the_difference_does(context) -> None:
    before = social_needs(context)
    after = social_needs(flipped(context, "svc_social_needs", 1e-4))
    assert "assessed and referred for social needs more often" in before
    assert "assessed and referred for social needs less often" in after
    pct = context.cells.query("item == 'svc_social_needs' and measure == 'pct'")
    isw, mn = (pct.loc[pct["group"] == g, "value"].iloc[0] for g in ("isw", "mn"))
    assert f"{round(mn)}% of integrated social worker clinics vs {round(isw)}%" in after
    assert after.count("-") >= 1  # the difference is negative
    unclear = social_needs(flipped(context, "svc_social_needs", 0.2))
    assert "did not differ detectably" in unclear and "more often" not in unclear


def test_the_ranking_is_computed(context) -> None:
    top = context.largest(context.namespace()["t3"])
    diffs = [abs(r.diff.value) for r in top]
    assert diffs == sorted(diffs, reverse=True) and all(r.differs for r in top)
    assert len({(r.item, r.level) for r in top}) == 3


def test_privacy_mode_writes_a_small_finding_without_its_number(context, tmp_path) -> None:
    cells = context.cells.copy()
    mn_n = (cells["item"] == "svc_social_needs") & (cells["group"] == "mn")
    cells.loc[mn_n & (cells["measure"] == "n"), "value"] = 7  # a small count
    private = results.Context(cells, context.sensitivity, context.definitions, context.spec, 11)
    text = social_needs(private)
    assert "withheld" in text and "71%" not in text and "21.5" not in text
    template = tmp_path / "one.md"
    template.write_text("{{ t3.svc_social_needs.mn.pct }} of {{ t3.svc_social_needs.isw.pct }}\n")
    assert results.render(private, "plain", template).count(results.WITHHELD) == 1
    assert "q <0.001" in text  # a p or q stays: it reveals no count
    # the same cell as the tables stage writes it in privacy mode ("<11": missing)
    cells.loc[mn_n & cells["measure"].isin(["n", "pct"]), "value"] = float("nan")
    private = results.Context(cells, context.sensitivity, context.definitions, context.spec, 11)
    assert "withheld" in social_needs(private)
    # a small ISW count as the tables stage writes it (render.long_csv blanks its share and
    # difference): the sentence still stands, without the numbers
    cells = context.cells.copy()
    isw_n = (cells["item"] == "svc_social_needs") & (cells["group"] == "isw")
    cells.loc[isw_n & (cells["measure"] == "n"), "value"] = 7
    cells["note"] = cells["note"].astype(object)  # as the tables stage holds it: text
    (tmp_path / "t.csv").write_text(long_csv(cells, suppress_below=11))
    blanked = read_long(tmp_path / "t.csv")
    private = results.Context(blanked, context.sensitivity, context.definitions, context.spec, 11)
    text = social_needs(private)
    assert "The care models differed in how often clinics assessed and referred" in text
    assert "withheld" in text and "93%" not in text and "21.5" not in text
    public = results.Context(cells.fillna({"value": 1.0}), context.sensitivity, context.definitions)
    assert results.WITHHELD not in results.render(public, "plain")  # synthetic: nothing withheld


def test_three_editions_with_the_same_numbers(context, tmp_path) -> None:
    """The docx opens with python-docx and states the numbers the HTML states, in its order."""
    md, page, word = results.write(context, tmp_path)
    text = page.read_text(encoding="utf-8")
    linked = [html.unescape(t) for _, _, t in LINK.findall(text)]
    body = html.unescape(re.sub(r"<[^>]+>", " ", text.split("</nav>", 1)[1]))
    paragraphs = [p.text for p in docx.Document(str(word)).paragraphs]
    assert paragraphs[0] == results.vocab.SYNTHETIC_LABEL
    number = re.compile(r"<?-?\d+(?:\.\d+)?%?")
    assert number.findall(" ".join(paragraphs)) == number.findall(body)
    assert len(linked) > 100 and set(linked) <= set(number.findall(body))
    md_numbers = re.findall(r"\[([^\]]+)\]\([\w./]+\.html#", md.read_text(encoding="utf-8"))
    assert md_numbers == linked


def test_a_misspelled_reference_stops_naming_the_line(context, tmp_path) -> None:
    template = tmp_path / "results.md"
    template.write_text("# Results\n\nFine: {{ t3.svc_social_needs.isw.pct }}.\n"
                        "Bad: {{ t3.svc_social_neds.isw.pct }}.\n")  # fmt: skip
    with pytest.raises(results.ResultsError, match=r"line 4: .*svc_social_neds"):
        results.render(context, "md", template)
    template.write_text("{{ t3.svc_social_needs.iws.pct }}\n")
    with pytest.raises(results.ResultsError, match=r"line 1: .*has no 'iws'"):
        results.render(context, "md", template)
    template.write_text("{% if t3.panel_judgement.isw.pct %}x{% endif %}\n")
    with pytest.raises(results.ResultsError, match=r"line 1: .*name one"):
        results.render(context, "md", template)


def test_each_claim_beside_the_sentence_stating_it(context) -> None:
    claims = load_text_claims(ROOT / "data" / "published")
    stated = beside_results(claims, results.sentences(results.render(context, "plain"))).set_index(
        "id"
    )
    assert len(stated) == 68
    assert "4.8 years (SD 4.4)" in stated.loc["coordinators_years_mean", "sentence"]
    # a claim on a difference is stated by the sentence giving the difference
    assert "less often" in stated.loc["abstract_isw_less_onsite", "sentence"]
    # a study fact outside the tables: no sentence states it
    assert stated.loc["care_systems_sum", "sentence"] == ""
