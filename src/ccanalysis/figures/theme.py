"""What the figures share: style, colours, group names, number formats, lookups, the synthetic
label, deterministic saving. No ``pyplot``: the caller owns the figures."""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import matplotlib as mpl
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from ccanalysis import printing
from ccanalysis.classify import DEFAULT_DEFINITION, definition_of, describe
from ccanalysis.io import write_with
from ccanalysis.tables.read import as_long
from ccanalysis.vocab import GROUP_LABELS, MODEL_GROUP, SYNTHETIC_LABEL

#: seaborn's colour-blind-safe palette (blue, orange, green, vermilion, purple, ... sky blue).
PALETTE: tuple[str, ...] = tuple(sns.color_palette("colorblind").as_hex())
#: Fixed colours of the groups (and of the care models, as their groups) in every figure.
GROUP_COLORS: dict[str, str] = {"total": PALETTE[7], "both": PALETTE[2]}
GROUP_COLORS.update({g: PALETTE[0] for g in ("isw", "isw_only")})
GROUP_COLORS.update({g: PALETTE[1] for g in ("mn", "mn_only")})
GROUP_COLORS.update({model: GROUP_COLORS[group] for model, group in MODEL_GROUP.items()})

DPI = 200
SYNTHETIC_TEXT, SYNTHETIC_GID = "SYNTHETIC DATA", "synthetic-label"
#: The synthetic label's look: bold vermilion in a rounded box.
LABEL_STYLE = {"fontsize": 9, "fontweight": "bold", "color": PALETTE[3], "ha": "right", "va": "top"}
LABEL_BOX = {"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": PALETTE[3]}
#: seaborn's theme, the font fixed (DejaVu Sans ships with matplotlib), laid out at the saved dpi.
#: PDFs keep matplotlib's Type 3 fonts: TrueType (``pdf.fonttype`` 42) triples the writing time.
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
    "figure.dpi": DPI,
    "svg.hashsalt": "ccanalysis",  # fixed ids: a rerun writes the same SVG
    "svg.fonttype": "none",  # text stays text: searchable, a fifth of the bytes
}


def style() -> AbstractContextManager[None]:
    """The figures' style (:data:`RC`) for the duration of a ``with`` block."""
    return mpl.rc_context(RC)


def group_label(
    group: str, labels: Mapping[str, str] = GROUP_LABELS, *, mid_sentence: bool = False
) -> str:
    """A group's label in sentence case (``mid_sentence``: lower case); ``ISW`` stays capitals."""
    text = labels.get(group, group)
    first = 0 if mid_sentence else 1  # the first word keeps its capital in a title
    return re.sub(r"\b[A-Z][a-z]+\b", lambda m: m[0] if m.start() < first else m[0].lower(), text)


def format_pct(x: float) -> str:
    """``83.42 -> '83%'``, rounded half up as the tables round."""
    return f"{printing.round_half_up(x, 0)}%"


def format_p(p: float) -> str:
    """The tables' p-value text with a ``P``: ``P<0.001``, ``P=0.38``; nothing for a missing p."""
    text = printing.format_p(p)
    return "" if not text else f"P{text}" if text[0] in "<>" else f"P={text}"


def lookup(table_long: pd.DataFrame) -> dict[tuple[str, str, str, str], float]:
    """``(item, level, group, measure) -> value`` of a long table (read as ``tables.read`` reads)."""
    return as_long(table_long).set_index(["item", "level", "group", "measure"])["value"].to_dict()


def strip_stat(label: str) -> str:
    """A mean row's label without its statistic: ``"Hours/week – Mean (SD)"`` -> ``"Hours/week"``."""
    return re.sub(r"( [–-] [Mm]ean| mean)? \(SD\)$", "", label)


