"""The two self-contained editions of an executed notebook (reader's, with code), with a run card."""

from __future__ import annotations

import os
import re
import sys
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ccanalysis.io import write_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Tags of the parameter cells (the notebook's defaults and papermill's values).
PARAMETER_TAGS = {"parameters", "injected-parameters"}
#: The packages whose versions a run card lists (the full pins are in requirements.lock).
PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib")
#: The editions of a notebook, by file suffix: whether it shows the code, and its name.
EDITIONS = {".html": (False, "reader's edition"), ".code.html": (True, "edition with code")}


def parameters(nb: dict) -> dict[str, Any]:
    """The parameters a notebook ran with, as papermill recorded the values it injected."""
    return dict(nb.get("metadata", {}).get("papermill", {}).get("parameters", {}))


def run_card(params: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines: the parameters (outside paths by name), Python and the stack."""
    shown = [(k, Path(v).name if str(v).startswith("/") else str(v)) for k, v in params.items()]
    versions = [f"Python {sys.version_info.major}.{sys.version_info.minor}"]
    versions += [f"{name} {metadata.version(name)}" for name in PACKAGES]
    return [*shown, ("packages", ", ".join(versions))]


def describe(nb: dict, fallback: str) -> tuple[str, str]:
    """The notebook's first ``#`` heading and the sentence after it, as plain text."""
    for cell in nb["cells"]:
        text = "".join(cell["source"]) if cell["cell_type"] == "markdown" else ""
        heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        if heading:
            first = re.split(r"(?<=[.!?])\s", text[heading.end() :].strip(), maxsplit=1)[0]
            plain = [re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s) for s in (heading[1], first)]
            return tuple(re.sub(r"[*_`]+", "", s).strip() for s in plain)
    return fallback, ""


def heading_id(text: str) -> str:
    """The id nbconvert gives a Markdown heading (its ``add_anchor`` filter's rule)."""
    from urllib.parse import quote

    return quote(text.replace(" ", "-"), safe="?/:@!$&'()*+,;=")


@cache
def stylesheet(code: bool = False) -> str:
    """The pages' CSS; with ``code``, Pygments' highlighting of nbconvert's code cells."""
    from ccanalysis.tables.render import CSS  # the tables' own, as their standalone pages

    css = "\n".join(p.read_text(encoding="utf-8") for p in (TEMPLATES / "style.css", CSS))
    if code:
        from pygments.formatters import HtmlFormatter

        css += "\n" + HtmlFormatter(style="default").get_style_defs(".highlight")
    return css.strip()


@cache
def exporter(code: bool) -> Any:
    """nbconvert's HTML exporter of an edition (made once per process: importing costs ~2 s)."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.update(enabled=True, remove_cell_tags=PARAMETER_TAGS)
    return HTMLExporter(
        config=config,
        extra_template_basedirs=[str(TEMPLATES.parent)],
        template_name="templates",  # nbconvert's template: conf.json and notebook.html.j2
        template_file="notebook.html.j2",
        exclude_input=not code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        anchor_link_text="#",
    )


def render(executed: Path) -> None:
    """Write both editions beside ``executed`` (``NN_x.html``, ``NN_x.code.html``)."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    title, _ = describe(nb, executed.stem)
    pages = sorted(executed.parent.glob("[0-9][0-9]_*.ipynb"))  # the pipeline's order
    here = pages.index(executed) if executed in pages else -1
    near = {  # (stem, title) of the notebooks before and after, for the pager
        k: (p.stem, describe(nbformat.read(p, as_version=4), p.stem)[0])
        for k, i in (("prev", here - 1), ("next", here + 1))
        if here >= 0 and 0 <= i < len(pages) and (p := pages[i])
    }
    for suffix, (code, name) in EDITIONS.items():
        other = next((executed.stem + s, n) for s, (c, n) in EDITIONS.items() if c != code)
        page = {"title": title, "edition": name, "other": other, "css": stylesheet(code)}
        page["suffix"] = suffix  # the pager's links stay in this edition
        page |= {"prev": near.get("prev"), "next": near.get("next")}
        page["card"] = run_card(parameters(nb))
        resources = {"metadata": {"path": str(executed.parent)}, "page": page}
        body, _ = exporter(code).from_notebook_node(nb, resources=resources)
        os.utime(write_text(executed.with_suffix(suffix), body))  # newer than the notebook
