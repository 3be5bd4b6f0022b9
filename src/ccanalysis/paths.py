"""Where things are: the project root, and :class:`Paths`, the files of a run that a stage's
``run(paths, params)`` receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The table specification, in the package: the one layout of Tables 1-4.
SPEC_FILE = Path(__file__).resolve().parent / "specs" / "tables.csv"

#: Inputs of a synthetic run, relative to the project root (``00_synthesize`` writes the first two).
SYNTHETIC_DIR = Path("data/raw/synthetic")
DEFAULT_EXPORT = SYNTHETIC_DIR / "cc_survey_export.csv"
DEFAULT_FRAME = SYNTHETIC_DIR / "clinic_frame.csv"
DEFAULT_DICTIONARY = Path("data/raw/cc_survey_dictionary.csv")


def project_root() -> Path:
    """The nearest ancestor of the working folder holding ``pyproject.toml`` and ``src/ccanalysis``
    (nbval runs from ``reports/``, papermill from the root)."""
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "pyproject.toml").is_file() and (d / "src" / "ccanalysis").is_dir():
            return d
    raise FileNotFoundError(f"no ccanalysis project above {here}")


@dataclass(frozen=True)
class Paths:
    """The files and folders of one run, absolute: the inputs (the synthetic stand-in by default),
    the table specification, the project's folders."""

    root: Path
    export: Path
    dictionary: Path
    frame: Path
    spec: Path = SPEC_FILE

    @classmethod
    def of(
        cls,
        root: str | Path | None = None,
        *,
        export: str | Path = DEFAULT_EXPORT,
        dictionary: str | Path = DEFAULT_DICTIONARY,
        frame: str | Path = DEFAULT_FRAME,
        spec: str | Path = SPEC_FILE,
    ) -> Paths:
        """The paths of a run; relative inputs are taken relative to ``root`` (default: found)."""
        base = Path(root).resolve() if root is not None else project_root()
        return cls(base, base / export, base / dictionary, base / frame, base / spec)

    @property
    def raw(self) -> Path:
        """``data/raw``: inputs, never written by the analysis (bar the synthetic stand-in)."""
        return self.root / "data" / "raw"

    @property
    def synthetic(self) -> Path:
        """``data/raw/synthetic``: the stand-in written by ``00_synthesize``."""
        return self.root / SYNTHETIC_DIR

    @property
    def recruitment_flow(self) -> Path:
        """The recruitment counts of the paper's Figure 1 (a study input, not a printed table)."""
        return self.raw / "recruitment_flow.csv"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    @property
    def figures(self) -> Path:
        return self.root / "figures"
