"""The figures' one style: palette, rc context, labels, layout, deterministic saving, display.

Every figure is drawn inside :func:`style` in colour-blind-safe Okabe-Ito colours, the groups always
in the same colours (medical/nursing orange, integrated social worker blue), and RETURNED as a
:class:`matplotlib.figure.Figure` made without ``pyplot``: nothing is shown, nothing global is
registered, the caller owns the figure. :func:`save` writes ``stem.png`` (200 dpi, screens) and
``stem.pdf`` (print) atomically, with fixed metadata so that a rerun gives identical bytes;
:func:`show` displays the saved PNG in a notebook.

Every figure is laid out to its final size (:func:`new_figure`), with a white margin of
:data:`MARGIN_IN` inside the canvas, and nothing is drawn outside the canvas (a test checks it):
:func:`save` writes the canvas as it is, without ``bbox_inches="tight"``, which would draw each
figure once more per file only to measure it.

``synthetic=True`` (:func:`finish`) puts a visible "SYNTHETIC DATA" label in the top-right corner
(a text artist with gid :data:`SYNTHETIC_GID`); :func:`save` then writes
:data:`ccanalysis.vocab.SYNTHETIC_LABEL` into the file metadata (PNG ``Description``, PDF ``Subject``).

Group names come from :data:`ccanalysis.vocab.GROUP_LABELS` through :func:`group_label` (in
sentence case, as figure text is written), never typed again here.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from ccanalysis import printing
from ccanalysis.io import write_with
from ccanalysis.vocab import GROUP_LABELS, MODEL_GROUP, SYNTHETIC_LABEL

# ---------------------------------------------------------------------------------------------
# Palette
# ---------------------------------------------------------------------------------------------

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
GREY = "#8C8C8C"
LIGHT_GREY = "#D9D9D9"
#: Colours of the comparison and the reference group of a two-group figure, when the group has no
#: fixed colour of its own.
COMPARISON_COLOR, REFERENCE_COLOR = OKABE_ITO["blue"], OKABE_ITO["orange"]
#: Fixed colours of the groups (and of the care models, as their groups), in every figure.
GROUP_COLORS: dict[str, str] = {
    "total": GREY,
    "mn": REFERENCE_COLOR,
    "isw": COMPARISON_COLOR,
    "mn_only": REFERENCE_COLOR,
    "isw_only": COMPARISON_COLOR,
    "both": OKABE_ITO["bluish_green"],
}
GROUP_COLORS.update({model: GROUP_COLORS[group] for model, group in MODEL_GROUP.items()})
#: Nominal categories that are not groups (degree levels): Paul Tol's colour-blind-safe "muted".
CATEGORY_COLORS: tuple[str, ...] = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#DDCC77",
    "#CC6677",
    "#AA4499",
    "#117733",
    "#882255",
)


def pair_colors(compare: tuple[str, str]) -> dict[str, str]:
    """Colours of a compared pair ``(comparison, reference)``: each group's fixed colour, else blue
    for the comparison and orange for the reference."""
    comparison, reference = compare
    return {
        comparison: GROUP_COLORS.get(comparison, COMPARISON_COLOR),
        reference: GROUP_COLORS.get(reference, REFERENCE_COLOR),
    }


# ---------------------------------------------------------------------------------------------
# Labels and printed numbers
# ---------------------------------------------------------------------------------------------

_CAPITALIZED = re.compile(r"\b[A-Z][a-z]+\b")


def sentence_case(text: str, *, mid_sentence: bool = False) -> str:
    """A title-case label in sentence case: ``"Medical/Nursing Model"`` -> ``"Medical/nursing
    model"`` (with ``mid_sentence``: ``"medical/nursing model"``). Words in capitals (``ISW``) keep
    them."""

    def lower(m: re.Match[str]) -> str:
        return m.group(0) if m.start() == 0 and not mid_sentence else m.group(0).lower()

    return _CAPITALIZED.sub(lower, text)


def group_label(
    group: str, labels: Mapping[str, str] = GROUP_LABELS, *, mid_sentence: bool = False
) -> str:
    """The name of a group as figures write it: its label (default the tables' labels,
    :data:`ccanalysis.vocab.GROUP_LABELS`) in sentence case; an unknown group is its id."""
    return sentence_case(labels.get(group, group), mid_sentence=mid_sentence)


def format_pct(x: float, decimals: int = 0) -> str:
    """``83.42 -> '83%'`` (half up on the shortest decimal representation, as the tables do)."""
    return f"{printing.round_half_up(x, decimals)}%"


def format_p(p: float) -> str:
    """The tables' p-value text with a ``P`` label: ``P<0.001``, ``P>0.9``, ``P=0.38``."""
    if not np.isfinite(p):
        return ""
    text = printing.format_p(p)
    return f"P{text}" if text[0] in "<>" else f"P={text}"


