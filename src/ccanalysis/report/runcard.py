"""The run card: what produced a rendered page, shown once, small, at the top.

Its parameters come from the executed notebook (papermill records the values it injected), its
package versions from the environment that rendered it (the same ``.venv``, pinned by the lock),
and its fingerprint is a content hash of the code and the inputs of the run. A git commit would
not do: a committed snapshot that names a commit is stale by the act of committing it, and a hash
of contents names the same run on any clone. Nothing in the card depends on where or when it ran.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ccanalysis.paths import DEFAULT_DICTIONARY

#: The packages whose versions a card lists (the full pins are in requirements.lock).
PACKAGES: tuple[str, ...] = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib")
#: Inputs of every run besides the export, frame and dictionary: the recruitment counts.
FIXED_INPUTS: tuple[str, ...] = ("data/raw/recruitment_flow.csv",)
#: The code: the library (its rendering excepted: it shows results, it does not make them), the
#: table specification within it, and the pins of every package.
CODE: tuple[str, ...] = ("src/ccanalysis", "requirements.lock")
CODE_SUFFIXES = (".py", ".csv", ".lock")
RENDERING = "src/ccanalysis/report"
#: Hex digits of the hash a card shows (64 bits: no two runs of a project collide by chance).
DIGEST_CHARS = 16


@dataclass(frozen=True)
class RunCard:
    """The parameters, package versions and content hash of one rendered notebook."""

    params: Mapping[str, object]
    versions: tuple[tuple[str, str], ...]
    digest: str

    @property
    def data_mode(self) -> str:
        return str(self.params.get("data_mode", "synthetic"))

    @property
    def synthetic(self) -> bool:
        return self.data_mode == "synthetic"

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) lines as the card shows them, parameters first."""
        p = self.params
        rows = [("data", self.data_mode), ("seed", str(p.get("seed", "")))]
        if p.get("scale", 1) not in (1, None):
            rows.append(("scale", f"{p['scale']} x the study's clinics"))
        if p.get("export"):
            rows.append(("export", _shown_path(p["export"])))
        if p.get("privacy"):
            rows.append(("privacy", f"counts below {p.get('min_cell')} suppressed"))
        rows.append(("packages", ", ".join(f"{n} {v}" for n, v in self.versions)))
        rows.append(("code + inputs", f"sha256 {self.digest}"))
        return rows


def _shown_path(value: object) -> str:
    """A parameter path as shown: relative as given, an absolute one by its file name only."""
    path = Path(str(value))
    return path.name if path.is_absolute() else path.as_posix()


def versions(packages: Iterable[str] = PACKAGES) -> tuple[tuple[str, str], ...]:
    """Python (major.minor: the patch level is the machine's, not the project's) and packages."""
    import sys

    out = [("Python", f"{sys.version_info.major}.{sys.version_info.minor}")]
    for name in packages:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return tuple(out)


def _files(root: Path, entries: Iterable[str | Path], suffixes: tuple[str, ...] = ()) -> list[Path]:
    """The files of ``entries`` (files, or folders walked), sorted, caches and dotfiles left out."""
    found: list[Path] = []
    for entry in entries:
        path = root / entry
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += [
                f
                for f in path.rglob("*")
                if f.is_file()
                and "__pycache__" not in f.parts
                and not f.name.startswith(".")
                and (not suffixes or f.suffix in suffixes)
            ]
    return sorted(set(found))


def run_inputs(root: Path, params: Mapping[str, object]) -> list[Path]:
    """The data a run reads: the export, the clinic frame, the dictionary, the recruitment counts.

    On the synthetic stand-in the export and the frame are the committed files stage 00 writes
    (byte for byte the same from the same code and seed), so they stand for everything the
    synthesizer calibrates to; the paper's printed tables are no input of the analysis.
    """
    keys = ("export", "frame", "dictionary")
    defaults = {"dictionary": str(DEFAULT_DICTIONARY)}
    entries = [str(params.get(k) or defaults.get(k, "")) for k in keys]
    return _files(root, [e for e in entries if e] + list(FIXED_INPUTS))


def run_code(root: Path) -> list[Path]:
    """The code of a run: the library without its rendering, the specification, the lock."""
    rendering = root / RENDERING
    return [
        f
        for f in _files(root, CODE, CODE_SUFFIXES)
        if rendering not in f.parents and f != rendering
    ]


def content_hash(root: Path, files: Iterable[Path], params: Mapping[str, object]) -> str:
    """SHA-256 over the parameters and each file's name and bytes (its path relative to ``root``;
    an export kept outside the project by its file name only)."""
    h = hashlib.sha256()
    h.update(json.dumps(dict(params), sort_keys=True, default=str).encode())
    for f in sorted(set(files)):
        name = f.relative_to(root).as_posix() if f.is_relative_to(root) else f.name
        h.update(b"\0" + name.encode() + b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()


def _run_digest(root: Path, params: Mapping[str, object]) -> str:
    return content_hash(root, run_code(root) + run_inputs(root, params), params)


def parameters(nb: Mapping) -> dict[str, object]:
    """The parameters a notebook ran with, as papermill recorded the values it injected."""
    return dict(nb.get("metadata", {}).get("papermill", {}).get("parameters", {}))


def run_card(root: Path, params: Mapping[str, object], source: Path | None = None) -> RunCard:
    """The card of a run with ``params``; with ``source`` (a notebook under ``notebooks/``), of
    that notebook's page: its hash covers the notebook too."""
    digest = _run_digest(Path(root), params)
    if source is not None and source.is_file():
        digest = hashlib.sha256(digest.encode() + b"\0" + source.read_bytes()).hexdigest()
    return RunCard(dict(params), versions(), digest[:DIGEST_CHARS])
