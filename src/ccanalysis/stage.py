"""The one interface of a pipeline stage, ``run(paths, params) -> Artifacts``: inputs from
:class:`Paths`, every choice of the run from :class:`Params`, the files written (name -> path) with
what was computed for display in ``.results``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccanalysis.paths import DEFAULT_DICTIONARY, DEFAULT_EXPORT, DEFAULT_FRAME, Paths
from ccanalysis.vocab import DEFAULT_DEFINITION, DEFAULT_SEED, MIN_CELL, SYNTHETIC_LABEL

DATA_MODES = ("synthetic", "redcap")
LABELS = {"yes": True, "no": False, "": None}


@dataclass(frozen=True)
class Params:
    """The choices of a run, as ``make`` passes them to every notebook (``definition``: of
    ``classify.DEFINITIONS``; the last four: the options of ``instrument.read_export``)."""

    data_mode: str = "synthetic"
    seed: int = DEFAULT_SEED
    scale: int = 1
    privacy: bool = False
    min_cell: int = MIN_CELL
    definition: str = DEFAULT_DEFINITION
    out_of_range: str = "keep"
    missing_codes: tuple[str, ...] = ()
    labels: bool | None = None
    event: str = ""

    def __post_init__(self) -> None:
        if self.data_mode not in DATA_MODES:
            raise ValueError(f"data_mode must be one of {DATA_MODES}, not {self.data_mode!r}")

    @property
    def synthetic(self) -> bool:
        """Built from the synthetic stand-in: every output carries the synthetic label."""
        return self.data_mode == "synthetic"

    @property
    def suppress_below(self) -> int | None:
        """The small-cell threshold in privacy mode, ``None`` otherwise."""
        return self.min_cell if self.privacy else None


class Artifacts(dict[str, Path]):
    """What a stage wrote (name -> path), and in ``results`` what it computed, for display."""

    def __init__(self, files: dict[str, Path] | None = None, **results: Any) -> None:
        super().__init__(files or {})
        self.results: dict[str, Any] = results


def context(
    *,
    root: str | Path | None = None,
    export: str | Path = DEFAULT_EXPORT,
    dictionary: str | Path = DEFAULT_DICTIONARY,
    frame: str | Path = DEFAULT_FRAME,
    missing_codes: object = "",
    labels: object = "",
    event: object = "",
    **choices: Any,
) -> tuple[Paths, Params]:
    """The paths and :class:`Params` of a run, from a notebook's parameters cell (papermill types
    them; ``None`` for empty): ``missing_codes`` comma-separated, ``labels`` yes, no or empty."""
    paths = Paths.of(root, export=export, dictionary=dictionary, frame=frame)
    label_choice = str(labels or "").lower()
    if label_choice not in LABELS:
        raise ValueError(f"LABELS must be yes, no or empty (told from the values), not {labels!r}")
    codes = tuple(c.strip() for c in str(missing_codes or "").split(",") if c.strip())
    params = Params(
        **choices, missing_codes=codes, labels=LABELS[label_choice], event=str(event or "")
    )
    return paths, params


def banner(params: Params) -> object:
    """The label every notebook shows first: synthetic data are never mistaken for the study's."""
    from IPython.display import Markdown

    text = (
        f"> **{SYNTHETIC_LABEL}.** Numbers below come from the synthetic stand-in."
        if params.synthetic
        else "> Real survey export (privacy mode: aggregates only)."
    )
    if params.definition != DEFAULT_DEFINITION:
        text += (
            f"\n>\n> **Care model definition `{params.definition}`**, not the paper's "
            "(`ccanalysis.classify.DEFINITIONS`): every comparison of the care models below uses it."
        )
    return Markdown(text)
