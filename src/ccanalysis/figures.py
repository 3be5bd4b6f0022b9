"""Figures of the care coordinator survey: the participant flow and the comparisons of care models.

Every figure function takes an analysis output, draws it in the project's one style (:func:`style`,
colour-blind-safe Okabe-Ito colours, the care models always in the same colours: medical/nursing
orange, integrated social worker blue) and RETURNS a :class:`matplotlib.figure.Figure`. Figures are
made without ``pyplot``: nothing is shown, nothing global is registered, the caller owns the figure
(a notebook displays a returned figure once). :func:`save` writes ``stem.png`` (200 dpi, screens) and
``stem.pdf`` (print) atomically, with fixed metadata so that a rerun gives identical bytes.

Every figure is laid out to its final size, with a white margin of :data:`MARGIN_IN` inside the
canvas, and nothing is drawn outside the canvas (a test checks it): :func:`save` writes the canvas
as it is, without ``bbox_inches="tight"``, which would draw each figure once more per file only to
measure it.

``synthetic=True`` puts a visible "SYNTHETIC DATA" label in the top-right corner of the figure (a
text artist with gid :data:`SYNTHETIC_GID`); :func:`save` then writes
:data:`ccanalysis.vocab.SYNTHETIC_LABEL` into the file metadata (PNG ``Description``, PDF ``Subject``).

Figures and their inputs
------------------------
* :func:`flow_diagram` (Figure 1 of the paper): the pre-survey steps (about 700 clinics, certified
  Health Care Homes, ineligible, eligible) come from ``study_facts`` (study facts that are not in the
  data; keys below), the rest (clinics recruited, surveys, coordinators, care models, percentages)
  is computed from the data.
* :func:`services_by_model`: Table 3's ``svc_*`` items, horizontal grouped bars sorted by the share
  of all clinics (as in the study's slide deck). Input: the long table (``tables/table3.csv``).
* :func:`difference_plot`: isw - mn differences with their 95% intervals for every row of Tables 3
  and 4 present in the sensitivity output, one colour per analysis, dodged. Input: the long
  sensitivity table (``tables/sensitivity.csv``; contract in :func:`difference_data`).
* :func:`coordinator_characteristics`: Table 1 by coordinator group, small multiples.
* :func:`criteria_chart`: the four criteria of the integrated social worker model (Table 2), as an
  UpSet-style chart of the combinations met, by care model.

What is drawn is also available as data (:func:`flow_counts`, :func:`services_data`,
:func:`difference_data`, :func:`criteria_data`), and the drawn artists carry gids
(``bar:<group>:<item>``, ``ci:<table>:<analysis>`` ...) so that tests can read the figure back.
"""

from __future__ import annotations

import html
import math
import os
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch
from matplotlib.transforms import blended_transform_factory, offset_copy

from ccanalysis.io import write_with
from ccanalysis.printing import format_p as tables_format_p
from ccanalysis.printing import round_half_up
from ccanalysis.privacy import is_small
from ccanalysis.vocab import SYNTHETIC_LABEL

# ---------------------------------------------------------------------------------------------
# Style
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
#: Fixed colours of the care models and the coordinator groups, in every figure.
GROUP_COLORS: dict[str, str] = {
    "total": GREY,
    "mn": OKABE_ITO["orange"],
    "isw": OKABE_ITO["blue"],
    "medical_nursing": OKABE_ITO["orange"],
    "integrated_sw": OKABE_ITO["blue"],
    "mn_only": OKABE_ITO["orange"],
    "isw_only": OKABE_ITO["blue"],
    "both": OKABE_ITO["bluish_green"],
}
GROUP_NAMES: dict[str, str] = {
    "total": "All clinics",
    "mn": "Medical/nursing model",
    "isw": "Integrated social worker model",
    "medical_nursing": "Medical/nursing model",
    "integrated_sw": "Integrated social worker model",
}
COORDINATOR_GROUP_NAMES: dict[str, str] = {
    "total": "All coordinators",
    "mn_only": "Only medical/nursing clinics",
    "isw_only": "Only integrated SW clinics",
    "both": "Clinics of both models",
}
#: Analyses of the sensitivity table, in drawing order, with their legend text, colour and marker.
ANALYSES: dict[str, tuple[str, str, str]] = {
    "unadjusted": ("Unadjusted (Newcombe / t interval)", OKABE_ITO["black"], "o"),
    "standardized_isw": (
        "Standardized to the ISW clinics' rurality x system size",
        OKABE_ITO["vermillion"],
        "s",
    ),
    "gee_care_system": ("GEE, clustered by care system", OKABE_ITO["bluish_green"], "D"),
    "gee_coordinator": ("GEE, clustered by coordinator", OKABE_ITO["reddish_purple"], "^"),
}
_EXTRA_ANALYSIS_STYLES: tuple[tuple[str, str], ...] = (
    (OKABE_ITO["sky_blue"], "v"),
    (OKABE_ITO["yellow"], "P"),
    (GREY, "X"),
)
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
#: Short labels of the four criteria of Table 2 (the paper's order).
CRITERIA_LABELS: dict[str, str] = {
    "sw_on_team": "1. Social worker on the CC team",
    "sw_responsible": "2. SW responsible for social services",
    "sw_interacts_patients": "3. SW interacts regularly with patients",
    "sw_interacts_clinicians": "4. SW interacts regularly with clinicians",
}

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


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def format_pct(x: float, decimals: int = 0) -> str:
    """``83.42 -> '83%'`` (half up on the shortest decimal representation, as the tables do)."""
    return f"{round_half_up(x, decimals)}%"


def format_p(p: float) -> str:
    """The tables' p-value text with a ``P`` label: ``P<0.001``, ``P>0.9``, ``P=0.38``."""
    if not np.isfinite(p):
        return ""
    text = tables_format_p(p)
    return f"P{text}" if text[0] in "<>" else f"P={text}"


def _count_text(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,}"


def _text(values: pd.Series) -> pd.Series:
    """Strings, missing values as ''."""
    obj = values.astype(object)
    return obj.where(obj.notna(), "").astype(str)


def _spec(spec: pd.DataFrame) -> pd.DataFrame:
    out = spec.copy()
    for c in ("table", "section", "item", "level", "label", "stat", "shown"):
        if c not in out.columns:
            if c in ("section", "shown"):
                out[c] = ""
            else:
                raise KeyError(f"the table specification lacks the column {c!r}")
        out[c] = _text(out[c])
    return out.reset_index(drop=True)


def _long(table_long: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("item", "level", "group", "measure", "value") if c not in table_long]
    if missing:
        raise KeyError(f"the long table lacks the columns {missing}")
    out = table_long.copy()
    for c in ("item", "level", "group", "measure"):
        out[c] = _text(out[c])
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    return out