def count_text(x: float) -> str:
    """A count with thousands separators, without ``.0`` when it is whole."""
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,}"


# ---------------------------------------------------------------------------------------------
# Style and layout
# ---------------------------------------------------------------------------------------------

DPI = 200
SYNTHETIC_GID = "synthetic-label"
SYNTHETIC_TEXT = "SYNTHETIC DATA"
#: White margin inside the edges of every figure, in inches (as much as ``bbox_inches="tight"``
#: with ``pad_inches=0.08`` would add around the drawing).
MARGIN_IN = 0.08
#: Constrained layout's own padding around the axes (its default, 3 points), in inches.
_CL_PAD_IN = 3 / 72
#: How far the synthetic label's frame reaches beyond its text: the box pad (0.3 x 9 pt) plus
#: half the frame's line width, in inches.
_LABEL_FRAME_IN = (0.3 * 9 + 0.5) / 72
#: Distance of the synthetic label's frame from the top-right corner, in inches: 3 points, level
#: with the top of a constrained layout's suptitle (about where a tight bounding box put it).
_LABEL_INSET_IN = 3 / 72

#: The shared style: every figure function draws inside ``style()``, and :func:`save` writes in it.
RC: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.edgecolor": "#333333",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=list(OKABE_ITO.values())),
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "svg.hashsalt": "ccanalysis",
    "pdf.compression": 6,
}


@contextmanager
def style() -> Iterator[None]:
    """The project's figure style (:data:`RC`) for the duration of the block."""
    with mpl.rc_context(RC):
        yield


def new_figure(
    width: float, height: float, *, constrained: bool = False, bottom_in: float = 0.0
) -> Figure:
    """A figure of the final size; a constrained layout keeps :data:`MARGIN_IN` free at the left,
    right and bottom, plus ``bottom_in`` (room for a note) at the bottom.

    (The top is the suptitle's: constrained layout puts it at its own padding from the edge.)
    """
    fig = Figure(figsize=(width, height), layout="constrained" if constrained else None)
    if constrained:
        inset = MARGIN_IN - _CL_PAD_IN  # the layout adds its own padding inside the rect
        bottom = (inset + bottom_in) / height
        fig.get_layout_engine().set(rect=(inset / width, bottom, 1 - 2 * inset / width, 1 - bottom))
    return fig


def finish(fig: Figure, title: str, *, synthetic: bool) -> Figure:
    """Set the metadata title (figure label) and the synthetic-data label, and freeze the layout.

    A constrained layout is computed once here and then fixed: recomputed at every draw, it starts
    from the previous positions, and a second save of the same figure would differ by a pixel. Only
    the layout is computed (``execute``), which is all that a draw would do first.
    """
    fig.set_label(title)
    engine = fig.get_layout_engine()
    if engine is not None:
        with style():
            engine.execute(fig)
        fig.set_layout_engine("none")
    if synthetic:
        # the frame's corner _LABEL_INSET_IN from the figure's (in inches: the same at any dpi)
        off = _LABEL_INSET_IN + _LABEL_FRAME_IN
        fig.text(
            1.0,
            1.0,
            SYNTHETIC_TEXT,
            ha="right",
            va="top",
            fontsize=9,
            fontweight="bold",
            color=OKABE_ITO["vermillion"],
            gid=SYNTHETIC_GID,
            transform=offset_copy(fig.transFigure, fig=fig, x=-off, y=-off, units="inches"),
            bbox={
                "boxstyle": "round,pad=0.3",
                "facecolor": "white",
                "edgecolor": OKABE_ITO["vermillion"],
                "linewidth": 1.0,
            },
        )
    return fig


def suptitle(fig: Figure, text: str) -> None:
    """The figure's title, top left, as every constrained-layout figure has it."""
    fig.suptitle(text, x=0.01, ha="left", fontsize=10.5, fontweight="bold")


# ---------------------------------------------------------------------------------------------
# Reading a figure back (tests, students)
# ---------------------------------------------------------------------------------------------


def has_synthetic_label(fig: Figure) -> bool:
    """Whether the figure carries the visible synthetic-data label."""
    return any(t.get_gid() == SYNTHETIC_GID for t in fig.texts)


def figure_texts(fig: Figure) -> list[str]:
    """Every text drawn in the figure (figure texts, axes texts, titles, tick and axis labels)."""
    out = [t.get_text() for t in fig.findobj(mpl.text.Text)]
    return [t for t in out if t]