def grouped_bars(
    ax: Axes,
    shares: pd.DataFrame,
    names: Mapping[str, str],
    colors: Mapping[str, str],
    gid: str,
    keys: Sequence[str],
    fontsize: float,
    **kw: object,
) -> None:
    """Seaborn's horizontal bars of the percentages ``shares`` (a row per y value, its index; a
    column per group, drawn in ``names``' order under its name), each bar's percentage at its end
    and gid ``gid`` formatted with its group ``g`` and its row's ``key``; withheld (NaN): no bar,
    no label."""
    bars = shares[list(names)].rename(columns=names).melt(ignore_index=False, var_name="group")
    sns.barplot(
        bars.reset_index(names="y").fillna({"value": 0}),
        x="value",
        y="y",
        hue="group",
        hue_order=list(names.values()),
        palette={names[g]: colors[g] for g in names},
        saturation=1,
        ax=ax,
        **kw,
    )
    for container, g in zip(ax.containers, names, strict=True):
        for bar, key in zip(container, keys, strict=True):
            bar.set_gid(gid.format(g=g, key=key))
        texts = ["" if math.isnan(v) else format_pct(v) for v in shares[g]]
        ax.bar_label(container, texts, padding=2, fontsize=fontsize)


def finish(
    fig: Figure,
    label: str,
    *,
    synthetic: bool,
    title: str | None = None,
    note: str | None = None,
    caption: str = "",
    alt: str = "",
    classified: pd.DataFrame | None = None,
) -> Figure:
    """Title, name (``label``), note, synthetic label; the layout frozen (so two saves agree).
    ``caption`` and ``alt`` go into the files; ``classified`` by another definition than the
    paper's: caption and note name it (``classify.describe``)."""
    definition = definition_of(classified) if classified is not None else None
    if definition is not None and definition.id != DEFAULT_DEFINITION:
        caption, note = (f"{s} {describe(definition)}".strip() for s in (caption, note or ""))
    fig.set_label(label)
    fig.caption = caption + (" Synthetic data." if synthetic and caption else "")  # type: ignore[attr-defined]
    fig.alt = alt or label  # type: ignore[attr-defined]
    with style():
        if title:
            fig.suptitle(title, x=0.01, ha="left")
        if note:  # wrapped to the figure's width (about 17 characters an inch at 7.5 pt)
            note = textwrap.fill(note, int(fig.get_figwidth() * 17))
            fig.supxlabel(note, x=0.01, ha="left", fontsize=7.5, color=".27")
        if fig.get_layout_engine() is not None:
            fig.get_layout_engine().execute(fig)
            fig.set_layout_engine("none")
    if synthetic:  # in the top right corner, 0.09 in from the edges
        corner = offset_copy(fig.transFigure, fig=fig, x=-0.09, y=-0.09, units="inches")
        fig.text(
            1, 1, SYNTHETIC_TEXT, transform=corner, gid=SYNTHETIC_GID, bbox=LABEL_BOX, **LABEL_STYLE
        )
    return fig


def save(fig: Figure, stem: str, outdir: str | Path) -> list[Path]:
    """Write ``outdir/stem.png`` (200 dpi), ``.svg``, ``.pdf`` atomically with fixed metadata (no
    dates or versions; caption, alt, synthetic label): a rerun writes identical bytes."""
    title = fig.get_label() or stem
    caption, alt = getattr(fig, "caption", ""), getattr(fig, "alt", title)
    metadata = {
        "png": {"Software": None, "Title": title, "Source": "ccanalysis"}
        | {"Caption": caption, "Alt": alt},
        "svg": {"Creator": "ccanalysis", "Date": None, "Title": title, "Description": caption},
        "pdf": {"Creator": "ccanalysis", "Producer": None, "CreationDate": None, "Title": title},
    }
    if any(t.get_gid() == SYNTHETIC_GID for t in fig.texts):  # the label drawn
        metadata["png"]["Description"] = metadata["pdf"]["Subject"] = SYNTHETIC_LABEL
        metadata["pdf"]["Keywords"] = "synthetic data"
    with style():
        return [
            write_with(
                Path(outdir) / f"{stem}.{fmt}",
                lambda tmp, fmt=fmt, md=md: fig.savefig(tmp, format=fmt, dpi=DPI, metadata=md),
            )
            for fmt, md in metadata.items()
        ]


def screen_png(png: str | Path) -> bytes:
    """A saved figure as pages show it: half its 200 dpi, 256 colours (a sixth of the bytes)."""
    from PIL import Image

    with Image.open(png) as im:
        small = im.convert("RGB").reduce(2).quantize(256)
    data = io.BytesIO()
    small.save(data, "PNG", optimize=True)
    return data.getvalue()