def _lookup(long: pd.DataFrame) -> dict[tuple[str, str, str, str], float]:
    return {
        (r.item, r.level, r.group, r.measure): float(r.value)
        for r in long[["item", "level", "group", "measure", "value"]].itertuples(index=False)
    }


def _group_sizes(long: pd.DataFrame) -> dict[str, int]:
    rows = long[(long["item"] == "n") & (long["measure"] == "n")]
    return {g: int(v) for g, v in zip(rows["group"], rows["value"], strict=True) if np.isfinite(v)}


def _new_figure(
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


def _finish(fig: Figure, title: str, *, synthetic: bool) -> Figure:
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
# Saving
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


#: zlib level of the PNGs: 1 instead of Pillow's 6 writes the 16-megapixel difference plot in
#: ~0.34 s instead of ~0.48 s (all five figures: ~0.3 s less) for ~15% larger files.
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


def show(saved: Sequence[Path], notebook_dir: str | Path) -> object:
    """Display a saved figure in a notebook: its PNG, by a link relative to the notebook's folder.

    The reader sees the very file :func:`save` wrote, and the figure is not drawn a second time by
    the inline backend (which would cost as much as saving it, about 2 s for the five figures).
    """
    from IPython.display import HTML

    png = next(Path(p) for p in saved if Path(p).suffix == ".png")
    src = os.path.relpath(png.resolve(), Path(notebook_dir).resolve())
    return HTML(
        f'<img src="{html.escape(src)}" alt="{html.escape(png.stem)}" style="max-width:100%">'
    )


# ---------------------------------------------------------------------------------------------
# 1. Participant flow (Figure 1)
# ---------------------------------------------------------------------------------------------

#: Keys of ``study_facts`` used by :func:`flow_diagram` (the names of the study's facts file).
FACT_CLINICS = "mn_primary_care_clinics_approx"
FACT_CERTIFIED = "mn_certified_clinics_2020"
FACT_INELIGIBLE = "ineligible_clinics"
FACT_ELIGIBLE = "eligible_clinics"
INELIGIBLE_REASONS = (
    "served only children, had <10 care coordination\npatients, or closed or discontinued care "
    "coordination"
)


def _fact(study_facts: Mapping[str, float | str], key: str) -> float:
    if key not in study_facts:
        raise KeyError(f"study_facts lacks {key!r} (needed for the flow diagram)")
    try:
        return float(study_facts[key])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"study_facts[{key!r}] = {study_facts[key]!r} is not a number") from exc


def flow_counts(
    study_facts: Mapping[str, float | str], clinics: pd.DataFrame, coordinators: pd.DataFrame | int
) -> dict[str, float]:
    """The numbers of the flow diagram.

    From ``study_facts``: ``mn_primary_care_clinics_approx`` (about 700), ``mn_certified_clinics_2020``
    (415), ``ineligible_clinics`` (35) and optionally ``eligible_clinics`` (380; must equal certified
    minus ineligible). From the data: ``recruited`` = clinics in the clinic frame, ``surveys`` =
    clinics with a survey (a coordinator id), ``coordinators`` (rows of the coordinator frame, or
    an int), ``care_systems`` (distinct ``care_system_id``, when the column exists) and the clinics
    per care model. Percentages are computed: recruited of eligible, surveys of recruited, each
    model of the surveyed clinics.
    """
    approx = _fact(study_facts, FACT_CLINICS)
    certified = _fact(study_facts, FACT_CERTIFIED)
    ineligible = _fact(study_facts, FACT_INELIGIBLE)
    eligible = certified - ineligible
    if FACT_ELIGIBLE in study_facts and _fact(study_facts, FACT_ELIGIBLE) != eligible:
        raise ValueError(
            f"study_facts: eligible_clinics = {_fact(study_facts, FACT_ELIGIBLE):g} but certified "
            f"- ineligible = {eligible:g}"
        )
    recruited = len(clinics)
    if eligible <= 0 or recruited > eligible:
        raise ValueError(f"{recruited} clinics in the data but {eligible:g} eligible clinics")
    if "coordinator_id" in clinics.columns:
        surveys = int(clinics["coordinator_id"].notna().sum())
    else:
        surveys = recruited
    if isinstance(coordinators, pd.DataFrame):
        n_coord = (
            int(coordinators["coordinator_id"].nunique())
            if "coordinator_id" in coordinators.columns
            else len(coordinators)
        )
    else:
        n_coord = int(coordinators)
    if "care_model" not in clinics.columns:
        raise KeyError("the clinic frame has no care_model column (run ccanalysis.classify first)")
    models = clinics["care_model"].astype(object)
    n_isw = int(models.eq("integrated_sw").sum())
    n_mn = int(models.eq("medical_nursing").sum())
    out = {
        "clinics_approx": approx,
        "certified": certified,
        "ineligible": ineligible,
        "eligible": eligible,
        "recruited": recruited,
        "recruited_pct": 100.0 * recruited / eligible,
        "surveys": surveys,
        "surveys_pct": 100.0 * surveys / recruited if recruited else math.nan,
        "coordinators": n_coord,
        "isw": n_isw,
        "isw_pct": 100.0 * n_isw / surveys if surveys else math.nan,
        "mn": n_mn,
        "mn_pct": 100.0 * n_mn / surveys if surveys else math.nan,
    }
    if "care_system_id" in clinics.columns:
        out["care_systems"] = int(clinics["care_system_id"].nunique())
    return out


def _box(
    ax,
    x: float,
    y: float,
    w: float,
    h: float,
    text: str,
    *,
    edge: str = "#333333",
    face: str = "white",
    gid: str = "",
    weight: str = "normal",
    size: float = 9,
) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=1.2",
            facecolor=face,
            edgecolor=edge,
            linewidth=1.3,
            gid=f"box:{gid}",
        )
    )
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=size,
        fontweight=weight,
        linespacing=1.35,
        gid=f"boxtext:{gid}",
    )


def _arrow(ax, xy_from: tuple[float, float], xy_to: tuple[float, float]) -> None:
    ax.annotate(
        "",
        xy=xy_to,
        xytext=xy_from,
        arrowprops={
            "arrowstyle": "-|>",
            "color": "#333333",
            "lw": 1.2,
            "shrinkA": 0,
            "shrinkB": 0,
            "mutation_scale": 12,
        },
    )


