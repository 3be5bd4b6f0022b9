"""The CSV form of REDCap's files, exports and dictionaries alike: bytes to UTF-8 text, the
delimiter, and the rows numbered by the line on which each record starts. (The csv module, not
``pd.read_csv``: pandas pads a short row silently and numbers no lines.)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from ccanalysis.errors import ValidationError

#: The delimiters REDCap's export offers, by name; the comma, REDCap's default, first.
DELIMITERS: dict[str, str] = {
    ",": "comma",
    ";": "semicolon",
    "\t": "tab",
    "|": "pipe",
    "^": "caret",
}


def best_delimiter(text: str, score: Callable[[list[str]], int]) -> tuple[str, int]:
    """The delimiter whose split header scores highest (a tie: the comma), with its score."""
    found = {}
    for d in DELIMITERS:
        try:
            header = next(csv.reader(io.StringIO(text, newline=""), delimiter=d), [])
        except csv.Error:  # e.g. a NUL byte
            header = []
        found[d] = score([h.strip() for h in header])
    best = max(found, key=found.__getitem__)
    return best, found[best]


def read_text(path: str | Path) -> tuple[str, int | None]:
    """A file's text (a BOM dropped; an undecodable byte as U+FFFD) and the line of its first
    byte that is not UTF-8 (``None``: all UTF-8)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(
            str(path), None, None, None, f"cannot read the file: {exc.strerror}"
        ) from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return raw.decode("utf-8", errors="replace"), raw[: exc.start].count(b"\n") + 1


def not_utf8(rows: pd.DataFrame, header: Sequence[str], line: int, source: str) -> ValidationError:
    """The error for a byte that is not UTF-8 on physical ``line``: the record holding it (by the
    line it starts on, its first cell) and the field; the value described, never printed."""
    starts = rows.index[rows.index <= line]
    row = rows.loc[starts[-1]] if len(starts) else None
    pos = None if row is None else next((i for i, v in enumerate(row) if "\ufffd" in v), None)
    where = "the header" if row is None else f"the record starting on line {starts[-1]}"
    if pos is not None:
        where += f", in a text value of {len(row.iloc[pos])} characters"
    return ValidationError(
        source,
        None if row is None else row.iloc[0] or None,
        None if pos is None else header[pos],
        None,
        f"the file is not UTF-8 (a byte on line {line}, {where}); export or save it as UTF-8",
    )


def _ragged(
    values: list[str], header: list[str], line: int, delimiter: str, source: str
) -> ValidationError:
    """The error for a row whose length differs from the header's (mixed delimiters named)."""
    counts = f"line {line} has {len(values)} values but the header has {len(header)} columns"
    for pos, value in enumerate(values[: len(header)]):
        other = next((d for d in DELIMITERS if d != delimiter and d in value), None)
        if other is not None:
            return ValidationError(
                source,
                (values[0].split(other)[0] if pos == 0 else values[0]) or None,
                header[pos],
                None,
                f"{counts}, and this field's value holds a {DELIMITERS[other]} ({other!r}) where "
                f"the header is split by a {DELIMITERS[delimiter]} ({delimiter!r}): mixed "
                "delimiters (a file edited or joined by hand?); export it again from REDCap",
            )
    return ValidationError(
        source, values[0] or None, None, len(values), f"{counts} (a truncated or damaged file?)"
    )


def parse_rows(
    text: str, source: str, delimiter: str, bad_line: int | None
) -> tuple[list[str], pd.DataFrame]:
    """The header and a frame of ``str`` cells indexed by the line on which each record starts
    (a quoted value may span lines); blank lines skipped; raises on a ``bad_line`` (not UTF-8)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        header = [h.strip() for h in next(reader)]
        start = reader.line_num + 1
        for values in reader:
            if values and values != [""]:
                if len(values) != len(header):
                    raise _ragged(values, header, start, delimiter, source)
                rows.append(values)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationError(
            source, None, None, None, f"not a readable CSV file (line {reader.line_num}): {exc}"
        ) from None
    frame = pd.DataFrame(rows, columns=range(len(header)), dtype=object)
    frame = frame.set_axis(pd.Index(lines, name="line"))
    if bad_line is not None:
        raise not_utf8(frame, header, bad_line, source)
    return header, frame
