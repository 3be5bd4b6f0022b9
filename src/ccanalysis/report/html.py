"""HTML surgery shared by the notebook pages and the landing page (lxml).

Three operations: a full HTML document shown inside another page keeps only its body
(:func:`fragment`); the synthetic label, which every table file repeats (a paragraph, the caption's
first line, a footnote), is shown once per page, in the page's banner (:func:`drop_label`); and an
image linked by a relative path is embedded as a data URI, downscaled for the screen, so that a
page is a single file that can be mailed (:func:`embed_images`).

lxml rather than Beautiful Soup: the same trees, forty times faster to build (every table of
every page goes through here on each build).
"""

from __future__ import annotations

import base64
import html as _html
import io
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from lxml import html as lh
from lxml.html import HtmlElement

#: Width in pixels of a figure as a page shows it (the files keep their full resolution).
DISPLAY_WIDTH = 1000
#: Elements that hold a label and its explanation as one block (dropped whole, see drop_label).
_LABEL_BLOCKS = frozenset({"p", "li", "blockquote"})
#: Elements of a document's head that would leak into the page showing it.
_HEAD_ONLY = ("style", "title", "meta", "link", "script", "head")
_DOCUMENT = re.compile(r"<(html|body|head|!doctype)\b", re.IGNORECASE)


def parse(text: str) -> HtmlElement:
    """An HTML fragment (any number of elements and text) under one ``<div>``."""
    return lh.fragment_fromstring(text, create_parent="div")


def serialize(root: HtmlElement) -> str:
    """The inside of ``root`` as HTML (the inverse of :func:`parse`)."""
    head = _html.escape(root.text, quote=False) if root.text else ""
    return head + "".join(lh.tostring(child, encoding="unicode") for child in root)


def fragment(text: str) -> str:
    """The body of an HTML document (or the fragment itself), without styles, scripts or head.

    A table file is a complete document with its own stylesheet; inside a page its ``body { }``
    and ``th`` rules would restyle the whole page.
    """
    if not _DOCUMENT.search(text):
        return text
    doc = lh.document_fromstring(text)
    for tag in list(doc.iter(*_HEAD_ONLY)):
        tag.drop_tree()
    body = doc.find("body")
    return serialize(body if body is not None else doc).strip()


def _texts(root: HtmlElement, needle: str) -> Iterator[tuple[HtmlElement, str]]:
    """Each text holding ``needle``: (element, "text") for its own text, (element, "tail") for
    the text after it, which belongs to its parent."""
    for el in root.iter():
        if not isinstance(el.tag, str):  # comments
            continue
        if el.text and needle in el.text:
            yield el, "text"
        if el is not root and el.tail and needle in el.tail:
            yield el, "tail"


def drop_label(root: HtmlElement, label: str) -> int:
    """Remove every occurrence of ``label`` under ``root``; return how many were removed.

    A paragraph, list item or quotation that begins with the label is the label's own block (the
    table files' ``<p class="synthetic">``, their first footnote, a notebook's banner) and goes
    whole; elsewhere (a caption's first line) the text goes, with the line break after it.
    """
    removed = 0
    for el, where in list(_texts(root, label)):
        owner = el if where == "text" else el.getparent()
        if owner is None or not _attached(owner, root):
            continue  # inside a block removed earlier in this loop
        block = next((a for a in _self_and_ancestors(owner, root) if a.tag in _LABEL_BLOCKS), None)
        if block is not None and block.text_content().strip().startswith(label):
            block.drop_tree()
        else:
            text = getattr(el, where)
            rest = re.sub(re.escape(label) + r"[.:]?\s*", "", text)
            rest = rest if rest.strip() else ""
            setattr(el, where, rest or None)
            after = (
                el[0] if where == "text" and len(el) else el.getnext() if where == "tail" else None
            )
            if after is not None and after.tag == "br" and not rest:
                after.drop_tree()
        removed += 1
    return removed


def _self_and_ancestors(el: HtmlElement, root: HtmlElement) -> Iterator[HtmlElement]:
    while el is not None and el is not root:
        yield el
        el = el.getparent()


def _attached(el: HtmlElement, root: HtmlElement) -> bool:
    while el is not None:
        if el is root:
            return True
        el = el.getparent()
    return False


@lru_cache(maxsize=64)
def _display_png(path: Path, mtime_ns: int, width: int) -> bytes:
    """``path`` at most ``width`` pixels wide, 256 colours (a chart has few): 5-10 times smaller."""
    from PIL import Image

    with Image.open(path) as im:
        rgb = im.convert("RGB")
    if rgb.width > width:
        height = round(rgb.height * width / rgb.width)
        rgb = rgb.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    small = rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def display_png(path: Path, width: int = DISPLAY_WIDTH) -> bytes:
    """The screen version of a figure file (made once per process and file)."""
    path = Path(path).resolve()
    return _display_png(path, path.stat().st_mtime_ns, width)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def embed_images(
    root: HtmlElement, base: Path, link: Callable[[Path], str | None] | None = None
) -> int:
    """Embed every ``<img>`` whose ``src`` is a relative path (resolved against ``base``).

    ``link(path)``: where a click on the image leads (e.g. the figure's PDF), or ``None``.
    A missing file raises: a page with a broken image is a failed build, not a page to ship.
    Returns the number of images embedded.
    """
    count = 0
    for img in list(root.iter("img")):
        src = img.get("src", "")
        if not src or re.match(r"^(data:|[a-z]+:)", src):
            continue
        path = (base / src).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"image {src!r} of a page in {base} not found: {path}")
        img.set("src", data_uri(display_png(path)))
        img.set("alt", img.get("alt") or path.stem)
        target = link(path) if link else None
        parent = img.getparent()
        if target and parent is not None and parent.tag != "a":
            anchor = lh.Element("a", href=target)
            anchor.tail, img.tail = img.tail, None
            img.addprevious(anchor)
            anchor.append(img)
        count += 1
    return count
