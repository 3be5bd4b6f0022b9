"""Atomic file output: written beside the target and renamed into place (``os.replace``), so a
killed run leaves the previous file, never a truncated one; identical bytes leave the file (and its
time, for make) untouched.
"""

from __future__ import annotations

import filecmp
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ccanalysis.errors import ValidationError


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path`` (unless the bytes
    are the same), else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if path.is_file() and filecmp.cmp(tmp_path, path, shallow=False):
            tmp_path.unlink()
            return
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_with(path: str | Path, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp_path)`` and move the result into place atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) atomically."""
    return write_with(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` atomically."""
    return write_with(path, lambda tmp: tmp.write_bytes(data))


def write_csv(frame: pd.DataFrame, path: str | Path, **kwargs: object) -> Path:
    """Write a CSV atomically, without the index, with ``\\n`` line ends (byte-reproducible)."""
    return write_text(path, frame.to_csv(**{"index": False, "lineterminator": "\n", **kwargs}))


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a parquet file atomically (no index, no pandas metadata timestamps)."""
    return write_with(path, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))


#: ``uncalibrated_items.csv``, which the synthesizer writes beside a stand-in: the items no printed
#: number calibrates (their answers drawn as declared), for the tables to footnote.
UNCALIBRATED_FILE = "uncalibrated_items.csv"
UNCALIBRATED_COLUMNS = ("item", "field", "unit", "distribution", "source")


def read_uncalibrated(folder: str | Path) -> pd.DataFrame:
    """``uncalibrated_items.csv`` of a stand-in in ``folder`` (no rows if none), as text, with
    :data:`UNCALIBRATED_COLUMNS` (``item`` required)."""
    path = Path(folder) / UNCALIBRATED_FILE
    if not path.exists():
        return pd.DataFrame(columns=list(UNCALIBRATED_COLUMNS))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "item" not in frame.columns:
        raise ValidationError(str(path), None, "item", None, "the file has no column 'item'")
    return frame.assign(**{c: "" for c in UNCALIBRATED_COLUMNS if c not in frame.columns})


def read_as_printed(path: str | Path) -> pd.DataFrame:
    """A CSV with every cell kept as its text (no NaN, no number): ``"25.0"`` stays ``"25.0"``,
    since a printed number's decimals are part of what it means."""
    return pd.read_csv(path, dtype=str, keep_default_na=False).astype(object)
