"""Stage 05, the figures: ``figures/<stem>.png``, ``.svg``, ``.pdf``, numbered in :data:`FIGURES`'
order; seaborn's bars, matplotlib the rest; artists carry gids (``bar:<group>:<item>``) to read back."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ccanalysis.figures.coordinators import coordinator_characteristics
from ccanalysis.figures.criteria import criteria_chart
from ccanalysis.figures.differences import difference_plot
from ccanalysis.figures.flow import flow_diagram, read_recruitment_flow
from ccanalysis.figures.services import services_by_model
from ccanalysis.figures.theme import save
from ccanalysis.paths import Paths
from ccanalysis.spec import read_spec
from ccanalysis.stage import Artifacts, Params
from ccanalysis.tables.read import read_long

#: The figures :func:`run` draws, by file stem, in the notebook's order.
FIGURES: tuple[str, ...] = (
    "flow",
    "services_by_model",
    "differences_table3",
    "differences_table4",
    "coordinators",
    "criteria",
)


def draw(paths: Paths, params: Params) -> dict[str, Figure]:
    """Every figure of :data:`FIGURES`: labelled if synthetic, small counts hidden in privacy mode."""
    spec = read_spec(paths.spec, instrument=paths.dictionary)
    clinics = pd.read_parquet(paths.processed / "clinics.parquet")
    coordinators = pd.read_parquet(paths.processed / "coordinators.parquet")
    synthetic, min_cell = params.synthetic, params.suppress_below
    recruitment = read_recruitment_flow(paths.recruitment_flow)
    table1, table3 = (read_long(paths.tables / f"table{n}.csv") for n in (1, 3))
    return {
        "flow": flow_diagram(
            recruitment, clinics, coordinators, synthetic=synthetic, min_cell=min_cell
        ),
        "services_by_model": services_by_model(table3, spec, synthetic=synthetic),
        **{
            f"differences_{t}": difference_plot(
                paths.tables / "sensitivity.csv", spec, synthetic=synthetic, tables=(t,)
            )
            for t in ("table3", "table4")
        },
        "coordinators": coordinator_characteristics(table1, spec, synthetic=synthetic),
        "criteria": criteria_chart(clinics, synthetic=synthetic, min_cell=min_cell),
    }


def title(stem: str, label: str) -> str:
    """A figure's numbered title, its number by its place in :data:`FIGURES` (after the others)."""
    n = FIGURES.index(stem) + 1 if stem in FIGURES else len(FIGURES) + 1
    return f"Figure {n}. " + re.sub(r"^Figure \d+\.\s*", "", label)


def listing(saved: dict[str, list[Path]]) -> object:
    """The saved figures as a numbered list, linked to the landing page's (each embedded once)."""
    from html import escape

    from IPython.display import HTML
    from PIL import Image

    items = []
    for stem, files in saved.items():
        with Image.open(next(p for p in files if p.suffix == ".png")) as im:
            label, caption = im.text.get("Title", stem), im.text.get("Caption", "")
        link = f'<a href="index.html#figure-{stem}">{escape(title(stem, label))}</a>'
        items.append(f"<li>{link}. {escape(caption)}</li>")
    return HTML(f'<ul class="figure-list">{"".join(items)}</ul>')


def run(paths: Paths, params: Params) -> Artifacts:
    """Draw and save every figure: the files by name, the figures by stem in ``.results``."""
    figures = draw(paths, params)
    files = {p.name: p for stem, fig in figures.items() for p in save(fig, stem, paths.figures)}
    return Artifacts(files, **figures)
