"""Figures of the care coordinator survey: the participant flow and the comparisons of groups.

Stage 05. :func:`run` draws every figure from the outputs of the earlier stages and saves it as PNG
(screens, 200 dpi) and PDF (print) under ``figures/``. seaborn draws the bars and styles the axes;
matplotlib draws what seaborn lacks (the flow diagram, the dot matrix, the forest of intervals).
One module per figure; the drawn artists carry gids (``bar:<group>:<item>``,
``ci:<table>:<panel>:<analysis>`` ...) so that tests read a figure back:

* :mod:`.flow` -- :func:`flow_diagram` (the paper's Figure 1), :func:`read_recruitment_flow`;
* :mod:`.services` -- :func:`services_by_model`, :func:`services_data` (Table 3's services);
* :mod:`.differences` -- :func:`difference_plot`, :func:`difference_data` (the sensitivity output);
* :mod:`.coordinators` -- :func:`coordinator_characteristics` (Table 1);
* :mod:`.criteria` -- :func:`criteria_chart`, :func:`criteria_data` (Table 2's criteria);
* :mod:`.theme` -- seaborn's theme and palette, group names, :func:`save`, :func:`show`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ccanalysis.figures.coordinators import TABLE1_GROUPS, coordinator_characteristics
from ccanalysis.figures.criteria import CRITERIA_LABELS, criteria_chart, criteria_data
from ccanalysis.figures.differences import DIFFERENCE_COLUMNS, difference_data, difference_plot
from ccanalysis.figures.flow import flow_counts, flow_diagram, read_recruitment_flow
from ccanalysis.figures.services import services_by_model, services_data
from ccanalysis.figures.theme import (
    DPI,
    GROUP_COLORS,
    PALETTE,
    SYNTHETIC_GID,
    SYNTHETIC_TEXT,
    artists_with_gid,
    figure_texts,
    format_p,
    format_pct,
    group_label,
    has_synthetic_label,
    pair_colors,
    save,
    sentence_case,
    show,
    style,
)
from ccanalysis.paths import Paths
from ccanalysis.spec import read_spec
from ccanalysis.stage import Artifacts, Params
from ccanalysis.tables.read import read_long

#: The figures :func:`run` draws, by file stem, in the notebook's order.
FIGURES: tuple[str, ...] = ("flow", "services_by_model", "differences", "coordinators", "criteria")


def draw(paths: Paths, params: Params) -> dict[str, Figure]:
    """Every figure of :data:`FIGURES`, drawn from the run's inputs (nothing is written).

    Reads the table specification (checked against ``paths.dictionary``), the clinics and
    coordinators of ``data/processed/``, Tables 1 and 3 and the sensitivity output of ``tables/``,
    and the recruitment counts (``paths.recruitment_flow``). ``params.synthetic`` labels every
    figure; in privacy mode (``params.suppress_below``) the figures drawn from records hide small
    counts.
    """
    spec = read_spec(paths.spec, instrument=paths.dictionary)
    clinics = pd.read_parquet(paths.processed / "clinics.parquet")
    coordinators = pd.read_parquet(paths.processed / "coordinators.parquet")
    synthetic, min_cell = params.synthetic, params.suppress_below
    return {
        "flow": flow_diagram(
            read_recruitment_flow(paths.recruitment_flow),
            clinics,
            coordinators,
            synthetic=synthetic,
            min_cell=min_cell,
        ),
        "services_by_model": services_by_model(
            read_long(paths.tables / "table3.csv"), spec, synthetic=synthetic
        ),
        "differences": difference_plot(paths.tables / "sensitivity.csv", spec, synthetic=synthetic),
        "coordinators": coordinator_characteristics(
            read_long(paths.tables / "table1.csv"), spec, synthetic=synthetic
        ),
        "criteria": criteria_chart(clinics, synthetic=synthetic, min_cell=min_cell),
    }


def run(paths: Paths, params: Params) -> Artifacts:
    """Draw every figure (:func:`draw`) and save it as ``figures/<stem>.png`` and ``.pdf``.

    Returns the files written (``"<stem>.png"`` / ``"<stem>.pdf"`` -> path), and in ``.results``
    the figures by stem, for display.
    """
    figures = draw(paths, params)
    files: dict[str, Path] = {}
    for stem, fig in figures.items():
        for path in save(fig, stem, paths.figures):
            files[path.name] = path
    return Artifacts(files, **figures)


__all__ = [
    "CRITERIA_LABELS",
    "DIFFERENCE_COLUMNS",
    "DPI",
    "FIGURES",
    "GROUP_COLORS",
    "PALETTE",
    "SYNTHETIC_GID",
    "SYNTHETIC_TEXT",
    "TABLE1_GROUPS",
    "artists_with_gid",
    "coordinator_characteristics",
    "criteria_chart",
    "criteria_data",
    "difference_data",
    "difference_plot",
    "draw",
    "figure_texts",
    "flow_counts",
    "flow_diagram",
    "format_p",
    "format_pct",
    "group_label",
    "has_synthetic_label",
    "pair_colors",
    "read_recruitment_flow",
    "run",
    "save",
    "sentence_case",
    "services_by_model",
    "services_data",
    "show",
    "style",
]
