"""The figures' one style, their labels and their deterministic saving.

The style is seaborn's ("ticks" axes, "paper" context) with seaborn's colour-blind-safe palette,
applied only while a figure is drawn or saved (:func:`theme`), so that importing the package
changes nobody's matplotlib settings. Figures are made without ``pyplot``: the caller owns them and
a notebook's inline backend does not show them a second time. :func:`save` writes ``stem.png``
(200 dpi) and ``stem.pdf`` with fixed metadata, so that a rerun gives identical bytes.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from ccanalysis import printing
from ccanalysis.io import write_with
from ccanalysis.vocab import GROUP_LABELS, MODEL_GROUP, SYNTHETIC_LABEL

#: seaborn's colour-blind-safe palette (blue, orange, green, vermilion, purple, ... sky blue).
PALETTE: tuple[str, ...] = tuple(sns.color_palette("colorblind").as_hex())
GREY = PALETTE[7]
#: Fixed colours of the groups (and of the care models, as their groups) in every figure.
GROUP_COLORS: dict[str, str] = {"total": GREY, "both": PALETTE[2]}
GROUP_COLORS.update({g: PALETTE[0] for g in ("isw", "isw_only")})
GROUP_COLORS.update({g: PALETTE[1] for g in ("mn", "mn_only")})
GROUP_COLORS.update({model: GROUP_COLORS[group] for model, group in MODEL_GROUP.items()})

DPI = 200
SYNTHETIC_TEXT = "SYNTHETIC DATA"
SYNTHETIC_GID = "synthetic-label"
#: seaborn's theme, with the font fixed (DejaVu Sans ships with matplotlib: the same on every
#: machine) and embedded as TrueType in PDFs.
RC: dict[str, object] = {
    **sns.axes_style("ticks"),
    **sns.plotting_context("paper"),
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "figure.titlesize": 10.5,
    "figure.titleweight": "bold",
    "font.family": "DejaVu Sans",
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "pdf.fonttype": 42,
}


@contextmanager
def style() -> Iterator[None]:
    """The figures' style (:data:`RC`) for the duration of the block."""
    with mpl.rc_context(RC):
        yield


def pair_colors(compare: tuple[str, str]) -> dict[str, str]:
    """Colours of ``(comparison, reference)``: each group's own, else blue and orange."""
    return {g: GROUP_COLORS.get(g, PALETTE[i]) for i, g in enumerate(compare)}


_CAPITALIZED = re.compile(r"\b[A-Z][a-z]+\b")


def sentence_case(text: str, *, mid_sentence: bool = False) -> str:
    """``"Medical/Nursing Model"`` -> ``"Medical/nursing model"`` (``mid_sentence``: all lower
    case); words in capitals (``ISW``) keep them."""

    def lower(m: re.Match[str]) -> str:
        return m.group(0) if m.start() == 0 and not mid_sentence else m.group(0).lower()

    return _CAPITALIZED.sub(lower, text)


def group_label(
    group: str, labels: Mapping[str, str] = GROUP_LABELS, *, mid_sentence: bool = False
) -> str:
    """A group's name as figures write it: its label (default the tables') in sentence case."""
    return sentence_case(labels.get(group, group), mid_sentence=mid_sentence)


def format_pct(x: float, decimals: int = 0) -> str:
    """``83.42 -> '83%'``, rounded half up as the tables round."""
    return f"{printing.round_half_up(x, decimals)}%"


def format_p(p: float) -> str:
    """The tables' p-value text with a ``P``: ``P<0.001``, ``P=0.38``; nothing for a missing p."""
    text = "" if p != p else printing.format_p(p)
    return "" if not text else f"P{text}" if text[0] in "<>" else f"P={text}"


def finish(fig: Figure, title: str, *, synthetic: bool) -> Figure:
    """Name the figure (the files' title), freeze its layout and add the synthetic-data label.

    The constrained layout is computed once and then fixed: recomputed at every draw it starts from
    the previous positions, and a second save of the same figure could differ by a pixel.
    """
    fig.set_label(title)
    if fig.get_layout_engine() is not None:
        with style():
            fig.get_layout_engine().execute(fig)
        fig.set_layout_engine("none")
    if synthetic:
        fig.text(
            1.0,
            1.0,
            SYNTHETIC_TEXT,
            ha="right",
            va="top",
            fontsize=9,
            fontweight="bold",
            color=PALETTE[3],
            gid=SYNTHETIC_GID,
            transform=offset_copy(fig.transFigure, fig=fig, x=-0.09, y=-0.09, units="inches"),
            bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": PALETTE[3]},
        )
    return fig


def has_synthetic_label(fig: Figure) -> bool:
    """Whether the figure carries the visible synthetic-data label."""
    return any(t.get_gid() == SYNTHETIC_GID for t in fig.texts)


def figure_texts(fig: Figure) -> list[str]:
    """Every non-empty text of the figure (titles, labels, ticks, legends, annotations)."""
    return [t.get_text() for t in fig.findobj(mpl.text.Text) if t.get_text()]


def artists_with_gid(fig: Figure, prefix: str) -> list[mpl.artist.Artist]:
    """The artists whose gid starts with ``prefix`` (how tests read a figure back)."""
    return fig.findobj(lambda a: (a.get_gid() or "").startswith(prefix))


def _metadata(fmt: str, title: str, synthetic: bool) -> dict[str, str | None]:
    """Fixed metadata: no dates, no software versions; the synthetic label when it applies."""
    if fmt == "png":
        md = {"Software": None, "Title": title, "Source": "ccanalysis"}
        return {**md, "Description": SYNTHETIC_LABEL} if synthetic else md
    md = {"Creator": "ccanalysis", "Producer": None, "CreationDate": None, "Title": title}
    return {**md, "Subject": SYNTHETIC_LABEL, "Keywords": "synthetic data"} if synthetic else md


def save(fig: Figure, stem: str, outdir: str | Path) -> list[Path]:
    """Write ``outdir/stem.png`` (200 dpi) and ``outdir/stem.pdf`` atomically; return the paths.

    The canvas is written as laid out (no tight bounding box, which would draw the figure once
    more per file only to measure it); the metadata are fixed (:func:`_metadata`).
    """
    synthetic, title = has_synthetic_label(fig), fig.get_label() or stem
    paths = []
    with style():
        for fmt in ("png", "pdf"):

            def writer(tmp: Path, fmt: str = fmt) -> None:
                fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_metadata(fmt, title, synthetic))

            paths.append(write_with(Path(outdir) / f"{stem}.{fmt}", writer))
    return paths


def show(saved: Path | Sequence[Path], notebook_dir: str | Path) -> object:
    """Display a saved figure in a notebook: its PNG, linked relative to the notebook's folder.

    The reader sees the very file that was saved, and the inline backend does not draw the figure
    a second time.
    """
    from IPython.display import HTML

    files = [Path(saved)] if isinstance(saved, str | Path) else [Path(p) for p in saved]
    png = next(p for p in files if p.suffix == ".png")
    src = os.path.relpath(png.resolve(), Path(notebook_dir).resolve())
    return HTML(
        f'<img src="{html.escape(src)}" alt="{html.escape(png.stem)}" style="max-width:100%">'
    )
