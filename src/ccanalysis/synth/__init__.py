"""A calibrated synthetic stand-in for the confidential care coordinator survey (SYNTHETIC DATA).

The study's REDCap export cannot be published. This package writes a REDCap *raw* export with the
study's structure (clinics in care systems, reported on by care coordinators) whose every number
printed in Tables 1-4 of Solberg et al. 2024 is reproduced to the printed precision when it is
analysed as the paper did, wherever the printed numbers allow it (where they do not, the calibration
notes say so). It is the only analysis-side code that reads ``data/published/``: the printed tables
are its calibration targets. Items, codes and scales come from the instrument
(:class:`ccanalysis.instrument.Instrument`); the printed rows and how collapsed rows combine levels
from the table specification (:func:`ccanalysis.spec.read_spec`).

Two steps. :func:`calibrate` solves, once and without randomness, the answer counts, missing answers,
sums and SDs of every printed item at the study's size; :func:`synthesize` then draws the records
from one seeded generator (same seed, byte-identical files) and :func:`write` writes them.
``run(paths, params)`` is the ``00_synthesize`` stage: the three, into ``data/raw/synthetic``
(``python -m ccanalysis.synth`` runs it from the command line, into any folder).

An item the paper prints no numbers for (one added to the dictionary, say) still gets answers, drawn
from the distribution its dictionary row declares (``@CC-SYNTH``, else uniform), and is flagged as
uncalibrated in ``SYNTHETIC.md`` and ``uncalibrated_items.csv`` (:mod:`~ccanalysis.synth.uncalibrated`).

Modules
-------
``targets``      the printed numbers and the spec rows they belong to (:func:`load_targets`)
``pvalues``      the paper's tests on candidate answers; "prints as the printed p"
``categorical``  counts of a categorical item meeting its printed percentages and p-value
``numeric``      group sizes, sums and SDs of a continuous item meeting its means, SDs and p-value
``plans``        the solved plans (:class:`CatPlan`, :class:`NumPlan`, :class:`Calibration`)
``calibration``  :func:`calibrate`: every printed item of Tables 1, 3 and 4
``sampling``     largest-remainder apportionment, weighted sampling without replacement
``structure``    coordinators, care systems, clinics, rurality
``answers``      answers drawn from the plans: latents, ranks, nonresponse, continuous values
``survey``       :func:`synthesize`: structure, care model, coordinator form, clinic items
``uncalibrated`` items no printed number calibrates: drawn as ``@CC-SYNTH`` declares, and flagged
``export``       the raw export, the clinic frame, ``SYNTHETIC.md``, ``uncalibrated_items.csv``
                 (:func:`write`, :func:`summary`, :func:`read_uncalibrated`)

``scale`` multiplies clinics, coordinators and care systems; exact rounding of every printed digit
holds at scale 1, and at other scales the percentages agree to within 1/N of each group.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ccanalysis.instrument import read_dictionary
from ccanalysis.io import read_uncalibrated
from ccanalysis.paths import DEFAULT_DICTIONARY, Paths
from ccanalysis.spec import read_spec
from ccanalysis.stage import Artifacts, Params
from ccanalysis.synth.calibration import Calibration, calibrate
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
    "read_uncalibrated",
    "run",
    "summary",
    "synthesize",
    "write",
]


def run(paths: Paths, params: Params, *, out: str | Path | None = None) -> Artifacts:
    """The ``00_synthesize`` stage: the synthetic stand-in, written into ``paths.synthetic``.

    Reads ``paths.dictionary`` and ``paths.published`` (the specification ``paths.spec`` is checked
    against the dictionary); ``params.seed`` and ``params.scale`` choose the draw. Synthetic mode
    only (on the authors' export there is nothing to synthesize, and nothing under ``data/raw`` but
    the stand-in may be written). ``out``: another folder to write into (the command line's
    ``--out``). ``results``: ``survey`` (:class:`SyntheticSurvey`), ``summary`` (:func:`summary`),
    ``notes`` (the calibration notes) and ``uncalibrated`` (the items drawn without printed
    numbers, as in ``uncalibrated_items.csv``).
    """
    if not params.synthetic:
        raise ValueError(
            f"the synthesizer runs in synthetic mode only, not with data_mode={params.data_mode!r}"
        )
    instrument = read_dictionary(paths.dictionary)
    targets = load_targets(paths.published, read_spec(paths.spec, instrument=instrument))
    survey = synthesize(instrument, targets, seed=params.seed, scale=params.scale)
    files = write(survey, paths.synthetic if out is None else Path(out))
    return Artifacts(
        files,
        survey=survey,
        summary=summary(survey),
        notes=list(survey.meta["calibration_notes"]),
        uncalibrated=survey.uncalibrated,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m ccanalysis.synth [--root DIR] [--out DIR] [--seed N] [--scale K]``:
    :func:`run` on the project at ``--root`` (default: this one; its dictionary, or
    ``--dictionary``, and its printed tables), written into ``--out`` (default: the project's
    ``data/raw/synthetic``)."""
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
    paths = Paths.of(args.root, dictionary=dictionary)
    t0 = time.perf_counter()
    artifacts = run(paths, Params(seed=args.seed, scale=args.scale), out=args.out)
    meta = artifacts.results["survey"].meta
    print(
        f"{meta['clinics']} clinics, {meta['coordinators']} coordinators, "
        f"{meta['care_systems']} care systems: generated and written in "
        f"{time.perf_counter() - t0:.2f} s",
        file=sys.stderr,
    )
    for p in artifacts.values():
        print(p)
    return 0