def artists_with_gid(fig: Figure, prefix: str) -> list[mpl.artist.Artist]:
    """Artists whose gid starts with ``prefix``, in drawing order of their axes."""
    return [a for a in fig.findobj(lambda a: (a.get_gid() or "").startswith(prefix))]


# ---------------------------------------------------------------------------------------------
# Saving and display
# ---------------------------------------------------------------------------------------------


def _metadata(fmt: str, title: str, synthetic: bool) -> dict[str, str | None]:
    if fmt == "png":
        md: dict[str, str | None] = {"Software": None, "Title": title, "Source": "ccanalysis"}
        if synthetic:
            md["Description"] = SYNTHETIC_LABEL
        return md
    if fmt == "pdf":
        md = {
            "Creator": "ccanalysis",
            "Producer": None,
            "CreationDate": None,
            "ModDate": None,
            "Title": title,
        }
        if synthetic:
            md["Subject"] = SYNTHETIC_LABEL
            md["Keywords"] = "synthetic data"
        return md
    if fmt == "svg":
        md = {"Date": None, "Creator": None, "Title": title}
        if synthetic:
            md["Description"] = SYNTHETIC_LABEL
        return md
    raise ValueError(f"unsupported figure format {fmt!r} (png, pdf or svg)")


#: zlib level of the PNGs: 1 instead of Pillow's 6 writes a 16-megapixel figure in about 0.34 s
#: instead of 0.48 s, for files about 15% larger.
PNG_COMPRESS_LEVEL = 1

#: OpenType tables left out of the fonts that :func:`save` embeds in a PDF. A PDF places every
#: glyph itself (matplotlib positions the text, kerning included, from the installed font), so an
#: embedded font's layout tables are never read; subsetting them was most of the cost of a PDF
#: (DejaVu Sans' GSUB and GPOS: ~0.15 s per font per file, out of ~0.2 s).
PDF_FONT_DROP_TABLES: tuple[str, ...] = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "kern")


@contextmanager
def _lean_pdf_fonts() -> Iterator[None]:
    """fontTools' subsetter also drops :data:`PDF_FONT_DROP_TABLES` for the duration of the block.

    matplotlib builds its subsetting options from fontTools' defaults and has no setting of its own,
    so the default list is extended here and restored after, whatever happens (a process-wide
    change while it lasts: fine for the single-threaded saving here).
    """
    from fontTools import subset  # a dependency of matplotlib; only the PDF writer needs it

    default = getattr(subset.Options, "_drop_tables_default", None)
    if not isinstance(default, list):  # another fontTools: embed the fonts as matplotlib does
        yield
        return
    subset.Options._drop_tables_default = [*default, *PDF_FONT_DROP_TABLES]
    try:
        yield
    finally:
        subset.Options._drop_tables_default = default


def save(
    fig: Figure, stem: str, outdir: str | Path, formats: Sequence[str] = ("png", "pdf")
) -> list[Path]:
    """Write ``outdir/stem.png`` (200 dpi) and ``outdir/stem.pdf`` atomically; return the paths.

    Metadata are fixed (no dates, no software versions; title = the figure's label, the synthetic
    label when the figure carries it), so saving the same figure twice gives identical bytes, and an
    unchanged file is not rewritten (see :func:`ccanalysis.io.write_with`). The canvas is written as
    laid out (no tight bounding box: see the module docstring), in one draw per file.
    """
    outdir = Path(outdir)
    synthetic = has_synthetic_label(fig)
    title = fig.get_label() or stem
    paths = []
    with style():
        for fmt in formats:
            md = _metadata(fmt, title, synthetic)
            extra = {"pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL}} if fmt == "png" else {}

            def writer(tmp: Path, fmt: str = fmt, md: dict = md, extra: dict = extra) -> None:
                with _lean_pdf_fonts() if fmt == "pdf" else nullcontext():
                    fig.savefig(tmp, format=fmt, dpi=DPI, metadata=md, **extra)

            paths.append(write_with(outdir / f"{stem}.{fmt}", writer))
    return paths


def show(saved: Path | Sequence[Path], notebook_dir: str | Path) -> object:
    """Display a saved figure in a notebook: its PNG, by a link relative to the notebook's folder.

    ``saved``: the PNG, or the files :func:`save` wrote. The reader sees the very file that was
    saved, and the figure is not drawn a second time by the inline backend (which would cost as
    much as saving it).
    """
    from IPython.display import HTML

    files = [Path(saved)] if isinstance(saved, str | Path) else [Path(p) for p in saved]
    png = next(p for p in files if p.suffix == ".png")
    src = os.path.relpath(png.resolve(), Path(notebook_dir).resolve())
    return HTML(
        f'<img src="{html.escape(src)}" alt="{html.escape(png.stem)}" style="max-width:100%">'
    )
