"""The solved plans: what the calibration decides and the drawing of records follows.

A plan holds, per item and group, the numbers at the study's size (scale 1) that make the printed
ones come out: answer counts per level for a categorical item, group sizes, sums and target SDs for
a continuous one. Plans are solved once, deterministically (:func:`ccanalysis.synth.calibrate`);
drawing records from them (:func:`ccanalysis.synth.synthesize`) is where the seed comes in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class CatPlan:
    """Counts of one categorical item at scale 1.

    ``counts[g]`` are counts per full level (instrument order, codes in ``codes``), summing to the
    group's number of answers; ``n[g]`` is the group size (answers + missing).
    """

    item: str
    table: str
    levels: list[str]
    codes: list[str]
    n: dict[str, int]
    counts: dict[str, np.ndarray]
    spacing: tuple[float, float] | None = None  # (threshold spacing, group shift) of the rule

    @property
    def missing(self) -> dict[str, int]:
        return {g: self.n[g] - int(self.counts[g].sum()) for g in self.n}


@dataclass
class NumPlan:
    """Group answers, sums (in grid units) and target SDs of one continuous item at scale 1."""

    item: str
    table: str
    n: dict[str, int]
    answers: dict[str, int]
    sums: dict[str, int]
    sd: dict[str, float]
    step: float
    lo: float
    hi: float
    decimals: int

    @property
    def missing(self) -> dict[str, int]:
        return {g: self.n[g] - self.answers[g] for g in self.n}


@dataclass
class Calibration:
    """Everything :func:`ccanalysis.synth.synthesize` needs, solved from the targets (deterministic)."""

    cat: dict[str, CatPlan]
    num: dict[str, NumPlan]
    structure: dict[str, float]
    #: checkbox questions of Tables 3/4: field name -> items (they share their missing records)
    questions: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)