def flow_diagram(
    study_facts: Mapping[str, float | str],
    clinics: pd.DataFrame,
    coordinators: pd.DataFrame | int,
    *,
    synthetic: bool,
    min_cell: int | None = None,
) -> Figure:
    """Figure 1: the participant flow, from Minnesota's primary care clinics to the two care models.

    Numbers: see :func:`flow_counts` (pre-survey steps from ``study_facts``, the rest from the data).
    ``min_cell=k`` (privacy mode): a count of the data of 1 to k - 1 is shown as ``<k``, without
    its percentage (which would give it away).
    """
    c = flow_counts(study_facts, clinics, coordinators)

    def count(key: str) -> str:
        return f"<{min_cell}" if is_small(float(c[key]), min_cell) else str(c[key])

    def pct(key: str, text: str) -> str:
        """``text`` with the count's percentage in it, or nothing when the count is not shown."""
        return "" if is_small(float(c[key]), min_cell) else text.format(format_pct(c[key + "_pct"]))

    with style():
        fig = _new_figure(7.2, 7.6)
        ax = fig.add_axes((0.0, 0.0, 1.0, 0.96))
        ax.set_xlim(-3, 100)
        ax.set_ylim(0, 100)
        ax.set_axis_off()
        x0, w, h = 40.0, 48.0, 8.5
        ys = [92.0, 77.0, 58.0, 43.0, 27.0]
        systems = f" in {c['care_systems']} care systems" if "care_systems" in c else ""
        texts = [
            f"~{_count_text(c['clinics_approx'])} Minnesota primary care clinics",
            f"{_count_text(c['certified'])} clinics certified as\nHealth Care Homes (HCH) in 2020",
            f"{_count_text(c['eligible'])} eligible HCH clinics",
            f"{count('recruited')} clinics recruited{systems}"
            + pct("recruited", "\n({} of eligible clinics)"),
            f"{count('surveys')} clinic surveys completed"
            + pct("surveys", " ({})")
            + f"\nby {count('coordinators')} care coordinators",
        ]
        gids = ["clinics", "certified", "eligible", "recruited", "surveys"]
        for y, t, g in zip(ys, texts, gids, strict=True):
            _box(ax, x0, y, w, h, t, gid=g)
        for y_top, y_bot in zip(ys[:-1], ys[1:], strict=True):
            _arrow(ax, (x0, y_top - h / 2), (x0, y_bot + h / 2))
        # exclusions, to the side of the certified -> eligible arrow
        y_ex = (ys[1] + ys[2]) / 2
        ex_x, ex_w = 82.0, 33.0
        _box(
            ax,
            ex_x,
            y_ex,
            ex_w,
            10.5,
            f"{_count_text(c['ineligible'])} ineligible clinics:\n"
            + textwrap.fill(INELIGIBLE_REASONS.replace("\n", " "), 36),
            gid="ineligible",
            size=7.5,
        )
        ax.plot([x0, ex_x - ex_w / 2 - 0.2], [y_ex, y_ex], color="#333333", lw=1.2)
        _arrow(ax, (ex_x - ex_w / 2 - 2.0, y_ex), (ex_x - ex_w / 2, y_ex))
        # the two care models
        y_m, mw = 9.0, 37.0
        split_y = ys[-1] - h / 2 - 5.0
        ax.plot([x0, x0], [ys[-1] - h / 2, split_y], color="#333333", lw=1.2)
        xs = {"isw": x0 - 23.0, "mn": x0 + 23.0}
        ax.plot([xs["isw"], xs["mn"]], [split_y, split_y], color="#333333", lw=1.2)
        for g, label in (
            ("isw", "Integrated social worker model"),
            ("mn", "Medical/nursing model"),
        ):
            _arrow(ax, (xs[g], split_y), (xs[g], y_m + h / 2 + 0.6))
            _box(
                ax,
                xs[g],
                y_m,
                mw,
                h + 1,
                f"{count(g)} clinics" + pct(g, " ({})") + f"\n{label}",
                edge=GROUP_COLORS[g],
                face=mpl.colors.to_hex(mpl.colors.to_rgba(GROUP_COLORS[g], 0.12), keep_alpha=True),
                gid=g,
                weight="bold",
            )
        fig.text(
            0.01,
            0.985,
            "Care coordinator survey: participant flow",
            ha="left",
            va="top",
            fontsize=10.5,
            fontweight="bold",
        )
    return _finish(fig, "Figure 1. Care coordinator survey participant flow", synthetic=synthetic)


# ---------------------------------------------------------------------------------------------
# 2. Services by care model (Table 3, svc_* items)
# ---------------------------------------------------------------------------------------------


def services_data(
    table3_long: pd.DataFrame, spec: pd.DataFrame, prefix: str = "svc_"
) -> pd.DataFrame:
    """Percentages of Table 3's service items by group, sorted by the share of all clinics.

    Columns: ``item, level, label, total, mn, isw, p`` (percentages 0-100; ``p`` NaN when the table
    has no p row). Order: ``total`` descending, ties in the specification's order. When the table
    has no ``total`` rows, the total is computed from the groups' ``n`` and ``denom``.
    """
    sp = _spec(spec)
    rows = sp[(sp["table"] == "table3") & sp["item"].str.startswith(prefix)]
    if rows.empty:
        raise ValueError(f"the specification has no Table 3 items starting with {prefix!r}")
    long = _long(table3_long)
    look = _lookup(long)
    out = []
    for order, r in enumerate(rows.itertuples(index=False)):
        vals = {g: look.get((r.item, r.level, g, "pct"), math.nan) for g in ("total", "mn", "isw")}
        if not np.isfinite(vals["total"]):
            n = sum(look.get((r.item, r.level, g, "n"), math.nan) for g in ("mn", "isw"))
            d = sum(look.get((r.item, r.level, g, "denom"), math.nan) for g in ("mn", "isw"))
            vals["total"] = 100.0 * n / d if d else math.nan
        if not (np.isfinite(vals["mn"]) and np.isfinite(vals["isw"])):
            raise KeyError(f"table3 has no pct rows for {r.item}={r.level} in groups mn and isw")
        out.append(
            {
                "item": r.item,
                "level": r.level,
                "label": r.label,
                **vals,
                "p": look.get((r.item, "", "all", "p"), math.nan),
                "order": order,
            }
        )
    frame = pd.DataFrame(out)
    frame = frame.sort_values(["total", "order"], ascending=[False, True], kind="stable")
    return frame.drop(columns="order").reset_index(drop=True)


