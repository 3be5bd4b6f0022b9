"""The committed snapshot in a real browser: headless Chromium loads the landing page and every
page of docs/, as a reviewer would open them, and finds no broken image or link and no console
error. A screenshot of the landing page is kept in reports/browser/ for the note.

One Chromium process serves the whole module. Where Chromium is missing these tests skip with the
reason; .ci/run installs it and sets CCANALYSIS_REQUIRE_BROWSER=1, under which a missing browser
fails instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from fixtures.chromium import Chromium, find_chromium
from PIL import Image

from ccanalysis.vocab import SYNTHETIC_LABEL

#: A real browser: run by `make test`, left out of the quick loop `make unit`.
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCREENSHOT = ROOT / "reports" / "browser" / "index.png"
PAGES = sorted(DOCS.glob("*.html"))
ID = re.compile(r'id="([^"]+)"')


def _browser_or_skip() -> str:
    exe = find_chromium()
    reason = ""
    if exe is None:
        reason = (
            "Chromium not found (Debian: apt-get install chromium; .ci/run installs it as root)"
        )
    else:
        try:
            import websocket  # noqa: F401
        except ImportError:
            reason = "websocket-client missing (pip install -e '.[dev]')"
    if reason:
        if os.environ.get("CCANALYSIS_REQUIRE_BROWSER"):
            pytest.fail(reason + "; CCANALYSIS_REQUIRE_BROWSER is set")
        pytest.skip(reason)
    return exe  # type: ignore[return-value]


@pytest.fixture(scope="module")
def visits(tmp_path_factory) -> dict[str, object]:
    """Every page of docs/ as the browser loaded it (landing page first), and the screenshot."""
    browser = Chromium(_browser_or_skip(), tmp_path_factory.mktemp("chromium"))
    try:
        found = {"index.html": browser.visit((DOCS / "index.html").as_uri())}
        browser.screenshot(SCREENSHOT)
        for page in PAGES:
            if page.name != "index.html":
                found[page.name] = browser.visit(page.as_uri())
    finally:
        browser.close()
    return found


def test_every_page_of_the_snapshot_is_loaded(visits) -> None:
    assert set(visits) == {p.name for p in PAGES}
    assert len(visits) >= 8  # the landing page and the seven notebooks
    assert visits["index.html"].title.startswith("Care coordination")


def test_no_console_error_or_failed_load(visits) -> None:
    errors = {name: v.errors for name, v in visits.items() if v.errors}
    assert errors == {}


def test_no_broken_image(visits) -> None:
    assert {name: v.broken_images for name, v in visits.items() if v.broken_images} == {}
    assert visits["index.html"].images >= 5  # every figure, inline
    assert visits["05_figures.html"].images == 0  # each figure embedded once: 05 links to it
    assert sum("index.html#figure-" in h for h in visits["05_figures.html"].links) == 6


def test_no_broken_link(visits) -> None:
    ids = {name: set(v.ids) for name, v in visits.items()}
    broken = []
    for name, visit in visits.items():
        for href in visit.links:
            url = urlsplit(href)
            if url.scheme in ("http", "https", "mailto"):
                broken.append(f"{name}: {href} (the snapshot links nothing outside itself)")
                continue
            target = Path(unquote(url.path))
            if not target.is_file():
                broken.append(f"{name}: {href} (no such file)")
            elif url.fragment and target.suffix == ".html":
                # a page the browser did not visit (a table's own page): the ids its HTML holds
                found = (
                    ids[target.name]
                    if target.parent == DOCS
                    else set(ID.findall(target.read_text("utf-8")))
                )
                # as browsers do: the fragment as written, then percent-decoded
                if not {url.fragment, unquote(url.fragment)} & found:
                    broken.append(f"{name}: {href} (no such anchor)")
    assert broken == []
    assert len(visits["index.html"].links) > 50


def test_a_reviewer_sees_the_title_the_label_and_the_study_first(visits) -> None:
    first = visits["index.html"].first_screen
    assert "Care Coordination: How Is It Implemented" in first
    assert SYNTHETIC_LABEL in first
    assert "A survey of 317 Minnesota primary care clinics" in first
    assert "A match by construction" in first  # what the synthetic run proves, first


def test_the_landing_page_screenshot_is_kept(visits) -> None:
    with Image.open(SCREENSHOT) as shot:
        assert shot.size == (1280, 900)
        colours = shot.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # a rendered page, not a blank one


def test_the_checks_see_what_they_look_for(tmp_path) -> None:
    """A page with a missing image, a dead link and a script error: each is reported."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><html><head><title>bad</title></head><body id="top">'
        '<img src="missing.png"><a href="nowhere.html">x</a><a href="#top">top</a>'
        "<script>console.error('boom'); undefinedFunction();</script></body></html>"
    )
    browser = Chromium(_browser_or_skip(), tmp_path / "chromium")
    try:
        visit = browser.visit(page.as_uri())
    finally:
        browser.close()
    assert len(visit.broken_images) == 1 and visit.broken_images[0].endswith("missing.png")
    assert any("console.error: boom" in e for e in visit.errors)
    assert any("undefinedFunction" in e for e in visit.errors)
    assert any(e.startswith("log:") and "missing.png" in e for e in visit.errors)
    assert [Path(urlsplit(h).path).name for h in visit.links] == ["nowhere.html", "bad.html"]
    assert "top" in visit.ids


