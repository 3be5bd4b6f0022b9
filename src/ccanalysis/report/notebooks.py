"""The two renderings of an executed notebook: the reader's edition and the edition with code.

Both are single self-contained files (styles inline, figures embedded as data URIs), so that one
page can be mailed on its own. Both show the run's parameters once, as a small run card, instead
of the notebook's parameters cell and the one papermill injects; both show the synthetic label
once, in a banner at the top, where a table's file repeats it three times. The reader's edition
leaves out the code; the other keeps it, highlighted.

nbconvert's ``basic`` template renders the cells (markdown, outputs, highlighted code); the page
around them is this package's ``templates/notebook.html.j2``. nbconvert is imported once per
process (about 2 s): :class:`Renderer` holds the exporters for every notebook of a run.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ccanalysis.pipeline import skip_slow_optional_imports
from ccanalysis.report import html, page
from ccanalysis.report.runcard import Code, RunCard, parameters, run_card
from ccanalysis.vocab import SYNTHETIC_LABEL

#: Tags of the parameter cells (the notebook's defaults and papermill's values): the run card
#: shows the parameters instead.
PARAMETER_TAGS = frozenset({"parameters", "injected-parameters"})


@dataclass(frozen=True)
class Edition:
    """A rendering of a notebook: its file suffix and whether it shows the code."""

    name: str
    suffix: str
    code: bool
    title: str


READER = Edition("reader", ".html", code=False, title="reader's edition")
CODE = Edition("code", ".code.html", code=True, title="edition with code")
EDITIONS = (READER, CODE)


def output_path(executed: Path, edition: Edition) -> Path:
    """``reports/03_tables.ipynb`` -> ``reports/03_tables.html`` (or ``.code.html``)."""
    return executed.with_name(executed.stem + edition.suffix)


# ---- the notebook, before nbconvert ------------------------------------------------------------


def _without_label_markdown(text: str, label: str) -> str:
    """Markdown without the paragraphs (or quotations) that carry ``label``."""
    blocks = re.split(r"\n\s*\n", text)
    return "\n\n".join(b for b in blocks if label not in b).strip()


def _clean_output(output: dict[str, Any], label: str | None, base: Path) -> bool:
    """Tidy one output in place; return False when nothing is left of it to show.

    Its HTML becomes a fragment, without ``label``, its images embedded (``base``: the folder
    relative image paths start from); its markdown loses the paragraphs carrying ``label``.
    """
    data = output.get("data")
    if not data:
        return True
    if "text/html" in data:
        text = html.fragment(_joined(data["text/html"]))
        if (label and label in text) or "<img" in text:
            root = html.parse(text)
            if label:
                html.drop_label(root, label)
            html.embed_images(root, base)
            text = html.serialize(root)
        data["text/html"] = text
    if "text/markdown" in data and label:
        text = _without_label_markdown(_joined(data["text/markdown"]), label)
        if not text:
            return False
        data["text/markdown"] = text
    return True


def _joined(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def clean(nb: Any, label: str | None, base: Path) -> Any:
    """A copy of ``nb`` without parameter cells, its outputs tidied (:func:`_clean_output`)."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if PARAMETER_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if _clean_output(o, label, base)]
        cells.append(cell)
    nb.cells = cells
    return nb


def for_edition(nb: Any, edition: Edition) -> Any:
    """``nb`` (cleaned) as ``edition`` shows it: the reader's, without code cells showing nothing."""
    if edition.code:
        return nb
    shown = copy.copy(nb)
    shown.cells = [c for c in nb.cells if c.cell_type != "code" or c.outputs]
    return shown


def describe(nb: Any, fallback: str) -> tuple[str, str]:
    """The notebook's title (its first heading) and its first sentence, as plain text."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        text = _joined(cell.source)
        heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        if not heading:
            continue
        rest = text[heading.end() :].strip()
        first = re.split(r"(?<=[.!?])\s", rest, maxsplit=1)[0] if rest else ""
        return _plain(heading.group(1)), _plain(first)
    return fallback, ""


def _plain(markdown: str) -> str:
    """Inline markdown as text: no emphasis marks, backticks or link targets."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"[*_`]+", "", text).strip()


# ---- rendering -----------------------------------------------------------------------------------


@dataclass
class Rendered:
    """A notebook rendered: where, its title and summary (for the landing page), its card."""

    executed: Path
    title: str
    summary: str
    card: RunCard


class Renderer:
    """Renders the executed notebooks of one project (nbconvert imported once)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @cached_property
    def code(self) -> Code:
        """The package's module graph, read once for every card this renderer makes."""
        from ccanalysis import makedeps

        return makedeps.code_graph(self.root)

    @cached_property
    def _exporters(self) -> dict[str, Any]:
        skip_slow_optional_imports()
        from nbconvert import HTMLExporter

        return {
            e.name: HTMLExporter(
                template_name="basic",
                exclude_input=not e.code,
                exclude_input_prompt=True,
                exclude_output_prompt=True,
                anchor_link_text="#",
            )
            for e in EDITIONS
        }

    @staticmethod
    def read(executed: Path) -> Any:
        skip_slow_optional_imports()
        import nbformat

        return nbformat.read(str(executed), as_version=4)

    def summary(self, executed: Path) -> Rendered:
        """Title, summary and run card of an executed notebook, without rendering it."""
        nb = self.read(executed)
        title, summary = describe(nb, executed.stem)
        return Rendered(executed, title, summary, self._card(nb, executed))

    def _card(self, nb: Any, executed: Path) -> RunCard:
        return run_card(
            self.root, parameters(nb), self.root / "notebooks" / executed.name, self.code
        )

    def render(self, executed: Path, editions: tuple[Edition, ...] = EDITIONS) -> Rendered:
        """Write every edition of ``executed`` beside it; return its title, summary and card."""
        from ccanalysis.io import write_text

        nb = self.read(executed)
        title, summary = describe(nb, executed.stem)
        card = self._card(nb, executed)
        label = SYNTHETIC_LABEL if card.synthetic else None
        cleaned = clean(nb, label, executed.parent)
        for edition in editions:
            exporter = self._exporters[edition.name]
            body, _ = exporter.from_notebook_node(for_edition(cleaned, edition))
            text = page.notebook_page(
                title=title, body=body, card=card, edition=edition, other=_other(executed, edition)
            )
            page.touch(write_text(output_path(executed, edition), text))
        return Rendered(executed, title, summary, card)


def _other(executed: Path, edition: Edition) -> tuple[str, str] | None:
    """The link from the edition with code to the reader's (the reader's edition links to none:
    it is the one copied into ``docs/``, where the edition with code is not)."""
    if edition is READER:
        return None
    return (output_path(executed, READER).name, READER.title)