def services_by_model(table3_long: pd.DataFrame, spec: pd.DataFrame, *, synthetic: bool) -> Figure:
    """Services provided by care coordinators, by care model: horizontal grouped bars (percent of
    clinics, medical/nursing above integrated social worker), the most common service on top.

    Bars carry gids ``bar:mn:<item>`` and ``bar:isw:<item>``; their widths are the percentages.
    """
    data = services_data(table3_long, spec)
    sizes = _group_sizes(_long(table3_long))
    k = len(data)
    with style():
        fig = _new_figure(8.0, 1.4 + 0.4 * k, constrained=True)
        ax = fig.add_subplot()
        y = np.arange(k, dtype=float)
        bh = 0.38
        for g, off in (("mn", -bh / 2), ("isw", bh / 2)):
            n = sizes.get(g)
            name = GROUP_NAMES[g] + (f" (n={n})" if n else "")
            bars = ax.barh(
                y + off,
                data[g].to_numpy(),
                height=bh,
                color=GROUP_COLORS[g],
                label=name,
                edgecolor="white",
                linewidth=0.4,
            )
            for bar, item, v in zip(bars, data["item"], data[g], strict=True):
                bar.set_gid(f"bar:{g}:{item}")
                ax.text(
                    v + 0.8,
                    bar.get_y() + bh / 2,
                    format_pct(v),
                    va="center",
                    ha="left",
                    fontsize=7,
                    color="#333333",
                )
        ax.set_yticks(y, [textwrap.fill(s, 40) for s in data["label"]])
        ax.set_ylim(k - 0.45, -0.55)
        ax.set_xlim(0, 108)
        ax.set_xticks(np.arange(0, 101, 10), [f"{t}%" for t in range(0, 101, 10)])
        ax.xaxis.grid(True)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("Percent of clinics whose care coordinators provide the service")
        if data["p"].notna().any():
            tr = blended_transform_factory(ax.transAxes, ax.transData)
            ax.text(
                1.0,
                -0.75,
                "Fisher's test",
                transform=tr,
                ha="left",
                va="bottom",
                fontsize=7,
                color="#555555",
            )
            for yi, p in zip(y, data["p"], strict=True):
                ax.text(
                    1.0,
                    yi,
                    format_p(p),
                    transform=tr,
                    ha="left",
                    va="center",
                    fontsize=7,
                    color="#555555",
                    gid="pvalue",
                )
        ax.legend(loc="lower center", bbox_to_anchor=(0.4, 1.0), ncols=2, handlelength=1.2)
        fig.suptitle(
            "Services provided by care coordinators, by clinic care model",
            x=0.01,
            ha="left",
            fontsize=10.5,
            fontweight="bold",
        )
    return _finish(fig, "Services provided by care model (Table 3)", synthetic=synthetic)


# ---------------------------------------------------------------------------------------------
# 3. Differences between the care models, every analysis (Tables 3 and 4)
# ---------------------------------------------------------------------------------------------

SENSITIVITY_COLUMNS: tuple[str, ...] = (
    "item",
    "level",
    "analysis",
    "estimate",
    "ci_low",
    "ci_high",
)
#: Measures on the percentage-point panel, and their factor to percentage points.
PP_MEASURES: dict[str, float] = {"pp_diff": 1.0, "risk_diff": 100.0}
MEAN_MEASURES = frozenset({"mean_diff"})
SKIPPED_MEASURES = frozenset({"odds_ratio"})
DIFF_TABLES: tuple[str, ...] = ("table3", "table4")


