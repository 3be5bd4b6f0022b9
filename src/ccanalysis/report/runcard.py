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

from ccanalysis import makedeps
from ccanalysis.paths import DEFAULT_DICTIONARY, DEFAULT_EXPORT, DEFAULT_FRAME

#: The packages whose versions a card lists (the full pins are in requirements.lock).
PACKAGES: tuple[str, ...] = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib")
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


def _inputs(params: Mapping[str, object]) -> dict[str, str]:
    """The run's input paths as the parameters name them (the project's defaults otherwise)."""
    defaults = {
        "export": str(DEFAULT_EXPORT),
        "dictionary": str(DEFAULT_DICTIONARY),
        "frame": str(DEFAULT_FRAME),
    }
    return {k: str(params.get(k) or v) for k, v in defaults.items()}


#: The package's modules and their import graph (:func:`ccanalysis.makedeps.code_graph`).
Code = tuple[dict[str, Path], dict[str, set[str]]]


def run_files(
    root: Path,
    params: Mapping[str, object],
    stages: Iterable[str] | None = None,
    code: Code | None = None,
) -> list[Path]:
    """The files that made the pages of ``stages`` (default: every stage of the run).

    Per stage, what ``make`` tracks for it (:func:`ccanalysis.makedeps.stage_files`): its notebook,
    the ``ccanalysis`` modules it executes (its imports' closure and the runner's) with the package
    data they read, and the files it reads (the run's inputs by ``params``, the study's fixed
    inputs, the outputs of earlier stages), plus the lock. The rendering code is not among them:
    it shows results, it does not make them. So a page's hash changes exactly when ``make`` re-runs
    its stage for a reason that can change what it shows, and a snapshot never holds a stale card.
    ``code``: the module graph, when the caller has read it (a process rendering every page reads
    it once).
    """
    root = Path(root)
    inputs = _inputs(params)
    data_mode = str(params.get("data_mode", "synthetic"))
    active = makedeps.active_stages(data_mode)
    chosen = [s for s in (stages if stages is not None else active) if s in makedeps.STAGES]
    known, graph = makedeps.code_graph(root) if code is None else code
    files: set[Path] = {root / "requirements.lock"}
    for stage in chosen:
        made = makedeps.stage_files(root, stage, data_mode, graph, known)
        files |= {root / p for p in (str(made.notebook), *made.modules)}
        for pattern in (*made.data, *made.reads):
            files |= makedeps.matching(root, makedeps.input_path(pattern, inputs))
    return sorted(f for f in files if f.is_file() and "__pycache__" not in f.parts)


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


def parameters(nb: Mapping) -> dict[str, object]:
    """The parameters a notebook ran with, as papermill recorded the values it injected."""
    return dict(nb.get("metadata", {}).get("papermill", {}).get("parameters", {}))


def run_card(
    root: Path,
    params: Mapping[str, object],
    source: Path | None = None,
    code: Code | None = None,
) -> RunCard:
    """The card of a run with ``params``: of the whole run, or with ``source`` (a notebook under
    ``notebooks/``) of that stage's page (:func:`run_files` of that stage only). ``code``: the
    module graph, if read already (:func:`run_files`)."""
    root = Path(root)
    stages = [source.stem] if source is not None else None
    digest = content_hash(root, run_files(root, params, stages, code), params)
    return RunCard(dict(params), versions(), digest[:DIGEST_CHARS])
