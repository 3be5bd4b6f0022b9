"""The two editions of an executed notebook, by nbconvert: the reader's (no code) and with code.

Both are single self-contained files: nbconvert's ``HTMLExporter`` renders the cells
(``exclude_input`` for the reader's edition, no prompts, images embedded), its
``TagRemovePreprocessor`` drops the parameter cells (the run card at the top shows the parameters
once), and the template ``templates/ccanalysis`` (nbconvert's ``basic`` inside the pages' shell)
inlines the styles.
"""

from __future__ import annotations

import base64
import re
import sys
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Edition:
    """A rendering of a notebook: its file suffix, whether it shows the code, its name."""

    suffix: str
    code: bool
    title: str


READER = Edition(".html", code=False, title="reader's edition")
CODE = Edition(".code.html", code=True, title="edition with code")
EDITIONS = (READER, CODE)


def output_path(executed: Path, edition: Edition) -> Path:
    """``reports/03_tables.ipynb`` -> ``reports/03_tables.html`` (or ``.code.html``)."""
    return executed.with_name(executed.stem + edition.suffix)


def parameters(nb: dict) -> dict[str, Any]:
    """The parameters a notebook ran with, as papermill recorded the values it injected."""
    return dict(nb.get("metadata", {}).get("papermill", {}).get("parameters", {}))


def run_card(params: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines of a run: its parameters and the versions of Python and the stack
    (Python by minor version; an export outside the project by its file name only)."""
    rows = [("data", str(params.get("data_mode", "synthetic"))), ("seed", str(params.get("seed")))]
    if params.get("scale", 1) not in (1, None):
        rows.append(("scale", f"{params['scale']} x the study's clinics"))
    if params.get("export"):
        export = Path(str(params["export"]))
        rows.append(("export", export.name if export.is_absolute() else export.as_posix()))
    if params.get("privacy"):
        rows.append(("privacy", f"counts below {params.get('min_cell')} suppressed"))
    versions = [f"Python {sys.version_info.major}.{sys.version_info.minor}"]
    versions += [f"{name} {metadata.version(name)}" for name in PACKAGES]
    return [*rows, ("packages", ", ".join(versions))]


def describe(nb: dict, fallback: str) -> tuple[str, str]:
    """The notebook's title (its first ``#`` heading) and the first sentence after it, as text."""
    for cell in nb["cells"]:
        text = "".join(cell["source"]) if cell["cell_type"] == "markdown" else ""
        heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        if heading:
            rest = text[heading.end() :].strip()
            first = re.split(r"(?<=[.!?])\s", rest, maxsplit=1)[0]
            return _plain(heading.group(1)), _plain(first)
    return fallback, ""


def _plain(markdown: str) -> str:
    """Inline markdown as text: no emphasis marks, backticks or link targets."""
    return re.sub(r"[*_`]+", "", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)).strip()


@cache
def stylesheet(code: bool = False) -> str:
    """The pages' CSS; with ``code``, Pygments' highlighting of nbconvert's code cells."""
    css = (TEMPLATES / "style.css").read_text(encoding="utf-8")
    if code:
        from pygments.formatters import HtmlFormatter

        css += "\n" + HtmlFormatter(style="default").get_style_defs(".highlight")
    return css.strip()


@cache
def exporter(code: bool) -> Any:
    """nbconvert's HTML exporter of an edition (made once per process: importing costs ~2 s)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import Preprocessor
    from traitlets.config import Config

    class FigureFiles(Preprocessor):
        """An output that is only ``<img src="relative path">`` (``figures.show``) as the image
        itself (nbconvert's ``embed_images`` embeds markdown images below the notebook's folder
        only, and the figures are in ``figures/``)."""

        def preprocess_cell(self, cell, resources, index):  # noqa: ANN001, ANN201
            for out in cell.get("outputs", []):
                html = "".join(out.get("data", {}).get("text/html", ""))
                found = re.fullmatch(r'\s*<img src="([^":]+\.png)"[^>]*>\s*', html)
                if found:
                    png = Path(resources["metadata"]["path"], found[1]).read_bytes()
                    out["data"] = {"image/png": base64.b64encode(png).decode("ascii")}
            return cell, resources

    config = Config()
    config.TagRemovePreprocessor.update(enabled=True, remove_cell_tags=PARAMETER_TAGS)
    html = HTMLExporter(
        config=config,
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="ccanalysis",
        exclude_input=not code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        anchor_link_text="#",
    )
    html.register_preprocessor(FigureFiles, enabled=True)
    return html


def render(executed: Path) -> None:
    """Write both editions of ``executed`` beside it."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    title, _ = describe(nb, executed.stem)
    for edition in EDITIONS:
        other = None if edition is READER else (output_path(executed, READER).name, READER.title)
        page = {
            "title": title,
            "edition": edition.title,
            "other": other,  # the reader's edition links none: docs/ has no edition with code
            "card": run_card(parameters(nb)),
            "css": stylesheet(edition.code),
        }
        resources = {"metadata": {"path": str(executed.parent)}, "page": page}
        body, _ = exporter(edition.code).from_notebook_node(nb, resources=resources)
        write_text(output_path(executed, edition), body)