def difference_data(sensitivity_long: pd.DataFrame, spec: pd.DataFrame) -> pd.DataFrame:
    """The rows the difference plot draws, on the plotted scale.

    Input contract (``tables/sensitivity.csv``): columns ``item, level, analysis, estimate, ci_low,
    ci_high`` (and optionally ``p, table, measure, note``); ``measure`` is ``pp_diff`` (isw - mn in
    percentage points, -100..100), ``risk_diff`` (isw - mn as a difference of proportions, -1..1:
    multiplied by 100 here; a value outside -1..1 is an error, not guessed), ``mean_diff`` (isw - mn
    in the item's units: the separate means panel) or ``odds_ratio`` (not drawn: another scale).
    Without ``measure``, rows of mean items (stat ``mean_sd`` in the specification) are
    ``mean_diff`` and the others ``pp_diff``. Without ``table``, the table is the specification's.
    Only rows of Tables 3 and 4 are drawn.

    Returns the columns ``table, section, item, level, label, order, panel`` (``pp`` | ``mean``),
    ``analysis, measure, estimate, ci_low, ci_high`` (converted), ``p``; ordered as the
    specification (rows it lacks at the end of their table, under "Other items").
    """
    missing = [c for c in SENSITIVITY_COLUMNS if c not in sensitivity_long.columns]
    if missing:
        raise KeyError(f"the sensitivity table lacks the columns {missing}")
    sp = _spec(spec)
    sp = sp[sp["table"].isin(DIFF_TABLES)].reset_index(drop=True)
    sens = sensitivity_long.copy()
    for c in ("item", "level", "analysis"):
        sens[c] = _text(sens[c])
    for c in ("estimate", "ci_low", "ci_high"):
        sens[c] = pd.to_numeric(sens[c], errors="coerce").astype(float)
    sens["p"] = (
        pd.to_numeric(sens["p"], errors="coerce").astype(float) if "p" in sens.columns else math.nan
    )
    key_spec = {(r.item, r.level): r for r in sp.itertuples(index=False)}
    mean_items = set(sp.loc[sp["stat"] == "mean_sd", "item"])
    table_of_item = dict(zip(sp["item"], sp["table"], strict=False))
    if "table" in sens.columns:
        sens["table"] = _text(sens["table"])
        blank = sens["table"] == ""
        sens.loc[blank, "table"] = sens.loc[blank, "item"].map(table_of_item).fillna("")
    else:
        sens["table"] = sens["item"].map(table_of_item).fillna("").astype(str)
    if "measure" in sens.columns:
        sens["measure"] = _text(sens["measure"])
    else:
        sens["measure"] = np.where(sens["item"].isin(mean_items), "mean_diff", "pp_diff")
    known = set(PP_MEASURES) | MEAN_MEASURES | SKIPPED_MEASURES
    unknown = sorted(set(sens["measure"]) - known)
    if unknown:
        raise ValueError(
            f"unknown measures in the sensitivity table: {unknown} (known: {sorted(known)})"
        )
    sens = sens[sens["table"].isin(DIFF_TABLES) & ~sens["measure"].isin(SKIPPED_MEASURES)].copy()
    # risk differences: the contract is proportions (-1..1); convert to percentage points
    rd = sens["measure"] == "risk_diff"
    vals = sens.loc[rd, ["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)
    if np.any(np.abs(vals[np.isfinite(vals)]) > 1.0 + 1e-9):
        bad = sens.loc[rd].loc[(np.abs(np.nan_to_num(vals)) > 1.0 + 1e-9).any(axis=1)]
        raise ValueError(
            "risk_diff must be a difference of proportions (-1..1); rows out of range: "
            + ", ".join(f"{r.item}/{r.level}/{r.analysis}" for r in bad.head(5).itertuples())
        )
    factor = sens["measure"].map(lambda m: PP_MEASURES.get(m, 1.0)).astype(float)
    for c in ("estimate", "ci_low", "ci_high"):
        sens[c] = sens[c] * factor
    sens["panel"] = np.where(sens["measure"].isin(MEAN_MEASURES), "mean", "pp")

    order = {(r.item, r.level): i for i, r in enumerate(sp.itertuples(index=False))}
    extra = 0
    sections, labels, orders = [], [], []
    for r in sens.itertuples(index=False):
        s = key_spec.get((r.item, r.level))
        if s is not None:
            sections.append(s.section)
            labels.append(_strip_stat(s.label) if r.measure in MEAN_MEASURES else s.label)
            orders.append(order[(r.item, r.level)])
        else:
            if (r.item, r.level) not in order:
                order[(r.item, r.level)] = len(sp) + extra
                extra += 1
            sections.append("Other items")
            labels.append(f"{r.item} = {r.level}" if r.level else r.item)
            orders.append(order[(r.item, r.level)])
    sens["section"] = sections
    sens["label"] = labels
    sens["order"] = orders
    aorder = {a: i for i, a in enumerate(_analysis_order(sens["analysis"]))}
    sens["_a"] = sens["analysis"].map(aorder)
    sens = sens.sort_values(["table", "panel", "order", "_a"], kind="stable")
    cols = [
        "table",
        "section",
        "item",
        "level",
        "label",
        "order",
        "panel",
        "analysis",
        "measure",
        "estimate",
        "ci_low",
        "ci_high",
        "p",
    ]
    return sens[cols].reset_index(drop=True)


def _strip_stat(label: str) -> str:
    for suffix in (" – Mean (SD)", " - Mean (SD)", " mean (SD)", " (SD)"):
        if label.endswith(suffix):
            return label[: -len(suffix)]
    return label


def _analysis_order(analyses: pd.Series | Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(analyses))
    return [a for a in ANALYSES if a in present] + sorted(a for a in present if a not in ANALYSES)


def _analysis_style(analysis: str, extras: list[str]) -> tuple[str, str, str]:
    if analysis in ANALYSES:
        return ANALYSES[analysis]
    color, marker = _EXTRA_ANALYSIS_STYLES[extras.index(analysis) % len(_EXTRA_ANALYSIS_STYLES)]
    return analysis.replace("_", " "), color, marker


_LINE_IN = 0.125  # inches per line of 7.5 pt text
_DODGE_IN = 0.065  # inches between the dodged analyses of a row
_HEADER_GAP_IN = 0.06


def _layout_rows(rows: pd.DataFrame, n_analyses: int, width_chars: int) -> tuple[list, float]:
    """Vertical positions (inches from the top) of section headers and item rows of one panel."""
    entries = []  # (kind, y_center, text, key, height)
    y = 0.05
    current = None
    row_h_min = n_analyses * _DODGE_IN + 0.09
    for (_order, section, label, item, level), _ in rows.groupby(
        ["order", "section", "label", "item", "level"], sort=True
    ):
        if section and section != current:
            text = textwrap.fill(section.rstrip(":"), width_chars - 6)
            h = text.count("\n") * _LINE_IN + _LINE_IN + _HEADER_GAP_IN
            y += _HEADER_GAP_IN
            entries.append(("header", y + h / 2, text, None, h))
            y += h
        current = section
        indent = bool(section)
        text = textwrap.fill(label, width_chars - (3 if indent else 0))
        h = max(row_h_min, (text.count("\n") + 1) * _LINE_IN + 0.06)
        entries.append(("item", y + h / 2, text, (item, level, indent), h))
        y += h
    return entries, y + 0.05


def difference_plot(
    sensitivity_long: pd.DataFrame, spec: pd.DataFrame, *, synthetic: bool
) -> Figure:
    """Differences between the care models (integrated SW - medical/nursing) for every row of
    Tables 3 and 4 in the sensitivity table, one colour and marker per analysis, dodged.

    Table 3 (left) and Table 4 (right) share the percentage-point axis; mean differences of the
    continuous items go to a panel of their own under Table 3 (in the items' units). Each interval is
    a horizontal segment of the LineCollection with gid ``ci:<table>:<panel>:<analysis>``; the
    estimates are the Line2D with gid ``est:<table>:<panel>:<analysis>``. Contract of the input:
    :func:`difference_data`.
    """
    data = difference_data(sensitivity_long, spec)
    if data.empty:
        raise ValueError("the sensitivity table has no rows of Tables 3 and 4 to draw")
    analyses = _analysis_order(data["analysis"])
    extras = [a for a in analyses if a not in ANALYSES]
    n_a = len(analyses)
    label_w, plot_w, gap = 3.1, 2.9, 0.45
    width_chars = 48
    panels: list[tuple[str, str, pd.DataFrame]] = []
    for t in DIFF_TABLES:
        for p in ("pp", "mean"):
            rows = data[(data["table"] == t) & (data["panel"] == p)]
            if not rows.empty:
                panels.append((t, p, rows))
    layouts = {(t, p): _layout_rows(rows, n_a, width_chars) for t, p, rows in panels}
    columns: dict[str, list[tuple[str, str, pd.DataFrame]]] = {}
    for t, p, rows in panels:
        columns.setdefault(t, []).append((t, p, rows))
    axis_in = 0.55  # x axis, tick labels and axis label under each panel
    title_in = 0.35  # panel title
    col_heights = {
        t: sum(layouts[(t, p)][1] + axis_in + title_in + 0.25 for t, p, _ in cols)
        for t, cols in columns.items()
    }
    legend_cols = min(n_a, 2)
    # the title, the legend (0.17 in a row; two rows: 1.05 in), then the panels
    top_in, bottom_in = 0.71 + 0.17 * math.ceil(n_a / legend_cols), 0.55
    fig_h = top_in + max(col_heights.values()) + bottom_in
    n_cols = len(columns)
    fig_w = 0.15 + n_cols * (label_w + plot_w) + (n_cols - 1) * gap + 0.35
    pp = data[data["panel"] == "pp"]
    if not pp.empty:
        vals = pp[["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)
        lo, hi = np.nanmin(np.append(vals, 0.0)), np.nanmax(np.append(vals, 0.0))
        pad = 0.05 * (hi - lo or 1.0)
        pp_lim = (lo - pad, hi + pad)
    skipped = int(
        sensitivity_long.get("measure", pd.Series(dtype=object))
        .astype(object)
        .isin(SKIPPED_MEASURES)
        .sum()
    )
    converted = bool(
        sensitivity_long.get("measure", pd.Series(dtype=object))
        .astype(object)
        .eq("risk_diff")
        .any()
    )
    with style():
        fig = _new_figure(fig_w, fig_h)
        for ci, (t, cols) in enumerate(columns.items()):
            x_in = 0.15 + ci * (label_w + plot_w + gap)
            y_top = top_in
            for _, p, rows in cols:
                entries, h_in = layouts[(t, p)]
                y_top += title_in
                bottom = 1 - (y_top + h_in) / fig_h
                lab_ax = fig.add_axes((x_in / fig_w, bottom, label_w / fig_w, h_in / fig_h))
                ax = fig.add_axes(
                    ((x_in + label_w) / fig_w, bottom, plot_w / fig_w, h_in / fig_h), sharey=lab_ax
                )
                lab_ax.set_axis_off()
                lab_ax.set_xlim(0, 1)
                lab_ax.set_ylim(h_in, 0)
                table_name = {
                    "table3": "Table 3. Care coordination activities",
                    "table4": "Table 4. Broad approaches supporting care coordination",
                }
                title = table_name.get(t, t)
                if p == "mean":
                    title = (
                        "Table 3. Means (difference in the item's units)"
                        if t == "table3"
                        else f"{title}: means (item's units)"
                    )
                lab_ax.set_title(title, loc="left", fontsize=9.5, pad=18 if h_in > 6 else 6)
                y_of: dict[tuple[str, str], float] = {}
                stripe = False
                for kind, yc, text, key, h in entries:
                    if kind == "header":
                        lab_ax.text(
                            0.0,
                            yc,
                            text,
                            ha="left",
                            va="center",
                            fontsize=7.5,
                            fontweight="bold",
                            linespacing=1.1,
                            gid="section",
                        )
                        stripe = False
                        continue
                    item, level, indent = key
                    y_of[(item, level)] = yc
                    lab_ax.text(
                        0.03 if indent else 0.0,
                        yc,
                        text,
                        ha="left",
                        va="center",
                        fontsize=7.5,
                        linespacing=1.05,
                        gid="rowlabel",
                    )
                    if stripe:
                        ax.axhspan(yc - h / 2, yc + h / 2, color="#F2F2F2", lw=0, zorder=0)
                    stripe = not stripe
                offsets = (np.arange(n_a) - (n_a - 1) / 2) * _DODGE_IN
                for a, off in zip(analyses, offsets, strict=True):
                    sub = rows[rows["analysis"] == a]
                    if sub.empty:
                        continue
                    _, color, marker = _analysis_style(a, extras)
                    ys = (
                        np.array(
                            [y_of[(i, lv)] for i, lv in zip(sub["item"], sub["level"], strict=True)]
                        )
                        + off
                    )
                    est = sub["estimate"].to_numpy(dtype=float)
                    lo_ = sub["ci_low"].to_numpy(dtype=float)
                    hi_ = sub["ci_high"].to_numpy(dtype=float)
                    ok = np.isfinite(lo_) & np.isfinite(hi_)
                    ax.hlines(
                        ys[ok],
                        lo_[ok],
                        hi_[ok],
                        colors=color,
                        linewidth=1.1,
                        zorder=2,
                        gid=f"ci:{t}:{p}:{a}",
                    )
                    fin = np.isfinite(est)
                    ax.plot(
                        est[fin],
                        ys[fin],
                        linestyle="none",
                        marker=marker,
                        markersize=3.6,
                        color=color,
                        markeredgecolor="white",
                        markeredgewidth=0.4,
                        zorder=3,
                        gid=f"est:{t}:{p}:{a}",
                    )
                ax.axvline(0, color="#333333", linewidth=0.8, zorder=1)
                ax.xaxis.grid(True)
                ax.spines["left"].set_visible(False)
                ax.tick_params(axis="y", left=False, labelleft=False)
                ax.tick_params(axis="x", top=h_in > 6, labeltop=h_in > 6, labelsize=7.5)
                if p == "pp":
                    ax.set_xlim(*pp_lim)
                    ax.set_xlabel("ISW - MN, percentage points", fontsize=8)
                else:
                    vals = rows[["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)
                    lo, hi = np.nanmin(np.append(vals, 0.0)), np.nanmax(np.append(vals, 0.0))
                    pad = 0.05 * (hi - lo or 1.0)
                    ax.set_xlim(lo - pad, hi + pad)
                    ax.set_xlabel("ISW - MN, mean difference (item's units)", fontsize=8)
                ax.set_ylim(h_in, 0)
                y_top += h_in + axis_in + 0.25
        handles = []
        for a in analyses:
            name, color, marker = _analysis_style(a, extras)
            handles.append(
                Line2D(
                    [0], [0], color=color, marker=marker, markersize=5, linewidth=1.2, label=name
                )
            )
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.15 / fig_w, 1 - 0.42 / fig_h),
            ncols=legend_cols,
            fontsize=8,
            handlelength=2.2,
            columnspacing=2.0,
        )
        fig.text(
            0.15 / fig_w,
            1 - 0.12 / fig_h,
            "Difference between care models (integrated social worker - medical/nursing), "
            "estimate and 95% interval",
            ha="left",
            va="top",
            fontsize=10.5,
            fontweight="bold",
        )
        notes = ["Positive: more common (or larger) in integrated social worker clinics."]
        if converted:
            notes.append("GEE risk differences (proportions) are shown in percentage points.")
        if skipped:
            notes.append(f"Odds ratios are not shown (another scale; {skipped} rows).")
        fig.text(
            0.15 / fig_w,
            0.2 / fig_h,
            " ".join(notes),
            ha="left",
            va="bottom",
            fontsize=7.5,
            color="#444444",
        )
    return _finish(
        fig, "Differences between care models, Tables 3 and 4, by analysis", synthetic=synthetic
    )


# ---------------------------------------------------------------------------------------------
# 4. Coordinators (Table 1) and the criteria of the care model (Table 2)
# ---------------------------------------------------------------------------------------------

TABLE1_GROUPS: tuple[str, ...] = ("total", "mn_only", "isw_only", "both")


def _group_label(g: str, sizes: Mapping[str, int]) -> str:
    n = sizes.get(g)
    return COORDINATOR_GROUP_NAMES.get(g, g) + (f"\n(n={n})" if n else "")


def coordinator_characteristics(
    table1_long: pd.DataFrame, spec: pd.DataFrame, *, synthetic: bool
) -> Figure:
    """Table 1 as small multiples: the distribution of degrees by coordinator group (100% stacked
    bars; gid ``degree:<group>:<level>``), the yes/no items (grouped bars; ``pct:<item>:<group>``)
    and the means with +-1 SD (one panel per item; ``mean:<item>:<group>``).
    """
    sp = _spec(spec)
    sp = sp[sp["table"] == "table1"]
    long = _long(table1_long)
    look = _lookup(long)
    sizes = _group_sizes(long)
    groups = [g for g in TABLE1_GROUPS if (("n", "", g, "n") in look) or g != "total"]
    cmp_groups = [g for g in groups if g != "total"]
    dist_items = [
        i for i in dict.fromkeys(sp.loc[(sp["shown"] == "full") & (sp["stat"] == "n_pct"), "item"])
    ]
    bin_rows = sp[sp["shown"].isin(["binary", "collapsed"]) & (sp["stat"] == "n_pct")]
    mean_rows = sp[sp["stat"] == "mean_sd"]
    with style():
        fig = _new_figure(10.5, 7.2, constrained=True)
        fig.get_layout_engine().set(hspace=0.08, wspace=0.06)
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.25, 1])
        top_axes = top.subplots(1, 2, width_ratios=[1.5, 1])
        # degrees (first multi-level item)
        ax = top_axes[0]
        if dist_items:
            item = dist_items[0]
            levels = sp[sp["item"] == item]
            ylab = [_group_label(g, sizes) for g in groups]
            left = np.zeros(len(groups))
            for j, r in enumerate(levels.itertuples(index=False)):
                vals = np.array([look.get((item, r.level, g, "pct"), math.nan) for g in groups])
                vals = np.nan_to_num(vals)
                color = CATEGORY_COLORS[j % len(CATEGORY_COLORS)]
                bars = ax.barh(
                    np.arange(len(groups)),
                    vals,
                    left=left,
                    height=0.62,
                    color=color,
                    edgecolor="white",
                    linewidth=0.6,
                    label=r.label,
                )
                for bar, g, v, lft in zip(bars, groups, vals, left, strict=True):
                    bar.set_gid(f"degree:{g}:{r.level}")
                    if v >= 7:
                        rgb = mpl.colors.to_rgb(color)
                        dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 0.55
                        ax.text(
                            lft + v / 2,
                            bar.get_y() + 0.31,
                            format_pct(v),
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="white" if dark else "black",
                        )
                left = left + vals
            ax.set_yticks(np.arange(len(groups)), ylab)
            ax.set_ylim(len(groups) - 0.5, -0.5)
            ax.set_xlim(0, 100)
            ax.set_xticks(np.arange(0, 101, 25), [f"{t}%" for t in range(0, 101, 25)])
            ax.set_xlabel("Percent of coordinators")
            ax.tick_params(axis="y", length=0)
            section = levels["section"].iloc[0] or item
            ax.set_title(f"{section} (first checked)")
            ax.legend(
                loc="upper center",
                bbox_to_anchor=(0.5, -0.2),
                ncols=3,
                fontsize=7.5,
                handlelength=1.0,
            )
        else:
            ax.set_axis_off()
        # yes/no items
        ax = top_axes[1]
        k = len(bin_rows)
        bh = 0.8 / max(len(cmp_groups), 1)
        for j, g in enumerate(cmp_groups):
            vals = np.array(
                [
                    look.get((r.item, r.level, g, "pct"), math.nan)
                    for r in bin_rows.itertuples(index=False)
                ]
            )
            ys = np.arange(k) - 0.4 + bh * (j + 0.5)
            bars = ax.barh(
                ys,
                np.nan_to_num(vals),
                height=bh,
                color=GROUP_COLORS[g],
                label=COORDINATOR_GROUP_NAMES[g],
                edgecolor="white",
                linewidth=0.4,
            )
            for bar, r, v in zip(bars, bin_rows.itertuples(index=False), vals, strict=True):
                bar.set_gid(f"pct:{r.item}:{g}")
                if np.isfinite(v):
                    ax.text(
                        v + 1.5,
                        bar.get_y() + bh / 2,
                        format_pct(v),
                        va="center",
                        fontsize=6.5,
                        color="#333333",
                    )
        ax.set_yticks(
            np.arange(k), [textwrap.fill(s.replace(", yes", ""), 24) for s in bin_rows["label"]]
        )
        ax.set_ylim(k - 0.5, -0.5)
        ax.set_xlim(0, 115)
        ax.set_xticks(np.arange(0, 101, 25), [f"{t}%" for t in range(0, 101, 25)])
        ax.tick_params(axis="y", length=0, labelsize=7.5)
        ax.set_xlabel("Percent of coordinators")
        ax.set_title("Yes / usually or always")
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.4, -0.2), ncols=1, fontsize=7.5, handlelength=1.0
        )
        # means +- SD
        m = len(mean_rows)
        if m:
            axes = np.atleast_1d(bottom.subplots(1, m, sharey=True))
            for ax, r in zip(axes, mean_rows.itertuples(index=False), strict=True):
                for j, g in enumerate(cmp_groups):
                    mean = look.get((r.item, r.level, g, "mean"), math.nan)
                    sd = look.get((r.item, r.level, g, "sd"), math.nan)
                    ax.hlines(
                        j,
                        mean - sd,
                        mean + sd,
                        color=GROUP_COLORS[g],
                        linewidth=1.6,
                        gid=f"sd:{r.item}:{g}",
                    )
                    ax.plot(
                        [mean],
                        [j],
                        marker="o",
                        markersize=6,
                        color=GROUP_COLORS[g],
                        linestyle="none",
                        gid=f"mean:{r.item}:{g}",
                    )
                    if np.isfinite(mean):
                        ax.annotate(
                            f"{round_half_up(mean, 1)}",
                            (mean, j),
                            xytext=(0, 6),
                            textcoords="offset points",
                            ha="center",
                            fontsize=7,
                        )
                tot = look.get((r.item, r.level, "total", "mean"), math.nan)
                if np.isfinite(tot):
                    ax.axvline(tot, color=GREY, linestyle="--", linewidth=0.8)
                label = _strip_stat(r.label)
                ax.set_title(textwrap.fill(label, 34), fontsize=8.5)
                ax.set_xlabel("Mean \u00b1 1 SD (dashed: all coordinators)", fontsize=7.5)
                ax.set_ylim(len(cmp_groups) - 0.4, -0.6)
                ax.xaxis.grid(True)
                ax.tick_params(axis="y", length=0)
            axes[0].set_yticks(
                np.arange(len(cmp_groups)), [_group_label(g, sizes) for g in cmp_groups]
            )
        fig.suptitle(
            "Care coordinators by the care models of the clinics they report on (Table 1)",
            x=0.01,
            ha="left",
            fontsize=10.5,
            fontweight="bold",
        )
    return _finish(fig, "Care coordinator characteristics by group (Table 1)", synthetic=synthetic)


