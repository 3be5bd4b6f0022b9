"""A calibrated synthetic stand-in for the confidential care coordinator survey (SYNTHETIC DATA).

The study's REDCap export cannot be published. This package writes a REDCap raw export with the
study's structure (clinics in care systems, reported on by care coordinators), calibrated so that
every number printed in Tables 1-4 of Solberg et al. 2024 comes out to the printed precision when
analysed as the paper did, wherever the printed numbers allow it (the calibration notes say where
they do not). Matching the printed tables on the stand-in is therefore by construction, not a
finding. Items, codes and scales come from the data dictionary; the printed rows from the table
specification.

:func:`calibrate` solves, once and without randomness, the answer counts, missing answers, sums and
SDs of every printed item; :func:`synthesize` draws the records from one seeded generator (same
seed, byte-identical files); :func:`write` writes them. ``run(paths, params)`` is the
``00_synthesize`` stage; ``python -m ccanalysis.synth`` runs it into any folder. An item the paper
prints no numbers for is drawn as its ``@CC-SYNTH`` annotation declares (else uniformly) and flagged
(:mod:`~ccanalysis.synth.uncalibrated`). ``scale`` multiplies clinics, coordinators and care
systems: the printed digits hold exactly at scale 1, and to within 1/N of each group otherwise.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ccanalysis.instrument import read_dictionary
from ccanalysis.io import read_uncalibrated
from ccanalysis.paths import DEFAULT_DICTIONARY, Paths
from ccanalysis.spec import read_spec
from ccanalysis.stage import Artifacts, Params
from ccanalysis.synth.calibration import Calibration, calibrate, missing_answers
from ccanalysis.synth.categorical import CatPlan
from ccanalysis.synth.export import SyntheticSurvey, summary, write
from ccanalysis.synth.numeric import NumPlan
from ccanalysis.synth.survey import synthesize
from ccanalysis.synth.targets import Targets, load_targets
from ccanalysis.vocab import DEFAULT_SEED

__all__ = [
    "Calibration",
    "CatPlan",
    "NumPlan",
    "SyntheticSurvey",
    "Targets",
    "calibrate",
    "load_targets",
    "main",
    "missing_answers",
    "read_uncalibrated",
    "run",
    "summary",
    "synthesize",
    "write",
]


def run(paths: Paths, params: Params, *, out: str | Path | None = None) -> Artifacts:
    """The ``00_synthesize`` stage: the stand-in, written into ``paths.synthetic`` (or ``out``).

    Reads ``paths.dictionary``, ``paths.spec`` and ``paths.published``; ``params.seed`` and
    ``params.scale`` choose the draw. Synthetic mode only. ``results``: ``survey``, ``summary``,
    ``notes`` (the calibration notes) and ``uncalibrated`` (the items drawn without printed
    numbers, as in ``uncalibrated_items.csv``).
    """
    if not params.synthetic:
        raise ValueError(
            f"the synthesizer runs in synthetic mode only, not with data_mode={params.data_mode!r}"
        )
    instrument = read_dictionary(paths.dictionary)
    targets = load_targets(paths.published, read_spec(paths.spec, instrument=instrument))
    calibration = calibrate(instrument, targets)
    survey = synthesize(
        instrument, targets, seed=params.seed, scale=params.scale, calibration=calibration
    )
    files = write(survey, paths.synthetic if out is None else Path(out))
    return Artifacts(
        files,
        survey=survey,
        summary=summary(survey),
        notes=list(survey.meta["calibration_notes"]),
        uncalibrated=survey.uncalibrated,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ccanalysis.synth [--root DIR] [--out DIR] [--seed N] [--scale K]
    [--dictionary FILE]``: :func:`run` on the project at ``--root`` (default: this one), written
    into ``--out`` (default: its ``data/raw/synthetic``); prints the paths written."""
    ap = argparse.ArgumentParser(
        prog="python -m ccanalysis.synth", description=(__doc__ or "").split("\n")[0]
    )
    ap.add_argument("--root", help="the project (default: this one)")
    ap.add_argument("--out", help="output folder (default: the project's data/raw/synthetic)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--scale", type=int, default=1, help="a whole multiple of the study's size")
    ap.add_argument("--dictionary", help="data dictionary (default: the project's)")
    args = ap.parse_args(argv)
    dictionary = Path(args.dictionary).resolve() if args.dictionary else DEFAULT_DICTIONARY
    artifacts = run(
        Paths.of(args.root, dictionary=dictionary),
        Params(seed=args.seed, scale=args.scale),
        out=args.out,
    )
    for p in artifacts.values():
        print(p)
    return 0
