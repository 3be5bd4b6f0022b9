"""The pages' shell: Jinja templates and one stylesheet, inlined into every page.

A page carries its own styles (no stylesheet file to lose when a page is mailed) and no script,
so that it reads the same from a disk, a static host or an attachment.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from ccanalysis.vocab import SYNTHETIC_LABEL

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


@cache
def stylesheet(code: bool = False) -> str:
    """The pages' CSS; with ``code``, the highlighting of nbconvert's code cells (Pygments)."""
    css = (TEMPLATES / "style.css").read_text(encoding="utf-8")
    if code:
        from pygments.formatters import HtmlFormatter

        css += "\n" + HtmlFormatter(style="default").get_style_defs(".highlight")
    return css.strip()


def render(template: str, **context: Any) -> str:
    """Fill ``templates/<template>`` (autoescaped; ``label`` is the synthetic label)."""
    return _environment().get_template(template).render(label=SYNTHETIC_LABEL, **context)


def notebook_page(*, title: str, body: str, card: Any, edition: Any, other: Any) -> str:
    """A notebook's page around nbconvert's rendering of its cells."""
    return render(
        "notebook.html.j2",
        title=title,
        body=body,
        card=card,
        edition=edition,
        other=other,
        css=stylesheet(edition.code),
    )


def touch(path: Path) -> Path:
    """Mark a make target as rebuilt even when its bytes did not change (``write_text`` keeps an
    identical file's old time, which would leave make rebuilding it on every run)."""
    os.utime(path)
    return path