def criteria_data(
    clinics: pd.DataFrame, criteria: Sequence[str] = tuple(CRITERIA_LABELS)
) -> pd.DataFrame:
    """Clinics per combination of the criteria met (a missing answer counts as not met).

    One row per combination present: a boolean column per criterion, ``n_met`` (criteria met),
    ``n`` (clinics), ``mn`` and ``isw`` (clinics of each care model; from ``care_model`` when the frame
    has it, else from all criteria met). Sorted by ``n`` descending, then more criteria first.
    """
    missing = [c for c in criteria if c not in clinics.columns]
    if missing:
        raise KeyError(f"the clinic frame lacks the criteria {missing}")
    met = pd.DataFrame({c: clinics[c].astype(object).eq("yes").to_numpy() for c in criteria})
    if "care_model" in clinics.columns:
        model = clinics["care_model"].astype(object).to_numpy()
    else:
        model = np.where(met.all(axis=1), "integrated_sw", "medical_nursing")
    met["isw"] = (model == "integrated_sw").astype(int)
    met["mn"] = (model == "medical_nursing").astype(int)
    met["n"] = 1
    out = met.groupby(list(criteria), sort=False)[["n", "mn", "isw"]].sum().reset_index()
    out["n_met"] = out[list(criteria)].sum(axis=1).astype(int)
    out = out.sort_values(["n", "n_met"], ascending=[False, False], kind="stable")
    return out[[*criteria, "n_met", "n", "mn", "isw"]].reset_index(drop=True)


