"""The committed snapshot in a real browser: headless Chromium loads the landing page and every
page of docs/, as a reviewer would open them, and finds no broken image or link and no console
error. A screenshot of the landing page is kept in reports/browser/ for the note.

One Chromium process serves the whole module. Where Chromium is missing these tests skip with the
reason; .ci/run installs it and sets CCANALYSIS_REQUIRE_BROWSER=1, under which a missing browser
fails instead.
"""

from __future__ import annotations

import os
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
    assert visits["05_figures.html"].images >= 5


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
                # as browsers do: the fragment as written, then percent-decoded
                if not {url.fragment, unquote(url.fragment)} & ids.get(target.name, set()):
                    broken.append(f"{name}: {href} (no such anchor)")
    assert broken == []
    assert len(visits["index.html"].links) > 50


def test_a_reviewer_sees_the_title_the_label_and_the_study_first(visits) -> None:
    first = visits["index.html"].first_screen
    assert "Care Coordination: How Is It Implemented" in first
    assert SYNTHETIC_LABEL in first
    assert "A survey of 317 Minnesota primary care clinics" in first
    assert "Headline results" in first or "clinics with the integrated social worker" in first


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
