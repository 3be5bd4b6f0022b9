"""A calibrated synthetic stand-in for the confidential care coordinator survey (SYNTHETIC DATA).

A REDCap export on which Tables 1-4 of Solberg et al. 2024 come out as printed where they can (by
construction, not a finding): :func:`calibrate`, :func:`synthesize` (one seed), :func:`write`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ccanalysis.instrument import read_dictionary
from ccanalysis.paths import Paths
from ccanalysis.spec import read_spec
from ccanalysis.stage import Artifacts, Params
from ccanalysis.synth.calibration import Calibration, calibrate, missing_answers
from ccanalysis.synth.export import summary, write
from ccanalysis.synth.survey import synthesize
from ccanalysis.synth.targets import PUBLISHED, Targets, load_targets
from ccanalysis.vocab import DEFAULT_SEED

__all__ = [
    "PUBLISHED",
    "Calibration",
    "Targets",
    "calibrate",
    "load_targets",
    "main",
    "missing_answers",
    "run",
    "summary",
    "synthesize",
    "write",
]


def run(paths: Paths, params: Params, *, out: str | Path | None = None) -> Artifacts:
    """The ``00_synthesize`` stage (synthetic mode only), into ``paths.synthetic`` or ``out``."""
    if not params.synthetic:
        raise ValueError(
            f"the synthesizer runs in synthetic mode only, not with data_mode={params.data_mode!r}"
        )
    instrument = read_dictionary(paths.dictionary)
    targets = load_targets(paths.root / PUBLISHED, read_spec(paths.spec, instrument=instrument))
    calibration = calibrate(instrument, targets)
    survey = synthesize(
        instrument, targets, seed=params.seed, scale=params.scale, calibration=calibration
    )
    files = write(survey, paths.synthetic if out is None else Path(out))
    return Artifacts(
        files, survey=survey, summary=summary(survey), uncalibrated=survey.uncalibrated
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ccanalysis.synth``: :func:`run` into any folder; prints the paths written."""
    ap = argparse.ArgumentParser(
        prog="python -m ccanalysis.synth", description=(__doc__ or "").split("\n")[0]
    )
    ap.add_argument("--out", help="output folder (default: the project's data/raw/synthetic)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--scale", type=int, default=1, help="a whole multiple of the study's size")
    args = ap.parse_args(argv)
    artifacts = run(Paths.of(), Params(seed=args.seed, scale=args.scale), out=args.out)
    for p in artifacts.values():
        print(p)
    return 0