def criteria_chart(
    clinics: pd.DataFrame, *, synthetic: bool, min_cell: int | None = None
) -> Figure:
    """The four criteria of the integrated social worker model (Table 2) as an UpSet-style chart.

    Top: clinics per combination of criteria met, stacked by care model (gids
    ``combo:<mn|isw>:<k>``, k-th combination of :func:`criteria_data`); below: the dot matrix of
    the criteria in each combination; left: clinics meeting each criterion (``criterion:<name>``).
    ``min_cell=k`` (privacy mode): combinations of fewer than k clinics, or with fewer than k
    clinics of one care model, are left out (the note says how many), and a criterion met by 1 to
    k - 1 clinics shows ``<k`` without a bar.
    """
    criteria = tuple(CRITERIA_LABELS)
    data = criteria_data(clinics, criteria)
    hidden = pd.Series(False, index=data.index)
    for col in ("n", "mn", "isw"):
        hidden |= data[col].map(lambda v: is_small(float(v), min_cell))
    n_hidden, clinics_hidden = int(hidden.sum()), int(data.loc[hidden, "n"].sum())
    data = data[~hidden].reset_index(drop=True)
    k = len(data)
    with style():
        # 0.3 in at the bottom for the two lines of the note (the figure 0.15 in taller for it)
        fig_w, fig_h = max(7.5, 4.2 + 0.5 * k), 5.55
        fig = _new_figure(fig_w, fig_h, constrained=True, bottom_in=0.3)
        fig.get_layout_engine().set(hspace=0.02, wspace=0.02)
        gs = fig.add_gridspec(
            2, 2, width_ratios=[1.2, max(1.4, 0.5 * k / 2)], height_ratios=[1.6, 1]
        )
        ax_bar = fig.add_subplot(gs[0, 1])
        ax_dot = fig.add_subplot(gs[1, 1], sharex=ax_bar)
        ax_set = fig.add_subplot(gs[1, 0], sharey=ax_dot)
        x = np.arange(k)
        bottom = np.zeros(k)
        for g in ("mn", "isw"):
            vals = data[g].to_numpy(dtype=float)
            bars = ax_bar.bar(
                x,
                vals,
                bottom=bottom,
                width=0.65,
                color=GROUP_COLORS[g],
                label=GROUP_NAMES[g],
                edgecolor="white",
                linewidth=0.5,
            )
            for i, bar in enumerate(bars):
                bar.set_gid(f"combo:{g}:{i}")
            bottom = bottom + vals
        for i, n in enumerate(data["n"]):
            ax_bar.text(
                i, n + bottom.max() * 0.015, str(int(n)), ha="center", va="bottom", fontsize=8
            )
        ax_bar.set_ylabel("Clinics")
        ax_bar.set_ylim(0, bottom.max() * 1.12 if k else 1)
        ax_bar.tick_params(axis="x", bottom=False, labelbottom=False)
        ax_bar.yaxis.grid(True)
        ax_leg = fig.add_subplot(gs[0, 0])
        ax_leg.set_axis_off()
        handles, labels = ax_bar.get_legend_handles_labels()
        ax_leg.legend(
            handles,
            labels,
            loc="lower left",
            bbox_to_anchor=(0.0, 0.05),
            fontsize=8.5,
            title="Care model of the clinics",
            title_fontsize=8.5,
            alignment="left",
        )
        # two lines: constrained layout does not make room for a title wider than its axes
        ax_bar.set_title("Clinics by the combination\nof criteria met")
        # dot matrix
        for j in range(len(criteria)):
            if j % 2 == 0:
                ax_dot.axhspan(j - 0.5, j + 0.5, color="#F2F2F2", lw=0, zorder=0)
        for i in range(k):
            met = [j for j, c in enumerate(criteria) if bool(data.loc[i, c])]
            not_met = [j for j in range(len(criteria)) if j not in met]
            ax_dot.scatter(
                [i] * len(not_met), not_met, s=46, color=LIGHT_GREY, zorder=2, linewidths=0
            )
            if met:
                color = GROUP_COLORS["isw"] if len(met) == len(criteria) else "#333333"
                ax_dot.scatter(
                    [i] * len(met), met, s=46, color=color, zorder=3, linewidths=0, gid=f"dots:{i}"
                )
                ax_dot.plot([i, i], [min(met), max(met)], color=color, linewidth=2, zorder=2.5)
        ax_dot.set_ylim(len(criteria) - 0.5, -0.5)
        ax_dot.set_xlim(-0.6, k - 0.4)
        ax_dot.tick_params(
            axis="both", left=False, bottom=False, labelleft=False, labelbottom=False
        )
        for s in ("left", "bottom"):
            ax_dot.spines[s].set_visible(False)
        # criterion totals
        totals = [int(clinics[c].astype(object).eq("yes").sum()) for c in criteria]
        shown = [0 if is_small(v, min_cell) else v for v in totals]
        bars = ax_set.barh(np.arange(len(criteria)), shown, height=0.55, color="#555555")
        for bar, c, v in zip(bars, criteria, totals, strict=True):
            bar.set_gid(f"criterion:{c}")
            label = f"<{min_cell} " if is_small(v, min_cell) else f"{v} "
            ax_set.text(
                bar.get_width(),
                bar.get_y() + 0.275,
                label,
                ha="right",
                va="center",
                fontsize=7.5,
                color="#333333",
            )
        ax_set.invert_xaxis()
        ax_set.set_xlabel("Clinics meeting the criterion")
        ax_set.yaxis.tick_right()
        ax_set.set_yticks(np.arange(len(criteria)), [CRITERIA_LABELS[c] for c in criteria])
        ax_set.tick_params(axis="y", length=0, labelsize=8, pad=6)
        ax_set.spines["left"].set_visible(False)
        ax_set.spines["right"].set_visible(False)
        ax_set.set_ylim(len(criteria) - 0.5, -0.5)
        fig.text(
            MARGIN_IN / fig_w,
            MARGIN_IN / fig_h,
            f"N = {len(clinics)} clinics. Integrated social worker model = all four criteria "
            "met.\nA missing answer (criteria 2-4 are asked only where a social worker is on "
            "the team) counts as not met."
            + (
                f" Not shown: {n_hidden} combination{'s' if n_hidden != 1 else ''} of fewer "
                f"than {min_cell} clinics in a care model ("
                + (f"<{min_cell}" if is_small(clinics_hidden, min_cell) else str(clinics_hidden))
                + " clinics)."
                if n_hidden
                else ""
            ),
            ha="left",
            va="bottom",
            fontsize=7.5,
            color="#444444",
        )
        fig.suptitle(
            "Criteria of the integrated social worker model (Table 2)",
            x=0.01,
            ha="left",
            fontsize=10.5,
            fontweight="bold",
        )
    return _finish(fig, "Care model criteria met by clinics (Table 2)", synthetic=synthetic)
