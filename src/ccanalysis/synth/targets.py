"""The calibration targets: the paper's printed numbers and the spec of what each row counts."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ccanalysis.io import read_as_printed
from ccanalysis.spec import Spec, read_spec

#: The paper's printed numbers, under the project root, and their files. Only the synthesizer
#: (its targets) and the replication (its reference) read them, each naming them itself: neither
#: may import the other, and no analysis module may know where they are.
PUBLISHED = Path("data") / "published"
PUBLISHED_TABLES, STUDY_FACTS = "published_long.csv", "study_facts.csv"


@dataclass(frozen=True)
class Targets:
    """The printed numbers (``published``, as text), the table ``spec``, the text's ``facts``."""

    published: pd.DataFrame
    spec: Spec
    facts: dict[str, str]

    @functools.cached_property
    def _index(self) -> dict[tuple[str, str, str, str, str], float]:
        rows = self.published[self.published["measure"] != "p"]
        keys = zip(rows.table, rows.item, rows.level, rows.group, rows.measure, strict=True)
        return dict(zip(keys, rows.value.astype(float), strict=True))

    def get(self, table: str, item: str, level: str, group: str, measure: str) -> float | None:
        """A printed number, or None if not printed."""
        return self._index.get((table, item, level, group, measure))

    def printed(self, table: str, item: str, level: str) -> bool:
        """Does ``table`` print any number (p-values aside) of ``item``'s ``level``?"""
        return any(k[:3] == (table, item, level) for k in self._index)

    def p_text(self, table: str, item: str) -> str | None:
        """The printed p-value of an item, as text (``"0.007"``, ``"<0.001"``), or None."""
        rows = self.published
        sel = rows[(rows.table == table) & (rows.item == item) & (rows.measure == "p")]
        return None if sel.empty else str(sel.iloc[0]["value"]).strip()


def load_targets(published_dir: str | Path, spec: Spec | None = None) -> Targets:
    """The printed tables of ``published_dir``, with ``spec`` (default: the package's)."""
    facts = read_as_printed(Path(published_dir) / STUDY_FACTS)
    return Targets(
        read_as_printed(Path(published_dir) / PUBLISHED_TABLES),
        spec if spec is not None else read_spec(),
        dict(zip(facts["key"], facts["value"], strict=True)),
    )
