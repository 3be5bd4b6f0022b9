"""The calibration targets: the paper's printed numbers and the spec of what each row counts."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ccanalysis.io import read_as_printed
from ccanalysis.spec import Spec, read_spec
from ccanalysis.vocab import TOTAL

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


def structure_targets(t: Targets) -> dict[str, float]:
    """The printed counts the structure is built to; ``mn_<criterion>``: medical/nursing yes."""
    g = t.get
    fact = lambda key: float(t.facts[key])  # noqa: E731
    return {
        "clinics": g("table2", "n", "", TOTAL, "n"),
        "isw_clinics": g("table2", "n", "", "isw", "n"),
        "coord_mn_only": g("table1", "n", "", "mn_only", "n"),
        "coord_isw_only": g("table1", "n", "", "isw_only", "n"),
        "coord_both": g("table1", "n", "", "both", "n"),
        "multi_mn_only": g("table1", "multi_clinic", "yes", "mn_only", "n"),
        "multi_isw_only": g("table1", "multi_clinic", "yes", "isw_only", "n"),
        "sw_degree_isw_only": g("table1", "degree", "msw_bsw", "isw_only", "n"),
        "sw_degree_both": g("table1", "degree", "msw_bsw", "both", "n"),
        "sw_degree_clinics": fact("clinics_reported_by_sw_degree_coordinators"),
        "max_clinics": fact("coordinators_max_clinics"),
        "systems_small": fact("care_systems_small_1_2_clinics"),
        "systems_medium": fact("care_systems_medium_3_9_clinics"),
        "systems_large": fact("care_systems_large_over_9_clinics"),
        "urban_pct": fact("urban_pct_ruca_1_3"),
        **{
            f"mn_{item}": g("table2", item, "yes", "mn", "n")
            for item in t.spec.items("table2")
            if g("table2", item, "yes", "mn", "n") is not None
        },
        "mn_engage_difficult": fact("mn_sw_on_team_difficult_to_engage"),
        "isw_engage_easy_pct": fact("isw_easy_to_engage_sw_pct"),
    }