# ---- phones, print, traceability: over a snapshot built from this run's outputs ----------------

#: What a page must satisfy on a phone and in print, measured in the page (returns a dict).
_LAYOUT = """(() => {
  const doc = document.documentElement, width = doc.clientWidth;
  const cells = [...document.querySelectorAll("main table td, main table th")];
  const hidden = cells.filter(c => c.textContent.trim() && c.getClientRects().length === 0);
  const outside = cells.filter(c => {
    const r = c.getBoundingClientRect();
    return c.textContent.trim() && r.width > 0 && (r.left < -1 || r.right > width + 1);
  });
  const label = document.querySelector(".table-wrap th[scope=row]");
  const texts = cells.map(c => c.innerText.trim()).filter(t => t);
  return {scroll: doc.scrollWidth, width: width, cells: cells.length, texts: texts,
          hidden: hidden.slice(0, 5).map(c => c.textContent.trim()), hiddenCount: hidden.length,
          outside: outside.slice(0, 5).map(c => c.textContent.trim()), outsideCount: outside.length,
          sticky: label ? getComputedStyle(label).position : ""};
})()"""


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    """The snapshot this code makes of the run's outputs (``make all``), in a temporary folder: the
    pages as the next ``make docs`` writes them, whatever docs/ holds now."""
    from ccanalysis.report.__main__ import contents

    out = tmp_path_factory.mktemp("snapshot")
    for rel, data in contents(ROOT).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    return out


def _evaluate(browser: Chromium, expression: str) -> object:
    return browser.call(
        "Runtime.evaluate", session=browser.session, expression=expression, returnByValue=True
    )["result"]["value"]


@pytest.mark.built  # the snapshot of this run's outputs
def test_no_page_scrolls_sideways_on_a_phone_and_tables_scroll_in_their_box(
    snapshot, tmp_path
) -> None:
    browser = Chromium(_browser_or_skip(), tmp_path / "chromium")
    try:
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            session=browser.session,
            width=390,
            height=844,
            deviceScaleFactor=1,
            mobile=True,
        )
        wide, sticky = {}, {}
        for page in sorted(snapshot.glob("*.html")):
            browser.visit(page.as_uri())
            layout = _evaluate(browser, _LAYOUT)
            if layout["scroll"] > 390:
                wide[page.name] = layout["scroll"]
            sticky[page.name] = layout["sticky"]
        browser.visit((snapshot / "index.html").as_uri())
        browser.screenshot(SCREENSHOT.with_name("index-390.png"))
    finally:
        browser.close()
    assert wide == {}
    assert sticky["index.html"] == "sticky"  # the label column stays while the numbers scroll


@pytest.mark.built  # the snapshot of this run's outputs
def test_print_opens_everything_and_clips_no_table_cell(snapshot, tmp_path) -> None:
    """In print (A4 width, print media), every table cell's text is laid out on the page: the
    collapsed details open, the wide tables wrap; the PDF Chromium prints (``printToPDF``, as
    ``--print-to-pdf``) has pages and holds the text of every table cell."""
    browser = Chromium(_browser_or_skip(), tmp_path / "chromium", width=794, height=1123)
    try:
        browser.visit((snapshot / "index.html").as_uri())
        browser.call("Emulation.setEmulatedMedia", session=browser.session, media="print")
        layout = _evaluate(browser, _LAYOUT)
        pdf = browser.call("Page.printToPDF", session=browser.session, paperWidth=8.27)
    finally:
        browser.close()
    assert layout["cells"] > 1000
    assert layout["hiddenCount"] == 0, layout["hidden"]
    assert layout["outsideCount"] == 0, layout["outside"]
    import base64

    pages = base64.b64decode(pdf["data"]).count(b"/Type /Page\n") or None
    assert pdf["data"] and (pages is None or pages > 1)
    # what the PDF holds: every table cell's text (poppler's pdftotext; words compared without
    # the spaces and line breaks a wrapped cell gets)
    printed = _pdf_text(base64.b64decode(pdf["data"]), tmp_path)
    lines = [s for c in layout["texts"] for s in c.splitlines() if s.strip()]  # a list's items
    missing = [s for s in lines if re.sub(r"\s+", "", s) not in printed]
    assert len(layout["texts"]) > 1000 and missing == []


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The text of a PDF without whitespace (``pdftotext``, Debian's poppler-utils: .ci/run installs
    it; skipped with the reason where missing, failed under CCANALYSIS_REQUIRE_BROWSER)."""
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        reason = "pdftotext not found (Debian: apt-get install poppler-utils)"
        if os.environ.get("CCANALYSIS_REQUIRE_BROWSER"):
            pytest.fail(reason + "; CCANALYSIS_REQUIRE_BROWSER is set")
        pytest.skip(reason)
    (tmp_path / "index.pdf").write_bytes(pdf)
    out = subprocess.run(
        # -raw: in the order Chromium draws the text, a wrapped cell's lines together (the default
        # layout mode interleaves the lines of neighbouring cells)
        ["pdftotext", "-raw", "-enc", "UTF-8", str(tmp_path / "index.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.sub(r"\s+", "", out)


@pytest.mark.built  # the snapshot of this run's outputs
def test_a_table_3_number_is_traced_in_one_click(snapshot, tmp_path) -> None:
    """index.html#t3-svc_social_needs: the row, its counts on hover, the test's footnote marker."""
    browser = Chromium(_browser_or_skip(), tmp_path / "chromium", width=1400, height=900)
    try:
        browser.visit((snapshot / "index.html").as_uri() + "#t3-svc_social_needs")
        row = _evaluate(
            browser,
            """(() => { const r = document.getElementById("t3-svc_social_needs");
            const top = r.getBoundingClientRect().top;
            return {label: r.querySelector("th[scope=row]").textContent, top: top,
                    titles: [...r.querySelectorAll("td[title]")].map(c => c.title),
                    mark: (r.querySelector("sup") || {}).textContent || "",
                    marks: [...r.querySelectorAll(".ok, .ne")].map(m => m.textContent)}; })()""",
        )
        browser.screenshot(SCREENSHOT.with_name("traced-t3.png"))
        ids = _evaluate(browser, '[...document.querySelectorAll("[id^=t]")].map(e => e.id)')
        s_ids = _evaluate(browser, '[...document.querySelectorAll("tr[id^=s-]")].map(e => e.id)')
        figures = _evaluate(
            browser,
            '[...document.querySelectorAll("figure img")].map(i => [i.alt, '
            'i.closest("figure").querySelector("figcaption").textContent])',
        )
        browser.visit((snapshot / "05_figures.html").as_uri())
        in_05 = _evaluate(browser, 'document.querySelectorAll("main img").length')
    finally:
        browser.close()
    assert "Social needs" in row["label"] and -2 <= row["top"] < 900  # scrolled to it
    # each cell: its counts, then the printed and reproduced numbers, with its check mark
    assert all(re.match(r"\d+/\d+; pct: printed \d+, here ", t) for t in row["titles"][:3])
    assert len(row["titles"]) == 4 and row["marks"] == ["✓"] * 4  # three groups and P
    assert row["mark"] in "abcdefgh" and row["mark"]
    assert len(ids) == len(set(ids)) and {"t1-n", "t2-n", "t4-n"} <= set(ids)
    assert "s-svc_social_needs" in s_ids and "s-panel_judgement-too_many" in s_ids  # sensitivity
    # every figure numbered, captioned with n, interval and the label, with alt text; shown once
    assert len(figures) == 6 and in_05 == 0
    for n, (alt, caption) in enumerate(figures, 1):
        assert caption.startswith(f"Figure {n}.") and "Synthetic data." in caption
        assert "n = " in caption or "clinics" in caption
        assert "interval" in caption and len(alt) > 60
